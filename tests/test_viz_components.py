"""The browser view's components, rendered without a browser (solara.render + widget finders)."""

from __future__ import annotations

import json
import threading
import time

import ipyvuetify as v
import pytest
import solara

from abm import PARAMETERS, REGIMES
from viz.app import ODD_PATH, Page
from viz.simulation import COUNT_PARAMETERS, LIVE_KNOBS, START_PARAMETERS
from viz.widgets import EChart, MarkdownView

CHARTS = ("levels", "trust", "outcome")  # the key charts beside the network (the Model tab)


def play_threads() -> list[threading.Thread]:
    """Play's stepping threads (solara's use_thread runners) still running."""
    return [t for t in threading.enumerate() if t.name.endswith("(runner)") and t.is_alive()
            and t is not threading.current_thread()]


@pytest.fixture
def view():
    box, rc = solara.render(Page(initial={}), handle_error=False)
    yield rc
    # stop Play and let its thread finish before the page is torn down
    if rc.find(meta_ref="play").widget.children == ["Pause"]:
        rc.find(meta_ref="play").widget.click()
    deadline = time.time() + 10
    while time.time() < deadline and play_threads():
        time.sleep(0.02)
    rc.close()


def widget(rc, ref):
    return rc.find(meta_ref=ref).widget


def month_text(rc) -> str:
    return widget(rc, "month").children[0]


def click(rc, ref):
    widget(rc, ref).click()


def eventually(check, timeout: float = 20.0) -> None:
    """Wait for ``check()`` to hold. With Play on, a render asked for by one thread may be
    carried out by the Play thread a moment later (reacton renders in whichever thread
    holds its render lock)."""
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise AssertionError(f"still false after {timeout} s: {check.__doc__ or check}")
        time.sleep(0.02)


def network_state(rc) -> dict:
    return json.loads(widget(rc, "network").state_json)


def chart(rc, name) -> dict:
    return json.loads(widget(rc, f"chart-{name}").option_json)


def test_page_shows_month_network_and_three_key_charts(view):
    assert month_text(view) == "Month 0"
    structure = json.loads(widget(view, "network").structure_json)
    assert len(structure["x"]) == 56  # the default ICS
    assert len(view.find(EChart)) == 3
    for name in CHARTS:
        assert chart(view, name)["series"], name
        assert widget(view, f"chart-{name}").month == 0


def test_step_moves_the_month_and_redraws_network_and_charts(view):
    before_state = network_state(view)
    before = {name: chart(view, name) for name in CHARTS}
    for _ in range(3):
        click(view, "step")
    assert month_text(view) == "Month 3"
    after_state = network_state(view)
    assert after_state["month"] == 3
    assert after_state["trust"] != before_state["trust"]
    for name in CHARTS:
        assert widget(view, f"chart-{name}").month == 3
        assert chart(view, name) != before[name], name


def test_sliders_take_range_and_step_from_the_parameter_table(view):
    for name in (*LIVE_KNOBS, *START_PARAMETERS, *COUNT_PARAMETERS):
        p = PARAMETERS[name]
        slider = widget(view, f"slider-{name}")
        assert (slider.min, slider.max) == (p.low, p.high), name
        assert slider.step == (1 if p.kind == "int" else 0.01)


def test_regime_change_while_running_does_not_reset_and_is_marked(view):
    for _ in range(4):
        click(view, "step")
    select = widget(view, "regime")
    assert select.v_model == "permissive"
    select.v_model = "top_down"
    assert month_text(view) == "Month 4"
    assert widget(view, "slider-oversight_intensity").v_model == REGIMES["top_down"].oversight_intensity
    click(view, "step")
    marks = chart(view, "outcome")["series"][0]["markLine"]["data"]
    assert [(m["xAxis"], m["name"]) for m in marks] == [(4, "top_down")]
    assert "Top down" in view.find(v.Html, class_="ics-regime").widget.children[0]


def test_knob_slider_changes_the_running_regime(view):
    click(view, "step")
    widget(view, "slider-system_focus").v_model = 0.95
    assert widget(view, "label-system_focus").children[0].endswith("0.95")
    assert month_text(view) == "Month 1"
    click(view, "step")
    marks = chart(view, "levels")["series"][0]["markLine"]["data"]
    assert [m["xAxis"] for m in marks] == [1]


def test_event_buttons_act_and_report(view):
    click(view, "step")
    click(view, "event-winter")
    assert "winter" in widget(view, "message").unsafe_innerHTML.lower()
    click(view, "event-merger")
    assert "merge" in widget(view, "message").unsafe_innerHTML.lower()
    state = network_state(view)
    assert sum(1 for s in state["size"] if s < 0) == 1  # the merged trust left the picture
    click(view, "event-budget_cut")
    click(view, "step")
    marks = chart(view, "outcome")["series"][0]["markLine"]["data"]
    assert [m["lineStyle"]["type"] for m in marks] == ["dotted"]  # three events, one month: the last is labelled
    assert marks[0]["label"]["formatter"] == "Council cut"


@pytest.mark.parametrize("seed", ["abc", "-5", "3.14", "１２", "", "  17  "])
def test_seed_text_never_crashes_reset(view, seed):
    click(view, "step")
    widget(view, "seed").v_model = seed
    click(view, "reset")
    message = widget(view, "message")
    if seed.strip().isascii() and (seed.strip().isdigit() or seed.strip() == ""):
        assert month_text(view) == "Month 0"
        assert "ics-message-info" in message.attributes["class"]
        assert widget(view, "seed").v_model.strip().isdigit()
    else:
        assert month_text(view) == "Month 1"  # the running model is kept
        assert "ics-message-error" in message.attributes["class"]
        assert "seed" in message.unsafe_innerHTML.lower()


def test_counts_apply_on_reset_only(view):
    widget(view, "slider-n_vcse").v_model = 40
    structure = json.loads(widget(view, "network").structure_json)
    assert len(structure["x"]) == 56
    assert widget(view, "label-n_vcse").children[0] == "VCSE providers per ICS: 40 per ICS"
    click(view, "reset")
    structure = json.loads(widget(view, "network").structure_json)
    assert len(structure["x"]) == 86


def test_selecting_an_organisation_shows_its_figures(view):
    click(view, "step")
    assert not view.find(meta_ref="organisation-card")  # no card over the network until one is chosen
    net = widget(view, "network")
    net.selected = 0  # what a click in the browser sends
    card = widget(view, "organisation-card")
    assert "Ambulance trust" in card.unsafe_innerHTML and "Turf" in card.unsafe_innerHTML
    assert widget(view, "organisation-picker").v_model == 0
    widget(view, "organisation-picker").v_model = 2
    assert widget(view, "network").selected == 2
    shown = widget(view, "organisation-card").unsafe_innerHTML
    for _ in range(3):
        click(view, "step")
    assert widget(view, "organisation-card").unsafe_innerHTML != shown  # the card follows the months


def test_size_toggle_switches_between_budget_and_voice(view):
    budget = network_state(view)["size"]
    toggle = widget(view, "size-by")
    toggle.v_model = 1  # second button: voice
    voice = network_state(view)["size"]
    assert voice != budget


def test_play_runs_in_the_background_and_pause_stops_it(view):
    widget(view, "speed").v_model = 24
    click(view, "play")
    deadline = time.time() + 20
    while time.time() < deadline and month_text(view) in ("Month 0", "Month 1", "Month 2"):
        time.sleep(0.05)
    click(view, "play")  # now labelled Pause
    eventually(lambda: widget(view, "play").children == ["Play"])
    stopped = month_text(view)
    assert int(stopped.split()[1]) >= 3
    eventually(lambda: not play_threads())  # its last frame is in; no month started after Pause
    assert month_text(view) == stopped
    assert widget(view, "chart-levels").month == int(stopped.split()[1])


def play_until(rc, month: int) -> int:
    """Press Play, wait for ``month``, press Pause and wait for Play's thread to end; the month it stopped at."""
    click(rc, "play")
    eventually(lambda: int(month_text(rc).split()[1]) >= month, timeout=120)
    click(rc, "play")  # Pause
    eventually(lambda: widget(rc, "play").children == ["Play"] and not play_threads())
    return int(month_text(rc).split()[1])


def test_play_after_a_long_history_twice_stays_consistent(view):
    """Issue 7: pressing Play after some history replaced the page with a traceback."""
    widget(view, "speed").v_model = 24
    month = play_until(view, 100)
    for _ in range(2):
        month = play_until(view, month + 3)
        assert network_state(view)["month"] == month
        for name in CHARTS:
            assert widget(view, f"chart-{name}").month == month
        assert chart(view, "levels")["series"][0]["data"][-1][0] == month
        assert len(chart(view, "trust")["series"][0]["data"]) == month + 1


def test_info_tab_renders_the_info_text_and_links_to_the_odd(view):
    view.find(v.Tabs).widget.v_model = 2  # what clicking the Info tab sends
    info = view.find(MarkdownView).widget
    for heading in ("What is it?", "How it works", "How to use it", "Things to notice", "Guided demonstrations"):
        assert f">{heading}</h2>" in info.html
    assert info.html.count("<h3") == 5  # five guided demonstrations (tests/test_viz_demonstrations.py follows each)
    assert 'href="#odd"' in info.html
    info.link = "odd|123"  # what clicking the link sends
    assert view.find(v.Tabs).widget.v_model == 3
    odd = view.find(MarkdownView).widget.html
    if ODD_PATH.exists():
        first_line = ODD_PATH.read_text(encoding="utf-8").lstrip("# ").splitlines()[0].strip()
        assert first_line[:20] in odd
    else:
        assert "was not found" in odd


def test_reset_while_playing_stops_and_leaves_the_new_model_at_month_0(view):
    widget(view, "speed").v_model = 24
    click(view, "play")
    deadline = time.time() + 20
    while time.time() < deadline and month_text(view) in ("Month 0", "Month 1"):
        time.sleep(0.02)
    click(view, "reset")
    eventually(lambda: widget(view, "play").children == ["Play"] and month_text(view) == "Month 0")
    time.sleep(0.6)
    assert month_text(view) == "Month 0"
    assert json.loads(widget(view, "network").state_json)["month"] == 0


def test_play_stops_at_the_last_month(view, monkeypatch):
    import viz.app

    monkeypatch.setattr(viz.app, "LAST_MONTH", 5)
    widget(view, "speed").v_model = 24
    click(view, "play")
    eventually(lambda: widget(view, "play").children == ["Play"] and month_text(view) == "Month 5")
    assert "Paused at month 5" in widget(view, "message").unsafe_innerHTML
    assert widget(view, "step").disabled
    click(view, "step")
    assert month_text(view) == "Month 5"


def test_detail_tab_has_the_group_channel_and_oversight_charts(view):
    click(view, "step")
    view.find(v.Tabs).widget.v_model = 1  # what clicking the Detail charts tab sends
    for name in ("trust-groups", "turf-groups", "channels", "oversight"):
        assert chart(view, name)["series"], name
        assert widget(view, f"chart-{name}").month == 1
    names = [s["name"] for s in chart(view, "trust-groups")["series"]]
    assert names == ["NHS trusts", "Councils", "VCSE", "Primary care", "ICB"]


def test_monitors_show_this_months_headline_figures(view):
    click(view, "step")
    for metric in ("trust_mean", "turf_mean", "collaboration_index", "system_outcome", "delayed_discharge_days",
                   "gaming_gap"):
        assert view.find(meta_ref=f"monitor-{metric}"), metric
    shown = view.find(meta_ref="monitor-delayed_discharge_days").find(v.Html, class_="ics-monitor-value")
    assert shown.widget.children[0] != "–"


def test_a_moved_knob_shows_custom_in_the_regime_selector_and_a_preset_restores_it(view):
    select = widget(view, "regime")
    assert select.v_model == "permissive"
    widget(view, "slider-system_focus").v_model = 0.95
    select = widget(view, "regime")
    assert select.v_model == "custom"
    assert any(item["value"] == "custom" for item in select.items)
    assert "0.95" in view.find(v.Html, class_="ics-note ics-custom-note").widget.children[0]
    select.v_model = "permissive"  # back to the preset
    assert widget(view, "regime").v_model == "permissive"
    assert widget(view, "slider-system_focus").v_model == REGIMES["permissive"].system_focus


def test_messages_clear_when_stale(view):
    click(view, "event-winter")
    assert "winter" in widget(view, "message").unsafe_innerHTML.lower()
    for _ in range(13):
        click(view, "step")
    assert not view.find(meta_ref="message")  # a year on, the message is gone


def test_the_ics_picker_offers_the_stylised_ics_and_englands_42(view):
    from abm import england
    picker = widget(view, "ics")
    values = [item["value"] for item in picker.items]
    assert values[0] == "" and values[1:] == england.names()
    picker.v_model = england.names()[1]
    click(view, "reset")
    assert england.names()[1] in widget(view, "message").unsafe_innerHTML
    assert month_text(view) == "Month 0"


def test_the_odd_renders_without_stray_tex_escapes():
    from viz.app import page_html
    from viz.markdown_view import latex_to_html
    assert latex_to_html(r"\text{place\_degree} + \mathrm{a\%}") == "place_degree + a%"
    if ODD_PATH.exists():
        assert "\\_" not in page_html(ODD_PATH, "")
    # no TeX left over in the text a reader sees (code spans keep theirs): no $, no \command
    import html as html_module
    import re
    from viz.app import INFO_PATH
    for path in (ODD_PATH, INFO_PATH):
        if not path.exists():
            continue
        rendered = re.sub(r"<code>.*?</code>", " ", page_html(path, ""), flags=re.S)
        text = html_module.unescape(re.sub(r"<[^>]+>", " ", rendered))
        assert not re.findall(r".{0,30}(?:\$|\\[A-Za-z]+).{0,30}", text), path


def test_the_month_monitor_names_the_calendar_month_the_model_uses():
    """Month 1 is April (the NHS financial year); month 12 is still year 1; winter peaks in January."""
    from abm.pressure import winter_wave
    from viz.app import year_and_month

    assert year_and_month(0) == "Start"
    assert year_and_month(1) == "Year 1, April"
    assert year_and_month(12) == "Year 1, March"
    assert year_and_month(13) == "Year 2, April"
    assert year_and_month(10) == "Year 1, January" and winter_wave(10) == 1.0
