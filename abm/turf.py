"""Submodel: turf, an organisation's protectiveness of budget, remit and identity.

Turf moves by ``turf_adjustment_rate`` a month towards a target: the
organisation's disposition x ``initial_turf``, raised by the scrutiny it has
felt (national asks, inspections, a bottom-segment ranking), its recent
sanctions, scarcity (pressure and deficit, eased by pooled money it shares)
and perceived unfair sharing of joint benefits; lowered by a record of shared
wins and by the shared purpose it has built in the ICB's joint plan
(Himmelman 2002; Vangen & Huxham 2003; Bevan & Hood 2006).
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


def drivers(orgs) -> dict[str, np.ndarray]:
    """What pushes each organisation's turf up or down, from what it has experienced."""
    return {
        "base": orgs.base_turf,
        "scrutiny": orgs.scrutiny,
        "sanctions": np.minimum(orgs.sanction_stock, 1.0),
        "scarcity": scarcity(orgs),
        "unfairness": orgs.unfairness,
        "wins": orgs.wins,
        "shared_purpose": orgs.shared_purpose,
    }


def scarcity(orgs) -> np.ndarray:
    """Felt scarcity: pressure and deficit, eased by pooled money shared through the ICB's plan."""
    return np.clip((orgs.pressure + 0.2 * orgs.in_deficit) * (1.0 - orgs.pooled_relief), 0.0, 1.0)


def update_turf(orgs, target, p) -> None:
    orgs.turf += p["turf_adjustment_rate"] * (target - orgs.turf)
    np.clip(orgs.turf, 0.0, 1.0, out=orgs.turf)
