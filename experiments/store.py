"""The results store: a folder of Parquet tables and a manifest.

Layout of a results folder::

    manifest.json      provenance: versions, git commit, experiment file, root seed, times, host
    experiment.toml    the experiment file, as run (``ics-abm sweep`` it to run it again)
    design.parquet     the unrounded sample matrix (sobol and morris designs)
    runs/*.parquet     one row per finished run: run_id, status, seed, parameters, timings, error
    metrics/*.parquet  long form: run_id, month, one column per model-level metric
    agents/*.parquet   organisation-level snapshots, when the experiment asks for them
    ties/*.parquet     tie-level snapshots, when the experiment asks for them
    ics/*.parquet      per-ICS snapshots (one row per ICS), when the experiment asks for them

Writing is incremental and atomic: each finished batch becomes one part file
per table, each written to a temporary name and moved into place with
``os.replace``; the batch's ``runs`` part is written last and is what makes
the batch count. A kill at any moment loses at most the batches still
running. Reading ignores parts without their ``runs`` part; resuming deletes
them and runs the missing run_ids, so no run appears twice. Every file is
fsynced before its rename, so a power cut cannot leave a corrupt part either.
One sweep at a time writes into a folder: it holds an OS lock (``flock``) on
``.lock``, which the kernel releases if the sweep is killed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pandas as pd

FORMAT = "ics-abm results 1"
TABLES = ("metrics", "agents", "ties", "ics")
OPTIONAL = ("agents", "ties", "ics")   # stored when the experiment's [output] asks
DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "matplotlib", "networkx",
                "tqdm", "numba", "llvmlite", "dask", "distributed")


class StoreError(ValueError):
    """A folder that is not a results store, or belongs to another experiment."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut (not only a kill)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass   # some filesystems cannot fsync a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a written file to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` via ``write(temporary path)``, fsync it, then rename it into place.

    A kill or a full disk leaves either the old file or the new one, never a
    part-written one; the temporary file is removed if writing fails.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_json(path: Path, data: dict) -> None:
    _atomic_write_bytes(path, (json.dumps(data, indent=2, default=str) + "\n").encode())


def versions() -> dict[str, str]:
    """Versions of Python, ics-abm and its main dependencies."""
    out = {"python": platform.python_version()}
    for name in ("ics-abm", *DEPENDENCIES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state() -> dict[str, Any]:
    """The git commit of the code that ran (and whether it had local changes)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(dirty) if commit else None}


def plan_hash(plan) -> str:
    """A fingerprint of what the runs are: ids, seeds, parameters, schedules, tables."""
    digest = hashlib.sha256()
    for spec in plan:
        fields = [spec.row(), spec.agents, spec.ties, spec.every] + ([True] if getattr(spec, "ics", False) else [])
        digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
    return digest.hexdigest()


LOCK = ".lock"


def _acquire_lock(path: Path) -> int:
    """One sweep at a time writes into a results folder; returns the lock's file descriptor.

    The lock is an ``fcntl.flock`` on ``.lock``, not the file's existence: the
    kernel grants it to one process at a time and drops it when that process
    dies, so there is no window in which two processes both hold it and no
    stale lock after a kill. The file holds the holder's host and PID only to
    name it in the error.
    """
    lock = path / LOCK
    for _ in range(100):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            try:
                holder = lock.read_text().split()
            except OSError:
                holder = []
            who = f"process {holder[1]} on {holder[0]}" if len(holder) == 2 else "another process"
            raise StoreError(f"{path}: another sweep ({who}) is writing here; wait for it to finish") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same_file = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file:   # the previous holder removed the file as we opened it: lock the new one
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}".encode())
        return fd
    raise StoreError(f"{path}: cannot take the lock {lock}")


def _release_lock(path: Path, fd: int) -> None:
    """Remove the lock file while still holding the lock, then let go."""
    try:
        (path / LOCK).unlink(missing_ok=True)
    finally:
        os.close(fd)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b) or (a != a and b != b)
        except (TypeError, ValueError):
            return False
    return a == b


def _extends(path: Path, manifest: dict, plan, exp) -> bool:
    """Is every stored run part of ``plan``, with the same seed, parameters and schedule?"""
    stored = manifest.get("experiment", {})
    if stored.get("design") in ("sobol", "morris"):
        return False   # their design matrix is one piece
    if exp is not None and (stored.get("tables") != ["runs", "metrics"] + [t for t in OPTIONAL if getattr(exp, t, False)]
                            or stored.get("every", 12) != exp.every or stored.get("design") != exp.design):
        return False
    committed = {p.name for p in (path / "runs").glob("*.parquet")} if (path / "runs").is_dir() else set()
    runs = read_table(path, "runs", committed=committed)
    if runs is None:
        return True
    planned = {spec.run_id: spec for spec in plan}
    for row in runs.drop_duplicates("run_id").to_dict("records"):
        spec = planned.get(row["run_id"])
        if spec is None:
            return False
        for key, value in spec.row().items():
            if key not in row or not _same(value, row[key]):
                return False
    return True


def _leftover_of_a_start(entry: Path, exp) -> bool:
    """What a sweep of ``exp`` killed before its manifest was written leaves.

    That is: the lock, temporary files, empty table folders, and the
    ``experiment.toml`` (and ``design.parquet`` beside it) written just before
    the manifest, recognised as this experiment's by their text. No run is
    stored before the manifest exists, so starting again over these loses nothing.
    """
    if entry.name == LOCK or (entry.name.startswith(".") and entry.name.endswith(".tmp")):
        return True
    if entry.name in ("runs", *TABLES):
        return entry.is_dir() and not any(entry.iterdir())
    if entry.name in ("experiment.toml", "design.parquet") and exp is not None:
        try:
            return (entry.parent / "experiment.toml").read_text(encoding="utf-8") == exp.text
        except (OSError, UnicodeDecodeError):
            return False
    return False


def read_manifest(path: Path) -> dict:
    """The manifest of the results folder ``path``, checked enough to be used.

    A manifest that is not JSON, or JSON of the wrong shape (``[]``, ``{}``),
    is a clear StoreError rather than a crash somewhere later.
    """
    manifest_path = Path(path) / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{manifest_path}: unreadable manifest ({exc}); restore it, or choose another "
                         "results folder") from None
    experiment = manifest.get("experiment") if isinstance(manifest, dict) else None
    if (not isinstance(experiment, dict) or not isinstance(manifest.get("sessions"), list)
            or not isinstance(experiment.get("n_runs"), int) or not isinstance(experiment.get("plan_hash"), str)):
        raise StoreError(f"{manifest_path}: damaged manifest (not an ics-abm manifest: needs 'experiment' with "
                         "'n_runs' and 'plan_hash', and 'sessions'); restore it, or choose another results folder")
    return manifest


class ResultsStore:
    """A results folder open for writing batches of runs."""

    def __init__(self, path: Path, manifest: dict, lock_fd: int | None = None):
        self.path = Path(path)
        self.manifest = manifest
        self._lock_fd = lock_fd

    # ------------------------------------------------------------------ opening
    @classmethod
    def check_target(cls, path: str | Path, plan, exp=None) -> tuple[dict | None, bool]:
        """Check that ``path`` is empty, absent, or holds this same experiment.

        Returns (the existing manifest or None, whether the plan extends it).
        A plan extends a store when every stored run is in the plan with the
        same seed, parameters and schedule (e.g. more replicates, or factor
        values added at the end). Writes nothing.
        """
        path = Path(path)
        for folder in (path, *path.parents):
            if folder.exists():
                if not folder.is_dir():
                    raise StoreError(f"{path}: {folder} is a file, not a folder; choose another --out")
                break
        if (path / "manifest.json").exists():
            manifest = read_manifest(path)
            if manifest["experiment"]["plan_hash"] == plan_hash(plan):
                return manifest, False
            if _extends(path, manifest, plan, exp):
                return manifest, True
            raise StoreError(
                f"{path}: holds results of a different experiment "
                f"({manifest['experiment'].get('name')!r}: other parameters, seeds, schedule or design; "
                "more replicates or factor values added at the end would be fine); "
                "choose another --out, or delete that folder yourself")
        if path.is_dir() and any(not _leftover_of_a_start(p, exp) for p in path.iterdir()):
            raise StoreError(f"{path}: folder is not empty and holds no ics-abm results; choose another --out")
        return None, False

    @classmethod
    def open(cls, path: str | Path, exp, plan, extra: dict | None = None, design=None) -> "ResultsStore":
        """Create the store for ``exp`` (or reopen it to resume or extend)."""
        path = Path(path)
        fingerprint = plan_hash(plan)
        cls.check_target(path, plan, exp)
        path.mkdir(parents=True, exist_ok=True)
        lock_fd = _acquire_lock(path)
        try:
            manifest, extends = cls.check_target(path, plan, exp)   # again, now that no one else writes here
            store = cls(path, manifest or {}, lock_fd)
            store._start(exp, plan, manifest, fingerprint, extra, design)
            if extends:
                store._extend(exp, plan, fingerprint)
        except BaseException:
            _release_lock(path, lock_fd)
            raise
        return store

    def _extend(self, exp, plan, fingerprint: str) -> None:
        """Record that this session extends the stored experiment."""
        old = self.manifest["experiment"]
        old.setdefault("history", []).append(
            {"plan_hash": old["plan_hash"], "n_runs": old["n_runs"], "text": old["text"], "until": now()})
        old.update(name=exp.name, description=exp.description, file=exp.source, text=exp.text,
                   replicates=exp.replicates, n_runs=len(plan), plan_hash=fingerprint,
                   factors=list(exp.factors) + (["schedule"] if exp.schedule_is_factor else []),
                   categorical=exp.categorical)
        self.manifest["sessions"][-1]["extended_from_runs"] = old["history"][-1]["n_runs"]
        _atomic_write_bytes(self.path / "experiment.toml", exp.text.encode())
        self.save_manifest()

    def _start(self, exp, plan, manifest, fingerprint, extra, design) -> None:
        path, store = self.path, self
        for sub in ("runs", "metrics", *(t for t in OPTIONAL if getattr(exp, t, False))):
            (path / sub).mkdir(parents=True, exist_ok=True)
        store.discard_unfinished()
        git = git_state()
        session = {"started_at": now(), "ended_at": None, "host": socket.gethostname(),
                   "git_commit": git["commit"], "ics_abm": versions()["ics-abm"], "status": "running", **(extra or {})}
        if manifest is not None and manifest.get("git", {}).get("commit") != git["commit"]:
            warnings.warn(f"{path}: resuming with code at git commit {git['commit']}, but the stored runs were "
                          f"started at {manifest.get('git', {}).get('commit')}; each session's commit is in the "
                          "manifest", UserWarning, stacklevel=2)
        if manifest is None:
            store.manifest = {
                "format": FORMAT,
                "experiment": {
                    "name": exp.name, "description": exp.description, "file": exp.source,
                    "text": exp.text, "design": exp.design, "months": exp.months,
                    "replicates": exp.replicates, "root_seed": exp.seed, "samples": exp.samples,
                    "factors": list(exp.factors) + (["schedule"] if exp.schedule_is_factor else []),
                    "categorical": exp.categorical, "n_runs": len(plan), "plan_hash": fingerprint,
                    "tables": ["runs", "metrics"] + [t for t in OPTIONAL if getattr(exp, t, False)],
                    "every": exp.every,
                },
                "rerun": {
                    "all": f"ics-abm sweep {shlex.quote(str(path / 'experiment.toml'))} --out {shlex.quote(str(path))}",
                    "one": f"ics-abm rerun {shlex.quote(str(path))} RUN_ID",
                },
                "versions": versions(),
                "git": git,
                "host": socket.gethostname(),
                "platform": platform.platform(),
                "started_at": session["started_at"],
                "ended_at": None,
                "status": "running",
                "sessions": [],
            }
            # experiment.toml first: a start killed before the manifest lands is recognised by it
            _atomic_write_bytes(path / "experiment.toml", exp.text.encode())
            if design is not None and design.problem is not None:
                store.manifest["experiment"]["problem"] = design.problem
                matrix = pd.DataFrame(design.matrix, columns=design.problem["names"])
                matrix.insert(0, "point", range(len(matrix)))
                _atomic_write_parquet(path / "design.parquet", matrix)
        for earlier in store.manifest["sessions"]:
            if earlier.get("status") == "running":   # we hold the lock, so that session was killed
                earlier["status"] = "interrupted"
                earlier["note"] = "ended without recording its end (killed, or the machine stopped)"
        store.manifest["sessions"].append(session)
        store.manifest["status"] = "running"
        store.save_manifest()

    def close(self) -> None:
        """Let other sweeps write here again."""
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            _release_lock(self.path, fd)

    def discard_unfinished(self) -> None:
        """Delete temporary files and parts of batches whose runs part never landed."""
        committed = {p.name for p in (self.path / "runs").glob("*.parquet")}
        for sub in ("runs", *TABLES):
            if not (self.path / sub).is_dir():
                continue
            for part in (self.path / sub).glob(".*.tmp"):
                part.unlink(missing_ok=True)
            if sub != "runs":
                for part in (self.path / sub).glob("*.parquet"):
                    if part.name not in committed:
                        part.unlink(missing_ok=True)
        for tmp in self.path.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------------ writing
    def completed(self) -> set[str]:
        """run_ids already stored (finished or failed)."""
        return stored_run_ids(self.path)

    def write_batch(self, specs_by_id: dict, results: list[dict]) -> None:
        """Store one finished batch: table parts first, the runs part last."""
        name = f"batch-{uuid.uuid4().hex}.parquet"
        rows = []
        for res in results:
            row = specs_by_id[res["run_id"]].row()
            row.update(status=res["status"], started_at=res["started_at"], elapsed_s=res["elapsed_s"],
                       worker=res["worker"], error=res["error"])
            rows.append(row)
        import pyarrow.parquet as pq

        from .schema import to_arrow

        # Every part is written under a hidden temporary name first and only then
        # renamed into place, the runs part last: a reader globbing
        # metrics/*.parquet (duckdb, polars, pyarrow.dataset) sees a batch's
        # metrics only once they are complete and, a few renames later, committed.
        parts = []
        for table in TABLES:
            frames = [res[table] for res in results if res.get(table) is not None]
            if frames:
                parts.append((self.path / table / name, pd.concat(frames, ignore_index=True)))
        parts.append((self.path / "runs" / name, pd.DataFrame(rows)))
        staged = []
        try:
            for final, frame in parts:
                tmp = final.with_name(f".{final.name}.tmp")
                staged.append((tmp, final))
                pq.write_table(to_arrow(frame), tmp)   # units and descriptions in the file (experiments.schema)
                fsync_file(tmp)                        # on disk before it is renamed (a power cut)
        except BaseException:                          # a full disk, a kill: no half-written part stays
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        for tmp, final in staged:
            os.replace(tmp, final)
        for folder in dict.fromkeys(final.parent for _, final in staged):
            fsync_dir(folder)

    def save_manifest(self) -> None:
        write_json(self.path / "manifest.json", self.manifest)

    def finish(self, status: str, runs_done: int, runs_failed: int, error: str | None = None) -> None:
        """Record the end of this session (and what stopped it, if anything) in the manifest."""
        session = self.manifest["sessions"][-1]
        session.update(ended_at=now(), status=status, runs_run=runs_done, runs_failed=runs_failed)
        if error:
            session["error"] = error
        stored = len(self.completed())
        self.manifest["runs_stored"] = stored
        if status == "complete" and stored >= self.manifest["experiment"]["n_runs"]:
            self.manifest["ended_at"] = session["ended_at"]
            self.manifest["status"] = "complete"
        else:
            self.manifest["status"] = status
        self.save_manifest()


# ---------------------------------------------------------------------- reading
def stored_run_ids(path: str | Path) -> set[str]:
    """run_ids stored in the results folder ``path`` (finished or failed); empty if it holds no results."""
    if not (Path(path) / "manifest.json").is_file():
        return set()
    runs = read_table(Path(path), "runs", columns=["run_id"])
    return set(runs["run_id"]) if runs is not None else set()


def read_table(path: Path, table: str, columns: list[str] | None = None,
               committed: set[str] | None = None) -> pd.DataFrame | None:
    """Concatenate one table's parts (only those of committed batches)."""
    folder = Path(path) / table
    if not folder.is_dir():
        return None
    parts = sorted(p for p in folder.glob("*.parquet") if committed is None or p.name in committed)
    if not parts:
        return None
    return pd.concat([_read_part(p, columns) for p in parts], ignore_index=True)


def _read_part(part: Path, columns: list[str] | None) -> pd.DataFrame:
    """One Parquet part; a damaged one (truncated, not Parquet) is a clear StoreError naming it."""
    try:
        return pd.read_parquet(part, columns=columns)
    except (OSError, ValueError) as exc:   # pyarrow's ArrowInvalid is a ValueError
        raise StoreError(f"{part}: damaged Parquet part ({str(exc).splitlines()[0][:200]}); move it out of the "
                         "folder, then run the same sweep again to redo its runs") from None


@dataclass
class Results:
    """A loaded results store: ``runs``, ``metrics``, ``manifest`` (and ``agents``, ``ties``, ``ics``)."""

    path: Path
    manifest: dict
    runs: pd.DataFrame
    metrics: pd.DataFrame
    agents: pd.DataFrame | None = None
    ties: pd.DataFrame | None = None
    ics: pd.DataFrame | None = None

    @property
    def ok(self) -> pd.DataFrame:
        """The runs that finished."""
        return self.runs[self.runs["status"] == "ok"]

    @property
    def failed(self) -> pd.DataFrame:
        """The runs that raised, with their tracebacks in ``error``."""
        return self.runs[self.runs["status"] == "failed"]

    @property
    def factors(self) -> list[str]:
        return list(self.manifest.get("experiment", {}).get("factors", []))

    @property
    def design(self) -> pd.DataFrame | None:
        file = self.path / "design.parquet"
        return pd.read_parquet(file) if file.exists() else None


def load(path: str | Path) -> Results:
    """Load a results folder written by ``ics-abm compare`` or ``ics-abm sweep``."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise StoreError(f"{path}: not an ics-abm results folder (no manifest.json)")
    manifest = read_manifest(path)
    committed = {p.name for p in (path / "runs").glob("*.parquet")} if (path / "runs").is_dir() else set()
    runs = read_table(path, "runs", committed=committed)
    if runs is None:
        runs = pd.DataFrame(columns=["run_id", "point", "replicate", "status", "seed", "error"])
    runs = (runs.drop_duplicates("run_id", keep="first")
                .sort_values(["point", "replicate"], kind="stable").reset_index(drop=True))
    tables = {}
    for table in TABLES:
        frame = read_table(path, table, committed=committed)
        if frame is not None:
            keys = ["run_id", "month"] + (["AgentID"] if table == "agents" else [])
            keys += ["source", "target"] if table == "ties" else []
            keys += ["system"] if table == "ics" else []
            frame = frame.drop_duplicates(keys, keep="first")
            order = {rid: i for i, rid in enumerate(runs["run_id"])}
            frame = (frame.assign(_order=frame["run_id"].map(order))
                          .sort_values(["_order", *keys[1:]], kind="stable")
                          .drop(columns="_order").reset_index(drop=True))
        tables[table] = frame
    metrics = tables["metrics"]
    if metrics is None:
        metrics = pd.DataFrame(columns=["run_id", "month"])
    return Results(path=path, manifest=manifest, runs=runs, metrics=metrics,
                   agents=tables["agents"], ties=tables["ties"], ics=tables["ics"])
