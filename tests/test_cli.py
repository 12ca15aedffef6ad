"""The ics-abm command: compare, sweep, report, viz, and bad input."""

import subprocess
import sys
import types

import pytest

import experiments
from abm import REGIMES
from experiments.analysis import HEADLINE
from experiments.cli import build_parser, main


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """`ics-abm compare`, shortened: 3 replicates x 12 months, 2 workers."""
    out = tmp_path_factory.mktemp("cmp") / "compare"
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "compare", "--out", str(out), "--replicates", "3",
                           "--months", "12", "--workers", "2"], capture_output=True, text=True, timeout=120)
    return out, proc


def test_compare_defaults_are_the_headline_experiment():
    args = build_parser().parse_args(["compare"])
    assert (args.replicates, args.months, args.out) == (30, 120, "results/compare")


def test_compare_prints_a_readable_table_and_writes_store_and_report(compared):
    out, proc = compared
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for regime in REGIMES:
        assert regime in text
    for metric in HEADLINE:
        assert f"{metric}:" in text
    assert "final, month 12 (95% CI)" in text and "average, months 1-12" in text
    assert "final vs permissive: difference (95% CI)" in text and "(reference)" in text
    assert "effect size" not in text and "Findings:" in text
    assert f"report: {out}/report.html" in text
    assert "Re-run: ics-abm compare --out" in text and "--replicates 3 --months 12" in text
    assert "regime-comparison" in proc.stderr and "run/s" in proc.stderr        # the progress bar
    res = experiments.load(out)
    assert len(res.ok) == len(REGIMES) * 3
    assert set(res.runs["regime"]) == set(REGIMES)
    assert (out / "report.html").is_file() and (out / "summary.csv").is_file()
    # the same seeds under every regime
    assert res.runs.groupby("replicate")["seed"].nunique().eq(1).all()


def test_compare_again_skips_everything_stored(compared):
    out, _ = compared
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "compare", "--out", str(out), "--replicates", "3",
                           "--months", "12", "--workers", "1", "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(REGIMES) * 3} runs were already stored and were skipped" in proc.stderr
    assert len(experiments.load(out).runs) == len(REGIMES) * 3


def test_compare_into_a_folder_of_another_experiment_is_refused(compared, capsys):
    out, _ = compared
    before = sorted(p.name for p in (out / "runs").iterdir())
    assert main(["compare", "--out", str(out), "--replicates", "3", "--months", "12", "--seed", "2"]) == 2
    err = capsys.readouterr().err
    assert "holds results of a different experiment" in err and str(out) in err
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


BAD = {
    "unknown parameter": ("[experiment]\nmonths = 6\n[parameters]\ninital_trust = 0.3\n",
                          ["parameters.inital_trust", "did you mean 'initial_trust'"]),
    "unknown factor": ("[experiment]\nmonths = 6\n[factors]\nsanction = [0.1]\n",
                       ["factors.sanction", "unknown factor"]),
    "out of range": ("[experiment]\nmonths = 6\n[factors]\npressure = [0.5, 2]\n",
                     ["factors.pressure[1]", "got 2", "a number in [0, 1]"]),
    "malformed TOML": ("[experiment\nmonths = 6\n", ["not valid TOML"]),
    "unknown design": ("[experiment]\nmonths = 6\ndesign = \"grid\"\n",
                       ["experiment.design", "full_factorial, latin_hypercube, sobol, morris"]),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_experiment_file_exit_2_and_nothing_written(case, tmp_path, capsys):
    text, words = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"ics-abm: error: {path}: ")
    for word in words:
        assert word in captured.err
    assert "Traceback" not in captured.err and len(captured.err.splitlines()) <= 3
    assert captured.out == ""
    assert not out.exists()


def test_the_command_exits_with_status_2_on_bad_input(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD["unknown parameter"][0])
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "sweep", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "did you mean 'initial_trust'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_bad_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["sweep", "x.toml", "--workers", "0"])
    assert info.value.code == 2
    assert main(["report", str(tmp_path)]) == 2
    assert "not an ics-abm results folder" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such experiment file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_sweep_into_a_non_empty_foreign_folder_is_refused(tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text("[experiment]\nmonths = 3\nreplicates = 1\n[parameters]\nn_vcse = 1\nn_primary_care = 2\n")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_report_command_rewrites_the_report(compared, capsys):
    out, _ = compared
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").is_file()
    assert f"report: {out}/report.html" in capsys.readouterr().out


def test_viz_calls_the_server_lazily(monkeypatch):
    """`ics-abm viz` imports viz.server only when asked, and passes host and port."""
    calls = []
    fake = types.ModuleType("viz.server")
    fake.serve = lambda host, port: calls.append((host, port))
    import viz

    monkeypatch.setitem(sys.modules, "viz.server", fake)
    monkeypatch.setattr(viz, "server", fake, raising=False)
    assert main(["viz", "--port", "8123", "--host", "0.0.0.0"]) == 0
    assert calls == [("0.0.0.0", 8123)]
    import experiments.cli as cli_module

    assert "viz.server" not in cli_module.__dict__
