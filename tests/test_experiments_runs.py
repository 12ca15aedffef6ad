"""Running experiments: the store, backends, failed runs, kill-and-resume, rerun."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments
from abm import MODEL_METRICS, PARAMETERS
from experiments.cli import main
from experiments.runner import build_model, plan_runs, run_experiment
from experiments.spec import parse_experiment
from experiments.store import ResultsStore, StoreError

# A small ICS keeps runs short: 1 ICS with few VCSE bodies and PCNs.
SMALL = "[parameters]\nn_vcse = 2\nn_primary_care = 4\n"
TIMING = ["started_at", "elapsed_s", "worker"]


def tiny(months=12, replicates=2, factors='regime = ["top_down", "permissive"]', extra="", seed=5):
    text = (f'[experiment]\nname = "tiny"\nmonths = {months}\nreplicates = {replicates}\nseed = {seed}\n'
            f'design = "full_factorial"\n{SMALL}[factors]\n{factors}\n{extra}')
    return parse_experiment(text, source="tiny.toml")


def comparable(results):
    runs = results.runs.drop(columns=TIMING).reset_index(drop=True)
    return runs, results.metrics.reset_index(drop=True)


def assert_same_results(a, b):
    ra, ma = comparable(a)
    rb, mb = comparable(b)
    pd.testing.assert_frame_equal(ra, rb, check_exact=True)
    pd.testing.assert_frame_equal(ma, mb, check_exact=True)


# ---------------------------------------------------------------- the store
@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small sweep with agent and tie tables, run in-process on threads."""
    exp = tiny(months=12, replicates=2, extra="[[schedule]]\nmonth = 6\nevent = \"demand_shock\"\nsize = 0.4\n"
                                              "[output]\nagents = true\nties = true\nevery = 6\n")
    out = tmp_path_factory.mktemp("stored") / "out"
    with ThreadPoolExecutor(2) as pool:
        outcome = run_experiment(exp, out, executor=pool, progress=False)
    return exp, out, outcome


def test_store_tables_and_manifest(stored):
    exp, out, outcome = stored
    assert (outcome.planned, outcome.ran, outcome.skipped, outcome.failed) == (4, 4, 0, 0)
    res = experiments.load(out)
    runs, metrics = res.runs, res.metrics
    assert list(runs["run_id"]) == ["p0000-r000", "p0000-r001", "p0001-r000", "p0001-r001"]
    assert set(runs["status"]) == {"ok"}
    for column in ["run_id", "status", "seed", "elapsed_s", "started_at", "error", "regime", "oversight_intensity",
                   "n_vcse", "trust_build_rate"]:
        assert column in runs.columns
    # the preset's knob values are recorded, not left empty
    assert runs.loc[runs["regime"] == "top_down", "oversight_intensity"].iloc[0] == 0.8
    assert runs["n_vcse"].eq(2).all()
    # long form: one row per run and month 0..12, one column per model-level metric
    assert list(metrics.columns) == ["run_id", "month", *MODEL_METRICS]
    assert len(metrics) == 4 * 13
    assert not metrics.duplicated(["run_id", "month"]).any()
    # agent and tie snapshots at months 0, 6, 12
    assert set(res.agents["month"]) == {0, 6, 12} and set(res.ties["month"]) == {0, 6, 12}
    assert {"run_id", "AgentID", "turf", "trust_given"} <= set(res.agents.columns)
    assert {"run_id", "source", "target", "trust", "level"} <= set(res.ties.columns)
    m = res.manifest
    assert m["status"] == "complete" and m["experiment"]["root_seed"] == 5
    assert m["experiment"]["text"] == exp.text
    assert (out / "experiment.toml").read_text() == exp.text
    assert {"python", "ics-abm", "mesa", "numpy", "pandas", "pyarrow"} <= set(m["versions"])
    assert "commit" in m["git"] and m["host"] and m["started_at"] <= m["ended_at"]


def test_stored_metrics_equal_a_direct_model_run(stored):
    """The store holds exactly what the model produces for that seed and schedule."""
    _, out, _ = stored
    res = experiments.load(out)
    row = res.runs.iloc[1]
    params = {name: row[name] for name in res.runs.columns if name in PARAMETERS}
    model = build_model({k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}, int(row["seed"]))
    model.schedule_structural_event(6, "demand_shock", size=0.4)
    model.run_for(12)
    direct = model.datacollector.get_model_vars_dataframe().rename_axis("month").reset_index()
    stored_run = res.metrics[res.metrics["run_id"] == row["run_id"]].drop(columns="run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored_run, direct, check_exact=True)


def test_other_experiment_in_folder_is_refused(stored):
    _, out, _ = stored
    for other in (tiny(months=12, replicates=2, factors='regime = ["top_down", "hands_off"]'),
                  tiny(months=13, replicates=2), tiny(months=12, replicates=2, seed=6)):
        with pytest.raises(StoreError, match="different experiment"):
            ResultsStore.check_target(out, plan_runs(other), other)
    same = tiny(months=12, replicates=2, extra="[[schedule]]\nmonth = 6\nevent = \"demand_shock\"\nsize = 0.4\n"
                                              "[output]\nagents = true\nties = true\nevery = 6\n")
    assert ResultsStore.check_target(out, plan_runs(same), same)[1] is False   # same plan: resume


def test_more_replicates_extend_a_stored_experiment(tmp_path):
    """Seeds of existing replicates do not change, so a store can grow: nothing reruns, nothing is lost."""
    out, ref = tmp_path / "out", tmp_path / "ref"
    with ThreadPoolExecutor(2) as pool:
        run_experiment(tiny(months=6, replicates=2), out, executor=pool, progress=False)
        first = experiments.load(out)
        bigger = tiny(months=6, replicates=3, factors='regime = ["top_down", "permissive", "hands_off"]')
        assert ResultsStore.check_target(out, plan_runs(bigger), bigger)[1] is True
        outcome = run_experiment(bigger, out, executor=pool, progress=False)
        run_experiment(bigger, ref, executor=pool, progress=False)
    assert (outcome.skipped, outcome.ran) == (4, 5)
    grown = experiments.load(out)
    assert_same_results(grown, experiments.load(ref))
    kept = grown.runs.set_index("run_id").loc[first.runs["run_id"], "started_at"]
    assert list(kept) == list(first.runs["started_at"])          # the stored runs were not run again
    m = grown.manifest
    assert m["experiment"]["n_runs"] == 9 and m["experiment"]["history"][0]["n_runs"] == 4
    assert (out / "experiment.toml").read_text() == bigger.text


def test_unfinished_batch_parts_are_ignored_and_cleaned(tmp_path):
    """A kill between a batch's table parts and its runs part: that batch does not count."""
    exp = tiny(months=6, replicates=2)
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        run_experiment(exp, out, executor=pool, progress=False, batch_size=1)
    res = experiments.load(out)
    # forge the leftovers of a killed batch: a metrics part without its runs part, and temp files
    orphan = res.metrics[res.metrics["run_id"] == "p0000-r000"].copy()
    orphan.to_parquet(out / "metrics" / "batch-orphan.parquet", index=False)
    (out / "runs" / ".batch-x.parquet.tmp").write_bytes(b"half a file")
    again = experiments.load(out)
    pd.testing.assert_frame_equal(again.metrics, res.metrics)
    # drop one finished batch: resuming must run exactly that run again
    victim = next(p for p in (out / "runs").glob("batch-*.parquet")
                  if pd.read_parquet(p)["run_id"].iloc[0] == "p0001-r001")
    victim.unlink()
    with ThreadPoolExecutor(1) as pool:
        outcome = run_experiment(exp, out, executor=pool, progress=False, batch_size=1)
    assert (outcome.skipped, outcome.ran) == (3, 1)
    assert not (out / "metrics" / "batch-orphan.parquet").exists()
    assert not list((out / "runs").glob(".*.tmp"))
    final = experiments.load(out)
    assert len(final.runs) == 4 and len(final.metrics) == 4 * 7
    assert not final.metrics.duplicated(["run_id", "month"]).any()
    pd.testing.assert_frame_equal(final.metrics, res.metrics, check_exact=True)


def test_one_sweep_at_a_time_writes_into_a_folder(tmp_path):
    exp = tiny(months=4, replicates=1)
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(   # a live sweep holds the lock
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from experiments.store import "
         "_acquire_lock; _acquire_lock(Path(sys.argv[1])); print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match=f"another sweep \\(process {holder.pid}"):
            run_experiment(exp, out, workers=1, progress=False)
        assert sorted(p.name for p in out.iterdir()) == [".lock"]             # nothing written
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone (killed): the kernel dropped its lock and the next sweep takes over
    with ThreadPoolExecutor(1) as pool:
        outcome = run_experiment(exp, out, executor=pool, progress=False)
    assert outcome.ran == 2 and not (out / ".lock").exists()


# ---------------------------------------------------------------- failed runs
def failing_factory(params, seed, collect_agents=False):
    """Test hook: a run with oversight_intensity 0.9 raises, as a model bug would."""
    if params["oversight_intensity"] == 0.9:
        raise ZeroDivisionError("test: this run raises")
    return build_model(params, seed, collect_agents)


def test_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    exp = tiny(months=6, replicates=2, factors="oversight_intensity = [0.3, 0.9, 0.5]")
    out = tmp_path / "out"
    outcome = run_experiment(exp, out, workers=2, progress=False, batch_size=1, model_factory=failing_factory)
    assert (outcome.ran, outcome.failed) == (6, 2)
    res = experiments.load(out)
    failed = res.failed
    assert list(failed["run_id"]) == ["p0001-r000", "p0001-r001"]
    assert all("ZeroDivisionError: test: this run raises" in e and "Traceback" in e for e in failed["error"])
    assert set(res.ok["oversight_intensity"]) == {0.3, 0.5}
    assert set(res.metrics["run_id"]) == set(res.ok["run_id"])
    # a rerun of the command skips the failed runs too: no run appears twice
    again = run_experiment(exp, out, workers=1, progress=False, model_factory=failing_factory)
    assert (again.skipped, again.ran) == (6, 0)
    assert len(experiments.load(out).runs) == 6


# ---------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_identical_results_with_1_worker_2_workers_and_dask(tmp_path, dask_cluster):
    exp = tiny(months=12, replicates=3, factors='regime = ["top_down", "permissive", "earned_autonomy"]')
    one = tmp_path / "one"
    two = tmp_path / "two"
    dask = tmp_path / "dask"
    run_experiment(exp, one, workers=1, progress=False)
    run_experiment(exp, two, workers=2, progress=False, batch_size=1)
    outcome = run_experiment(exp, dask, executor=dask_cluster.get_executor(), progress=False, batch_size=2)
    assert outcome.ran == 9
    a, b, c = experiments.load(one), experiments.load(two), experiments.load(dask)
    assert_same_results(a, b)
    assert_same_results(a, c)
    # the work really was spread: two process ids in the 2-worker run, Dask workers' pids in the third
    assert b.runs["worker"].nunique() == 2
    assert os.getpid() not in {int(w.split(":")[1]) for w in c.runs["worker"]}


def test_cli_sweep_on_a_dask_scheduler_address(tmp_path, dask_cluster, capsys):
    path = tmp_path / "exp.toml"
    path.write_text(tiny(months=6, replicates=2).text)
    out = tmp_path / "out"
    address = dask_cluster.scheduler.address
    assert main(["sweep", str(path), "--out", str(out), "--scheduler", address, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert f"Dask scheduler {address}" in captured.out
    res = experiments.load(out)
    assert len(res.ok) == 4 and res.manifest["sessions"][-1]["scheduler"] == address


def test_scheduler_local_starts_its_own_dask_cluster(tmp_path):
    pytest.importorskip("distributed")
    exp = tiny(months=6, replicates=2)
    outcome = run_experiment(exp, tmp_path / "out", workers=1, scheduler="local", progress=False)
    assert outcome.backend == "local Dask cluster (1 worker)" and outcome.ran == 4
    with ThreadPoolExecutor(1) as pool:
        run_experiment(exp, tmp_path / "ref", executor=pool, progress=False)
    assert_same_results(experiments.load(tmp_path / "out"), experiments.load(tmp_path / "ref"))


# ---------------------------------------------------------------- kill and resume
def _stored_runs(out: Path) -> int:
    return sum(len(pd.read_parquet(p)) for p in (out / "runs").glob("batch-*.parquet"))


# A sweep long enough (a few seconds of runs on one worker) that a kill sent once a few runs
# are stored lands mid-sweep even when the test process is starved of CPU for a while.
LONG_SWEEP = dict(months=96, replicates=20, factors='regime = ["top_down", "permissive", "hands_off"]')


def test_sigkill_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path):
    exp = tiny(**LONG_SWEEP)
    path = tmp_path / "exp.toml"
    path.write_text(exp.text)
    total = 60
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    command = [sys.executable, "-m", "experiments.cli", "sweep", str(path), "--workers", "1",
               "--batch-size", "1", "--no-progress"]
    proc = subprocess.Popen(command + ["--out", str(killed)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if (killed / "runs").is_dir() and _stored_runs(killed) >= 4:
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, at once
    finally:
        proc.wait(timeout=30)
    before = _stored_runs(killed)
    assert 4 <= before < total, f"the kill should land mid-sweep ({before} of {total} stored)"
    assert json.loads((killed / "manifest.json").read_text())["status"] == "running"

    resumed = subprocess.run(command + ["--out", str(killed)], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{before} runs were already stored and were skipped" in resumed.stderr
    with ThreadPoolExecutor(2) as pool:
        run_experiment(exp, clean, executor=pool, progress=False)

    after, reference = experiments.load(killed), experiments.load(clean)
    assert len(after.runs) == total and after.runs["run_id"].is_unique
    assert not after.metrics.duplicated(["run_id", "month"]).any()
    assert len(list((killed / "runs").glob("batch-*.parquet"))) == total   # every batch written once
    assert after.manifest["status"] == "complete" and len(after.manifest["sessions"]) == 2
    assert_same_results(after, reference)


def _default_ctrl_c() -> None:
    """In the child, before exec: Ctrl-C does what it does at a terminal. A test run started as a
    background job of a non-interactive shell (``pytest &`` in a script) inherits SIGINT ignored,
    and an ignored signal stays ignored across exec, so the sweep would never see the Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    total = 60
    exp = tiny(**LONG_SWEEP)
    path = tmp_path / "exp.toml"
    path.write_text(exp.text)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "sweep", str(path), "--out", str(out),
                             "--workers", "1", "--batch-size", "1", "--no-progress"],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_ctrl_c)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "runs").is_dir() and _stored_runs(out) >= 2:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C reaches the whole foreground group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    res = experiments.load(out)
    assert 2 <= len(res.runs) < total
    assert f"interrupted: {len(res.runs)} of {total} runs are stored in {out}; run the same command again" in err
    assert res.manifest["status"] == "interrupted" and res.manifest["sessions"][-1]["ended_at"]
    assert "Traceback" not in err


# ---------------------------------------------------------------- rerun
def test_rerun_reproduces_a_stored_run_and_detects_a_changed_one(stored, capsys, tmp_path):
    _, out, _ = stored
    assert main(["rerun", str(out), "p0001-r001"]) == 0
    from abm.metrics import MODEL_METRICS

    assert f"MATCH: all {len(MODEL_METRICS)} metrics in all 13 months" in capsys.readouterr().out
    # tamper with one stored value: the rerun must notice
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    part = next(p for p in (copy / "metrics").glob("*.parquet")
                if "p0001-r001" in set(pd.read_parquet(p)["run_id"]))
    frame = pd.read_parquet(part)
    frame.loc[(frame["run_id"] == "p0001-r001") & (frame["month"] == 9), "trust_mean"] += 1e-9
    frame.to_parquet(part, index=False)
    assert main(["rerun", str(copy), "p0001-r001"]) == 1
    text = capsys.readouterr().out
    assert "MISMATCH" in text and "trust_mean: first differs in month 9" in text
    assert main(["rerun", str(out), "p9999-r001"]) == 2
    assert "no run 'p9999-r001'" in capsys.readouterr().err


def test_rerun_of_a_failed_run_fails_the_same_way(tmp_path, capsys, monkeypatch):
    exp = tiny(months=4, replicates=1, factors="oversight_intensity = [0.9]")
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        run_experiment(exp, out, executor=pool, progress=False, model_factory=failing_factory)
    import experiments.runner as runner

    monkeypatch.setattr(runner, "build_model", _raising_build_model)  # the model bug is still there
    assert main(["rerun", str(out), "p0000-r000"]) == 0
    assert "MATCH: the run fails the same way" in capsys.readouterr().out


_real_build_model = build_model


def _raising_build_model(params, seed, collect_agents=False):
    if params["oversight_intensity"] == 0.9:
        raise ZeroDivisionError("test: this run raises")
    return _real_build_model(params, seed, collect_agents)


def test_results_do_not_depend_on_the_order_batches_finish(tmp_path):
    """Whatever order runs finish in, load() gives them in plan order."""
    exp = tiny(months=4, replicates=3)
    out = tmp_path / "out"
    with ThreadPoolExecutor(3) as pool:
        run_experiment(exp, out, executor=pool, progress=False, batch_size=1)
    res = experiments.load(out)
    assert list(res.runs["run_id"]) == [s.run_id for s in plan_runs(exp)]
    months = res.metrics.groupby("run_id", sort=False)["month"].apply(list)
    assert list(months.index) == list(res.runs["run_id"])
    assert all(m == list(range(5)) for m in months)
    assert np.isfinite(res.metrics[list(MODEL_METRICS)].to_numpy(dtype=float)).all()
