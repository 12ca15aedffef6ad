"""Speed and memory of the ICS model, against Mesa's simplest model, in one run.

    python benchmarks/bench_model.py           # full: 120 months, best of 3
    python benchmarks/bench_model.py --quick   # smaller check: 12 months, 1 repeat

Tiers (each run for the same number of months):
  (a) one ICS with default parameters
  (b) one ICS with n_vcse=1000
  (c) England: n_systems=42, n_vcse=60 (>= 4,000 organisations)
  (c*) England again with collect_agents=False (how much the organisation table costs)

For each tier the table gives organisations, directed ties, build time, run time
(best of the repeats, time.perf_counter), cost per organisation-month
(run time / (organisations x months)), peak traced memory of build + run
(tracemalloc, in a separate untimed pass) and the growth of cost per
organisation-month from the previous tier.

Reference: Mesa's simplest model, written below with Mesa's own API: 5,000
``mesa.Agent``s; each step every agent with a coin gives one to a random other
agent (``model.agents.shuffle_do("step")``). Its cost per agent-step is measured
in the same run, so the ratio (ICS cost per organisation-month / Mesa cost per
agent-step) does not depend on the machine. Goals: ratio <= 1 at England scale;
the default ICS runs 120 months in < 0.1 s.
"""

from __future__ import annotations

import argparse
import gc
import platform
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from abm import ICSModel  # noqa: E402

SEED = 42
DEFAULT_ICS_GOAL_S = 0.1
TIERS = (
    ("a", "one ICS, defaults", {}),
    ("b", "one ICS, n_vcse=1000", {"n_vcse": 1000}),
    ("c", "England: 42 ICSs, n_vcse=60", {"n_systems": 42, "n_vcse": 60}),
    ("c*", "England, collect_agents=False", {"n_systems": 42, "n_vcse": 60, "collect_agents": False}),
)


# --------------------------------------------------------------------- Mesa reference
class CoinAgent(mesa.Agent):
    """Mesa's simplest agent: if it has a coin, it gives one to a random other agent."""

    def __init__(self, model):
        super().__init__(model)
        self.wealth = 1

    def step(self):
        if self.wealth > 0:
            others = self.model.agent_list
            other = others[self.random.randrange(len(others))]
            while other is self:
                other = others[self.random.randrange(len(others))]
            other.wealth += 1
            self.wealth -= 1


class CoinModel(mesa.Model):
    def __init__(self, n_agents: int = 5000, rng: int | None = None):
        super().__init__(rng=rng)
        CoinAgent.create_agents(self, n_agents)
        self.agent_list = self.agents.to_list()

    def step(self):
        self.agents.shuffle_do("step")


# --------------------------------------------------------------------- measuring
@dataclass
class Result:
    key: str
    label: str
    orgs: int
    ties: int
    build_s: float
    run_s: float
    months: int
    peak_mb: float

    @property
    def cost(self) -> float:
        return self.run_s / (self.orgs * self.months)


def _time_ics(params: dict, months: int, repeats: int) -> tuple[float, float, int, int]:
    best_build = best_run = float("inf")
    orgs = ties = 0
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = ICSModel(rng=SEED, **params)
        t1 = time.perf_counter()
        model.run_for(months)
        t2 = time.perf_counter()
        best_build = min(best_build, t1 - t0)
        best_run = min(best_run, t2 - t1)
        orgs, ties = len(model.organisations), int(model.ties.n)
        del model
    return best_build, best_run, orgs, ties


def _peak_memory_mb(make, months: int) -> float:
    """Peak traced memory (MiB) of building and running, in its own untimed pass."""
    gc.collect()
    tracemalloc.start()
    try:
        model = make()
        model.run_for(months) if hasattr(model, "run_for") else [model.step() for _ in range(months)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del model
    return peak / 2**20


def measure_ics(key: str, label: str, params: dict, months: int, repeats: int) -> Result:
    build, run, orgs, ties = _time_ics(params, months, repeats)
    peak = _peak_memory_mb(lambda: ICSModel(rng=SEED, **params), months)
    return Result(key, label, orgs, ties, build, run, months, peak)


def measure_mesa(n_agents: int, steps: int, repeats: int) -> Result:
    best_build = best_run = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = CoinModel(n_agents, rng=SEED)
        t1 = time.perf_counter()
        for _ in range(steps):
            model.step()
        t2 = time.perf_counter()
        best_build, best_run = min(best_build, t1 - t0), min(best_run, t2 - t1)
        assert sum(a.wealth for a in model.agents) == n_agents  # coins are conserved
        del model
    peak = _peak_memory_mb(lambda: CoinModel(n_agents, rng=SEED), steps)
    return Result("mesa", f"Mesa coin model, {n_agents} agents", n_agents, 0, best_build, best_run, steps, peak)


# --------------------------------------------------------------------- report
def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "abm", "agents"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (abm/ or agents/ modified)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="12 months, 1 repeat, 20 Mesa steps (a smoke check)")
    ap.add_argument("--months", type=int, default=None, help="months per tier (default 120; 12 with --quick)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats, best taken (default 3; 1 with --quick)")
    args = ap.parse_args(argv)
    months = args.months or (12 if args.quick else 120)
    repeats = args.repeats or (1 if args.quick else 3)
    mesa_steps = 20 if args.quick else 100
    if months < 1 or repeats < 1:
        ap.error("--months and --repeats must be >= 1")

    print(f"ics-abm benchmark: {months} months per tier, best of {repeats}, rng={SEED}")
    print(f"python {platform.python_version()}, mesa {mesa.__version__}, numpy {np.__version__}, "
          f"git {_git_commit()}, {platform.machine()} {platform.system()}")
    print(f"re-run: python benchmarks/bench_model.py{' --quick' if args.quick else ''}"
          f"{f' --months {args.months}' if args.months else ''}{f' --repeats {args.repeats}' if args.repeats else ''}")
    print()

    # First use compiles (or loads from cache) the model's numba kernels: time it apart, not in the tiers.
    t0 = time.perf_counter()
    ICSModel(rng=SEED).run_for(2)
    print(f"warm-up (numba kernels compiled or loaded from cache, excluded below): {time.perf_counter() - t0:.2f} s")
    print()

    ref = measure_mesa(5000, mesa_steps, repeats)
    results = [measure_ics(key, label, params, months, repeats) for key, label, params in TIERS]

    head = (f"{'tier':<4} {'model':<32} {'orgs':>6} {'ties':>7} {'build s':>8} {'run s':>8} "
            f"{'us/org-month':>13} {'peak MiB':>9} {'growth':>7} {'vs Mesa':>8}")
    print(head)
    print("-" * len(head))
    prev = None
    for r in results:
        growth = f"{r.cost / prev.cost:.2f}x" if prev is not None and r.key != "c*" else ""
        print(f"{r.key:<4} {r.label:<32} {r.orgs:>6} {r.ties:>7} {r.build_s:>8.3f} {r.run_s:>8.3f} "
              f"{1e6 * r.cost:>13.2f} {r.peak_mb:>9.1f} {growth:>7} {r.cost / ref.cost:>8.2f}")
        if r.key != "c*":
            prev = r
    print(f"{'ref':<4} {ref.label:<32} {ref.orgs:>6} {'-':>7} {ref.build_s:>8.3f} {ref.run_s:>8.3f} "
          f"{1e6 * ref.cost:>13.2f} {ref.peak_mb:>9.1f} {'':>7} {1.0:>8.2f}")
    print("     (Mesa row: run s is for", mesa_steps, "steps; its cost column is us per agent-step)")
    print()

    by = {r.key: r for r in results}
    a, c = by["a"], by["c"]
    print(f"cost growth per org-month: b/a {by['b'].cost / a.cost:.2f}, c/b {c.cost / by['b'].cost:.2f}, "
          f"c/a {c.cost / a.cost:.2f}")
    ratio = c.cost / ref.cost
    print(f"England ({c.orgs} organisations, {c.ties} ties): {1e6 * c.cost:.2f} us per org-month vs Mesa "
          f"{1e6 * ref.cost:.2f} us per agent-step -> ratio {ratio:.2f} "
          f"({'meets' if ratio <= 1 else 'misses'} the goal <= 1)")
    per_120 = a.run_s * 120 / months
    print(f"default ICS, 120 months: {per_120:.3f} s{' (scaled from the quick run)' if months != 120 else ''} "
          f"vs goal < {DEFAULT_ICS_GOAL_S} s -> {'meets' if per_120 < DEFAULT_ICS_GOAL_S else 'misses'} "
          f"(ratio {per_120 / DEFAULT_ICS_GOAL_S:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
