"""What each stored column means: units and descriptions in the Parquet files.

A Parquet part read on its own (by duckdb, polars, pyarrow or R's arrow)
should say what its columns are without this package at hand. Every part
carries, per column, field metadata ``description`` and ``unit``, and the
schema carries ``ics_abm.columns`` (the same as JSON). Metric descriptions
come from the model's collector (``abm.metrics.MODEL_METRICS``) and
parameter units and meanings from the parameter table, read when the part is
written, so new metrics and parameters are described without edits here.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa

RUN_COLUMNS = {
    "run_id": ("", "Run identifier: design point p and replicate r"),
    "point": ("", "Design point (row of the design), from 0"),
    "replicate": ("", "Replicate, from 0; replicate r has the same seed in every design point"),
    "seed": ("", "Seed of the run's random number generator"),
    "months": ("months", "Length of the run"),
    "month": ("month", "Month of the run (0 = initial state)"),
    "schedule": ("", "Name of the run's schedule of regime changes and events"),
    "schedule_events": ("JSON", "The scheduled regime changes and events of the run"),
    "status": ("", "ok, or failed (the traceback is in error)"),
    "started_at": ("ISO 8601 UTC", "When the run started"),
    "elapsed_s": ("s", "Wall-clock time of the run"),
    "worker": ("", "host:process that ran it"),
    "error": ("", "Traceback of a failed run (empty when ok)"),
}


def _unit_of(description: str) -> str:
    """A metric's unit where its description states a range, e.g. '(0-1)'."""
    found = re.search(r"\((\d+(?:\.\d+)?\s*-\s*\d+(?:\.\d+)?)\)", description)
    return found.group(1).replace(" ", "") if found else ""


def column_info(columns) -> dict[str, dict[str, str]]:
    """``{column: {"unit", "description"}}`` for the columns known to the model or the store."""
    from abm.metrics import MODEL_METRICS
    from abm.parameters import PARAMETERS

    units = getattr(__import__("abm.metrics", fromlist=["METRIC_UNITS"]), "METRIC_UNITS", {})
    out = {}
    for col in columns:
        if col in MODEL_METRICS:
            text = MODEL_METRICS[col]
            out[col] = {"unit": units.get(col, _unit_of(text)), "description": text}
        elif col in PARAMETERS:
            p = PARAMETERS[col]
            out[col] = {"unit": p.unit, "description": f"Model parameter: {p.meaning}"}
        elif col in RUN_COLUMNS:
            unit, text = RUN_COLUMNS[col]
            out[col] = {"unit": unit, "description": text}
    return out


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table whose fields and schema describe the columns."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    info = column_info(table.column_names)
    fields = [field.with_metadata({k.encode(): v.encode() for k, v in info[field.name].items()})
              if field.name in info else field for field in table.schema]
    meta = dict(table.schema.metadata or {})
    meta[b"ics_abm.columns"] = json.dumps(info).encode()
    return table.cast(pa.schema(fields, metadata=meta))
