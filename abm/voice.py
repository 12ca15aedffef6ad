"""Submodel: voice, the weight of each organisation in joint decisions.

Raw voice = budget ** ``voice_budget_exponent`` x statutory weight, shared
out within each ICS; facilitation and inclusion rules (``inclusion``) move it
towards an equal share (Ansell & Gash 2008). Acute trusts, with the largest
budgets, dominate by default (Peters et al. 2023: "health, in particular
hospitals, dominant").
"""

from __future__ import annotations

import numpy as np
from numba import njit


def update_voice(orgs, p: dict) -> None:
    raw = np.power(orgs.budget, p["voice_budget_exponent"])
    _update(raw=raw, statutory_weight=orgs.statutory_weight, active=orgs.active, system=orgs.system,
            inclusion=p["inclusion"], voice=orgs.voice, n_systems=orgs.n_systems)


@njit(cache=True)
def _update(raw, statutory_weight, active, system, inclusion, voice, n_systems):
    """Voice = (1 - inclusion) x share of the ICS's raw voice + inclusion x an equal share."""
    n = raw.size
    weight = np.empty(n)
    total = np.zeros(n_systems)
    count = np.zeros(n_systems)
    for i in range(n):
        weight[i] = raw[i] * statutory_weight[i] * active[i]
        total[system[i]] += weight[i]
        count[system[i]] += 1.0 if active[i] else 0.0
    for i in range(n):
        s = system[i]
        share = weight[i] / total[s] if total[s] > 0 else 0.0
        equal = (1.0 if active[i] else 0.0) / count[s] if count[s] > 0 else 0.0
        voice[i] = (1.0 - inclusion) * share + inclusion * equal


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    if n == 0 or v.sum() == 0:
        return 0.0
    cum = np.cumsum(v)
    return max(0.0, float((n + 1 - 2 * (cum / cum[-1]).sum()) / n))  # clip rounding below 0


def gini_by_group(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Gini coefficient of ``values`` within each group (0 for empty groups)."""
    order = np.lexsort((values, group))
    v, g = values[order], group[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(v.size) - starts[g] + 1.0
    totals = np.bincount(g, weights=v, minlength=n_groups)
    weighted = np.bincount(g, weights=rank * v, minlength=n_groups)
    n = counts.astype(float)
    ok = (totals > 0) & (n > 0)
    out = np.zeros(n_groups)
    out[ok] = 2.0 * weighted[ok] / (n[ok] * totals[ok]) - (n[ok] + 1.0) / n[ok]
    return np.maximum(out, 0.0)  # clip rounding below 0
