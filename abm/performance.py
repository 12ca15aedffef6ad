"""Submodel: true and reported performance.

True performance moves 20% a month towards a target set by effort on own
targets, pressure, improvement support and, for acute and ambulance trusts,
the beds that delayed discharges occupy (``abm.channels``). Reported
performance adds what gaming inflates: ``gaming_inflation`` once gaming takes
``gaming_saturation`` of an organisation's capacity, proportionally less
below (Bevan & Hood 2006).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numeric import clip01

ADJUSTMENT = 0.2        # assumption: monthly adjustment of true performance
BASE = 0.33             # assumption: performance with no effort at no pressure
FLOW_PENALTY = 0.15     # assumption: acute performance lost per reference level of delayed discharges above it
INITIAL_OWN_SHARE = 0.7  # assumption: before the run, organisations put about 70% of capacity into own targets


def performance_target(orgs, own_work, delays_over_reference) -> np.ndarray:
    """The level each organisation's true performance moves towards, given its work on own targets."""
    target = np.empty(orgs.pressure.size)
    _targets(own_work=own_work, pressure=orgs.pressure, support=orgs.support, is_flow_exposed=orgs.is_flow_exposed,
             delays_over_reference=delays_over_reference, system=orgs.system, target=target)
    return target


@njit(cache=True)
def _target(own_work, pressure, support, is_flow_exposed, delays_over_reference):
    beds = is_flow_exposed * FLOW_PENALTY * (delays_over_reference - 1.0)   # beds held by delayed discharges
    return clip01(BASE + 0.8 * own_work - 0.2 * pressure + support - beds)


@njit(cache=True)
def _targets(own_work, pressure, support, is_flow_exposed, delays_over_reference, system, target):
    for i in range(target.size):
        target[i] = _target(own_work[i], pressure[i], support[i], is_flow_exposed[i],
                            delays_over_reference[system[i]])


def settle_performance(orgs, delays_over_reference) -> None:
    """Start true and reported performance at the level the pre-run effort sustains."""
    orgs.true_performance[:] = performance_target(orgs, INITIAL_OWN_SHARE * orgs.capacity, delays_over_reference)
    orgs.reported_performance[:] = orgs.true_performance


def update_performance(orgs, delays_over_reference, p: dict) -> None:
    """True performance moves towards its target; reported performance adds what gaming inflates."""
    _update(true_performance=orgs.true_performance, reported_performance=orgs.reported_performance,
            own_work=orgs.own_work, gaming_work=orgs.gaming_work, pressure=orgs.pressure, support=orgs.support,
            is_flow_exposed=orgs.is_flow_exposed, delays_over_reference=delays_over_reference, system=orgs.system,
            gaming_inflation=p["gaming_inflation"], gaming_saturation=p["gaming_saturation"])


@njit(cache=True)
def _update(true_performance, reported_performance, own_work, gaming_work, pressure, support, is_flow_exposed,
            delays_over_reference, system, gaming_inflation, gaming_saturation):
    for i in range(true_performance.size):
        target = _target(own_work[i], pressure[i], support[i], is_flow_exposed[i], delays_over_reference[system[i]])
        true_performance[i] += ADJUSTMENT * (target - true_performance[i])
        inflation = gaming_inflation * min(1.0, gaming_work[i] / gaming_saturation)
        reported_performance[i] = min(1.0, true_performance[i] + inflation)
