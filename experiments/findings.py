"""Findings in plain language, generated from the numbers.

A reader of a report first asks: which regime leads on which outcome, by how
much, how sure is that, and what does the leader give up elsewhere? This
module answers from the stored runs, without a word written by hand:

- ``level_contrasts``: for each level of a categorical factor (the regime,
  usually), the mean of each metric and its absolute difference from a
  reference level with a 95% interval. Runs are paired on everything else
  (the other factors' values and the replicate, hence the seed), so the
  interval covers the variation over seeds and, when other factors vary (a
  sampled design), over their values too; ``covers`` says which.
- ``findings``: a few sentences from those contrasts: the leader and the
  last on each metric, whether the leader is distinguishable from the
  reference, and trade-offs (the leader on one outcome is not the leader on
  another, e.g. system outcome against organisational performance).

Whether a higher value is better depends on the metric (more trust is good,
more turf or gaming is not), so the sentences on each metric say "highest"
and "lowest" and leave the judgement to the reader. A trade-off is a
judgement, so it is stated only for metrics whose better direction is not in
doubt (``abm.metrics.BETTER``): the leader on the anchor is compared with the
best level on the other metric, the lowest where lower is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from abm.metrics import BETTER

from . import analysis
from .store import Results


def categorical_factor(results: Results) -> str | None:
    """The factor the findings compare: the regime if varied, else the first categorical factor."""
    exp = results.manifest.get("experiment", {})
    categorical = [c for c in exp.get("categorical", []) if c in results.runs.columns]
    if "regime" in categorical:
        return "regime"
    return categorical[0] if categorical else None


def interval_scope(results: Results, factor: str) -> str:
    """What the 95% intervals of a contrast on ``factor`` cover, in words."""
    exp = results.manifest.get("experiment", {})
    others = [f for f in results.factors if f != factor and f in results.runs.columns]
    if exp.get("design") in analysis_sampled():
        return ("seeds (replicates) and the sampled values of " + ", ".join(others)
                if others else "seeds (replicates)")
    if others:
        return "seeds (replicates) and the listed levels of " + ", ".join(others)
    return "seeds (replicates) only; every parameter is fixed at the value shown"


def analysis_sampled() -> tuple[str, ...]:
    from .spec import SAMPLED_DESIGNS

    return SAMPLED_DESIGNS


def level_contrasts(results: Results, metrics, factor: str, reference=None, value: str = "final") -> pd.DataFrame:
    """Per level of ``factor`` and metric: mean, and difference from ``reference`` with a 95% interval.

    Pairs are runs with the same values of every other factor and the same
    replicate; when the replicate seeds are shared (common random numbers)
    the pairing removes the run-to-run noise the two levels have in common.
    """
    runs = analysis.per_run(results, metrics)
    if runs.empty or factor not in results.runs.columns:
        return pd.DataFrame()
    others = [f for f in results.factors if f != factor and f in results.runs.columns]
    data = runs.merge(results.ok[["run_id", factor, *others]], on="run_id")
    levels = list(dict.fromkeys(results.runs.sort_values("point")[factor]))
    if reference is None:
        reference = analysis.REFERENCE_REGIME if analysis.REFERENCE_REGIME in levels else levels[0]
    keys = [*others, "replicate"]
    scope = interval_scope(results, factor)
    reference_label = analysis.display_value(results, factor, reference)
    rows = []
    for metric in [m for m in metrics if m in set(data["metric"])]:
        d = data[data["metric"] == metric]
        wide = d.pivot_table(index=keys, columns=factor, values=value, aggfunc="first") if keys else None
        for level in levels:
            mean, low, high, n = analysis.ci95(d.loc[d[factor] == level, value])
            row = {"metric": metric, "level": analysis.display_value(results, factor, level), "mean": mean, "ci_low": low, "ci_high": high, "runs": n,
                   "reference": reference_label, "difference": np.nan, "diff_ci_low": np.nan, "diff_ci_high": np.nan,
                   "pairs": 0, "covers": scope}
            if level != reference and wide is not None and level in wide and reference in wide:
                diff = (wide[level] - wide[reference]).dropna()
                dm, dl, dh, dn = analysis.ci95(diff)
                row.update(difference=dm, diff_ci_low=dl, diff_ci_high=dh, pairs=dn)
            rows.append(row)
    return pd.DataFrame(rows)


def _num(x: float) -> str:
    return f"{x:.3f}"


def _interval(low: float, high: float) -> str:
    if np.isnan(low):
        return "no interval: one pair"
    return f"95% CI {low:+.3f} to {high:+.3f}"


def _clear(contrasts: pd.DataFrame, metric: str, sign: int = 1) -> bool:
    """Is the highest level on ``metric`` (the lowest, with ``sign`` -1) distinguishable (95%) from
    the reference or, if it is the reference, from the next level?"""
    c = contrasts[contrasts["metric"] == metric].dropna(subset=["mean"]).sort_values("mean", ascending=sign < 0)
    if len(c) < 2:
        return False
    top = c.iloc[0]
    low, high = ("diff_ci_low", "diff_ci_high") if sign > 0 else ("diff_ci_high", "diff_ci_low")
    if top["level"] != top["reference"]:
        return bool(sign * top[low] > 0)
    return bool(sign * c.iloc[1][high] < 0)


def findings(contrasts: pd.DataFrame, descriptions: dict[str, str] | None = None, factor: str = "regime",
             trade_off_with: tuple[str, ...] = ("system_outcome",)) -> list[str]:
    """Plain-language sentences from ``level_contrasts`` (final values)."""
    if contrasts.empty:
        return []
    descriptions = descriptions or {}
    out = []
    leaders = {}
    for metric, c in contrasts.groupby("metric", sort=False):
        c = c.dropna(subset=["mean"])
        if c["level"].nunique() < 2:
            continue
        top = c.loc[c["mean"].idxmax()]
        bottom = c.loc[c["mean"].idxmin()]
        leaders[metric] = top
        ref = top["reference"]
        what = f"{metric} ({descriptions[metric].rstrip('.')})" if metric in descriptions else metric
        sentence = (f"{what}: highest under {factor} {top['level']} ({_num(top['mean'])}), lowest under "
                    f"{bottom['level']} ({_num(bottom['mean'])}).")
        spread = top["mean"] - bottom["mean"]
        scale = max(abs(top["mean"]), abs(bottom["mean"]), 1e-12)
        if top["level"] != ref and not np.isnan(top["difference"]):
            clear = top["diff_ci_low"] > 0
            sentence += (f" {top['level']} against {ref}: {top['difference']:+.3f} ({_interval(top['diff_ci_low'], top['diff_ci_high'])})"
                         + ("." if clear else "; the interval includes no difference."))
        elif top["level"] == ref:
            nxt = c[c["level"] != ref].sort_values("mean", ascending=False)
            if not nxt.empty and not np.isnan(nxt.iloc[0]["difference"]):
                n = nxt.iloc[0]
                sentence += (f" The next, {n['level']}, differs from it by {n['difference']:+.3f} "
                             f"({_interval(n['diff_ci_low'], n['diff_ci_high'])}).")
        if spread < 0.01 * scale:
            sentence += " The levels differ by less than 1% of the value: practically the same."
        out.append(sentence)
    anchor = next((m for m in trade_off_with if m in leaders),
                  next((m for m in leaders if m in BETTER), None))
    if anchor is not None and not _clear(contrasts, anchor, BETTER.get(anchor, 1)):
        out.append(f"No {factor} clearly leads on {anchor}: the best level is not distinguishable from "
                   f"{contrasts['reference'].iloc[0]} "
                   "at 95%, so no trade-off against it is stated.")
    elif anchor is not None:
        a = contrasts[contrasts["metric"] == anchor].dropna(subset=["mean"]).set_index("level")["mean"]
        lead = a.idxmax() if BETTER.get(anchor, 1) > 0 else a.idxmin()
        for metric in leaders:
            sign = BETTER.get(metric)
            if metric == anchor or sign is None or not _clear(contrasts, metric, sign):
                continue
            c = contrasts[contrasts["metric"] == metric].dropna(subset=["mean"]).set_index("level")
            best = c["mean"].idxmax() if sign > 0 else c["mean"].idxmin()
            if best == lead or lead not in c.index:
                continue
            gap = c.loc[lead, "mean"] - c.loc[best, "mean"]
            out.append(f"Trade-off: {lead} leads on {anchor} but not on {metric}, where {best} is "
                       f"{'highest' if sign > 0 else 'lowest (lower is better)'}; "
                       f"{lead} is {abs(gap):.3f} {'lower' if gap < 0 else 'higher'} there "
                       f"({_num(c.loc[lead, 'mean'])} against {_num(c.loc[best, 'mean'])}).")
    return out
