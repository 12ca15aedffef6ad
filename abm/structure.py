"""Who sits at the table: the organisations of each ICS, their ties and how they differ.

An ICS is described by an ``ICSConfig`` (its population, how many bodies of
each kind are based in it, its places, whether it was a first-wave system and
its deprivation); trusts that serve several ICSs (ambulance trusts, many
mental-health trusts) are ``SharedBody`` entries. The stylised default builds
``n_systems`` equal ICSs from the structure parameters (``stylised_configs``).

Ties are declared by the kinds, not written here: two bodies that serve a
common ICS are partners when either kind names the other in ``ties_to``, and
a body that works in one place (``tier = "place"``) is a partner only of
bodies that serve its place: system-wide bodies, its own council, the acute
trusts serving it. Place-level bodies with ``local_network`` also have random
ties to one another within their place (mean ``place_degree``). A new kind
gets its ties by declaring them; nothing here changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.organisation import Organisation

ENGLAND_POPULATION = 56_490_048  # Census 2021, England (ONS)


@dataclass(frozen=True)
class ICSConfig:
    """One ICS: its name, population, bodies based in it (by kind), places and history."""

    name: str
    population: float
    counts: dict[str, int]
    n_places: int
    first_wave: bool = False
    deprivation: float = 0.0   # relative to the England mean (0 = mean, 0.2 = 20% more deprived)


@dataclass(frozen=True)
class SharedBody:
    """A trust of ``kind`` that serves each ICS in ``systems`` (the first is its home)."""

    kind: str
    systems: tuple[int, ...]


@dataclass
class OrganisationSpec:
    """One organisation to create: its class, home ICS, place, the ICSs and places it serves."""

    cls: type[Organisation]
    system: int
    place: int
    systems: tuple[int, ...]
    serves: tuple[int, ...] = ()   # places served; empty: every place of its ICSs


@dataclass
class Structure:
    specs: list[OrganisationSpec]
    pairs: np.ndarray
    n_places: int
    place_system: list[int] = field(default_factory=list)


def stylised_configs(p: dict) -> tuple[list[ICSConfig], list[SharedBody]]:
    """``n_systems`` equal ICSs from the structure parameters, with shared trusts by span."""
    n_sys = p["n_systems"]
    counts = {"icb": 1, "acute": p["n_acute"], "community": p["n_community"],
              "local_authority": p["n_local_authorities"], "vcse_alliance": 1,
              "primary_care": p["n_primary_care"], "vcse": p["n_vcse"],
              "healthwatch": p["n_local_authorities"]}
    configs = [ICSConfig(f"ICS {s + 1}", ENGLAND_POPULATION / 42, counts, p["n_local_authorities"])
               for s in range(n_sys)]
    shared = [SharedBody("ambulance", g) for g in _groups(n_sys, p["ambulance_span"])]
    shared += [SharedBody("mental_health", g) for g in _groups(n_sys, p["mental_health_span"])
               for _ in range(p["n_mental_health"])]
    return configs, shared


def _groups(n_systems: int, span: int) -> list[tuple[int, ...]]:
    return [tuple(range(g, min(g + span, n_systems))) for g in range(0, n_systems, span)]


def build_structure(configs: list[ICSConfig], shared: list[SharedBody], kinds: dict[str, type[Organisation]],
                    extra: dict, place_degree: float, rng: np.random.Generator) -> Structure:
    """Create the organisation specs and the undirected pairs that have a tie.

    ``kinds`` maps kind names to the classes to use (a modeller may swap one);
    ``extra`` maps further classes to a count per ICS.
    """
    specs: list[OrganisationSpec] = []
    place_system: list[int] = []
    serving: dict[int, list[int]] = {s: [] for s in range(len(configs))}

    for body in shared:
        for s in body.systems:
            serving[s].append(len(specs))
        specs.append(OrganisationSpec(kinds[body.kind], body.systems[0], -1, body.systems))

    for s, config in enumerate(configs):
        places = list(range(len(place_system), len(place_system) + config.n_places))
        place_system.extend([s] * config.n_places)
        by_kind = [(kinds[k], c) for k, c in config.counts.items() if c > 0]
        by_kind += [(cls, c) for cls, c in extra.items() if c > 0]
        for cls, count in by_kind:
            for k in range(count):
                serving[s].append(len(specs))
                specs.append(_spec(cls, s, places, k, count))

    pairs = [_pairs_of_system(serving[s], specs, place_degree, rng) for s in range(len(configs))]
    pairs = np.unique(np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64), axis=0)
    return Structure(specs, pairs.reshape(-1, 2), len(place_system), place_system)


def _spec(cls, s: int, places: list[int], k: int, count: int) -> OrganisationSpec:
    """Where the k-th of ``count`` bodies of ``cls`` in ICS ``s`` sits and which places it serves."""
    n = len(places)
    if cls.tier == "place" or cls.kind == "local_authority":
        place = places[k % n] if n else -1
        return OrganisationSpec(cls, s, place, (s,), (place,) if n else ())
    if cls.kind == "acute" and n:
        # each place is served by one acute trust, round the trusts; each trust serves its home place
        serves = tuple(sorted({places[j] for j in range(n) if j % count == k} | {places[k % n]}))
        return OrganisationSpec(cls, s, places[k % n], (s,), serves)
    return OrganisationSpec(cls, s, -1, (s,))


def _pairs_of_system(members: list[int], specs: list[OrganisationSpec], place_degree: float,
                     rng: np.random.Generator) -> np.ndarray:
    """The declared ties among the bodies serving one ICS, and random ties within its places."""
    if len(members) < 2:
        return np.zeros((0, 2), np.int64)
    idx = np.array(members)
    mspecs = [specs[i] for i in members]
    kinds = sorted({sp.cls.kind for sp in mspecs})
    code = np.array([kinds.index(sp.cls.kind) for sp in mspecs])
    declared_kinds = np.array([[other in sp.cls.ties_to for other in kinds] for sp in mspecs])
    declared = declared_kinds[:, code]           # row declares column's kind
    declared |= declared.T
    system_tier = np.array([sp.cls.tier == "system" for sp in mspecs])
    local = [sp.place for sp in mspecs]
    place_ids = sorted({pl for pl in local if pl >= 0} | {pl for sp in mspecs for pl in sp.serves})
    col = {pl: j for j, pl in enumerate(place_ids)}
    serves = np.ones((len(mspecs), len(place_ids)), dtype=bool)
    for r, sp in enumerate(mspecs):
        if sp.serves:
            serves[r] = False
            serves[r, [col[pl] for pl in sp.serves]] = True
    place_tier = ~system_tier
    own = np.array([col.get(pl, 0) for pl in local])
    # a place-level body meets a system-level one that serves its place
    reach = serves[:, own].T                     # [x, y]: y serves x's place
    ok = system_tier[:, None] & system_tier[None, :]
    ok |= place_tier[:, None] & system_tier[None, :] & reach
    ok |= ok.T
    tie = np.triu(declared & ok, k=1)

    networked = np.array([sp.cls.local_network for sp in mspecs]) & place_tier
    if place_degree > 0 and networked.any():
        same_place = (own[:, None] == own[None, :]) & networked[:, None] & networked[None, :]
        size = same_place.sum(axis=1)
        prob = np.minimum(1.0, place_degree / np.maximum(size - 1, 1))
        draw = rng.random((len(mspecs), len(mspecs))) < prob[:, None]
        tie |= np.triu(same_place & draw, k=1)
    a, b = np.nonzero(tie)
    pairs = np.column_stack([idx[a], idx[b]])
    return np.sort(pairs, axis=1)


def draw_heterogeneity(orgs, p: dict, rng: np.random.Generator) -> None:
    """Organisations of one kind differ: size, finances and leadership.

    - size: budget x a lognormal factor with log-sd ``size_spread`` (mean 1);
    - finances: each NHS provider is in deficit with chance ``deficit_share``
      (King's Fund: 44-66% of trusts in deficit 2015/16-2018/19);
    - leadership: readiness to game relative to the sector, a lognormal factor
      with log-sd ``leadership_spread``; its collaborativeness shifts turf by
      the same draw (a defensive leadership games more and guards more turf).
    """
    n = orgs.n
    sigma = p["size_spread"]
    orgs.budget *= np.exp(rng.normal(-0.5 * sigma ** 2, sigma, n)) if sigma > 0 else 1.0
    orgs.base_budget[:] = orgs.budget
    orgs.in_deficit[:] = orgs.in_league_table & (rng.random(n) < p["deficit_share"])
    z = rng.normal(0.0, 1.0, n)
    orgs.integrity_gap[:] = np.exp(p["leadership_spread"] * z)
    orgs.turf_disposition *= np.exp(0.5 * p["leadership_spread"] * z)
