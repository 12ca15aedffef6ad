"""Submodel: the partnering continuum of each tie, with hysteresis.

Levels: 0 none, 1 connecting, 2 cooperating, 3 coordinating, 4 collaborating
(Himmelman 2002; Dow 2015). A pair's readiness is its mutual trust (the lower
of the two directions) x (1 - the higher of the two turfs): each step asks
more trust and more willingness to share turf. Level k needs readiness at
least ``k x readiness_step``. A ready pair steps up one level with chance
``step_up_probability`` a month, and beyond connecting only if both invested
joint effort this month (a joint project was attempted). A pair steps down
one level when readiness falls below its level's threshold less
``continuum_hysteresis``. A pair whose ICB forum meets this month is at
least connecting: a forum forces first contact, not trust (Provan & Milward
1995). The rule is one compiled loop over pairs.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def update_levels(ties, turf: np.ndarray, attempted: np.ndarray, convened: np.ndarray, draws: np.ndarray,
                  p: dict) -> None:
    """Step every pair's level up or down, in place (``draws``: one uniform number per pair)."""
    _update(a=ties.a, b=ties.b, trust=ties.trust, turf=turf, level=ties.level, attempted=attempted,
            convened=convened, active=ties.active, draws=draws, step=p["readiness_step"],
            hysteresis=p["continuum_hysteresis"], step_up_probability=p["step_up_probability"])


@njit(cache=True)
def _update(a, b, trust, turf, level, attempted, convened, active, draws, step, hysteresis, step_up_probability):
    for k in range(a.size):
        e = 2 * k
        if not active[e]:
            level[e] = 0
            level[e + 1] = 0
            continue
        lv = level[e]
        ready = min(trust[e], trust[e + 1]) * (1.0 - max(turf[a[k]], turf[b[k]]))
        new = lv
        if lv < 4 and ready >= (lv + 1) * step and (lv == 0 or attempted[k]) and draws[k] < step_up_probability:
            new += 1
        if lv > 0 and ready < lv * step - hysteresis:
            new -= 1
        if convened[k] and new < 1:
            new = 1
        level[e] = new
        level[e + 1] = new
