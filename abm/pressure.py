"""Submodel: operational and financial pressure, and the capacity it leaves.

Pressure = baseline ``pressure`` x the kind's sensitivity + ``deficit_pressure``
for a body in deficit + a winter rise (``winter_pressure`` x a seasonal wave
peaking in January) + shocks (demand shocks, budget cuts) that decay by 15% a
month. Pressure consumes slack: capacity = 1 - ``pressure_capacity_share`` x
pressure (Repenning & Sterman 2001), and NHS providers lose a further share
equal to their ICS's vacancy rate (``abm.channels``). Month 1 of a run is
April, the start of the NHS financial year.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numeric import clip01

SHOCK_DECAY = 0.85  # assumption: a shock halves in about four months


def winter_wave(month: int) -> float:
    """Seasonal factor in [0, 1]: 1 in January, 0 in July (month 1 = April)."""
    calendar_month = (month + 2) % 12 + 1  # month 1 -> April (4)
    return 0.5 * (1.0 + np.cos(2.0 * np.pi * (calendar_month - 1) / 12.0))


def update_pressure(orgs, p: dict, month: int, vacancy_rate: np.ndarray) -> None:
    """Decay shocks, then set each organisation's pressure and capacity, in place."""
    _update(shock=orgs.shock, pressure=orgs.pressure, capacity=orgs.capacity,
            sensitivity=orgs.pressure_sensitivity, in_deficit=orgs.in_deficit,
            in_league_table=orgs.in_league_table, system=orgs.system, vacancy_rate=vacancy_rate,
            baseline=p["pressure"], deficit_pressure=p["deficit_pressure"],
            winter=p["winter_pressure"] * winter_wave(month), capacity_share=p["pressure_capacity_share"],
            shock_decay=SHOCK_DECAY)


@njit(cache=True)
def _update(shock, pressure, capacity, sensitivity, in_deficit, in_league_table, system, vacancy_rate, baseline,
            deficit_pressure, winter, capacity_share, shock_decay):
    for i in range(shock.size):
        shock[i] *= shock_decay
        raw = baseline * sensitivity[i] + deficit_pressure * in_deficit[i] + winter + shock[i]
        pressure[i] = clip01(raw)
        staffed = 1.0 - in_league_table[i] * vacancy_rate[system[i]]   # NHS providers lose their ICS's vacancies
        capacity[i] = (1.0 - capacity_share * pressure[i]) * staffed

