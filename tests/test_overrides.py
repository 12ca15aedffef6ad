"""Command-line overrides, named regimes, honest labels, findings and stored metadata."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow.parquet as pq
import pytest

import experiments
from abm.metrics import MODEL_METRICS
from experiments import analysis, findings
from experiments.cli import main
from experiments.console import results_table
from experiments.report import write_report
from experiments.runner import plan_runs, run_experiment
from experiments.spec import ExperimentError, parse_experiment, parse_setting, with_overrides

HEAD = '[experiment]\nname = "o"\nmonths = 3\nreplicates = 2\nseed = 1\n'
SMALL = "[parameters]\nn_vcse = 2\nn_primary_care = 4\n"


def run(tmp_path, text, name="out"):
    out = tmp_path / name
    with ThreadPoolExecutor(2) as pool:
        run_experiment(parse_experiment(text, source="t.toml"), out, executor=pool, progress=False)
    return out


@pytest.mark.parametrize("text, expected", [
    ("pressure=0.7", ("pressure", 0.7)), ("n_vcse=4", ("n_vcse", 4)),
    ("regime=top_down", ("regime", "top_down")), ('regime="top_down"', ("regime", "top_down")),
])
def test_settings_are_read_as_toml_values(text, expected):
    assert parse_setting(text) == expected


def test_overrides_rewrite_the_experiment_file_and_are_checked():
    exp = parse_experiment(HEAD + SMALL + '[factors]\nregime = ["top_down", "permissive"]\n', source="t.toml")
    new = with_overrides(exp, ["pressure=0.7", "oversight_intensity=0.5"], replicates=3, months=4)
    assert new.parameters["pressure"] == 0.7 and new.parameters["n_vcse"] == 2
    assert (new.replicates, new.months) == (3, 4)
    assert "--set pressure=0.7" in new.text.splitlines()[0]          # the stored file says how it was made
    assert parse_experiment(new.text).parameters == new.parameters    # and runs again as it is
    assert all(spec.params["oversight_intensity"] == 0.5 for spec in plan_runs(new))
    for bad, words in (("pressure=2", "a number in [0, 1]"), ("presure=0.2", "unknown parameter"),
                       ("regime=top_down", "is a factor"), ("pressure", "expected name=value")):
        with pytest.raises(ExperimentError, match=words.replace("[", r"\[")):
            with_overrides(exp, [bad])


def test_sweep_with_set_replicates_and_months(tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text(HEAD + SMALL + '[factors]\nregime = ["top_down", "permissive"]\n')
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--set", "oversight_intensity=0.4", "--replicates", "1",
                 "--months", "2", "--workers", "1", "--no-progress", "--metrics", "trust_mean,sanctions"])
    assert code == 0
    text = capsys.readouterr().out
    assert "sanctions:" in text and "collaboration_index:" not in text
    assert "top_down, oversight_intensity=0.4" in text          # not labelled as the plain preset
    assert "--set oversight_intensity=0.4 --replicates 1 --months 2" in text
    res = experiments.load(out)
    assert len(res.runs) == 2 and set(res.runs["oversight_intensity"]) == {0.4} and set(res.runs["months"]) == {2}
    page = (out / "report.html").read_text()
    assert "Fixed parameters: n_vcse = 2, n_primary_care = 4, oversight_intensity = 0.4" in page


@pytest.mark.parametrize("args, words", [
    (["--set", "pressure=9"], "parameters.pressure: got 9"),
    (["--set", "nope=1"], "unknown parameter 'nope'"),
    (["--metrics", "trust_mena"], "did you mean 'trust_mean'"),
])
def test_bad_command_line_values_are_one_line_errors(tmp_path, capsys, args, words):
    assert main(["compare", "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_named_regimes_are_factor_values_and_rerun(tmp_path):
    text = (HEAD + SMALL + '[regimes.cautious]\nbase = "permissive"\noversight_intensity = 0.6\n'
            '[factors]\nregime = ["cautious", "permissive"]\n')
    exp = parse_experiment(text, source="t.toml")
    specs = plan_runs(exp)
    assert specs[0].row()["regime"] == "cautious" and specs[0].params["regime"] == "permissive"
    assert specs[0].params["oversight_intensity"] == 0.6 and specs[-1].params["oversight_intensity"] == 0.25
    out = run(tmp_path, text)
    res = experiments.load(out)
    assert set(res.runs["regime"]) == {"cautious", "permissive"}
    assert "Named regimes: cautious = permissive with oversight_intensity = 0.6" in write_report(out).read_text()
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "rerun", str(out), "p0000-r000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "MATCH" in proc.stdout


@pytest.mark.parametrize("body, words", [
    ('[regimes.top_down]\noversight_intensity = 0.1\n', "built-in preset"),
    ('[regimes.x]\nbase = "strict"\n', "regimes.x.base"),
    ('[regimes.x]\noversight = 0.1\n', "did you mean 'oversight_intensity'"),
    ('[regimes.x]\noversight_intensity = 2\n', "regimes.x.oversight_intensity"),
    ('[regimes.x]\noversight_intensity = 0.2\n[factors]\nregime = ["x"]\noversight_intensity = [0.1]\n',
     "keep it in one place"),
])
def test_bad_named_regimes(body, words):
    with pytest.raises(ExperimentError, match=words):
        parse_experiment(HEAD + body, source="t.toml")


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    text = ('[experiment]\nname = "s"\nmonths = 3\nreplicates = 1\nseed = 1\ndesign = "latin_hypercube"\n'
            'samples = 14\n' + SMALL + '[factors]\nregime = ["top_down", "permissive"]\n'
            'pressure = {low = 0.2, high = 0.8}\n')
    return run(tmp_path_factory.mktemp("s"), text)


def test_console_summarises_a_long_design(sampled):
    text = results_table(experiments.load(sampled))
    assert "28 design points (latin hypercube): too many to list here" in text
    assert "pooled over the other factors" in text and "the sampled values of pressure" in text
    assert len(text) < 4000 and "pressure=0." not in text


def test_findings_state_leaders_and_what_intervals_cover(sampled):
    res = experiments.load(sampled)
    contrasts = findings.level_contrasts(res, list(analysis.HEADLINE), "regime")
    top = contrasts[(contrasts.metric == "turf_mean") & (contrasts.level == "top_down")].iloc[0]
    assert top["pairs"] == 14 and top["covers"].startswith("seeds (replicates) and the sampled values of pressure")
    sentences = findings.findings(contrasts, MODEL_METRICS)
    assert any(s.startswith("turf_mean") and "highest under regime top_down" in s for s in sentences)
    page = write_report(sampled).read_text()
    assert "<h2>Findings</h2>" in page and "Cohen" not in page.split("<h2>Summary</h2>")[0]
    assert "Standardised effect sizes (detail)" not in page or "judge effects by the absolute differences" in page


def _contrasts(table: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = []
    for metric, values in table.items():
        for level, mean in values.items():
            ref = level == "b"
            diff = None if ref else mean - values["b"]
            rows.append({"metric": metric, "level": level, "mean": mean, "reference": "b",
                         "difference": diff, "diff_ci_low": None if ref else diff - 0.01,
                         "diff_ci_high": None if ref else diff + 0.01})
    return pd.DataFrame(rows).astype({"difference": float, "diff_ci_low": float, "diff_ci_high": float})


def test_findings_name_a_trade_off():
    sentences = findings.findings(_contrasts({"system_outcome": {"a": 0.6, "b": 0.5},
                                              "org_performance": {"a": 0.4, "b": 0.7}}))
    assert any(s.startswith("Trade-off: a leads on system_outcome but not on org_performance") for s in sentences)


def test_trade_offs_judge_each_metric_in_its_own_direction():
    # a leads on the system outcome; more turf is worse, so a's lower turf is no trade-off...
    sentences = findings.findings(_contrasts({"system_outcome": {"a": 0.6, "b": 0.5},
                                              "turf_mean": {"a": 0.3, "b": 0.4},
                                              "inspections": {"a": 2.0, "b": 9.0}}))
    assert not any(s.startswith("Trade-off") for s in sentences)
    # ...but higher turf is, stated against the lowest level; a count like inspections is never judged
    sentences = findings.findings(_contrasts({"system_outcome": {"a": 0.6, "b": 0.5},
                                              "turf_mean": {"a": 0.45, "b": 0.4}}))
    trade = [s for s in sentences if s.startswith("Trade-off")]
    assert trade == ["Trade-off: a leads on system_outcome but not on turf_mean, where b is lowest (lower is "
                     "better); a is 0.050 higher there (0.450 against 0.400)."]


def test_parquet_parts_describe_their_columns(sampled):
    part = next((sampled / "metrics").glob("*.parquet"))
    schema = pq.read_schema(part)
    assert schema.field("trust_mean").metadata[b"description"].decode() == MODEL_METRICS["trust_mean"]
    assert schema.field("trust_mean").metadata[b"unit"] == b"0-1"
    runs = pq.read_schema(next((sampled / "runs").glob("*.parquet")))
    assert b"operational and financial pressure" in runs.field("pressure").metadata[b"description"]
    assert json.loads(runs.metadata[b"ics_abm.columns"])["seed"]["description"].startswith("Seed")
    # a raw reader of the folder sees exactly the stored runs, and no staged part
    import pyarrow.dataset as ds

    table = ds.dataset(sampled / "metrics", format="parquet").to_table()
    assert set(table.column("run_id").to_pylist()) == set(experiments.load(sampled).ok["run_id"])
    assert not list(sampled.rglob("*.tmp"))


def test_python_m_abm_parameters_has_no_warning():
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "abm.parameters"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout.startswith("| name |")
