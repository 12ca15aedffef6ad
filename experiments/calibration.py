"""Calibration by approximate Bayesian computation (ABC-SMC with pyabc).

``calibrate()`` (and ``ics-abm calibrate``) fits the uncertain parameters in
``PRIORS`` to the fitted targets of ``experiments.targets`` with pyabc's
ABC-SMC: a population of parameter sets (particles) is drawn from the prior,
each particle runs the three scenarios its targets describe, and a particle
is kept when its distance (root of the sum of squared scaled violations of
the target ranges, zero when every fitted statistic is inside its range) is
below the generation's tolerance, which falls generation by generation (the
median of the last generation's distances). Held-out targets are computed
for every particle but never enter the distance; the report says how the
posterior predicts them.

Reproducibility: the same root seed gives the same posterior, whatever the
number of workers. ``DeterministicSampler`` gives candidate particle i of
sampler call c its own seed (from ``SeedSequence(root)``), evaluates
candidates in parallel on any ``concurrent.futures`` executor (the local
process pool or Dask of ``experiments.runner.make_executor``, the same
executors as sweeps) and accepts them in candidate order until the population
is full, so the accepted set does not depend on which worker finished first.
(pyabc's own ``MulticoreEvalParallelSampler`` and ``DaskDistributedSampler``
accept in order of completion and so are not reproducible; they would work
with ``pyabc.ABCSMC(..., sampler=...)`` if speed mattered more than that.)

Outputs (``--out``, by default ``abm/data/posterior``, which ships):
``posterior.csv`` (particles and weights), ``central.json`` (weighted
marginal medians: the set ``ICSModel(calibrated=True)`` uses),
``manifest.json`` (priors, targets and tolerances, settings, epsilons,
evaluations, wall time, versions, seeds, git commit), ``predictive.csv``
(target statistics of fresh runs of posterior draws), ``report.md`` with
``targets.png`` and ``marginals.png``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from abm.parameters import PARAMETERS

from . import targets as T

#: name -> (low, high, why the range differs from the parameter table's, if it does)
PRIORS: dict[str, tuple[float, float, str]] = {
    "gaming_propensity": (0.05, 1.0, "table 0-1; 0 would switch gaming off, which T1 rules out"),
    "gaming_leverage": (0.5, 8.0, "table 0-10; below 0.5 gaming would be dearer than real improvement"),
    "gaming_inflation": (0.05, 0.8, "table 0-1; 0.8 points of inflation on a 0-1 scale is the plausible ceiling"),
    "gaming_saturation": (0.02, 0.5, "table 0.01-1; more than half of capacity before inflation is full is absurd"),
    "detection_probability": (0.1, 0.9, "table 0-1; audits neither never nor always find gaming"),
    "trust_build_rate": (0.02, 0.5, "table 0-1; closing more than half the gap in a month is not 'slow to build'"),
    "trust_erosion_rate": (0.02, 0.8, "table 0-1"),
    "initial_trust": (0.2, 0.7, "table 0-1; ICSs did not start from no or full trust"),
    "readiness_step": (0.05, 0.25, "table 0.01-0.3"),
    "prevention_gain": (0.0, 0.4, "table 0-0.5"),
    "capability_delay": (6, 72, "table 1-120 months; T6 spans 5-6 years, so a lag above 6 years cannot be seen"),
    "voice_budget_exponent": (0.25, 2.0, "table 0-2; 0 would make budgets irrelevant to voice"),
}


@dataclass(frozen=True)
class Settings:
    """How big a calibration is."""

    population: int      # particles per generation
    generations: int     # ABC-SMC generations (after the prior calibration sample)
    months: int          # months per scenario run
    predictive: int      # posterior-predictive draws for the report
    chunk: int = 2       # candidates per task on an executor

    def model_runs_hint(self) -> str:
        return (f"{len(T.SCENARIOS)} scenario runs of {self.months} months per particle; "
                f"{self.population} particles x {self.generations + 1} populations (incl. the prior sample) "
                f"/ acceptance rate, plus {self.predictive} posterior-predictive particles")


MODES: dict[str, Settings] = {
    # seconds: for tests
    "quick": Settings(population=4, generations=1, months=12, predictive=3),
    # the shipped calibration (abm/data/posterior): about 800-1,100 particle evaluations (1,039 on model 2.0),
    # i.e. about 2,500-3,300 model runs of 72 months: 5-25 minutes, by load, on 2 cores with --workers 2
    "shipped": Settings(population=40, generations=5, months=72, predictive=40),
}

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "abm" / "data" / "posterior"
_MASK32 = (1 << 32) - 1


# ---------------------------------------------------------------------------- model and distance
def to_model_parameters(particle: dict) -> dict:
    """A particle's values as model parameters (whole-number parameters rounded)."""
    out = {}
    for name, value in particle.items():
        if name not in PRIORS:
            continue
        out[name] = int(round(float(value))) if PARAMETERS[name].kind == "int" else float(value)
    return out


class ParticleModel:
    """pyabc model: one particle runs every scenario with one seed and returns all target statistics."""

    def __init__(self, months: int):
        self.months = months

    def __call__(self, particle) -> dict:
        seed = int(np.random.randint(0, 2**62, dtype=np.int64))  # seeded per candidate by the sampler
        return T.simulate_targets(to_model_parameters(dict(particle)), seed, self.months)


def abc_distance(x: dict, x0: dict | None = None) -> float:  # noqa: ARG001 - targets are ranges, not x0
    """Distance over the fitted targets (``experiments.targets.distance``)."""
    return T.distance(x, T.FITTED)


# ---------------------------------------------------------------------------- reproducible sampler
def _evaluate_chunk(payload: bytes, seeds: list[int]) -> list:
    import cloudpickle

    simulate_one = cloudpickle.loads(payload)
    out = []
    for seed in seeds:
        np.random.seed(seed & _MASK32)
        random.seed(seed)
        out.append(simulate_one())
    return out


try:
    from pyabc.sampler import Sampler as _PyabcSampler
except ImportError:  # pragma: no cover - pyabc is a dependency
    _PyabcSampler = object


class DeterministicSampler(_PyabcSampler):
    """A pyabc sampler whose result depends only on the root seed.

    Candidate i of the c-th call gets seed ``SeedSequence(root, spawn_key=(c, i))``;
    candidates run in rounds (in order, on ``executor`` if given) and are
    accepted in candidate order until ``n`` are accepted.
    """

    def __init__(self, seed: int, executor=None, workers: int = 1, chunk: int = 2):
        super().__init__()
        self.seed = int(seed)
        self.executor = executor
        self.workers = max(1, int(workers))
        self.chunk = max(1, int(chunk))
        self.calls = 0

    def _seed(self, call: int, i: int) -> int:
        seq = np.random.SeedSequence(self.seed, spawn_key=(call, i))
        return int(seq.generate_state(1, dtype=np.uint64)[0])

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                ana_vars=None):  # noqa: ARG002
        call = self.calls
        self.calls += 1
        sample = self._create_empty_sample()
        accepted = considered = 0
        next_index = 0
        payload = None
        if self.executor is not None:
            import cloudpickle

            payload = cloudpickle.dumps(simulate_one)
        while accepted < n and considered < max_eval:
            if self.executor is None:
                seeds = [self._seed(call, next_index)]
                results = _evaluate_chunk_local(simulate_one, seeds)
            else:
                size = self.workers * self.chunk
                if all_accepted:
                    size = min(size, n - accepted)
                seeds = [self._seed(call, next_index + k) for k in range(size)]
                parts = [seeds[k:k + self.chunk] for k in range(0, len(seeds), self.chunk)]
                futures = [self.executor.submit(_evaluate_chunk, payload, part) for part in parts]
                results = [p for f in futures for p in f.result()]
            next_index += len(seeds)
            for particle in results:
                if accepted >= n:
                    break
                sample.append(particle)
                considered += 1
                if particle.accepted:
                    accepted += 1
        self.nr_evaluations_ = considered
        if sample.n_accepted < n:
            sample.ok = False
        return sample


def _evaluate_chunk_local(simulate_one, seeds):
    out = []
    for seed in seeds:
        np.random.seed(seed & _MASK32)
        random.seed(seed)
        out.append(simulate_one())
    return out


# ---------------------------------------------------------------------------- posterior summaries
def weighted_quantile(values, weights, q: float) -> float:
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[min(np.searchsorted(cum, q), v.size - 1)])


def central_parameters(frame: pd.DataFrame) -> dict:
    """Weighted marginal median of each calibrated parameter (whole numbers rounded)."""
    med = {name: weighted_quantile(frame[name], frame["weight"], 0.5) for name in PRIORS}
    return to_model_parameters(med)


def draw_particles(frame: pd.DataFrame, n: int, seed: int) -> list[dict]:
    """``n`` parameter sets drawn from the weighted particles (the first k of n draws equal k draws)."""
    w = frame["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(frame), size=n, p=w / w.sum())
    rows = frame.iloc[idx]
    return [to_model_parameters(row) for _, row in rows[list(PRIORS)].iterrows()]


def _predict_one(item) -> dict:
    params, seed, months = item
    return T.simulate_targets(params, seed, months)


def posterior_predictive(frame: pd.DataFrame, n: int, seed: int, months: int, executor=None) -> pd.DataFrame:
    """Target statistics of ``n`` posterior draws, each run with a fresh seed."""
    draws = draw_particles(frame, n, seed)
    seeds = [int(s.generate_state(1, dtype=np.uint64)[0] >> 2)
             for s in np.random.SeedSequence(seed, spawn_key=(1 << 20,)).spawn(n)]
    items = [(d, s, months) for d, s in zip(draws, seeds)]
    results = list(executor.map(_predict_one, items)) if executor is not None else [_predict_one(i) for i in items]
    rows = []
    for k, (d, s, stats) in enumerate(zip(draws, seeds, results)):
        rows.append({"draw": k, "seed": s, **d, **stats})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- the run
@dataclass
class CalibrationResult:
    out: Path
    posterior: pd.DataFrame
    central: dict
    predictive: pd.DataFrame
    manifest: dict


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("pyabc", "numpy", "mesa", "numba", "pandas", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "abm", "agents", "experiments"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _settings(mode: str, **overrides) -> Settings:
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: allowed {', '.join(MODES)}")
    return replace(MODES[mode], **{k: v for k, v in overrides.items() if v is not None})


def calibrate(mode: str = "shipped", out: str | Path | None = None, *, seed: int = 1, workers: int = 1,
              scheduler: str | None = None, population: int | None = None, generations: int | None = None,
              months: int | None = None, predictive: int | None = None, progress: bool = True,
              keep_db: bool = False) -> CalibrationResult:
    """Run ABC-SMC and write the posterior, the posterior-predictive check and the report to ``out``."""
    import pyabc

    s = _settings(mode, population=population, generations=generations, months=months, predictive=predictive)
    out = Path(out) if out is not None else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for name in ("pyabc", "ABC", "Sampler", "History", "Epsilon", "Distance", "Acceptor"):
        logging.getLogger(name).setLevel(logging.INFO if progress else logging.WARNING)
    np.random.seed(seed & _MASK32)
    random.seed(seed)

    prior = pyabc.Distribution(**{name: pyabc.RV("uniform", lo, hi - lo) for name, (lo, hi, _) in PRIORS.items()})
    db_dir = out if keep_db else Path(tempfile.mkdtemp(prefix="ics-abc-"))
    db = db_dir / "abc.db"
    if db.exists():
        db.unlink()
    started = datetime.now(timezone.utc)
    commit = _git_commit()   # the code the particles run (HEAD may move during a long run)
    clock = time.perf_counter()

    from .runner import make_executor

    ctx = make_executor(workers, scheduler) if (workers > 1 or scheduler) else None
    backend = "one process"
    try:
        executor = None
        if ctx is not None:
            executor, backend = ctx.__enter__()
        sampler = DeterministicSampler(seed, executor=executor, workers=workers, chunk=s.chunk)
        abc = pyabc.ABCSMC(ParticleModel(s.months), prior, abc_distance, population_size=s.population,
                           sampler=sampler, eps=pyabc.QuantileEpsilon(alpha=0.5))
        abc.new(f"sqlite:///{db}", {stat: 0.0 for stat in T.STATS})
        history = abc.run(minimum_epsilon=0.0, max_nr_populations=s.generations)
        abc_seconds = time.perf_counter() - clock
        result = _finish(history, out, s, mode, seed, workers, f"DeterministicSampler on {backend}", started,
                         abc_seconds, executor, commit=commit)
    finally:
        if ctx is not None:
            ctx.__exit__(*sys.exc_info())
        if not keep_db:
            shutil.rmtree(db_dir, ignore_errors=True)
    return result


def export(db: str | Path, out: str | Path, mode: str = "shipped", *, seed: int = 1, workers: int = 1,
           note: str = "", commit: str | None = None, **overrides) -> CalibrationResult:
    """Write the posterior of the last finished generation in pyabc database ``db`` (e.g. of a stopped run)."""
    import pyabc

    s = _settings(mode, **overrides)
    history = pyabc.History(f"sqlite:///{Path(db).resolve()}", _id=1)
    pops = history.get_all_populations()
    start = pd.Timestamp(history.get_abc().start_time)
    abc_seconds = (pd.Timestamp(pops["population_end_time"].max()) - start).total_seconds()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from .runner import make_executor

    if workers > 1:
        with make_executor(workers) as (executor, backend):
            return _finish(history, out, s, mode, seed, workers, "DeterministicSampler (exported from its database)",
                           start.to_pydatetime(), abc_seconds, executor, note, commit)
    return _finish(history, out, s, mode, seed, workers, "DeterministicSampler (exported from its database)",
                   start.to_pydatetime(), abc_seconds, None, note, commit)


def _finish(history, out: Path, s: Settings, mode: str, seed: int, workers: int, sampler: str, started,
            abc_seconds: float, executor=None, note: str = "", commit: str | None = None) -> CalibrationResult:
    pops = history.get_all_populations()
    population = history.get_population(t=history.max_t)
    rows = []
    for k, particle in enumerate(population.particles):
        rows.append({"particle": k, "weight": float(particle.weight),
                     **{n: float(particle.parameter[n]) for n in PRIORS}, "distance": float(particle.distance),
                     **{f"stat_{name}": float(particle.sum_stat[name]) for name in T.STATS}})
    frame = pd.DataFrame(rows)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    clock = time.perf_counter()
    pred = posterior_predictive(frame, s.predictive, seed, s.months, executor)
    pred_seconds = time.perf_counter() - clock

    central = central_parameters(frame)
    generations_table = [
        {"t": int(r["t"]), "epsilon": float(r["epsilon"]), "evaluations": int(r["samples"]),
         "particles": int(r["particles"])}
        for _, r in pops.iterrows()
    ]
    evaluations = int(sum(g["evaluations"] for g in generations_table))
    extra = []
    if s.population != MODES[mode].population:
        extra.append(f"--population {s.population}")
    if s.generations != MODES[mode].generations:
        extra.append(f"--generations {s.generations}")
    if s.months != MODES[mode].months:
        extra.append(f"--months {s.months}")
    if s.predictive != MODES[mode].predictive:
        extra.append(f"--predictive {s.predictive}")
    manifest = {
        "what": "ABC-SMC posterior of the ICS model (experiments/calibration.py)",
        "mode": mode,
        "settings": asdict(s),
        "finished_generations": int(history.max_t) + 1,
        "note": note,
        "seed": seed,
        "command": " ".join(["ics-abm calibrate", *(["--quick"] if mode == "quick" else []), "--seed", str(seed), *extra]),
        "sampler": sampler,
        "workers": workers,
        "priors": {k: {"low": lo, "high": hi, "distribution": "uniform", "note": why}
                   for k, (lo, hi, why) in PRIORS.items()},
        "scenarios": T.SCENARIOS,
        "targets": [t.as_dict() for t in T.TARGETS],
        "distance": "sqrt(sum over fitted targets of (violation / scale)^2); violation = distance outside the range",
        "epsilon": "pyabc.QuantileEpsilon(alpha=0.5), minimum 0",
        "transition": "pyabc.MultivariateNormalTransition (default)",
        "generations": generations_table,
        "particle_evaluations": evaluations,
        "model_runs": evaluations * len(T.SCENARIOS) + s.predictive * len(T.SCENARIOS),
        "abc_seconds": round(abc_seconds, 1),
        "predictive_seconds": round(pred_seconds, 1),
        "started_at": started.isoformat(timespec="seconds"),
        "versions": _versions(),
        "git_commit": commit or _git_commit(),
        "machine": {"cpus": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None},
        "central": central,
    }
    frame.to_csv(out / "posterior.csv", index=False)
    pred.to_csv(out / "predictive.csv", index=False)
    (out / "central.json").write_text(json.dumps(central, indent=2) + "\n")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    write_report(out)
    return CalibrationResult(out=out, posterior=frame, central=central, predictive=pred, manifest=manifest)


# ---------------------------------------------------------------------------- report
def target_verdicts(pred: pd.DataFrame) -> list[dict]:
    """Per target: posterior-predictive median, 90% interval, share of draws inside the range, met/missed."""
    rows = []
    for t in T.TARGETS:
        x = pred[t.stat].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        inside = float(np.mean([t.met(v) for v in x])) if x.size else 0.0
        med = float(np.median(x)) if x.size else float("nan")
        rows.append({
            "id": t.id, "stat": t.stat, "scenario": t.scenario, "fitted": t.fitted, "range": t.range_text(),
            "scale": t.scale, "median": med,
            "q05": float(np.quantile(x, 0.05)) if x.size else float("nan"),
            "q95": float(np.quantile(x, 0.95)) if x.size else float("nan"),
            "share_inside": inside,
            "verdict": "met" if t.met(med) and inside >= 0.5 else ("partly met" if inside > 0.0 else "missed"),
        })
    return rows


def write_report(out: str | Path) -> Path:
    """report.md with targets.png and marginals.png, from the files in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    manifest = json.loads((out / "manifest.json").read_text())
    post = pd.read_csv(out / "posterior.csv")
    pred = pd.read_csv(out / "predictive.csv")
    verdicts = target_verdicts(pred)

    # targets: observed range vs posterior-predictive distribution
    n = len(T.TARGETS)
    cols = 4
    rows_n = math.ceil(n / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.4 * rows_n))
    for ax, t, v in zip(axes.flat, T.TARGETS, verdicts):
        x = pred[t.stat].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        lo = t.low if math.isfinite(t.low) else min(np.min(x) if x.size else 0, t.high) - 2 * t.scale
        hi = t.high if math.isfinite(t.high) else max(np.max(x) if x.size else 0, t.low) + 2 * t.scale
        ax.axvspan(lo, hi, color="tab:green", alpha=0.2, label="observed range")
        if x.size and np.ptp(x) > 0:
            ax.hist(x, bins=15, color="tab:blue", alpha=0.8, label="posterior predictive")
        elif x.size:   # every draw gives the same value
            ax.axvline(x[0], color="tab:blue", linewidth=3, label="posterior predictive")
        ax.set_title(f"{t.id} {'(held out) ' if not t.fitted else ''}{v['verdict']}", fontsize=8,
                     color="black" if v["verdict"] == "met" else "tab:red")
        ax.set_xlabel(t.stat, fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "targets.png", dpi=90)
    plt.close(fig)

    # marginal posteriors vs uniform priors
    names = list(PRIORS)
    rows_n = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.2 * rows_n))
    for ax, name in zip(axes.flat, names):
        lo, hi, _ = PRIORS[name]
        ax.hist(post[name], bins=12, range=(lo, hi), weights=post["weight"], density=True, color="tab:blue",
                alpha=0.8, label="posterior")
        ax.hlines(1.0 / (hi - lo), lo, hi, color="black", linestyle="--", label="prior")
        ax.axvline(PARAMETERS[name].default, color="tab:orange", label="table default")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "marginals.png", dpi=90)
    plt.close(fig)

    s = manifest["settings"]
    lines = [
        "# Calibration report (ABC-SMC)",
        "",
        f"Mode `{manifest['mode']}`, root seed {manifest['seed']}, git commit `{manifest['git_commit']}`, "
        f"started {manifest['started_at']}. Reproduce: `{manifest['command']}`."
        + (f" {manifest['note']}" if manifest.get("note") else ""),
        "",
        f"Settings: {s['population']} particles per generation, "
        f"{sum(g['t'] >= 0 for g in manifest['generations'])} ABC-SMC generations after a prior sample that sets "
        f"the first tolerance, {s['months']} months per scenario run, "
        f"{len(T.SCENARIOS)} scenarios per particle ({', '.join(T.SCENARIOS)}), default stylised ICS. "
        f"{manifest['particle_evaluations']} particle evaluations, {manifest['model_runs']} model runs in all; "
        f"ABC {manifest['abc_seconds']} s + posterior predictive {manifest['predictive_seconds']} s on "
        f"{manifest['sampler']} (machine load {manifest['machine'].get('load_average_1min')}).",
        "",
        "| generation | epsilon | particle evaluations | acceptance |",
        "| --- | --- | --- | --- |",
    ]
    for g in manifest["generations"]:
        rate = g["particles"] / g["evaluations"] if g["evaluations"] else float("nan")
        label = "prior sample (sets the first tolerance)" if g["t"] < 0 else str(g["t"])
        lines.append(f"| {label} | {g['epsilon']:.3g} | {g['evaluations']} | "
                     f"{'-' if g['t'] < 0 else f'{rate:.2f}'} |")
    w = post["weight"].to_numpy(dtype=float)
    ess = float(w.sum() ** 2 / (w ** 2).sum())
    lines += [
        "",
        f"Final population: {len(post)} particles, effective sample size {ess:.1f} (1 / sum of squared "
        f"normalised weights); best distance {post['distance'].min():.3g}, median {post['distance'].median():.3g}.",
        "",
        "## Targets: observed vs posterior predictive",
        "",
        f"{s['predictive']} parameter sets drawn from the posterior, each run with a fresh seed. "
        "A target is **met** when the posterior-predictive median lies in the observed range and at least half "
        "the draws do; **partly met** when some draws do; **missed** when none does. Held-out targets never "
        "entered the distance.",
        "",
        "| target | statistic | scenario | fitted | observed range | tolerance (scale) | posterior predictive "
        "median [5%, 95%] | share inside | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in verdicts:
        lines.append(f"| {v['id']} | `{v['stat']}` | {v['scenario']} | {'yes' if v['fitted'] else 'held out'} | "
                     f"{v['range']} | {v['scale']:g} | {v['median']:.3g} [{v['q05']:.3g}, {v['q95']:.3g}] | "
                     f"{v['share_inside']:.2f} | **{v['verdict']}** |")
    lines += ["", "![targets](targets.png)", "", "## Marginal posteriors vs priors", "",
              "Weighted particles of the last generation (bars), uniform prior (dashed), the parameter table's "
              "default (orange). Central set (weighted marginal medians; `ICSModel(calibrated=True)`):", "",
              "| parameter | prior | posterior median [5%, 95%] | table default | central |",
              "| --- | --- | --- | --- | --- |"]
    for name, (lo, hi, _) in PRIORS.items():
        q = [weighted_quantile(post[name], post["weight"], x) for x in (0.05, 0.5, 0.95)]
        lines.append(f"| `{name}` | U({lo:g}, {hi:g}) | {q[1]:.3g} [{q[0]:.3g}, {q[2]:.3g}] | "
                     f"{PARAMETERS[name].default} | {manifest['central'][name]:.4g} |")
    lines += ["", "![marginals](marginals.png)", "",
              "Targets, sources and how each became a range: docs/calibration.md.", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
