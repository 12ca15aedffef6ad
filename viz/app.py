"""The trainers' browser view of the ICS collaboration model (Solara).

Run it with ``ics-abm viz`` (see ``viz.server``) or ``solara run viz/app.py``.
Each browser tab gets its own model (``viz.simulation.Simulation``). The page
shows the network of organisations, four time-series charts, the controls,
and an Info tab (``viz/info.md``) with the ODD beside it.
"""

from __future__ import annotations

import functools
import html
import json
import math
import threading
import time
from pathlib import Path

import reacton.ipyvuetify as rv
import solara
import solara.lab

from abm import PARAMETERS, REGIMES

# Absolute imports: `solara run viz/app.py` executes this file as a script.
from viz import charts
from viz.markdown_view import markdown_html
from viz.network_data import SIZE_BY, legend_levels, network_state, network_structure
from viz.server import quiet_solara
from viz.simulation import COUNT_PARAMETERS, EVENTS, LIVE_KNOBS, START_PARAMETERS, Simulation, label, regime_title
from viz.widgets import EChart, MarkdownView, NetworkCanvas

HERE = Path(__file__).resolve().parent
INFO_PATH = HERE / "info.md"
ODD_PATH = HERE.parent / "docs" / "ODD.md"
CSS = (HERE / "style.css").read_text(encoding="utf-8")
MAX_MONTHS_PER_FRAME = 12
LAST_MONTH = 600  # 50 years: Play stops here, so a view left running does not grow without end
TABS = ("model", "info", "odd")

quiet_solara()  # no telemetry, no call home: the view must work on a closed network


def _json(option: dict) -> str:
    return json.dumps(option, separators=(",", ":"))


def page_html(path: Path, missing: str) -> str:
    """A Markdown file as HTML (converted once per version of the file)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return f"<p>{html.escape(missing)}</p>"
    return _page_html(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _page_html(path: str, stamp: int) -> str:
    return markdown_html(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- small parts
@solara.component
def Message(text: str, error: bool = False):
    if text:
        kind = "ics-message-error" if error else "ics-message-info"
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(text), classes=["ics-message", kind]).meta(ref="message")


@solara.component
def ParameterSlider(name: str, value, on_value, disabled: bool = False):
    """A slider whose range, step and help text come from the parameter table."""
    p = PARAMETERS[name]
    unit = f" {p.unit}" if p.kind == "int" and p.unit else ""
    shown = f"{int(value)}{unit}" if p.kind == "int" else f"{float(value):.2f}"
    with solara.Div(classes=["ics-param", f"ics-param-{name}"]):
        solara.Text(f"{label(name)}: {shown}", classes=["ics-slider-label"]).meta(ref=f"label-{name}")
        if p.kind == "int":
            solara.SliderInt("", value=int(value), min=int(p.low), max=int(p.high), step=1,
                             on_value=on_value, thumb_label=True, disabled=disabled).meta(ref=f"slider-{name}")
        else:
            solara.SliderFloat("", value=float(value), min=float(p.low), max=float(p.high), step=0.01,
                               on_value=on_value, thumb_label=True, disabled=disabled).meta(ref=f"slider-{name}")
        solara.Text(p.meaning, classes=["ics-note", "ics-slider-help"])


@solara.component
def Legend(sim: Simulation, size_by: str, version: int):
    """The key to the picture (``version``: the simulation's, so it re-draws after a change)."""
    colours, labels = sim.kind_colours()
    rows = ["<div class='ics-legend'>", "<div class='ics-legend-title'>Organisations</div>"]
    for kind, colour in colours.items():
        rows.append(f"<div><span class='ics-swatch' style='background:{colour}'></span>{html.escape(labels[kind])}</div>")
    rows.append("<div class='ics-legend-title'>Partnerships (line colour)</div>")
    for text, colour in legend_levels():
        rows.append(f"<div><span class='ics-line' style='background:{colour}'></span>{text}</div>")
    rows.append("<div class='ics-legend-title'>Reading the picture</div>")
    rows.append(f"<div>Circle size: {SIZE_BY[size_by].lower()}</div><div>Line width: mutual trust</div>")
    rows.append("<div>Hover over a circle for its figures; click to select it.</div></div>")
    solara.HTML(tag="div", unsafe_innerHTML="".join(rows))


@solara.component
def OrganisationCard(sim: Simulation, index: int, version: int):
    """What the selected organisation looks like this month."""
    if index < 0 or index >= len(sim.model.organisation_rows):
        solara.Text("No organisation selected: click one in the picture or choose it above.", classes=["ics-note"])
        return
    d = sim.organisation_details(index)
    rows = [
        ("Turf", d["turf"]), ("Pressure", d["pressure"]),
        ("Trust in partners", d["trust_given"]), ("Trust from partners", d["trust_received"]),
        ("Performance (true)", d["true_performance"]), ("Performance (reported)", d["reported_performance"]),
        ("Voice", d["voice"]), ("Budget", d["budget"]),
    ]
    body = "".join(f"<tr><td>{k}</td><td class='ics-value'>{val:.2f}</td></tr>" for k, val in rows)
    segment = d["segment"] if d["segment"] else "not segmented"
    levels = ", ".join(f"{n} {name}" for n, (name, _) in zip(d["levels"][1:], legend_levels()[1:]) if n)
    state = "" if d["active"] else "<div><b>Merged into another organisation.</b></div>"
    card = (
        f"<div class='ics-org'><div class='ics-org-name'>{html.escape(d['name'])}</div>"
        f"<div class='ics-note'>{html.escape(d['kind'])}</div>{state}<table>{body}"
        f"<tr><td>Oversight segment</td><td class='ics-value'>{segment}</td></tr>"
        f"<tr><td>Partners</td><td class='ics-value'>{d['partners']}</td></tr></table>"
        f"<div class='ics-note'>Ties: {levels or 'none beyond contact'}</div></div>"
    )
    solara.HTML(tag="div", unsafe_innerHTML=card, classes=["ics-org-card"])


# ---------------------------------------------------------------- the page
@solara.component
def Page(initial: dict | None = None):
    """The whole view. ``initial``: settings of the first model (e.g. ``{"n_vcse": 900}``)."""
    sim = solara.use_memo(lambda: Simulation(**(initial or {})), [])
    _version, set_version = solara.use_state(sim.version)  # set after every change: re-draws the page
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    size_by = solara.use_reactive("budget")
    selected = solara.use_reactive(-1)
    message = solara.use_reactive("")
    error = solara.use_reactive(False)
    seed_text = solara.use_reactive(sim.seed_text)
    pending = solara.use_reactive(dict(sim.settings))
    tab = solara.use_reactive(0)
    model = sim.model

    def redraw():
        set_version(sim.version)

    def say(text: str, is_error: bool = False):
        message.set(text)
        error.set(is_error)

    # ---- actions
    def step():
        if sim.month < LAST_MONTH:
            sim.step(1)
        redraw()

    def reset():
        playing.set(False)
        result = sim.reset(seed_text=seed_text.value, **pending.value)
        if result.ok:
            seed_text.set(sim.seed_text)
            selected.set(-1)
        say(result.message, not result.ok)
        redraw()

    def change_regime(name):
        if name and name != sim.model.regime.name:
            sim.change_regime(name)
            say(f"Month {sim.month}: regime changed to {regime_title(name)}.")
            redraw()

    def change_knob(name, value):
        sim.change_knob(name, value)
        redraw()

    def trigger(event):
        say(sim.trigger(event))
        redraw()

    def set_pending(name, value):
        pending.set({**pending.value, name: value})

    # ---- Play: step in a thread, as fast as the chosen speed allows
    def play_loop(cancel: threading.Event):
        if not playing.value:
            return
        months = 1
        run = sim.run_id
        while not cancel.is_set():
            started = time.perf_counter()
            with sim.lock:  # Reset may have built a new model meanwhile: never step that one
                if cancel.is_set() or sim.run_id != run:
                    break
                sim.step(min(months, LAST_MONTH - sim.month))
            set_version(sim.version)
            if sim.month >= LAST_MONTH:
                say(f"Paused at month {LAST_MONTH} ({LAST_MONTH // 12} years), the end of a run. "
                    "Press Reset to start again.")
                playing.set(False)
                break
            took = time.perf_counter() - started
            rate = float(speed.value)
            # when drawing is slower than the chosen speed, step several months per frame
            months = max(1, min(MAX_MONTHS_PER_FRAME, math.ceil(took * rate)))
            cancel.wait(max(0.0, months / rate - took))

    solara.use_thread(play_loop, dependencies=[playing.value, speed.value], intrusive_cancel=False)

    # ---- what is drawn
    structure = solara.use_memo(lambda: json.dumps(network_structure(model, sim.layout, sim.run_id)), [sim.run_id])
    state = json.dumps(network_state(model, sim.run_id, size_by.value))
    history = sim.history()
    marks = sim.marks()
    colours, labels = sim.kind_colours()
    regime = model.regime

    solara.Style(CSS)
    solara.Title("ICS collaboration model")
    with solara.Column(classes=["ics-page"], gap="0px"):
        with solara.Div(classes=["ics-header"]):
            solara.Text("Collaboration in Integrated Care Systems", classes=["ics-title"])
            solara.Text(f"Month {model.month}", classes=["ics-month", "ics-month-counter"]).meta(ref="month")
            solara.Text(
                f"Regime: {regime_title(regime.name)} (oversight {regime.oversight_intensity:.2f}, "
                f"system focus {regime.system_focus:.2f})",
                classes=["ics-regime"],
            )
        with solara.Div(classes=["ics-body"]):
            with solara.Column(classes=["ics-controls"], gap="4px"):
                Controls(sim, sim.version, playing, speed, seed_text, pending, set_pending, step, reset,
                         change_regime, change_knob, trigger, message.value, error.value)
            with solara.Column(gap="0px"):
                with solara.lab.Tabs(value=tab.value, on_value=tab.set, align="left"):
                    solara.lab.Tab("Model", classes=["ics-tab-model"])
                    solara.lab.Tab("Info", classes=["ics-tab-info"])
                    solara.lab.Tab("ODD (full description)", classes=["ics-tab-odd"])
                if tab.value == 0:
                    with solara.Div(classes=["ics-network-row"]):
                        NetworkCanvas.element(structure_json=structure, state_json=state, selected=selected.value,
                                              on_selected=selected.set).meta(ref="network")
                        with solara.Column(gap="6px"):
                            solara.ToggleButtonsSingle(value=size_by.value, values=list(SIZE_BY),
                                                       on_value=size_by.set).meta(ref="size-by")
                            rv.Autocomplete(
                                label="Select an organisation", clearable=True,
                                items=[{"text": name, "value": i} for i, name in enumerate(sim.layout.names)
                                       if model.orgs.active[i]],
                                v_model=selected.value if selected.value >= 0 else None,
                                on_v_model=lambda i: selected.set(-1 if i is None else int(i)),
                            ).meta(ref="organisation-picker")
                            OrganisationCard(sim, selected.value, sim.version).meta(ref="organisation-card")
                            Legend(sim, size_by.value, sim.version)
                    with solara.Div(classes=["ics-charts"]):
                        month = model.month
                        EChart.element(option_json=_json(charts.levels_chart(history, marks)), month=month,
                                       css_class="ics-chart-levels").meta(ref="chart-levels")
                        kinds = charts.kinds_chart(sim.kind_history(), colours, labels, marks)
                        EChart.element(option_json=_json(kinds), month=month,
                                       css_class="ics-chart-kinds").meta(ref="chart-kinds")
                        EChart.element(option_json=_json(charts.outcome_chart(history, marks)), month=month,
                                       css_class="ics-chart-outcome").meta(ref="chart-outcome")
                        EChart.element(option_json=_json(charts.oversight_chart(history, marks)), month=month,
                                       css_class="ics-chart-oversight").meta(ref="chart-oversight")
                elif tab.value == 1:
                    MarkdownView.element(
                        html=page_html(INFO_PATH, "viz/info.md is missing."),
                        on_link=lambda link: tab.set(TABS.index(link.split("|")[0]))
                        if link.split("|")[0] in TABS else None,
                    )
                else:
                    MarkdownView.element(html=page_html(ODD_PATH, f"The ODD description was not found at {ODD_PATH}."))


@solara.component
def Controls(sim, version, playing, speed, seed_text, pending, set_pending, step, reset, change_regime,
             change_knob, trigger, message: str, error: bool):
    """The left-hand column. Components re-draw when their arguments change, and the
    simulation object changes in place, so its ``version`` is passed along."""
    model = sim.model
    regime = model.regime
    solara.Text("Run", classes=["ics-section"])
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.Button("Step", on_click=step, color="primary", disabled=playing.value or model.month >= LAST_MONTH,
                      classes=["ics-step"]).meta(ref="step")
        solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value),
                      color="success" if not playing.value else "warning", classes=["ics-play"]).meta(ref="play")
        solara.Button("Reset", on_click=reset, color="error", outlined=True, classes=["ics-reset"]).meta(ref="reset")
    Message(message, error)
    solara.Text(f"Speed: {speed.value} months per second", classes=["ics-slider-label"])
    solara.SliderInt("", value=speed.value, min=1, max=24, on_value=speed.set, thumb_label=True).meta(ref="speed")

    solara.Text("Accountability regime (acts now)", classes=["ics-section"])
    rv.Select(
        label=label("regime"), v_model=regime.name,
        items=[{"text": regime_title(name), "value": name} for name in PARAMETERS["regime"].choices],
        on_v_model=change_regime, class_="ics-regime-select",
    ).meta(ref="regime")
    solara.Text(REGIMES[regime.name].description, classes=["ics-note"])
    for knob in LIVE_KNOBS:
        ParameterSlider(knob, getattr(regime, knob), lambda val, knob=knob: change_knob(knob, val))

    solara.Text("Events (act now)", classes=["ics-section"])
    with solara.Column(gap="4px"):
        for key, (title, _, _) in EVENTS.items():
            solara.Button(title, on_click=lambda key=key: trigger(key), outlined=True,
                          classes=[f"ics-event-{key}"]).meta(ref=f"event-{key}")

    solara.Text("New model (on Reset)", classes=["ics-section"])
    for name in START_PARAMETERS:
        ParameterSlider(name, pending.value[name], lambda val, name=name: set_pending(name, val))
    solara.InputText("Seed (a whole number; blank = random)", value=seed_text.value, on_value=seed_text.set,
                     continuous_update=True, classes=["ics-seed"]).meta(ref="seed")
    with solara.Details(summary="Organisation counts"):
        for name in COUNT_PARAMETERS:
            ParameterSlider(name, pending.value[name], lambda val, name=name: set_pending(name, val))
    changed = [label(k) for k in pending.value if k in sim.settings and pending.value[k] != sim.settings[k]]
    if seed_text.value.strip() != sim.seed_text:
        changed.append("seed")
    if changed:
        solara.Text("Press Reset to apply: " + ", ".join(changed) + ".", classes=["ics-note"])


@solara.component
def Layout(children=[]):
    """No app bar or side drawer: the page lays itself out for a projector."""
    return solara.Column(children=children, style={"padding": "0"})
