"""The shipped calibration posterior (abm/data/posterior, written by ``ics-abm calibrate``).

- ``central()``: the posterior's central parameter set (weighted marginal
  medians), what ``ICSModel(calibrated=True)`` uses;
- ``draw(n, seed)``: ``n`` parameter sets drawn from the weighted posterior
  particles (the first k of n draws are the k draws of the same seed);
- ``available()``: whether a posterior ships.

Only the calibrated parameters are returned; every other parameter keeps the
parameter table's default (or the value given). See docs/calibration.md.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

POSTERIOR_DIR = Path(__file__).resolve().parent / "data" / "posterior"


def available(directory: str | Path | None = None) -> bool:
    """Whether a posterior (central.json and posterior.csv) exists."""
    d = Path(directory) if directory is not None else POSTERIOR_DIR
    return (d / "central.json").exists() and (d / "posterior.csv").exists()


def _missing(d: Path) -> FileNotFoundError:
    return FileNotFoundError(f"no calibration posterior in {d}; run `ics-abm calibrate` to make one")


def _cast(values: dict[str, Any]) -> dict[str, Any]:
    from .parameters import PARAMETERS

    out = {}
    for name, value in values.items():
        if name in PARAMETERS:
            out[name] = int(round(float(value))) if PARAMETERS[name].kind == "int" else float(value)
    return out


@lru_cache(maxsize=8)
def _central(directory: str) -> tuple:
    d = Path(directory)
    if not (d / "central.json").exists():
        raise _missing(d)
    return tuple(_cast(json.loads((d / "central.json").read_text())).items())


def central(directory: str | Path | None = None) -> dict[str, Any]:
    """The posterior's central parameter set (calibrated parameters only)."""
    return dict(_central(str(directory if directory is not None else POSTERIOR_DIR)))


def particles(directory: str | Path | None = None):
    """The weighted posterior particles as a DataFrame (``weight`` and one column per calibrated parameter)."""
    import pandas as pd

    d = Path(directory) if directory is not None else POSTERIOR_DIR
    if not (d / "posterior.csv").exists():
        raise _missing(d)
    frame = pd.read_csv(d / "posterior.csv")
    names = list(central(d))
    return frame[["weight", *names]]


def draw(n: int, seed: int = 0, directory: str | Path | None = None) -> list[dict[str, Any]]:
    """``n`` parameter sets drawn (with replacement, by weight) from the posterior particles."""
    import numpy as np

    frame = particles(directory)
    names = [c for c in frame.columns if c != "weight"]
    w = frame["weight"].to_numpy(dtype=float)
    idx = np.random.default_rng(seed).choice(len(frame), size=int(n), p=w / w.sum())
    values = frame[names].to_numpy()
    return [_cast(dict(zip(names, values[i]))) for i in idx]
