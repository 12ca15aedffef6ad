"""The time-series charts, as ECharts options (plain dicts).

The browser draws the charts (ECharts, served from the local asset cache),
so a step only sends the numbers. Each function here is pure: it turns the
model's metrics table into one chart's option, so it is tested without a
browser.

Colours are colour-blind safe and readable on white from the back of a room:
ties and the continuum chart's bands by level (grey, then light to dark
purple as partners integrate; every colour at least 3:1 on white); groups of
organisations (NHS trusts, councils, VCSE, primary care, ICB) in Okabe-Ito
colours, each with its own dash and a label at the end of its line, so no
line is told apart by colour alone. Regime changes are solid dark vertical
lines labelled with the regime's name; triggered events (shock, merger, cut)
are dotted lines labelled with the event. Text is at least 16 px.

Three key charts sit beside the network (``compact``: a small title, the
legend on top); the detail charts have a tab of their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.network import LEVELS

# Tie colours by continuum level (index = level): contrast on white 3.4, 4.3, 6.3, 10 and 17 to 1.
LEVEL_COLOURS = ("#8c8c8c", "#8c6bb1", "#6a51a3", "#54278f", "#2d004b")
LEVEL_LABELS = tuple(name.capitalize() for name in LEVELS)
REGIME_LINE = "#111111"
EVENT_LINE = "#555555"

FONT = 16      # axis labels, legends: the smallest text on a chart
TITLE = 19


@dataclass(frozen=True)
class Group:
    """A few kinds of organisation shown as one line (and one shape in the network)."""

    key: str
    label: str
    colour: str        # Okabe-Ito
    kinds: tuple[str, ...]
    dash: object       # ECharts lineStyle.type
    shape: str         # the network's node shape


GROUPS = (
    Group("nhs", "NHS trusts", "#0072B2", ("acute", "mental_health", "community", "ambulance"), "solid", "circle"),
    Group("council", "Councils", "#D55E00", ("local_authority",), [10, 4], "square"),
    Group("vcse", "VCSE", "#E69F00", ("vcse_alliance", "vcse", "healthwatch"), [3, 3], "diamond"),
    Group("primary_care", "Primary care", "#CC79A7", ("primary_care",), [12, 4, 3, 4], "triangle"),
    Group("icb", "ICB", "#000000", ("icb",), [1, 5], "hexagon"),
)
OTHER = Group("other", "Other", "#999999", (), [6, 6], "circle")
KIND_GROUP = {kind: g for g in GROUPS for kind in g.kinds}


def group_of(kind: str) -> Group:
    """The group a kind of organisation is shown in (a modeller's own kind: "Other")."""
    return KIND_GROUP.get(kind, OTHER)


@dataclass(frozen=True)
class Mark:
    """A vertical line on the time series: a regime change or an event."""

    month: int
    label: str
    kind: str = "regime"   # "regime" or "event"


def nice_top(value: float, least: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) >= value, and >= least."""
    value = max(value, least)
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value - 1e-12:
            return float(round(step * power, 10))
    return float(10 * power)  # pragma: no cover


def _points(months, values, digits: int = 4) -> list[list[float]]:
    return [[int(m), round(float(v), digits)] for m, v in zip(months, values)]


def axis_end(months) -> int:
    """The last month on the x axis: the next whole year (at least 12)."""
    last = int(max(months)) if len(months) else 0
    return max(12, 12 * math.ceil(last / 12))


def _month_axis(months, grid_index: int = 0, compact: bool = False) -> dict:
    """Months on the x axis, ending at the next whole year, ticks at whole quarters or years."""
    end = axis_end(months)
    step = 3 if end <= 12 else 6 if end <= 36 else 12 if end <= 72 else 24 if end <= 144 else 12 * math.ceil(end / 120)
    if compact and end > 24:
        step = max(step, 12 * math.ceil(end / 72))
    axis = {
        "type": "value", "gridIndex": grid_index, "min": 0, "max": end, "interval": step,
        "name": "Month", "nameLocation": "middle", "nameGap": 30,
        "nameTextStyle": {"fontSize": FONT}, "axisLabel": {"fontSize": FONT},
        "splitLine": {"show": False},
    }
    if compact:  # the monitors say which month it is: the axis keeps its numbers, not its name
        axis["name"] = ""
    return axis


def _value_axis(name: str = "", low: float = 0.0, high: float | None = 1.0, grid_index: int = 0, **more) -> dict:
    axis = {
        "type": "value", "gridIndex": grid_index, "min": low,
        "name": name, "nameLocation": "middle", "nameGap": 46,
        "nameTextStyle": {"fontSize": FONT},
        "axisLabel": {"fontSize": FONT}, "splitLine": {"lineStyle": {"color": "#e6e6e6"}},
    }
    if high is not None:
        axis["max"] = high
    axis.update(more)
    return axis


# A mark this close to the start of the x axis (share of its length) has its label on its right:
# on its left the label would cover the y axis's numbers ("0." for "0.5").
LEFT_EDGE = 0.06


def mark_line(marks: list[Mark], end: float | None = None) -> dict:
    """An ECharts markLine with a vertical line per regime change and event.

    ``end``: the last month on the x axis. A label runs up the left side of its
    line, except near the start of the axis, where it runs up the right side.
    """
    def side(month: int, left: str, right: str) -> str:
        return right if month <= LEFT_EDGE * (end or 12) else left

    latest: dict[tuple[int, str], str] = {}
    for m in marks:
        latest[(m.month, m.kind)] = m.label  # several changes in one month: the last one shows
    data = []
    for (month, kind), text in sorted(latest.items()):
        if kind == "regime":
            data.append({
                "xAxis": month, "name": text,
                "lineStyle": {"color": REGIME_LINE, "width": 3, "type": "solid"},
                "label": {"formatter": text.replace("_", " "), "fontSize": FONT, "color": REGIME_LINE,
                          "position": side(month, "insideEndTop", "insideEndBottom"), "fontWeight": "bold",
                          "backgroundColor": "rgba(255,255,255,0.75)"},
            })
        else:
            data.append({
                "xAxis": month, "name": text,
                "lineStyle": {"color": EVENT_LINE, "width": 2.5, "type": "dotted"},
                "label": {"formatter": text, "fontSize": FONT, "color": "#333333",
                          "position": side(month, "insideMiddleTop", "insideMiddleBottom"), "backgroundColor": "rgba(255,255,255,0.75)"},
            })
    return {"silent": True, "symbol": "none", "animation": False, "data": data}


def _base(title: str, legend_names: list[str] | None = None, right: int = 215, compact: bool = False) -> dict:
    option = {
        "animation": False,
        "title": {"text": title, "left": 8, "top": 2,
                  "textStyle": {"fontSize": 17 if compact else TITLE, "fontWeight": "bold"}},
        "textStyle": {"fontSize": FONT, "fontFamily": "Roboto, Arial, sans-serif"},
        "tooltip": {"trigger": "axis", "textStyle": {"fontSize": FONT}},
        "grid": {"left": 70, "right": right, "top": 56, "bottom": 52},
        "legend": {
            "orient": "vertical", "right": 6, "top": "middle", "itemGap": 10,
            "textStyle": {"fontSize": FONT}, "itemWidth": 26, "itemHeight": 14,
        },
    }
    if compact:
        option["grid"] = {"left": 46, "right": 16, "top": 54, "bottom": 26}
        option["legend"] = {"orient": "horizontal", "left": 8, "top": 26, "itemGap": 12,
                            "textStyle": {"fontSize": FONT}, "itemWidth": 22, "itemHeight": 12}
    if legend_names is not None:
        option["legend"]["data"] = legend_names
    return option


def levels_chart(history: pd.DataFrame, marks: list[Mark], compact: bool = False) -> dict:
    """Shares of partnerships at each level of the continuum, as bands piled up to 1.

    The bands are summed here and drawn as plain (unstacked) areas, tallest
    first, each filling down to 0 over the ones drawn before it. ECharts' own
    stacking (``stack``) misplaced the areas on a numeric month axis: a drop at
    month 36 was drawn as a smooth decline from month 16 (issue 7). Each point
    is ``[month, top of its band, its level's share]``: the band's top is drawn,
    the share is what the tooltip shows.
    """
    months = list(history.index)
    shares = {name: history[f"share_{name}"].to_numpy(dtype=float) for name in LEVELS[1:]}
    none = np.clip(1.0 - np.sum(list(shares.values()), axis=0), 0.0, 1.0) if len(months) else np.zeros(0)
    shares = {"none": none, **shares}
    top = np.zeros(len(months))
    series = []
    for level in reversed(range(len(LEVELS))):  # collaborating at the bottom
        name = LEVELS[level]
        top = top + shares[name]
        series.append({
            "name": LEVEL_LABELS[level], "type": "line", "showSymbol": False,
            "areaStyle": {"opacity": 1.0 if level else 0.35}, "lineStyle": {"width": 0.5},
            "color": LEVEL_COLOURS[level],
            "encode": {"x": 0, "y": 1, "tooltip": 2},
            "data": [[int(m), round(float(t), 4), round(float(v), 4)] for m, t, v in zip(months, top, shares[name])],
        })
    legend = [s["name"] for s in series]  # collaborating first, as the bands lie from the bottom
    series.reverse()  # the tallest band ("none", up to 1) first: each later band is drawn over it
    series[0]["markLine"] = mark_line(marks, axis_end(months))
    option = _base("Partnerships by level of working together", legend, right=190, compact=compact)
    option["legend"]["icon"] = "rect"  # filled swatches, like the bands
    if compact:  # the network's key beside it shows the same colours by level
        option["legend"]["show"] = False
        option["grid"]["top"] = 34
    option["xAxis"] = _month_axis(months, compact=compact)
    option["yAxis"] = _value_axis("" if compact else "Share of partnerships", **({"interval": 0.5} if compact else {}))
    option["series"] = series
    return option


def _line(name: str, months, values, colour: str, dash="solid", width: float = 3.5, end_label: bool = True,
          **more) -> dict:
    series = {
        "name": name, "type": "line", "showSymbol": False, "color": colour,
        "lineStyle": {"width": width, "type": dash}, "data": _points(months, values),
    }
    if end_label:  # the line's name at its end: no one has to match colours to a legend
        series["endLabel"] = {"show": True, "formatter": "{a}", "fontSize": FONT, "color": colour,
                              "fontWeight": "bold", "distance": 6}
        series["labelLayout"] = {"moveOverlap": "shiftY"}  # end labels of close lines do not overlap
    series.update(more)
    return series


def trust_turf_chart(history: pd.DataFrame, marks: list[Mark], compact: bool = False) -> dict:
    """Mean trust between partners and mean turf over all organisations."""
    months = list(history.index)
    option = _base("Trust and turf (all organisations)", compact=compact)
    option["xAxis"] = _month_axis(months, compact=compact)
    option["yAxis"] = _value_axis("" if compact else "0 = none, 1 = full", **({"interval": 0.5} if compact else {}))
    if not compact:
        option["grid"]["right"] = 70
    option["series"] = [
        _line("Trust", months, history["trust_mean"], "#0072B2", width=4, end_label=not compact,
              markLine=mark_line(marks, axis_end(months))),
        _line("Turf", months, history["turf_mean"], "#D55E00", dash=[10, 4], width=4, end_label=not compact),
    ]
    return option


def group_chart(group_history: pd.DataFrame, column: str, title: str, axis_name: str, marks: list[Mark]) -> dict:
    """One figure (``trust_given`` or ``turf``) by group of organisation: a few labelled lines, not ten."""
    option = _base(title, right=120)
    option["grid"]["left"] = 62
    months = sorted(set(group_history.index.get_level_values("month"))) if not group_history.empty else [0]
    option["xAxis"] = _month_axis(months)
    option["yAxis"] = _value_axis(axis_name, nameGap=40)
    option["legend"]["show"] = False  # each line is labelled at its end
    series = []
    if not group_history.empty:
        known = {g.label: g for g in (*GROUPS, OTHER)}
        for name, rows in group_history.groupby(level="group", sort=False):
            g = known.get(name, OTHER)
            m = rows.index.get_level_values("month")
            series.append(_line(g.label, m, rows[column].to_numpy(dtype=float), g.colour, g.dash))
    if series:
        series[0]["markLine"] = mark_line(marks, axis_end(months))
    option["series"] = series
    return option


def outcome_chart(history: pd.DataFrame, marks: list[Mark], compact: bool = False) -> dict:
    """System outcome against organisations' true and reported performance (the gap is gaming)."""
    months = list(history.index)
    option = _base("System outcome vs organisations' performance", right=235, compact=compact)
    option["xAxis"] = _month_axis(months, compact=compact)
    option["yAxis"] = _value_axis("" if compact else "0 = worst, 1 = best", **({"interval": 0.5} if compact else {}))
    names = ("System outcome", "True perf.", "Reported perf.") if compact else \
        ("System outcome", "Performance (true)", "Performance (reported)")
    option["series"] = [
        _line(names[0], months, history["system_outcome"], "#009E73", width=4.5,
              end_label=False, markLine=mark_line(marks, axis_end(months))),
        _line(names[1], months, history["org_performance"], "#0072B2", end_label=False),
        _line(names[2], months, history["reported_performance"], "#0072B2", dash=[8, 4], end_label=False),
    ]
    return option


def channels_chart(history: pd.DataFrame, marks: list[Mark]) -> dict:
    """Delayed discharges and emergency admissions per 1,000 people (left and right axes)."""
    months = list(history.index)
    delayed = history["delayed_discharge_days"].to_numpy(dtype=float)
    admissions = history["emergency_admissions"].to_numpy(dtype=float)
    option = _base("Delayed discharges and emergency admissions")
    _legend_on_top(option)
    option["xAxis"] = _month_axis(months)
    option["yAxis"] = [
        _value_axis("Bed-days per 1,000", high=nice_top(float(delayed.max(initial=0)) * 1.1, 1), nameGap=40),
        _value_axis("Admissions per 1,000", high=nice_top(float(admissions.max(initial=0)) * 1.1, 1),
                    splitLine={"show": False}, nameGap=44),
    ]
    option["series"] = [
        _line("Delayed discharges", months, delayed, "#D55E00", width=4, end_label=False, yAxisIndex=0,
              markLine=mark_line(marks, axis_end(months))),
        _line("Emergency admissions", months, admissions, "#0072B2", dash=[10, 4], end_label=False, yAxisIndex=1),
    ]
    return option


def oversight_chart(history: pd.DataFrame, marks: list[Mark]) -> dict:
    """Sanctions each month (bars, left axis) and compliance burden (line, right axis)."""
    months = list(history.index)
    sanctions = history["sanctions"].to_numpy(dtype=float)
    burden = history["compliance_burden"].to_numpy(dtype=float)
    option = _base("Sanctions and compliance burden")
    _legend_on_top(option)
    option["xAxis"] = _month_axis(months)
    option["yAxis"] = [
        _value_axis("Sanctions per month", high=nice_top(float(sanctions.max(initial=0)) * 1.1, 3), minInterval=1),
        _value_axis("Share of capacity", high=nice_top(float(burden.max(initial=0)) * 1.1, 0.05),
                    splitLine={"show": False}, nameGap=50),
    ]
    option["series"] = [
        {"name": "Sanctions", "type": "bar", "barWidth": "90%", "yAxisIndex": 0, "color": "#D55E00",
         "data": _points(months, sanctions, 0), "markLine": mark_line(marks, axis_end(months))},
        {"name": "Compliance burden", "type": "line", "showSymbol": False, "yAxisIndex": 1,
         "color": "#000000", "lineStyle": {"width": 3.5}, "data": _points(months, burden)},
    ]
    return option


def _legend_on_top(option: dict) -> None:
    """A two-axis chart: the legend in a row under the title, room for the right-hand axis."""
    option["legend"] = {"orient": "horizontal", "left": 8, "top": 30, "itemGap": 14,
                        "textStyle": {"fontSize": FONT}, "itemWidth": 24, "itemHeight": 12}
    option["grid"] = {"left": 64, "right": 70, "top": 70, "bottom": 52}
