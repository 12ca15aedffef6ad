"""Analysis and report: confidence intervals, effect sizes, schedules, indices, report.html."""

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import experiments
from experiments import analysis
from experiments.report import write_report
from experiments.runner import run_experiment
from experiments.spec import parse_experiment

SMALL = "[parameters]\nn_vcse = 2\nn_primary_care = 4\n"


def run(tmp_path, text, name="out"):
    exp = parse_experiment(text, source="t.toml")
    out = tmp_path / name
    with ThreadPoolExecutor(2) as pool:
        run_experiment(exp, out, executor=pool, progress=False)
    return out


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    """Permissive against permissive with a top-down episode from month 6 to 12."""
    text = ('[experiment]\nname = "episode"\nmonths = 18\nreplicates = 4\nseed = 2\n'
            'design = "full_factorial"\n[parameters]\nregime = "permissive"\nn_vcse = 2\nn_primary_care = 4\n'
            '[schedules]\nbaseline = []\n'
            'episode = [{month = 6, regime = "top_down"}, {month = 12, regime = "permissive"}]\n')
    return run(tmp_path_factory.mktemp("ep"), text)


@pytest.fixture(scope="module")
def regimes(tmp_path_factory):
    text = ('[experiment]\nname = "regimes"\nmonths = 12\nreplicates = 5\nseed = 4\n'
            f'design = "full_factorial"\n{SMALL}[factors]\nregime = ["top_down", "permissive", "hands_off"]\n'
            'oversight_intensity = [0.3, 0.7]\n')
    return run(tmp_path_factory.mktemp("rg"), text)


def test_ci95_is_the_t_interval():
    mean, low, high, n = analysis.ci95([1.0, 2.0, 3.0, 4.0, 5.0])
    half = stats.t.ppf(0.975, 4) * np.std([1, 2, 3, 4, 5], ddof=1) / np.sqrt(5)
    assert (mean, n) == (3.0, 5)
    assert low == pytest.approx(3 - half) and high == pytest.approx(3 + half)
    assert half == pytest.approx(1.9632, abs=1e-4)
    assert np.isnan(analysis.ci95([2.0])[1])


def test_schedule_changes_the_run_from_its_month_on(episode):
    """Same seeds: the episode's runs equal the baseline's until the regime changes at month 6."""
    res = experiments.load(episode)
    m = res.metrics.merge(res.runs[["run_id", "schedule", "replicate"]], on="run_id")
    base = m[m["schedule"] == "baseline"].set_index(["replicate", "month"]).sort_index()
    epi = m[m["schedule"] == "episode"].set_index(["replicate", "month"]).sort_index()
    cols = ["trust_mean", "turf_mean", "collaboration_index", "compliance_burden"]
    early = base.index.get_level_values("month") <= 5
    pd.testing.assert_frame_equal(base.loc[early, cols], epi.loc[early, cols], check_exact=True)
    during = (base.index.get_level_values("month") >= 6) & (base.index.get_level_values("month") <= 11)
    assert (epi.loc[during, "compliance_burden"] > base.loc[during, "compliance_burden"]).all()
    summ = analysis.summary(res)
    assert set(summ["label"]) == {"baseline", "episode"}


def test_effects_against_permissive_are_paired_on_common_seeds(regimes):
    res = experiments.load(regimes)
    eff = analysis.effects(res)
    assert set(eff["reference"]) == {"regime=permissive"}
    assert eff["paired"].all()
    assert not (eff["label"].str.contains("regime=permissive")).any()
    # check one effect by hand: top_down at oversight 0.7 against permissive at 0.7
    runs = analysis.per_run(res)
    pts = analysis.point_table(res)
    td = int(pts[(pts.regime == "top_down") & (pts.oversight_intensity == 0.7)]["point"].iloc[0])
    pm = int(pts[(pts.regime == "permissive") & (pts.oversight_intensity == 0.7)]["point"].iloc[0])
    a = runs[(runs.point == td) & (runs.metric == "turf_mean")].sort_values("replicate")["final"].to_numpy()
    b = runs[(runs.point == pm) & (runs.metric == "turf_mean")].sort_values("replicate")["final"].to_numpy()
    row = eff[(eff.point == td) & (eff.metric == "turf_mean") & (eff.value == "final")].iloc[0]
    diff = a - b
    assert row["difference"] == pytest.approx(diff.mean())
    assert row["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert row["d"] == pytest.approx(diff.mean() / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))
    lo, hi = stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff))
    assert (row["diff_ci_low"], row["diff_ci_high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_summary_final_and_average(regimes):
    res = experiments.load(regimes)
    summ = analysis.summary(res)
    assert len(summ) == 6 * len(analysis.HEADLINE)
    assert (summ["n"] == 5).all()
    assert (summ["final_ci_low"] <= summ["final_mean"]).all() and (summ["final_mean"] <= summ["final_ci_high"]).all()
    one = res.metrics[res.metrics.run_id == res.runs.run_id.iloc[0]]
    runs = analysis.per_run(res)
    row = runs[(runs.run_id == res.runs.run_id.iloc[0]) & (runs.metric == "trust_mean")].iloc[0]
    assert row["final"] == one[one.month == 12]["trust_mean"].iloc[0]
    assert row["average"] == pytest.approx(one[one.month >= 1]["trust_mean"].mean())


def test_morris_and_sobol_indices(tmp_path):
    factors = "[factors]\noversight_intensity = {low = 0.0, high = 1.0}\nsystem_focus = {low = 0.0, high = 1.0}\n"
    head = '[experiment]\nname = "{}"\nmonths = 6\nreplicates = 1\nseed = 1\ndesign = "{}"\nsamples = {}\n'
    morris = run(tmp_path, head.format("m", "morris", 4) + SMALL + factors, "morris")
    mi = analysis.morris_indices(experiments.load(morris))
    assert set(mi["parameter"]) == {"oversight_intensity", "system_focus"}
    assert (mi["mu_star"] >= 0).all() and mi["mu_star"].gt(0).any()
    sobol = run(tmp_path, head.format("s", "sobol", 8) + SMALL + factors, "sobol")
    si = analysis.sobol_indices(experiments.load(sobol))
    assert {"S1", "ST", "S1_conf", "ST_conf"} <= set(si.columns) and len(si) > 0
    from experiments.console import results_table

    assert "Parameters ranked by Morris mu*" in results_table(experiments.load(morris))
    assert "Parameters ranked by Sobol total index ST" in results_table(experiments.load(sobol))
    for out, title, csv in ((morris, "Morris screening", "morris.csv"), (sobol, "Sobol indices", "sobol.csv")):
        page = write_report(out).read_text()
        assert f"<h2>{title}</h2>" in page
        assert (out / csv).is_file()


def test_report_is_self_contained(regimes, episode):
    for out in (regimes, episode):
        page = write_report(out).read_text()
        assert page.startswith("<!DOCTYPE html>")
        for section in ("Summary", "Over time", "Final outcomes", "Provenance"):
            assert f"<h2>{section}</h2>" in page
        # nothing loaded from outside: every src and href is inline data
        refs = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert refs and all(r.startswith("data:") for r in refs)
        assert "<script" not in page
        assert page.count("data:image/png;base64,") >= 2
        assert "ics-abm rerun" in page and "git commit" in page
        for csv in ("summary.csv", "final_outcomes.csv", "time_series.csv"):
            assert (out / csv).is_file()
    page = (regimes / "report.html").read_text()
    assert "Response to oversight_intensity" in page and "regime x oversight_intensity" not in page
    assert (regimes / "effects.csv").is_file()
    assert "Scheduled changes (dotted lines): baseline: none; episode: month 6: regime=top_down" in (episode / "report.html").read_text()


def test_report_lists_failed_runs(tmp_path):
    from experiments.runner import build_model

    def failing_factory(params, seed, collect_agents=False):
        if params["oversight_intensity"] == 0.9:
            raise ZeroDivisionError("test: this run raises")
        return build_model(params, seed, collect_agents)

    exp = parse_experiment('[experiment]\nname = "f"\nmonths = 4\nreplicates = 2\n' + SMALL
                           + '[factors]\noversight_intensity = [0.2, 0.9]\n', source="f.toml")
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        run_experiment(exp, out, executor=pool, progress=False, model_factory=failing_factory)
    page = write_report(out).read_text()
    assert "Failed runs (2)" in page and "ZeroDivisionError: test: this run raises" in page


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.browser
def test_report_opens_in_headless_chromium_without_console_errors(regimes, episode):
    if not Path(CHROMIUM).exists():
        if os.environ.get("ICS_ABM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and ICS_ABM_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for out in (regimes, episode):
                report = out / "report.html"
                if not report.exists():
                    write_report(out)
                page = browser.new_page()
                problems = []
                page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
                page.goto(report.resolve().as_uri())
                page.wait_for_load_state("load")
                assert problems == []
                widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
                assert len(widths) >= 2 and all(w > 100 for w in widths)   # every figure decoded
                assert page.locator("h2", has_text="Summary").count() == 1
                assert page.locator("table").first.locator("tr").count() > 5
                page.close()
        finally:
            browser.close()
