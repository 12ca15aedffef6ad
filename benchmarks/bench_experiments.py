"""Benchmark of the experiment runner and results store (ratios, in one run).

    python benchmarks/bench_experiments.py [--runs 60] [--months 120]

Measures, on the default ICS:
- runs per second with 1 and 2 worker processes, and the parallel efficiency
  rate(2) / (2 * rate(1)) (goal >= 85% on 2 cores). "warm" uses a process pool
  that is already started; "cold" includes starting it (what a user waits for).
- the results store's overhead as a share of run time (goal <= 10%): time in
  ``ResultsStore.write_batch`` against the runs' own time, and the wall time of
  a serial sweep with the store against the same runs without it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from experiments.runner import plan_runs, run_batch, run_experiment, run_one
from experiments.spec import parse_experiment
from experiments.store import ResultsStore


def experiment(runs: int, months: int, seed: int):
    text = (f'[experiment]\nname = "bench"\nmonths = {months}\nreplicates = {runs}\nseed = {seed}\n'
            'design = "full_factorial"\n')
    return parse_experiment(text, source="benchmark")


def pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["experiments.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def timed_sweep(exp, workers: int, warm: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        if warm:
            with pool(workers) as executor:
                warmup = plan_runs(experiment(workers, 2, 99))
                list(executor.map(run_batch, [[s] for s in warmup]))   # start every worker
                start = time.perf_counter()
                run_experiment(exp, Path(tmp) / "out", executor=executor, workers=workers, progress=False)
                return time.perf_counter() - start
        start = time.perf_counter()
        run_experiment(exp, Path(tmp) / "out", workers=workers, progress=False)
        return time.perf_counter() - start


def store_overhead(exp) -> tuple[float, float]:
    """(write time / run time, wall with store / wall without - 1), serial, in one process."""
    plan = plan_runs(exp)
    start = time.perf_counter()
    for spec in plan:
        run_one(spec)
    bare = time.perf_counter() - start

    spent = {"write": 0.0}
    original = ResultsStore.write_batch

    def counting(self, specs, results):
        t = time.perf_counter()
        original(self, specs, results)
        spent["write"] += time.perf_counter() - t

    ResultsStore.write_batch = counting
    try:
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(1) as executor:
            start = time.perf_counter()
            run_experiment(exp, Path(tmp) / "out", executor=executor, workers=1, progress=False)
            stored = time.perf_counter() - start
    finally:
        ResultsStore.write_batch = original
    return spent["write"] / bare, stored / bare - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    exp = experiment(args.runs, args.months, seed=1)
    print(f"default ICS, {args.runs} runs x {args.months} months, {multiprocessing.cpu_count()} CPUs")
    for mode in ("warm", "cold"):
        t1 = timed_sweep(exp, 1, warm=mode == "warm")
        t2 = timed_sweep(exp, 2, warm=mode == "warm")
        r1, r2 = args.runs / t1, args.runs / t2
        print(f"{mode:5s} pool: 1 worker {r1:6.2f} runs/s ({t1:5.2f} s), 2 workers {r2:6.2f} runs/s ({t2:5.2f} s), "
              f"parallel efficiency {r2 / (2 * r1):6.1%}  (goal >= 85%)")
    write_share, wall_share = store_overhead(exp)
    print(f"store overhead: writing {write_share:6.1%} of run time; sweep wall time with store vs bare runs "
          f"{wall_share:+6.1%}  (goal <= 10%)")


if __name__ == "__main__":
    main()
