"""Submodel: dyadic trust with asymmetric update and reputation damage.

Trust of i in j moves towards what i observed of j this month: by
``trust_build_rate`` of the gap when the observation is better, by
``trust_erosion_rate`` when worse (Slovic 1993; Pant & Yu 2025 use 0.10 and
0.30). Every fall adds ``damage_gain`` of its size to a reputation-damage
stock that decays by ``damage_decay`` a month; trust cannot recover above
``1 - damage`` (Pant & Yu 2025). ``weight`` in [0, 1] says how much was
observed (0: nothing, trust stays).
"""

from __future__ import annotations

import numpy as np

from .rules import register_rule


@register_rule("trust_update", "default")
def asymmetric_trust_update(trust, damage, observation, weight, p):
    gap = observation - trust
    better = gap > 0
    rate = np.where(better, p["trust_build_rate"], p["trust_erosion_rate"]) * weight
    new = trust + rate * gap
    ceiling = 1.0 - damage
    # recovery is capped by the damage stock (a fall is never prevented by it)
    new = np.where(better, np.minimum(new, np.maximum(ceiling, trust)), new)
    drop = np.maximum(trust - new, 0.0)
    new_damage = damage * (1.0 - p["damage_decay"]) + p["damage_gain"] * drop
    return np.clip(new, 0.0, 1.0), np.clip(new_damage, 0.0, 1.0)
