"""The browser view's pure parts: layout, network data, chart options, server command."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from abm import ICSModel
from abm.network import LEVELS
from viz import charts
from viz.charts import Mark
from viz.layout import compute_layout, layout_for, structure_key
from viz.network_data import network_state, network_structure
from viz.server import OFFLINE_ENV, command, offline_environment
from viz.simulation import Simulation


@pytest.fixture(scope="module")
def default_model():
    return ICSModel(rng=3)


@pytest.fixture(scope="module")
def large_model():
    return ICSModel(rng=3, n_vcse=900)


# ------------------------------------------------------------------ layout
def test_layout_depends_on_structure_not_on_seed(default_model):
    other = ICSModel(rng=99)
    assert structure_key(other) == structure_key(default_model)
    assert layout_for(other) is layout_for(default_model)  # cached: not recomputed


def test_layout_is_computed_once_per_structure(default_model):
    layout_for(default_model)
    before = compute_layout.cache_info()
    for seed in (5, 6, 7):
        layout_for(ICSModel(rng=seed))
    after = compute_layout.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 3
    bigger = ICSModel(rng=5, n_vcse=12)
    layout_for(bigger)
    assert compute_layout.cache_info().misses == after.misses + 1


def test_layout_is_the_same_in_a_fresh_computation(default_model):
    key = structure_key(default_model)
    cached = layout_for(default_model).positions
    compute_layout.cache_clear()
    again = compute_layout(key).positions
    assert np.array_equal(cached, again)


@pytest.mark.parametrize("settings", [{}, {"n_vcse": 900}, {"n_local_authorities": 1},
                                      {"n_local_authorities": 14, "n_acute": 12}, {"n_systems": 5}])
def test_no_two_organisations_on_top_of_each_other(settings):
    model = ICSModel(rng=2, **settings)
    pos = layout_for(model).positions
    assert pos.shape == (len(model.organisations), 2)
    assert np.isfinite(pos).all()
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() > 0.1


def test_place_organisations_sit_by_their_own_council(large_model):
    model = large_model
    pos = layout_for(model).positions
    councils = {o.place: o.index for o in model.organisations if o.kind == "local_authority"}
    for org in model.organisations:
        if org.tier == "place":
            own = np.hypot(*(pos[org.index] - pos[councils[org.place]]))
            others = [np.hypot(*(pos[org.index] - pos[c])) for p, c in councils.items() if p != org.place]
            assert own < min(others), org


def test_icb_at_the_centre_of_its_system():
    model = ICSModel(rng=1, n_systems=3)
    layout = layout_for(model)
    for org in model.organisations:
        if org.kind == "icb":
            assert np.allclose(layout.positions[org.index], layout.system_centres[org.system])
    # every organisation is nearer its own ICS's centre than any other ICS's centre
    centres = layout.system_centres
    for org in model.organisations:
        d = np.hypot(*(centres - layout.positions[org.index]).T)
        assert int(np.argmin(d)) == org.system


def test_names_are_readable_and_unique(default_model):
    names = layout_for(default_model).names
    assert len(set(names)) == len(names)
    assert "Integrated Care Board" in names
    assert any(n.startswith("Primary care network") and "(Place " in n for n in names)
    assert "Council (Place 2)" in names and "Acute hospital trust (Place 1)" in names


# ------------------------------------------------------------------ network data
def test_network_data_lines_up_with_the_model(default_model):
    model = default_model
    structure = network_structure(model, layout_for(model), run_id=4)
    state = network_state(model, run_id=4)
    n, pairs = len(model.organisations), model.ties.n // 2
    assert len(structure["x"]) == len(structure["y"]) == len(structure["colour"]) == n
    assert len(structure["a"]) == len(state["level"]) == len(state["trust"]) == pairs
    assert len(state["size"]) == len(state["info"]) == n
    assert structure["id"] == state["id"] == 4
    assert all(0.0 <= v <= 1.0 for v in structure["x"] + structure["y"])
    assert set(state["level"]) <= set(range(len(LEVELS)))
    assert structure["colour"][0] == model.organisation_rows[0].colour
    json.dumps(structure), json.dumps(state)  # what the browser receives


def test_network_state_follows_the_model():
    model = ICSModel(rng=8)
    before = network_state(model, 1)
    model.run_for(12)
    after = network_state(model, 1)
    assert after["month"] == 12
    assert after["level"] != before["level"] or after["trust"] != before["trust"]
    # a merger removes an organisation and its partnerships from the picture
    model.trigger("merger", kind="acute", system=0)
    merged = network_state(model, 1)
    gone = [i for i, s in enumerate(merged["size"]) if s < 0]
    assert len(gone) == 1 and model.organisation_rows[gone[0]].kind == "acute"
    assert -1 in merged["level"]


def test_size_by_voice_differs_from_budget_and_bad_choice_is_named(default_model):
    budget = network_state(default_model, 1, "budget")["size"]
    voice = network_state(default_model, 1, "voice")["size"]
    assert budget != voice
    assert max(budget) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="size_by 'colour'"):
        network_state(default_model, 1, "colour")


# ------------------------------------------------------------------ charts
@pytest.fixture(scope="module")
def run_with_changes():
    sim = Simulation(seed_text="11")
    sim.step(6)
    sim.change_regime("top_down")
    sim.trigger("winter")
    sim.step(6)
    return sim


def test_levels_chart_bands_pile_up_to_one_and_mark_the_regime_change(run_with_changes):
    sim = run_with_changes
    history = sim.history()
    option = charts.levels_chart(history, sim.marks())
    series = option["series"]
    assert [s["name"] for s in series] == [n.capitalize() for n in LEVELS]  # the tallest band is drawn first
    assert option["legend"]["data"] == [n.capitalize() for n in reversed(LEVELS)]
    assert not any("stack" in s for s in series)  # ECharts' stacking misplaced the areas (issue 7)
    months = list(history.index)
    for s in series:
        assert [p[0] for p in s["data"]] == months
    assert [p[1] for p in series[0]["data"]] == pytest.approx([1.0] * len(months), abs=1e-3)
    for upper, lower in zip(series, series[1:]):  # each band's top: the band below's top plus its own share
        assert [p[1] for p in upper["data"]] == pytest.approx([q[1] + p[2] for p, q in zip(upper["data"], lower["data"])],
                                                               abs=2e-4)
    bottom = series[-1]["data"]
    assert [p[1] for p in bottom] == [p[2] for p in bottom]
    assert [p[2] for p in bottom] == pytest.approx(history["share_collaborating"].tolist(), abs=1e-4)
    lines = series[0]["markLine"]["data"]
    regime = [d for d in lines if d["lineStyle"]["type"] == "solid"]
    events = [d for d in lines if d["lineStyle"]["type"] == "dotted"]
    assert [(d["xAxis"], d["label"]["formatter"]) for d in regime] == [(6, "top down")]
    assert [d["xAxis"] for d in events] == [6]
    json.dumps(option)


def test_levels_chart_draws_a_break_where_the_data_breaks():
    """Issue 7: cooperation collapsing after a switch at month 36 was drawn as a decline from month 16."""
    months = pd.RangeIndex(0, 49, name="month")
    cooperating = np.where(months <= 36, 0.52, 0.10)
    history = pd.DataFrame({"share_connecting": 0.25, "share_cooperating": cooperating,
                            "share_coordinating": 0.05, "share_collaborating": 0.02}, index=months)
    option = charts.levels_chart(history, [Mark(36, "top_down")])
    band = next(s for s in option["series"] if s["name"] == "Cooperating")
    drawn = {x: y for x, y, _ in band["data"]}
    assert sorted(drawn) == list(months)
    assert [drawn[m] for m in range(37)] == pytest.approx([0.59] * 37)  # flat up to the switch
    assert [drawn[m] for m in range(37, 49)] == pytest.approx([0.17] * 12)
    steps = {m: drawn[m] - drawn[m - 1] for m in range(1, 49)}
    assert min(steps, key=steps.get) == 37 and steps[37] == pytest.approx(-0.42)
    assert [(d["xAxis"], d["name"]) for d in option["series"][0]["markLine"]["data"]] == [(36, "top_down")]


def test_group_charts_have_a_few_labelled_lines_not_ten(run_with_changes):
    sim = run_with_changes
    groups = sim.snapshot().group_history
    for column in ("trust_given", "turf"):
        option = charts.group_chart(groups, column, "t", "a", sim.marks())
        names = [s["name"] for s in option["series"]]
        assert names == [g.label for g in charts.GROUPS]  # NHS trusts, councils, VCSE, primary care, ICB
        for series, group in zip(option["series"], charts.GROUPS):
            assert series["color"] == group.colour and series["endLabel"]["show"]  # a label, not colour alone
            assert len(series["data"]) == sim.month + 1
        assert len({json.dumps(s["lineStyle"]["type"]) for s in option["series"]}) == len(charts.GROUPS)


def _contrast(colour: str) -> float:
    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(colour[k:k + 2], 16) / 255) for k in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_partnership_colours_contrast_on_white_and_kinds_use_okabe_ito():
    assert all(_contrast(c) >= 3.0 for c in charts.LEVEL_COLOURS), [round(_contrast(c), 2) for c in charts.LEVEL_COLOURS]
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert {g.colour for g in charts.GROUPS} <= okabe_ito
    model = ICSModel(rng=1)
    kinds = {o.kind for o in model.organisations}
    assert kinds <= set(charts.KIND_GROUP)  # every built-in kind has a group, hence a shape
    assert len({g.shape for g in charts.GROUPS}) == len(charts.GROUPS)


def test_charts_text_is_at_least_16_px(run_with_changes):
    sim = run_with_changes
    history = sim.history()
    options = [charts.levels_chart(history, sim.marks(), compact=True),
               charts.trust_turf_chart(history, sim.marks(), compact=True),
               charts.outcome_chart(history, sim.marks(), compact=True),
               charts.channels_chart(history, sim.marks()), charts.oversight_chart(history, sim.marks()),
               charts.group_chart(sim.snapshot().group_history, "turf", "t", "a", sim.marks())]
    sizes = [int(v) for o in options for v in re.findall(r'"fontSize":\s*(\d+)', json.dumps(o))]
    assert sizes and min(sizes) >= 16


def test_event_marks_are_labelled(run_with_changes):
    sim = run_with_changes
    line = charts.mark_line(sim.marks())
    events = [d for d in line["data"] if d["lineStyle"]["type"] == "dotted"]
    assert events and all(d["label"]["formatter"] for d in events)


def test_outcome_and_oversight_charts_carry_the_metrics(run_with_changes):
    sim = run_with_changes
    history = sim.history()
    outcome = charts.outcome_chart(history, sim.marks())
    names = [s["name"] for s in outcome["series"]]
    assert names == ["System outcome", "Performance (true)", "Performance (reported)"]
    assert outcome["series"][2]["data"][-1][1] == pytest.approx(history["reported_performance"].iloc[-1], abs=1e-4)
    oversight = charts.oversight_chart(history, sim.marks())
    assert oversight["series"][0]["type"] == "bar"
    assert oversight["yAxis"][0]["max"] in (3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)
    assert oversight["yAxis"][0]["max"] >= history["sanctions"].max()


def test_several_changes_in_one_month_show_the_last():
    line = charts.mark_line([Mark(3, "top_down"), Mark(3, "permissive"), Mark(9, "Merger", "event")])
    regime = [d for d in line["data"] if d["lineStyle"]["type"] == "solid"]
    assert [(d["xAxis"], d["name"]) for d in regime] == [(3, "permissive")]


def test_a_mark_at_the_start_keeps_its_label_off_the_y_axis():
    """Issue 13: a regime change at month 0 labelled its line on the left, over the y axis's numbers ("0." for "0.5")."""
    marks = [Mark(0, "permissive (adjusted)"), Mark(0, "Winter shock", "event"), Mark(24, "top_down")]
    line = charts.mark_line(marks, 120)
    position = {d["name"]: d["label"]["position"] for d in line["data"]}
    assert position == {"permissive (adjusted)": "insideEndBottom", "Winter shock": "insideMiddleBottom",
                        "top_down": "insideEndTop"}
    history = Simulation(seed_text="2").history()
    option = charts.trust_turf_chart(history, marks, compact=True)
    drawn = {d["name"]: d["label"]["position"] for d in option["series"][0]["markLine"]["data"]}
    assert drawn["permissive (adjusted)"] == "insideEndBottom"
    assert charts.mark_line([Mark(5, "top_down")], 600)["data"][0]["label"]["position"] == "insideEndBottom"


def test_month_axis_ends_on_a_whole_year():
    history = Simulation(seed_text="2").history()
    axis = charts.levels_chart(history, [])["xAxis"]
    assert (axis["min"], axis["max"]) == (0, 12)
    sim = Simulation(seed_text="2")
    sim.step(13)
    assert charts.outcome_chart(sim.history(), [])["xAxis"]["max"] == 24


# ------------------------------------------------------------------ server command
def test_server_command_is_offline_and_production():
    cmd = command("127.0.0.1", 8123)
    assert cmd[1:4] == ["-m", "solara", "run"] and cmd[4].endswith("viz/app.py")
    for flag in ("--production", "--no-open", "--no-check-version"):
        assert flag in cmd
    assert cmd[cmd.index("--port") + 1] == "8123" and cmd[cmd.index("--host") + 1] == "127.0.0.1"
    env = offline_environment({"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_ASSETS_PROXY"] == "true"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert set(OFFLINE_ENV) <= set(env)


@pytest.mark.parametrize("port", [0, 70000, "80", True, 8.5])
def test_server_command_rejects_a_bad_port(port):
    with pytest.raises(ValueError, match="port"):
        command("127.0.0.1", port)


def test_server_command_rejects_a_blank_host():
    with pytest.raises(ValueError, match="host"):
        command(" ", 8765)


# ------------------------------------------------------------------ info and ODD text
def test_formulas_become_readable_html():
    from viz.markdown_view import latex_to_html

    assert latex_to_html(r"T_{ij} \leftarrow T_{ij} + \rho\,(o_{ij} - T_{ij})") == (
        "T<sub>ij</sub> ← T<sub>ij</sub> + ρ\u2009(o<sub>ij</sub> - T<sub>ij</sub>)")
    assert latex_to_html(r"\tfrac{1}{2}\big(a+b\big)") == "1/2(a+b)"
    assert latex_to_html(r"\mathrm{clip}(x) \ge \frac{a+b}{c}") == "clip(x) ≥ (a+b)/c"
    assert latex_to_html(r"\text{a < b}") == "a &lt; b"


def test_markdown_keeps_formulas_out_of_the_markdown_parser():
    from viz.markdown_view import markdown_html

    out = markdown_html("Trust $T_{ij}$ and *turf*: $$x_{a} \\cdot y_{b}$$ and `$not_math$`.")
    assert '<span class="ics-math">T<sub>ij</sub></span>' in out
    assert '<div class="ics-math ics-math-display">x<sub>a</sub> · y<sub>b</sub></div>' in out
    assert "<em>turf</em>" in out and "<code>$not_math$</code>" in out


def test_the_odd_renders_without_raw_latex():
    from viz.app import ODD_PATH
    from viz.markdown_view import markdown_html

    if not ODD_PATH.exists():
        pytest.skip("docs/ODD.md is not there")
    out = markdown_html(ODD_PATH.read_text(encoding="utf-8"))
    assert out.count('class="ics-math') > 100
    assert not re.search(r"\\(text|cdot|frac|mathrm|leftarrow)\b", out)  # no LaTeX left over
    assert 'id="parameters"' in out  # in-page links have their targets


def test_nice_axis_tops():
    assert charts.nice_top(0.0, 3) == 3
    assert charts.nice_top(10.4, 3) == 12
    assert charts.nice_top(11.0, 3) == 12
    assert charts.nice_top(0.11, 0.3) == 0.3
    assert charts.nice_top(0.33, 0.3) == 0.4
    assert charts.nice_top(170, 3) == 200


def test_a_real_ics_names_its_places_after_its_councils():
    from abm import england
    name = england.names()[0]
    model = ICSModel(rng=1, ics=name)
    labels = [text for _, _, text, _, _ in network_structure(model, layout_for(model), 1)["labels"]]
    councils = england.place_names({"ics": name})
    assert labels and set(labels) <= set(councils)
    stylised = [text for _, _, text, _, _ in network_structure(ICSModel(rng=1), layout_for(ICSModel(rng=1)), 1)["labels"]]
    assert stylised[0].startswith("Place ")


def test_a_real_ics_names_its_organisations_after_their_places():
    """Issue 13: in a real ICS a trainer reads "Acute hospital trust (Wirral)", never "(place 9)"."""
    from abm import england
    model = ICSModel(rng=1, ics="Cheshire and Merseyside")
    names = layout_for(model).names
    councils = england.place_names(model.p)
    assert "Wirral" in councils
    assert len(set(names)) == len(names)
    assert not [n for n in names if "place" in n.lower()]
    assert "Wirral council" in names
    assert any(n.startswith("Acute hospital trust") and n.endswith("(Wirral)") for n in names)
    assert any(n.startswith("Primary care network") and n.endswith("(Liverpool)") for n in names)
    # the picture's tooltips and the organisation list use the same names
    structure = network_structure(model, layout_for(model), 1)
    assert structure["name"] == list(names)
    for name in england.names():  # every ICS: unique names, none with a numbered place
        names = layout_for(ICSModel(rng=1, ics=name, n_primary_care=3, n_vcse=2)).names
        assert len(set(names)) == len(names) and not [n for n in names if "place" in n.lower()], name
