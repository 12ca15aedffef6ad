"""The trainers' browser view of the ICS collaboration model (Solara).

Run it with ``ics-abm viz`` (see ``viz.server``) or ``solara run viz/app.py``.
Each browser tab gets its own model (``viz.simulation.Simulation``). One
screen (1280x720 and up, for a projector) shows large monitors (month,
regime, trust, turf, collaboration, system outcome, delayed discharges,
gaming gap), the controls with the event and export buttons, the network of
organisations and three key charts; the detail charts, the Info tab
(``viz/info.md``) and the ODD have tabs of their own.

Play steps the model in a thread while the page draws, so each render takes
one ``Snapshot`` of the simulation and draws everything from it: the page never
reads the live model, whose arrays and history change while it is stepped.
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
from viz.network_data import SIZE_BY, legend_levels
from viz.server import quiet_solara
from viz.simulation import (COUNT_PARAMETERS, EVENTS, LIVE_KNOBS, START_PARAMETERS, Simulation, Snapshot,
                            ics_choices, is_custom, label, regime_title)
from viz.widgets import EChart, ExportPictures, MarkdownView, NetworkCanvas

HERE = Path(__file__).resolve().parent
INFO_PATH = HERE / "info.md"
ODD_PATH = HERE.parent / "docs" / "ODD.md"
CSS = (HERE / "style.css").read_text(encoding="utf-8")
MAX_MONTHS_PER_FRAME = 12
LAST_MONTH = 600  # 50 years: Play stops here, so a view left running does not grow without end
TABS = ("model", "detail", "info", "odd")
# A message about the run is stale, and no longer shown, this many months after it was given.
MESSAGE_MONTHS = 12

# The big numbers above everything: (metric, label, format).
MONITORS = (
    ("trust_mean", "Trust", "{:.2f}"),
    ("turf_mean", "Turf", "{:.2f}"),
    ("collaboration_index", "Collaboration", "{:.2f}"),
    ("system_outcome", "System outcome", "{:.2f}"),
    ("delayed_discharge_days", "Delayed discharges", "{:.1f}"),
    ("gaming_gap", "Gaming gap", "{:.3f}"),
)
# Short names of the kinds for the network's key.
SHORT = {"icb": "ICB", "acute": "Acute", "mental_health": "Mental health", "community": "Community",
         "ambulance": "Ambulance", "local_authority": "Council", "vcse_alliance": "VCSE alliance",
         "vcse": "VCSE provider", "primary_care": "Primary care network", "healthwatch": "Healthwatch"}

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


def shape_svg(shape: str, colour: str, size: int = 18) -> str:
    """A small SVG of a node's shape, for the key."""
    h = size / 2
    paths = {
        "circle": f"<circle cx='{h}' cy='{h}' r='{h - 1.5}'/>",
        "square": f"<rect x='2' y='2' width='{size - 4}' height='{size - 4}'/>",
        "diamond": f"<polygon points='{h},1 {size - 1},{h} {h},{size - 1} 1,{h}'/>",
        "triangle": f"<polygon points='{h},1 {size - 1},{size - 2} 1,{size - 2}'/>",
        "hexagon": f"<polygon points='{size - 1},{h} {size * 0.75},{size - 2} {size * 0.25},{size - 2} 1,{h} "
                   f"{size * 0.25},2 {size * 0.75},2'/>",
    }
    return (f"<svg class='ics-shape' width='{size}' height='{size}' viewBox='0 0 {size} {size}'>"
            f"<g fill='{colour}' stroke='#111' stroke-width='1.2'>{paths.get(shape, paths['circle'])}</g></svg>")


@solara.component
def Legend(snap: Snapshot, size_by: str):
    """The key to the picture: shape by group, colour by kind, line colour by level."""
    from viz.charts import group_of
    chips = []
    for kind, colour in snap.colours.items():
        text = SHORT.get(kind, snap.labels[kind])
        chips.append(f"<span class='ics-chip' title='{html.escape(snap.labels[kind])}'>"
                     f"{shape_svg(group_of(kind).shape, colour)}{html.escape(text)}</span>")
    levels = "".join(f"<span class='ics-chip'><span class='ics-line{' ics-line-none' if k == 0 else ''}' "
                     f"style='background:{colour}'></span>{text}</span>"
                     for k, (text, colour) in enumerate(legend_levels()))
    key = (f"<div class='ics-legend'><div>{''.join(chips)}</div>"
           f"<div><b>Partnerships:</b> {levels}</div>"
           f"<div class='ics-legend-note'>Size: {SIZE_BY[size_by].lower()}; line width: mutual trust. "
           "Hover over an organisation for its figures; click to select it.</div></div>")
    solara.HTML(tag="div", unsafe_innerHTML=key)


CALENDAR = ("April", "May", "June", "July", "August", "September", "October", "November", "December",
            "January", "February", "March")   # month 1 of a run is April, the start of the NHS financial year


def year_and_month(month: int) -> str:
    """What month ``month`` of the run is: "Year 1, April" for month 1, "Year 1, March" for month 12."""
    if month <= 0:
        return "Start"
    return f"Year {(month - 1) // 12 + 1}, {CALENDAR[(month - 1) % 12]}"


@solara.component
def Monitors(snap: Snapshot):
    """Large numbers a room can read: the month, the regime and this month's headline figures."""
    regime = snap.regime
    last = snap.history.iloc[-1] if len(snap.history) else None
    with solara.Div(classes=["ics-monitors"]):
        with solara.Div(classes=["ics-monitor", "ics-monitor-month"]):
            solara.Text(f"Month {snap.month}", classes=["ics-month", "ics-month-counter"]).meta(ref="month")
            solara.Text(year_and_month(snap.month), classes=["ics-monitor-label"])
        with solara.Div(classes=["ics-monitor", "ics-monitor-regime"]):
            title = regime_title(regime.name) + (" (custom)" if is_custom(regime) else "")
            solara.Text(title, classes=["ics-regime"])
            solara.Text(f"oversight {regime.oversight_intensity:.2f} · focus {regime.system_focus:.2f}",
                        classes=["ics-regime-knobs", "ics-monitor-label"])
        for metric, name, fmt in MONITORS:
            value = "–" if last is None or metric not in last else fmt.format(float(last[metric]))
            with solara.Div(classes=["ics-monitor", f"ics-monitor-{metric}"]).meta(ref=f"monitor-{metric}"):
                solara.Text(value, classes=["ics-monitor-value"])
                solara.Text(name, classes=["ics-monitor-label"], style={"font-weight": "600"})


@solara.component
def OrganisationCard(snap: Snapshot, index: int):
    """What the selected organisation looks like in the snapshot's month."""
    if index < 0 or index >= len(snap.organisations):
        solara.Text("No organisation selected: click one in the picture or choose it above.", classes=["ics-note"])
        return
    d = snap.organisation_details(index)
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


class OrganisationChoices:
    """The organisations a trainer can pick (the active ones), compared by run and by who is active.

    A plain object rather than a list, so that a month that changes neither
    passes an equal argument and the picker (a thousand items in a large ICS)
    is not re-rendered and its widget not updated. Measured at about 1,000
    organisations: about 8 of the 70 ms of CPU a step takes on the Python side.
    """

    __slots__ = ("key", "items")

    def __init__(self, key: tuple, items: list[dict]):
        self.key, self.items = key, items

    @classmethod
    def of(cls, snap: Snapshot) -> "OrganisationChoices":
        active = snap.organisations["active"].to_numpy()
        key = (snap.run_id, active.tobytes())
        items = [{"text": name, "value": i} for i, (name, on) in enumerate(zip(snap.organisations["name"], active)) if on]
        return cls(key, items)

    def __eq__(self, other) -> bool:
        return isinstance(other, OrganisationChoices) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


@solara.component
def OrganisationPicker(choices: OrganisationChoices, selected: int, on_selected):
    """Pick an organisation by name (re-drawn only when the choices or the selection change)."""
    rv.Autocomplete(
        label="Select an organisation", clearable=True, items=choices.items,
        v_model=selected if selected >= 0 else None,
        on_v_model=lambda i: on_selected(-1 if i is None else int(i)),
    ).meta(ref="organisation-picker")


# ---------------------------------------------------------------- the page
@solara.component
def Page(initial: dict | None = None):
    """The whole view. ``initial``: settings of the first model (e.g. ``{"n_vcse": 900}``)."""
    sim = solara.use_memo(lambda: Simulation(**(initial or {})), [])
    snap = sim.snapshot()  # the only state this render reads: one month of one model
    _version, set_version = solara.use_state(snap.version)  # set after every change: re-draws the page
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    size_by = solara.use_reactive("budget")
    selected = solara.use_reactive(-1)
    message = solara.use_reactive(("", False, 0, 0))  # text, is it an error, run id, month: see ``shown``
    seed_text = solara.use_reactive(snap.seed_text)
    pending = solara.use_reactive(dict(snap.settings))
    tab = solara.use_reactive(0)

    def redraw():
        set_version(sim.version)

    def say(text: str, is_error: bool = False):
        now = sim.snapshot()
        message.set((text, is_error, now.run_id, now.month))

    def shown() -> tuple[str, bool]:
        """The message, unless it is stale: about another model, or given a year of months ago."""
        text, is_error, run, month = message.value
        if not is_error and (run != snap.run_id or snap.month > month + MESSAGE_MONTHS or snap.month < month):
            return "", False
        return text, is_error

    # ---- actions
    def step():
        if sim.month < LAST_MONTH:
            sim.step(1)
        redraw()

    def reset():
        playing.set(False)
        result = sim.reset(seed_text=seed_text.value, **pending.value)
        if result.ok:
            seed_text.set(sim.snapshot().seed_text)
            selected.set(-1)
        say(result.message, not result.ok)
        redraw()

    def change_regime(name):
        now = sim.snapshot().regime
        if name and name != "custom" and (name != now.name or is_custom(now)):
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

    def play_or_pause():
        # Under the lock: Pause waits for a month being stepped, and Play's loop checks
        # ``playing`` under the lock, so no month starts after Pause: the month shown
        # once the button reads Play again is the month the run stopped at.
        with sim.lock:
            playing.set(not playing.value)

    # ---- Play: step in a thread, as fast as the chosen speed allows
    def play_loop(cancel: threading.Event):
        if not playing.value:
            return
        months = 1
        run = sim.run_id
        while not cancel.is_set():
            started = time.perf_counter()
            with sim.lock:  # Reset may have built a new model meanwhile: never step that one
                if cancel.is_set() or not playing.value or sim.run_id != run:
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
    structure = solara.use_memo(lambda: json.dumps(snap.structure), [snap.run_id])
    state = json.dumps(snap.network[size_by.value])
    history = snap.history
    marks = list(snap.marks)
    month = snap.month
    text, is_error = shown()

    def chart(name: str, option: dict):
        EChart.element(option_json=_json(option), month=month, height=0,
                       css_class=f"ics-chart-{name}").meta(ref=f"chart-{name}")

    solara.Style(CSS)
    solara.Title("ICS collaboration model")
    with solara.Div(classes=["ics-page"]):
        Monitors(snap)
        with solara.Div(classes=["ics-body"]):
            with solara.Div(classes=["ics-controls"]):
                Controls(snap, sim, playing, play_or_pause, speed, seed_text, pending, set_pending, step, reset,
                         change_regime, change_knob, trigger, text, is_error, size_by, selected)
            with solara.Div(classes=["ics-main"]):
                with solara.lab.Tabs(value=tab.value, on_value=tab.set, align="left"):
                    solara.lab.Tab("Model", classes=["ics-tab-model"])
                    solara.lab.Tab("Detail charts", classes=["ics-tab-detail"])
                    solara.lab.Tab("Info", classes=["ics-tab-info"])
                    solara.lab.Tab("ODD (full description)", classes=["ics-tab-odd"])
                if tab.value == 0:
                    with solara.Div(classes=["ics-screen"]):
                        with solara.Div(classes=["ics-network-box"]):
                            with solara.Div(classes=["ics-network-cell"]):
                                solara.Text(snap.settings.get("ics") or "Stylised ICS",
                                            classes=["ics-ics-name"]).meta(ref="ics-name")
                                NetworkCanvas.element(structure_json=structure, state_json=state,
                                                      selected=selected.value,
                                                      on_selected=selected.set).meta(ref="network")
                                if 0 <= selected.value < len(snap.organisations):
                                    with solara.Div(classes=["ics-card-overlay"]):
                                        OrganisationCard(snap, selected.value).meta(ref="organisation-card")
                                        solara.Button("Close", on_click=lambda: selected.set(-1), text=True,
                                                      classes=["ics-card-close"])
                            with solara.Div(classes=["ics-network-key"]):
                                Legend(snap, size_by.value)
                        with solara.Div(classes=["ics-keycharts"]):
                            chart("levels", charts.levels_chart(history, marks, compact=True))
                            chart("trust", charts.trust_turf_chart(history, marks, compact=True))
                            chart("outcome", charts.outcome_chart(history, marks, compact=True))
                elif tab.value == 1:
                    with solara.Div(classes=["ics-detail"]):
                        with solara.Div(classes=["ics-detail-charts"]):
                            groups = snap.group_history
                            chart("trust-groups", charts.group_chart(groups, "trust_given", "Trust in partners by group",
                                                                     "Mean trust in partners", marks))
                            chart("turf-groups", charts.group_chart(groups, "turf", "Turf by group", "Mean turf",
                                                                    marks))
                            chart("channels", charts.channels_chart(history, marks))
                            chart("oversight", charts.oversight_chart(history, marks))
                elif tab.value == 2:
                    MarkdownView.element(
                        html=page_html(INFO_PATH, "viz/info.md is missing."),
                        on_link=lambda link: tab.set(TABS.index(link.split("|")[0]))
                        if link.split("|")[0] in TABS else None,
                    )
                else:
                    MarkdownView.element(html=page_html(ODD_PATH, f"The ODD description was not found at {ODD_PATH}."))


@solara.component
def Controls(snap: Snapshot, sim: Simulation, playing, play_or_pause, speed, seed_text, pending, set_pending, step,
             reset, change_regime, change_knob, trigger, message: str, error: bool, size_by, selected):
    """The left-hand column, drawn from the page's snapshot (a new one after every change re-draws it).

    Run and event buttons first: at 1280x720 they are on screen without scrolling."""
    regime = snap.regime
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}, classes=["ics-run"]):
        solara.Button("Step", on_click=step, color="primary", disabled=playing.value or snap.month >= LAST_MONTH,
                      classes=["ics-step"]).meta(ref="step")
        solara.Button("Pause" if playing.value else "Play", on_click=play_or_pause,
                      color="success" if not playing.value else "warning", classes=["ics-play"]).meta(ref="play")
        solara.Button("Reset", on_click=reset, color="error", outlined=True, classes=["ics-reset"]).meta(ref="reset")
    with solara.Div(classes=["ics-speed"]):
        solara.Text(f"Speed: {speed.value} months per second", classes=["ics-slider-label"])
        solara.SliderInt("", value=speed.value, min=1, max=24, on_value=speed.set, thumb_label=True).meta(ref="speed")
    Message(message, error)

    solara.Text("Events (act now)", classes=["ics-section"])
    with solara.Column(gap="4px", classes=["ics-events"]):
        for key, (title, _, _) in EVENTS.items():
            solara.Button(title, on_click=lambda key=key: trigger(key), outlined=True,
                          classes=[f"ics-event-{key}"]).meta(ref=f"event-{key}")

    solara.Text("Save", classes=["ics-section"])
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}, classes=["ics-export"]):
        solara.FileDownload(lambda: sim.metrics_csv(), filename=f"ics-abm-seed{snap.seed_text}-month{snap.month}.csv",
                            label="Metrics (CSV)", mime_type="text/csv").meta(ref="export-csv")
        ExportPictures.element(filename=f"ics-abm-seed{snap.seed_text}-month{snap.month}.png").meta(ref="export-png")

    solara.Text("Accountability regime (acts now)", classes=["ics-section"])
    custom = is_custom(regime)
    items = [{"text": regime_title(name), "value": name} for name in PARAMETERS["regime"].choices]
    if custom:
        items.append({"text": f"Custom ({regime_title(regime.name).lower()}, knobs moved)", "value": "custom"})
    rv.Select(
        label=label("regime"), v_model="custom" if custom else regime.name, items=items,
        on_v_model=change_regime, class_="ics-regime-select",
    ).meta(ref="regime")
    if custom:
        solara.Text(f"Custom: {regime_title(regime.name)} with oversight {regime.oversight_intensity:.2f} and "
                    f"system focus {regime.system_focus:.2f}. Choose a preset to go back to it.",
                    classes=["ics-note", "ics-custom-note"])
    else:
        solara.Text(REGIMES[regime.name].description, classes=["ics-note"])
    for knob in LIVE_KNOBS:
        ParameterSlider(knob, getattr(regime, knob), lambda val, knob=knob: change_knob(knob, val))

    solara.Text("Network picture", classes=["ics-section"])
    solara.ToggleButtonsSingle(value=size_by.value, values=list(SIZE_BY), on_value=size_by.set,
                               classes=["ics-size-by"]).meta(ref="size-by")
    OrganisationPicker(OrganisationChoices.of(snap), selected.value, selected.set)

    NewModelControls(snap.settings, snap.seed_text, pending.value, seed_text.value, set_pending, seed_text.set)


@solara.component
def Layout(children=[]):
    """No app bar or side drawer: the page lays itself out for a projector."""
    return solara.Column(children=children, style={"padding": "0"})


@solara.component
def NewModelControls(settings, current_seed: str, pending: dict, seed_text: str, set_pending, set_seed):
    """The settings for the next Reset. Its arguments change only when a setting or the model does,
    so a month's step does not re-draw its sixteen sliders and the list of England's ICSs."""
    solara.Text("New model (on Reset)", classes=["ics-section"])
    choices = ics_choices()
    rv.Autocomplete(
        label="ICS", v_model=pending.get("ics") or "",
        items=[{"text": text, "value": value or ""} for text, value in choices],
        on_v_model=lambda value: set_pending("ics", value or None), class_="ics-ics-select",
    ).meta(ref="ics")
    real = bool(pending.get("ics"))
    for name in START_PARAMETERS:
        ParameterSlider(name, pending[name], lambda val, name=name: set_pending(name, val))
    solara.InputText("Seed (a whole number; blank = random)", value=seed_text, on_value=set_seed,
                     continuous_update=True, classes=["ics-seed"]).meta(ref="seed")
    with solara.Details(summary="Organisation counts"):
        if real:
            solara.Text("A real ICS has its own trusts and councils: only the primary care and VCSE counts "
                        "apply (scaled by population).", classes=["ics-note"])
        for name in COUNT_PARAMETERS:
            ParameterSlider(name, pending[name], lambda val, name=name: set_pending(name, val))
    changed = [label(k) for k in pending if k in settings and pending[k] != settings[k]]
    if seed_text.strip() != current_seed:
        changed.append("seed")
    if changed:
        solara.Text("Press Reset to apply: " + ", ".join(changed) + ".", classes=["ics-note", "ics-pending"])
