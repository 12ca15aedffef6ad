"""Tables printed in the terminal: the results a policy reader asks for first."""

from __future__ import annotations

import pandas as pd

from abm.metrics import MODEL_METRICS

from . import analysis
from .store import Results


def _ci(mean, low, high) -> str:
    if pd.isna(mean):
        return "n/a"
    if pd.isna(low):
        return f"{mean:.3f}"
    return f"{mean:.3f} ({low:.3f}-{high:.3f})"


def results_table(results: Results, metrics=analysis.HEADLINE, max_points: int = 12) -> str:
    """One block per metric: each condition's final and time-averaged value with
    95% CIs, and its difference and effect size (Cohen's d) against the reference."""
    summ = analysis.summary(results, metrics)
    if summ.empty:
        return "No finished runs to summarise."
    eff = analysis.effects(results, metrics)
    exp = results.manifest.get("experiment", {})
    months = exp.get("months")
    points = list(dict.fromkeys(summ["point"]))
    shown = points[:max_points]
    width = max(12, *(len(str(label)) for label in summ["label"][summ["point"].isin(shown)]))
    lines = []
    ref = eff["reference"].iloc[0] if not eff.empty else None
    head = (f"  {'':{width}}  {'final, month ' + str(months) + ' (95% CI)':<25}  {'average, months 1-' + str(months):<25}")
    if ref:
        head += f"  final vs {ref.split('=', 1)[1]}: difference, effect size d"
    for metric in metrics:
        block = summ[(summ["metric"] == metric) & summ["point"].isin(shown)]
        if block.empty:
            continue
        lines.append(f"{metric}: {MODEL_METRICS.get(metric, '')}")
        lines.append(head)
        for _, r in block.iterrows():
            row = (f"  {str(r['label']):{width}}  {_ci(r['final_mean'], r['final_ci_low'], r['final_ci_high']):<25}"
                   f"  {_ci(r['average_mean'], r['average_ci_low'], r['average_ci_high']):<25}")
            if ref:
                e = eff[(eff["point"] == r["point"]) & (eff["metric"] == metric) & (eff["value"] == "final")]
                if e.empty:
                    row += "  (reference)"
                else:
                    e = e.iloc[0]
                    row += f"  {e['difference']:+.3f}, d = {e['d']:+.2f} ({e['size']})"
            lines.append(row)
        lines.append("")
    if len(points) > max_points:
        lines.append(f"(first {max_points} of {len(points)} design points shown; all are in summary.csv)")
    n_failed = len(results.failed)
    if n_failed:
        lines.append(f"{n_failed} run(s) failed; their tracebacks are in the runs table and report.html.")
    if ref:
        paired = bool(eff["paired"].all())
        lines.append("Mean over replicates (95% confidence interval). d = Cohen's d "
                     + ("= mean paired difference / average SD (d_av; replicates share seeds); " if paired else "(pooled SD); ")
                     + "|d| < 0.2 negligible, < 0.5 small, < 0.8 medium, else large.")
    return "\n".join(lines).rstrip()
