"""Running an experiment: the run plan, batches of runs, any executor.

The plan lists every run: design point x replicate, with its run_id, seed
and full parameter set. Runs are grouped into batches (several short runs per
task keeps the overhead of processes or a cluster small), the batches go to
any ``concurrent.futures.Executor`` (local processes by default, or Dask
distributed), and each finished batch is handed to the results store at once.
A run depends only on its own seed and parameters, so the results are the
same whatever the backend, worker count or batch size.

``model_factory`` is an extension and test hook: a picklable callable
``factory(params, seed, collect_agents) -> model`` used instead of
``abm.ICSModel`` (the tests use it to make chosen runs raise).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import sys
import time
import traceback
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pandas as pd

from abm import ICSModel, validate_parameters
from abm.parameters import REGIME_KNOBS
from abm.regimes import resolve_regime

from .design import build_design
from .seeds import replicate_seeds
from .spec import RESERVED, Experiment

PARAMETER_NAMES = tuple(name for name in validate_parameters() if name not in RESERVED)


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs; a run depends on nothing else."""

    run_id: str
    point: int
    replicate: int
    seed: int
    months: int
    params: dict[str, Any]
    schedule: tuple = ()              # events: {"month", "kind", "options"}
    schedule_name: str | None = None  # when alternative schedules are a factor
    agents: bool = False
    ties: bool = False
    every: int = 12
    factors: dict[str, Any] = field(default_factory=dict)
    regime_name: str | None = None    # a named regime of the experiment file (params hold its preset)

    def row(self) -> dict[str, Any]:
        """The run's row in the runs table, before it has run."""
        row = {"run_id": self.run_id, "point": self.point, "replicate": self.replicate,
               "seed": self.seed, "months": self.months}
        if self.schedule_name is not None:
            row["schedule"] = self.schedule_name
        row.update(self.params)
        if self.regime_name is not None:
            row["regime"] = self.regime_name
            row["regime_base"] = self.params["regime"]
        row["schedule_events"] = json.dumps(list(self.schedule), sort_keys=True)
        return row


def resolved_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """The full parameter set with the regime preset's knob values filled in."""
    full = validate_parameters(values)
    regime = resolve_regime(full["regime"], **{k: full[k] for k in REGIME_KNOBS})
    full.update(regime.knobs())
    return {name: full[name] for name in PARAMETER_NAMES}


def plan_runs(exp: Experiment) -> list[RunSpec]:
    """Every run of ``exp``: design points x replicates, in a fixed order."""
    design = build_design(exp)
    seeds = replicate_seeds(exp.seed, exp.replicates)
    width = max(4, len(str(len(design.points) - 1)))
    rwidth = max(3, len(str(exp.replicates - 1)))
    plan = []
    for i, point in enumerate(design.points):
        values = {k: v for k, v in point.items() if k != "schedule"}
        given = {**exp.parameters, **values}
        params = resolved_parameters(exp.model_values(given))
        regime_name = given["regime"] if given.get("regime") in exp.regimes else None
        name = point.get("schedule", "")
        for r, seed in enumerate(seeds):
            plan.append(RunSpec(
                run_id=f"p{i:0{width}d}-r{r:0{rwidth}d}", point=i, replicate=r, seed=seed,
                months=exp.months, params=params, schedule=tuple(exp.schedules[name]),
                schedule_name=name if exp.schedule_is_factor else None,
                agents=exp.agents, ties=exp.ties, every=exp.every, factors=dict(point),
                regime_name=regime_name,
            ))
    return plan


# ---------------------------------------------------------------------------- one run
def build_model(params: dict[str, Any], seed: int, collect_agents: bool = False):
    """The default model factory: the ICS model with these parameters and seed."""
    return ICSModel(**params, rng=seed, collect_agents=collect_agents, collect_ties=False)


def _apply_schedule(model, events) -> None:
    for event in events:
        if event["kind"] == "regime":
            model.schedule_regime(event["month"], **event["options"])
        else:
            model.schedule_structural_event(event["month"], event["kind"], **event["options"])


def simulate(spec: RunSpec, model_factory: Callable | None = None) -> dict[str, pd.DataFrame | None]:
    """Run one spec; return its metrics (and agent and tie tables if asked)."""
    factory = model_factory or build_model
    model = factory(dict(spec.params), spec.seed, spec.agents)
    _apply_schedule(model, spec.schedule)
    snapshots = sorted(set(range(0, spec.months + 1, spec.every)) | {spec.months})
    ties = []
    if spec.ties:
        for month in snapshots:
            if month > model.month:
                model.run_for(month - model.month)
            frame = model.tie_table()
            frame.insert(0, "month", month)
            ties.append(frame)
    else:
        model.run_for(spec.months)
    metrics = model.datacollector.get_model_vars_dataframe().reset_index()
    metrics.insert(0, "run_id", spec.run_id)
    agents = None
    if spec.agents:
        agents = model.datacollector.get_agent_vars_dataframe().reset_index()
        agents = agents[agents["month"].isin(snapshots)].reset_index(drop=True)
        agents.insert(0, "run_id", spec.run_id)
    tie_frame = None
    if ties:
        tie_frame = pd.concat(ties, ignore_index=True)
        tie_frame.insert(0, "run_id", spec.run_id)
    return {"metrics": metrics, "agents": agents, "ties": tie_frame}


def run_one(spec: RunSpec, model_factory: Callable | None = None) -> dict[str, Any]:
    """Run one spec, catching any error: a failed run is a result too."""
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    result: dict[str, Any] = {"run_id": spec.run_id, "status": "ok", "error": "",
                              "metrics": None, "agents": None, "ties": None}
    try:
        result.update(simulate(spec, model_factory))
    except Exception:  # noqa: BLE001 - any error in a run is recorded, the sweep goes on
        result["status"] = "failed"
        result["error"] = traceback.format_exc()
    result["started_at"] = started.isoformat(timespec="milliseconds")
    result["elapsed_s"] = time.perf_counter() - clock
    result["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return result


def run_batch(specs: list[RunSpec], model_factory: Callable | None = None) -> list[dict[str, Any]]:
    """One task: several runs in a row (what an executor's worker receives)."""
    return [run_one(spec, model_factory) for spec in specs]


def batches(specs: list[RunSpec], workers: int, batch_size: int | None = None) -> list[list[RunSpec]]:
    """Split runs into batches: about 8 tasks per worker, at most 16 runs each."""
    if not specs:
        return []
    if batch_size is None:
        batch_size = max(1, min(16, math.ceil(len(specs) / (8 * max(workers, 1)))))
    return [specs[i:i + batch_size] for i in range(0, len(specs), batch_size)]


# ---------------------------------------------------------------------------- executors
@contextlib.contextmanager
def make_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[tuple[Executor, str]]:
    """An executor and a description of it.

    ``scheduler=None``: a local process pool of ``workers`` processes.
    ``scheduler="local"``: a local Dask cluster of ``workers`` processes.
    ``scheduler="tcp://host:port"``: an existing Dask scheduler.
    """
    if scheduler is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["experiments.runner"])
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool, f"local processes ({workers} worker{'s' if workers > 1 else ''})"
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("the Dask backend needs the 'dask' extra: pip install 'ics-abm[dask]'") from None
    if scheduler == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client.get_executor(pure=False), f"local Dask cluster ({workers} worker{'s' if workers > 1 else ''})"
    else:
        with Client(scheduler) as client:
            n = len(client.scheduler_info().get("workers", {}))
            yield client.get_executor(pure=False), f"Dask scheduler {scheduler} ({n} workers)"


def execute(specs: list[RunSpec], executor: Executor, on_batch: Callable[[list[dict]], None],
            workers: int = 1, batch_size: int | None = None, model_factory: Callable | None = None) -> None:
    """Run ``specs`` on ``executor`` in batches, handing each finished batch to ``on_batch``."""
    futures = [executor.submit(run_batch, batch, model_factory) for batch in batches(specs, workers, batch_size)]
    try:
        for future in as_completed(futures):
            on_batch(future.result())
    except BaseException:
        for future in futures:
            future.cancel()
        raise


# ---------------------------------------------------------------------------- a whole experiment
@dataclass
class SweepOutcome:
    """What one call of ``run_experiment`` did."""

    path: str
    planned: int
    skipped: int
    ran: int
    failed: int
    backend: str
    seconds: float


def run_experiment(exp: Experiment, out, *, workers: int = 1, scheduler: str | None = None,
                   executor: Executor | None = None, batch_size: int | None = None,
                   progress: bool = True, model_factory: Callable | None = None,
                   plan: list[RunSpec] | None = None) -> SweepOutcome:
    """Run ``exp`` into the results folder ``out``, resuming if it holds part of it.

    Runs already stored are skipped. Pass ``executor`` to use your own
    (it is not shut down); otherwise one is made from ``workers``/``scheduler``.
    """
    from .store import ResultsStore

    plan = plan if plan is not None else plan_runs(exp)
    design = build_design(exp) if exp.design in ("sobol", "morris") else None
    store = ResultsStore.open(out, exp, plan, design=design,
                              extra={"workers": workers, "scheduler": scheduler or "processes"})
    done = store.completed()
    todo = [spec for spec in plan if spec.run_id not in done]
    by_id = {spec.run_id: spec for spec in todo}
    counts = {"ran": 0, "failed": 0}
    clock = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(plan), initial=len(plan) - len(todo), unit="run", desc=exp.name,
                   dynamic_ncols=True, file=sys.stderr)

    def on_batch(results: list[dict]) -> None:
        store.write_batch(by_id, results)
        counts["ran"] += len(results)
        counts["failed"] += sum(r["status"] == "failed" for r in results)
        if bar is not None:
            bar.update(len(results))
            if counts["failed"]:
                bar.set_postfix(failed=counts["failed"])

    backend = "given executor" if executor is not None else "none needed (all runs stored)"
    status = "interrupted"
    try:
        if todo:
            if executor is not None:
                execute(todo, executor, on_batch, workers, batch_size, model_factory)
            else:
                with make_executor(workers, scheduler) as (made, backend):
                    execute(todo, made, on_batch, workers, batch_size, model_factory)
        status = "complete"
    finally:
        if bar is not None:
            bar.close()
        try:
            store.manifest["sessions"][-1]["backend"] = backend
            store.finish(status, counts["ran"], counts["failed"])
        finally:
            store.close()
    return SweepOutcome(path=str(out), planned=len(plan), skipped=len(plan) - len(todo),
                        ran=counts["ran"], failed=counts["failed"], backend=backend,
                        seconds=time.perf_counter() - clock)
