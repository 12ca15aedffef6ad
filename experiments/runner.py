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
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pandas as pd

from abm import ICSModel, validate_parameters
from abm.parameters import REGIME_KNOBS
from abm.regimes import resolve_regime

from .design import build_design, count_points
from .seeds import replicate_seeds
from .spec import RESERVED, Experiment, ExperimentError
from .uncertainty import replicate_parameters

PARAMETER_NAMES = tuple(name for name in validate_parameters() if name not in RESERVED)

# Default ceiling on the runs one experiment may plan (``--max-runs``): a plan
# of 100,000 runs takes a few hundred MB before anything runs.
MAX_RUNS = 100_000
# Seconds to wait for a Dask scheduler (``--scheduler ADDRESS``) to answer.
CONNECT_TIMEOUT_S = 20
WORKER_DIED = ("the worker process running this run died (killed by a signal, or out of memory) twice: "
               "once in its batch and once on its own; it is recorded as failed and not retried again")


class BackendError(RuntimeError):
    """The executor could not be made (Dask missing, scheduler unreachable); nothing was run."""


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
    ics: bool = False                 # store the per-ICS table at each snapshot
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


def check_size(exp: Experiment, max_runs: int | None = MAX_RUNS) -> int:
    """The number of runs ``exp`` plans; ExperimentError if it exceeds ``max_runs``."""
    points = count_points(exp)
    runs = points * exp.replicates
    if max_runs is not None and runs > max_runs:
        raise ExperimentError(
            f"{exp.source}: the design has {runs:,} runs ({points:,} design points x {exp.replicates} replicates), "
            f"more than the ceiling of {max_runs:,} (--max-runs); allowed: at most {max_runs:,} runs, so use fewer "
            "factor values, samples or replicates, or raise --max-runs if you mean it")
    return runs


def resolved_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """The full parameter set with the regime preset's knob values filled in."""
    full = validate_parameters(values)
    regime = resolve_regime(full["regime"], **{k: full[k] for k in REGIME_KNOBS})
    full.update(regime.knobs())
    return {name: full[name] for name in PARAMETER_NAMES}


def plan_runs(exp: Experiment, max_runs: int | None = MAX_RUNS) -> list[RunSpec]:
    """Every run of ``exp``: design points x replicates, in a fixed order.

    A design bigger than ``max_runs`` (None: no ceiling) is refused before any
    point is built: a typo such as 40 values for each of 6 factors would
    otherwise fill the memory while planning.
    """
    check_size(exp, max_runs)
    design = build_design(exp)
    seeds = replicate_seeds(exp.seed, exp.replicates)
    draws = replicate_parameters(exp)   # {} per replicate, or its posterior draw (common to every point)
    width = max(4, len(str(len(design.points) - 1)))
    rwidth = max(3, len(str(exp.replicates - 1)))
    plan = []
    for i, point in enumerate(design.points):
        values = {k: v for k, v in point.items() if k != "schedule"}
        given = {**exp.parameters, **values}
        regime_name = given["regime"] if given.get("regime") in exp.regimes else None
        name = point.get("schedule", "")
        for r, seed in enumerate(seeds):
            params = resolved_parameters(exp.model_values({**draws[r], **given}))
            plan.append(RunSpec(
                run_id=f"p{i:0{width}d}-r{r:0{rwidth}d}", point=i, replicate=r, seed=seed,
                months=exp.months, params=params, schedule=tuple(exp.schedules[name]),
                schedule_name=name if exp.schedule_is_factor else None,
                agents=exp.agents, ties=exp.ties, every=exp.every, factors=dict(point), ics=exp.ics,
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
    """Run one spec; return its metrics (and agent, tie and per-ICS tables if asked)."""
    factory = model_factory or build_model
    model = factory(dict(spec.params), spec.seed, spec.agents)
    _apply_schedule(model, spec.schedule)
    snapshots = sorted(set(range(0, spec.months + 1, spec.every)) | {spec.months})
    ties, ics = [], []
    if spec.ties or spec.ics:
        for month in snapshots:
            if month > model.month:
                model.run_for(month - model.month)
            if spec.ties:
                frame = model.tie_table()
                frame.insert(0, "month", month)
                ties.append(frame)
            if spec.ics:
                ics.append(model.ics_table())
    else:
        model.run_for(spec.months)
    # the store names Mesa's Step (one step is one month) "month"
    metrics = model.datacollector.get_model_vars_dataframe().rename_axis("month").reset_index()
    metrics.insert(0, "run_id", spec.run_id)
    agents = None
    if spec.agents:
        agents = model.datacollector.get_agent_vars_dataframe().rename_axis(["month", "AgentID"]).reset_index()
        agents = agents[agents["month"].isin(snapshots)].reset_index(drop=True)
        agents.insert(0, "run_id", spec.run_id)
    tie_frame = None
    if ties:
        tie_frame = pd.concat(ties, ignore_index=True)
        tie_frame.insert(0, "run_id", spec.run_id)
    ics_frame = None
    if ics:
        ics_frame = pd.concat(ics, ignore_index=True)
        ics_frame.insert(0, "run_id", spec.run_id)
    return {"metrics": metrics, "agents": agents, "ties": tie_frame, "ics": ics_frame}


def run_one(spec: RunSpec, model_factory: Callable | None = None) -> dict[str, Any]:
    """Run one spec, catching any error: a failed run is a result too."""
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    result: dict[str, Any] = {"run_id": spec.run_id, "status": "ok", "error": "",
                              "metrics": None, "agents": None, "ties": None, "ics": None}
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
def _process_pool(workers: int):
    """A local pool of ``workers`` processes, started from a clean forkserver."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["experiments.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _plural(workers: int) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''}"


@contextlib.contextmanager
def make_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[tuple[Executor, str]]:
    """An executor and a description of it.

    ``scheduler=None``: a local process pool of ``workers`` processes.
    ``scheduler="local"``: a local Dask cluster of ``workers`` processes.
    ``scheduler="tcp://host:port"``: an existing Dask scheduler. Its workers
    send back pickled results, which this process unpickles: name only a
    cluster you trust.

    Raises BackendError (before yielding) when the Dask backend cannot be used.
    """
    if scheduler is None:
        with _process_pool(workers) as pool:
            yield pool, f"local processes ({_plural(workers)})"
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BackendError("the Dask backend needs the 'dask' extra: pip install 'ics-abm[dask]'") from None
    if scheduler == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client.get_executor(pure=False), f"local Dask cluster ({_plural(workers)})"
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - bad address, refused, timed out, Dask's own start-up failures
        raise BackendError(f"--scheduler {scheduler!r}: cannot use this Dask scheduler ({exc}); allowed: 'local', "
                           "or the address of a running scheduler such as tcp://host:8786") from None
    with client:
        n = len(client.scheduler_info().get("workers", {}))
        yield client.get_executor(pure=False), f"Dask scheduler {scheduler} ({n} workers)"


def _worker_died(spec: RunSpec, message: str = WORKER_DIED) -> dict[str, Any]:
    """The result recorded for a run whose worker process died under it."""
    return {"run_id": spec.run_id, "status": "failed", "error": message, "metrics": None, "agents": None,
            "ties": None, "started_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "elapsed_s": 0.0, "worker": ""}


def execute(specs: list[RunSpec], executor: Executor, on_batch: Callable[[list[dict]], None],
            workers: int = 1, batch_size: int | None = None, model_factory: Callable | None = None) -> None:
    """Run ``specs`` on ``executor`` in batches, handing each finished batch to ``on_batch``.

    Dask retries a batch whose worker dies and then raises KilledWorker; its
    runs are recorded as failed and the sweep goes on.
    """
    futures = {executor.submit(run_batch, batch, model_factory): batch
               for batch in batches(specs, workers, batch_size)}
    try:
        for future in as_completed(futures):
            try:
                results = future.result()
            except Exception as exc:  # noqa: BLE001 - only a worker's death is a run's outcome
                if type(exc).__name__ != "KilledWorker":
                    raise
                results = [_worker_died(spec, f"the Dask worker running this run's batch died repeatedly: {exc}")
                           for spec in futures[future]]
            on_batch(results)
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _drain(pool: Executor, queue: deque, on_batch: Callable[[list[dict]], None], limit: int,
           model_factory: Callable | None) -> list[RunSpec] | None:
    """Run the batches in ``queue`` on ``pool``, at most ``limit`` at a time.

    Returns None when all are done or, when a worker process died (which
    breaks the whole pool), the runs of every batch the break took down; the
    batches not yet submitted stay in ``queue``. Keeping few batches in
    flight keeps that list short.
    """
    running: dict = {}
    lost: list[RunSpec] = []
    broken = False
    while running or (queue and not broken):
        while queue and not broken and len(running) < limit:
            batch = queue.popleft()
            try:
                running[pool.submit(run_batch, batch, model_factory)] = batch
            except BrokenProcessPool:
                queue.appendleft(batch)
                broken = True
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            batch = running.pop(future)
            try:
                results = future.result()
            except BrokenProcessPool:
                broken = True
                lost.extend(batch)
                continue
            on_batch(results)
    return lost if broken else None


def execute_on_processes(specs: list[RunSpec], workers: int, on_batch: Callable[[list[dict]], None],
                         batch_size: int | None = None, model_factory: Callable | None = None) -> None:
    """Run ``specs`` on local processes, surviving worker processes that die.

    A worker killed by a signal or the out-of-memory killer breaks the whole
    process pool, and with it every batch in flight. Those runs are tried
    again one at a time, each alone in a fresh pool: a run whose worker dies
    again is recorded as failed (never retried forever), the others are
    stored as usual, and the remaining batches go on in a fresh pool.
    """
    queue = deque(batches(specs, workers, batch_size))
    suspects: deque = deque()
    while queue or suspects:
        with _process_pool(workers) as pool:
            if queue:
                lost = _drain(pool, queue, on_batch, 2 * workers, model_factory)
                if lost is not None:
                    suspects.extend(lost)
                    continue   # a fresh pool for what is left
            while suspects:
                spec = suspects.popleft()
                try:
                    on_batch(pool.submit(run_batch, [spec], model_factory).result())
                except BrokenProcessPool:
                    on_batch([_worker_died(spec)])
                    break      # this pool is broken: a fresh one for the rest


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
                   plan: list[RunSpec] | None = None, max_runs: int | None = MAX_RUNS) -> SweepOutcome:
    """Run ``exp`` into the results folder ``out``, resuming if it holds part of it.

    Runs already stored are skipped. Pass ``executor`` to use your own
    (it is not shut down); otherwise one is made from ``workers``/``scheduler``.
    A Dask scheduler is reached before the results folder is touched, so an
    unreachable one leaves nothing behind. Whatever stops a sweep (an error,
    Ctrl-C, a full disk), the session is recorded as interrupted, with the
    error, and the stored runs stay: running it again resumes.
    """
    from .store import ResultsStore, stored_run_ids

    plan = plan if plan is not None else plan_runs(exp, max_runs)
    design = build_design(exp) if exp.design in ("sobol", "morris") else None
    with contextlib.ExitStack() as stack:
        backend = "given executor" if executor is not None else "none needed (all runs stored)"
        if executor is None and scheduler is not None and not stored_run_ids(out) >= {s.run_id for s in plan}:
            executor, backend = stack.enter_context(make_executor(workers, scheduler))
        elif executor is None:
            backend = f"local processes ({_plural(workers)})"
        return _run_into_store(ResultsStore.open(out, exp, plan, design=design,
                                                 extra={"workers": workers, "scheduler": scheduler or "processes"}),
                               exp, plan, executor, backend, workers, batch_size, progress, model_factory)


def _run_into_store(store, exp: Experiment, plan: list[RunSpec], executor: Executor | None, backend: str,
                    workers: int, batch_size: int | None, progress: bool,
                    model_factory: Callable | None) -> SweepOutcome:
    """The part of ``run_experiment`` that runs with the store open (and locked)."""
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

    if not todo:
        backend = "none needed (all runs stored)"
    status, error = "interrupted", None
    try:
        if todo and executor is not None:
            execute(todo, executor, on_batch, workers, batch_size, model_factory)
        elif todo:
            execute_on_processes(todo, workers, on_batch, batch_size, model_factory)
        status = "complete"
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if bar is not None:
            bar.close()
        try:
            store.manifest["sessions"][-1]["backend"] = backend
            store.finish(status, counts["ran"], counts["failed"], error)
        finally:
            store.close()
    return SweepOutcome(path=str(store.path), planned=len(plan), skipped=len(plan) - len(todo),
                        ran=counts["ran"], failed=counts["failed"], backend=backend,
                        seconds=time.perf_counter() - clock)
