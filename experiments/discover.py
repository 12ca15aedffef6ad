"""Scenario discovery: under which conditions does one regime beat another?

The input is a sampled experiment (e.g. a Latin hypercube over uncertain
parameters) in which every sampled point runs under both regimes with the
same replicate seeds (common random numbers). For each sampled point, the
*scenario*, the paired difference ``better - worse`` of the chosen outcome is
averaged over replicates; the scenario is a case of interest when it exceeds
``margin`` (in the direction in which the outcome improves).

EMA Workbench's PRIM and CART then look for boxes in the uncertain
parameters where the cases of interest concentrate. A box found on a sample
describes that sample best, so the scenarios are split at random in two
halves: the algorithms are fitted on one, and each box's coverage (share of
all cases of interest that fall in the box) and density (share of the box's
scenarios that are cases of interest) are reported on the other, held-out
half too. PRIM's quasi-p values (Bryant & Lempert 2010) flag restrictions
that are no better than chance: a box that restricts a dimension with
quasi-p above ``alpha`` may be describing noise in that dimension.
"""

from __future__ import annotations

import base64
import html
import io
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import analysis
from .spec import ExperimentError
from .store import Results

with warnings.catch_warnings():   # EMA warns at import about an optional cluster backend not used here
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    import ema_workbench  # noqa: F401

FRAGMENT = "discovery.html"    # the section write_report embeds
TABLE = "discovery.json"


class DiscoveryError(ExperimentError):
    """The stored experiment cannot answer the question asked (one-line message)."""


@dataclass
class Question:
    """When does ``better`` beat ``worse`` on ``metric``?"""

    metric: str = "system_outcome"
    better: str = "top_down"
    worse: str = "permissive"
    value: str = "final"              # or "average" over months 1..end
    higher_is_better: bool = True
    margin: float = 0.0               # a win is a mean paired difference beyond this
    factor: str = "regime"            # the factor whose two values are compared

    def describe(self) -> str:
        more = "higher" if self.higher_is_better else "lower"
        when = "in the last month" if self.value == "final" else "averaged over the run"
        return (f"{self.better} beats {self.worse} on {self.metric} ({when}): its mean paired difference is "
                f"{more} by more than {self.margin:g}")


@dataclass
class Box:
    """A box and how well it holds: in the fitting half and the held-out half."""

    method: str
    limits: dict[str, list]           # restricted dimension -> [low, high] (or list of values)
    coverage_fit: float
    density_fit: float
    coverage_test: float
    density_test: float
    n_fit: int                        # scenarios in the box
    n_test: int
    quasi_p: dict[str, float] = field(default_factory=dict)   # PRIM: worst side's quasi-p per dimension
    not_significant: list[str] = field(default_factory=list)
    index: int | None = None          # PRIM: the box's place on the peeling trajectory

    def describe(self) -> str:
        parts = []
        for dim, lim in self.limits.items():
            if isinstance(lim[0], (int, float)) and len(lim) == 2:
                parts.append(f"{lim[0]:.3g} <= {dim} <= {lim[1]:.3g}")
            else:
                parts.append(f"{dim} in {{{', '.join(map(str, lim))}}}")
        return " and ".join(parts) or "(no restriction: all scenarios)"


@dataclass
class Discovery:
    """The outcome of a discovery run, written as discovery.json."""

    question: dict
    n_scenarios: int
    n_fit: int
    n_test: int
    replicates: int
    base_rate_fit: float
    base_rate_test: float
    dimensions: list[str]
    prim: Box | None
    prim_pruned: Box | None           # the PRIM box without its non-significant restrictions
    cart: list[Box]
    split_seed: int
    alpha: float
    min_coverage: float
    trajectory: list[dict]            # PRIM's peeling trajectory (fit half)
    warnings: list[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=_jsonable)


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


# ----------------------------------------------------------------- scenarios
def check_experiment(exp, q: Question) -> None:
    """Before running: can this experiment answer the question?"""
    from .analysis import metric_names

    factor = exp.factors.get(q.factor)
    if factor is None or factor.is_range:
        raise DiscoveryError(f"{exp.source}: [factors] needs {q.factor} = [\"{q.better}\", \"{q.worse}\"] "
                             "(each sampled point runs under both)")
    for name in (q.better, q.worse):
        if name not in factor.values:
            raise DiscoveryError(f"{exp.source}: {q.factor} {name!r} is not among the factor's values "
                                 f"({', '.join(map(str, factor.values))})")
    if q.better == q.worse:
        raise DiscoveryError(f"--better and --worse are both {q.better!r}; compare two different values")
    if exp.design != "latin_hypercube" or not any(f.is_range for f in exp.factors.values()):
        raise DiscoveryError(f"{exp.source}: discovery needs a latin_hypercube design with ranged factors "
                             f"(got {exp.design}); see experiments/topdown_vs_permissive.toml")
    known = metric_names()
    if q.metric not in known:
        from abm.parameters import suggest

        raise DiscoveryError(f"unknown metric {q.metric!r}{suggest(q.metric, known)}; allowed: {', '.join(known)}")


def scenarios(results: Results, q: Question) -> pd.DataFrame:
    """One row per scenario: its uncertain factor values, the mean paired difference
    ``better - worse`` over replicates, its 95% interval, and whether it is a win."""
    if q.factor not in results.runs.columns or q.factor not in results.factors:
        raise DiscoveryError(f"{results.path}: {q.factor!r} is not a factor of this experiment; discovery "
                             f"compares two values of a factor run on the same sampled points")
    levels = set(results.runs[q.factor])
    for name in (q.better, q.worse):
        if name not in levels:
            raise DiscoveryError(f"{results.path}: {q.factor} {name!r} was not run; "
                                 f"stored: {', '.join(sorted(map(str, levels)))}")
    if q.metric not in results.metrics.columns:
        known = [c for c in results.metrics.columns if c not in ("run_id", "month")]
        from abm.parameters import suggest

        raise DiscoveryError(f"unknown metric {q.metric!r}{suggest(q.metric, known)}; stored: {', '.join(known)}")
    dims = [f for f in results.factors if f != q.factor and f in results.runs.columns]
    if not dims:
        raise DiscoveryError(f"{results.path}: no factor besides {q.factor} varies; nothing to discover")
    runs = analysis.per_run(results, [q.metric]).merge(results.ok[["run_id", q.factor, *dims]], on="run_id")
    values = runs.pivot_table(index=[*dims, "replicate"], columns=q.factor, values=q.value, aggfunc="first")
    paired = values[[q.better, q.worse]].dropna()
    if paired.empty:
        raise DiscoveryError(f"{results.path}: no scenario has finished runs under both {q.better} and {q.worse}")
    diff = (paired[q.better] - paired[q.worse]).rename("difference").reset_index()
    rows = []
    for key, g in diff.groupby(dims, sort=False):
        mean, low, high, n = analysis.ci95(g["difference"])
        rows.append({**dict(zip(dims, key if isinstance(key, tuple) else (key,))),
                     "difference": mean, "ci_low": low, "ci_high": high, "replicates": n})
    table = pd.DataFrame(rows)
    sign = 1.0 if q.higher_is_better else -1.0
    table["win"] = sign * table["difference"] > q.margin
    return table


def split(wins: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random halves of the scenarios, (fit, held-out), stratified on ``wins`` so both
    halves have (nearly) the same share of cases of interest: a lopsided split would
    make a box look better or worse held out for no reason of its own."""
    rng = np.random.default_rng(seed)
    fit, test = [], []
    for cls in (True, False):
        members = rng.permutation(np.flatnonzero(np.asarray(wins, dtype=bool) == cls))
        half = len(members) // 2 + (len(members) % 2 if len(fit) <= len(test) else 0)
        fit.extend(members[:half])
        test.extend(members[half:])
    return np.sort(np.array(fit, dtype=int)), np.sort(np.array(test, dtype=int))


def in_box(x: pd.DataFrame, limits: pd.DataFrame, init: pd.DataFrame | None = None) -> np.ndarray:
    """Which rows of ``x`` fall inside EMA box limits (row 0 low, row 1 high; sets for categories).

    With ``init`` (the box around the data the box was fitted on), a side left at
    ``init``'s value is unrestricted, so new data beyond the fitted data's range
    counts as inside on that side.
    """
    inside = np.ones(len(x), dtype=bool)
    for col in limits.columns:
        low, high = limits.loc[0, col], limits.loc[1, col]
        if isinstance(low, (set, frozenset)):
            inside &= x[col].isin(low).to_numpy()
            continue
        if init is not None:
            low = -np.inf if low == init.loc[0, col] else low
            high = np.inf if high == init.loc[1, col] else high
        values = x[col].to_numpy(dtype=float)
        inside &= (values >= low) & (values <= high)
    return inside


def _stats(y: np.ndarray, inside: np.ndarray) -> tuple[float, float, int]:
    """Coverage, density and size of a box on one half."""
    n = int(inside.sum())
    hits = int(y[inside].sum())
    coverage = hits / y.sum() if y.sum() else float("nan")
    density = hits / n if n else float("nan")
    return float(coverage), float(density), n


def _bounds(x: pd.DataFrame) -> pd.DataFrame:
    """The box holding every row of ``x`` (what CART's leaves are cut from)."""
    cols = {}
    for col in x.columns:
        if np.issubdtype(x[col].dtype, np.number):
            cols[col] = [x[col].min(), x[col].max()]
        else:
            cols[col] = [set(x[col]), set(x[col])]
    return pd.DataFrame(cols)


def _restricted(limits: pd.DataFrame, init: pd.DataFrame) -> dict[str, list]:
    out = {}
    for col in limits.columns:
        low, high = limits.loc[0, col], limits.loc[1, col]
        if isinstance(low, (set, frozenset)):
            if set(low) != set(init.loc[0, col]):
                out[col] = sorted(low, key=str)
        elif low != init.loc[0, col] or high != init.loc[1, col]:
            out[col] = [float(low), float(high)]
    return out


# ----------------------------------------------------------------- the algorithms
def run_prim(x_fit, y_fit, x_test, y_test, min_coverage: float, alpha: float, mass_min: float = 0.05):
    """EMA's PRIM on the fitting half; the chosen box is the densest on the peeling
    trajectory that still covers ``min_coverage`` of the cases of interest.

    Returns (chosen box, the same box with non-significant restrictions dropped or
    None, EMA's PrimBox, the peeling trajectory)."""
    from ema_workbench.analysis import prim

    finder = prim.Prim(x_fit, y_fit, peel_alpha=0.05, paste_alpha=0.05, mass_min=mass_min)
    box = finder.find_box()
    if box is None:
        return None, None, None, pd.DataFrame()
    traj = box.peeling_trajectory.reset_index(drop=True)
    eligible = traj[traj["coverage"] >= min_coverage]
    if eligible.empty:
        eligible = traj
    best = eligible.sort_values(["density", "res_dim", "coverage"], ascending=[False, True, False]).iloc[0]
    chosen = _prim_result(box, finder, int(best["id"]), x_test, y_test, alpha, "PRIM")
    # Drop the restrictions that are no better than chance, worst first (EMA's
    # drop_restriction adds each smaller box to the trajectory), and report that box too.
    pruned, i = None, chosen.index
    current = chosen
    while current.not_significant:
        worst = max(current.not_significant, key=lambda d: current.quasi_p[d])
        box.drop_restriction(worst, i)
        i = len(box.box_lims) - 1
        current = _prim_result(box, finder, i, x_test, y_test, alpha, "PRIM, noise dropped")
        pruned = current
    return chosen, pruned, box, box.peeling_trajectory.reset_index(drop=True)


def _prim_result(box, finder, i: int, x_test, y_test, alpha: float, method: str) -> Box:
    """Box ``i`` of PRIM's trajectory with its quasi-p values and held-out stats."""
    row = box.peeling_trajectory.iloc[i]
    limits = box.box_lims[i]
    quasi = {}
    for dim, sides in box.p_values[i].items():
        valid = [p for p in sides if p is not None and p >= 0]
        if valid:
            quasi[dim] = float(max(valid))
    cov_t, den_t, n_t = _stats(y_test, in_box(x_test, limits, finder.box_init))
    return Box(method=method, limits=_restricted(limits, finder.box_init), coverage_fit=float(row["coverage"]),
               density_fit=float(row["density"]), coverage_test=cov_t, density_test=den_t,
               n_fit=int(row["n"]), n_test=n_t, quasi_p=quasi,
               not_significant=[d for d, p in quasi.items() if p > alpha], index=i)


def run_cart(x_fit, y_fit, x_test, y_test, mass_min: float = 0.1, max_boxes: int = 4) -> list[Box]:
    """EMA's CART on the fitting half: its leaves where most scenarios are cases of interest."""
    from ema_workbench.analysis import cart

    tree = cart.CART(x_fit, y_fit, mass_min=mass_min)
    tree.build_tree()
    init = _bounds(x_fit)
    out = []
    for limits in tree.boxes:
        cov_f, den_f, n_f = _stats(y_fit, in_box(x_fit, limits))
        if not n_f or den_f < 0.5:
            continue
        cov_t, den_t, n_t = _stats(y_test, in_box(x_test, limits, init))
        out.append(Box(method="CART", limits=_restricted(limits, init), coverage_fit=cov_f, density_fit=den_f,
                       coverage_test=cov_t, density_test=den_t, n_fit=n_f, n_test=n_t))
    out.sort(key=lambda b: (-b.coverage_fit, -b.density_fit))
    return out[:max_boxes]


def discover(results: Results, q: Question, *, split_seed: int = 1, min_coverage: float = 0.5,
             alpha: float = 0.05) -> tuple[Discovery, dict]:
    """Fit PRIM and CART on half the scenarios, test on the other half.

    Returns the Discovery and the figures (name -> HTML ``<img>``)."""
    table = scenarios(results, q)
    dims = [c for c in table.columns if c not in ("difference", "ci_low", "ci_high", "replicates", "win")]
    if len(table) < 20:
        raise DiscoveryError(f"{results.path}: only {len(table)} scenarios; scenario discovery needs many "
                             "(use a sampled design with 100 or more samples)")
    x = table[dims].reset_index(drop=True)
    y = table["win"].to_numpy(dtype=bool)
    fit, test = split(y, split_seed)
    x_fit, y_fit = x.iloc[fit].reset_index(drop=True), y[fit]
    x_test, y_test = x.iloc[test].reset_index(drop=True), y[test]
    warnings = []
    prim_box, pruned, prim_obj, traj = (None, None, None, pd.DataFrame())
    if 0 < min(y_fit.sum(), len(y_fit) - y_fit.sum()) < 5:
        rare = "wins" if y_fit.sum() < 5 else "losses"
        warnings.append(f"only {min(y_fit.sum(), len(y_fit) - y_fit.sum())} {rare} among the {len(y_fit)} fitting "
                        f"scenarios: any box describes a handful of points; read the base rate "
                        f"({y.mean():.0%} wins overall) as the finding")
    if 0 < y_fit.sum() < len(y_fit):
        prim_box, pruned, prim_obj, traj = run_prim(x_fit, y_fit, x_test, y_test, min_coverage, alpha)
        cart_boxes = run_cart(x_fit, y_fit, x_test, y_test)
    else:
        cart_boxes = []
        warnings.append(f"{q.better} {'wins' if y_fit.all() else 'loses'} in every fitting scenario: "
                        "there is no boundary to find")
    if prim_box is not None:
        if prim_box.not_significant:
            warnings.append("PRIM box restricts " + ", ".join(
                f"{d} (quasi-p {prim_box.quasi_p[d]:.2g})" for d in prim_box.not_significant)
                + f" with quasi-p above {alpha}: these restrictions may be noise"
                + ("; the box without them is shown too" if pruned is not None else ""))
        if prim_box.density_test < prim_box.density_fit - 0.1:
            warnings.append(f"PRIM box density falls from {prim_box.density_fit:.2f} (fitting half) to "
                            f"{prim_box.density_test:.2f} (held-out half): the box holds less well out of sample")
    base_test = float(y_test.mean())
    if prim_box is not None and prim_box.density_test <= base_test + 0.05:
        warnings.append(f"held out, the PRIM box's density ({prim_box.density_test:.2f}) is no better than the "
                        f"base rate ({base_test:.2f}): the box does not hold out of sample")
    result = Discovery(
        question=asdict(q), n_scenarios=len(table), n_fit=len(fit), n_test=len(test),
        replicates=int(table["replicates"].max()), base_rate_fit=float(y_fit.mean()), base_rate_test=base_test,
        dimensions=dims, prim=prim_box, prim_pruned=pruned, cart=cart_boxes, split_seed=split_seed, alpha=alpha,
        min_coverage=min_coverage, trajectory=traj.to_dict("records") if not traj.empty else [],
        warnings=warnings)
    figures = _figures(result, prim_obj, x_test, y_test, table, test) if prim_obj is not None else {}
    return result, figures


# ----------------------------------------------------------------- output
def _img(fig, alt: str) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _figures(d: Discovery, prim_box, x_test: pd.DataFrame, y_test: np.ndarray, table: pd.DataFrame,
             test_rows: np.ndarray) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {}
    fig = prim_box.show_tradeoff()           # EMA's peeling trade-off plot (fit half)
    ax = fig.axes[0]
    if d.prim is not None:
        ax.scatter([d.prim.coverage_fit], [d.prim.density_fit], s=160, facecolors="none", edgecolors="red",
                   label="chosen box (fit)")
        ax.scatter([d.prim.coverage_test], [d.prim.density_test], marker="x", color="red", s=80,
                   label="chosen box (held out)")
        ax.axhline(d.base_rate_fit, color="grey", ls=":", lw=1, label="base rate")
        ax.legend(fontsize=7, loc="lower left")
    ax.set_title("PRIM peeling trajectory: coverage vs density", fontsize=10)
    figs["tradeoff"] = _img(fig, "PRIM peeling trade-off between coverage and density")

    if d.prim is not None and d.prim.index is not None and d.prim.limits:
        fig, ax = plt.subplots(figsize=(6, 0.6 + 0.5 * len(d.prim.limits)))
        prim_box.inspect(d.prim.index, style="graph", ax=ax)
        figs["box"] = _img(ax.figure, "PRIM box limits with quasi-p values")

    # held out: coverage and density, fit against held-out, for every box
    boxes = all_boxes(d)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    labels = _box_labels(boxes)
    pos = np.arange(len(boxes))
    for ax, what in zip(axes, ("coverage", "density")):
        ax.bar(pos - 0.2, [getattr(b, f"{what}_fit") for b in boxes], 0.4, label="fitting half", color="#005eb8")
        ax.bar(pos + 0.2, [getattr(b, f"{what}_test") for b in boxes], 0.4, label="held-out half", color="#ed8b00")
        if what == "density":
            ax.axhline(d.base_rate_test, color="grey", ls=":", lw=1, label="base rate (held out)")
        ax.set_xticks(pos, labels, fontsize=7, rotation=20, ha="right")
        ax.set_ylim(0, 1)
        ax.set_title(what, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    figs["held_out"] = _img(fig, "coverage and density of each box, fitting half vs held-out half")

    shown = d.prim_pruned if d.prim_pruned is not None and d.prim_pruned.limits else d.prim
    dims = [c for c in (shown.limits if shown else {}) if np.issubdtype(x_test[c].dtype, np.number)][:2]
    if dims:
        held = table.iloc[test_rows].reset_index(drop=True)
        xs = x_test[dims[0]]
        ys = x_test[dims[1]] if len(dims) == 2 else held["difference"]
        fig, ax = plt.subplots(figsize=(5.2, 4))
        ax.scatter(xs[~y_test], ys[~y_test], s=14, color="#9aa5ad", label=f"{d.question['better']} does not win")
        ax.scatter(xs[y_test], ys[y_test], s=14, color="#005eb8", label=f"{d.question['better']} wins")
        (x0, x1) = shown.limits[dims[0]]
        if len(dims) == 2:
            (y0, y1) = shown.limits[dims[1]]
            ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="red", lw=1.5,
                                       label=shown.method + " box"))
        else:
            for v in (x0, x1):
                ax.axvline(v, color="red", lw=1.5)
            ax.axhline(0, color="#768692", lw=1)
        ax.set_xlabel(dims[0])
        ax.set_ylabel(dims[1] if len(dims) == 2 else f"mean paired difference in {d.question['metric']}")
        ax.set_title(f"held-out scenarios and the {shown.method} box", fontsize=10)
        ax.legend(fontsize=7)
        figs["held_out_scatter"] = _img(fig, "held-out scenarios on the box's first restricted dimensions")
    return figs


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.2f}"


def all_boxes(d: Discovery) -> list[Box]:
    """PRIM's box, its pruned version and CART's leaves, in that order."""
    return [b for b in (d.prim, d.prim_pruned) if b is not None] + d.cart


def _box_labels(boxes: list[Box]) -> list[str]:
    cart = iter(range(len(boxes)))
    return [f"CART leaf {next(cart)}" if b.method == "CART" else b.method for b in boxes]


def box_table(d: Discovery) -> pd.DataFrame:
    rows = []
    boxes = all_boxes(d)
    for b, label in zip(boxes, _box_labels(boxes)):
        rows.append({"method": label, "box": b.describe(),
                     "coverage (fit)": _pct(b.coverage_fit), "density (fit)": _pct(b.density_fit),
                     "coverage (held out)": _pct(b.coverage_test), "density (held out)": _pct(b.density_test),
                     "scenarios in box (fit / held out)": f"{b.n_fit} / {b.n_test}"})
    return pd.DataFrame(rows)


def summary_text(d: Discovery) -> str:
    """The result in a few lines (console and the report's first paragraph)."""
    q = Question(**d.question)
    lines = [f"When does {q.better} beat {q.worse} on {q.metric} ({q.value})?",
             f"{d.n_scenarios} scenarios ({d.replicates} paired replicates each); {q.better} wins in "
             f"{d.base_rate_fit:.0%} of the {d.n_fit} fitting and {d.base_rate_test:.0%} of the {d.n_test} "
             "held-out scenarios."]
    if d.prim:
        b = d.prim
        lines.append(f"PRIM box: {b.describe()}")
        lines.append(f"  coverage {b.coverage_fit:.2f}, density {b.density_fit:.2f} on the fitting half; "
                     f"coverage {_pct(b.coverage_test)}, density {_pct(b.density_test)} held out.")
    if d.prim_pruned:
        b = d.prim_pruned
        lines.append(f"PRIM box without its non-significant restrictions: {b.describe()}")
        lines.append(f"  coverage {b.coverage_fit:.2f}, density {b.density_fit:.2f} on the fitting half; "
                     f"coverage {_pct(b.coverage_test)}, density {_pct(b.density_test)} held out.")
    for i, b in enumerate(d.cart):
        lines.append(f"CART leaf {i}: {b.describe()}")
        lines.append(f"  coverage {b.coverage_fit:.2f}, density {b.density_fit:.2f} fit; "
                     f"coverage {_pct(b.coverage_test)}, density {_pct(b.density_test)} held out.")
    lines += [f"WARNING: {w}" for w in d.warnings]
    return "\n".join(lines)


def fragment(d: Discovery, figures: dict) -> str:
    """The report section (HTML) for one discovery."""
    from .report import html_table

    q = Question(**d.question)
    parts = [f"<h2>Scenario discovery: when does {html.escape(q.better)} beat {html.escape(q.worse)}?</h2>",
             f"<p>Case of interest: {html.escape(q.describe())}, for the mean over the "
             f"{d.replicates} replicates of each scenario (paired: the same seeds under both). "
             f"Uncertain dimensions: {html.escape(', '.join(d.dimensions))}. "
             f"The {d.n_scenarios} scenarios were split at random (seed {d.split_seed}; stratified, so both halves "
             f"have nearly the same share of wins) into a fitting half "
             f"({d.n_fit}) and a held-out half ({d.n_test}); EMA Workbench's PRIM and CART were fitted on the first, "
             "and every box's coverage and density are shown on both. "
             f"Base rate ({html.escape(q.better)} wins): {d.base_rate_fit:.2f} fit, {d.base_rate_test:.2f} held out.</p>",
             "<p class=\"note\">Coverage = share of all wins that fall in the box; density = share of the box's "
             f"scenarios that are wins. The PRIM box is the densest box on the peeling trajectory covering at least "
             f"{d.min_coverage:.0%} of the wins. A restriction whose quasi-p value (Bryant &amp; Lempert 2010) is above "
             f"{d.alpha} is no better than chance.</p>"]
    for w in d.warnings:
        parts.append(f"<p class=\"bad\">Warning: {html.escape(w)}</p>")
    table = box_table(d)
    if not table.empty:
        parts.append(html_table(table, left=2))
    if d.prim and d.prim.quasi_p:
        qp = pd.DataFrame([{"dimension": k, "limits": f"{d.prim.limits[k][0]:.3g} to {d.prim.limits[k][1]:.3g}"
                            if len(d.prim.limits[k]) == 2 and isinstance(d.prim.limits[k][0], float)
                            else ", ".join(map(str, d.prim.limits[k])),
                            "quasi-p": f"{p:.3g}", "significant": "yes" if p <= d.alpha else "no"}
                           for k, p in d.prim.quasi_p.items()])
        parts.append("<h3>PRIM box: restricted dimensions</h3>" + html_table(qp, left=2))
    for key, title in (("box", "PRIM box"), ("tradeoff", "Peeling trade-off (fitting half)"),
                       ("held_out", "Held out: does each box hold?"), ("held_out_scatter", "Held-out scenarios")):
        if key in figures:
            parts.append(f"<h3>{title}</h3>{figures[key]}")
    return "".join(parts)


def write(path: str | Path, d: Discovery, figures: dict) -> None:
    """Store the discovery in the results folder (the report embeds it)."""
    from .store import write_json

    path = Path(path)
    write_json(path / TABLE, json.loads(d.to_json()))
    tmp = path / f".{FRAGMENT}.tmp"
    tmp.write_text(fragment(d, figures), encoding="utf-8")
    tmp.replace(path / FRAGMENT)
