"""Results kept until the arrays they are computed from change.

Several monthly steps read something that changes only at a merger, a budget
cut or a new plan year (counts per ICS, averaging weights, voice shares, the
plan's pairs). ``kept_until_changed`` computes such a thing once and hands
back the same object until the bytes of its inputs differ, so the monthly
path does not recompute it and a change is never missed.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def kept_until_changed(owner: Any, name: str, inputs: tuple[np.ndarray, ...], compute: Callable[[], Any]) -> Any:
    """``compute()``, kept on ``owner`` as ``name`` until the bytes of any of ``inputs`` change."""
    key = tuple(array.tobytes() for array in inputs)
    kept = owner.__dict__.get(name)
    if kept is None or kept[0] != key:
        kept = (key, compute())
        owner.__dict__[name] = kept
    return kept[1]
