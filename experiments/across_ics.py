"""The spread across ICSs: the per-ICS table of a sweep, ICS by ICS and regime by regime.

A sweep with ``[output] ics = true`` stores one row per ICS per snapshot
(``abm.ics_table``). For a sweep of several ICSs (``england = true``: the 42
real ones) this module gives, for each design point (each regime):

- ``ranking``: each ICS's outcome averaged over the final period (the last
  ``PERIOD`` months of the run; every stored snapshot in them) and then over
  replicates, with a 95% t-interval over replicates when there are several,
  and its rank (1 = highest value);
- ``spread``: the mean, SD and range of those ICS values across the ICSs;
  the spread over seeds of one ICS (root mean square over ICSs of its SD over
  replicates); the mean of the ICSs with the most organisations against the
  ICSs with the fewest (a quarter of the ICSs each, organisations based in
  the ICS at the first snapshot; ties broken by name), and Spearman's rank
  correlation of the outcome with the number of organisations and, for real
  ICSs, with deprivation (IMD 2025 average score): the number of
  organisations grows with population, and larger ICSs tend to be more
  deprived, so the contrast of most against fewest is not a clean effect of
  the number of partners;
- ``gaps``: each regime against the reference regime (``permissive`` when the
  regime is a factor), ICS by ICS and paired on the replicate seed: the mean
  gap over ICSs with its 95% interval over replicates, the SD and range of the
  gap across ICSs and how many ICSs have a positive gap.

``experiments.report`` draws the ranked chart and writes these tables as
``ics_ranking.csv``, ``ics_spread.csv`` and ``ics_gaps.csv``;
``experiments.console`` prints the spread after ``ics-abm sweep`` and
``ics-abm report``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import analysis
from .store import Results

PERIOD = 12                       # months at the end of a run that the outcome is averaged over
MAIN = ("system_outcome", "collaboration_index", "delayed_discharge_days")
CHART = ("system_outcome", "collaboration_index")


def available(results: Results) -> bool:
    """Whether the results hold a per-ICS table of two or more ICSs from finished runs."""
    ics = results.ics
    return (ics is not None and not ics.empty and ics["ics"].nunique() >= 2
            and ics["run_id"].isin(results.ok["run_id"]).any())


def metrics_of(results: Results, metrics=MAIN) -> list[str]:
    return [m for m in metrics if results.ics is not None and m in results.ics.columns]


def final_period(results: Results) -> tuple[int, int]:
    """(first, last) month of the final period of the longest run."""
    months = int(results.ok["months"].max())
    return max(1, months - PERIOD + 1), months


def per_run(results: Results, metrics=MAIN) -> pd.DataFrame:
    """One row per finished run and ICS: each metric averaged over the snapshots of the final
    period, and the ICS's organisations at the first snapshot."""
    metrics = metrics_of(results, metrics)
    ok = results.ok[["run_id", "point", "replicate", "seed", "months"]]
    data = results.ics.merge(ok, on="run_id")
    first = data[data["month"] == data.groupby("run_id")["month"].transform("min")]
    organisations = first[["run_id", "ics", "organisations"]]
    end = data[(data["month"] >= 1) & (data["month"] > data["months"] - PERIOD)]
    if end.empty:                   # no snapshot after month 0
        end = data[data["month"] == data["months"]]
    out = (end.groupby(["run_id", "point", "replicate", "seed", "system", "ics"], sort=False)[metrics]
              .mean().reset_index())
    return out.merge(organisations, on=["run_id", "ics"], how="left")


def ranking(results: Results, metrics=MAIN) -> pd.DataFrame:
    """One row per design point, metric and ICS: mean over replicates, 95% interval, rank."""
    runs = per_run(results, metrics)
    labels = dict(zip(*analysis.point_table(results)[["point", "label"]].to_numpy().T))
    rows = []
    for metric in metrics_of(results, metrics):
        for (point, system, ics), g in runs.groupby(["point", "system", "ics"], sort=True):
            mean, low, high, n = analysis.ci95(g[metric])
            rows.append({"point": int(point), "label": labels.get(point, str(point)), "metric": metric,
                         "system": int(system), "ics": ics, "organisations": float(g["organisations"].mean()),
                         "n": n, "mean": mean, "ci_low": low, "ci_high": high})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["rank"] = (out.groupby(["point", "metric"])["mean"].rank(ascending=False, method="first")
                      .astype(int))
    order = {m: i for i, m in enumerate(metrics_of(results, metrics))}
    return (out.assign(_m=out["metric"].map(order)).sort_values(["_m", "point", "rank"], kind="stable")
               .drop(columns="_m").reset_index(drop=True))


def partner_groups(rank: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The ICSs with the most and with the fewest organisations: a quarter of the ICSs each."""
    orgs = rank.drop_duplicates("ics")[["ics", "organisations"]]
    k = max(1, len(orgs) // 4)
    by_size = orgs.sort_values(["organisations", "ics"], ascending=[False, True], kind="stable")
    most = list(by_size["ics"].head(k))
    fewest = list(by_size.sort_values(["organisations", "ics"], kind="stable")["ics"].head(k))
    return most, fewest


def spread(results: Results, metrics=MAIN, rank: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per design point and metric: the spread of the ICS values across the ICSs."""
    rank = ranking(results, metrics) if rank is None else rank
    if rank.empty:
        return pd.DataFrame()
    runs = per_run(results, metrics)
    most, fewest = partner_groups(rank)
    deprivation = _deprivation()
    rows = []
    for (metric, point), g in rank.groupby(["metric", "point"], sort=False):
        values = g.set_index("ics")["mean"]
        sd_seed = runs[runs["point"] == point].groupby("ics")[metric].std(ddof=1)
        rho = stats.spearmanr(g["organisations"], g["mean"]).statistic if g["organisations"].nunique() > 1 else np.nan
        rows.append({
            "point": point, "label": g["label"].iloc[0], "metric": metric, "icss": len(g),
            "replicates": int(g["n"].max()),
            "mean": values.mean(), "sd_across_icss": values.std(ddof=1),
            "min": values.min(), "min_ics": values.idxmin(), "max": values.max(), "max_ics": values.idxmax(),
            "range": values.max() - values.min(),
            "sd_across_seeds": float(np.sqrt((sd_seed ** 2).mean())) if sd_seed.notna().any() else np.nan,
            "most_organisations": values.reindex(most).mean(), "fewest_organisations": values.reindex(fewest).mean(),
            "most_minus_fewest": values.reindex(most).mean() - values.reindex(fewest).mean(),
            "spearman_organisations": rho,
            "spearman_deprivation": _rank_correlation(g["ics"], g["mean"], deprivation),
            "most_icss": "; ".join(most), "fewest_icss": "; ".join(fewest),
            "organisations_most": g.set_index("ics")["organisations"].reindex(most).mean(),
            "organisations_fewest": g.set_index("ics")["organisations"].reindex(fewest).mean(),
        })
    return pd.DataFrame(rows)


def _deprivation() -> dict[str, float]:
    """IMD 2025 average score of each real ICS, by name."""
    from abm import england

    return {r.name: r.imd for r in england.records()}


def _rank_correlation(names: pd.Series, values: pd.Series, by: dict[str, float]) -> float:
    """Spearman's rank correlation of ``values`` with ``by`` of each name (NaN unless every name has one)."""
    x = names.map(by)
    if x.isna().any() or x.nunique() < 2:
        return np.nan
    return float(stats.spearmanr(x, values).statistic)


def gaps(results: Results, metrics=MAIN) -> pd.DataFrame:
    """Each design point against its reference, ICS by ICS, paired on the replicate seed."""
    refs = analysis.reference_points(results)
    if not refs:
        return pd.DataFrame()
    runs = per_run(results, metrics)
    labels = dict(zip(*analysis.point_table(results)[["point", "label"]].to_numpy().T))
    rows = []
    for point, ref in refs.items():
        mine = runs[runs["point"] == point].set_index(["replicate", "seed", "ics"])
        theirs = runs[runs["point"] == ref].set_index(["replicate", "seed", "ics"])
        common = mine.index.intersection(theirs.index)
        if common.empty:
            continue
        for metric in metrics_of(results, metrics):
            diff = (mine.loc[common, metric] - theirs.loc[common, metric]).rename("gap").reset_index()
            per_replicate = diff.groupby("replicate")["gap"].mean()      # gap of the mean over ICSs
            per_ics = diff.groupby("ics")["gap"].mean()                  # each ICS's gap, over replicates
            mean, low, high, n = analysis.ci95(per_replicate)
            rows.append({"point": point, "label": labels.get(point), "reference": labels.get(ref),
                         "metric": metric, "icss": len(per_ics), "replicates": n,
                         "mean_gap": mean, "ci_low": low, "ci_high": high,
                         "sd_across_icss": per_ics.std(ddof=1), "min_gap": per_ics.min(),
                         "min_ics": per_ics.idxmin(), "max_gap": per_ics.max(), "max_ics": per_ics.idxmax(),
                         "icss_positive": int((per_ics > 0).sum())})
    return pd.DataFrame(rows)


def seeds_text(results: Results) -> str:
    exp = results.manifest.get("experiment", {})
    seeds = list(dict.fromkeys(results.ok.sort_values("replicate")["seed"]))
    shared = " (the same in every design point)" if results.ok["point"].nunique() > 1 else ""
    return (f"root seed {exp.get('root_seed')}, {len(seeds)} replicate(s) with seed{'s' if len(seeds) > 1 else ''} "
            + ", ".join(str(s) for s in seeds) + shared)
