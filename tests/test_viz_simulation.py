"""The browser view's simulation object: seeds, Reset, regime changes, events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abm import ICSModel, PARAMETERS, REGIMES
from viz.simulation import COUNT_PARAMETERS, LIVE_KNOBS, START_PARAMETERS, Simulation, parse_seed


@pytest.fixture
def sim():
    return Simulation(seed_text="7")


def test_same_seed_gives_the_same_run_as_the_model(sim):
    sim.step(24)
    direct = ICSModel(rng=7)
    direct.run_for(24)
    pd_view = sim.history()
    pd_direct = direct.datacollector.get_model_vars_dataframe()
    assert pd_view.equals(pd_direct)


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "1e3", "4 2", "0x10", "²", "١٢", "None", "9" * 19, "\x00"])
def test_a_bad_seed_keeps_the_model_and_says_why(sim, text):
    sim.step(3)
    model = sim.model
    result = sim.reset(seed_text=text)
    assert not result.ok
    assert "seed" in result.message.lower() and "kept" in result.message
    assert sim.model is model and sim.month == 3 and sim.seed_text == "7"


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=40))
def test_any_seed_text_never_raises(text):
    sim = Simulation(seed_text="1")
    model = sim.model
    result = sim.reset(seed_text=text)
    if result.ok:
        assert sim.model is not model and sim.seed == int(sim.seed_text)
    else:
        assert sim.model is model and result.message


def test_blank_seed_draws_a_seed_and_shows_it(sim):
    result = sim.reset(seed_text="   ")
    assert result.ok
    assert sim.seed_text == str(sim.seed)
    again = Simulation(seed_text=sim.seed_text)
    assert np.array_equal(again.model.ties.trust, sim.model.ties.trust)


def test_parse_seed_accepts_plain_whole_numbers():
    assert parse_seed(" 42 ") == 42
    assert parse_seed("0") == 0
    with pytest.raises(ValueError, match="whole number"):
        parse_seed("forty-two")


def test_reset_applies_new_settings_and_rejects_bad_ones(sim):
    result = sim.reset(n_vcse=20, initial_trust=0.8)
    assert result.ok and sim.month == 0
    assert sum(o.kind == "vcse" for o in sim.model.organisations) == 20
    assert sim.model.p["initial_trust"] == 0.8
    model = sim.model
    bad = sim.reset(n_acute=99)
    assert not bad.ok and "n_acute" in bad.message and "kept" in bad.message
    assert sim.model is model and sim.settings["n_acute"] == PARAMETERS["n_acute"].default


def test_regime_change_acts_now_and_is_marked(sim):
    sim.step(5)
    sim.change_regime("top_down")
    assert sim.month == 5 and sim.model.regime.name == "top_down"
    assert sim.model.regime.oversight_intensity == REGIMES["top_down"].oversight_intensity
    sim.step(2)
    sim.change_knob("system_focus", 0.9)
    assert sim.model.regime.system_focus == 0.9 and sim.model.regime.name == "top_down"
    marks = sim.marks()
    assert [(m.month, m.label, m.kind) for m in marks] == [(5, "top_down", "regime"), (7, "top_down (adjusted)", "regime")]


def test_reset_keeps_the_regime_and_its_knobs(sim):
    sim.change_regime("earned_autonomy")
    sim.change_knob("oversight_intensity", 0.3)
    assert sim.reset().ok
    assert sim.model.regime.name == "earned_autonomy"
    assert sim.model.regime.oversight_intensity == 0.3
    assert sim.model.regime_history[1:] == []  # a fresh model starts in the chosen regime


def test_knob_out_of_range_is_refused(sim):
    with pytest.raises(ValueError, match="oversight_intensity"):
        sim.change_knob("oversight_intensity", 1.5)
    with pytest.raises(ValueError, match="not a knob"):
        sim.change_knob("sanction_severity", 0.5)


def test_events_change_the_model(sim):
    sim.step(2)
    shock_before = sim.model.orgs.shock.copy()
    assert "winter" in sim.trigger("winter").lower()
    assert (sim.model.orgs.shock > shock_before).all()

    councils = sim.model.orgs.kind == "local_authority"
    budget_before = sim.model.orgs.budget[councils].copy()
    sim.trigger("budget_cut")
    assert np.allclose(sim.model.orgs.budget[councils], 0.9 * budget_before)

    acute_before = len(sim.model.organisations_of("acute"))
    sim.trigger("merger")
    assert len(sim.model.organisations_of("acute")) == acute_before - 1
    assert [(m.month, m.kind) for m in sim.marks()] == [(2, "event")] * 3


def test_merger_with_one_acute_trust_says_so():
    sim = Simulation(seed_text="3", n_acute=1)
    message = sim.trigger("merger")
    assert message.startswith("No merger")
    assert len(sim.model.organisations_of("acute")) == 1 and sim.marks() == []


def test_kind_history_has_one_row_per_kind_and_month(sim):
    sim.step(4)
    kinds = sim.kind_history()
    n_kinds = len({o.kind for o in sim.model.organisations})
    assert len(kinds) == 5 * n_kinds
    table = sim.model.datacollector.get_agent_vars_dataframe()
    expected = table.loc[4].groupby("kind")["turf"].mean()
    got = kinds.xs(4, level="month")["turf"]
    assert got.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())


def test_control_lists_name_real_parameters():
    for name in (*START_PARAMETERS, *COUNT_PARAMETERS, *LIVE_KNOBS):
        assert name in PARAMETERS
    assert set(LIVE_KNOBS) <= {"oversight_intensity", "system_focus", "sanction_severity",
                               "prescriptiveness", "earned_autonomy", "funding_flexibility"}


def test_organisation_details_report_the_model_state(sim):
    sim.step(3)
    org = sim.model.organisation_rows[5]
    d = sim.organisation_details(5)
    assert d["turf"] == pytest.approx(org.turf)
    assert d["trust_given"] == pytest.approx(org.trust_given)
    assert d["trust_received"] == pytest.approx(org.trust_received)
    assert d["true_performance"] == pytest.approx(org.true_performance)
    assert d["partners"] == len(org.partners()) and sum(d["levels"]) == d["partners"]


def test_too_many_organisations_for_the_browser_is_refused(sim):
    from viz.simulation import MAX_ORGANISATIONS, estimated_organisations

    model = sim.model
    result = sim.reset(n_systems=42, n_vcse=300)
    assert not result.ok and "too many" in result.message and sim.model is model
    assert estimated_organisations({**sim.settings, "n_systems": 42, "n_vcse": 300}) > MAX_ORGANISATIONS
    # the estimate is an upper bound of the real count
    for counts in ({}, {"n_vcse": 900}, {"n_systems": 5, "n_local_authorities": 7}):
        assert sim.reset(**counts).ok
        settings = {**sim.settings}
        assert len(sim.model.organisations) <= estimated_organisations(settings)


def test_messages_name_the_organisations_involved():
    sim = Simulation(seed_text="5")
    acute = [i for i, o in enumerate(sim.model.organisations) if o.kind == "acute"]
    names = sim.snapshot().layout.names
    message = sim.trigger("merger")
    assert names[acute[-1]] in message and names[acute[0]] in message and "merged into" in message
    assert "Council (Place 1)" in sim.trigger("budget_cut")
    assert sim.marks()[-1].label == "Council cut"


def test_metrics_csv_has_a_row_per_month_and_every_metric():
    import io

    from abm.metrics import MODEL_METRICS
    sim = Simulation(seed_text="5")
    sim.step(3)
    table = pd.read_csv(io.StringIO(sim.metrics_csv()))
    assert list(table["month"]) == [0, 1, 2, 3]
    assert set(MODEL_METRICS) <= set(table.columns)
    assert table["delayed_discharge_days"].iloc[-1] == pytest.approx(sim.history()["delayed_discharge_days"].iloc[-1],
                                                                      rel=1e-5)


def test_a_moved_knob_makes_the_regime_custom_and_a_preset_undoes_it():
    from viz.simulation import is_custom
    sim = Simulation(seed_text="5")
    assert not is_custom(sim.snapshot().regime)
    sim.change_knob("system_focus", 0.95)
    assert is_custom(sim.snapshot().regime)
    sim.change_regime(sim.snapshot().regime.name)
    assert not is_custom(sim.snapshot().regime)


def test_a_real_ics_is_built_by_name_and_the_stylised_one_again():
    from abm import england
    from viz.simulation import STYLISED, ics_choices
    choices = ics_choices()
    assert choices[0] == (STYLISED, None) and [v for _, v in choices[1:]] == england.names()
    sim = Simulation(seed_text="5")
    name = england.names()[0]
    result = sim.reset(ics=name)
    assert result.ok and name in result.message
    assert sim.snapshot().settings["ics"] == name and sim.model.ics_names == [name]
    assert sim.reset(ics=None).ok and sim.snapshot().settings["ics"] is None
    assert sim.reset(ics="Nowhere at all").ok is False  # a bad name keeps the model
    assert sim.snapshot().settings["ics"] is None
