"""Scenario discovery (PRIM and CART from EMA Workbench) and the EMA adapter."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments
from experiments import discover
from experiments.cli import main
from experiments.runner import run_experiment
from experiments.seeds import replicate_seeds
from experiments.spec import load_experiment, parse_experiment
from experiments.store import Results

ROOT = Path(__file__).resolve().parent.parent


def synthetic(n: int = 80, replicates: int = 2, seed: int = 0) -> Results:
    """A stored sampled experiment in memory: top_down beats permissive exactly when x1 < 0.5."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(0.2, 0.8, n), rng.uniform(0.1, 0.7, n)   # x1 -> pressure, x2 -> initial_trust
    runs, metrics = [], []
    for i in range(n):
        for j, regime in enumerate(("top_down", "permissive")):
            point = 2 * i + j
            for r in range(replicates):
                run_id = f"p{point:04d}-r{r:03d}"
                runs.append({"run_id": run_id, "point": point, "replicate": r, "seed": 100 + r, "months": 1,
                             "status": "ok", "regime": regime, "pressure": x1[i], "initial_trust": x2[i]})
                base = 0.5 + 0.01 * r
                value = base + (0.05 if (regime == "top_down") == (x1[i] < 0.5) else -0.05)
                metrics += [{"run_id": run_id, "month": 0, "system_outcome": 0.5},
                            {"run_id": run_id, "month": 1, "system_outcome": value}]
    manifest = {"experiment": {"name": "synthetic", "design": "latin_hypercube", "months": 1,
                               "replicates": replicates, "factors": ["regime", "pressure", "initial_trust"],
                               "categorical": ["regime"], "text": ""}}
    return Results(path=Path("synthetic"), manifest=manifest, runs=pd.DataFrame(runs), metrics=pd.DataFrame(metrics))


def test_scenarios_pair_the_regimes_on_common_seeds():
    table = discover.scenarios(synthetic(20), discover.Question())
    assert len(table) == 20 and set(table["replicates"]) == {2}
    assert (table["win"] == (table["pressure"] < 0.5)).all()
    assert np.allclose(table["difference"].abs(), 0.1)


def test_prim_finds_the_box_and_it_holds_out_of_sample():
    found, figures = discover.discover(synthetic(), discover.Question())
    box = found.prim
    assert box is not None and "pressure" in box.limits
    assert box.limits["pressure"][1] < 0.5 + 0.05
    assert box.density_fit == 1.0 and box.density_test > 0.9 and box.coverage_test > 0.5
    assert found.n_fit + found.n_test == 80 and found.n_fit == 40
    assert {"tradeoff", "held_out"} <= set(figures)
    assert found.cart and all(b.density_fit >= 0.5 for b in found.cart)
    text = discover.summary_text(found)
    assert "PRIM box:" in text and "held out" in text


def test_restrictions_that_are_noise_are_flagged():
    found, _ = discover.discover(synthetic(), discover.Question())
    for dim, p in found.prim.quasi_p.items():
        assert (dim in found.prim.not_significant) == (p > found.alpha)
    # pressure decides the outcome, so its restriction is significant
    assert "pressure" not in found.prim.not_significant


def test_no_boundary_when_one_regime_always_wins():
    found, _ = discover.discover(synthetic(), discover.Question(margin=0.5))
    assert found.prim is None and found.warnings and "every fitting scenario" in found.warnings[0]


def test_split_halves_are_disjoint_stratified_and_reproducible():
    wins = np.array([True] * 13 + [False] * 67)
    a, b = discover.split(wins, 3)
    assert sorted([*a, *b]) == list(range(80)) and len(a) == len(b) == 40
    assert abs(int(wins[a].sum()) - int(wins[b].sum())) <= 1
    assert [list(x) for x in discover.split(wins, 3)] == [list(a), list(b)]


def test_held_out_points_beyond_the_fitted_range_count_where_the_box_is_open():
    init = pd.DataFrame({"p": [0.2, 0.8], "q": [0.0, 1.0]})
    box = pd.DataFrame({"p": [0.2, 0.5], "q": [0.0, 1.0]})     # restricts only p's upper side
    x = pd.DataFrame({"p": [0.1, 0.4, 0.6], "q": [1.5, 0.5, 0.5]})
    assert list(discover.in_box(x, box, init)) == [True, True, False]
    assert list(discover.in_box(x, box)) == [False, True, False]


@pytest.mark.parametrize("body, words", [
    ('design = "full_factorial"\n[factors]\nregime = ["top_down", "permissive"]\npressure = [0.2, 0.8]\n',
     "latin_hypercube"),
    ('design = "latin_hypercube"\n[factors]\nregime = ["top_down", "hands_off"]\npressure = {low = 0.2, high = 0.8}\n',
     "'permissive' is not among"),
    ('design = "latin_hypercube"\n[factors]\npressure = {low = 0.2, high = 0.8}\n', "needs regime ="),
])
def test_experiments_that_cannot_answer_are_refused_before_running(body, words):
    exp = parse_experiment('[experiment]\nname = "d"\nmonths = 2\nreplicates = 1\n' + body, source="d.toml")
    with pytest.raises(discover.DiscoveryError, match=words):
        discover.check_experiment(exp, discover.Question())


def test_shipped_discovery_experiment_pairs_top_down_with_permissive():
    exp = load_experiment(ROOT / "experiments" / "topdown_vs_permissive.toml")
    discover.check_experiment(exp, discover.Question())
    assert exp.design == "latin_hypercube" and exp.factors["regime"].values == ("top_down", "permissive")


@pytest.fixture(scope="module")
def tiny_sampled(tmp_path_factory):
    text = ('[experiment]\nname = "tiny-discovery"\nmonths = 3\nreplicates = 1\nseed = 2\n'
            'design = "latin_hypercube"\nsamples = 24\n'
            '[parameters]\nn_vcse = 2\nn_primary_care = 4\n'
            '[factors]\nregime = ["top_down", "permissive"]\npressure = {low = 0.2, high = 0.8}\n'
            'initial_trust = {low = 0.1, high = 0.7}\n')
    out = tmp_path_factory.mktemp("disc") / "out"
    with ThreadPoolExecutor(2) as pool:
        run_experiment(parse_experiment(text, source="tiny.toml"), out, executor=pool, progress=False)
    return out


def test_discover_command_on_a_results_folder_writes_the_report(tiny_sampled, capsys):
    assert main(["discover", str(tiny_sampled), "--metric", "trust_mean"]) == 0
    out = capsys.readouterr().out
    assert "When does top_down beat permissive on trust_mean" in out
    stored = json.loads((tiny_sampled / "discovery.json").read_text())
    assert stored["n_scenarios"] == 24 and stored["n_fit"] == 12
    page = (tiny_sampled / "report.html").read_text()
    assert "Scenario discovery: when does top_down beat permissive?" in page
    assert "held out" in page


def test_discover_bad_input_is_one_line_exit_2(tiny_sampled, capsys):
    assert main(["discover", str(tiny_sampled), "--metric", "trust_man"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'trust_mean'" in err and len(err.splitlines()) == 1
    assert main(["discover", str(tiny_sampled), "--better", "hands_off"]) == 2
    assert "'hands_off' was not run" in capsys.readouterr().err
    assert main(["discover", str(tiny_sampled), "--set", "pressure=0.3"]) == 2
    assert "results folder" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the EMA adapter
def test_ema_adapter_runs_with_emas_evaluator():
    from ema_workbench import SequentialEvaluator

    from experiments.ema import ics_model, regime_policies

    model = ics_model(["pressure", "initial_trust"], regimes=["top_down", "permissive"], months=3, replicates=2,
                      seed=5, fixed={"n_vcse": 2, "n_primary_care": 4}, metrics=["system_outcome", "trust_mean"])
    assert [r["rng"] for r in model.replications] == replicate_seeds(5, 2)
    with SequentialEvaluator(model) as evaluator:
        table, outcomes = evaluator.perform_experiments(scenarios=2, policies=regime_policies(["top_down", "permissive"]))
    assert len(table) == 4 and set(table["regime"]) == {"top_down", "permissive"}
    # every scenario runs under both regimes with the same uncertain values (paired)
    for _, g in table.groupby("scenario"):
        assert g["pressure"].nunique() == 1 and len(g) == 2
    assert set(outcomes) == {f"{m}_{k}" for m in ("system_outcome", "trust_mean") for k in ("final", "mean", "series")}
    assert outcomes["system_outcome_series"].shape == (4, 2, 4)   # experiments x replicates x months 0-3
    assert np.allclose(outcomes["system_outcome_final"], outcomes["system_outcome_series"][:, :, -1].mean(axis=1))


def test_ema_adapter_reproduces_a_sweep_run():
    from experiments.ema import run_ics
    from experiments.runner import build_model, resolved_parameters

    params = {"pressure": 0.6, "regime": "top_down", "n_vcse": 2, "n_primary_care": 4}
    out = run_ics(months=3, rng=11, **params)
    model = build_model(resolved_parameters(params), 11)
    model.run_for(3)
    expected = model.datacollector.get_model_vars_dataframe()["trust_mean"].to_numpy()
    assert np.array_equal(out["trust_mean_series"], expected)
    assert out["trust_mean_final"] == expected[-1] and out["trust_mean_mean"] == pytest.approx(expected[1:].mean())


def test_ema_uncertainties_come_from_the_parameter_table():
    from ema_workbench import IntegerParameter, RealParameter

    from abm.parameters import PARAMETERS
    from experiments.ema import default_uncertainties, ema_parameter, ics_model

    p = ema_parameter("pressure")
    assert isinstance(p, RealParameter) and (p.lower_bound, p.upper_bound) == (PARAMETERS["pressure"].low,
                                                                               PARAMETERS["pressure"].high)
    assert isinstance(ema_parameter("capability_delay", 6, 48), IntegerParameter)
    names = default_uncertainties()
    assert "pressure" in names and "regime" not in names and "n_acute" not in names and "rng" not in names
    with pytest.raises(ValueError, match="did you mean 'pressure'"):
        ema_parameter("presure")
    with pytest.raises(ValueError, match="both varied and fixed"):
        ics_model(["pressure"], fixed={"pressure": 0.3})
