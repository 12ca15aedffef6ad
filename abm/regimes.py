"""Accountability regimes: named points in a space of oversight knobs.

A regime is only a set of knob values. What a regime *does* is what the
agents that read these knobs do with them: the regulators (``agents.regulator``:
national asks, inspections, detection, sanctions, league tables and segments,
intensive support, mandated forums) and the ICB (``agents.icb``: pooling money
where funding rules allow). Organisations never read a knob; they respond to
what happened to them and their peers (``abm.beliefs``). No outcome is written
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
        "Frequent inspection, league tables scored mostly on reported organisational performance, "
        "many detailed national asks, heavy sanctions, little pooling (Bevan & Hood 2006; "
        "King's Fund n.d.).",
    ),
    "permissive": Regime(
        "permissive", 0.25, 0.7, 0.2, 0.2, 0.5, 0.8,
        "Light inspection, few and less detailed asks, scores weighted on the system outcome, "
        "light sanctions, pooled budgets (Health and Care Act 2022; Hewitt 2023).",
    ),
    "earned_autonomy": Regime(
        "earned_autonomy", 0.5, 0.5, 0.5, 0.4, 1.0, 0.6,
        "Moderate oversight; top-segment organisations get no asks and no inspections "
        "(NHS England 2025, NHS oversight framework 2025/26).",
    ),
    "system_oversight": Regime(
        "system_oversight", 0.8, 0.8, 0.6, 0.5, 0.3, 0.6,
        "Frequent inspection and many mandated forums, with scores weighted on the system outcome "
        "and free-riding checked (Provan & Milward 1995; Bitterman & Koliba 2020).",
    ),
    "hands_off": Regime(
        "hands_off", 0.05, 0.5, 0.1, 0.1, 0.5, 0.5,
        "Almost no inspection, asks, forums or sanctions: a reference point for what oversight brings.",
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
