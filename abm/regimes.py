"""Accountability regimes: named points in a space of oversight knobs.

A regime is only a set of knob values. What a regime *does* is decided by the
agent-level mechanisms that read these knobs (inspection, scoring, compliance,
sanctions, convening, the organisations' effort choices); no outcome is written
in here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .parameters import PARAMETERS, REGIME_KNOBS, REGIME_NAMES, check_name


@dataclass(frozen=True)
class Regime:
    """One accountability regime (all knobs in [0, 1])."""

    name: str
    oversight_intensity: float
    system_focus: float
    sanction_severity: float
    prescriptiveness: float
    earned_autonomy: float
    funding_flexibility: float
    description: str = ""

    def knobs(self) -> dict[str, float]:
        """The knob values as a dict."""
        d = asdict(self)
        return {k: d[k] for k in REGIME_KNOBS}

    def with_knobs(self, **knobs: float | None) -> "Regime":
        """A copy with some knobs overridden (None leaves a knob as it is)."""
        checked = {}
        for key, value in knobs.items():
            if key not in REGIME_KNOBS:
                check_name(key, "regime knob")
                raise TypeError(f"{key!r} is a model parameter, not a regime knob; knobs are {', '.join(REGIME_KNOBS)}")
            if value is not None:
                checked[key] = PARAMETERS[key].validate(value)
        if not checked:
            return self
        return replace(self, **checked)


REGIMES: dict[str, Regime] = {
    "top_down": Regime(
        "top_down", 0.8, 0.2, 0.8, 0.8, 0.2, 0.2,
        "Frequent inspection, organisational targets and league tables, prescriptive asks, "
        "heavy sanctions (Bevan & Hood 2006; seed 004).",
    ),
    "permissive": Regime(
        "permissive", 0.25, 0.7, 0.2, 0.2, 0.5, 0.8,
        "Local discretion, few national targets, system-wide outcome metrics, mutual "
        "accountability, flexible funding (Health and Care Act 2022; Hewitt Review 2023).",
    ),
    "earned_autonomy": Regime(
        "earned_autonomy", 0.5, 0.5, 0.5, 0.4, 1.0, 0.6,
        "Moderate oversight; top-segment organisations earn much lighter oversight "
        "(NHS oversight framework 2025/26).",
    ),
    "system_oversight": Regime(
        "system_oversight", 0.8, 0.8, 0.6, 0.5, 0.3, 0.6,
        "Strong oversight held on system metrics: mandated collaboration "
        "(Provan & Milward 1995; Bitterman & Koliba 2020).",
    ),
    "hands_off": Regime(
        "hands_off", 0.05, 0.5, 0.1, 0.1, 0.5, 0.5,
        "Almost no oversight: a reference point for the benefits oversight brings.",
    ),
}

assert tuple(REGIMES) == REGIME_NAMES, "regime presets and parameter choices disagree"


def resolve_regime(regime: str | Regime, **knobs: float | None) -> Regime:
    """Return the preset named ``regime`` (or the Regime given) with knobs overridden."""
    if isinstance(regime, Regime):
        base = regime
    else:
        base = REGIMES[PARAMETERS["regime"].validate(regime)]
    return base.with_knobs(**knobs)
