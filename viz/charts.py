"""The time-series charts, as ECharts options (plain dicts).

The browser draws the charts (ECharts, served from the local asset cache),
so a step only sends the numbers. Each function here is pure: it turns the
model's metrics table into one chart's option, so it is tested without a
browser.

Colours: ties and the continuum chart's bands by level (light to dark purple
as partners integrate); kinds of organisation by their class's ``colour``.
Regime changes are solid dark vertical lines labelled with the regime's name;
triggered events (shock, merger, cut) are dotted grey lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.network import LEVELS

# Tie colours by continuum level (index = level); "none" is a light grey.
LEVEL_COLOURS = ("#d9d9d9", "#cbc9e2", "#9e9ac8", "#6a51a3", "#2d004b")
LEVEL_LABELS = tuple(name.capitalize() for name in LEVELS)
REGIME_LINE = "#111111"
EVENT_LINE = "#777777"

FONT = 16      # axis labels, legends
TITLE = 19


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


def _month_axis(months, grid_index: int = 0) -> dict:
    """Months on the x axis, ending at the next whole year, ticks at whole quarters or years."""
    last = int(max(months)) if len(months) else 0
    end = max(12, 12 * math.ceil(last / 12))
    step = 3 if end <= 12 else 6 if end <= 36 else 12 if end <= 72 else 24 if end <= 144 else 12 * math.ceil(end / 120)
    return {
        "type": "value", "gridIndex": grid_index, "min": 0, "max": end, "interval": step,
        "name": "Month", "nameLocation": "middle", "nameGap": 30,
        "nameTextStyle": {"fontSize": FONT}, "axisLabel": {"fontSize": FONT - 1},
        "splitLine": {"show": False},
    }


def _value_axis(name: str = "", low: float = 0.0, high: float | None = 1.0, grid_index: int = 0, **more) -> dict:
    axis = {
        "type": "value", "gridIndex": grid_index, "min": low,
        "name": name, "nameLocation": "middle", "nameGap": 42,
        "nameTextStyle": {"fontSize": FONT - 1},
        "axisLabel": {"fontSize": FONT - 1}, "splitLine": {"lineStyle": {"color": "#e6e6e6"}},
    }
    if high is not None:
        axis["max"] = high
    axis.update(more)
    return axis


def mark_line(marks: list[Mark]) -> dict:
    """An ECharts markLine with a vertical line per regime change and event."""
    latest: dict[tuple[int, str], str] = {}
    for m in marks:
        latest[(m.month, m.kind)] = m.label  # several changes in one month: the last one shows
    data = []
    for (month, kind), text in sorted(latest.items()):
        if kind == "regime":
            data.append({
                "xAxis": month, "name": text,
                "lineStyle": {"color": REGIME_LINE, "width": 3, "type": "solid"},
                "label": {"formatter": text.replace("_", " "), "fontSize": FONT - 2, "color": REGIME_LINE,
                          "position": "insideEndTop", "fontWeight": "bold",
                          "backgroundColor": "rgba(255,255,255,0.75)"},
            })
        else:
            data.append({
                "xAxis": month, "name": text,
                "lineStyle": {"color": EVENT_LINE, "width": 2, "type": "dotted"},
                "label": {"show": False},
            })
    return {"silent": True, "symbol": "none", "animation": False, "data": data}


def _base(title: str, legend_names: list[str] | None = None, right: int = 215) -> dict:
    option = {
        "animation": False,
        "title": {"text": title, "left": 8, "top": 4, "textStyle": {"fontSize": TITLE, "fontWeight": "bold"}},
        "textStyle": {"fontSize": FONT, "fontFamily": "Roboto, Arial, sans-serif"},
        "tooltip": {"trigger": "axis", "textStyle": {"fontSize": FONT - 1}},
        "grid": {"left": 70, "right": right, "top": 56, "bottom": 52},
        "legend": {
            "orient": "vertical", "right": 6, "top": "middle", "itemGap": 10,
            "textStyle": {"fontSize": FONT - 1}, "itemWidth": 26, "itemHeight": 14,
        },
    }
    if legend_names is not None:
        option["legend"]["data"] = legend_names
    return option


def levels_chart(history: pd.DataFrame, marks: list[Mark]) -> dict:
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
            "areaStyle": {"opacity": 1.0}, "lineStyle": {"width": 0.5}, "color": LEVEL_COLOURS[level],
            "encode": {"x": 0, "y": 1, "tooltip": 2},
            "data": [[int(m), round(float(t), 4), round(float(v), 4)] for m, t, v in zip(months, top, shares[name])],
        })
    legend = [s["name"] for s in series]  # collaborating first, as the bands lie from the bottom
    series.reverse()  # the tallest band ("none", up to 1) first: each later band is drawn over it
    series[0]["markLine"] = mark_line(marks)
    option = _base("Partnerships by level of working together", legend, right=190)
    option["legend"]["icon"] = "rect"  # filled swatches, like the bands
    option["xAxis"] = _month_axis(months)
    option["yAxis"] = _value_axis("Share of partnerships")
    option["series"] = series
    return option


def kinds_chart(kind_history: pd.DataFrame, colours: Mapping[str, str], labels: Mapping[str, str],
                marks: list[Mark]) -> dict:
    """Mean trust in partners and turf, by kind of organisation (two panels)."""
    option = _base("Trust and turf by kind of organisation", right=250)
    option["legend"]["textStyle"] = {"fontSize": FONT - 3}
    option["legend"]["itemGap"] = 6
    option["grid"] = [
        {"left": 64, "width": "25%", "top": 56, "bottom": 52},
        {"left": "45%", "width": "25%", "top": 56, "bottom": 52},
    ]
    months = sorted(set(kind_history.index.get_level_values("month"))) if not kind_history.empty else [0]
    option["xAxis"] = [_month_axis(months, 0), _month_axis(months, 1)]
    option["yAxis"] = [_value_axis("Trust in partners", grid_index=0), _value_axis("Turf", grid_index=1, nameGap=36)]
    series = []
    if not kind_history.empty:
        for kind, rows in kind_history.groupby(level="kind", sort=False):
            m = rows.index.get_level_values("month")
            for axis, column in enumerate(("trust_given", "turf")):
                series.append({
                    "name": labels.get(kind, kind), "type": "line", "showSymbol": False,
                    "xAxisIndex": axis, "yAxisIndex": axis, "color": colours.get(kind, "#888888"),
                    "lineStyle": {"width": 3}, "data": _points(m, rows[column].to_numpy(dtype=float)),
                })
    for axis in (0, 1):
        first = next((s for s in series if s["xAxisIndex"] == axis), None)
        if first is not None:
            first["markLine"] = mark_line(marks)
    option["series"] = series
    return option


def outcome_chart(history: pd.DataFrame, marks: list[Mark]) -> dict:
    """System outcome against organisations' true and reported performance."""
    months = list(history.index)
    option = _base("System outcome vs organisations' performance", right=235)
    option["xAxis"] = _month_axis(months)
    option["yAxis"] = _value_axis("0 = worst, 1 = best")
    option["series"] = [
        {"name": "System outcome", "type": "line", "showSymbol": False, "color": "#007f3b",
         "lineStyle": {"width": 4}, "data": _points(months, history["system_outcome"]),
         "markLine": mark_line(marks)},
        {"name": "Performance (true)", "type": "line", "showSymbol": False, "color": "#005eb8",
         "lineStyle": {"width": 3}, "data": _points(months, history["org_performance"])},
        {"name": "Performance (reported)", "type": "line", "showSymbol": False, "color": "#005eb8",
         "lineStyle": {"width": 3, "type": "dashed"}, "data": _points(months, history["reported_performance"])},
    ]
    return option


def oversight_chart(history: pd.DataFrame, marks: list[Mark]) -> dict:
    """Sanctions each month (bars, left axis) and compliance burden (line, right axis)."""
    months = list(history.index)
    sanctions = history["sanctions"].to_numpy(dtype=float)
    burden = history["compliance_burden"].to_numpy(dtype=float)
    option = _base("Sanctions and compliance burden", right=235)
    option["grid"]["right"] = 290
    option["xAxis"] = _month_axis(months)
    option["yAxis"] = [
        _value_axis("Sanctions per month", high=nice_top(float(sanctions.max(initial=0)) * 1.1, 3), minInterval=1),
        _value_axis("Share of capacity", high=nice_top(float(burden.max(initial=0)) * 1.1, 0.3),
                    splitLine={"show": False}, nameGap=50),
    ]
    option["series"] = [
        {"name": "Sanctions", "type": "bar", "barWidth": "90%", "yAxisIndex": 0, "color": "#d5281b",
         "data": _points(months, sanctions, 0), "markLine": mark_line(marks)},
        {"name": "Compliance burden", "type": "line", "showSymbol": False, "yAxisIndex": 1,
         "color": "#231f20", "lineStyle": {"width": 3.5}, "data": _points(months, burden)},
    ]
    option["legend"]["right"] = 6
    return option
