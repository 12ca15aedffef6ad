"""Benchmark of the experiment runner and results store (ratios, in one run).

    python benchmarks/bench_experiments.py [--runs 60] [--months 120]

Measures, on the default ICS:
- runs per second with 1 and 2 worker processes, and the parallel efficiency
  rate(2) / (2 * rate(1)) (goal >= 85% on 2 cores). "warm" uses a process pool
  that is already started; "cold" includes starting it (what a user waits for).
  Also: the share of the wall time the 2 workers spent inside runs (a
  scheduling efficiency that other load on the machine does not distort) and
  the main process's CPU share (what it takes from the workers on 2 cores).
- the results store's overhead as a share of run time (goal <= 10%): time in
  ``ResultsStore.write_batch`` against the runs' own time, and the wall time of
  a serial sweep with the store (tasks run inline, in one thread) against the
  same runs without it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path

from experiments.runner import plan_runs, run_batch, run_experiment, run_one
from experiments.spec import parse_experiment
from experiments.store import ResultsStore, load


def experiment(runs: int, months: int, seed: int):
    text = (f'[experiment]\nname = "bench"\nmonths = {months}\nreplicates = {runs}\nseed = {seed}\n'
            'design = "full_factorial"\n')
    return parse_experiment(text, source="benchmark")


class InlineExecutor(Executor):
    """Runs each task at once in the calling thread (no GIL sharing, no processes)."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["experiments.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


LAST = {}


def timed_sweep(exp, workers: int, warm: bool) -> float:
    """Wall time of a sweep; LAST keeps its worker utilisation and the main process's CPU share."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        if warm:
            with pool(workers) as executor:
                warmup = plan_runs(experiment(workers, 2, 99))
                list(executor.map(run_batch, [[s] for s in warmup]))   # start every worker
                start, cpu = time.perf_counter(), time.process_time()
                run_experiment(exp, out, executor=executor, workers=workers, progress=False)
                wall = time.perf_counter() - start
        else:
            start, cpu = time.perf_counter(), time.process_time()
            run_experiment(exp, out, workers=workers, progress=False)
            wall = time.perf_counter() - start
        busy = load(out).runs["elapsed_s"].sum()
        LAST[workers] = (busy / (workers * wall), (time.process_time() - cpu) / wall)
        return wall


def bare_runs(plan) -> float:
    start = time.perf_counter()
    for spec in plan:
        run_one(spec)
    return time.perf_counter() - start


def stored_runs(exp) -> tuple[float, float]:
    """(wall time, time inside ResultsStore.write_batch) of a serial sweep with the store."""
    spent = {"write": 0.0}
    original = ResultsStore.write_batch

    def counting(self, specs, results):
        t = time.perf_counter()
        original(self, specs, results)
        spent["write"] += time.perf_counter() - t

    ResultsStore.write_batch = counting
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_experiment(exp, Path(tmp) / "out", executor=InlineExecutor(), workers=1, progress=False)
            return time.perf_counter() - start, spent["write"]
    finally:
        ResultsStore.write_batch = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=2, help="repetitions; the best is reported")
    args = parser.parse_args()
    exp = experiment(args.runs, args.months, seed=1)
    print(f"default ICS, {args.runs} runs x {args.months} months, {multiprocessing.cpu_count()} CPUs")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine lowers the figures); "
          f"best of {args.repeat}")
    for mode in ("warm", "cold"):
        times = {1: [], 2: []}
        for _ in range(args.repeat):             # interleaved, so passing load hits both alike
            for workers in (1, 2):
                times[workers].append(timed_sweep(exp, workers, warm=mode == "warm"))
        t1, t2 = min(times[1]), min(times[2])
        utilisation, main_cpu = LAST[2]
        r1, r2 = args.runs / t1, args.runs / t2
        print(f"{mode:5s} pool: 1 worker {r1:6.2f} runs/s ({t1:5.2f} s), 2 workers {r2:6.2f} runs/s ({t2:5.2f} s), "
              f"parallel efficiency {r2 / (2 * r1):6.1%}  (goal >= 85%)")
        print(f"      with 2 workers: workers inside runs {utilisation:6.1%} of the wall time; the main process "
              f"(store, progress) used {main_cpu:5.1%} of one CPU")
    plan = plan_runs(exp)
    bare = min(bare_runs(plan) for _ in range(args.repeat))
    wall, write = min(stored_runs(exp) for _ in range(args.repeat))
    print(f"store overhead: writing takes {write / bare:5.1%} of run time; a serial sweep with the store takes "
          f"{wall / bare - 1:+5.1%} more wall time than the bare runs  (goal <= 10%)")


if __name__ == "__main__":
    main()
