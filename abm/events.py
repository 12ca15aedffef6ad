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


class EventOptionError(ValueError):
    """A bad value for one event option; ``option`` names it (experiment files point at that key)."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


def check_event(kind: str, month: int, options: dict, n_systems: int | None = None) -> dict:
    """Return the event's full options, or raise a clear error.

    The one check for events from ``ICSModel(events=)``, ``schedule_*``,
    ``trigger`` and experiment files alike; ``n_systems`` (when known) bounds ``system``.
    """
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
    from agents.kinds import ORGANISATION_KINDS

    if "kind" in options and full["kind"] not in ORGANISATION_KINDS:
        raise EventOptionError("kind", f"event {kind!r}: kind {full['kind']!r} is not an organisation kind"
                               f"{suggest(str(full['kind']), ORGANISATION_KINDS) or ';'} allowed: {', '.join(ORGANISATION_KINDS)}")
    for key in ("size", "share"):
        if key in options and (isinstance(full[key], bool) or not isinstance(full[key], (int, float))
                               or full[key] != full[key]):
            raise EventOptionError(key, f"event {kind!r}: {key} {full[key]!r} must be a number")
    system = full.get("system")
    if system is not None and (isinstance(system, bool) or not isinstance(system, int) or system < 0
                               or (n_systems is not None and system >= n_systems)):
        top = f"0-{n_systems - 1} (the model has n_systems = {n_systems})" if n_systems else "a whole number >= 0"
        raise EventOptionError("system", f"event {kind!r}: system {system!r} must be an ICS index {top}")
    if kind == "budget_cut" and not (0.0 <= float(full["share"]) <= 0.9):
        raise ValueError(f"event 'budget_cut': share {full['share']!r} must be in [0, 0.9]")
    if kind == "demand_shock" and not (0.0 <= float(full["size"]) <= 1.0):
        raise ValueError(f"event 'demand_shock': size {full['size']!r} must be in [0, 1]")
    return full
