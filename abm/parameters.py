"""The one parameter table of the model.

Every model parameter is declared here once, with its default, allowed range,
unit, meaning and source. The model's constructor, the experiment files, the
browser view's controls, the error messages and the ODD's parameter table
(`python -m abm.parameters` prints it as Markdown) all read this table.
"""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    ``kind`` is ``"int"``, ``"float"``, ``"bool"``, ``"choice"``, ``"seed"`` or
    ``"ics"`` (names or codes of real ICSs, checked against ``abm/data``).
    A float regime knob whose default is ``None`` takes its value from the
    regime preset.
    """

    name: str
    default: Any
    kind: str
    low: float | None = None
    high: float | None = None
    unit: str = ""
    meaning: str = ""
    source: str = ""
    group: str = ""
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """Say in words which values are allowed."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "seed":
            return "a non-negative whole number or None"
        if self.kind == "ics":
            return "None, or the name or ONS/ODS code of one of the 42 ICSs (abm.england.names()), or a list of them"
        kind = "a whole number" if self.kind == "int" else "a number"
        text = f"{kind} in [{_fmt(self.low)}, {_fmt(self.high)}]"
        if self.default is None:
            text += " or None (take the regime preset's value)"
        return text

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ValueError."""
        if self.kind == "ics":
            from .england import canonical   # the names live in the data

            try:
                return canonical(value)
            except ValueError as exc:
                raise ValueError(f"parameter {self.name!r} got {value!r}: {exc}") from None
        if self.kind == "seed":
            if value is None:
                return None
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if isinstance(value, Integral) and not isinstance(value, bool) and value >= 0:
                return int(value)
            self._fail(value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            self._fail(value)
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            self._fail(value)
        if value is None and self.default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Real):
            self._fail(value)
        if self.kind == "int":
            if isinstance(value, Integral):
                value = int(value)
            elif float(value).is_integer():
                value = int(value)
            else:
                self._fail(value)
        else:
            value = float(value)
            if math.isnan(value):
                self._fail(value)
        if not (self.low <= value <= self.high):
            self._fail(value)
        return value

    def _fail(self, value: Any) -> None:
        raise ValueError(
            f"parameter {self.name!r} got {value!r}; allowed: {self.allowed()}"
        )


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}"


_SOURCES = {
    "register": "NHS trust register 2024/25 (NHS England organisation data)",
    "lga": "Local Government Association council figures",
}

# Regime knob names, in the order the presets list them.
REGIME_KNOBS = (
    "oversight_intensity",
    "system_focus",
    "sanction_severity",
    "prescriptiveness",
    "earned_autonomy",
    "funding_flexibility",
)

# Filled by abm.regimes (kept here so the choice list and the presets agree).
REGIME_NAMES = ("top_down", "permissive", "earned_autonomy", "system_oversight", "hands_off")

_TABLE: tuple[Parameter, ...] = (
    # --- structure -------------------------------------------------------
    Parameter("ics", None, "ics", unit="ICS", meaning="Build these real ICSs from data (a name, ONS or ODS code, or a list); None: the stylised n_systems. The trust and council counts below are then ignored; n_primary_care and n_vcse scale with population.", source="abm/data/ics_england.csv (abm/data/SOURCES.md)", group="structure"),
    Parameter("england", False, "bool", unit="flag", meaning="Build all 42 real ICSs of England from data (ics for every ICS); n_systems is then ignored.", source="abm/data/ics_england.csv (abm/data/SOURCES.md)", group="structure"),
    Parameter("n_systems", 1, "int", 1, 42, "ICSs", "Number of Integrated Care Systems in the model (42 is England).", "Since July 2022 England has 42 ICSs (Health and Care Act 2022; Peters et al. 2023)", "structure"),
    Parameter("n_acute", 3, "int", 0, 12, "per ICS", "Acute hospital trusts per ICS.", "median 3 (range 1-12), " + _SOURCES["register"], "structure"),
    Parameter("n_mental_health", 1, "int", 0, 3, "per ICS", "Mental-health (or combined MH/community) trusts per ICS.", "median 1 (range 0-3), " + _SOURCES["register"], "structure"),
    Parameter("mental_health_span", 1, "int", 1, 3, "ICSs", "How many neighbouring ICSs one mental-health trust serves.", "MH trusts often serve 2-3 ICSs, " + _SOURCES["register"], "structure"),
    Parameter("n_community", 1, "int", 0, 2, "per ICS", "Community-only trusts per ICS.", "range 0-2, " + _SOURCES["register"], "structure"),
    Parameter("ambulance_span", 4, "int", 1, 42, "ICSs", "How many neighbouring ICSs one ambulance trust serves.", "10 ambulance trusts each span about 4 ICSs, " + _SOURCES["register"], "structure"),
    Parameter("n_local_authorities", 4, "int", 1, 14, "per ICS", "Upper-tier councils per ICS; each is one place.", "mean 3.6 (range 1-14), " + _SOURCES["lga"] + "; place = council footprint (Peters et al. 2023)", "structure"),
    Parameter("n_vcse", 10, "int", 0, 3000, "per ICS", "Active VCSE providers per ICS (besides the one VCSE alliance).", "Assumption: a handful (5-20) of providers active at system level, out of about 3,000 charities per ICS (about 133,000 in England)", "structure"),
    Parameter("n_primary_care", 30, "int", 0, 100, "per ICS", "Primary care networks (GP practice groups) per ICS, spread over places.", "Assumption: about 1,250 PCNs in England / 42 ICSs (NHS England); weakly heard (Peters et al. 2023)", "structure"),
    Parameter("place_degree", 6.0, "float", 0, 50, "ties", "Mean number of partners a place-level organisation has inside its own place.", "Assumption (neighbourhood networks, Peters et al. 2023)", "structure"),
    Parameter("size_spread", 0.3, "float", 0, 1, "log-sd", "Spread of budgets within a kind (lognormal, mean 1).", "Assumption; trusts of one kind differ several-fold in turnover (NHS trust accounts)", "structure"),
    Parameter("leadership_spread", 0.3, "float", 0, 1, "log-sd", "Spread of leaderships' readiness to game and defend turf within a kind.", "Assumption", "structure"),
    Parameter("deficit_share", 0.45, "float", 0, 1, "share", "Chance an NHS provider is in deficit (pressure, segment no higher than 3).", "King's Fund, NHS in a nutshell: trusts in deficit (44-66% 2015/16-2018/19)", "structure"),
    Parameter("trust_spread", 0.1, "float", 0, 0.5, "0-1", "Spread of initial trust between pairs: how much prior joint working differs.", "Assumption", "initial state"),
    # --- initial state ----------------------------------------------------
    Parameter("initial_trust", 0.4, "float", 0, 1, "0-1", "Mean initial trust on every tie: a history of joint working.", "Assumption; 'history of working together' speeds progress (Peters et al. 2023)", "initial state"),
    Parameter("initial_turf", 0.5, "float", 0, 1, "0-1", "Mean initial turf; scaled by each kind's own defensiveness.", "Assumption (Himmelman 2002 'time, turf, trust')", "initial state"),
    Parameter("pressure", 0.5, "float", 0, 1, "0-1", "Baseline operational and financial pressure (demand against workforce and money).", "Assumption; short-term pressures impede transformation (Sansom 2024)", "initial state"),
    Parameter("deficit_pressure", 0.1, "float", 0, 0.5, "0-1", "Extra pressure on a body in deficit.", "Assumption", "initial state"),
    Parameter("winter_pressure", 0.15, "float", 0, 0.5, "0-1", "Amplitude of the seasonal winter rise in pressure and emergency admissions (peaks in January).", "Assumption (winter demand peaks in January)", "initial state"),
    # --- regime -------------------------------------------------------------
    Parameter("regime", "permissive", "choice", unit="preset", meaning="Named accountability regime; its knobs below can be overridden one by one.", source="Health and Care Act 2022; Hewitt 2023; Bevan & Hood 2006; King's Fund n.d.; preset knob values are assumptions", group="regime", choices=REGIME_NAMES),
    Parameter("oversight_intensity", None, "float", 0, 1, "0-1", "Regulators' effort: inspection budget, volume of national asks, forums mandated, and the chance and size of intensive support for the bottom segment.", "NHS England 2025 (NHS oversight framework); CQC inspection. Read only by the regulators", "regime"),
    Parameter("system_focus", None, "float", 0, 1, "0-1", "Weight of the system outcome (rather than reported organisational performance) in published scores; also how often the overseer sanctions the free-riders on joint work it inspects.", "Charles et al. 2018; Sansom 2024; Hewitt 2023. Read only by the overseer", "regime"),
    Parameter("sanction_severity", None, "float", 0, 1, "0-1", "How heavy a sanction is (intensive support, budget control, leadership change).", "NHS England 2025 (segment 4/5, mandated intensive support). Read only by the regulators", "regime"),
    Parameter("prescriptiveness", None, "float", 0, 1, "0-1", "How many and how detailed the overseer's national asks are: more compliance work, and a clearer shared steer for joint work.", "'excessive and unrealistic asks' (King's Fund n.d.). Read only by the overseer", "regime"),
    Parameter("earned_autonomy", None, "float", 0, 1, "0-1", "How much lighter oversight (fewer asks and inspections) top-segment organisations earn.", "NHS England 2025 ('more freedom' for top performers). Read only by the regulators", "regime"),
    Parameter("funding_flexibility", None, "float", 0, 1, "0-1", "How far national funding rules let the ICB pool money with its joint plan's members.", "Hewitt 2023 (multi-year flexible funding). Read only by the ICB", "regime"),
    # --- trust ----------------------------------------------------------------
    Parameter("trust_build_rate", 0.10, "float", 0, 1, "per month", "Share of the gap to a better observation closed each month.", "Pant & Yu 2025; Slovic 1993", "trust"),
    Parameter("trust_erosion_rate", 0.30, "float", 0, 1, "per month", "Share of the gap to a worse observation closed each month.", "Pant & Yu 2025; Slovic 1993", "trust"),
    Parameter("damage_gain", 0.5, "float", 0, 1, "share", "Share of each fall in trust added to the reputation-damage stock, which caps recovery.", "Pant & Yu 2025", "trust"),
    Parameter("damage_decay", 0.02, "float", 0, 1, "per month", "Monthly decay of the reputation-damage stock.", "Pant & Yu 2025 ('slowly decaying')", "trust"),
    Parameter("record_smoothing", 0.2, "float", 0, 1, "per month", "Weight of the newest observation in the smoothed record of kept commitments.", "Kim 2009", "trust"),
    Parameter("reputation_weight", 0.3, "float", 0, 1, "share", "Weight of a third party's observed behaviour in an observer's trust.", "Assumption (reputation from third parties' experience)", "trust"),
    Parameter("negativity_bias", 2.0, "float", 1, 10, "ratio", "How much more a bad act of a third party weighs than a good one.", "Slovic 1993 (bad acts weighted more)", "trust"),
    Parameter("detection_publicity", 1.0, "float", 0, 1, "0-1", "How far a detection of a body's gaming reaches its partners' trust (1: published and acted on as a bad act of weight reputation_weight x negativity_bias; 0: kept private, so partners never distrust a caught body).", "Assumption (inspection findings are published: Care Quality Commission 2017)", "trust"),
    Parameter("small_win_boost", 0.08, "float", 0, 0.5, "0-1", "Share of the room left below the damage ceiling that a successful joint project adds to both partners' trust.", "Vangen & Huxham 2003", "trust"),
    # --- turf -------------------------------------------------------------------
    Parameter("turf_adjustment_rate", 0.08, "float", 0, 1, "per month", "Share of the gap to its target turf an organisation closes each month.", "Assumption", "turf"),
    Parameter("turf_scrutiny_weight", 0.35, "float", 0, 2, "turf", "Rise in target turf at full felt scrutiny (national asks, inspections, a bottom-segment ranking).", "Bevan & Hood 2006 (silo-building)", "turf"),
    Parameter("turf_sanction_weight", 0.3, "float", 0, 2, "turf", "Rise in target turf per unit of recent sanctions.", "Assumption; Bevan & Hood 2006 (defensiveness under sanctions)", "turf"),
    Parameter("turf_scarcity_weight", 0.3, "float", 0, 2, "turf", "Rise in target turf under full pressure and scarcity.", "NAO 2022 (councils' spending power fell 26% 2010-11 to 2020-21)", "turf"),
    Parameter("turf_unfairness_weight", 0.6, "float", 0, 2, "turf", "Rise in target turf per unit of perceived unfair benefit sharing.", "Assumption; Huxham & Vangen 2005 (unfair sharing of benefits)", "turf"),
    Parameter("turf_shared_win_weight", 0.4, "float", 0, 2, "turf", "Fall in target turf from a record of shared wins.", "Vangen & Huxham 2003", "turf"),
    Parameter("turf_shared_purpose_weight", 0.25, "float", 0, 2, "turf", "Fall in target turf at full shared purpose (built by taking part in the ICB's joint plan).", "Sansom 2024 ('organising around a shared purpose'); Charles et al. 2018", "turf"),
    # --- continuum ----------------------------------------------------------------
    Parameter("readiness_step", 0.14, "float", 0.01, 0.3, "readiness", "Rise in readiness (mutual trust less turf) needed for each step of the continuum.", "Assumption after Himmelman 2002 / Dow 2015", "continuum"),
    Parameter("continuum_hysteresis", 0.08, "float", 0, 0.3, "readiness", "How far readiness must fall below a level's threshold before the tie steps down.", "Assumption (hysteresis: falling back takes more than failing to advance)", "continuum"),
    Parameter("step_up_probability", 0.15, "float", 0, 1, "per month", "Chance a ready tie steps up one level in a month.", "Assumption ('moving at the speed of trust', Charles 2018 as cited by Markwell 2023)", "continuum"),
    # --- capacity and effort ------------------------------------------------------
    Parameter("pressure_capacity_share", 0.5, "float", 0, 1, "share", "Share of management capacity that full pressure consumes.", "Repenning & Sterman 2001; Sansom 2024", "capacity"),
    Parameter("compliance_load", 0.2, "float", 0, 1, "share", "Management capacity (share of full capacity) taken by compliance under full intensity and prescriptiveness.", "King's Fund n.d. ('excessive and unrealistic asks'); size is an assumption", "capacity"),
    Parameter("choice_sharpness", 3.0, "float", 0, 50, "1/utility", "Logit sharpness of the effort choice (0 = random split).", "Bounded rationality; Macy & Flache 2002", "capacity"),
    Parameter("learning_rate", 0.05, "float", 0, 1, "per month", "Reinforcement of an effort line by satisfaction above aspiration.", "Macy & Flache 2002", "capacity"),
    Parameter("aspiration_adaptation", 0.05, "float", 0, 1, "per month", "Speed at which the aspiration level follows payoffs.", "Macy & Flache 2002", "capacity"),
    Parameter("myopia", 0.6, "float", 0, 1, "share", "How much pressure discounts the delayed payoff of joint work.", "Repenning & Sterman 2001 ('work harder, not smarter')", "capacity"),
    # --- joint work ---------------------------------------------------------------
    Parameter("collaborative_advantage", 1.6, "float", 0, 5, "ratio", "Joint output per unit of joint effort at the collaborating level (scaled down by level and overhead below it).", "Huxham & Vangen 2005", "joint work"),
    Parameter("stage_overhead", 0.4, "float", 0, 1, "share", "Share of joint effort lost to overhead at the earliest stage (falls with level).", "Huxham & Vangen 2005 (collaborative inertia)", "joint work"),
    Parameter("capability_delay", 36, "int", 1, 120, "months", "Lag before prevention work pays off (patient flow 6 months, workforce 12).", "Repenning & Sterman 2001; NAO 2022 (gains in 3-10 years)", "joint work"),
    Parameter("capability_half_output", 0.001, "float", 0.00001, 1, "output/org/month", "Joint output per organisation a month that, sustained, holds a channel's capability at one half (how fast joint work's value saturates).", "Assumption (about what the default ICS's partnerships complete in their first years, so capability sits mid-range)", "joint work"),
    Parameter("capability_decay", 0.03, "float", 0.001, 1, "per month", "Monthly decay of each channel's capability stock (staff move on, joint schemes lapse): it sets how fast capability follows joint output.", "Assumption (NHS staff turnover of about 10% a year and short-term funding of joint schemes: about a third lost in a year without renewal)", "joint work"),
    Parameter("flow_gain", 0.5, "float", 0, 2, "ratio", "Rise in discharge-support supply at full patient-flow capability.", "Assumption (joint discharge schemes)", "channels"),
    Parameter("workforce_gain", 0.5, "float", 0, 1, "share", "Share of vacancies avoided at full workforce capability.", "Assumption (King's Fund 2024, shared workforce across boundaries)", "channels"),
    Parameter("prevention_gain", 0.15, "float", 0, 0.5, "share", "Share of emergency admissions avoided at full prevention capability.", "Assumption; integration programmes show small, late effects on admissions", "channels"),
    Parameter("pooling_share", 0.25, "float", 0, 1, "share", "Share of budgets an ICB pools with its plan's members when funding is fully flexible.", "Assumption (section 75 pooled budgets; Better Care Fund)", "channels"),
    Parameter("facilitation_budget", 1.0, "float", 0, 20, "forums/month", "Pairs per ICS the ICB brings together each month on its own initiative.", "Assumption", "channels"),
    # --- gaming ---------------------------------------------------------------------
    Parameter("gaming_propensity", 0.3, "float", 0, 1, "0-1", "Readiness to inflate reported performance when scored on it.", "Bevan & Hood 2006", "gaming"),
    Parameter("gaming_leverage", 3.0, "float", 0, 10, "ratio", "How much more a unit of gaming moves a reported score than a unit of real improvement.", "Bevan & Hood 2006 (reported gains far cheaper than real ones); assumption", "gaming"),
    Parameter("gaming_saturation", 0.1, "float", 0.01, 1, "share", "Share of capacity spent gaming at which inflation (and the chance of detection) is full.", "Assumption", "gaming"),
    Parameter("gaming_inflation", 0.4, "float", 0, 1, "performance", "Inflation of reported over true performance at full gaming.", "Bevan & Hood 2006 (A&E 96% reported vs 77% surveyed)", "gaming"),
    Parameter("detection_probability", 0.6, "float", 0, 1, "per inspection", "Chance an inspection of a heavily gaming organisation detects it.", "Bevan & Hood 2006; size is an assumption", "gaming"),
    # --- oversight benefits ------------------------------------------------------------
    Parameter("inspection_capacity", 0.25, "float", 0, 1, "per month", "Share of covered bodies a regulator can inspect in a month at full intensity (less what improvement support uses).", "Assumption", "oversight"),
    Parameter("belief_learning_rate", 0.1, "float", 0.01, 1, "per month", "How fast organisations' beliefs about oversight follow what they see.", "Assumption (adaptive expectations)", "oversight"),
    Parameter("convening_strength", 0.5, "float", 0, 1, "0-1", "Forums the overseer mandates (4 per ICS a month at full strength and intensity): they force first contact.", "Provan & Milward 1995; Bitterman & Koliba 2020; size is an assumption", "oversight"),
    Parameter("free_rider_deterrence", 0.5, "float", 0, 1, "0-1", "Chance an inspected free-rider is sanctioned: by the inspector at every inspection (partnership working is part of being well led), by the overseer in proportion to the weight its scores give the system outcome.", "Care Quality Commission 2017 (well-led: working in partnership with other agencies); size is an assumption", "oversight"),
    Parameter("steer_strength", 0.5, "float", 0, 1, "0-1", "How much a clear steer shared by both partners (detailed national asks, received or relayed by the ICB's plan, or the plan's own purpose) cuts the coordination overhead of joint work, which lowers both a project's chance of success and its output.", "Charles et al. 2018 ('a stronger steer'); King's Fund n.d. (calls for more guidance); size is an assumption", "oversight"),
    Parameter("improvement_support", 0.5, "float", 0, 1, "0-1", "Performance support a body in intensive support receives (it uses the overseer's inspection capacity).", "NHS oversight framework (mandated intensive support)", "oversight"),
    # --- voice ---------------------------------------------------------------------------
    Parameter("inclusion", 0.0, "float", 0, 1, "0-1", "Facilitation and inclusion rules that even out voice (0 = voice by budget and role).", "Ansell & Gash 2008", "voice"),
    Parameter("voice_budget_exponent", 1.0, "float", 0, 2, "exponent", "How steeply voice rises with budget (0 = budget gives no voice).", "Peters et al. 2023 ('hospitals dominant')", "voice"),
    # --- run and data --------------------------------------------------------------------
    Parameter("collect_agents", True, "bool", unit="flag", meaning="Collect the organisation-level table every month.", source="-", group="data"),
    Parameter("collect_ics", False, "bool", unit="flag", meaning="Collect the per-ICS table (one row per ICS: outcome, collaboration, trust, turf, ...) every month.", source="-", group="data"),
    Parameter("collect_ties", False, "bool", unit="flag", meaning="Collect the tie-level table (trust, level) every month.", source="-", group="data"),
    Parameter("rng", None, "seed", unit="seed", meaning="Seed of the random number generator; the same seed gives the same run.", source="-", group="data"),
)

PARAMETERS: dict[str, Parameter] = {p.name: p for p in _TABLE}
DEFAULTS: dict[str, Any] = {p.name: p.default for p in _TABLE}


def suggest(name: str, candidates=None) -> str:
    """Return ' (did you mean ...?)' for a misspelt name, or ''."""
    candidates = list(PARAMETERS) if candidates is None else list(candidates)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_name(name: str, context: str = "parameter") -> None:
    """Raise TypeError for an unknown parameter name, suggesting the close match."""
    if name not in PARAMETERS:
        raise TypeError(f"unknown {context} {name!r}{suggest(name)}")


def validate_parameters(values: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    """Return the full, checked parameter set: defaults updated by ``values``.

    Raises TypeError for an unknown name and ValueError for a bad value.
    Regime knobs left at None keep None here; the model fills them from the preset.
    ``calibrated=True`` starts from the calibration posterior's central set
    (``abm.posterior``) instead of the table's defaults for the calibrated parameters.
    """
    given = dict(values or {})
    given.update(more)
    resolved = dict(DEFAULTS)
    calibrated = given.pop("calibrated", False)
    if not isinstance(calibrated, bool):
        raise ValueError(f"calibrated got {calibrated!r}; allowed: true or false")
    if calibrated:
        from .posterior import central   # the shipped ABC posterior (docs/calibration.md)

        resolved.update(central())
    for name, value in given.items():
        check_name(name)
        resolved[name] = PARAMETERS[name].validate(value)
    return resolved


def parameter_table_markdown() -> str:
    """The parameter table as Markdown (used in docs/ODD.md)."""
    lines = [
        "| name | default | range | unit | meaning | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in _TABLE:
        if p.kind == "choice":
            rng = ", ".join(p.choices)
        elif p.kind in ("bool", "seed", "ics"):
            rng = p.allowed()
        else:
            rng = f"{_fmt(p.low)}-{_fmt(p.high)}"
        default = "preset" if p.default is None and p.group == "regime" else p.default
        lines.append(f"| `{p.name}` | {default} | {rng} | {p.unit} | {p.meaning} | {p.source} |")
    return "\n".join(lines)


# `python -m abm.parameters` imports the package `abm` first, which imports this
# module, so runpy would warn that the module is already loaded before running
# it as __main__. Printing the table twice-loaded is harmless (it only reads the
# table), so that one warning, for this module only, is silenced.
warnings.filterwarnings("ignore", message=r"'abm\.parameters' found in sys\.modules", category=RuntimeWarning)

if __name__ == "__main__":  # pragma: no cover
    print(parameter_table_markdown())
