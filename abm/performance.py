"""Submodel: true and reported performance, and the system outcome.

True performance moves 20% a month towards a target set by effort on own
targets, pressure, the system's shared capability and improvement support.
Reported performance adds what gaming inflates (``gaming_inflation`` at full
gaming; Bevan & Hood 2006). The system outcome of an ICS is half the
budget-weighted true performance of its organisations and half its shared
capability, saturating (capability / (capability + CAPABILITY_HALF)).
"""

from __future__ import annotations

import numpy as np

CAPABILITY_HALF = 1.0   # assumption: capability at which half its contribution is reached
ADJUSTMENT = 0.2        # assumption: monthly adjustment of true performance
# assumption: a history of joint working (initial trust) has left some shared capability
INITIAL_CAPABILITY_PER_TRUST = 1.0
# assumption: before the run, organisations put about 70% of capacity into their own targets
INITIAL_OWN_SHARE = 0.7


def performance_target(orgs, capability, own_work):
    return np.clip(0.25 + 0.8 * own_work - 0.2 * orgs.pressure
                   + 0.3 * capability[orgs.system] + orgs.support, 0.0, 1.0)


def settle_performance(orgs, capability) -> None:
    """Start true and reported performance at the level the pre-run effort sustains."""
    orgs.true_performance[:] = performance_target(orgs, capability, INITIAL_OWN_SHARE * orgs.capacity)
    orgs.reported_performance[:] = orgs.true_performance


def capability_level(stock: np.ndarray) -> np.ndarray:
    return stock / (stock + CAPABILITY_HALF)


def update_performance(orgs, capability: np.ndarray, p: dict) -> None:
    target = performance_target(orgs, capability, orgs.own_work)
    orgs.true_performance += ADJUSTMENT * (target - orgs.true_performance)
    inflation = p["gaming_inflation"] * np.minimum(1.0, 2.0 * orgs.gaming_work)
    orgs.reported_performance[:] = np.minimum(1.0, orgs.true_performance + inflation)


def system_outcome(orgs, capability: np.ndarray) -> np.ndarray:
    w = orgs.budget * orgs.active
    perf = np.bincount(orgs.system, weights=w * orgs.true_performance, minlength=orgs.n_systems)
    total = np.bincount(orgs.system, weights=w, minlength=orgs.n_systems)
    mean_perf = np.divide(perf, total, out=np.zeros_like(perf), where=total > 0)
    return 0.5 * mean_perf + 0.5 * capability
