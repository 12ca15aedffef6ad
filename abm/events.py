"""Structural events and regime changes that can be scheduled at a month.

Kinds and their options (defaults in brackets):

- ``regime``: change the accountability regime. ``regime`` [None: keep the
  preset], and any regime knob (``oversight_intensity``, ...).
- ``merger``: two organisations of one kind in an ICS merge. ``kind``
  ["acute"], ``system`` [0]. The absorbing one takes the budget, its ties are
  kept, the other's ties end; the merged body's turf jumps (identity threat)
  and its partners' trust in it is pulled halfway to ``initial_trust``.
- ``leadership_turnover``: a new leadership team. ``kind`` ["acute"],
  ``system`` [0]. Its trust in partners and theirs in it are pulled halfway
  to ``initial_trust``, reputation damage on its ties halves, its learned
  effort habits are forgotten and its turf returns to its baseline.
- ``budget_cut``: ``share`` [0.1] of the budget of ``kind``
  ["local_authority"] in ``system`` [None: all] is cut; pressure rises.
- ``demand_shock``: a winter or pandemic-like surge of ``size`` [0.3] extra
  pressure in ``system`` [None: all], decaying over months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .parameters import PARAMETERS, REGIME_KNOBS, suggest

EVENT_OPTIONS: dict[str, dict[str, Any]] = {
    "regime": {"regime": None, **{k: None for k in REGIME_KNOBS}},
    "merger": {"kind": "acute", "system": 0},
    "leadership_turnover": {"kind": "acute", "system": 0},
    "budget_cut": {"kind": "local_authority", "share": 0.1, "system": None},
    "demand_shock": {"size": 0.3, "system": None},
}


@dataclass(order=True)
class ScheduledEvent:
    month: int
    kind: str = field(compare=False)
    options: dict = field(compare=False, default_factory=dict)


def check_event(kind: str, month: int, options: dict) -> dict:
    """Return the event's full options, or raise a clear error."""
    if kind not in EVENT_OPTIONS:
        raise ValueError(f"event kind {kind!r} is not known; allowed: {', '.join(EVENT_OPTIONS)}")
    if isinstance(month, bool) or not isinstance(month, int) or month < 0:
        raise ValueError(f"event {kind!r}: month {month!r} must be a whole number >= 0")
    allowed = EVENT_OPTIONS[kind]
    for key in options:
        if key not in allowed:
            raise TypeError(f"event {kind!r} has no option {key!r}{suggest(key, allowed) or ';'} options: {', '.join(allowed)}")
    full = dict(allowed)
    full.update(options)
    if kind == "regime":  # the preset name and knob values, checked now rather than when applied
        for key, value in options.items():
            if value is not None:
                full[key] = PARAMETERS[key].validate(value)
    if kind == "budget_cut" and not (0.0 <= float(full["share"]) <= 0.9):
        raise ValueError(f"event 'budget_cut': share {full['share']!r} must be in [0, 0.9]")
    if kind == "demand_shock" and not (0.0 <= float(full["size"]) <= 1.0):
        raise ValueError(f"event 'demand_shock': size {full['size']!r} must be in [0, 1]")
    return full
