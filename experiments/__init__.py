"""Batch experiments: sweeps, replicates, results store, reports.

``experiments.load(DIR)`` reads a results folder written by ``ics-abm compare``
or ``ics-abm sweep``: ``.runs`` (one row per run), ``.metrics`` (long form,
one row per run and month), ``.manifest`` (provenance), and ``.agents`` /
``.ties`` when the experiment stored them.
"""

from .spec import Experiment, ExperimentError, load_experiment, parse_experiment
from .store import Results, StoreError, load

__all__ = ["load", "Results", "Experiment", "ExperimentError", "load_experiment",
           "parse_experiment", "StoreError"]
