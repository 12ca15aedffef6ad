"""Which regime leads, where, and why: the regime exploration (issue 9, item 11).

``experiments/regime_exploration.toml`` samples the uncertain parameters
(Latin hypercube) and runs every sample under ``top_down`` and
``permissive`` with the same seed (common random numbers). This module

- pairs the two runs of each sample and takes the difference
  top_down - permissive of each outcome, averaged over months 61-120
  (``paired_differences``);
- estimates seed noise from a few samples run with several seeds
  (``noise_plan``, ``seed_noise``) and counts near-ties: samples whose
  difference is smaller than 1.96 x the seed standard deviation of a
  one-seed difference;
- reports the share of the space where each regime leads, with a 95%
  Wilson interval (``share_table``);
- names the conditions: feature scores (extra trees, EMA Workbench) of the
  difference and a shallow CART of "top_down leads" (``feature_scores``,
  ``cart_rules``);
- switches each benefit and cost of oversight off in turn (its strength set
  to 0) on the same samples and seeds, and reports how the shares change
  (``switch_off_plan``, ``switch_off_table``);
- reads who leads against what joint work has built in the permissive run
  (its mean channel capability): a channel's level is stock / (stock + H),
  so a unit more joint output raises it by (1 - level)^2 / H, a 36th as much
  at 0.9 as at 0.4. Benefits of oversight that act through joint work
  matter most where capability is unsaturated
  (``capability_bands``, ``switch_off_by_capability``).

Command line::

    python -m experiments.exploration run-noise experiments/regime_exploration.toml --samples 10 --seeds 4
    python -m experiments.exploration run-switch-offs experiments/regime_exploration.toml --samples 25
    python -m experiments.exploration report results/regime-exploration

The main sweep itself is ``ics-abm sweep experiments/regime_exploration.toml``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: outcomes compared, and which direction is better (+1 higher, -1 lower)
OUTCOMES: dict[str, int] = {"system_outcome": +1, "collaboration_index": +1,
                            "org_performance": +1, "gaming_gap": -1}
#: what joint work has built (mean channel capability, 0-1), read beside the outcomes: its value saturates
MEDIATORS = ("capability",)
#: bands of the permissive run's capability for ``capability_bands``
CAPABILITY_BANDS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0)
SATURATED = 0.8                          # capability above which ``switch_off_by_capability`` calls joint work saturated
WINDOW = (61, 120)                       # months averaged (inclusive)
REGIMES = ("top_down", "permissive")
Z95 = 1.959963984540054

#: every benefit and cost of oversight, as (parameter, value that switches it off, side)
SWITCH_OFFS: dict[str, tuple[str, float, str]] = {
    "detecting gaming": ("detection_probability", 0.0, "benefit"),
    "deterring free-riding": ("free_rider_deterrence", 0.0, "benefit"),
    "mandated forums": ("convening_strength", 0.0, "benefit"),
    "improvement support": ("improvement_support", 0.0, "benefit"),
    "clear steer": ("steer_strength", 0.0, "benefit"),
    "compliance work": ("compliance_load", 0.0, "cost"),
    "defensiveness after scrutiny": ("turf_scrutiny_weight", 0.0, "cost"),
    "defensiveness after sanctions": ("turf_sanction_weight", 0.0, "cost"),
    "gaming": ("gaming_propensity", 0.0, "cost"),
    "distrust of a caught body": ("detection_publicity", 0.0, "cost"),
    "extra weight of bad news": ("negativity_bias", 1.0, "cost"),
}


# ---------------------------------------------------------------------------- plans
def noise_plan(exp, samples: int, seeds: int, skip_first: bool = True):
    """Runs of the first ``samples`` samples under both regimes with ``seeds`` seeds each.

    Seed 0 of this plan is the main sweep's seed (replicate seeds are
    prefix-stable), so by default it is left out: those runs are in the main
    results already.
    """
    from .runner import plan_runs

    wide = dataclasses.replace(exp, replicates=seeds, name=f"{exp.name}-noise",
                               description=f"Seed noise: the first {samples} samples of {exp.name} with {seeds} seeds.")
    n_listed = _points_per_sample(exp)
    plan = [s for s in plan_runs(wide) if s.point < samples * n_listed and (s.replicate > 0 or not skip_first)]
    return wide, plan


def parse_region(text: str | None):
    """A region of the sampled space, e.g. ``"pressure<=0.34,initial_turf>0.5"`` (a CART leaf), as a test on a run's factors."""
    if not text:
        return None
    import operator
    import re

    ops = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
    tests = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*", part)
        if not m:
            raise ValueError(f"--region: {part.strip()!r} is not a condition like pressure<=0.34")
        tests.append((m.group(1), ops[m.group(2)], float(m.group(3))))
    return lambda factors: all(name in factors and op(float(factors[name]), v) for name, op, v in tests)


def switch_off_plan(exp, parameter: str, value: float, samples: int | None = None, base=None, region=None):
    """The main sweep's runs (first ``samples`` samples) with ``parameter`` set to ``value``.

    ``base`` is the main sweep's plan, if already made; ``region`` (from
    ``parse_region``) keeps only samples inside a region of the sampled space.
    """
    from .runner import plan_runs, resolved_parameters

    n_listed = _points_per_sample(exp)
    plan = []
    for spec in base if base is not None else plan_runs(exp):
        if samples is not None and spec.point >= samples * n_listed:
            continue
        if region is not None and not region(spec.factors):
            continue
        params = resolved_parameters({**spec.params, parameter: value})
        factors = {**spec.factors, parameter: value}
        plan.append(dataclasses.replace(spec, params=params, factors=factors))
    off = dataclasses.replace(exp, name=f"{exp.name}-no-{parameter}",
                              description=f"{exp.name} with {parameter} = {value}"
                                          + (f", first {samples} samples" if samples else ""))
    return off, plan


def _points_per_sample(exp) -> int:
    """Design points per sampled row (the listed factors crossed; 2 for the two regimes)."""
    listed = [f for f in exp.factors.values() if not f.is_range]
    return int(np.prod([len(f.values) for f in listed])) if listed else 1


def run_plan(exp, plan, out, workers: int = 2, progress: bool = True, executor=None):
    """Run ``plan`` into ``out`` with the experiments runner (resumes like ``ics-abm sweep``)."""
    from .runner import run_experiment

    return run_experiment(exp, out, workers=workers, plan=plan, progress=progress, executor=executor)


# ---------------------------------------------------------------------------- differences
def time_averaged(results, window: tuple[int, int] = WINDOW, outcomes=tuple(OUTCOMES)) -> pd.DataFrame:
    """One row per finished run: its runs-table row and each outcome averaged over ``window``."""
    m = results.metrics
    m = m[(m["month"] >= window[0]) & (m["month"] <= window[1])]
    means = m.groupby("run_id")[list(outcomes)].mean()
    runs = results.ok.set_index("run_id")
    return runs.join(means, how="inner").reset_index()


def paired_differences(runs: pd.DataFrame, factors: list[str], outcomes=tuple(OUTCOMES)) -> pd.DataFrame:
    """One row per sample and seed: the sampled values and top_down - permissive of each outcome.

    ``runs`` is ``time_averaged``'s table; ``factors`` the sampled parameter
    names (not ``regime``). A sample is labelled by the design point of its
    top_down run, which stays the same when a plan is filtered or a
    parameter switched off.
    """
    runs = runs[runs["regime"].isin(REGIMES)].copy()
    runs["sample"] = runs.groupby(factors, sort=False, dropna=False)["point"].transform("min")
    wide = runs.pivot_table(index=["sample", "seed"], columns="regime", values=list(outcomes), aggfunc="first")
    wide = wide.dropna()
    out = runs[runs["regime"] == REGIMES[0]].set_index(["sample", "seed"])[factors]
    out = out[~out.index.duplicated()].loc[wide.index].copy()
    for y in outcomes:
        out[f"{y}_top_down"] = wide[(y, "top_down")]
        out[f"{y}_permissive"] = wide[(y, "permissive")]
        out[y] = wide[(y, "top_down")] - wide[(y, "permissive")]
    return out.reset_index()


def seed_noise(pairs: pd.DataFrame, outcomes=tuple(OUTCOMES)) -> pd.DataFrame:
    """Seed standard deviation of a one-seed difference, pooled over samples (needs >= 2 seeds a sample)."""
    rows = []
    for y in outcomes:
        g = pairs.groupby("sample")[y]
        var = g.var(ddof=1).dropna()
        dof = (g.count() - 1).loc[var.index]
        sd = math.sqrt(float((var * dof).sum() / dof.sum())) if dof.sum() > 0 else float("nan")
        spread = pairs.groupby("sample")[y].mean()
        rows.append({"outcome": y, "samples": int(var.size), "seeds": int(g.count().max()) if len(g) else 0,
                     "seed_sd": sd, "threshold": Z95 * sd,
                     "between_sample_sd": float(spread.std(ddof=1)) if spread.size > 1 else float("nan")})
    return pd.DataFrame(rows).set_index("outcome")


# ---------------------------------------------------------------------------- shares
def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a share k / n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def top_down_leads(pairs: pd.DataFrame, y: str) -> pd.Series:
    """Whether top_down is better on ``y`` (higher, or lower for gaming_gap)."""
    return OUTCOMES[y] * pairs[y] > 0


def share_table(pairs: pd.DataFrame, noise: pd.DataFrame | None = None, outcomes=tuple(OUTCOMES)) -> pd.DataFrame:
    """Per outcome: share where each regime leads (95% Wilson interval) and near-ties."""
    rows = []
    for y in outcomes:
        d = pairs[y].to_numpy() * OUTCOMES[y]
        n = d.size
        td = int((d > 0).sum())
        pm = int((d < 0).sum())
        row = {"outcome": y, "n": n, "mean_diff": float(pairs[y].mean()),
               "top_down_leads": td, "top_down_share": td / n if n else float("nan"),
               "top_down_lo": wilson(td, n)[0], "top_down_hi": wilson(td, n)[1],
               "permissive_leads": pm, "permissive_share": pm / n if n else float("nan"),
               "permissive_lo": wilson(pm, n)[0], "permissive_hi": wilson(pm, n)[1]}
        if noise is not None and y in noise.index and not math.isnan(noise.loc[y, "threshold"]):
            t = float(noise.loc[y, "threshold"])
            near = np.abs(d) < t
            row.update(threshold=t, near_ties=int(near.sum()),
                       top_down_clear=int(((d > 0) & ~near).sum()),
                       permissive_clear=int(((d < 0) & ~near).sum()))
        rows.append(row)
    return pd.DataFrame(rows).set_index("outcome")


# ---------------------------------------------------------------------------- conditions
def feature_scores(pairs: pd.DataFrame, factors: list[str], outcomes=("system_outcome", "collaboration_index"),
                   seed: int = 1) -> pd.DataFrame:
    """Extra-trees feature scores (EMA Workbench) of each outcome's difference on the sampled parameters."""
    from ema_workbench.analysis import feature_scoring

    x = pairs[factors].astype(float)
    y = {o: pairs[o].to_numpy() for o in outcomes}
    return feature_scoring.get_feature_scores_all(x, y, mode=feature_scoring.RuleInductionType.REGRESSION,
                                                  random_state=seed)


def cart_rules(pairs: pd.DataFrame, factors: list[str], y: str, max_depth: int = 3,
               min_share: float = 0.05) -> dict:
    """A shallow CART (EMA Workbench) of "top_down leads on ``y``": the tree as text, its accuracy and leaves.

    ``min_share`` is the smallest share of samples a leaf may hold. Classes
    are weighted by their inverse frequency ("balanced"), so a tree still
    finds where the rarer winner wins when one regime leads almost
    everywhere; the leaf table gives the unweighted share in each leaf.
    """
    from ema_workbench.analysis.cart import CART
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.tree import export_text

    x = pairs[factors].astype(float).reset_index(drop=True)
    leads = top_down_leads(pairs, y).to_numpy()
    cart = CART(x, leads, mass_min=min_share)
    _build_shallow(cart, max_depth, classify=True)
    tree = cart.clf
    text = export_text(tree, feature_names=list(factors), show_weights=False, decimals=2)
    predicted = tree.predict(x.to_numpy())
    split = tree.tree_.node_count > 1   # no split when one regime leads everywhere
    return {"outcome": y, "text": text, "accuracy": float((predicted == leads).mean()),
            "balanced_accuracy": float(balanced_accuracy_score(leads, predicted)) if 0 < leads.mean() < 1 else 1.0,
            "baseline": float(max(leads.mean(), 1 - leads.mean())),
            "boxes": cart.boxes if split else [], "stats": cart.stats if split else [], "tree": tree,
            "leaves": leaf_table(tree, factors, leads, x, pairs[y].to_numpy())}


def difference_tree(pairs: pd.DataFrame, factors: list[str], y: str, max_depth: int = 3,
                    min_share: float = 0.05) -> dict:
    """A shallow regression CART (EMA Workbench) of the difference top_down - permissive in ``y``.

    Names the conditions where the gap is widest and narrowest, which is what
    there is to say when one regime leads everywhere.
    """
    from ema_workbench.analysis.cart import CART
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    from sklearn.tree import export_text

    x = pairs[factors].astype(float).reset_index(drop=True)
    diff = pairs[y].to_numpy()
    cart = CART(x, diff, mass_min=min_share, mode=RuleInductionType.REGRESSION)
    _build_shallow(cart, max_depth, classify=False)
    tree = cart.clf
    r2 = float(tree.score(x.to_numpy(), diff))
    leads = top_down_leads(pairs, y).to_numpy()
    return {"outcome": y, "text": export_text(tree, feature_names=list(factors), decimals=3), "r2": r2,
            "tree": tree, "leaves": leaf_table(tree, factors, leads, x, diff)}


def _build_shallow(cart, max_depth: int, classify: bool) -> None:
    """EMA's ``CART.build_tree`` with a depth limit (and balanced classes); the tree is sklearn's, as in EMA."""
    from sklearn import tree as sk_tree

    min_samples = max(1, int(cart.mass_min * cart.x.shape[0]))
    if classify:
        cart.clf = sk_tree.DecisionTreeClassifier(min_samples_leaf=min_samples, max_depth=max_depth,
                                                  class_weight="balanced", random_state=1)
    else:
        cart.clf = sk_tree.DecisionTreeRegressor(min_samples_leaf=min_samples, max_depth=max_depth, random_state=1)
    cart.clf.fit(cart._x, cart.y)


def leaf_table(tree, factors: list[str], leads: np.ndarray, x: pd.DataFrame, diff: np.ndarray) -> pd.DataFrame:
    """Each leaf of ``tree`` as a rule: conditions, samples, share where top_down leads, mean difference."""
    t = tree.tree_
    rows = []

    def walk(node, conds):
        if t.children_left[node] == -1:
            mask = np.ones(len(x), dtype=bool)
            for f, op, thr in conds:
                mask &= (x[f] <= thr).to_numpy() if op == "<=" else (x[f] > thr).to_numpy()
            rows.append({"rule": _rule_text(conds),
                         "samples": int(mask.sum()),
                         "top_down_share": float(leads[mask].mean()) if mask.any() else float("nan"),
                         "mean_diff": float(diff[mask].mean()) if mask.any() else float("nan")})
            return
        f = factors[t.feature[node]]
        thr = float(t.threshold[node])
        walk(t.children_left[node], conds + [(f, "<=", thr)])
        walk(t.children_right[node], conds + [(f, ">", thr)])

    walk(0, [])
    return pd.DataFrame(rows)


def _rule_text(conds) -> str:
    """Conditions on a path, merged per parameter: ``a <= 0.3 and 0.1 < b <= 0.4``."""
    bounds: dict[str, list] = {}
    for f, op, thr in conds:
        lo, hi = bounds.setdefault(f, [None, None])
        if op == "<=":
            bounds[f][1] = thr if hi is None else min(hi, thr)
        else:
            bounds[f][0] = thr if lo is None else max(lo, thr)
    parts = []
    for f, (lo, hi) in bounds.items():
        if lo is not None and hi is not None:
            parts.append(f"{lo:.3g} < {f} <= {hi:.3g}")
        elif hi is not None:
            parts.append(f"{f} <= {hi:.3g}")
        else:
            parts.append(f"{f} > {lo:.3g}")
    return " and ".join(parts) or "(all)"


# ---------------------------------------------------------------------------- switch-offs
def switch_off_table(base: pd.DataFrame, switched: dict[str, pd.DataFrame],
                     outcomes=("system_outcome", "collaboration_index")) -> pd.DataFrame:
    """How each switch-off changes who leads, on the samples it was run on.

    ``base`` and each ``switched`` frame are ``paired_differences`` tables;
    rows are matched on (sample, seed). Reports the share where top_down leads
    with and without the mechanism, the change, how many samples change
    winner each way, an exact McNemar p-value, and the change in the mean
    difference (off - on, paired on sample and seed) with the half-width of
    its 95% interval.
    """
    from scipy.stats import binomtest

    rows = []
    for label, frame in switched.items():
        param, value, side = SWITCH_OFFS.get(label, (label, float("nan"), ""))
        merged = base.merge(frame, on=["sample", "seed"], suffixes=("", "_off"))
        n = len(merged)
        row = {"mechanism": label, "side": side, "parameter": param, "set_to": value, "n": n}
        for y in outcomes:
            on = OUTCOMES[y] * merged[y] > 0
            off = OUTCOMES[y] * merged[f"{y}_off"] > 0
            to_td = int((off & ~on).sum())
            to_pm = int((on & ~off).sum())
            short = "so" if y == "system_outcome" else ("ci" if y == "collaboration_index" else y)
            row[f"{short}_td_on"] = float(on.mean()) if n else float("nan")
            row[f"{short}_td_off"] = float(off.mean()) if n else float("nan")
            row[f"{short}_change"] = row[f"{short}_td_off"] - row[f"{short}_td_on"]
            row[f"{short}_flips_to_td"] = to_td
            row[f"{short}_flips_to_pm"] = to_pm
            row[f"{short}_p"] = float(binomtest(to_td, to_td + to_pm).pvalue) if to_td + to_pm else 1.0
            change = merged[f"{y}_off"] - merged[y]
            row[f"{short}_mean_diff_change"] = float(change.mean()) if n else float("nan")
            row[f"{short}_change_ci"] = Z95 * float(change.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("mechanism")


def capability_bands(pairs: pd.DataFrame, bands=CAPABILITY_BANDS,
                     outcomes=("system_outcome", "collaboration_index")) -> pd.DataFrame:
    """Per band of the permissive run's capability: samples, share where top_down leads, mean differences.

    ``pairs`` needs ``capability_permissive`` and ``capability_top_down`` (``load_pairs`` reads them).
    """
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(bands[:-1], bands[1:])]
    band = pd.cut(pairs["capability_permissive"], list(bands), labels=labels, include_lowest=True)
    rows = []
    for label, group in pairs.groupby(band, observed=True):
        row = {"band": label, "n": len(group),
               "capability_top_down": float(group["capability_top_down"].mean())}
        for y in outcomes:
            leads = top_down_leads(group, y)
            row[f"{y}_top_down_share"] = float(leads.mean())
            row[f"{y}_mean_diff"] = float(group[y].mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("band")


def switch_off_by_capability(base: pd.DataFrame, switched: dict[str, pd.DataFrame], saturated: float = SATURATED,
                             y: str = "system_outcome") -> pd.DataFrame:
    """Change in the mean difference in ``y`` (off - on, 95% half-width) where the permissive run's
    capability is at most ``saturated`` and where it is above."""
    rows = []
    for label, frame in switched.items():
        merged = base.merge(frame[["sample", "seed", y]], on=["sample", "seed"], suffixes=("", "_off"))
        change = merged[f"{y}_off"] - merged[y]
        high = merged["capability_permissive"] > saturated
        row = {"mechanism": label}
        for name, part in (("unsaturated", change[~high]), ("saturated", change[high])):
            n = len(part)
            row[f"{name}_n"] = n
            row[f"{name}_change"] = float(part.mean()) if n else float("nan")
            row[f"{name}_ci"] = Z95 * float(part.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("mechanism")


# ---------------------------------------------------------------------------- loading
def sampled_factors(results) -> list[str]:
    """The sampled parameters of a results store (its factors except regime)."""
    return [f for f in results.factors if f != "regime"]


def load_pairs(path, factors: list[str] | None = None, window=WINDOW) -> tuple[pd.DataFrame, list[str]]:
    """``paired_differences`` of a results folder, and its sampled factor names.

    Raises ValueError if the folder holds no finished run yet (a sweep still
    starting, or stopped before its first batch was stored).
    """
    from .store import load

    res = load(path)
    factors = factors or sampled_factors(res)
    outcomes = tuple(OUTCOMES) + MEDIATORS
    if res.metrics.empty or not set(outcomes) <= set(res.metrics.columns):
        raise ValueError(f"{path}: no finished runs yet")
    return paired_differences(time_averaged(res, window, outcomes), factors, outcomes), factors


def analyse(main: str | Path, noise: str | Path | None = None, switch_offs: str | Path | None = None,
            depth: int = 3, window=WINDOW) -> dict:
    """Everything the note reports, from the results folders (outcomes averaged over ``window``)."""
    pairs, factors = load_pairs(main, window=window)
    out = {"pairs": pairs, "factors": factors}
    noise_table = None
    if noise is not None and Path(noise).exists():
        extra, _ = load_pairs(noise, factors, window)
        both = pd.concat([pairs[pairs["sample"].isin(extra["sample"])], extra], ignore_index=True)
        noise_table = seed_noise(both)
        out["noise_pairs"] = both
    out["noise"] = noise_table
    out["shares"] = share_table(pairs, noise_table)
    out["scores"] = feature_scores(pairs, factors)
    out["cart"] = {y: cart_rules(pairs, factors, y, max_depth=depth) for y in ("system_outcome", "collaboration_index")}
    out["diff_tree"] = {y: difference_tree(pairs, factors, y, max_depth=depth)
                        for y in ("system_outcome", "collaboration_index")}
    if switch_offs is not None and Path(switch_offs).exists():
        switched = {}
        for label, (param, _, _) in SWITCH_OFFS.items():
            folder = Path(switch_offs) / param
            if (folder / "manifest.json").exists():
                try:
                    frame, _ = load_pairs(folder, factors, window)
                except ValueError:      # still running, or stopped before any run was stored
                    out.setdefault("switch_offs_skipped", []).append(str(folder))
                    continue
                switched[label] = frame
        if switched:
            out["switch_offs"] = switch_off_table(pairs, switched)
            out["switch_offs_by_capability"] = switch_off_by_capability(pairs, switched)
    out["capability_bands"] = capability_bands(pairs)
    return out


# ---------------------------------------------------------------------------- report
def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def report_markdown(a: dict) -> str:
    """The results as Markdown tables (what docs/exploration.md quotes)."""
    lines = []
    s = a["shares"]
    lines += ["| outcome (better) | samples | top_down leads | 95% CI | permissive leads | 95% CI | near-ties | clear leads td / pm | threshold | mean diff |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for y, r in s.iterrows():
        better = "higher" if OUTCOMES[y] > 0 else "lower"
        near = f"{int(r['near_ties'])}" if "near_ties" in r and not pd.isna(r.get("near_ties")) else "-"
        thr = f"{r['threshold']:.4f}" if "threshold" in r and not pd.isna(r.get("threshold")) else "-"
        clear = (f"{int(r['top_down_clear'])} / {int(r['permissive_clear'])}"
                 if "top_down_clear" in r and not pd.isna(r.get("top_down_clear")) else "-")
        lines.append(f"| {y} ({better}) | {int(r['n'])} | {int(r['top_down_leads'])} ({_pct(r['top_down_share'])}) | "
                     f"{_pct(r['top_down_lo'])}-{_pct(r['top_down_hi'])} | {int(r['permissive_leads'])} "
                     f"({_pct(r['permissive_share'])}) | {_pct(r['permissive_lo'])}-{_pct(r['permissive_hi'])} | "
                     f"{near} | {clear} | {thr} | {r['mean_diff']:+.4f} |")
    if a.get("noise") is not None:
        lines += ["", "| outcome | samples | seeds each | seed SD of a difference | 1.96 x SD | SD of the mean difference across these samples |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for y, r in a["noise"].iterrows():
            lines.append(f"| {y} | {int(r['samples'])} | {int(r['seeds'])} | {r['seed_sd']:.4f} | {r['threshold']:.4f} | "
                         f"{r['between_sample_sd']:.4f} |")
    lines += ["", "Feature scores (extra trees on the difference top_down - permissive):", "",
              "| parameter | system_outcome | collaboration_index |", "| --- | --- | --- |"]
    sc = a["scores"].sort_values("system_outcome", ascending=False)
    for name, r in sc.iterrows():
        lines.append(f"| {name} | {r['system_outcome']:.3f} | {r['collaboration_index']:.3f} |")
    for y, c in a["cart"].items():
        lines += ["", f"CART of \"top_down leads on {y}\" (depth <= 3, leaves >= 5% of samples, balanced classes; "
                      f"accuracy {c['accuracy']:.2f}, balanced accuracy {c['balanced_accuracy']:.2f}; always guessing "
                      f"the majority scores {c['baseline']:.2f}):", "",
                  "| leaf rule | samples | top_down leads | mean diff |", "| --- | --- | --- | --- |"]
        for _, r in c["leaves"].iterrows():
            lines.append(f"| {r['rule']} | {int(r['samples'])} | {_pct(r['top_down_share'])} | {r['mean_diff']:+.4f} |")
    for y, c in a.get("diff_tree", {}).items():
        lines += ["", f"Regression CART of the difference in {y} (depth <= 3, leaves >= 5%; R^2 {c['r2']:.2f}):", "",
                  "| leaf rule | samples | mean diff | top_down leads |", "| --- | --- | --- | --- |"]
        for _, r in c["leaves"].sort_values("mean_diff").iterrows():
            lines.append(f"| {r['rule']} | {int(r['samples'])} | {r['mean_diff']:+.4f} | {_pct(r['top_down_share'])} |")
    if "capability_bands" in a:
        lines += ["", "Who leads, by what joint work has built in the permissive run (mean channel capability, "
                      "months 61-120):", "",
                  "| permissive capability | samples | top_down capability | system outcome: top_down leads | mean diff "
                  "| collaboration: top_down leads | mean diff |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for band, r in a["capability_bands"].iterrows():
            lines.append(f"| {band} | {int(r['n'])} | {r['capability_top_down']:.3f} | "
                         f"{_pct(r['system_outcome_top_down_share'])} | {r['system_outcome_mean_diff']:+.4f} | "
                         f"{_pct(r['collaboration_index_top_down_share'])} | {r['collaboration_index_mean_diff']:+.4f} |")
    if "switch_offs" in a:
        t = a["switch_offs"]
        lines += ["", "| mechanism switched off | side | parameter = | samples | system outcome: top_down leads, on -> off "
                      "| flips to td / to pm | change in mean diff (95% CI) | collaboration: top_down leads, on -> off "
                      "| flips to td / to pm | change in mean diff (95% CI) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for m, r in t.iterrows():
            lines.append(
                f"| {m} | {r['side']} | {r['parameter']} = {r['set_to']:g} | {int(r['n'])} | "
                f"{_pct(r['so_td_on'])} -> {_pct(r['so_td_off'])} | "
                f"{int(r['so_flips_to_td'])} / {int(r['so_flips_to_pm'])} | "
                f"{r['so_mean_diff_change']:+.4f} ± {r['so_change_ci']:.4f} | "
                f"{_pct(r['ci_td_on'])} -> {_pct(r['ci_td_off'])} | "
                f"{int(r['ci_flips_to_td'])} / {int(r['ci_flips_to_pm'])} | "
                f"{r['ci_mean_diff_change']:+.4f} ± {r['ci_change_ci']:.4f} |")
    if a.get("switch_offs_skipped"):
        lines += ["", "Switch-off folders skipped (no finished runs yet): " + ", ".join(a["switch_offs_skipped"])]
    if "switch_offs_by_capability" in a:
        lines += ["", f"Change in the system-outcome difference when each is switched off, where the permissive "
                      f"run's capability is at most {SATURATED:g} (joint work unsaturated) and above it:", "",
                  "| mechanism switched off | unsaturated: samples | change (95% CI) | saturated: samples | change (95% CI) |",
                  "| --- | --- | --- | --- | --- |"]
        for m, r in a["switch_offs_by_capability"].iterrows():
            lines.append(f"| {m} | {int(r['unsaturated_n'])} | {r['unsaturated_change']:+.4f} ± {r['unsaturated_ci']:.4f} | "
                         f"{int(r['saturated_n'])} | {r['saturated_change']:+.4f} ± {r['saturated_ci']:.4f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    from .spec import load_experiment

    ap = argparse.ArgumentParser(prog="python -m experiments.exploration", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run-noise", help="run the first samples with more seeds (seed noise)")
    p.add_argument("experiment")
    p.add_argument("--samples", type=int, default=10)
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--out", default=None)
    p.add_argument("--workers", type=int, default=2)
    p = sub.add_parser("run-switch-offs", help="run the first samples with each mechanism switched off")
    p.add_argument("experiment")
    p.add_argument("--samples", type=int, default=25)
    p.add_argument("--only", nargs="*", default=None, help="parameters to switch off (default: all)")
    p.add_argument("--region", default=None,
                   help="only samples in this region, e.g. 'pressure<=0.34,initial_turf<=0.51' (with --samples 0: all such samples)")
    p.add_argument("--out", default=None)
    p.add_argument("--workers", type=int, default=2)
    p = sub.add_parser("report", help="shares, conditions and switch-offs as Markdown")
    p.add_argument("results")
    p.add_argument("--noise", default=None)
    p.add_argument("--switch-offs", default=None)
    args = ap.parse_args(argv)

    if args.command == "run-noise":
        exp = load_experiment(args.experiment)
        wide, plan = noise_plan(exp, args.samples, args.seeds)
        out = args.out or f"results/{exp.name}-noise"
        r = run_plan(wide, plan, out, args.workers)
        print(f"{r.ran} runs ({r.failed} failed) into {out} in {r.seconds:.0f} s")
    elif args.command == "run-switch-offs":
        exp = load_experiment(args.experiment)
        from .runner import plan_runs

        try:
            region = parse_region(args.region)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        root = Path(args.out or f"results/{exp.name}-switch-offs")
        base = plan_runs(exp)
        samples = args.samples or None
        for label, (param, value, _) in SWITCH_OFFS.items():
            if args.only and param not in args.only:
                continue
            off, plan = switch_off_plan(exp, param, value, samples, base=base, region=region)
            r = run_plan(off, plan, root / param, args.workers)
            print(f"{label} ({param} = {value:g}): {r.ran} runs ({r.failed} failed) in {r.seconds:.0f} s", flush=True)
    else:
        res = Path(args.results)
        noise = args.noise or f"{res}-noise"
        switch = args.switch_offs or f"{res}-switch-offs"
        print(report_markdown(analyse(res, noise, switch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
