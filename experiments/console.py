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
    95% CIs, and its absolute difference (95% CI) from the reference. A long design
    is summarised per factor level instead, with Morris or Sobol rankings when the
    design has them, so the terminal shows an answer rather than pages of rows."""
    if results.ok.empty:
        return "No finished runs to summarise."
    n_points = results.runs["point"].nunique()
    if n_points > max_points:
        return _long_design(results, metrics, n_points)
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
        head += f"  final vs {ref.split('=', 1)[1]}: difference (95% CI)"
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
                    row += f"  {_diff(e['difference'], e['diff_ci_low'], e['diff_ci_high'])}"
            lines.append(row)
        lines.append("")
    if len(points) > max_points:
        lines.append(f"(first {max_points} of {len(points)} design points shown; all are in summary.csv)")
    n_failed = len(results.failed)
    if n_failed:
        lines.append(f"{n_failed} run(s) failed; their tracebacks are in the runs table and report.html.")
    from .uncertainty import mode_of

    spread = ("seeds and posterior draws" if mode_of(results.manifest) == "posterior"
              else "seeds; parameters fixed at the values shown")
    lines.append(f"Mean over replicates (95% confidence interval over {spread})."
                 + (" Differences are absolute, " + ("paired on the shared seeds." if bool(eff["paired"].all())
                                                      else "Welch intervals.") if ref else ""))
    lines.extend(_findings(results, metrics))
    lines.extend(_rankings(results, metrics))
    return "\n".join(lines).rstrip()


def _diff(mean, low, high) -> str:
    if pd.isna(low):
        return f"{mean:+.3f}"
    return f"{mean:+.3f} ({low:+.3f} to {high:+.3f})"


def _findings(results: Results, metrics) -> list[str]:
    from . import findings

    factor = findings.categorical_factor(results)
    if factor is None:
        return []
    sentences = findings.findings(findings.level_contrasts(results, metrics, factor), None, factor)
    return ["", "Findings:", *(f"- {s}" for s in sentences)] if sentences else []


def _long_design(results: Results, metrics, n_points: int) -> str:
    """Too many design points to list: per-level contrasts and sensitivity rankings."""
    from . import findings

    exp = results.manifest.get("experiment", {})
    lines = [f"{n_points} design points ({exp.get('design', '').replace('_', ' ')}): too many to list here; "
             "each point's summary is in summary.csv and report.html."]
    factor = findings.categorical_factor(results)
    if factor is not None:
        contrasts = findings.level_contrasts(results, metrics, factor)
        if not contrasts.empty:
            width = max(12, *(len(str(v)) for v in contrasts["level"]))
            lines += ["", f"Final month by {factor}, pooled over the other factors (95% intervals cover "
                          f"{contrasts['covers'].iloc[0]}):"]
            for metric, c in contrasts.groupby("metric", sort=False):
                lines.append(f"{metric}: {MODEL_METRICS.get(metric, '')}")
                for _, r in c.iterrows():
                    row = f"  {str(r['level']):{width}}  {_ci(r['mean'], r['ci_low'], r['ci_high']):<25}"
                    row += ("  (reference)" if r["level"] == r["reference"]
                            else f"  vs {r['reference']}: {_diff(r['difference'], r['diff_ci_low'], r['diff_ci_high'])}")
                    lines.append(row)
            lines.extend(_findings(results, metrics))
    lines.extend(_rankings(results, metrics))
    return "\n".join(lines).rstrip()


def _rankings(results: Results, metrics, top: int = 5) -> list[str]:
    """Morris mu* or Sobol ST rankings: which parameters matter most for each outcome."""
    for table, key, what in ((analysis.morris_indices(results, metrics), "mu_star", "Morris mu*"),
                             (analysis.sobol_indices(results, metrics), "ST", "Sobol total index ST")):
        if table.empty:
            continue
        lines = ["", f"Parameters ranked by {what} (final month; the top {top}, all in report.html):"]
        for metric, t in table.groupby("metric", sort=False):
            ranked = t.sort_values(key, ascending=False).head(top)
            lines.append(f"  {metric}: " + ", ".join(f"{r['parameter']} {r[key]:.3g}" for _, r in ranked.iterrows()))
        return lines
    return []


def across_ics_table(results: Results) -> str:
    """The spread of the main outcomes across the ICSs (experiments.across_ics), or '' without a
    per-ICS table of several ICSs."""
    from . import across_ics

    if not across_ics.available(results):
        return ""
    rank = across_ics.ranking(results)
    spread = across_ics.spread(results, rank=rank)
    if spread.empty:
        return ""
    gaps = across_ics.gaps(results)
    first, last = across_ics.final_period(results)
    k = len(spread["most_icss"].iloc[0].split("; "))
    lines = [f"Across the {rank['ics'].nunique()} ICSs: each ICS's value averaged over months {first}-{last} and "
             f"the replicates ({across_ics.seeds_text(results)}).",
             f"SD over seeds: of one ICS's value (root mean square over ICSs). Most/fewest: mean of the {k} ICSs "
             f"with the most organisations ({spread['organisations_most'].iloc[0]:.0f} on average) and the {k} "
             f"with the fewest ({spread['organisations_fewest'].iloc[0]:.0f}); rho: Spearman with organisations, "
             "IMD: with deprivation (real ICSs)."]
    width = max(12, *(len(str(v)) for v in spread["label"]))
    for metric, block in spread.groupby("metric", sort=False):
        lines.append(f"{metric}:")
        lines.append(f"  {'':{width}}  {'mean':>7}  {'SD ICSs':>7}  {'min':>7}  {'max':>7}  {'SD seeds':>8}  "
                     f"{'most':>7}  {'fewest':>7}  {'diff':>7}  {'rho':>5}  {'IMD':>5}")
        for _, r in block.iterrows():
            seeds = "n/a" if pd.isna(r["sd_across_seeds"]) else f"{r['sd_across_seeds']:.4f}"
            rho = "n/a" if pd.isna(r["spearman_organisations"]) else f"{r['spearman_organisations']:+.2f}"
            imd = "n/a" if pd.isna(r["spearman_deprivation"]) else f"{r['spearman_deprivation']:+.2f}"
            lines.append(f"  {str(r['label']):{width}}  {r['mean']:7.3f}  {r['sd_across_icss']:7.4f}  {r['min']:7.3f}  "
                         f"{r['max']:7.3f}  {seeds:>8}  {r['most_organisations']:7.3f}  "
                         f"{r['fewest_organisations']:7.3f}  {r['most_minus_fewest']:+7.3f}  {rho:>5}  {imd:>5}")
        for _, g in gaps[gaps["metric"] == metric].iterrows() if not gaps.empty else ():
            gap = _diff(g["mean_gap"], g["ci_low"], g["ci_high"])
            lines.append(f"  gap {g['label']} - {g['reference']}: mean over ICSs {gap}"
                         f" (95% CI over replicates); across ICSs SD {g['sd_across_icss']:.4f}, "
                         f"{g['min_gap']:+.3f} to {g['max_gap']:+.3f}; positive in {g['icss_positive']} of {g['icss']}")
        lo, hi = block.loc[block["min"].idxmin()], block.loc[block["max"].idxmax()]
        lines.append(f"  lowest: {lo['min_ics']} ({lo['label']}); highest: {hi['max_ics']} ({hi['label']})")
    lines.append(f"Every ICS: {results.path / 'ics_ranking.csv'}; these figures: ics_spread.csv, ics_gaps.csv; "
                 "the ranked chart: report.html.")
    return "\n".join(lines)
