"""Per-ICS results: one row per ICS (per month when collected).

The model-level metrics (``abm.metrics``) average over every ICS; this table
keeps each ICS apart, so the spread across the 42 real ICSs can be set beside
the spread across regimes. ``model.ics_table()`` gives the table now;
``ICSModel(collect_ics=True)`` collects it every month
(``model.datacollector.get_ics_table()``), and a sweep stores it with
``[output] ics = true``.

Which ICS a row counts: an organisation counts in its home ICS; a
partnership counts in the ICS where it is made: the home of its partner that
serves one ICS only (a shared ambulance or mental-health trust's tie with a
council of a neighbouring ICS counts in that neighbour), or the home of its
first partner when both serve several.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ICS_METRICS: dict[str, str] = {
    "system_outcome": "System outcome of the ICS (0-1): admissions, delayed discharges and care quality",
    "collaboration_index": "Mean continuum level / 4 of the ICS's active partnerships",
    "trust_mean": "Mean trust over the active directed ties of the ICS's partnerships (0-1)",
    "turf_mean": "Mean turf of the active organisations based in the ICS (0-1)",
    "emergency_admissions": "Emergency admissions per 1,000 people this month",
    "delayed_discharge_days": "Bed-days of patients fit for discharge per 1,000 people this month",
    "vacancy_rate": "NHS vacancy rate",
    "capability": "Mean capability over the three channels (0-1)",
    "org_performance": "Mean true performance of the active organisations based in the ICS (0-1)",
    "gaming_gap": "Mean reported minus true performance of its NHS providers in league tables",
    "organisations": "Active organisations based in the ICS",
    "partnerships": "Active partnerships counted in the ICS",
}
COLUMNS = ("month", "system", "ics", *ICS_METRICS)


def pair_system(model) -> np.ndarray:
    """The ICS each partnership counts in (module docstring); fixed for a model, so kept on it."""
    cached = getattr(model, "_ics_pair_system", None)
    if cached is None:
        ties = model.ties
        n_served = np.array([len(o.systems) for o in model.organisations])
        cached = np.where(n_served[ties.b] == 1, ties.system_b, ties.system_a)
        model._ics_pair_system = cached
    return cached


def _mean(values, mask, group, n) -> np.ndarray:
    total = np.bincount(group, weights=np.where(mask, values, 0.0), minlength=n)
    count = np.bincount(group, weights=mask.astype(float), minlength=n)
    return np.divide(total, count, out=np.zeros(n), where=count > 0)


def ics_snapshot(model) -> dict[str, np.ndarray]:
    """The per-ICS metrics now, as arrays of one value per ICS."""
    orgs, ties, ch = model.orgs, model.ties, model.channels
    n = orgs.n_systems
    act = orgs.active
    pair_sys = pair_system(model)
    pair_active = ties.active[0::2]
    league = act & orgs.in_league_table
    return {
        "month": np.full(n, int(model.month)),
        "system_outcome": np.asarray(model.system_outcome, dtype=float).copy(),
        "collaboration_index": _mean(ties.level[0::2].astype(float), pair_active, pair_sys, n) / 4.0,
        "trust_mean": _mean(ties.trust, ties.active, np.repeat(pair_sys, 2), n),
        "turf_mean": _mean(orgs.turf, act, orgs.system, n),
        "emergency_admissions": ch.admissions.copy(),
        "delayed_discharge_days": ch.delayed_days.copy(),
        "vacancy_rate": ch.vacancy_rate.copy(),
        "capability": ch.capability.mean(axis=0),
        "org_performance": _mean(orgs.true_performance, act, orgs.system, n),
        "gaming_gap": _mean(orgs.reported_performance - orgs.true_performance, league, orgs.system, n),
        "organisations": np.bincount(orgs.system, weights=act, minlength=n).astype(np.int64),
        "partnerships": np.bincount(pair_sys, weights=pair_active, minlength=n).astype(np.int64),
    }


def ics_frame(model, snapshots: list[dict]) -> pd.DataFrame:
    """Snapshots as one table: month, system (index), ics (name), then ``ICS_METRICS``."""
    if not snapshots:
        return pd.DataFrame(columns=list(COLUMNS))
    n = model.orgs.n_systems
    joined = {k: np.concatenate([s[k] for s in snapshots]) for k in snapshots[0]}
    frame = pd.DataFrame({
        "month": joined["month"],
        "system": np.tile(np.arange(n), len(snapshots)),
        "ics": np.tile(np.array(model.ics_names, dtype=object), len(snapshots)),
        **{k: joined[k] for k in ICS_METRICS},
    })
    return frame


def ics_table(model) -> pd.DataFrame:
    """The per-ICS table now: one row per ICS."""
    return ics_frame(model, [ics_snapshot(model)])
