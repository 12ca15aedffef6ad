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

    def _peer_rate(self, event: np.ndarray, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per organisation: the share of ``among`` peers (same kind) with ``event``, and whether any were ``among``."""
        k = self._kind_code
        hits = np.bincount(k, weights=event & among, minlength=self._n_kinds)
        base = np.bincount(k, weights=among, minlength=self._n_kinds)
        rate = np.divide(hits, base, out=np.zeros_like(hits), where=base > 0)
        return rate[k], (base > 0)[k]

    def _tally(self, name: str, found: np.ndarray, exposure: np.ndarray, rate: float) -> None:
        """Learn the chance that an inspection finds what is there: found / exposure, by kind, smoothed."""
        k = self._kind_code
        tally = self._tallies[name]
        tally[0] += rate * (np.bincount(k, weights=found, minlength=self._n_kinds) - tally[0])
        tally[1] += rate * (np.bincount(k, weights=exposure, minlength=self._n_kinds) - tally[1])
        seen = tally[1] > SEEN
        chance = np.minimum(1.0, np.divide(tally[0], tally[1], out=np.zeros(self._n_kinds), where=seen))
        belief = getattr(self, name)
        belief[seen[k]] = chance[k][seen[k]]

    def update(self, orgs, publication, rate: float, gaming_saturation: float) -> None:
        """Learn from this month's inspections, detections, sanctions and any league table."""
        active = orgs.active
        peer_inspected, _ = self._peer_rate(orgs.inspected, active)
        self.inspection += rate * (0.5 * orgs.inspected + 0.5 * peer_inspected - self.inspection)

        # detection and free-rider checks: running tallies of what inspections of peers found,
        # over how much there was to find; the belief is their ratio once something has been seen
        k = self._kind_code
        gaming = np.minimum(1.0, orgs.gaming_work / gaming_saturation) * orgs.inspected
        self._tally("detection", orgs.caught_gaming, gaming, rate)
        self._tally("free_rider", orgs.caught_free_riding, orgs.inspected & free_riders(orgs), rate)

        size = np.bincount(k, weights=orgs.sanction_size * orgs.sanctioned, minlength=self._n_kinds)
        count = np.bincount(k, weights=orgs.sanctioned, minlength=self._n_kinds)
        peer_size = np.divide(size, count, out=np.zeros_like(size), where=count > 0)[k]
        any_peer = (count > 0)[k]
        observed = np.where(orgs.sanctioned, (2.0 * orgs.sanction_size + peer_size) / 3.0, peer_size)
        self.sanction += rate * (orgs.sanctioned | any_peer) * (observed - self.sanction)

        if publication is not None and publication.published:
            league = orgs.in_league_table & active
            weight = min(1.0, 2.0 * publication.consequence_rate)
            self.org_stake += rate * league * (publication.org_weight * weight - self.org_stake)
            self.system_stake += rate * league * (publication.system_weight * weight - self.system_stake)
            icb = orgs.is_icb & active & orgs.covered_by("overseer")
            self.org_stake += rate * icb * (0.0 - self.org_stake)
            self.system_stake += rate * icb * (min(1.0, 2.0 * publication.icb_consequence_rate) - self.system_stake)
            publication.published = False
