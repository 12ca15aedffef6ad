"""Submodel: regulators applying the accountability regime.

Demands (before organisations choose their effort):
- compliance: covered organisations spend ``compliance_load`` x intensity x
  (0.25 + 0.75 x prescriptiveness) of their capacity on national asks, less
  by their earned autonomy; organisations in segment 4 spend a further
  0.1 x intensity on intensive support (capped at 90% of capacity);
- scrutiny felt (a turf driver): intensity x relief x (1 - system_focus / 2):
  accountability held on system metrics spreads scrutiny over the partnership;
- inspection chance: combined over regulators (``Regulator.inspection_rate``).

Acts (after performance is known): inspections detect gaming (detected
gaming is a sanction, and reported performance is corrected); every
``review_interval`` months the overseer places organisations in segments
(top segment earns autonomy; an organisation in segment 4 enters intensive
support with chance intensity, a sanction that brings improvement support) and sanctions free-riders:
covered organisations putting under half their ICS's mean effort into joint
work, caught with chance intensity x system_focus x ``free_rider_deterrence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPPORT_PER_REVIEW = 0.1   # assumption: performance support from one quarter of intensive support, at full strength
INTENSIVE_SUPPORT_LOAD = 0.1  # assumption: capacity taken by intensive support at full intensity


@dataclass
class OversightDemands:
    covered: np.ndarray          # overseen by at least one regulator
    inspection_rate: np.ndarray  # chance of at least one inspection this month


def demands(model) -> OversightDemands:
    """Set each organisation's compliance work, discretionary capacity and felt scrutiny."""
    orgs, regime, p = model.orgs, model.regime, model.p
    covered = np.zeros(orgs.n, dtype=bool)
    not_inspected = np.ones(orgs.n)
    for regulator in model.regulators:
        covered |= regulator.covers(model)
        not_inspected *= 1.0 - regulator.inspection_rate(model)
    relief = 1.0 - regime.earned_autonomy * orgs.autonomy
    asks = p["compliance_load"] * regime.oversight_intensity * (0.25 + 0.75 * regime.prescriptiveness) * relief
    intensive = INTENSIVE_SUPPORT_LOAD * regime.oversight_intensity * (orgs.segment == 4)
    orgs.compliance[:] = np.minimum(covered * asks + intensive, 0.9 * orgs.capacity)
    orgs.discretionary[:] = (orgs.capacity - orgs.compliance) * orgs.active
    orgs.scrutiny[:] = covered * regime.oversight_intensity * relief * (1.0 - regime.system_focus / 2.0)
    return OversightDemands(covered, 1.0 - not_inspected)


def act(model, covered: np.ndarray) -> np.ndarray:
    """Inspect, detect gaming, review segments and sanction; return the gaming-detected mask."""
    orgs, regime, p, rng = model.orgs, model.regime, model.p, model.rng
    inspected = np.zeros(orgs.n, dtype=bool)
    detected = np.zeros(orgs.n, dtype=bool)
    for regulator in model.regulators:
        by_this, caught_gaming = regulator.inspect(model)
        inspected |= by_this
        detected |= caught_gaming
    orgs.inspected[:] = inspected
    orgs.gaming_detected[:] = detected
    orgs.reported_performance[detected] = orgs.true_performance[detected]
    sanctioned = detected.copy()

    overseer = model.regulators[0] if model.regulators else None
    if overseer is not None and hasattr(overseer, "segment") and model.month % overseer.review_interval == 0:
        orgs.segment[:] = overseer.segment(model)
        orgs.autonomy[:] = orgs.segment == 1
        intensive = (orgs.segment == 4) & (rng.random(orgs.n) < regime.oversight_intensity)
        orgs.support[intensive] += p["improvement_support"] * regime.oversight_intensity * SUPPORT_PER_REVIEW
        sanctioned |= intensive
        active = orgs.active
        n_in_system = np.maximum(np.bincount(orgs.system, weights=active, minlength=orgs.n_systems), 1)
        system_mean = np.bincount(orgs.system, weights=orgs.joint_work * active, minlength=orgs.n_systems) / n_in_system
        free_riding = covered & (orgs.joint_work < 0.5 * system_mean[orgs.system])
        chance = regime.oversight_intensity * regime.system_focus * p["free_rider_deterrence"]
        sanctioned |= free_riding & (rng.random(orgs.n) < chance)
    orgs.sanctioned[:] = sanctioned & orgs.active
    orgs.sanction_stock[orgs.sanctioned] += regime.sanction_severity
    return detected
