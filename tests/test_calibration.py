"""Calibration by ABC-SMC (experiments/calibration.py, experiments/targets.py) and posterior uncertainty
in experiments (abm/posterior.py, experiments/uncertainty.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from abm import ICSModel, posterior
from abm.parameters import DEFAULTS, validate_parameters
from experiments import targets as T

pyabc = pytest.importorskip("pyabc")

from experiments.calibration import PRIORS, calibrate  # noqa: E402


# ----------------------------------------------------------------------------- distances
def test_a_range_is_a_range_and_a_sign_is_a_sign():
    t = T.Target("X", "x", "top_down", "range", 0.10, 0.20, 0.05, True, "", "", "")
    assert t.distance(0.10) == 0.0 and t.distance(0.15) == 0.0 and t.distance(0.20) == 0.0
    assert t.distance(0.25) == pytest.approx(1.0)          # one tolerance above the top
    assert t.distance(0.0) == pytest.approx(2.0)           # two below the bottom
    assert t.distance(float("nan")) == math.inf
    sign = T.Target("S", "s", "top_down", "sign", 0.0, math.inf, 0.1, True, "", "", "")
    assert sign.distance(5.0) == 0.0 and sign.distance(1e9) == 0.0
    assert sign.distance(-0.2) == pytest.approx(2.0)
    # the ABC distance: zero when every fitted statistic is inside its range, whatever held-out ones do
    inside = {x.stat: (x.low if math.isfinite(x.low) else x.high) for x in T.TARGETS}
    assert T.distance(inside) == 0.0
    wrong_held_out = dict(inside, **{x.stat: 1e6 * (1 if x.low == -math.inf else -1) for x in T.HELD_OUT})
    assert T.distance(wrong_held_out) == 0.0
    one_off = dict(inside, **{T.FITTED[0].stat: T.FITTED[0].high + T.FITTED[0].scale})
    assert T.distance(one_off) == pytest.approx(1.0)


def test_targets_are_declared_with_at_least_six_fitted_and_two_held_out():
    assert len(T.FITTED) >= 6 and len(T.HELD_OUT) >= 2
    assert len({t.stat for t in T.TARGETS}) == len(T.TARGETS)
    for t in T.TARGETS:
        assert t.scale > 0 and t.low < t.high and t.source and t.observed
        assert t.scenario in T.SCENARIOS or t.scenario == "all"
    assert 8 <= len(PRIORS) <= 15
    from abm.parameters import PARAMETERS

    for name, (lo, hi, _) in PRIORS.items():   # priors inside the parameter table's ranges
        assert PARAMETERS[name].low <= lo < hi <= PARAMETERS[name].high
    assert "trust_build_rate" in PRIORS   # asymmetry is matched through behaviour (T12), not read off


# ----------------------------------------------------------------------------- quick mode, reproducibility
def test_quick_calibration_runs_and_the_same_seed_gives_the_same_posterior(tmp_path):
    first = calibrate("quick", tmp_path / "a", seed=7, progress=False)
    for name in ("posterior.csv", "central.json", "manifest.json", "predictive.csv", "report.md",
                 "targets.png", "marginals.png"):
        assert (tmp_path / "a" / name).exists(), name
    assert set(PRIORS) <= set(first.posterior.columns)
    assert first.posterior["weight"].sum() == pytest.approx(1.0)
    assert first.manifest["particle_evaluations"] > 0 and first.manifest["git_commit"] is not None
    # the same root seed through the command line, on two worker processes: the same posterior
    from experiments.cli import main

    assert main(["calibrate", "--quick", "--out", str(tmp_path / "b"), "--seed", "7", "--workers", "2"]) == 0
    a = pd.read_csv(tmp_path / "a" / "posterior.csv")
    b = pd.read_csv(tmp_path / "b" / "posterior.csv")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a" / "predictive.csv"),
                                  pd.read_csv(tmp_path / "b" / "predictive.csv"))
    report = (tmp_path / "a" / "report.md").read_text()
    assert "held out" in report and ("missed" in report or "met" in report)
    # another seed, another posterior
    c = calibrate("quick", tmp_path / "c", seed=8, progress=False).posterior
    assert not a[list(PRIORS)].equals(c[list(PRIORS)])


# ----------------------------------------------------------------------------- the shipped posterior
needs_posterior = pytest.mark.skipif(not posterior.available(), reason="no shipped posterior")


@needs_posterior
def test_calibrated_true_uses_the_posteriors_central_set():
    central = posterior.central()
    assert set(central) == set(PRIORS)
    model = ICSModel(calibrated=True, rng=1, collect_agents=False)
    for name, value in central.items():
        assert model.p[name] == value
    assert model.p["n_vcse"] == DEFAULTS["n_vcse"]                     # other parameters keep their defaults
    assert ICSModel(calibrated=True, initial_trust=0.55, rng=1).p["initial_trust"] == 0.55  # a given value wins
    assert validate_parameters(calibrated=False) == validate_parameters()
    with pytest.raises(ValueError):
        validate_parameters(calibrated="yes")
    model.run_for(2)


@needs_posterior
def test_posterior_draws_are_reproducible_and_extend():
    five = posterior.draw(5, seed=3)
    assert posterior.draw(5, seed=3) == five
    assert posterior.draw(8, seed=3)[:5] == five
    for d in five:
        assert set(d) == set(PRIORS)
        assert isinstance(d["capability_delay"], int)


@needs_posterior
def test_compare_with_posterior_draws_uses_common_draws_across_regimes():
    from abm.regimes import REGIMES
    from experiments.cli import compare_experiment_text
    from experiments.runner import plan_runs
    from experiments.spec import parse_experiment
    from experiments.uncertainty import covers

    exp = parse_experiment(compare_experiment_text(4, 12, 1, "posterior"), source="test")
    assert exp.uncertainty == "posterior"
    plan = plan_runs(exp)
    assert len(plan) == 4 * len(REGIMES)
    by_replicate: dict[int, set] = {}
    for spec in plan:
        drawn = tuple(spec.params[name] for name in PRIORS)
        by_replicate.setdefault(spec.replicate, set()).add((drawn, spec.seed))
    for r, draws in by_replicate.items():
        assert len(draws) == 1, f"replicate {r} got different draws or seeds under different regimes"
    # replicate r runs posterior draw r (drawn by weight from the posterior particles)
    from experiments.uncertainty import draw_seed

    expected = posterior.draw(4, draw_seed(1))
    for spec in plan:
        assert {name: spec.params[name] for name in PRIORS} == expected[spec.replicate]
    regimes = {spec.params["regime"] for spec in plan}
    assert regimes == set(REGIMES)
    # without it (seeds only) every replicate runs the table's defaults
    plain = plan_runs(parse_experiment(compare_experiment_text(2, 12, 1), source="test"))
    assert all(s.params["initial_trust"] == DEFAULTS["initial_trust"] for s in plain)
    assert "parameter uncertainty" in covers("posterior", 4) and "seed noise only" in covers("seeds")


def test_experiment_files_check_uncertainty():
    from experiments.spec import ExperimentError, parse_experiment

    text = '[experiment]\nname = "x"\nuncertainty = "priors"\n'
    with pytest.raises(ExperimentError, match="uncertainty"):
        parse_experiment(text)
    assert parse_experiment('[experiment]\nname = "x"\n').uncertainty == "seeds"
