"""Submodel: turf, an organisation's protectiveness of budget, remit and identity.

Turf moves by ``turf_adjustment_rate`` a month towards a target: the
organisation's disposition x ``initial_turf``, raised by scrutiny, recent
sanctions, scarcity and perceived unfair sharing of joint benefits, lowered by
a record of shared wins and by a shared purpose (accountability on system
outcomes) (DOMAIN.md §2; Himmelman 2002; Vangen & Huxham 2003).
"""

from __future__ import annotations

import numpy as np

from .rules import register_rule


@register_rule("turf_target", "default")
def additive_turf_target(d, p):
    target = (
        d["base"]
        + p["turf_scrutiny_weight"] * d["scrutiny"]
        + p["turf_sanction_weight"] * d["sanctions"]
        + p["turf_scarcity_weight"] * (d["scarcity"] - 0.5)
        + p["turf_unfairness_weight"] * d["unfairness"]
        - p["turf_shared_win_weight"] * d["wins"]
        - p["turf_shared_purpose_weight"] * d["shared_purpose"]
    )
    return np.clip(target, 0.0, 1.0)


def scarcity(orgs, regime) -> np.ndarray:
    """Felt scarcity: pressure, buffered by flexible multi-year funding (assumption)."""
    return orgs.pressure * (1.0 - 0.5 * regime.funding_flexibility)


def update_turf(orgs, target, p) -> None:
    orgs.turf += p["turf_adjustment_rate"] * (target - orgs.turf)
    np.clip(orgs.turf, 0.0, 1.0, out=orgs.turf)
