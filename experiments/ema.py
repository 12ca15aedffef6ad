"""The model for EMA Workbench users, in three lines.

EMA Workbench (``ema_workbench``) samples scenarios, runs them under policies
and analyses the results (PRIM, CART, feature scoring, Sobol). This module
gives it the ICS model with the glue written once::

    from ema_workbench import perform_experiments
    from experiments.ema import ics_model, regime_policies
    experiments, outcomes = perform_experiments(ics_model(), scenarios=100, policies=regime_policies())

- **Uncertainties** come from the model's parameter table
  (``abm.parameters.PARAMETERS``): each name gets its declared range and type
  (``RealParameter``, ``IntegerParameter``, ``CategoricalParameter``,
  ``BooleanParameter``); pass ``{name: (low, high)}`` to narrow a range.
- **Levers**: the accountability regime (``CategoricalParameter("regime")``);
  ``regime_policies`` makes one EMA policy per regime, so every sampled
  scenario runs under every regime.
- **Outcomes**, for every model-level metric the collector reports
  (``abm.metrics.MODEL_METRICS``, read when the model is made, so new metrics
  appear without changes here): ``<metric>_final`` (last month) and
  ``<metric>_mean`` (mean over months 1..end), each the mean over replicates,
  and ``<metric>_series`` (replicates x months+1 array) when ``series=True``.
- **Seeds**: the replicates are EMA replications with the seeds of
  ``experiments.seeds.replicate_seeds`` (the same as ``ics-abm sweep``), the
  same in every scenario and policy: common random numbers, so two regimes
  are compared on the same simulated histories.

The run function is a module-level function, so the model works with
``MultiprocessingEvaluator`` as well as ``SequentialEvaluator``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from abm.parameters import PARAMETERS, REGIME_NAMES

from .analysis import metric_names
from .seeds import replicate_seeds

with warnings.catch_warnings():   # EMA warns at import about an optional cluster backend not used here
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    import ema_workbench  # noqa: F401

# Parameter groups that describe the model's set-up rather than uncertain
# behaviour: structure is a choice of the ICS, the regime is the lever, and
# data/run flags are not parameters of the world.
NOT_UNCERTAIN_GROUPS = ("structure", "regime", "data")


def default_uncertainties() -> list[str]:
    """The parameters treated as uncertain unless told otherwise: every
    behavioural and initial-state parameter with a range."""
    return [p.name for p in PARAMETERS.values()
            if p.group not in NOT_UNCERTAIN_GROUPS and p.kind in ("int", "float")]


def ema_parameter(name: str, low: float | None = None, high: float | None = None):
    """The EMA parameter for one model parameter, with its declared range or a narrower one."""
    from ema_workbench import BooleanParameter, CategoricalParameter, IntegerParameter, RealParameter

    if name not in PARAMETERS:
        from abm.parameters import suggest

        raise ValueError(f"unknown parameter {name!r}{suggest(name)}")
    p = PARAMETERS[name]
    if p.kind == "choice":
        return CategoricalParameter(name, list(p.choices))
    if p.kind == "bool":
        return BooleanParameter(name)
    if p.kind not in ("int", "float"):
        raise ValueError(f"parameter {name!r} ({p.kind}) cannot be an uncertainty")
    low = p.low if low is None else p.validate(low)
    high = p.high if high is None else p.validate(high)
    if not low < high:
        raise ValueError(f"parameter {name!r}: low ({low}) must be below high ({high})")
    if p.kind == "int":
        return IntegerParameter(name, int(low), int(high))
    return RealParameter(name, float(low), float(high))


def run_ics(months: int = 120, rng: int | None = None, **params: Any) -> dict[str, Any]:
    """One run for EMA: final value, time average and series of every metric.

    Called by EMA once per replication with the scenario's uncertainties, the
    policy's levers, the constants and the replication's ``rng`` seed.
    """
    from .runner import build_model, resolved_parameters

    model = build_model(resolved_parameters(params), rng)
    model.run_for(months)
    frame = model.datacollector.get_model_vars_dataframe()
    out: dict[str, Any] = {}
    for metric in frame.columns:
        values = frame[metric].to_numpy(dtype=float)
        out[f"{metric}_final"] = float(values[-1])
        out[f"{metric}_mean"] = float(values[1:].mean()) if len(values) > 1 else float(values[-1])
        out[f"{metric}_series"] = values
    return out


def _mean(values) -> float:
    return float(np.mean(values))


def ics_model(uncertainties: Iterable[str] | Mapping[str, tuple[float, float]] | None = None, *,
              regimes: Iterable[str] = REGIME_NAMES, months: int = 120, replicates: int = 10, seed: int = 1,
              fixed: Mapping[str, Any] | None = None, metrics: Iterable[str] | None = None,
              series: bool = True, name: str = "ics_abm"):
    """The ICS model as an EMA ``ReplicatorModel``.

    uncertainties: parameter names (declared ranges) or ``{name: (low, high)}``;
        default: ``default_uncertainties()``.
    regimes: the values of the ``regime`` lever.
    months, fixed: run length and parameters held fixed (EMA constants).
    replicates, seed: replications with the seeds ``replicate_seeds(seed, replicates)``.
    metrics: which metrics become outcomes (default: all the collector reports).
    series: also return each metric's monthly series (replicates x months+1).
    """
    from ema_workbench import ArrayOutcome, CategoricalParameter, Constant, ReplicatorModel, ScalarOutcome

    if uncertainties is None:
        uncertainties = default_uncertainties()
    ranges = dict(uncertainties) if isinstance(uncertainties, Mapping) else {n: (None, None) for n in uncertainties}
    fixed = dict(fixed or {})
    clash = (set(ranges) | {"regime"}) & set(fixed)
    if clash:
        raise ValueError(f"{', '.join(sorted(clash))}: both varied and fixed; keep each in one place")
    for key, value in fixed.items():
        if key not in PARAMETERS or key in ("rng", "collect_agents", "collect_ties"):
            raise ValueError(f"cannot fix {key!r}: not a settable model parameter")
        PARAMETERS[key].validate(value)
    regimes = list(regimes)
    for regime in regimes:
        PARAMETERS["regime"].validate(regime)

    model = ReplicatorModel(name, function=run_ics)
    model.uncertainties = [ema_parameter(n, *(bounds or (None, None))) for n, bounds in ranges.items()]
    model.levers = [CategoricalParameter("regime", regimes)]
    model.constants = [Constant("months", months), *(Constant(k, v) for k, v in fixed.items())]
    names = list(metrics) if metrics is not None else metric_names()
    outcomes = []
    for metric in names:
        outcomes.append(ScalarOutcome(f"{metric}_final", function=_mean))
        outcomes.append(ScalarOutcome(f"{metric}_mean", function=_mean))
        if series:
            outcomes.append(ArrayOutcome(f"{metric}_series", function=np.stack))
    model.outcomes = outcomes
    model.replications = [{"rng": s} for s in replicate_seeds(seed, replicates)]
    return model


def regime_policies(regimes: Iterable[str] = REGIME_NAMES) -> list:
    """One EMA policy per regime, named after it (every scenario runs under each)."""
    from ema_workbench import Sample

    return [Sample(name=r, regime=PARAMETERS["regime"].validate(r)) for r in regimes]
