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

ADJUSTMENT = 0.2        # assumption: monthly adjustment of true performance
BASE = 0.33             # assumption: performance with no effort at no pressure
FLOW_PENALTY = 0.15     # assumption: acute performance lost per reference level of delayed discharges above it
INITIAL_OWN_SHARE = 0.7  # assumption: before the run, organisations put about 70% of capacity into own targets


def performance_target(orgs, own_work, delays_over_reference):
    beds = orgs.is_flow_exposed * FLOW_PENALTY * (delays_over_reference[orgs.system] - 1.0)
    return np.clip(BASE + 0.8 * own_work - 0.2 * orgs.pressure + orgs.support - beds, 0.0, 1.0)


def settle_performance(orgs, delays_over_reference) -> None:
    """Start true and reported performance at the level the pre-run effort sustains."""
    orgs.true_performance[:] = performance_target(orgs, INITIAL_OWN_SHARE * orgs.capacity, delays_over_reference)
    orgs.reported_performance[:] = orgs.true_performance


def update_performance(orgs, delays_over_reference, p: dict) -> None:
    target = performance_target(orgs, orgs.own_work, delays_over_reference)
    orgs.true_performance += ADJUSTMENT * (target - orgs.true_performance)
    inflation = p["gaming_inflation"] * np.minimum(1.0, orgs.gaming_work / p["gaming_saturation"])
    orgs.reported_performance[:] = np.minimum(1.0, orgs.true_performance + inflation)
