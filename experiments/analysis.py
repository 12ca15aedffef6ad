"""Analysis: summaries with 95% confidence intervals, effect sizes, sensitivity indices.

- Each run gives two numbers per metric: its ``final`` value (last month) and
  its ``average`` over months 1..end.
- ``summary``: for each design point, the mean over replicates with a 95%
  confidence interval from the t-distribution.
- ``effects``: each design point against its reference (the same point under
  ``permissive`` when the regime is a factor): the absolute difference with its
  95% interval (the headline), and Cohen's d (a detail: with common random
  numbers the spread over seeds is small, so d overstates practical size).
  With common random numbers (replicate r has the same seed in both) the
  comparison is paired: the confidence interval of the difference is a paired
  t interval, d is the mean paired difference over the average SD of the two
  conditions (d_av, comparable with an unpaired d; Lakens 2013), and d_z (mean
  difference / SD of the differences) is given too. Otherwise d uses the
  pooled SD and the interval is Welch's.
- ``morris_indices`` and ``sobol_indices``: SALib's analyses of the final
  value, averaged over replicates at each design point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .store import Results

HEADLINE = ("collaboration_index", "trust_mean", "turf_mean", "system_outcome", "org_performance")
REFERENCE_REGIME = "permissive"


def metric_names() -> list[str]:
    """Every model-level metric the model's collector reports (read from it, not hard-coded)."""
    from abm.metrics import MODEL_METRICS

    return list(MODEL_METRICS)


def ci95(values) -> tuple[float, float, float, int]:
    """Mean and 95% t-interval of ``values`` (NaNs dropped): (mean, low, high, n)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, 1)
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half, n)


def effect_words(d: float) -> str:
    """Cohen's conventional words for the size of d."""
    if not np.isfinite(d):
        return "n/a" if np.isnan(d) else "large"
    size = abs(d)
    if size < 0.2:
        return "negligible"
    word = "small" if size < 0.5 else "medium" if size < 0.8 else "large"
    return f"{word} {'higher' if d > 0 else 'lower'}"


# -------------------------------------------------------------------- per run
def _experiment_section(results: Results, section: str) -> dict:
    import tomllib

    try:
        return dict(tomllib.loads(results.manifest.get("experiment", {}).get("text", "")).get(section, {}))
    except tomllib.TOMLDecodeError:
        return {}


def fixed_parameters(results: Results) -> dict:
    """The parameters the experiment fixed (its [parameters] section, ``--set`` included)."""
    return _experiment_section(results, "parameters")


def named_regimes(results: Results) -> dict:
    """The experiment file's named regimes: {name: {"base": preset, knob: value}}."""
    return _experiment_section(results, "regimes")


def display_value(results: Results, name: str, value) -> str:
    """A factor value as labels show it: a regime with knobs fixed by the experiment says so."""
    from abm.parameters import REGIME_KNOBS

    text = _fmt_value(value)
    if name != "regime":
        return text
    knobs = {k: v for k, v in fixed_parameters(results).items() if k in REGIME_KNOBS}
    return text + "".join(f", {k}={_fmt_value(v)}" for k, v in knobs.items())


def point_table(results: Results) -> pd.DataFrame:
    """One row per design point: its factor values and a readable label.

    A regime preset whose knobs the experiment overrides is labelled with the
    override ("top_down, oversight_intensity=0.5"), never as the plain preset.
    """
    factors = [f for f in results.factors if f in results.runs.columns]
    runs = results.runs
    if runs.empty:
        return pd.DataFrame(columns=["point", "label", *factors])
    points = runs.drop_duplicates("point").sort_values("point")[["point", *factors]].reset_index(drop=True)
    def show(name, value) -> str:
        return display_value(results, name, value)

    if len(factors) == 1:
        points["label"] = points[factors[0]].map(lambda v: show(factors[0], v))
    elif factors:
        points["label"] = points[factors].apply(
            lambda row: ", ".join(f"{k}={show(k, row[k])}" for k in factors), axis=1)
    else:
        points["label"] = "all runs"
    return points


def _fmt_value(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def per_run(results: Results, metrics=HEADLINE) -> pd.DataFrame:
    """Final and time-averaged value of each metric in each finished run (long form)."""
    ok = results.ok[["run_id", "point", "replicate", "seed", "months"]]
    m = results.metrics
    metrics = [k for k in metrics if k in m.columns]
    if ok.empty or m.empty:
        return pd.DataFrame(columns=["run_id", "point", "replicate", "seed", "metric", "final", "average"])
    m = m[m["run_id"].isin(ok["run_id"])].merge(ok[["run_id", "months"]], on="run_id")
    final = m[m["month"] == m["months"]].set_index("run_id")[list(metrics)]
    average = m[m["month"] >= 1].groupby("run_id")[list(metrics)].mean()
    long = (final.stack().rename("final").to_frame()
            .join(average.stack().rename("average"))
            .reset_index().rename(columns={"level_1": "metric"}))
    return ok.drop(columns="months").merge(long, on="run_id")


# -------------------------------------------------------------------- summaries
def summary(results: Results, metrics=HEADLINE) -> pd.DataFrame:
    """Per design point and metric: mean and 95% CI of the final and time-averaged value."""
    runs = per_run(results, metrics)
    points = point_table(results)
    rows = []
    for (point, metric), g in runs.groupby(["point", "metric"], sort=False):
        f = ci95(g["final"])
        a = ci95(g["average"])
        rows.append({"point": point, "metric": metric, "n": f[3],
                     "final_mean": f[0], "final_ci_low": f[1], "final_ci_high": f[2],
                     "average_mean": a[0], "average_ci_low": a[1], "average_ci_high": a[2]})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["metric"] = pd.Categorical(out["metric"], [k for k in metrics if k in set(out["metric"])], ordered=True)
    out = points.merge(out, on="point").sort_values(["metric", "point"]).reset_index(drop=True)
    out["metric"] = out["metric"].astype(str)
    return out


def reference_of(results: Results) -> tuple[str, object] | None:
    """The factor and value every point is compared with (permissive regime if varied)."""
    exp = results.manifest.get("experiment", {})
    if exp.get("design") != "full_factorial":
        return None
    points = point_table(results)
    factors = [f for f in results.factors if f in points.columns]
    if not factors or len(points) < 2:
        return None
    if "regime" in factors and REFERENCE_REGIME in set(points["regime"]):
        return ("regime", REFERENCE_REGIME)
    first = factors[0]
    return (first, points[first].iloc[0])


def _compare(x: pd.Series, y: pd.Series, paired: bool) -> dict:
    """Difference x - y with 95% CI, and Cohen's d (d_z when paired)."""
    if paired:
        diff = (x - y).to_numpy(dtype=float)
        mean, low, high, n = ci95(diff)
        sd_diff = diff.std(ddof=1) if n > 1 else np.nan
        sd_av = np.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2.0) if n > 1 else np.nan
        return {"difference": mean, "diff_ci_low": low, "diff_ci_high": high,
                "d": _ratio(mean, sd_av), "d_z": _ratio(mean, sd_diff), "n": n}
    a, b = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    na, nb = a.size, b.size
    mean = a.mean() - b.mean()
    va, vb = a.var(ddof=1), b.var(ddof=1)
    pooled = np.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)) if na + nb > 2 else np.nan
    se = np.sqrt(va / na + vb / nb)
    dof = (va / na + vb / nb) ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1)) if se > 0 else 1
    half = stats.t.ppf(0.975, dof) * se
    return {"difference": mean, "diff_ci_low": mean - half, "diff_ci_high": mean + half,
            "d": _ratio(mean, pooled), "d_z": np.nan, "n": min(na, nb)}


def _ratio(mean: float, sd: float) -> float:
    if np.isnan(sd):
        return np.nan
    if sd > 0:
        return float(mean / sd)
    return 0.0 if mean == 0 else float(np.sign(mean) * np.inf)


def reference_points(results: Results) -> dict[int, int]:
    """Each design point's reference point: the same point with the reference value of the
    reference factor (``permissive`` when the regime is a factor); {} without a reference."""
    ref = reference_of(results)
    if ref is None:
        return {}
    factor, value = ref
    points = point_table(results)
    others = [f for f in results.factors if f in points.columns and f != factor]
    out = {}
    for _, pt in points.iterrows():
        if pt[factor] == value:
            continue
        match = points[points[factor] == value]
        for f in others:
            match = match[match[f] == pt[f]]
        if not match.empty:
            out[int(pt["point"])] = int(match["point"].iloc[0])
    return out


def effects(results: Results, metrics=HEADLINE) -> pd.DataFrame:
    """Each design point against its reference point: difference, 95% CI and Cohen's d."""
    ref = reference_of(results)
    if ref is None:
        return pd.DataFrame()
    factor, value = ref
    points = point_table(results).set_index("point", drop=False)
    runs = per_run(results, metrics)
    rows = []
    for point, ref_point in reference_points(results).items():
        pt = points.loc[point]
        for metric in metrics:
            mine = runs[(runs["point"] == pt["point"]) & (runs["metric"] == metric)].set_index("replicate")
            theirs = runs[(runs["point"] == ref_point) & (runs["metric"] == metric)].set_index("replicate")
            common = mine.index.intersection(theirs.index)
            paired = len(common) > 1 and bool((mine.loc[common, "seed"] == theirs.loc[common, "seed"]).all())
            for what in ("final", "average"):
                if paired:
                    res = _compare(mine.loc[common, what], theirs.loc[common, what], True)
                elif len(mine) > 1 and len(theirs) > 1:
                    res = _compare(mine[what], theirs[what], False)
                else:
                    continue
                rows.append({"point": int(pt["point"]), "label": pt["label"], "reference": f"{factor}={value}",
                             "reference_point": ref_point, "metric": metric, "value": what,
                             "paired": paired, **res, "size": effect_words(res["d"])})
    return pd.DataFrame(rows)


def time_series(results: Results, group_by: list[str], metrics=HEADLINE) -> pd.DataFrame:
    """Per group and month: mean and 95% CI of each metric over the runs in the group."""
    ok = results.ok
    cols = [c for c in group_by if c in ok.columns]
    m = results.metrics
    metrics = [k for k in metrics if k in m.columns]
    if ok.empty or m.empty:
        return pd.DataFrame()
    data = m[["run_id", "month", *metrics]].merge(ok[["run_id", *cols]], on="run_id")
    if cols:
        data["group"] = data[cols].astype(str).agg(", ".join, axis=1) if len(cols) > 1 else data[cols[0]].astype(str)
    else:
        data["group"] = "all runs"
    long = data.melt(id_vars=["group", "month"], value_vars=metrics, var_name="metric")
    agg = long.groupby(["group", "metric", "month"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    tcrit = stats.t.ppf(0.975, np.maximum(agg["count"] - 1, 1))
    half = np.where(agg["count"] > 1, tcrit * agg["std"] / np.sqrt(agg["count"]), np.nan)
    agg["ci_low"] = agg["mean"] - half
    agg["ci_high"] = agg["mean"] + half
    return agg


# -------------------------------------------------------------------- sensitivity
def _point_means(results: Results, metric: str) -> np.ndarray | None:
    runs = per_run(results, [metric])
    design = results.design
    if design is None or runs.empty:
        return None
    means = runs.groupby("point")["final"].mean().reindex(design["point"])
    if means.isna().any():
        return None  # some design point has no finished run
    return means.to_numpy()


def morris_indices(results: Results, metrics=HEADLINE) -> pd.DataFrame:
    """Morris elementary effects (mu*, sigma) of each factor on each final outcome."""
    from SALib.analyze import morris

    exp = results.manifest.get("experiment", {})
    if exp.get("design") != "morris" or results.design is None:
        return pd.DataFrame()
    problem = exp["problem"]
    X = results.design[problem["names"]].to_numpy()
    rows = []
    levels = _levels(results)
    for metric in metrics:
        Y = _point_means(results, metric)
        if Y is None:
            continue
        res = morris.analyze(problem, X, Y, num_levels=levels, seed=exp.get("root_seed"))
        for i, name in enumerate(problem["names"]):
            rows.append({"metric": metric, "parameter": name, "mu_star": res["mu_star"][i],
                         "mu_star_conf": res["mu_star_conf"][i], "mu": res["mu"][i], "sigma": res["sigma"][i]})
    return pd.DataFrame(rows)


def _levels(results: Results) -> int:
    import tomllib

    try:
        return int(tomllib.loads(results.manifest["experiment"]["text"]).get("experiment", {}).get("levels", 4))
    except (KeyError, tomllib.TOMLDecodeError, ValueError):
        return 4


def sobol_indices(results: Results, metrics=HEADLINE) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of each factor on each final outcome."""
    from SALib.analyze import sobol

    exp = results.manifest.get("experiment", {})
    if exp.get("design") != "sobol" or results.design is None:
        return pd.DataFrame()
    problem = exp["problem"]
    rows = []
    for metric in metrics:
        Y = _point_means(results, metric)
        if Y is None or np.allclose(Y, Y[0]):
            continue
        res = sobol.analyze(problem, Y, calc_second_order=False, seed=exp.get("root_seed"))
        for i, name in enumerate(problem["names"]):
            rows.append({"metric": metric, "parameter": name, "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
                         "ST": res["ST"][i], "ST_conf": res["ST_conf"][i]})
    return pd.DataFrame(rows)
