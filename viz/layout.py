"""Where each organisation sits in the network picture.

The layout follows the model's structure, not the ties: every ICS is its own
circle; the ICB sits in its centre, the other system-level bodies (community,
mental-health and ambulance trusts, the VCSE alliance) on an inner ring, each
council on an outer ring with the acute trusts that serve its place just
inside it, and the place-level organisations (primary care networks, VCSE
providers, Healthwatch) in a cluster beyond their council. Several ICSs sit
side by side on a large ring.

The positions depend only on who is where (kind, tier, ICS, place), never on
random ties or on the run, so they are computed once per structure and cached:
Reset with the same organisation counts, or with another seed, reuses them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))

# Distances in layout units (the inner ring has radius 1).
INNER_RING = 1.0
ACUTE_RING = 1.75
COUNCIL_RING = 2.4
CLUSTER_GAP = 0.45
CLUSTER_SPACING = 0.26   # distance between neighbours in a place cluster
SYSTEM_GAP = 0.8


@dataclass(frozen=True)
class OrganisationSlot:
    """What the layout needs to know about one organisation."""

    kind: str
    tier: str
    system: int
    place: int


@dataclass(frozen=True)
class Layout:
    """Positions (one row per organisation) and display names."""

    positions: np.ndarray        # shape (n, 2), read-only
    names: tuple[str, ...]       # e.g. "Primary care network 3 (Place 2)", "Acute hospital trust 2 (Wirral)"
    place_labels: dict           # place id -> (x, y) just beyond its cluster, for "Place 3"
    system_centres: np.ndarray   # shape (n_systems, 2)
    system_labels: np.ndarray    # shape (n_systems, 2): just above each ICS, for "ICS 2"


def structure_key(model) -> tuple:
    """A hashable description of who is where; equal keys give equal layouts."""
    slots = tuple(
        OrganisationSlot(o.kind, o.tier, int(o.system), int(o.place)) for o in model.organisation_rows
    )
    labels = tuple(o.label for o in model.organisation_rows)
    return (int(model.orgs.n_systems), slots, labels, place_names(model))


def place_names(model) -> tuple[str, ...] | None:
    """A real ICS's places by their councils' names, in place order (None for the stylised ICS)."""
    p = getattr(model, "p", {})
    if not p.get("ics"):
        return None
    try:
        from abm import england
        names = tuple(england.place_names(p))
    except Exception:  # the picture keeps numbered places rather than fail
        return None
    return names if len(names) == getattr(model, "n_places", len(names)) else None


def layout_for(model) -> Layout:
    """The (cached) layout of a model's organisations."""
    return compute_layout(structure_key(model))


@functools.lru_cache(maxsize=8)
def compute_layout(key: tuple) -> Layout:
    """Compute positions for a structure key (see ``structure_key``)."""
    n_systems, slots, labels, named_places = key
    n = len(slots)
    local = np.zeros((n, 2))
    radius = np.zeros(n_systems)
    place_local: dict[int, tuple[int, np.ndarray]] = {}   # place -> (system, label position)
    by_system: list[list[int]] = [[] for _ in range(n_systems)]
    for i, slot in enumerate(slots):
        by_system[slot.system].append(i)

    for s, members in enumerate(by_system):
        pos, places = _system_layout([slots[i] for i in members])
        local[members] = pos
        radius[s] = max(float(np.max(np.hypot(pos[:, 0], pos[:, 1]))) if len(pos) else 0.0, 1.0)
        for place, centre in places.items():
            place_local[place] = (s, centre)

    centres = _system_centres(radius)
    systems = np.array([slot.system for slot in slots], dtype=int)
    positions = local + centres[systems] if n else local
    positions.setflags(write=False)
    centres.setflags(write=False)
    place_labels = {pl: tuple(centres[s] + c) for pl, (s, c) in place_local.items()}
    system_labels = centres + np.column_stack([np.zeros(n_systems), radius + 0.45])
    return Layout(positions, _names(slots, labels, n_systems, named_places), place_labels, centres, system_labels)


def _system_layout(slots: list[OrganisationSlot]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Positions of one ICS's organisations around (0, 0), and where each place's label goes."""
    pos = np.zeros((len(slots), 2))
    councils = [k for k, s in enumerate(slots) if s.kind == "local_authority"]
    places = sorted({s.place for s in slots if s.place >= 0} | {slots[k].place for k in councils})
    n_places = max(len(places), 1)
    angle_of = {pl: math.pi / 2 - 2 * math.pi * j / n_places for j, pl in enumerate(places)}

    # Centre and inner ring: system-level bodies without a place.
    inner = [k for k, s in enumerate(slots) if s.place < 0 and s.kind != "icb"]
    for k, s in enumerate(slots):
        if s.kind == "icb" and s.place < 0:
            pos[k] = 0.0
    offset = math.pi / n_places  # between the place directions
    for j, k in enumerate(inner):
        a = math.pi / 2 - offset - 2 * math.pi * j / max(len(inner), 1)
        pos[k] = INNER_RING * np.array([math.cos(a), math.sin(a)])

    # Councils and the system-tier bodies that have a place (acute trusts).
    spread = 2 * math.pi / n_places
    for pl in places:
        here = [k for k, s in enumerate(slots) if s.place == pl and s.tier == "system" and s.kind != "local_authority"]
        for j, k in enumerate(here):
            a = angle_of[pl] + (j - (len(here) - 1) / 2) * min(0.35, 0.6 * spread / max(len(here), 1))
            pos[k] = ACUTE_RING * np.array([math.cos(a), math.sin(a)])
    for k in councils:
        a = angle_of.get(slots[k].place, math.pi / 2)
        pos[k] = COUNCIL_RING * np.array([math.cos(a), math.sin(a)])

    # Place clusters: a sunflower of the place-level organisations, grouped by kind.
    clusters: dict[int, list[int]] = {
        pl: sorted((k for k, s in enumerate(slots) if s.place == pl and s.tier != "system"),
                   key=lambda k: (slots[k].kind, k))
        for pl in places
    }
    biggest = max((len(m) for m in clusters.values()), default=0)
    cluster_radius = CLUSTER_SPACING * math.sqrt(max(biggest, 1)) * 0.6
    ring = COUNCIL_RING + CLUSTER_GAP + cluster_radius
    if n_places > 1:  # keep neighbouring clusters apart
        ring = max(ring, (cluster_radius + CLUSTER_GAP / 2) / math.sin(math.pi / n_places))
    label_at: dict[int, np.ndarray] = {}
    for pl, members in clusters.items():
        a = angle_of[pl]
        direction = np.array([math.cos(a), math.sin(a)])
        centre = ring * direction
        reach = CLUSTER_SPACING * 0.6 * math.sqrt(max(len(members), 1)) if members else 0.0
        label_at[pl] = centre + direction * (reach + 0.45)
        for j, k in enumerate(members):
            r = CLUSTER_SPACING * 0.6 * math.sqrt(j + 0.5)
            t = j * GOLDEN_ANGLE
            pos[k] = centre + r * np.array([math.cos(t), math.sin(t)])

    # Anything else (a modeller's place-less, place-tier kind) on a far ring.
    placed = set(councils) | set(inner) | {k for m in clusters.values() for k in m}
    placed |= {k for k, s in enumerate(slots) if s.tier == "system" and s.place >= 0}
    placed |= {k for k, s in enumerate(slots) if s.kind == "icb" and s.place < 0}
    rest = [k for k in range(len(slots)) if k not in placed]
    for j, k in enumerate(rest):
        a = 2 * math.pi * j / len(rest)
        pos[k] = (ring + cluster_radius + CLUSTER_GAP) * np.array([math.cos(a), math.sin(a)])
    return pos, label_at


def _system_centres(radius: np.ndarray) -> np.ndarray:
    """Centres of the ICS circles: one at the origin, up to 8 on a ring, more on a grid."""
    n = len(radius)
    if n == 1:
        return np.zeros((1, 2))
    if n <= 8:
        widths = 2 * radius + SYSTEM_GAP
        big = max(widths.sum() / (2 * math.pi), (radius.max() + SYSTEM_GAP) / math.sin(math.pi / n))
        angles = math.pi / 2 - 2 * math.pi * (np.cumsum(widths) - widths) / widths.sum()  # ICS 1 on top
        return np.column_stack([big * np.cos(angles), big * np.sin(angles)])
    cols = math.ceil(math.sqrt(n))
    cell = 2 * radius.max() + SYSTEM_GAP + 0.6   # room for the "ICS n" label
    k = np.arange(n)
    return np.column_stack([(k % cols) * cell, -(k // cols) * cell]).astype(float)


def _names(slots, labels, n_systems: int, places: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Display names a trainer can read: the kind, a number if there are several, and where it is.

    An organisation based in a place is named after the place and numbered
    among its kind there. In a real ICS (``places``: its councils' names):
    "Acute hospital trust 2 (Wirral)", "Primary care network 3 (Halton)",
    "Local Healthwatch (Sefton)", and a council is "Wirral council". In the
    stylised ICS the places are numbered as in the picture: "Acute hospital
    trust (Place 2)", "Council (Place 2)". System-wide bodies are numbered in
    their ICS: "Mental health trust 2". With several ICSs the ICS is named too.
    """
    def place_of(s: OrganisationSlot) -> str | None:
        if s.place < 0:
            return None
        if places is not None and s.place < len(places):
            return places[s.place]
        return f"Place {s.place + 1}"

    def key_of(s: OrganisationSlot) -> tuple:
        return (s.kind, s.system, s.place if s.place >= 0 else None)

    totals: dict[tuple, int] = {}
    for s in slots:
        totals[key_of(s)] = totals.get(key_of(s), 0) + 1
    counters: dict[tuple, int] = {}
    names = []
    for s, label in zip(slots, labels):
        key = key_of(s)
        counters[key] = counters.get(key, 0) + 1
        place = place_of(s)
        if s.kind == "local_authority" and place is not None and totals[key] == 1:
            label = "Council" if place.startswith("Place ") else None
            if label is None:  # a real council: its own name
                names.append(f"{place} council" + (f" (ICS {s.system + 1})" if n_systems > 1 else ""))
                continue
        name = label if totals[key] == 1 else f"{label} {counters[key]}"
        parts = ([f"ICS {s.system + 1}"] if n_systems > 1 else []) + ([place] if place is not None else [])
        if parts:
            name += " (" + ", ".join(parts) + ")"
        names.append(name)
    return tuple(names)
