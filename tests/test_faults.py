"""Sweeps and the results store under faults and hostile input (issue 8).

Each test reproduces one case a tester found: a kill at a bad moment, a race,
a full or read-only disk, a dead worker, a damaged file, or input that used to
give a traceback. The rule checked throughout: a one-line error (exit 2) or a
clean recovery, the store left resumable, nothing already stored lost.
"""

import errno
import html
import json
import os
import shlex
import shutil
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
from abm import ICSModel
from experiments.cli import main
from experiments.report import write_report
from experiments.runner import build_model, plan_runs, run_experiment
from experiments.spec import ExperimentError, parse_experiment
from experiments.store import ResultsStore, StoreError, _acquire_lock, _release_lock

SMALL = "[parameters]\nn_vcse = 2\nn_primary_care = 4\n"


def tiny_text(name="tiny", months=4, replicates=2, factors='regime = ["top_down", "permissive"]', extra=""):
    return (f'[experiment]\nname = "{name}"\nmonths = {months}\nreplicates = {replicates}\nseed = 5\n'
            f'design = "full_factorial"\n{SMALL}[factors]\n{factors}\n{extra}')


def tiny(**kw):
    return parse_experiment(tiny_text(**kw), source="tiny.toml")


def sweep_file(tmp_path, **kw) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(tiny_text(**kw))
    return path


def one_line_error(err: str, *words: str) -> None:
    """What bad input must give: one `ics-abm: error:` line naming the problem, no traceback."""
    lines = [line for line in err.splitlines() if line.startswith("ics-abm: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A finished tiny sweep (4 runs, one batch each), run in-process on threads."""
    out = tmp_path_factory.mktemp("stored") / "out"
    with ThreadPoolExecutor(1) as pool:
        run_experiment(tiny(), out, executor=pool, progress=False, batch_size=1)
    return out


@pytest.fixture
def copy(stored, tmp_path):
    target = tmp_path / "a copy"
    shutil.copytree(stored, target)
    return target


# ---------------------------------------------------------------- 1. a kill during first start
class Killed(BaseException):
    """Stands in for SIGKILL at a chosen line (nothing after it runs)."""


def test_kill_between_experiment_file_and_manifest_then_the_same_command_resumes(tmp_path, monkeypatch):
    exp, out = tiny(), tmp_path / "out"

    def die(self):
        raise Killed

    monkeypatch.setattr(ResultsStore, "save_manifest", die)
    with pytest.raises(Killed):
        run_experiment(exp, out, workers=1, progress=False)
    assert (out / "experiment.toml").exists() and not (out / "manifest.json").exists()
    monkeypatch.undo()
    # another experiment may not take the folder over ...
    with pytest.raises(StoreError, match="not empty"):
        ResultsStore.check_target(out, plan_runs(tiny(months=5)), tiny(months=5))
    # ... but the same one starts again over its own leftovers
    with ThreadPoolExecutor(1) as pool:
        outcome = run_experiment(exp, out, executor=pool, progress=False)
    assert outcome.ran == 4 and experiments.load(out).manifest["status"] == "complete"


# ---------------------------------------------------------------- 2. the folder lock
CONTEND = """
import multiprocessing, os, sys, time
from pathlib import Path
from experiments.store import StoreError, _acquire_lock, _release_lock

folder, marker = Path(sys.argv[1]), Path(sys.argv[1]) / "held"
context = multiprocessing.get_context("fork")   # one import of the store, then 8 processes
barrier = context.Barrier(8)


def contend(w):
    taken = overlaps = 0
    for _ in range(100):
        barrier.wait()   # all 8 reach for the lock at the same moment, every round
        try:
            fd = _acquire_lock(folder)
        except StoreError:
            continue
        taken += 1
        try:   # while we hold the lock no one else may: a marker only one holder can create
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            overlaps += 1
        else:
            time.sleep(0.001)
            os.unlink(marker)
        _release_lock(folder, fd)
    os.write(w, f"{taken} {overlaps}".encode())


pipes = []
for _ in range(8):
    r, w = os.pipe()
    context.Process(target=contend, args=(w,)).start()
    pipes.append(r)
for child in multiprocessing.active_children():
    child.join()
print(" ".join(os.read(r, 100).decode() for r in pipes))
"""


def test_lock_holds_with_many_simultaneous_acquirers(tmp_path):
    """Eight processes reach for the lock at once, 100 times: never two holders."""
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", CONTEND, str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    numbers = list(map(int, done.stdout.split()))
    assert len(numbers) == 16, done.stderr
    taken, overlaps = sum(numbers[0::2]), sum(numbers[1::2])
    assert taken >= 100 and overlaps == 0


def test_lock_is_held_before_the_holder_has_written_its_pid(tmp_path):
    """The moment between creating the lock file and writing the PID into it is no gap."""
    fd = _acquire_lock(tmp_path)
    (tmp_path / ".lock").write_text("")   # as the file is just after its creation
    with pytest.raises(StoreError, match="another sweep"):
        _acquire_lock(tmp_path)
    _release_lock(tmp_path, fd)
    _release_lock(tmp_path, _acquire_lock(tmp_path))


def test_a_killed_lock_holder_does_not_block_the_next_sweep(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.run(   # takes the lock and dies without releasing it
        [sys.executable, "-c", "import os, signal, sys; from pathlib import Path; from experiments.store import "
         "_acquire_lock; _acquire_lock(Path(sys.argv[1])); os.kill(os.getpid(), signal.SIGKILL)", str(out)])
    assert holder.returncode == -signal.SIGKILL and (out / ".lock").exists()
    with ThreadPoolExecutor(1) as pool:
        assert run_experiment(tiny(), out, executor=pool, progress=False).ran == 4


# ---------------------------------------------------------------- 3. names and commands
@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "x; touch FILE #", ".hidden", "a b", ""])
def test_experiment_name_must_be_a_plain_file_name(name, tmp_path, monkeypatch, capsys):
    with pytest.raises(ExperimentError, match="experiment.name: got"):
        parse_experiment(tiny_text(name=name))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.toml").write_text(tiny_text(name=name))
    assert main(["sweep", "exp.toml", "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, "experiment.name", "letters, digits")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


def test_default_name_from_an_awkward_file_name_is_made_safe():
    assert parse_experiment("[experiment]\nmonths = 3\n", source="dir/my sweep (v2).toml").name == "my-sweep-v2"


def test_rerun_commands_are_shell_quoted(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("experiments.report.write_report", lambda path, metrics=None: Path(path) / "report.html")  # not needed here
    out = tmp_path / "my results" / "it's here"
    path = sweep_file(tmp_path, replicates=1)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    rerun = experiments.load(out).manifest["rerun"]
    assert shlex.split(rerun["all"]) == ["ics-abm", "sweep", str(out / "experiment.toml"), "--out", str(out)]
    assert shlex.split(rerun["one"]) == ["ics-abm", "rerun", str(out), "RUN_ID"]
    assert f"ics-abm rerun {shlex.quote(str(out))} p0000-r000" in printed
    assert f"--out {shlex.quote(str(out))}" in printed


# ---------------------------------------------------------------- 4. failures mid-sweep
def killing_factory(params, seed, collect_agents=False):
    """Test hook: the run with oversight_intensity 0.9 kills its worker process, every time."""
    if params["oversight_intensity"] == 0.9:
        os.kill(os.getpid(), signal.SIGKILL)
    return build_model(params, seed, collect_agents)


def test_a_run_that_kills_its_worker_is_recorded_failed_and_the_sweep_goes_on(tmp_path):
    exp = tiny(factors="oversight_intensity = [0.3, 0.9, 0.5]", replicates=2)
    out = tmp_path / "out"
    outcome = run_experiment(exp, out, workers=2, batch_size=2, progress=False, model_factory=killing_factory)
    assert (outcome.ran, outcome.failed) == (6, 2)
    res = experiments.load(out)
    assert res.manifest["status"] == "complete" and res.runs["run_id"].is_unique
    assert list(res.failed["run_id"]) == ["p0001-r000", "p0001-r001"]
    assert all("worker process" in e and "twice" in e for e in res.failed["error"])
    assert set(res.ok["oversight_intensity"]) == {0.3, 0.5}
    assert set(res.metrics["run_id"]) == set(res.ok["run_id"])


def test_disk_full_stops_with_one_line_and_the_store_resumes(tmp_path, monkeypatch, capsys):
    path, out = sweep_file(tmp_path, replicates=3), tmp_path / "out"
    import pyarrow.parquet as pq

    real = pq.write_table
    written = []

    def fills_up(table, target, *args, **kwargs):
        if len(written) >= 4:   # two batches (metrics + runs part each) fit, then the disk is full
            Path(target).write_bytes(b"PAR1 half")
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        written.append(target)
        return real(table, target, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", fills_up)
    command = ["sweep", str(path), "--out", str(out), "--workers", "1", "--batch-size", "1", "--no-progress"]
    assert main(command) == 2
    err = capsys.readouterr().err
    one_line_error(err, "No space left on device", "2 of 6 runs are stored", "run the same command again to resume")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and "No space left" in manifest["sessions"][-1]["error"]
    assert not [p for p in out.rglob("*.tmp")]   # no half-written part left behind
    monkeypatch.undo()
    assert main(command) == 0
    res = experiments.load(out)
    assert len(res.runs) == 6 and res.runs["run_id"].is_unique and res.manifest["status"] == "complete"


def test_out_under_a_file_or_on_a_read_only_disk_is_one_line(tmp_path, monkeypatch, capsys):
    path = sweep_file(tmp_path)
    (tmp_path / "afile").write_text("x")
    assert main(["sweep", str(path), "--out", str(tmp_path / "afile" / "sub"), "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, "afile is a file, not a folder")

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["sweep", str(path), "--out", str(tmp_path / "ro" / "out"), "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, "Read-only file system", "choose another --out")


def test_bogus_or_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    monkeypatch.setattr("experiments.runner.CONNECT_TIMEOUT_S", 1)
    path = sweep_file(tmp_path)
    for address in ("bogus", "tcp://127.0.0.1:9"):
        out = tmp_path / "out"
        assert main(["sweep", str(path), "--out", str(out), "--scheduler", address, "--no-progress"]) == 2
        one_line_error(capsys.readouterr().err, f"--scheduler {address!r}", "allowed: 'local'")
        assert not out.exists()


@pytest.mark.parametrize("damage", ["[]", "{}", '{"experiment": []}', "not json"])
def test_damaged_manifest_is_one_line_for_report_resume_and_rerun(damage, copy, capsys):
    (copy / "manifest.json").write_text(damage)
    for command in (["report", str(copy)], ["rerun", str(copy), "p0000-r000"],
                    ["sweep", str(copy / "experiment.toml"), "--out", str(copy), "--no-progress"]):
        assert main(command) == 2, command
        one_line_error(capsys.readouterr().err, "manifest")


def test_truncated_parquet_part_is_one_line_naming_it(copy, capsys):
    part = sorted((copy / "metrics").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:40])
    for command in (["report", str(copy)], ["rerun", str(copy), "p0000-r000"],
                    ["sweep", str(copy / "experiment.toml"), "--out", str(copy), "--no-progress"]):
        assert main(command) == 2, command
        one_line_error(capsys.readouterr().err, part.name, "damaged Parquet part")


def test_deeply_nested_toml_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert main(["sweep", str(path), "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, "nested too deeply")


@pytest.mark.parametrize("args, words", [(["--port", "70000"], "port 70000"), (["--port", "-1"], "port -1"),
                                         (["--host", ""], "host ''")])
def test_viz_bad_port_or_host_is_one_line(args, words, monkeypatch, capsys):
    monkeypatch.setattr(os, "execve", lambda *a: pytest.fail("the server must not start"))
    assert main(["viz", *args]) == 2
    one_line_error(capsys.readouterr().err, words)


# ---------------------------------------------------------------- 5. limits
def test_huge_designs_are_refused_before_planning(tmp_path, capsys):
    factors = "\n".join(f"{name} = {[round(i / 40, 3) for i in range(40)]}" for name in
                        ("oversight_intensity", "system_focus", "sanction_severity", "prescriptiveness",
                         "earned_autonomy", "funding_flexibility"))
    huge_lhs = tiny_text(factors="pressure = {low = 0.2, high = 0.8}").replace(
        'design = "full_factorial"', 'design = "latin_hypercube"\nsamples = 100000').replace(
        "replicates = 2", "replicates = 10000")
    for text in (tiny_text(factors=factors), huge_lhs):
        path = tmp_path / "huge.toml"
        path.write_text(text)
        started = time.process_time()
        assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
        assert time.process_time() - started < 5   # refused by arithmetic, not after building the plan
        one_line_error(capsys.readouterr().err, "more than the ceiling of 100,000 (--max-runs)")
    assert not (tmp_path / "out").exists()


def test_max_runs_is_configurable_and_workers_beyond_the_cpus_warn(tmp_path, capsys):
    path = sweep_file(tmp_path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--max-runs", "3", "--workers", "999",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--workers 999 is more than the" in err
    one_line_error(err, "the design has 4 runs", "ceiling of 3")


@pytest.mark.parametrize("months", [float("inf"), 2.5, -1, True, "3", float("nan")])
def test_run_for_takes_whole_months_only(months):
    model = ICSModel(rng=1)
    with pytest.raises(ValueError, match="run_for: duration .* whole number of months"):
        model.run_for(months)
    assert model.month == 0 and model.time == 0


def test_run_for_accepts_numpy_integers():
    model = ICSModel(rng=1)
    model.run_for(np.int64(2))
    assert model.time == 2 and isinstance(model.month, int)


@pytest.mark.parametrize("event, options, word", [
    ("merger", {"system": 5}, "system"), ("budget_cut", {"system": -1}, "system"),
    ("merger", {"kind": "hospital"}, "kind"), ("demand_shock", {"size": "big"}, "size"),
])
def test_model_events_are_checked_like_experiment_files(event, options, word):
    model = ICSModel(rng=1)
    with pytest.raises(ValueError, match=word):
        model.trigger(event, **options)
    with pytest.raises(ValueError, match=word):
        ICSModel(rng=1, events=[(3, event, options)])
    body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    with pytest.raises(ExperimentError, match=f"schedule\\[0\\].{word}"):
        parse_experiment(tiny_text(extra=f'[[schedule]]\nmonth = 2\nevent = "{event}"\n{body}'))


# ---------------------------------------------------------------- 6. atomic files
def test_report_files_are_replaced_atomically(copy, monkeypatch):
    write_report(copy)
    before = (copy / "summary.csv").read_bytes()
    assert before
    assert "ics-abm report " + html.escape(shlex.quote(str(copy))) in (copy / "report.html").read_text()
    real = pd.DataFrame.to_csv

    def killed_midway(self, target, *args, **kwargs):
        Path(target).write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", killed_midway)
    with pytest.raises(OSError):
        write_report(copy)
    monkeypatch.setattr(pd.DataFrame, "to_csv", real)
    assert (copy / "summary.csv").read_bytes() == before
    assert not list(copy.glob(".*.tmp"))


def test_parquet_parts_are_fsynced_before_they_are_renamed(tmp_path, monkeypatch):
    synced, renamed = [], []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    def replace(src, dst):
        renamed.append((str(src), str(dst)))
        assert str(src) in synced, f"{src} renamed before fsync"
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with ThreadPoolExecutor(1) as pool:
        run_experiment(tiny(replicates=1), tmp_path / "out", executor=pool, progress=False)
    assert any(dst.endswith(".parquet") and "/runs/" in dst for _, dst in renamed)


# ---------------------------------------------------------------- 7. smaller
def test_a_killed_session_is_marked_interrupted_on_resume(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["status"] = manifest["sessions"][-1]["status"] = "running"   # what a SIGKILL leaves
    manifest["sessions"][-1]["ended_at"] = None
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with ThreadPoolExecutor(1) as pool:
        run_experiment(tiny(), copy, executor=pool, progress=False)
    sessions = experiments.load(copy).manifest["sessions"]
    assert [s["status"] for s in sessions] == ["interrupted", "complete"]


def test_empty_out_is_an_error_not_the_default(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(sweep_file(tmp_path)), "--out", ""])
    assert info.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_viz_on_all_interfaces_warns_and_shows_the_real_host(monkeypatch, capsys):
    class Started(Exception):
        pass

    def execve(*args):
        raise Started

    monkeypatch.setattr(os, "execve", execve)
    with pytest.raises(Started):
        main(["viz", "--host", "0.0.0.0", "--port", "8999"])
    captured = capsys.readouterr()
    assert "serving the model at http://0.0.0.0:8999/" in captured.out
    assert "no authentication" in captured.err
    with pytest.raises(Started):
        main(["viz", "--port", "8999"])
    captured = capsys.readouterr()
    assert "http://127.0.0.1:8999/" in captured.out and "no authentication" not in captured.err
