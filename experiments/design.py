"""Designs: which combinations of factor values (design points) to run.

- ``full_factorial``: every combination of the listed values.
- ``latin_hypercube``: ``samples`` points spread over the ranges
  (``scipy.stats.qmc.LatinHypercube``), crossed with any listed values.
- ``sobol``: Saltelli/Sobol' sampling for first-order and total Sobol
  indices (SALib), ``samples`` * (k + 2) points for k factors.
- ``morris``: ``samples`` Morris trajectories on a ``levels`` grid (SALib),
  ``samples`` * (k + 1) points, for screening many parameters cheaply.

Whole-number parameters are rounded after sampling; the unrounded sample
matrix is kept for the Sobol and Morris analyses.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from abm.parameters import PARAMETERS

from .seeds import design_seed
from .spec import Experiment


@dataclass
class Design:
    """The design points of an experiment, in run order."""

    points: list[dict]                 # factor name -> value, one dict per point
    problem: dict | None = None        # SALib problem (sobol, morris)
    matrix: np.ndarray | None = None   # unrounded sample matrix (sobol, morris)


def _cast(name: str, value: float):
    if PARAMETERS[name].kind == "int":
        return int(round(value))
    return float(value)


def count_points(exp: Experiment) -> int:
    """How many design points ``build_design(exp)`` makes, computed without making them."""
    crossed = math.prod(len(f.values) for f in exp.factors.values() if not f.is_range)
    if exp.schedule_is_factor:
        crossed *= len(exp.schedules)
    k = sum(f.is_range for f in exp.factors.values())
    per_sample = {"full_factorial": 0, "latin_hypercube": 1, "sobol": k + 2, "morris": k + 1}[exp.design]
    return crossed * (exp.samples * per_sample if per_sample else 1)


def build_design(exp: Experiment) -> Design:
    """The design points of ``exp`` (deterministic given its root seed)."""
    listed = {n: f.values for n, f in exp.factors.items() if not f.is_range}
    if exp.schedule_is_factor:
        listed["schedule"] = tuple(exp.schedules)
    ranged = [f for f in exp.factors.values() if f.is_range]
    crossed = [dict(zip(listed, combo)) for combo in itertools.product(*listed.values())] or [{}]
    if exp.design == "full_factorial":
        return Design(points=crossed)

    problem = {
        "num_vars": len(ranged),
        "names": [f.name for f in ranged],
        "bounds": [[float(f.low), float(f.high)] for f in ranged],
    }
    seed = design_seed(exp.seed)
    if exp.design == "latin_hypercube":
        unit = qmc.LatinHypercube(d=len(ranged), rng=np.random.default_rng(seed)).random(exp.samples)
        matrix = qmc.scale(unit, [f.low for f in ranged], [f.high for f in ranged])
        problem = None
    elif exp.design == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(problem, exp.samples, calc_second_order=False, seed=seed)
    else:  # morris
        from SALib.sample import morris

        matrix = morris.sample(problem, exp.samples, num_levels=exp.levels, seed=seed)
    points = []
    for row in matrix:
        sampled = {f.name: _cast(f.name, v) for f, v in zip(ranged, row)}
        for extra in crossed:
            points.append({**sampled, **extra})
    return Design(points=points, problem=problem, matrix=None if problem is None else matrix)
