"""What the browser needs to draw the network, as plain lists.

Two parts, so a step sends only what changes:
- ``network_structure``: positions, colours, names and the partnerships
  (pairs of organisations). It changes only when a new model is built.
- ``network_state``: each partnership's continuum level and trust, each
  organisation's size and the figures its tooltip shows. Sent every month.

Both carry the run's ``id``; the browser draws only when they match.
"""

from __future__ import annotations

import numpy as np

from .charts import LEVEL_COLOURS, LEVEL_LABELS, group_of
from .layout import Layout, place_names

# Ways of sizing the circles: each key is also the name of the model's array of organisation figures.
SIZE_BY = {"budget": "Budget", "voice": "Voice (share of decision weight)"}

# Tooltip rows: (key in network_state's "info" rows, label shown).
TOOLTIP_ROWS = (
    "Turf",
    "Pressure",
    "Trust in partners",
    "Trust from partners",
    "Performance (true)",
    "Performance (reported)",
    "Voice",
    "Budget",
)


def network_structure(model, layout: Layout, run_id: int) -> dict:
    """Positions (0-1 of the picture's width/height), colours, names, pairs, labels."""
    pos = layout.positions
    n = len(pos)
    extent = np.vstack([pos, *(np.array([xy]) for xy in layout.place_labels.values()), layout.system_labels])
    lo = extent.min(axis=0)
    hi = extent.max(axis=0)
    pad = 0.05 * float(max((hi - lo).max(), 1.0)) + 0.35
    lo, hi = lo - pad, hi + pad
    w, h = hi - lo
    aspect = float(h / w)
    x = (pos[:, 0] - lo[0]) / w
    y = (hi[1] - pos[:, 1]) / h
    labels = []
    place_names = _place_names(model)
    if n <= 200 and len(layout.system_centres) == 1:   # several ICSs: name the ICSs only
        cx, cy = layout.system_centres[0]
        for place, (px, py) in sorted(layout.place_labels.items()):
            # text runs away from the ICS's centre, so it never sits on its own cluster
            dx, dy = px - cx, py - cy
            side = ("left" if dx > 0 else "right") if abs(dx) > abs(dy) else "center"
            base = "middle" if side != "center" else ("bottom" if dy > 0 else "top")
            labels.append([round(float((px - lo[0]) / w), 4), round(float((hi[1] - py) / h), 4),
                           place_names.get(place, f"Place {place + 1}"), side, base])
    if 1 < len(layout.system_centres) <= 12:
        for s, (sx, sy) in enumerate(layout.system_labels):
            labels.append([round(float((sx - lo[0]) / w), 4), round(float((hi[1] - sy) / h), 4),
                           f"ICS {s + 1}", "center", "bottom"])
    ties = model.ties
    return {
        "id": int(run_id),
        "aspect": round(aspect, 4),
        "x": [round(float(v), 5) for v in x],
        "y": [round(float(v), 5) for v in y],
        "colour": [o.colour for o in model.organisation_rows],
        "shape": [group_of(o.kind).shape for o in model.organisation_rows],
        "name": list(layout.names),
        "kind": [o.label for o in model.organisation_rows],
        "a": ties.src[0::2].tolist(),
        "b": ties.dst[0::2].tolist(),
        "labels": labels,
        "level_colours": list(LEVEL_COLOURS),
        "rows": list(TOOLTIP_ROWS),
    }


def _place_names(model) -> dict[int, str]:
    """A real ICS's places by their councils' names ({} for the stylised ICS: "Place 1", ...)."""
    return dict(enumerate(place_names(model) or ()))


def network_state(model, run_id: int, size_by: str = "budget") -> dict:
    """This month's levels, trust, sizes (by ``size_by``, a key of ``SIZE_BY``) and tooltip figures."""
    if size_by not in SIZE_BY:
        raise ValueError(f"size_by {size_by!r} is not allowed; choose one of {', '.join(SIZE_BY)}")
    return network_states(model, run_id)[size_by]


def network_states(model, run_id: int) -> dict[str, dict]:
    """``network_state`` for every way of sizing the circles (keys of ``SIZE_BY``).

    The simulation publishes all of them with each month, so switching the size
    never reads the live model; they share everything but ``size``.
    """
    orgs, ties = model.orgs, model.ties
    active_pair = ties.active[0::2]
    level = np.where(active_pair, ties.level[0::2].astype(int), -1)
    trust = np.rint(50.0 * (ties.trust[0::2] + ties.trust[1::2])).astype(int)  # mean, in percent
    active = np.asarray(orgs.active, dtype=bool)
    given = ties.mean_by_source(ties.trust)
    received = ties.mean_by_target(ties.trust)
    info = np.column_stack([
        orgs.turf, orgs.pressure, given, received,
        orgs.true_performance, orgs.reported_performance, orgs.voice, orgs.budget,
    ])
    shared = {
        "id": int(run_id),
        "month": int(model.month),
        "level": level.tolist(),
        "trust": trust.tolist(),
        "info": np.round(info, 2).tolist(),
    }
    return {name: {**shared, "size": _sizes(getattr(orgs, name), active)} for name in SIZE_BY}


def _sizes(values, active: np.ndarray) -> list[float]:
    """Circle sizes 0-1 (square root of the share of the largest active value); -1 for a merged organisation."""
    values = np.asarray(values, dtype=float)
    top = float(values[active].max()) if active.any() else 0.0
    size = np.sqrt(np.clip(values, 0.0, None) / top) if top > 0 else np.zeros_like(values)
    return [round(float(v), 3) for v in np.where(active, size, -1.0)]


def legend_levels() -> list[tuple[str, str]]:
    """(label, colour) of each continuum level, for the legend."""
    return list(zip(LEVEL_LABELS, LEVEL_COLOURS))
