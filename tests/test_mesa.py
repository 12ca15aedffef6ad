"""The model behaves as Mesa's own tools expect (issue 14).

A modeller who knows Mesa uses ``mesa.batch_run``, ``SolaraViz`` with Mesa's plot
components, ``AgentSet`` idioms and ``DataCollector`` reporters on this model as on any
Mesa model; these tests run each of those the way Mesa's own code does.
"""

from __future__ import annotations

import inspect
import multiprocessing
import pydoc

import ipyvuetify as v
import mesa
from mesa.agentset import AgentSet
import numpy as np
import pandas as pd
import pytest
import solara
from mesa.experimental.scenarios import Scenario
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.components.altair_components import PlotAltair
from mesa.visualization.components.matplotlib_components import PlotMatplotlib

from abm import ICSModel, MODEL_METRICS, PARAMETERS
from agents import AcuteTrust, NHSEOverseer, Organisation

SMALL = {"n_vcse": 2, "n_primary_care": 4}
SMALL_ACUTE = PARAMETERS["n_acute"].default


@pytest.fixture
def restore_start_method():
    """``mesa.batch_run`` forces the 'spawn' start method on the whole process; put it back."""
    method = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(method, force=True)


# --------------------------------------------------------------------- batch_run
def test_batch_run_gives_model_and_agent_rows(restore_start_method):
    rows = mesa.batch_run(ICSModel, parameters={**SMALL, "regime": ["permissive", "top_down"]},
                          rng=[1], max_steps=3, data_collection_period=1, display_progress=False)
    frame = pd.DataFrame(rows)
    model = ICSModel(rng=1, **SMALL)
    n_orgs = len(model.organisations)
    assert len(frame) == 2 * 4 * n_orgs  # two regimes, months 0-3, one row per organisation
    assert {"RunId", "iteration", "Step", "regime", "AgentID", "turf", "trust_given", "kind",
            *MODEL_METRICS} <= set(frame.columns)
    assert sorted(frame["Step"].unique()) == [0, 1, 2, 3]
    model.run_for(3)
    agents = model.datacollector.get_agent_vars_dataframe()
    last = frame[(frame["regime"] == "permissive") & (frame["Step"] == 3)].set_index("AgentID")
    assert np.allclose(last["turf"], agents.loc[3]["turf"].loc[last.index])
    assert np.allclose(last["trust_mean"], model.datacollector.get_model_vars_dataframe()["trust_mean"].iloc[-1])


def test_batch_run_with_iterations(restore_start_method):
    with pytest.warns(DeprecationWarning, match="iterations"):  # Mesa 3.5 prefers rng=[...]
        rows = mesa.batch_run(ICSModel, parameters={**SMALL, "collect_agents": False},
                              iterations=2, max_steps=2, display_progress=False)
    frame = pd.DataFrame(rows)
    assert list(frame["Step"]) == [2, 2] and list(frame["iteration"]) == [0, 1]
    assert "AgentID" not in frame.columns  # no organisation table asked for, so one row per run


# --------------------------------------------------------------------- DataCollector
def test_collector_is_a_mesa_datacollector_with_mesa_indexes():
    model = ICSModel(rng=2, **SMALL)
    model.run_for(2)
    dc = model.datacollector
    assert isinstance(dc, mesa.DataCollector)
    table = dc.get_model_vars_dataframe()
    assert table.index.name == "Step" and list(table.index) == [0, 1, 2]
    assert list(table.columns) == list(MODEL_METRICS)
    agents = dc.get_agent_vars_dataframe()
    assert list(agents.index.names) == ["Step", "AgentID"]
    assert set(dc.model_reporters) == set(MODEL_METRICS)
    assert list(dc.agent_reporters) == list(agents.columns)


def test_built_in_agent_reporters_read_the_agents_own_attributes():
    """The organisation table is computed on arrays; Mesa's reading of each reporter on each
    agent (``getattr(agent, name)``) gives the same values."""
    model = ICSModel(rng=2, **SMALL)
    model.run_for(3)
    model.trigger("merger", system=0)
    model.step()
    dc = model.datacollector
    table = dc.get_agent_vars_dataframe().loc[4]
    assert list(table.index) == [o.unique_id for o in model.organisations]
    for name, reporter in dc.agent_reporters.items():
        by_agent = [reporter(o) for o in model.organisations]
        if isinstance(by_agent[0], str):
            assert list(table[name]) == by_agent, name
        else:
            assert np.allclose(table[name].to_numpy(dtype=float), by_agent), name


def test_reporters_are_added_the_mesa_way():
    model = ICSModel(
        rng=3, **SMALL,
        model_reporters={"acute_turf": lambda m: m.organisations.select(lambda o: o.kind == "acute").agg("turf", np.mean),
                         "month_again": "month"},
        agent_reporters={"budget_now": "current_budget", "partners": lambda o: len(o.partners())},
        agenttype_reporters={AcuteTrust: {"segment": "segment"}, NHSEOverseer: {"label": "label"}},
    )
    model.run_for(2)
    dc = model.datacollector
    table = dc.get_model_vars_dataframe()
    assert list(table["month_again"]) == [0, 1, 2]
    assert {"trust_mean", "acute_turf"} <= set(table.columns)
    agents = dc.get_agent_vars_dataframe()
    assert {"turf", "budget_now", "partners"} <= set(agents.columns)
    assert (agents["partners"] > 0).all()
    acute = dc.get_agenttype_vars_dataframe(AcuteTrust)
    assert list(acute.index.names) == ["Step", "AgentID"] and len(acute) == 3 * SMALL_ACUTE
    assert list(dc.get_agenttype_vars_dataframe(NHSEOverseer)["label"].unique()) == ["NHS England"]


def test_a_reporter_may_not_reuse_a_built_in_name():
    with pytest.raises(ValueError, match="trust_mean"):
        ICSModel(model_reporters={"trust_mean": lambda m: 0.0})


# --------------------------------------------------------------------- visualisation
def model_params():
    return {
        "n_vcse": mesa.visualization.Slider("VCSE providers per ICS", 4, 0, 20),
        "regime": {"type": "Select", "value": "permissive", "values": ["permissive", "top_down"], "label": "Regime"},
        "rng": 5,
    }


def test_solaraviz_reset_rebuilds_the_model_with_the_chosen_parameters():
    model = solara.reactive(ICSModel(rng=5, n_vcse=4))

    @solara.component
    def Page():
        with solara.AppLayout():  # SolaraViz puts its controls in the app's sidebar
            SolaraViz(model, components=[make_plot_component("trust_mean")], model_params=model_params())

    box, rc = solara.render(Page(), handle_error=False)
    try:
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert model.value.month == 1
        first = model.value
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert model.value is not first and model.value.month == 0
        assert model.value.p["n_vcse"] == 4 and model.value.p["rng"] == 5
        assert np.array_equal(model.value.ties.trust, ICSModel(rng=5, n_vcse=4).ties.trust)
    finally:
        rc.close()


@pytest.mark.parametrize("plot", [PlotMatplotlib, PlotAltair])
def test_mesa_plot_components_draw_the_metrics(plot):
    model = ICSModel(rng=4, **SMALL)
    model.run_for(3)
    box, rc = solara.render(plot(model, ["trust_mean", "turf_mean"]), handle_error=False)
    rc.close()


# --------------------------------------------------------------------- agents
def test_organisations_is_an_agentset_of_the_organisations_only():
    model = ICSModel(rng=6, **SMALL)
    orgs = model.organisations
    assert isinstance(orgs, AgentSet)
    assert all(isinstance(o, Organisation) for o in orgs)
    assert not any(r in orgs for r in model.regulators)
    assert orgs.agg("turf", np.mean) == pytest.approx(model.datacollector.get_model_vars_dataframe()["turf_mean"].iloc[0])
    assert orgs.groupby("kind").count()["acute"] == PARAMETERS["n_acute"].default
    assert [o.index for o in model.organisation_rows] == list(range(model.orgs.n))


def test_a_merged_organisation_leaves_the_set_but_keeps_its_row():
    model = ICSModel(rng=6, **SMALL)
    before = len(model.organisations)
    model.trigger("merger", system=0)
    gone = int(np.flatnonzero(~model.orgs.active)[0])
    assert len(model.organisations) == before - 1
    assert model.organisation_rows[gone] not in model.organisations
    assert model.organisation_rows[gone].index == gone
    assert model.organisations.agg("turf", np.mean) == pytest.approx(model.orgs.turf[model.orgs.active].mean())


def test_agent_step_says_how_the_month_is_scheduled():
    model = ICSModel(rng=7, **SMALL)
    with pytest.raises(NotImplementedError, match=r"ICSModel\.step.*docs/extending\.md"):
        model.organisations.shuffle_do("step")
    with pytest.raises(NotImplementedError, match=r"ICSModel\.step"):
        model.regulators[0].step()


# --------------------------------------------------------------------- parameters
def test_signature_lists_every_parameter_with_its_default():
    params = inspect.signature(ICSModel).parameters
    for name, spec in PARAMETERS.items():
        assert name in params, name
        assert params[name].default == spec.default, name
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert "scenario" in params and "rules" in params
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def test_help_gives_every_parameter_its_meaning():
    text = pydoc.render_doc(ICSModel, renderer=pydoc.plaintext)
    for name, spec in PARAMETERS.items():
        assert f"{name}" in text and spec.meaning.split()[0] in text, name
    assert "n_acute = 3" in text or "n_acute: int = 3" in text


# --------------------------------------------------------------------- scenario
def test_scenario_carries_the_parameters():
    from_scenario = ICSModel(scenario=Scenario(rng=8, n_vcse=3, regime="top_down"))
    from_keywords = ICSModel(rng=8, n_vcse=3, regime="top_down")
    assert from_scenario.p == from_keywords.p
    assert np.array_equal(from_scenario.ties.trust, from_keywords.ties.trust)
    again = ICSModel(scenario=from_keywords.scenario)
    assert again.p == from_keywords.p


def test_scenario_and_keywords_must_agree():
    with pytest.raises(ValueError, match="n_vcse"):
        ICSModel(scenario=Scenario(n_vcse=3), n_vcse=4)
    with pytest.raises(TypeError, match="n_vcs"):
        ICSModel(scenario=Scenario(n_vcs=3))
