"""The regime exploration's analysis (experiments/exploration.py) on a tiny design."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from experiments import exploration as ex
from experiments.runner import plan_runs
from experiments.spec import load_experiment, parse_experiment

TINY = """
[experiment]
name = "tiny-exploration"
months = 8
replicates = 1
seed = 3
design = "latin_hypercube"
samples = 4
[parameters]
n_vcse = 2
n_primary_care = 4
[factors]
regime = ["top_down", "permissive"]
pressure = { low = 0.2, high = 0.8 }
steer_strength = { low = 0.0, high = 1.0 }
gaming_propensity = { low = 0.05, high = 0.6 }
"""
WINDOW = (5, 8)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny design, its seed-noise runs and one switch-off, run in-process on threads."""
    exp = parse_experiment(TINY, source="tiny.toml")
    root = tmp_path_factory.mktemp("exploration")
    with ThreadPoolExecutor(2) as pool:
        ex.run_plan(exp, plan_runs(exp), root / "main", progress=False, executor=pool)
        wide, plan = ex.noise_plan(exp, samples=2, seeds=3)
        ex.run_plan(wide, plan, root / "noise", progress=False, executor=pool)
        off, plan = ex.switch_off_plan(exp, "gaming_propensity", 0.0, samples=3)
        ex.run_plan(off, plan, root / "off" / "gaming_propensity", progress=False, executor=pool)
    return exp, root


def test_the_shipped_experiment_crosses_each_sample_with_both_regimes_on_one_seed():
    exp = load_experiment("experiments/regime_exploration.toml")
    assert exp.design == "latin_hypercube" and exp.samples >= 500 and exp.months == 120
    plan = plan_runs(exp)
    assert len(plan) == 2 * exp.samples * exp.replicates
    for a, b in zip(plan[0::2], plan[1::2]):
        assert (a.params["regime"], b.params["regime"]) == ex.REGIMES
        assert a.seed == b.seed
        assert {k: v for k, v in a.factors.items() if k != "regime"} == \
               {k: v for k, v in b.factors.items() if k != "regime"}
    for name in ("pressure", "initial_trust", "initial_turf", "gaming_propensity", "collaborative_advantage",
                 "steer_strength", "convening_strength", "free_rider_deterrence", "improvement_support",
                 "detection_probability", "compliance_load", "turf_scrutiny_weight", "turf_sanction_weight",
                 "prevention_gain", "flow_gain", "inclusion", "facilitation_budget", "belief_learning_rate",
                 "capability_half_output"):
        assert exp.factors[name].is_range, name
    # every switched mechanism's strength is sampled, except detection_publicity, which only switches
    # partners' distrust of a caught body off (its size is sampled through reputation_weight and
    # negativity_bias) and is held at its default, 1
    for param, _, _ in ex.SWITCH_OFFS.values():
        assert param in exp.factors or param == "detection_publicity", param
    assert "reputation_weight" in exp.factors and "negativity_bias" in exp.factors


def test_plans_keep_samples_and_seeds():
    exp = parse_experiment(TINY, source="tiny.toml")
    main = plan_runs(exp)
    off, plan = ex.switch_off_plan(exp, "steer_strength", 0.0, samples=2)
    assert len(plan) == 4 and off.name.endswith("steer_strength")
    for a, b in zip(main, plan):
        assert (a.run_id, a.seed, a.point) == (b.run_id, b.seed, b.point)
        assert b.params["steer_strength"] == 0.0 and b.factors["steer_strength"] == 0.0
        assert b.params["pressure"] == a.params["pressure"]
    wide, noise = ex.noise_plan(exp, samples=2, seeds=3)
    assert len(noise) == 2 * 2 * 2  # 2 samples x 2 regimes x seeds 1-2 (seed 0 is the main run)
    assert {s.point for s in noise} == {0, 1, 2, 3}
    assert main[0].seed not in {s.seed for s in noise}


def test_analysis_end_to_end(tiny):
    exp, root = tiny
    pairs, factors = ex.load_pairs(root / "main", window=WINDOW)
    assert factors == ["pressure", "steer_strength", "gaming_propensity"]
    assert len(pairs) == exp.samples
    for y in (*ex.OUTCOMES, *ex.MEDIATORS):
        assert np.allclose(pairs[y], pairs[f"{y}_top_down"] - pairs[f"{y}_permissive"])
    assert ex.capability_bands(pairs)["n"].sum() == exp.samples
    extra, _ = ex.load_pairs(root / "noise", factors, window=WINDOW)
    assert set(extra["sample"]) == {0, 2} and len(extra) == 4
    noise = ex.seed_noise(pd.concat([pairs[pairs["sample"].isin(extra["sample"])], extra]))
    assert (noise["seeds"] == 3).all() and (noise["seed_sd"] >= 0).all()
    shares = ex.share_table(pairs, noise)
    row = shares.loc["system_outcome"]
    assert row["top_down_leads"] + row["permissive_leads"] <= row["n"] == exp.samples
    assert 0 <= row["near_ties"] <= row["n"]
    off, _ = ex.load_pairs(root / "off" / "gaming_propensity", factors, window=WINDOW)
    assert (off["gaming_propensity"] == 0).all() and set(off["sample"]) == {0, 2, 4}
    table = ex.switch_off_table(pairs, {"gaming": off})
    assert table.loc["gaming", "n"] == 3 and table.loc["gaming", "parameter"] == "gaming_propensity"
    assert -1 <= table.loc["gaming", "so_change"] <= 1
    split = ex.switch_off_by_capability(pairs, {"gaming": off})
    assert split.loc["gaming", "unsaturated_n"] + split.loc["gaming", "saturated_n"] == 3


def test_wilson_interval():
    lo, hi = ex.wilson(0, 50)
    assert lo == 0 and 0.05 < hi < 0.09
    lo, hi = ex.wilson(25, 50)
    assert lo < 0.5 < hi and abs((lo + hi) / 2 - 0.5) < 1e-12


def test_share_table_counts_near_ties_and_direction():
    pairs = pd.DataFrame({"sample": range(6), "seed": 1,
                          "system_outcome": [0.02, 0.001, -0.001, -0.03, -0.02, 0.05],
                          "gaming_gap": [0.02, 0.01, -0.01, 0.03, 0.02, 0.05]})
    noise = pd.DataFrame({"threshold": [0.005, 0.0]}, index=["system_outcome", "gaming_gap"])
    t = ex.share_table(pairs, noise, outcomes=("system_outcome", "gaming_gap"))
    assert t.loc["system_outcome", "top_down_leads"] == 3 and t.loc["system_outcome", "near_ties"] == 2
    assert t.loc["system_outcome", "top_down_clear"] == 2
    assert t.loc["gaming_gap", "top_down_leads"] == 1  # a lower gaming gap is better


def test_conditions_find_the_deciding_parameter():
    pytest.importorskip("ema_workbench")
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((200, 3)), columns=["a", "b", "c"])
    pairs = x.assign(sample=range(200), seed=1,
                     system_outcome=np.where(x["b"] > 0.6, 0.01, -0.01) + 0.001 * rng.normal(size=200),
                     collaboration_index=x["c"] - 0.5)
    scores = ex.feature_scores(pairs, ["a", "b", "c"])
    assert scores["system_outcome"].idxmax() == "b" and scores["collaboration_index"].idxmax() == "c"
    cart = ex.cart_rules(pairs, ["a", "b", "c"], "system_outcome", max_depth=2)
    assert cart["accuracy"] > 0.95
    assert cart["tree"].tree_.feature[0] == 1  # the first split is on b
    assert abs(cart["tree"].tree_.threshold[0] - 0.6) < 0.05
    assert cart["leaves"]["samples"].sum() == 200


def test_switch_offs_can_be_run_on_a_region_of_the_sampled_space():
    """--region keeps only samples inside a CART leaf, both regimes of each, with the main runs' seeds."""
    exp = parse_experiment(TINY, source="tiny.toml")
    main = plan_runs(exp)
    region = ex.parse_region("pressure<=0.5, steer_strength>0.2")
    off, plan = ex.switch_off_plan(exp, "gaming_propensity", 0.0, base=main, region=region)
    inside = [s for s in main if s.factors["pressure"] <= 0.5 and s.factors["steer_strength"] > 0.2]
    assert 0 < len(plan) < len(main) and len(plan) % 2 == 0
    assert [(s.run_id, s.seed) for s in plan] == [(s.run_id, s.seed) for s in inside]
    assert all(s.params["gaming_propensity"] == 0.0 for s in plan)
    with pytest.raises(ValueError, match="pressure=0.5"):
        ex.parse_region("pressure=0.5")


def test_a_bad_region_is_a_one_line_error_with_exit_2(capsys):
    assert ex.main(["run-switch-offs", "experiments/regime_exploration.toml", "--region", "pressure~1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --region") and "\n" not in err


def test_capability_bands_and_switch_offs_split_by_saturation():
    """Synthetic pairs: top_down leads only in the top band; a switch-off moves only the unsaturated samples."""
    cap = np.array([0.1, 0.2, 0.45, 0.8, 0.85, 0.95, 0.97, 0.99])   # 0.8 is at most SATURATED: unsaturated
    pairs = pd.DataFrame({"sample": range(8), "seed": 1, "capability_permissive": cap,
                          "capability_top_down": cap - 0.1,
                          "system_outcome": [-0.05, -0.04, -0.03, -0.02, -0.01, 0.01, 0.02, -0.001],
                          "collaboration_index": [-0.1, -0.1, -0.2, -0.2, -0.3, 0.1, -0.3, -0.3]})
    bands = ex.capability_bands(pairs)
    assert list(bands.index) == ["0-0.3", "0.3-0.5", "0.7-0.8", "0.8-0.9", "0.9-1"]   # 0.8 falls in 0.7-0.8
    assert bands["n"].sum() == 8 and bands.loc["0.9-1", "n"] == 3
    assert bands.loc["0.9-1", "system_outcome_top_down_share"] == pytest.approx(2 / 3)
    assert bands.loc["0-0.3", "system_outcome_top_down_share"] == 0
    assert bands.loc["0-0.3", "system_outcome_mean_diff"] == pytest.approx(-0.045)
    assert bands.loc["0-0.3", "capability_top_down"] == pytest.approx(0.05)
    assert bands.loc["0.9-1", "collaboration_index_top_down_share"] == pytest.approx(1 / 3)
    assert bands.loc["0.9-1", "collaboration_index_mean_diff"] == pytest.approx(-0.5 / 3)
    shift = np.where(cap > ex.SATURATED, 0.0, [0.01, 0.02, 0.03, 0.04, 0, 0, 0, 0])
    off = pairs.assign(system_outcome=pairs["system_outcome"] + shift)
    split = ex.switch_off_by_capability(pairs, {"clear steer": off})
    row = split.loc["clear steer"]
    assert (row["unsaturated_n"], row["saturated_n"]) == (4, 4)
    assert row["unsaturated_change"] == pytest.approx(0.025) and row["saturated_change"] == pytest.approx(0.0)
    # half-width of the 95% interval: 1.96 x SD(0.01, 0.02, 0.03, 0.04) / 2
    assert row["unsaturated_ci"] == pytest.approx(ex.Z95 * np.std([0.01, 0.02, 0.03, 0.04], ddof=1) / 2)
    assert row["saturated_ci"] == pytest.approx(0.0)


def test_a_switch_off_still_starting_is_skipped_not_a_traceback(tiny, tmp_path):
    """`report` while a switch-off sweep has stored no run yet: that folder is named as skipped."""
    exp, root = tiny
    off, _ = ex.switch_off_plan(exp, "steer_strength", 0.0, samples=3)
    with ThreadPoolExecutor(1) as pool:
        ex.run_plan(off, [], tmp_path / "off" / "steer_strength", progress=False, executor=pool)
    with pytest.raises(ValueError, match="no finished runs yet"):
        ex.load_pairs(tmp_path / "off" / "steer_strength", ["pressure"], window=WINDOW)
    result = ex.analyse(root / "main", None, tmp_path / "off", depth=2, window=WINDOW)
    assert result["switch_offs_skipped"] == [str(tmp_path / "off" / "steer_strength")]
    assert "switch_offs" not in result
    assert "skipped (no finished runs yet)" in ex.report_markdown(result)
