"""The report: one self-contained ``report.html`` and CSV tables beside it.

The HTML has no external files or scripts: figures are PNG images embedded
as base64. Sections: what was run (fixed parameters, named regimes) and how to
run it again; generated findings (experiments.findings); scenario discovery
when ``ics-abm discover`` has run; the summary table (95% confidence
intervals, absolute differences from the reference with 95% intervals; Cohen's
d only in a detail table); time series with a band per factor level; for a
sweep that stores the per-ICS table of several ICSs (``england = true``), the
ICSs ranked under each regime beside the gap between regimes and the spread
tables (experiments.across_ics); distributions of the final outcomes; response curves and heatmaps for sweep
factors; Morris and Sobol indices for those designs; failed runs; provenance.
"""

from __future__ import annotations

import base64
import html
import io
import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from abm.metrics import MODEL_METRICS

from . import analysis
from .store import Results, atomic_write, load

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1150px;
       color: #1d2733; line-height: 1.45; padding: 0 1em; }
h1 { color: #005eb8; margin-bottom: 0.2em; } h2 { color: #003087; border-bottom: 2px solid #e8edee; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.86em; margin: 0.8em 0; display: block; max-width: 100%;
        overflow-x: auto; }
td { overflow-wrap: anywhere; }
th, td { border: 1px solid #d8dde0; padding: 0.3em 0.55em; text-align: right; }
th { background: #f0f4f5; } td.l, th.l { text-align: left; }
pre { background: #f6f8f9; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
code { background: #f0f4f5; padding: 0 0.25em; }
img { max-width: 100%; } .note { color: #4c6272; font-size: 0.92em; }
.bad { color: #a00; }
"""


# ------------------------------------------------------------------ figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _img(fig, alt: str) -> str:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _grid(n: int, width: float = 4.2, height: float = 3.0):
    plt = _plt()
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def figure_time_series(ts: pd.DataFrame, metrics, marks=()) -> str:
    """One panel per metric, one line with a 95% band per group; dotted lines at scheduled changes."""
    groups = list(dict.fromkeys(ts["group"]))
    fig, axes = _grid(len(metrics))
    colours = _colours(len(groups))
    for ax, metric in zip(axes, metrics):
        for month in marks:
            ax.axvline(month, color="#768692", ls=":", lw=1)
        for colour, group in zip(colours, groups):
            g = ts[(ts["group"] == group) & (ts["metric"] == metric)]
            ax.plot(g["month"], g["mean"], color=colour, label=group, lw=1.6)
            ax.fill_between(g["month"], g["ci_low"], g["ci_high"], color=colour, alpha=0.2, lw=0)
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("month")
        _show_scale(ax)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle("Mean over replicates with 95% confidence band", fontsize=10)
    fig.tight_layout()
    return _img(fig, "time series of headline metrics with 95% confidence bands")


def _show_scale(ax, axis: str = "y") -> None:
    """Start the value axis at zero for non-negative data, so that small differences are
    not drawn as large ones (the axis shows the scale of the values)."""
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if low >= 0 or (low < 0 and high > 0 and low > -0.05 * high):
        (ax.set_ylim if axis == "y" else ax.set_xlim)(0, high)


def _colours(n: int):
    plt = _plt()
    cmap = plt.get_cmap("tab10" if n <= 10 else "viridis")
    return [cmap(i if n <= 10 else i / max(n - 1, 1)) for i in range(n)]


def figure_distributions(runs: pd.DataFrame, labels: dict, metrics, by_group: bool) -> str:
    fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes, metrics):
        data = runs[runs["metric"] == metric]
        if by_group:
            order = list(labels)
            values = [data.loc[data["point"] == p, "final"].to_numpy() for p in order]
            ax.boxplot(values, showmeans=True)
            ax.set_xticks(range(1, len(order) + 1), [labels[p] for p in order], rotation=30, ha="right", fontsize=7)
        else:
            ax.hist(data["final"], bins=30, color="#005eb8", alpha=0.8)
            ax.set_xlabel("final value")
        if by_group:
            _show_scale(ax)
        ax.set_title(f"{metric} (final month)", fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _img(fig, "distributions of final outcomes")


def figure_effects(eff: pd.DataFrame, metrics) -> str:
    """Forest plot: each condition's difference from the reference (final month), 95% CI."""
    fig, axes = _grid(len(metrics), 4.2, 0.6 + 0.32 * eff["label"].nunique())
    for ax, metric in zip(axes, metrics):
        e = eff[(eff["metric"] == metric) & (eff["value"] == "final")].iloc[::-1]
        y = np.arange(len(e))
        err = np.vstack([e["difference"] - e["diff_ci_low"], e["diff_ci_high"] - e["difference"]])
        ax.errorbar(e["difference"], y, xerr=np.nan_to_num(err), fmt="o", color="#005eb8", capsize=3)
        ax.axvline(0, color="#768692", lw=1)
        ax.set_yticks(y, e["label"], fontsize=7)
        ax.set_title(f"{metric}: difference", fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Final month, difference from {eff['reference'].iloc[0]} with 95% CI", fontsize=10)
    fig.tight_layout()
    return _img(fig, "differences from the reference with 95% confidence intervals")


def figure_response(runs: pd.DataFrame, factor: str, colour_by: str | None, metrics, sampled: bool) -> str:
    fig, axes = _grid(len(metrics))
    groups = [None] if colour_by is None else list(dict.fromkeys(runs[colour_by]))
    colours = _colours(len(groups))
    for ax, metric in zip(axes, metrics):
        data = runs[runs["metric"] == metric]
        for colour, group in zip(colours, groups):
            g = data if group is None else data[data[colour_by] == group]
            if sampled:
                ax.scatter(g[factor], g["final"], s=8, alpha=0.5, color=colour, label=group)
                continue
            rows = [(x, *analysis.ci95(v["final"])[:3]) for x, v in g.groupby(factor)]
            xs, mean, low, high = (np.array(c, dtype=float) for c in zip(*rows))
            ax.plot(xs, mean, marker="o", color=colour, label=group)
            ax.fill_between(xs, low, high, color=colour, alpha=0.2, lw=0)
        ax.set_xlabel(factor)
        ax.set_title(f"{metric} (final month)", fontsize=10)
        ax.grid(alpha=0.3)
    if colour_by is not None:
        axes[0].legend(fontsize=7, title=colour_by, title_fontsize=7)
    fig.tight_layout()
    return _img(fig, f"response of final outcomes to {factor}")


def figure_heatmap(runs: pd.DataFrame, row: str, col: str, metrics) -> str:
    fig, axes = _grid(len(metrics), 4.4, 3.4)
    for ax, metric in zip(axes, metrics):
        table = runs[runs["metric"] == metric].pivot_table(index=row, columns=col, values="final", aggfunc="mean")
        im = ax.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [analysis._fmt_value(v) for v in table.columns], fontsize=7, rotation=30)
        ax.set_yticks(range(table.shape[0]), [analysis._fmt_value(v) for v in table.index], fontsize=7)
        ax.set_xlabel(col)
        ax.set_ylabel(row)
        ax.set_title(f"{metric} (final, mean)", fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return _img(fig, f"heatmap of final outcomes over {row} and {col}")


def figure_indices(table: pd.DataFrame, value: str, conf: str, title: str, second: tuple[str, str] | None = None) -> str:
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = _grid(len(metrics), 4.4, 3.2)
    for ax, metric in zip(axes, metrics):
        t = table[table["metric"] == metric].sort_values(value, ascending=True)
        y = np.arange(len(t))
        h = 0.4 if second else 0.7
        ax.barh(y + (h / 2 if second else 0), t[value], xerr=t[conf], height=h, color="#005eb8", label=value)
        if second:
            ax.barh(y - h / 2, t[second[0]], xerr=t[second[1]], height=h, color="#ed8b00", label=second[0])
            ax.legend(fontsize=7)
        ax.set_yticks(y, t["parameter"], fontsize=7)
        ax.set_title(metric, fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _img(fig, title)


def _short(name: str, width: int = 34) -> str:
    return name if len(name) <= width else name[: width - 1].rstrip(" ,") + "\u2026"


def figure_ics_ranking(rank: pd.DataFrame, metric: str, reference: int | None, period: tuple[int, int]) -> str:
    """One panel per regime (design point): the ICSs ranked by their mean over the final period and
    the replicates, with 95% intervals over replicates; then, when there are several regimes, every
    regime's value for each ICS in the reference regime's order, all on a common axis."""
    plt = _plt()
    data = rank[rank["metric"] == metric]
    points = list(dict.fromkeys(data["point"]))
    labels = dict(zip(data["point"], data["label"]))
    n_ics = data["ics"].nunique()
    panels = len(points) + (len(points) > 1)
    fig, axes = plt.subplots(1, panels, figsize=(4.4 * panels, 1.3 + 0.16 * n_ics), sharex=True, squeeze=False)
    axes = list(axes[0])
    colours = _colours(len(points))
    for ax, colour, point in zip(axes, colours, points):
        d = data[data["point"] == point].sort_values("rank", ascending=False)   # rank 1 at the top
        y = np.arange(len(d))
        err = np.nan_to_num(np.vstack([d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]]))
        ax.errorbar(d["mean"], y, xerr=err, fmt="o", ms=3, color=colour, elinewidth=1, capsize=1.5)
        ax.axvline(d["mean"].mean(), color="#768692", ls=":", lw=1)
        ax.set_yticks(y, [_short(n) for n in d["ics"]], fontsize=6.5)
        ax.set_ylim(-0.8, len(d) - 0.2)
        ax.set_title(f"{labels[point]}: {n_ics} ICSs ranked", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    if len(points) > 1:
        ax = axes[-1]
        ref = reference if reference in points else points[0]
        order = list(data[data["point"] == ref].sort_values("rank", ascending=False)["ics"])
        wide = data.pivot_table(index="ics", columns="point", values="mean").reindex(order)
        y = np.arange(len(order))
        ax.hlines(y, wide.min(axis=1), wide.max(axis=1), color="#aeb7bd", lw=1.2, zorder=1)
        for colour, point in zip(colours, points):
            ax.scatter(wide[point], y, s=11, color=colour, label=labels[point], zorder=3)
        ax.set_yticks(y, [_short(n) for n in order], fontsize=6.5)
        ax.set_ylim(-0.8, len(order) - 0.2)
        ax.set_title(f"every regime, in {labels[ref]}'s order", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(alpha=0.3, axis="x")
    _show_scale(axes[0], "x")
    for ax in axes:
        ax.set_xlabel(metric, fontsize=8)
    n = int(data["n"].max())
    fig.suptitle(f"{metric} of each ICS, mean over months {period[0]}-{period[1]} and {n} replicate(s)"
                 + (" (bars: 95% interval over replicates)" if n > 1 else "") + "; dotted: mean over ICSs",
                 fontsize=9)
    fig.tight_layout()
    return _img(fig, f"{metric} of each ICS ranked under each regime")


# ------------------------------------------------------------------ tables
def _cell(mean, low, high, digits=3) -> str:
    if pd.isna(mean):
        return "n/a"
    if pd.isna(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ({low:.{digits}f} to {high:.{digits}f})"


def html_table(frame: pd.DataFrame, left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(str(c))}</th>' for i, c in enumerate(frame.columns))
    body = []
    for _, row in frame.iterrows():
        cells = "".join(f'<td class="{"l" if i < left else ""}">{html.escape(str(v))}</td>' for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def readable_summary(summ: pd.DataFrame, eff: pd.DataFrame, max_points: int = 40) -> pd.DataFrame:
    """The summary as text cells: one row per design point and metric."""
    rows = []
    for _, r in summ.iterrows():
        row = {"condition": r["label"], "metric": r["metric"], "runs": r["n"],
               "final (95% CI)": _cell(r["final_mean"], r["final_ci_low"], r["final_ci_high"]),
               "average over run (95% CI)": _cell(r["average_mean"], r["average_ci_low"], r["average_ci_high"])}
        if not eff.empty:
            for what in ("final", "average"):
                e = eff[(eff["point"] == r["point"]) & (eff["metric"] == r["metric"]) & (eff["value"] == what)]
                column = f"difference from reference, {what} (95% CI)"
                row[column] = "reference" if e.empty else _cell(*e.iloc[0][["difference", "diff_ci_low", "diff_ci_high"]])
        rows.append(row)
    out = pd.DataFrame(rows)
    if summ["point"].nunique() > max_points:
        keep = sorted(summ["point"].unique())[:max_points]
        out = out[summ["point"].isin(keep).to_numpy()]
    return out


def standardised_effects(eff: pd.DataFrame) -> pd.DataFrame:
    """Cohen's d and d_z per condition and metric (final month): a detail, not a headline."""
    e = eff[eff["value"] == "final"]
    return pd.DataFrame({"condition": e["label"], "metric": e["metric"],
                         "difference": e["difference"].map(lambda v: f"{v:+.3f}"),
                         "d (average SD)": e["d"].map(lambda v: f"{v:.2f}"),
                         "d_z (SD of paired differences)": e["d_z"].map(lambda v: f"{v:.2f}")})


def findings_section(results: Results, metrics) -> str:
    """Plain-language findings from the numbers (experiments.findings)."""
    from . import findings

    factor = findings.categorical_factor(results)
    if factor is None:
        return ""
    contrasts = findings.level_contrasts(results, metrics, factor)
    sentences = findings.findings(contrasts, MODEL_METRICS, factor)
    if not sentences:
        return ""
    contrasts.to_csv(results.path / "contrasts.csv", index=False)
    scope = contrasts["covers"].iloc[0]
    table = pd.DataFrame({
        "metric": contrasts["metric"], factor: contrasts["level"], "runs": contrasts["runs"],
        "final (95% CI)": [_cell(*r) for r in contrasts[["mean", "ci_low", "ci_high"]].to_numpy()],
        "difference from reference (95% CI)": [
            "reference" if lvl == ref else _cell(*r) for lvl, ref, r in
            zip(contrasts["level"], contrasts["reference"], contrasts[["difference", "diff_ci_low", "diff_ci_high"]].to_numpy())],
    })
    return ("<h2>Findings</h2><ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in sentences) + "</ul>"
            + html_table(table, left=2)
            + f"<p class=\"note\">Final month, mean over all runs at each {html.escape(factor)} level; differences "
            f"are against {html.escape(str(contrasts['reference'].iloc[0]))}, paired on the replicate seed"
            + (" and the other factors' values" if "and" in scope else "")
            + f", with 95% intervals that cover {html.escape(scope)} (not uncertainty in the parameters held "
            "fixed, nor in the model's structure). Whether higher is better depends on the metric. "
            "Table: contrasts.csv.</p>")


def across_ics_section(results: Results, path: Path) -> str:
    """The ranked chart of the ICSs under each regime and the spread tables (experiments.across_ics)."""
    from . import across_ics

    if not across_ics.available(results):
        return ""
    rank = across_ics.ranking(results)
    spread = across_ics.spread(results, rank=rank)
    gaps = across_ics.gaps(results)
    for name, frame in (("ics_ranking.csv", rank), ("ics_spread.csv", spread), ("ics_gaps.csv", gaps)):
        if not frame.empty:
            atomic_write(path / name, lambda tmp, f=frame: f.to_csv(tmp, index=False))
    if rank.empty:
        return ""
    period = across_ics.final_period(results)
    refs = analysis.reference_points(results)
    reference = next(iter(refs.values()), None)
    n_ics = rank["ics"].nunique()
    k = len(spread["most_icss"].iloc[0].split("; "))
    out = [f"<h2>Across the {n_ics} ICSs</h2>",
           f"<p class=\"note\">Each ICS's value is its per-ICS metric (abm/ics_table.py) averaged over the "
           f"stored snapshots of months {period[0]}-{period[1]}, then over replicates "
           f"({html.escape(across_ics.seeds_text(results))}). Across ICSs: mean, SD and range of those "
           "values. Across seeds: the SD over replicates of one ICS's value (root mean square over the ICSs). "
           f"Most and fewest organisations: the mean of the {k} ICSs with the most organisations based in them "
           f"and of the {k} with the fewest (first snapshot), and Spearman's rank correlation with the number "
           "of organisations and with deprivation (IMD 2025 average score; real ICSs only). The number of "
           "organisations grows with population and larger ICSs tend to be more deprived, so most against "
           "fewest is not a clean effect of the number of partners. Tables: ics_spread.csv, ics_gaps.csv; "
           "every ICS: ics_ranking.csv.</p>"]
    table = pd.DataFrame({
        "condition": spread["label"], "metric": spread["metric"], "ICSs": spread["icss"],
        "replicates": spread["replicates"],
        "mean across ICSs": spread["mean"].map(lambda v: f"{v:.3f}"),
        "SD across ICSs": spread["sd_across_icss"].map(lambda v: f"{v:.3f}"),
        "range across ICSs": [f"{lo:.3f} ({a}) to {hi:.3f} ({b})" for lo, a, hi, b in
                              spread[["min", "min_ics", "max", "max_ics"]].to_numpy()],
        "SD across seeds": spread["sd_across_seeds"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.3f}"),
        f"most organisations ({k} ICSs)": spread["most_organisations"].map(lambda v: f"{v:.3f}"),
        f"fewest ({k} ICSs)": spread["fewest_organisations"].map(lambda v: f"{v:.3f}"),
        "most minus fewest": spread["most_minus_fewest"].map(lambda v: f"{v:+.3f}"),
        "rank correlation with organisations": spread["spearman_organisations"].map(
            lambda v: "n/a" if pd.isna(v) else f"{v:+.2f}"),
        "rank correlation with deprivation": spread["spearman_deprivation"].map(
            lambda v: "n/a" if pd.isna(v) else f"{v:+.2f}"),
    })
    out.append(html_table(table, left=2))
    out.append(f"<p class=\"note\">Most organisations: {html.escape(spread['most_icss'].iloc[0])} "
               f"(mean {spread['organisations_most'].iloc[0]:.0f} organisations); fewest: "
               f"{html.escape(spread['fewest_icss'].iloc[0])} (mean {spread['organisations_fewest'].iloc[0]:.0f}).</p>")
    if not gaps.empty:
        out.append("<h3>The gap between regimes, ICS by ICS</h3><p class=\"note\">Each ICS's value under the "
                   "condition minus its value under the reference, paired on the replicate seed. Mean gap over "
                   "the ICSs with a 95% interval over replicates; SD and range of the ICSs' gaps; ICSs with a "
                   "positive gap.</p>")
        out.append(html_table(pd.DataFrame({
            "condition": gaps["label"], "reference": gaps["reference"], "metric": gaps["metric"],
            "mean gap (95% CI)": [_cell(m, lo, hi) for m, lo, hi in gaps[["mean_gap", "ci_low", "ci_high"]].to_numpy()],
            "SD across ICSs": gaps["sd_across_icss"].map(lambda v: f"{v:.3f}"),
            "range across ICSs": [f"{lo:+.3f} ({a}) to {hi:+.3f} ({b})" for lo, a, hi, b in
                                  gaps[["min_gap", "min_ics", "max_gap", "max_ics"]].to_numpy()],
            "ICSs with a positive gap": [f"{p} of {n}" for p, n in gaps[["icss_positive", "icss"]].to_numpy()],
        }), left=3))
    points = rank["point"].nunique()
    if points > 6:
        out.append(f"<p class=\"note\">{points} design points are too many to chart one panel each; every "
                   "ICS's value is in ics_ranking.csv.</p>")
        return "".join(out)
    out.append("<h3>The ICSs ranked under each regime</h3><p class=\"note\">One panel per condition on a "
               "common axis, highest value at the top; the last panel sets every condition's value for each ICS "
               "side by side (a grey line joins them), in the order of the reference condition, so the spread "
               "across ICSs can be read beside the gap between conditions. Whether higher is better depends on "
               "the metric.</p>")
    for metric in across_ics.CHART:
        if metric in set(rank["metric"]):
            out.append(figure_ics_ranking(rank, metric, reference, period))
    return "".join(out)


# ------------------------------------------------------------------ the report
def group_columns(results: Results) -> list[str]:
    """Which factors the time series and distributions are grouped by."""
    exp = results.manifest.get("experiment", {})
    categorical = [c for c in exp.get("categorical", []) if c in results.runs.columns]
    if categorical:
        return categorical
    factors = [f for f in results.factors if f in results.runs.columns]
    if factors and results.runs["point"].nunique() <= 8:
        return factors
    return []


def time_series_by_level(results: Results, groups: list[str], metrics, max_levels: int = 8) -> list:
    """(factor, time series) to draw: one band per design point when ``groups`` covers
    every factor; otherwise one figure per factor with at most ``max_levels`` levels, each
    level pooled over the other factors, rather than every run lumped together."""
    factors = [f for f in results.factors if f in results.runs.columns]
    if groups and set(groups) == set(factors):
        ts = analysis.time_series(results, groups, metrics)
        return [(", ".join(groups), ts)] if not ts.empty else []
    out = []
    for factor in factors:
        if 1 < results.runs[factor].nunique() <= max_levels:
            ts = analysis.time_series(results, [factor], metrics)
            if not ts.empty:
                out.append((factor, ts))
    return out


def write_report(path, metrics=analysis.HEADLINE) -> Path:
    """Write ``report.html`` and the CSV tables into the results folder ``path``."""
    results = load(path)
    path = Path(path)
    exp = results.manifest.get("experiment", {})
    metrics = [m for m in metrics if m in results.metrics.columns] or list(analysis.HEADLINE)
    summ = analysis.summary(results, metrics)
    eff = analysis.effects(results, metrics)
    runs = analysis.per_run(results, metrics)
    groups = group_columns(results)
    ts = analysis.time_series(results, groups, metrics)
    morris = analysis.morris_indices(results, metrics)
    sobol = analysis.sobol_indices(results, metrics)
    points = analysis.point_table(results)

    tables = {"summary.csv": summ, "effects.csv": eff, "final_outcomes.csv": runs, "time_series.csv": ts,
              "morris.csv": morris, "sobol.csv": sobol}
    for name, frame in tables.items():
        if frame is not None and not frame.empty:
            atomic_write(path / name, lambda tmp: frame.to_csv(tmp, index=False))

    parts = [f"<h1>{html.escape(exp.get('name', 'experiment'))}</h1>"]
    if exp.get("description"):
        parts.append(f"<p>{html.escape(exp['description'])}</p>")
    n_ok, n_failed = len(results.ok), len(results.failed)
    n_planned = exp.get("n_runs", len(results.runs))
    parts.append(
        f"<p>{exp.get('design', '').replace('_', ' ')} design: {results.runs['point'].nunique()} design points x "
        f"{exp.get('replicates')} replicates, {exp.get('months')} months each, root seed {exp.get('root_seed')}; "
        f"replicate r has the same seed in every design point (common random numbers). "
        f"Runs stored: {n_ok + n_failed} of {n_planned} ({n_ok} finished, "
        f"<span class=\"{'bad' if n_failed else ''}\">{n_failed} failed</span>). "
        f"Status: {html.escape(str(results.manifest.get('status')))}.</p>")
    from .uncertainty import covers, mode_of
    parts.append(f"<p><b>{html.escape(covers(mode_of(results.manifest), exp.get('replicates')))}</b></p>")
    fixed = analysis.fixed_parameters(results)
    parts.append("<p>Fixed parameters: " + (html.escape(", ".join(f"{k} = {v}" for k, v in fixed.items()))
                 if fixed else "none (model defaults; regime knobs from each preset)") + ".</p>")
    named = analysis.named_regimes(results)
    if named:
        parts.append("<p>Named regimes: " + html.escape("; ".join(
            f"{name} = {spec.get('base', 'permissive')} with "
            + ", ".join(f"{k} = {v}" for k, v in spec.items() if k != "base") for name, spec in named.items()))
            + ".</p>")
    rerun = results.manifest.get("rerun", {})
    parts.append(f"<p class=\"note\">Run it again: <code>{html.escape(rerun.get('all', ''))}</code> (stored runs are "
                 f"kept and skipped); reproduce one run: <code>{html.escape(rerun.get('one', ''))}</code>; "
                 f"rebuild this report: <code>ics-abm report {html.escape(shlex.quote(str(path)))}</code>.</p>")

    parts.append(findings_section(results, metrics))
    discovery = path / "discovery.html"
    if discovery.is_file():
        parts.append(discovery.read_text(encoding="utf-8"))

    parts.append("<h2>Summary</h2>")
    parts.append("<p class=\"note\">Final = value in the last month; average = mean over months 1 to the end. "
                 "Mean over replicates with 95% t-interval: it covers the variation over seeds (replicates) "
                 "only, with every parameter at the value shown. ")
    if not eff.empty:
        paired = bool(eff["paired"].all())
        parts.append(f"Differences are absolute (in the metric's units) against the reference "
                     f"({html.escape(eff['reference'].iloc[0])}), with a 95% "
                     + ("paired t-interval, since replicates share seeds. " if paired else "Welch interval. "))
    parts.append("</p>")
    if not summ.empty and summ["point"].nunique() > 40:
        parts.append(f"<p class=\"note\">{summ['point'].nunique()} design points are too many for a readable "
                     "table: each point's summary is in summary.csv, and the Findings above pool them per "
                     "level.</p>")
    elif not summ.empty:
        parts.append(html_table(readable_summary(summ, eff), left=2))
    if not eff.empty and eff["label"].nunique() <= 30:
        parts.append(figure_effects(eff, metrics))
    if not eff.empty:
        parts.append("<details><summary>Standardised effect sizes (detail)</summary><p class=\"note\">Cohen's d "
                     "divides the difference by the spread over seeds. With common random numbers and many "
                     "replicates that spread is small, so d can be large for a difference too small to matter; "
                     "judge effects by the absolute differences above. d uses the average SD of the two conditions, "
                     "d_z the SD of the paired differences.</p>"
                     + html_table(standardised_effects(eff), left=2) + "</details>")
    parts.append("<p class=\"note\">Metrics: " + "; ".join(
        f"<b>{m}</b>: {html.escape(MODEL_METRICS.get(m, ''))}" for m in metrics) + ".</p>")

    marks = _schedule_months(exp.get("text", ""))
    by_level = time_series_by_level(results, groups, metrics)
    if by_level:
        parts.append("<h2>Over time</h2>")
        for factor, frame in by_level:
            parts.append(f"<p class=\"note\">One line and 95% band per level of {html.escape(factor)}"
                         + ("" if factor == ", ".join(groups) else ", pooled over the other factors") + ".</p>")
            parts.append(figure_time_series(frame, metrics, marks))
    elif not ts.empty:
        parts.append("<h2>Over time</h2><p class=\"note\">All runs together (no factor has few enough levels "
                     "to draw one band per level).</p>")
        parts.append(figure_time_series(ts, metrics, marks))
    schedule_text = _schedules(exp.get("text", ""))
    if schedule_text:
        parts.append(f"<p class=\"note\">Scheduled changes (dotted lines): {html.escape(schedule_text)}</p>")

    parts.append(across_ics_section(results, path))

    if not runs.empty:
        labels = dict(zip(points["point"], points["label"]))
        by_group = len(labels) <= 20
        parts.append("<h2>Final outcomes</h2>")
        parts.append(figure_distributions(runs, labels, metrics, by_group))
        parts.extend(_responses(results, runs, points, metrics, exp))

    if not morris.empty:
        parts.append("<h2>Morris screening</h2><p class=\"note\">mu* = mean absolute elementary effect on the "
                     "final value (bars: 95% bootstrap interval); a large sigma signals interactions or non-linearity. "
                     "Parameters with small mu* can be fixed.</p>")
        parts.append(figure_indices(morris, "mu_star", "mu_star_conf", "Morris mu* (final month)"))
        parts.append(html_table(morris.round(4), left=2))
    if not sobol.empty:
        parts.append("<h2>Sobol indices</h2><p class=\"note\">S1 = share of the variance of the final value due "
                     "to the parameter alone; ST = including its interactions (bars: 95% intervals).</p>")
        parts.append(figure_indices(sobol, "ST", "ST_conf", "Sobol indices (final month)", ("S1", "S1_conf")))
        parts.append(html_table(sobol.round(4), left=2))
    if exp.get("design") in ("morris", "sobol") and morris.empty and sobol.empty:
        parts.append("<p class=\"bad\">Sensitivity indices need a finished run at every design point; "
                     "some are missing or failed.</p>")

    if n_failed:
        parts.append(f"<h2 class=\"bad\">Failed runs ({n_failed})</h2>")
        for _, r in results.failed.head(50).iterrows():
            last = str(r["error"]).strip().splitlines()[-1] if str(r["error"]).strip() else ""
            parts.append(f"<details><summary><code>{html.escape(r['run_id'])}</code>: {html.escape(last)}</summary>"
                         f"<pre>{html.escape(str(r['error']))}</pre></details>")

    parts.append("<h2>Provenance</h2>")
    parts.append(_provenance(results))
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\">"
            f"<title>{html.escape(exp.get('name', 'experiment'))}: ics-abm report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    out = path / "report.html"
    atomic_write(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return out


def _schedule_months(text: str) -> list[int]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    events = list(data.get("schedule", []))
    for named in data.get("schedules", {}).values():
        events.extend(named)
    return sorted({int(e["month"]) for e in events if isinstance(e, dict) and "month" in e})


def _schedules(text: str) -> str:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return ""
    def describe(events):
        return ", ".join(f"month {e.get('month')}: " + ", ".join(f"{k}={v}" for k, v in e.items() if k != "month")
                         for e in events) or "none"
    if "schedules" in data:
        return "; ".join(f"{name}: {describe(ev)}" for name, ev in data["schedules"].items())
    if data.get("schedule"):
        return describe(data["schedule"])
    return ""


def _responses(results: Results, runs: pd.DataFrame, points: pd.DataFrame, metrics, exp) -> list[str]:
    design = exp.get("design")
    if design not in ("full_factorial", "latin_hypercube"):
        return []
    factors = [f for f in results.factors if f in points.columns]
    categorical = [c for c in exp.get("categorical", []) if c in factors]
    numeric = [f for f in factors if f not in categorical and points[f].nunique() > 1]
    data = runs.merge(points, on="point")
    out = []
    colour_by = categorical[0] if categorical else None
    for factor in numeric:
        if design == "full_factorial" and points[factor].nunique() < 2:
            continue
        out.append(f"<h3>Response to {html.escape(factor)}</h3>")
        out.append(figure_response(data, factor, colour_by, metrics, sampled=design == "latin_hypercube"))
    if design == "full_factorial":
        if len(numeric) >= 2:
            out.append(f"<h3>{html.escape(numeric[0])} x {html.escape(numeric[1])}</h3>")
            out.append(figure_heatmap(data, numeric[0], numeric[1], metrics))
        elif numeric and categorical and points[numeric[0]].nunique() > 2:
            out.append(f"<h3>{html.escape(categorical[0])} x {html.escape(numeric[0])}</h3>")
            out.append(figure_heatmap(data, categorical[0], numeric[0], metrics))
    return ["<h2>Response to the factors</h2>", *out] if out else []


def _provenance(results: Results) -> str:
    m = results.manifest
    exp = m.get("experiment", {})
    git = m.get("git", {})
    rows = [
        ("experiment file", exp.get("file")), ("root seed", exp.get("root_seed")),
        ("git commit", f"{git.get('commit')}" + (" (with local changes)" if git.get("dirty") else "")),
        ("host", m.get("host")), ("platform", m.get("platform")),
        ("started", m.get("started_at")), ("ended", m.get("ended_at")), ("status", m.get("status")),
    ]
    rows += [(f"version: {k}", v) for k, v in m.get("versions", {}).items()]
    table = html_table(pd.DataFrame(rows, columns=["what", "value"]), left=2)
    sessions = m.get("sessions", [])
    sess = html_table(pd.DataFrame(sessions).astype(str), left=99) if sessions else ""
    return (table + "<h3>Sessions</h3>" + sess + "<h3>Experiment file</h3><pre>"
            + html.escape(exp.get("text", "")) + "</pre><details><summary>manifest.json</summary><pre>"
            + html.escape(json.dumps(m, indent=2, default=str)) + "</pre></details>")
