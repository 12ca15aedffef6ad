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
from numba import njit

from .numeric import clip01

from .rules import register_rule


DRIVERS = ("base", "scrutiny", "sanctions", "scarcity", "unfairness", "wins", "shared_purpose")


@register_rule("turf_target", "default")
def additive_turf_target(d, p):
    """base + scrutiny, sanctions, scarcity (from 0.5) and unfairness, less wins and shared purpose, each by
    its ``turf_*_weight``; clipped to [0, 1]. One compiled loop (``_additive_target``) over the
    organisations; drivers given as numbers or other shapes are broadcast to one float array each."""
    values = [d[name] for name in DRIVERS]
    shape = None
    if all(isinstance(v, np.ndarray) and v.dtype == np.float64 and v.ndim == 1 for v in values):
        shape = values[0].shape
        if any(v.shape != shape for v in values):
            shape = None
    if shape is None:   # numbers or mixed shapes: broadcast, as NumPy's arithmetic would
        values = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
        shape = values[0].shape
        values = [np.ascontiguousarray(v).reshape(-1) for v in values]
    target = np.empty(values[0].size)
    _additive_target(**dict(zip(DRIVERS, values)), target=target,
                     scrutiny_weight=p["turf_scrutiny_weight"], sanction_weight=p["turf_sanction_weight"],
                     scarcity_weight=p["turf_scarcity_weight"], unfairness_weight=p["turf_unfairness_weight"],
                     shared_win_weight=p["turf_shared_win_weight"],
                     shared_purpose_weight=p["turf_shared_purpose_weight"])
    return target.reshape(shape)


@njit(cache=True)
def _additive_target(base, scrutiny, sanctions, scarcity, unfairness, wins, shared_purpose, scrutiny_weight,
                     sanction_weight, scarcity_weight, unfairness_weight, shared_win_weight, shared_purpose_weight,
                     target):
    """The additive target of each organisation, summed term by term in the rule's order."""
    for i in range(target.size):
        t = base[i] + scrutiny_weight * scrutiny[i]
        t = t + sanction_weight * sanctions[i]
        t = t + scarcity_weight * (scarcity[i] - 0.5)
        t = t + unfairness_weight * unfairness[i]
        t = t - shared_win_weight * wins[i]
        t = t - shared_purpose_weight * shared_purpose[i]
        target[i] = clip01(t)


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
    felt = np.empty(orgs.pressure.size)
    _scarcity(pressure=orgs.pressure, in_deficit=orgs.in_deficit, pooled_relief=orgs.pooled_relief, scarcity=felt)
    return felt


@njit(cache=True)
def _scarcity(pressure, in_deficit, pooled_relief, scarcity):
    for i in range(scarcity.size):
        scarcity[i] = clip01((pressure[i] + 0.2 * in_deficit[i]) * (1.0 - pooled_relief[i]))


def update_turf(orgs, target, p) -> None:
    """Turf moves by ``turf_adjustment_rate`` of the way to its target, in place."""
    if not (isinstance(target, np.ndarray) and target.dtype == np.float64 and target.shape == orgs.turf.shape):
        target = np.broadcast_to(np.asarray(target, dtype=float), orgs.turf.shape)   # a rule may return a number
    _update(turf=orgs.turf, target=target, rate=p["turf_adjustment_rate"])


@njit(cache=True)
def _update(turf, target, rate):
    for i in range(turf.size):
        turf[i] = clip01(turf[i] + rate * (target[i] - turf[i]))
