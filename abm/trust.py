"""Submodel: dyadic trust with asymmetric update and reputation damage.

Each month the trust of i in j moves towards what i observed of j:

- a kept commitment in joint work: where i put effort into the tie, the share
  of its capacity j put into joint work relative to i's own (half for a
  failed project; ``abm.joint_work``), which also updates i's smoothed record
  of j (``record_smoothing``; Kim 2009);
- reputation, where i did not work with j this month: j's success in joint
  work with others (good, weight ``reputation_weight`` x j's win rate);
- j caught gaming by a regulator this month, whether or not i worked with j
  (bad: an observation of 0 with weight ``reputation_weight`` x
  ``negativity_bias``, at most 1, times ``detection_publicity``: how far
  the detection reaches partners; 0 switches this distrust off).

The observation is the weighted mean of these, and the weight of the update
is their summed weight, at most 1.

Trust moves by ``trust_build_rate`` of the gap when the observation is
better and ``trust_erosion_rate`` when worse (Slovic 1993; Pant & Yu 2025
use 0.10 and 0.30), times the observation's weight (at most 1). Every fall
adds ``damage_gain`` of its size to a reputation-damage stock that decays by
``damage_decay`` a month, and trust cannot recover above ``1 - damage``
(Pant & Yu 2025). A successful joint project is a small win: it adds
``small_win_boost`` of the room left below the ceiling to both partners'
trust (Vangen & Huxham 2003).

The rule is one compiled loop over ties (``_update``); ``update_trust`` is the
registered rule the model calls. A modeller swaps it with a function of the
same signature (``abm.rules``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rules import register_rule

_TINY = 1e-12


@register_rule("trust_update", "default")
def update_trust(ties, result, caught: np.ndarray, p: dict) -> None:
    """Update ``ties.trust``, ``ties.damage`` and ``ties.record`` in place from this month's observations."""
    _update(src=ties.src, dst=ties.dst, trust=ties.trust, damage=ties.damage, record=ties.record,
            investment=ties.investment, kept_by_a=result.kept_by_a, kept_by_b=result.kept_by_b,
            success=result.success, win_rate=result.win_rate, caught=caught,
            record_smoothing=p["record_smoothing"], reputation_weight=p["reputation_weight"],
            bad_weight=min(1.0, p["reputation_weight"] * p["negativity_bias"]) * p["detection_publicity"],
            build_rate=p["trust_build_rate"], erosion_rate=p["trust_erosion_rate"],
            damage_gain=p["damage_gain"], damage_decay=p["damage_decay"],
            small_win_boost=p["small_win_boost"])


@njit(cache=True)
def _update(src, dst, trust, damage, record, investment, kept_by_a, kept_by_b, success, win_rate, caught,
            record_smoothing, reputation_weight, bad_weight, build_rate, erosion_rate, damage_gain,
            damage_decay, small_win_boost):
    for e in range(src.size):
        k = e >> 1
        kept = kept_by_a[k] if (e & 1) == 0 else kept_by_b[k]
        t = trust[e]
        d = damage[e]
        weight = 0.0
        total = 0.0
        if investment[e] > 0:
            record[e] += record_smoothing * (kept - record[e])
            weight = 1.0
            total = kept
        else:
            good = reputation_weight * win_rate[dst[e]]
            weight += good
            total += good
        if caught[dst[e]]:
            weight += bad_weight
        # (a weight of exactly 1, the usual case, leaves total as it is: dividing by 1 is exact, so skip it)
        obs = total if weight == 1.0 else (total / weight if weight > _TINY else 0.0)
        if weight > 1.0:
            weight = 1.0
        gap = obs - t
        rate = (build_rate if gap > 0 else erosion_rate) * weight
        new = t + rate * gap
        ceiling = 1.0 - d
        cap = ceiling if ceiling > t else t
        if new > cap:
            new = cap
        drop = t - new
        if drop < 0:
            drop = 0.0
        d = d * (1.0 - damage_decay) + damage_gain * drop
        new = min(max(new, 0.0), 1.0)
        d = min(max(d, 0.0), 1.0)
        if success[k]:
            room = 1.0 - d - new
            if room > 0:
                new += small_win_boost * room
        trust[e] = new
        damage[e] = d
