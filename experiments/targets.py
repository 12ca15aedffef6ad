"""Calibration targets: quantified facts about the NHS, as summary statistics of model output.

Each target is one number computed from the runs of one particle (one
parameter set), compared with a range: the distance of a value is how far it
lies outside the range, in units of the target's ``scale`` (zero anywhere
inside it). A sign is a half-open range (``low = 0`` or ``high = 0``). The
facts, their sources and how each became a range are in
``docs/calibration.md``.

Every particle runs the scenarios the facts describe, with one seed shared by
all of them (common random numbers), on the default stylised ICS:

- ``top_down``: the 2000s target-and-sanction regime (Bevan & Hood 2006);
- ``permissive``: the Health and Care Act 2022 settlement, system-focused
  (the regime in which leaders were surveyed and integration programmes ran);
- ``earned_autonomy``: the NHS oversight framework 2025/26 (quartile
  segments, freedom for the top segment), for segment churn.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: scenario name -> fixed model parameters (the regime preset it describes)
SCENARIOS: dict[str, dict] = {
    "top_down": {"regime": "top_down"},
    "permissive": {"regime": "permissive"},
    "earned_autonomy": {"regime": "earned_autonomy"},
}

MISREPORT_THRESHOLD = 0.02  # reported above true by 2 points: what an audit would call misreporting
NHS_PROVIDERS = ("acute", "mental_health", "community", "ambulance")


@dataclass(frozen=True)
class Target:
    """One calibration target: a summary statistic and the range it should fall in."""

    id: str
    stat: str
    scenario: str
    kind: str            # "range" or "sign"
    low: float           # -inf for "at most"
    high: float          # inf for "at least"
    scale: float         # tolerance: distance 1 = one scale outside the range
    fitted: bool         # False: held out of the fit, used only to test the posterior
    statistic: str       # how it is computed from model output
    observed: str        # the fact, with numbers
    source: str          # full reference

    def violation(self, x: float) -> float:
        """How far ``x`` lies outside [low, high] (0 inside; inf for NaN)."""
        if x is None or not math.isfinite(x):
            return math.inf
        return max(0.0, self.low - x, x - self.high)

    def distance(self, x: float) -> float:
        """Violation in units of ``scale``."""
        return self.violation(x) / self.scale

    def met(self, x: float) -> bool:
        return self.violation(x) == 0.0

    def range_text(self) -> str:
        if self.low == -math.inf:
            return f"<= {self.high:g}"
        if self.high == math.inf:
            return f">= {self.low:g}"
        return f"{self.low:g} to {self.high:g}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["low"] = None if self.low == -math.inf else self.low
        d["high"] = None if self.high == math.inf else self.high
        return d


INF = math.inf

TARGETS: tuple[Target, ...] = (
    # ---------------------------------------------------------------- fitted
    Target("T1", "gaming_gap_top_down", "top_down", "range", 0.10, 0.20, 0.05, True,
           "mean gaming_gap (reported minus true performance of NHS providers in league tables) over months 25-48",
           "A&E four-hour performance: 96% reported vs 77% in the patient survey (2004/05); 139 of 158 trusts "
           "officially >=90% while the survey gave 69% (2002/03). The survey gap is an upper bound on gaming, "
           "so the range is 10-20 points after 2-4 years of the target.",
           "Bevan G, Hood C (2006) What's measured is what matters: targets and gaming in the English public "
           "health care system. Public Administration 84(3):517-538, doi 10.1111/j.1467-9299.2006.00600.x"),
    Target("T2", "gaming_growth_top_down", "top_down", "range", 1.4, 3.0, 0.5, True,
           "mean gaming_share over months 37-48 divided by its mean over months 1-12",
           "Threshold bunching grew under a sustained target: share leaving in the last 20 minutes 4.7% -> 8.4% "
           "(2003-2006, x1.8); admitted-patient spike 12.3% (2004) -> 30.7% (2008-9, x2.5).",
           "Mason S, Weber EJ, Coster J, Freeman J, Locker T (2012) Time patients spend in the emergency "
           "department: England's 4-hour rule. Ann Emerg Med 59(5):341-349, doi 10.1016/j.annemergmed.2011.08.017; "
           "Locker TE, Mason SM (2005) BMJ 330:1188; Mason S, Nicholl J, Locker T (2010) BMJ 341:c3579"),
    Target("T5", "segment_churn", "earned_autonomy", "range", 0.15, 0.20, 0.05, True,
           "share of ranked NHS providers whose oversight segment differs from the previous quarter, "
           "mean over quarters from month 12",
           "38 of about 205 trusts changed segment between Q1 and Q2 2025/26 (about 0.19 a quarter).",
           "NHS England (2025) NHS oversight framework: Q2 2025/26 segmentation changes "
           "(https://www.england.nhs.uk/long-read/nhs-oversight-framework-q2-25-26-segmentation-changes)"),
    Target("T6a", "admissions_gap_early", "permissive", "range", -0.01, 0.01, 0.01, True,
           "(emergency_admissions under top_down minus under permissive) / top_down's month-0 value, mean over "
           "months 1-24",
           "Integration programmes' effect on emergency admissions was nil early on: most of the divergence "
           "came in the final year of five; effects took up to 5-6 years.",
           "Morciano M, Checkland K, Durand MA, Sutton M, Mays N (2021) BMC Health Serv Res 21:682, doi "
           "10.1186/s12913-021-06692-x; Keeble E, Bardsley M, Durand MA, Hoomans T, Mays N (2019) BMJ Open "
           "9:e026509"),
    Target("T6b", "admissions_gap_late", "permissive", "range", 0.03, 0.085, 0.02, True,
           "the same difference, mean over months 49-72",
           "2013-2018 emergency admissions rose 12% in non-participating CCGs vs 8.8% (Vanguard), 6.4% "
           "(Pioneer), 3.5% (both): a gap of 3.2-8.5 points of baseline after five years.",
           "Morciano M et al. (2021) BMC Health Serv Res 21:682, doi 10.1186/s12913-021-06692-x"),
    Target("T8", "icb_provider_cooperating", "permissive", "range", 0.80, 0.95, 0.20, True,
           "share of ICB-NHS provider partnerships at the cooperating level or above, mean over months 13-36",
           "About 90% of ICS leaders said joint working improved or partners work collaboratively (2021/22, "
           "2022/23).",
           "NHS Confederation (2022, 2023) State of integrated care systems 2021/22 and 2022/23"),
    Target("T9a", "council_voice_ratio", "permissive", "range", 0.0, 0.5, 0.25, True,
           "councils' share of voice in their ICS divided by their share of budgets, mean over months 13-36",
           "Only 9 of 777 ICB board members were elected councillors (1.2%), well below councils' share of "
           "health and care spending.",
           "County Councils Network / IMPOWER (2023) The evolving role of county authorities in ICSs "
           "(secondary, via Integrated Care Journal)"),
    Target("T9b", "council_trust_gap", "permissive", "sign", -INF, 0.0, 0.02, True,
           "mean trust of councils in their ICB minus mean trust of NHS providers in it, over months 13-36",
           "18% of councils were confident their ICS had a clear process for tracking success: council-held "
           "trust in the ICB below NHS providers'.",
           "County Councils Network / IMPOWER (2023), as T9a"),
    Target("T12", "trust_asymmetry", "all", "sign", 0.0, INF, 0.1, True,
           "log(mean monthly fall / mean monthly rise) of trust over all ties that moved, pooled over the three "
           "scenarios (months 1-end); the parameters trust_build_rate and trust_erosion_rate are not read",
           "Trust is lost more easily than built: negative events outweigh positive ones.",
           "Slovic P (1993) Perceived risk, trust, and democracy. Risk Analysis 13(6):675-682; Poortinga W, "
           "Pidgeon NF (2004) Risk Analysis 24(6):1475-1486"),
    # ---------------------------------------------------------------- held out
    Target("T2b", "real_improvement_top_down", "top_down", "sign", 0.0, INF, 0.01, False,
           "mean true performance of league-table NHS providers over months 37-48 minus month 0",
           "Under the four-hour target real performance improved too, not only reported performance.",
           "Kelman S, Friedman JN (2009) Performance improvement and performance dysfunction. J Public Adm Res "
           "Theory 19(4):917-946"),
    Target("T3", "share_misreporting_top_down", "top_down", "range", 0.20, 0.35, 0.10, False,
           f"share of league-table NHS providers whose reported performance exceeds true by >= "
           f"{MISREPORT_THRESHOLD:g}, mean over months 25-48",
           "A third of ambulance trusts had staff altering response-time records (CHI 2003); 6 of 31 "
           "misreporting in a 2006 audit.",
           "BBC News 15 Sep 2003, 28 Feb 2003, 14 Aug 2006; Guardian 8 Aug 2002 (secondary, reporting CHI and "
           "DH audits)"),
    Target("T4", "targets_vs_permissive", "top_down", "sign", 0.0, INF, 0.01, False,
           "mean true performance of league-table NHS providers, top_down minus permissive, months 37-72",
           "England's sanction-backed targets cut long waits where Wales and Scotland's regimes did not "
           "(difference-in-differences; sign only).",
           "Propper C, Sutton M, Whitnall C, Windmeijer F (2010) J Public Econ 94:318-335; Besley T, Bevan G, "
           "Burchardi K (2009) CEPR DP7306; Bevan G, Hamblin R (2009) JRSS A 172:161-190"),
    Target("T5c", "segment_one_step_share", "earned_autonomy", "range", 0.5, 1.0, 0.1, False,
           "share of segment moves that are one step, quarters from month 12",
           "Most segment moves in 2025/26 were small: 24 of 38 non-significant score changes.",
           "NHS England (2025) NHS oversight framework: Q2 2025/26 segmentation changes"),
    Target("T7a", "trust_rise_early_permissive", "permissive", "sign", 0.0, INF, 0.01, False,
           "mean trust_mean over months 13-24 minus month 0",
           "More than 90% of Better Care Fund areas said joint working improved within 1-2 years.",
           "National Audit Office (2017) Health and social care integration (secondary, via ITV News 8 Feb 2017)"),
    Target("T7b", "admissions_change_early_permissive", "permissive", "range", -0.01, INF, 0.01, False,
           "(mean emergency_admissions over months 13-24 - month 0) / month 0",
           "...yet emergency admissions did not fall: 87,000 more instead of 106,000 fewer (2015/16).",
           "National Audit Office (2017), as T7a; Roland M et al. (2012) Int J Integr Care 12:e130"),
    Target("T11", "acute_performance_cv", "earned_autonomy", "range", 0.08, 0.16, 0.04, False,
           "coefficient of variation of true performance across acute trusts, mean over the last 12 months",
           "Wide spread across trusts (Q3 2018-19: 4 of 134 met 95%, 66 below 80%, 21 below 70%, 5 below 60%; "
           "a normal fit gives SD 8-11 points around 80%, CV about 0.10-0.14).",
           "Royce (2019) HSJ; HSJ Recovery Watch (2024) (secondary analyses of NHS England monthly data)"),
)

TARGETS_BY_ID = {t.id: t for t in TARGETS}
FITTED = tuple(t for t in TARGETS if t.fitted)
HELD_OUT = tuple(t for t in TARGETS if not t.fitted)
STATS = tuple(t.stat for t in TARGETS)


# ---------------------------------------------------------------------------- running the scenarios
def _window(series: np.ndarray, first: int, last: int) -> float:
    """Mean of series[first..last] (months, inclusive), clipped to the months run."""
    n = len(series) - 1
    lo, hi = min(first, n), min(last, n)
    if lo > hi or n == 0:
        return float(series[-1])
    return float(np.mean(series[lo:hi + 1]))


def run_scenario(params: dict, scenario: str, seed: int, months: int) -> dict:
    """Run one scenario month by month; return the raw series the statistics need."""
    from abm import ICSModel

    model = ICSModel(**{**params, **SCENARIOS[scenario]}, rng=seed, collect_agents=False)
    orgs, ties = model.orgs, model.ties
    league = orgs.in_league_table
    acute = orgs.is_kind("acute")
    providers = orgs.is_kind(*NHS_PROVIDERS)
    councils = orgs.is_kind("local_authority")
    to_icb = ties.active & orgs.is_icb[ties.dst]
    icb_provider = (orgs.is_icb[ties.src] & providers[ties.dst]) | (providers[ties.src] & orgs.is_icb[ties.dst])
    icb_provider_pairs = icb_provider[0::2]

    perf, misreport, coop, voice_ratio, trust_gap, cv, segments = [], [], [], [], [], [], []
    rise = fall = 0.0
    n_rise = n_fall = 0

    def observe():
        act = orgs.active & league
        gap = orgs.reported_performance - orgs.true_performance
        perf.append(float(orgs.true_performance[act].mean()) if act.any() else 0.0)
        misreport.append(float((gap[act] >= MISREPORT_THRESHOLD).mean()) if act.any() else 0.0)
        lvl = ties.level[0::2][icb_provider_pairs & ties.active[0::2]]
        coop.append(float((lvl >= 2).mean()) if lvl.size else 0.0)
        budget_share = orgs.budget[councils & orgs.active].sum() / max(orgs.budget[orgs.active].sum(), 1e-12)
        voice_share = orgs.voice[councils & orgs.active].sum() / max(orgs.voice[orgs.active].sum(), 1e-12)
        voice_ratio.append(float(voice_share / budget_share) if budget_share > 0 else 0.0)
        from_council = to_icb & councils[ties.src]
        from_provider = to_icb & providers[ties.src]
        trust_gap.append(float(ties.trust[from_council].mean() - ties.trust[from_provider].mean())
                         if from_council.any() and from_provider.any() else 0.0)
        a = orgs.true_performance[acute & orgs.active]
        cv.append(float(a.std() / a.mean()) if a.size > 1 and a.mean() > 0 else 0.0)

    observe()
    for month in range(1, months + 1):
        before = ties.trust.copy()
        model.run_for(1)
        d = (ties.trust - before)[ties.active]
        up, down = d[d > 1e-9], d[d < -1e-9]
        rise += float(up.sum())
        n_rise += up.size
        fall -= float(down.sum())
        n_fall += down.size
        observe()
        if month % 3 == 0 and month >= 12:
            segments.append(orgs.segment[league & orgs.active].astype(int).copy())
    metrics = model.datacollector.get_model_vars_dataframe()
    return {
        "gaming_gap": metrics["gaming_gap"].to_numpy(),
        "gaming_share": metrics["gaming_share"].to_numpy(),
        "emergency_admissions": metrics["emergency_admissions"].to_numpy(),
        "trust_mean": metrics["trust_mean"].to_numpy(),
        "perf": np.array(perf), "misreport": np.array(misreport), "coop": np.array(coop),
        "voice_ratio": np.array(voice_ratio), "trust_gap": np.array(trust_gap), "cv": np.array(cv),
        "segments": segments, "rise": rise, "n_rise": n_rise, "fall": fall, "n_fall": n_fall,
    }


def _churn(segments: list[np.ndarray]) -> tuple[float, float]:
    changed, one_step, moves = [], 0, 0
    for a, b in zip(segments, segments[1:]):
        if a.size == 0 or a.size != b.size:
            continue
        diff = np.abs(b - a)
        changed.append(float((diff > 0).mean()))
        moves += int((diff > 0).sum())
        one_step += int((diff == 1).sum())
    churn = float(np.mean(changed)) if changed else 0.0
    return churn, (one_step / moves if moves else 1.0)


def summary_statistics(runs: dict[str, dict]) -> dict[str, float]:
    """Every target's statistic from the three scenario runs of one particle."""
    td, pe, ea = runs["top_down"], runs["permissive"], runs["earned_autonomy"]
    early = _window(td["gaming_share"], 1, 12)
    late = _window(td["gaming_share"], 37, 48)
    base = td["emergency_admissions"][0] or 1.0
    gap = (td["emergency_admissions"] - pe["emergency_admissions"]) / base
    churn, one_step = _churn(ea["segments"])
    rise = sum(r["rise"] for r in runs.values()) / max(sum(r["n_rise"] for r in runs.values()), 1)
    fall = sum(r["fall"] for r in runs.values()) / max(sum(r["n_fall"] for r in runs.values()), 1)
    asymmetry = math.log(fall / rise) if rise > 0 and fall > 0 else 0.0
    pe_base = pe["emergency_admissions"][0] or 1.0
    stats = {
        "gaming_gap_top_down": _window(td["gaming_gap"], 25, 48),
        "gaming_growth_top_down": late / early if early > 1e-12 else 1.0,
        "segment_churn": churn,
        "admissions_gap_early": _window(gap, 1, 24),
        "admissions_gap_late": _window(gap, 49, 72),
        "icb_provider_cooperating": _window(pe["coop"], 13, 36),
        "council_voice_ratio": _window(pe["voice_ratio"], 13, 36),
        "council_trust_gap": _window(pe["trust_gap"], 13, 36),
        "trust_asymmetry": asymmetry,
        "real_improvement_top_down": _window(td["perf"], 37, 48) - float(td["perf"][0]),
        "share_misreporting_top_down": _window(td["misreport"], 25, 48),
        "targets_vs_permissive": _window(td["perf"] - pe["perf"], 37, 72),
        "segment_one_step_share": one_step,
        "trust_rise_early_permissive": _window(pe["trust_mean"], 13, 24) - float(pe["trust_mean"][0]),
        "admissions_change_early_permissive": (_window(pe["emergency_admissions"], 13, 24) - pe_base) / pe_base,
        "acute_performance_cv": _window(ea["cv"], len(ea["cv"]) - 12, len(ea["cv"]) - 1),
    }
    return {k: (float(v) if math.isfinite(v) else float("nan")) for k, v in stats.items()}


def simulate_targets(params: dict, seed: int, months: int) -> dict[str, float]:
    """Run the three scenarios with one seed and return every target's statistic."""
    runs = {name: run_scenario(params, name, seed, months) for name in SCENARIOS}
    return summary_statistics(runs)


def distance(stats: dict, targets=FITTED) -> float:
    """Root of the sum of squared scaled violations over ``targets`` (0: all inside their ranges)."""
    total = 0.0
    for t in targets:
        d = t.distance(stats.get(t.stat, float("nan")))
        if not math.isfinite(d):
            return math.inf
        total += d * d
    return math.sqrt(total)
