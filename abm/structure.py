"""Who sits at the table: the organisations of each ICS and their ties.

Layout of one ICS (DOMAIN.md §1):
- system tier: the ICB, acute, mental-health, community and ambulance trusts,
  the upper-tier councils and the VCSE alliance. All of them sit together at
  the ICB/ICP table, so every pair of them has a tie.
- place tier: each council's footprint is one place. Primary care networks,
  VCSE providers and a local Healthwatch work in one place; each has ties to
  the ICB, its place's council, the acute trust serving its place, the
  community and mental-health trusts (VCSE providers also to the alliance),
  and random ties to other place-tier organisations in its place (mean
  ``place_degree``).
- mental-health trusts may serve ``mental_health_span`` neighbouring ICSs and
  ambulance trusts ``ambulance_span``; they sit at each of those tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.organisation import Organisation


@dataclass
class OrganisationSpec:
    """One organisation to create: its class, home ICS, place and the ICSs it serves."""

    cls: type[Organisation]
    system: int
    place: int
    systems: tuple[int, ...]


@dataclass
class Structure:
    specs: list[OrganisationSpec]
    pairs: np.ndarray
    n_places: int
    place_system: list[int] = field(default_factory=list)


def _groups(n_systems: int, span: int) -> list[tuple[int, ...]]:
    return [tuple(range(g, min(g + span, n_systems))) for g in range(0, n_systems, span)]


def build_structure(p: dict, kinds: dict[str, type[Organisation]], extra: dict, rng: np.random.Generator) -> Structure:
    """Create the organisation specs and the undirected pairs that have a tie.

    ``kinds`` maps built-in kind names to the classes to use (a modeller may
    swap one); ``extra`` maps further classes to a count per ICS.
    """
    n_sys = p["n_systems"]
    n_la = p["n_local_authorities"]
    specs: list[OrganisationSpec] = []
    place_system: list[int] = []

    def add(cls, system, place, systems=None):
        specs.append(OrganisationSpec(cls, system, place, systems or (system,)))

    # Shared trusts first, by group of neighbouring ICSs.
    shared: dict[int, list[int]] = {s: [] for s in range(n_sys)}
    for group in _groups(n_sys, p["ambulance_span"]):
        shared_idx = len(specs)
        add(kinds["ambulance"], group[0], -1, group)
        for s in group:
            shared[s].append(shared_idx)
    if p["n_mental_health"] > 0:
        for group in _groups(n_sys, p["mental_health_span"]):
            for _ in range(p["n_mental_health"]):
                shared_idx = len(specs)
                add(kinds["mental_health"], group[0], -1, group)
                for s in group:
                    shared[s].append(shared_idx)

    pairs: set[tuple[int, int]] = set()

    def tie(a, b):
        if a != b:
            pairs.add((a, b) if a < b else (b, a))

    for s in range(n_sys):
        places = list(range(len(place_system), len(place_system) + n_la))
        place_system.extend([s] * n_la)
        table = list(shared[s])
        own_start = len(specs)
        add(kinds["icb"], s, -1)
        icb = own_start
        acute = []
        for a in range(p["n_acute"]):
            acute.append(len(specs))
            add(kinds["acute"], s, places[a % n_la])
        community = []
        for _ in range(p["n_community"]):
            community.append(len(specs))
            add(kinds["community"], s, -1)
        councils = []
        for pl in places:
            councils.append(len(specs))
            add(kinds["local_authority"], s, pl)
        alliance = len(specs)
        add(kinds["vcse_alliance"], s, -1)
        table += list(range(own_start, len(specs)))
        for cls, count in extra.items():
            if cls.tier == "system":
                for _ in range(count):
                    table.append(len(specs))
                    add(cls, s, -1)
        for i, a in enumerate(table):
            for b in table[i + 1:]:
                tie(a, b)

        # Place tier.
        place_members: dict[int, list[int]] = {pl: [] for pl in places}
        place_kinds = [(kinds["primary_care"], p["n_primary_care"]), (kinds["vcse"], p["n_vcse"]),
                       (kinds["healthwatch"], n_la)]
        place_kinds += [(cls, count) for cls, count in extra.items() if cls.tier != "system"]
        mental_health = [i for i in shared[s] if specs[i].cls is kinds["mental_health"]]
        for cls, count in place_kinds:
            for k in range(count):
                pl = places[k % n_la]
                idx = len(specs)
                add(cls, s, pl)
                place_members[pl].append(idx)
                tie(idx, icb)
                tie(idx, councils[places.index(pl)])
                serving = [a for a in acute if specs[a].place == pl]
                if acute and not serving:
                    serving = [acute[places.index(pl) % len(acute)]]
                for a in serving:
                    tie(idx, a)
                for c in community + mental_health:
                    tie(idx, c)
                if cls is kinds["vcse"]:
                    tie(idx, alliance)
        for pl, members in place_members.items():
            m = len(members)
            if m < 2 or p["place_degree"] <= 0:
                continue
            prob = min(1.0, p["place_degree"] / (m - 1))
            upper = np.triu(rng.random((m, m)) < prob, k=1)
            for a, b in zip(*np.nonzero(upper)):
                tie(members[a], members[b])

    pair_array = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return Structure(specs, pair_array, len(place_system), place_system)
