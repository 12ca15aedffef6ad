"""Submodel: the partnering continuum of each tie, with hysteresis.

Levels: 0 none, 1 connecting, 2 cooperating, 3 coordinating, 4 collaborating
(Himmelman 2002; Dow 2015). A pair's readiness is its mutual trust (the lower
of the two directions) x (1 - the higher of the two turfs): each step asks
more trust and more willingness to share turf. Level k needs readiness at
least ``k x readiness_step``. A ready pair steps up one level with chance
``step_up_probability`` a month, and beyond connecting only if both invested
joint effort this month (a joint project was attempted). A pair steps down one level when readiness falls
below its level's threshold less ``continuum_hysteresis``. Convening by
oversight forces first contact and holds it: a convened pair does not fall
below connecting (Provan & Milward 1995; a mandate can force first contact).
"""

from __future__ import annotations

import numpy as np


def readiness(trust_ab, trust_ba, turf_a, turf_b):
    return np.minimum(trust_ab, trust_ba) * (1.0 - np.maximum(turf_a, turf_b))


def update_levels(level, ready, engaged, convened, p, draws_up):
    """Return new pair levels (int8) from current ``level`` and ``ready``.

    ``draws_up`` are uniform random numbers, one per pair.
    """
    step = p["readiness_step"]
    next_threshold = (level + 1) * step
    can_rise = (level < 4) & (ready >= next_threshold) & ((level == 0) | engaged)
    rises = can_rise & (draws_up < p["step_up_probability"])
    falls = (level > 0) & (ready < level * step - p["continuum_hysteresis"])
    new = level + rises.astype(np.int8) - falls.astype(np.int8)
    new = np.where(convened, np.maximum(new, 1), new)
    return new.astype(np.int8)
