"""Submodel: what organisations believe about oversight, learned from what they see.

Organisations never read the regime's settings. Each holds six beliefs, each
a running average (``belief_learning_rate`` a month) of what happened to it
and to its peers (bodies of the same kind, whose inspections, detections,
sanctions and segments are published):

- ``inspection``: the chance of an inspection in a month (half its own
  experience, half the share of its peers inspected);
- ``detection``: the chance an inspection of a body like it finds gaming if
  it games (detections among inspected peers, per unit of their gaming:
  how much a body games is known in its sector, if not to the regulator;
  Bevan & Hood 2006);
- ``sanction``: how heavy a sanction is (the size of the sanctions it and its
  peers received; its own counts double);
- ``free_rider``: the chance an inspection sanctions a free-rider (the share
  of inspected peers who put little into joint work, as their partners
  could see, that were sanctioned for it);
- ``org_stake`` and ``system_stake``: how much its own published score and
  the system outcome matter (at each league table: the weight the overseer
  published for each, times how often the table brought a consequence to
  bodies ranked in it, doubled and capped at 1). ICBs learn from their own
  assessment, on the system outcome.

Bodies that nobody inspects or ranks (VCSE bodies, Healthwatch) start with
beliefs of zero and see nothing happen to themselves or their peers, so their
beliefs stay at zero, whatever the regime.
Priors at month 0 are the same for every covered body (``BELIEF_PRIORS``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agents.regulator import free_riders

SEEN = 0.01  # assumption: a body judges detection once its peers' inspected gaming (or free-riding) averages a hundredth of a saturated case a month
NAMES = ("inspection", "detection", "sanction", "free_rider", "org_stake", "system_stake")
# assumption: what a covered body believes at the start, before it has seen the regime at work
BELIEF_PRIORS = {"inspection": 0.1, "detection": 0.3, "sanction": 0.5, "free_rider": 0.1,
                 "org_stake": 0.3, "system_stake": 0.2}


class Beliefs:
    """One array per belief, one row per organisation."""

    def __init__(self, orgs):
        covered = orgs.covered_by("overseer") | orgs.covered_by("inspector")
        ranked = orgs.covered_by("overseer")
        self.n = orgs.n
        for name in NAMES:
            prior = BELIEF_PRIORS[name] * (ranked if name.endswith("stake") else covered)
            setattr(self, name, prior.astype(float))
        self._kind_code = np.unique(orgs.kind, return_inverse=True)[1]
        self._n_kinds = int(self._kind_code.max()) + 1 if orgs.n else 0
        # running tallies per kind (found, exposure) behind the detection and free-rider beliefs
        self._tallies = {name: np.zeros((2, self._n_kinds)) for name in ("detection", "free_rider")}

    def of(self, index: int) -> dict[str, float]:
        return {name: float(getattr(self, name)[index]) for name in NAMES}

    def update(self, orgs, publication, rate: float, gaming_saturation: float) -> None:
        """Learn from this month's inspections, detections, sanctions and any league table.

        What peers saw is counted by kind; the monthly learning is one compiled loop (``_learn``).
        """
        _learn(kind=self._kind_code, n_kinds=self._n_kinds, active=orgs.active, inspected=orgs.inspected,
               caught_gaming=orgs.caught_gaming, caught_free_riding=orgs.caught_free_riding,
               free_riding=free_riders(orgs), gaming_work=orgs.gaming_work, gaming_saturation=gaming_saturation,
               sanctioned=orgs.sanctioned, sanction_size=orgs.sanction_size, rate=rate,
               inspection=self.inspection, detection=self.detection, free_rider=self.free_rider,
               sanction=self.sanction, detection_tally=self._tallies["detection"],
               free_rider_tally=self._tallies["free_rider"])

        if publication is not None and publication.published:
            active = orgs.active
            league = orgs.in_league_table & active
            weight = min(1.0, 2.0 * publication.consequence_rate)
            self.org_stake += rate * league * (publication.org_weight * weight - self.org_stake)
            self.system_stake += rate * league * (publication.system_weight * weight - self.system_stake)
            icb = orgs.is_icb & active & orgs.covered_by("overseer")
            self.org_stake += rate * icb * (0.0 - self.org_stake)
            self.system_stake += rate * icb * (min(1.0, 2.0 * publication.icb_consequence_rate) - self.system_stake)
            publication.published = False


@njit(cache=True)
def _learn(kind, n_kinds, active, inspected, caught_gaming, caught_free_riding, free_riding, gaming_work,
           gaming_saturation, sanctioned, sanction_size, rate, inspection, detection, free_rider, sanction,
           detection_tally, free_rider_tally):
    """One month's learning about inspection, detection, free-rider checks and sanctions.

    First, per kind, what happened to the peers: the share of active bodies inspected;
    detections over the gaming that inspections could find (each inspected body's gaming,
    saturating at ``gaming_saturation``); free-riders sanctioned over inspected free-riders
    (both as running tallies, smoothed by ``rate``, the belief being their ratio once the
    exposure passes ``SEEN``); and the mean size of the sanctions peers received. Then each
    body moves its beliefs by ``rate`` towards what it and its peers saw (its own inspection
    counts half; its own sanction counts double).
    """
    inspected_peers = np.zeros(n_kinds)
    active_peers = np.zeros(n_kinds)
    detections = np.zeros(n_kinds)
    gaming_inspected = np.zeros(n_kinds)
    free_riders_caught = np.zeros(n_kinds)
    free_riders_inspected = np.zeros(n_kinds)
    sanction_total = np.zeros(n_kinds)
    sanctions = np.zeros(n_kinds)
    for i in range(kind.size):
        k = kind[i]
        inspected_peers[k] += inspected[i] and active[i]
        active_peers[k] += active[i]
        detections[k] += caught_gaming[i]
        gaming_inspected[k] += min(1.0, gaming_work[i] / gaming_saturation) * inspected[i]
        free_riders_caught[k] += caught_free_riding[i]
        free_riders_inspected[k] += inspected[i] and free_riding[i]
        sanction_total[k] += sanction_size[i] * sanctioned[i]
        sanctions[k] += sanctioned[i]
    peer_inspected = np.zeros(n_kinds)
    peer_size = np.zeros(n_kinds)
    detection_seen = np.zeros(n_kinds, dtype=np.bool_)
    free_rider_seen = np.zeros(n_kinds, dtype=np.bool_)
    detection_chance = np.zeros(n_kinds)
    free_rider_chance = np.zeros(n_kinds)
    for k in range(n_kinds):
        if active_peers[k] > 0:
            peer_inspected[k] = inspected_peers[k] / active_peers[k]
        if sanctions[k] > 0:
            peer_size[k] = sanction_total[k] / sanctions[k]
        detection_tally[0, k] += rate * (detections[k] - detection_tally[0, k])
        detection_tally[1, k] += rate * (gaming_inspected[k] - detection_tally[1, k])
        detection_seen[k] = detection_tally[1, k] > SEEN
        if detection_seen[k]:
            detection_chance[k] = min(1.0, detection_tally[0, k] / detection_tally[1, k])
        free_rider_tally[0, k] += rate * (free_riders_caught[k] - free_rider_tally[0, k])
        free_rider_tally[1, k] += rate * (free_riders_inspected[k] - free_rider_tally[1, k])
        free_rider_seen[k] = free_rider_tally[1, k] > SEEN
        if free_rider_seen[k]:
            free_rider_chance[k] = min(1.0, free_rider_tally[0, k] / free_rider_tally[1, k])
    for i in range(kind.size):
        k = kind[i]
        inspection[i] += rate * (0.5 * inspected[i] + 0.5 * peer_inspected[k] - inspection[i])
        if detection_seen[k]:
            detection[i] = detection_chance[k]
        if free_rider_seen[k]:
            free_rider[i] = free_rider_chance[k]
        observed = (2.0 * sanction_size[i] + peer_size[k]) / 3.0 if sanctioned[i] else peer_size[k]
        sanction[i] += rate * (sanctioned[i] or sanctions[k] > 0) * (observed - sanction[i])
