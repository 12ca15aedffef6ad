"""Compiled tie-level hot path.

The submodels in ``trust``, ``joint_work`` and ``continuum`` state each rule
with NumPy arrays; these kernels run the same equations in one compiled loop
over ties, without the dozens of large temporary arrays NumPy would allocate.
At England scale (42 ICSs with 60 VCSE providers each: about 37,000
partnerships) this makes a month several times faster. ``tests/test_kernels.py`` checks each kernel against the NumPy rule it
implements. A modeller who swaps a rule (``ICSModel(rules=...)``) gets the
NumPy path, which calls the new rule.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_TINY = 1e-12


@njit(cache=True)
def organisation_tie_summary(src, level, trust, record, active, n_orgs):
    """Per organisation: sum of levels of its ties, mean expected reciprocity, and whether it has partners.

    Expected reciprocity of a tie is the mean of trust and the record of kept commitments.
    """
    level_sum = np.zeros(n_orgs)
    expected = np.zeros(n_orgs)
    degree = np.zeros(n_orgs)
    partners = np.zeros(n_orgs)
    for e in range(src.size):
        if not active[e]:
            continue
        i = src[e]
        level_sum[i] += level[e]
        expected[i] += 0.5 * (trust[e] + record[e])
        degree[i] += 1.0
        if level[e] > 0:
            partners[i] = 1.0
    for i in range(n_orgs):
        if degree[i] > 0:
            expected[i] /= degree[i]
    return level_sum, expected, partners


@njit(cache=True)
def joint_projects(a, b, level, trust, joint_work, level_sum, effort_joint, voice, acute,
                   system_a, system_b, draws, convening, factor, effort_scale,
                   investment, n_orgs, n_systems):
    """Invest joint work by level, run one project per pair, and tally the results.

    Same equations as ``joint_work.invest``, ``joint_work.run_projects`` and
    ``joint_work.sharing_and_wins`` (before smoothing).
    """
    n_pairs = a.size
    success = np.zeros(n_pairs, dtype=np.bool_)
    attempted = np.zeros(n_pairs, dtype=np.bool_)
    kept_by_a = np.zeros(n_pairs)
    kept_by_b = np.zeros(n_pairs)
    share_a = np.zeros(n_pairs)
    inflow = np.zeros(n_systems)
    tried = np.zeros(n_orgs)
    won = np.zeros(n_orgs)
    unfair = np.zeros(n_orgs)
    acute_weight = 0.0
    for k in range(n_pairs):
        i = a[k]
        j = b[k]
        lv = level[2 * k]
        x_a = 0.0
        x_b = 0.0
        if lv > 0:
            if level_sum[i] > 0:
                x_a = joint_work[i] * lv / level_sum[i]
            if level_sum[j] > 0:
                x_b = joint_work[j] * lv / level_sum[j]
        investment[2 * k] = x_a
        investment[2 * k + 1] = x_b
        total_voice = voice[i] + voice[j]
        s_a = voice[i] / total_voice if total_voice > 0 else 0.0
        share_a[k] = s_a
        both = x_a * x_b
        ok = False
        if both > 0:
            attempted[k] = True
            tried[i] += 1.0
            tried[j] += 1.0
            mutual = np.sqrt(both)
            balance = min(x_a, x_b) / max(x_a, x_b)
            mutual_trust = min(trust[2 * k], trust[2 * k + 1])
            p = mutual / (mutual + effort_scale) * balance * (0.3 + 0.4 * mutual_trust + 0.3 * convening)
            ok = draws[k] < p
        delivered = 1.0 if ok else 0.5
        if x_b > 0:
            kept_by_a[k] = min(1.0, effort_joint[j] / max(effort_joint[i], _TINY)) * delivered
        if x_a > 0:
            kept_by_b[k] = min(1.0, effort_joint[i] / max(effort_joint[j], _TINY)) * delivered
        if ok:
            success[k] = True
            won[i] += 1.0
            won[j] += 1.0
            out = (x_a + x_b) * factor[lv]
            inflow[system_a[k]] += 0.5 * out
            inflow[system_b[k]] += 0.5 * out
            gap = x_a / (x_a + x_b) - s_a
            if gap > 0:
                unfair[i] += gap
            else:
                unfair[j] -= gap
            if acute[i]:
                acute_weight += s_a
            if acute[j]:
                acute_weight += 1.0 - s_a
    return success, attempted, kept_by_a, kept_by_b, share_a, inflow, tried, won, unfair, acute_weight


@njit(cache=True)
def update_trust(src, dst, trust, damage, record, investment, kept_by_a, kept_by_b, success,
                 win_rate, detected, record_smoothing, reputation_weight, bad_weight,
                 build_rate, erosion_rate, damage_gain, damage_decay, small_win_boost):
    """Observations and the asymmetric trust update with reputation damage, in place.

    Same equations as ``ICSModel._trust_observations`` followed by
    ``trust.asymmetric_trust_update`` and the small-win boost.
    """
    for e in range(src.size):
        k = e >> 1
        kept = kept_by_a[k] if (e & 1) == 0 else kept_by_b[k]
        observed = investment[e] > 0
        t = trust[e]
        d = damage[e]
        weight = 0.0
        total = 0.0
        if observed:
            record[e] += record_smoothing * (kept - record[e])
            weight = 1.0
            total = kept
        else:
            good = reputation_weight * win_rate[dst[e]]
            weight += good
            total += good
        if detected[dst[e]]:
            weight += bad_weight
        obs = total / weight if weight > _TINY else 0.0
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


@njit(cache=True)
def update_levels(a, b, trust, turf, level, attempted, table_pair, active, draws_up, draws_convene,
                  step, hysteresis, step_up_probability, convening):
    """Continuum levels of every pair, in place (same equations as ``continuum.update_levels``)."""
    for k in range(a.size):
        e = 2 * k
        if not active[e]:
            level[e] = 0
            level[e + 1] = 0
            continue
        lv = level[e]
        ready = min(trust[e], trust[e + 1]) * (1.0 - max(turf[a[k]], turf[b[k]]))
        new = lv
        if lv < 4 and ready >= (lv + 1) * step and (lv == 0 or attempted[k]) and draws_up[k] < step_up_probability:
            new += 1
        if lv > 0 and ready < lv * step - hysteresis:
            new -= 1
        if table_pair[k] and draws_convene[k] < convening and new < 1:
            new = 1
        level[e] = new
        level[e + 1] = new


@njit(cache=True)
def tie_metrics(trust, level, active, inclusion):
    """Sums for the monthly tie metrics in one pass.

    Returns (trust sum over active ties, active ties, pair counts by level 0-4,
    level sum and count of active ties on which councils or VCSE bodies take part).
    """
    trust_sum = 0.0
    n_active = 0
    counts = np.zeros(5, dtype=np.int64)
    incl_sum = 0.0
    incl_n = 0
    for e in range(trust.size):
        if not active[e]:
            continue
        trust_sum += trust[e]
        n_active += 1
        if (e & 1) == 0:
            counts[level[e]] += 1
        if inclusion[e]:
            incl_sum += level[e]
            incl_n += 1
    return trust_sum, n_active, counts, incl_sum, incl_n


@njit(cache=True)
def trust_by_organisation(src, dst, trust, active, n_orgs):
    """Mean trust each organisation gives its partners and receives from them (0 with no ties)."""
    given = np.zeros(n_orgs)
    received = np.zeros(n_orgs)
    n_given = np.zeros(n_orgs)
    n_received = np.zeros(n_orgs)
    for e in range(src.size):
        if not active[e]:
            continue
        given[src[e]] += trust[e]
        n_given[src[e]] += 1.0
        received[dst[e]] += trust[e]
        n_received[dst[e]] += 1.0
    for i in range(n_orgs):
        if n_given[i] > 0:
            given[i] /= n_given[i]
        if n_received[i] > 0:
            received[i] /= n_received[i]
    return given, received
