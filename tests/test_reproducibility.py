"""Same rng -> identical results, in this process or another; different rng -> different results."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from abm import ICSModel

SMALL = {"n_systems": 2, "n_vcse": 4, "n_primary_care": 6}
MONTHS = 18


def run(rng, params=None, months=MONTHS, regime_change=None, how="set"):
    """Run a model; return (model table, organisation table, tie table, regime history)."""
    model = ICSModel(rng=rng, collect_ties=True, **{**SMALL, **(params or {})})
    if regime_change is None:
        model.run_for(months)
    else:
        month, regime, knobs = regime_change
        if how == "schedule":
            model.schedule_regime(month + 1, regime, **knobs)
            model.run_for(months)
        else:
            model.run_for(month)
            model.set_regime(regime, **knobs)
            model.run_for(months - month)
    dc = model.datacollector
    history = [(m, r.name, tuple(r.knobs().items())) for m, r in model.regime_history]
    return dc.get_model_vars_dataframe(), dc.get_agent_vars_dataframe(), model.tie_table(), history


def assert_same(a, b):
    for x, y in zip(a[:3], b[:3]):
        assert_frame_equal(x, y, check_exact=True)


def assert_different(a, b):
    with pytest.raises(AssertionError):
        assert_frame_equal(a[0], b[0], check_exact=True)


def spawn_pool(workers):
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


@pytest.fixture(scope="module")
def reference():
    return run(2024)


def test_same_rng_gives_identical_tables(reference):
    again = run(2024)
    assert_same(reference, again)
    assert len(reference[0]) == MONTHS + 1 and len(reference[1]) > 0 and len(reference[2]) > 0


def test_same_rng_gives_identical_collected_tie_tables():
    a = ICSModel(rng=5, collect_ties=True, **SMALL)
    b = ICSModel(rng=5, collect_ties=True, **SMALL)
    a.run_for(6)
    b.run_for(6)
    for month in (0, 3, 6):
        assert_frame_equal(a.datacollector.get_tie_table(month), b.datacollector.get_tie_table(month),
                           check_exact=True)


def test_different_rng_gives_different_results(reference):
    other = run(2025)
    assert_different(reference, other)
    with pytest.raises(AssertionError):
        assert_frame_equal(reference[2], other[2], check_exact=True)


def test_no_rng_is_not_fixed():
    a, b = run(None, months=6), run(None, months=6)
    assert_different(a, b)


def test_results_do_not_depend_on_what_ran_before_in_the_process(reference):
    run(7, months=5)
    ICSModel(rng=3).run_for(2)
    assert_same(reference, run(2024))


def test_identical_in_a_spawned_process(reference):
    with spawn_pool(1) as pool:
        remote = pool.submit(run, 2024).result(timeout=120)
    assert_same(reference, remote)


def test_identical_with_two_spawned_workers_in_any_order():
    seeds = [11, 12, 13]
    change = (6, "top_down", {"system_focus": 0.5})
    local = {s: run(s, regime_change=change) for s in seeds}
    with spawn_pool(2) as pool:
        futures = {s: pool.submit(run, s, None, MONTHS, change) for s in reversed(seeds)}
        remote = {s: f.result(timeout=120) for s, f in futures.items()}
    for s in seeds:
        assert_same(local[s], remote[s])
        assert local[s][3] == remote[s][3]


def test_set_regime_mid_run_is_reproducible_and_has_an_effect(reference):
    change = (9, "top_down", {"oversight_intensity": 0.95})
    a = run(2024, regime_change=change)
    b = run(2024, regime_change=change)
    assert_same(a, b)
    assert a[3] == b[3]
    assert [m for m, *_ in a[3]] == [0, 9]
    assert a[3][1][1] == "top_down" and dict(a[3][1][2])["oversight_intensity"] == 0.95
    # months before the change are the reference's; after it they differ
    assert_frame_equal(a[0].loc[:9], reference[0].loc[:9], check_exact=True)
    with pytest.raises(AssertionError):
        assert_frame_equal(a[0].loc[10:], reference[0].loc[10:], check_exact=True)


def test_scheduled_regime_change_equals_setting_it_between_the_same_months():
    change = (9, "earned_autonomy", {"system_focus": 0.9})
    by_set = run(31, regime_change=change, how="set")
    by_schedule = run(31, regime_change=change, how="schedule")
    assert_same(by_set, by_schedule)
    assert by_schedule[3][-1][1:] == by_set[3][-1][1:]


def test_tables_have_the_documented_shape(reference):
    model_df, agents, ties, _ = reference
    assert model_df.index.name == "Step"  # Mesa's name; one step is one month
    assert list(agents.index.names) == ["Step", "AgentID"]
    assert {"source", "target", "trust", "damage", "record", "level", "level_name"} <= set(ties.columns)
    assert isinstance(model_df, pd.DataFrame)
