"""Helpers for the pattern tests: run a condition over many seeds and compare."""

from __future__ import annotations

import numpy as np

from abm import ICSModel

SEEDS = range(20)


def runs(months: int = 120, seeds=SEEDS, **params) -> list:
    """Model-level tables of one condition, one per seed."""
    tables = []
    for seed in seeds:
        model = ICSModel(rng=seed, collect_agents=False, **params)
        model.run_for(months)
        tables.append(model.datacollector.get_model_vars_dataframe())
    return tables


def final(tables, column: str) -> np.ndarray:
    return np.array([t[column].iloc[-1] for t in tables])


def average(tables, column: str, start: int = 1) -> np.ndarray:
    """Mean over months ``start``.. of each run."""
    return np.array([t[column].iloc[start:].mean() for t in tables])


def at(tables, column: str, month: int) -> np.ndarray:
    return np.array([t[column].loc[month] for t in tables])


def cohens_d(x, y) -> float:
    """Standardised mean difference of x over y (pooled standard deviation)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    pooled = np.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2))
    diff = x.mean() - y.mean()
    if pooled == 0:
        return float(np.sign(diff) * np.inf) if diff else 0.0
    return float(diff / pooled)
