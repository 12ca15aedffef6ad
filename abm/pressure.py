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

SHOCK_DECAY = 0.85  # assumption: a shock halves in about four months


def winter_wave(month: int) -> float:
    """Seasonal factor in [0, 1]: 1 in January, 0 in July (month 1 = April)."""
    calendar_month = (month + 2) % 12 + 1  # month 1 -> April (4)
    return 0.5 * (1.0 + np.cos(2.0 * np.pi * (calendar_month - 1) / 12.0))


def update_pressure(orgs, p: dict, month: int, vacancy_rate: np.ndarray) -> None:
    orgs.shock *= SHOCK_DECAY
    raw = (p["pressure"] * orgs.pressure_sensitivity + p["deficit_pressure"] * orgs.in_deficit
           + p["winter_pressure"] * winter_wave(month) + orgs.shock)
    orgs.pressure[:] = np.clip(raw, 0.0, 1.0)
    staffed = 1.0 - orgs.in_league_table * vacancy_rate[orgs.system]
    orgs.capacity[:] = (1.0 - p["pressure_capacity_share"] * orgs.pressure) * staffed
