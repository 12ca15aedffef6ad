"""Helpers for the pattern tests: run conditions over common seeds and compare them.

Conditions are compared over the same seeds (common random numbers), so a
comparison is a paired difference per seed; ``Effect`` reports its mean and a
95% t-interval. No standardised effect size is used: with runs this close
to one another a standardised size says more about the noise than the effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

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


def probed_runs(months: int, probe, seeds=SEEDS, **params) -> tuple[list, list]:
    """Model-level tables of one condition and, per seed, ``probe(model)`` called after every month."""
    tables, probes = [], []
    for seed in seeds:
        model = ICSModel(rng=seed, collect_agents=False, **params)
        seen = []
        for _ in range(months):
            model.step()
            seen.append(probe(model))
        tables.append(model.datacollector.get_model_vars_dataframe())
        probes.append(seen)
    return tables, probes


def final(tables, column: str) -> np.ndarray:
    return np.array([t[column].iloc[-1] for t in tables])


def average(tables, column: str, start: int = 1, stop: int | None = None) -> np.ndarray:
    """Mean over months ``start``..``stop`` (inclusive; the last month if None) of each run."""
    return np.array([t[column].loc[start:stop].mean() for t in tables])


def at(tables, column: str, month: int) -> np.ndarray:
    return np.array([t[column].loc[month] for t in tables])


@dataclass(frozen=True)
class Effect:
    """Mean of per-seed values (a paired difference, or a within-run figure) and its 95% t-interval."""

    mean: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:+.4f} (95% CI {self.low:+.4f} to {self.high:+.4f}, n={self.n})"

    def above(self, size: float) -> bool:
        """The mean exceeds ``size`` and the whole interval lies above zero."""
        return self.mean > size and self.low > 0.0


def effect(values) -> Effect:
    """Mean and 95% t-interval of per-seed values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    mean = float(x.mean())
    if n < 2:
        return Effect(mean, -np.inf, np.inf, n)
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return Effect(mean, mean - half, mean + half, n)


def paired(x, y) -> Effect:
    """Mean paired difference x - y over common seeds, with its 95% t-interval."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    assert x.shape == y.shape, "paired comparisons need the same seeds in both conditions"
    return effect(x - y)
