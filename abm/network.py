"""Directed ties between organisations, held as arrays.

Every partnership is a pair of directed ties i->j and j->i stored next to
each other: tie ``2k`` and ``2k+1`` are the two directions of pair ``k``, so
the reverse of tie ``e`` is ``e ^ 1``. Per-tie state (trust, reputation
damage, continuum level, record of kept commitments) lives in NumPy arrays;
nothing on the monthly path loops over ties in Python.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from numba import njit

from .kept import kept_until_changed

LEVELS = ("none", "connecting", "cooperating", "coordinating", "collaborating")


class TieNetwork:
    """Arrays of directed ties among ``n_orgs`` organisations."""

    def __init__(self, pairs: np.ndarray, n_orgs: int, system: np.ndarray | None = None,
                 system_tier: np.ndarray | None = None, channels: np.ndarray | None = None,
                 is_icb: np.ndarray | None = None):
        """Per organisation: ``system`` (home ICS), ``system_tier`` (sits at the ICB/ICP table),
        ``channels`` (how much its joint work feeds each channel) and ``is_icb``."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        self.n_orgs = n_orgs
        self.n_pairs = len(pairs)
        self.src = np.empty(2 * self.n_pairs, dtype=np.int64)
        self.dst = np.empty(2 * self.n_pairs, dtype=np.int64)
        self.src[0::2], self.dst[0::2] = pairs[:, 0], pairs[:, 1]
        self.src[1::2], self.dst[1::2] = pairs[:, 1], pairs[:, 0]
        self.rev = np.arange(2 * self.n_pairs) ^ 1
        self.a = pairs[:, 0].copy()   # first partner of each pair
        self.b = pairs[:, 1].copy()   # second partner of each pair
        self._directed = np.empty(2 * self.n_pairs)
        system = np.zeros(n_orgs, dtype=np.int64) if system is None else np.asarray(system)
        system_tier = np.zeros(n_orgs, dtype=bool) if system_tier is None else np.asarray(system_tier)
        self.system_a = system[self.a]                                   # home ICS of each pair's partners
        self.system_b = system[self.b]
        self.table_pair = system_tier[self.a] & system_tier[self.b]     # both sit at the ICB/ICP table
        self.table_pairs = np.flatnonzero(self.table_pair)
        channels = np.ones((n_orgs, 3)) if channels is None else np.asarray(channels, dtype=float)
        mix = channels[self.a] * channels[self.b]
        total = mix.sum(axis=1, keepdims=True)
        # the channels a pair's joint work feeds: the product of the two sides', as shares
        self.channel_mix = np.divide(mix, total, out=np.full_like(mix, 1.0 / mix.shape[1]), where=total > 0)
        # the order in which an ICB considers pairs for a forum: by ICS, most patient-flow work first
        self.convening_order = np.lexsort((-self.channel_mix[:, 0], self.system_a))
        # where each ICS's run of pairs starts and ends in that order (an ICB walks only its own)
        ordered_system = self.system_a[self.convening_order]
        self.convening_bounds = np.concatenate(([0], np.flatnonzero(np.diff(ordered_system)) + 1,
                                                [self.n_pairs])).astype(np.int64)
        is_icb = np.zeros(n_orgs, dtype=bool) if is_icb is None else np.asarray(is_icb)
        # the tie from each organisation to its own ICB (-1 where it has none)
        self.to_icb = np.full(n_orgs, -1, dtype=np.int64)
        to_own_icb = np.flatnonzero(is_icb[self.dst] & (system[self.dst] == system[self.src]))
        self.to_icb[self.src[to_own_icb]] = to_own_icb
        n = 2 * self.n_pairs
        self.trust = np.zeros(n)
        self.damage = np.zeros(n)
        self.record = np.zeros(n)
        self.level = np.zeros(n, dtype=np.int8)
        self.investment = np.zeros(n)      # joint effort put into the tie this month
        self.forum_left = np.zeros(self.n_pairs, dtype=np.int16)  # months a pair's ICB forum still meets
        self.active = np.ones(n, dtype=bool)
        self._refresh_degree()

    @property
    def n(self) -> int:
        return self.src.size

    def member_pairs(self, in_plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pairs of which both partners signed the joint plan, in convening order, and where each ICS's
        run of them starts and ends (``members[member_bounds[r]:member_bounds[r + 1]]`` lies in the run
        ``convening_order[convening_bounds[r]:convening_bounds[r + 1]]``).

        Kept until plan membership changes (each April), so the ICB's first walk, over its plan's
        members, does not pass every other pair month after month.
        """
        def pairs() -> tuple[np.ndarray, np.ndarray]:
            order = self.convening_order
            both = np.flatnonzero(in_plan[self.a[order]] & in_plan[self.b[order]])
            return order[both], np.searchsorted(both, self.convening_bounds).astype(np.int64)

        return kept_until_changed(self, "_member_pairs", (in_plan,), pairs)

    def _refresh_degree(self) -> None:
        w = self.active.astype(float)
        self.out_degree = np.bincount(self.src, weights=w, minlength=self.n_orgs)
        self.in_degree = np.bincount(self.dst, weights=w, minlength=self.n_orgs)

    def deactivate_org(self, index: int) -> None:
        """Remove an organisation's ties (for mergers)."""
        gone = (self.src == index) | (self.dst == index)
        self.active[gone] = False
        self.level[gone] = 0
        self.investment[gone] = 0.0
        self._refresh_degree()

    def per_org_from_pairs(self, for_a: np.ndarray, for_b: np.ndarray | None = None) -> np.ndarray:
        """Sum pair values per organisation: ``for_a`` to each pair's a, ``for_b`` (default the same) to b."""
        buf = self._directed
        buf[0::2] = for_a
        buf[1::2] = for_a if for_b is None else for_b
        return np.bincount(self.src, weights=buf, minlength=self.n_orgs)

    def sum_by_source(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.src, weights=values * self.active, minlength=self.n_orgs)

    def sum_by_target(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.dst, weights=values * self.active, minlength=self.n_orgs)

    def mean_by_source(self, values: np.ndarray) -> np.ndarray:
        """Mean over each organisation's outgoing ties (0 where it has none)."""
        return self.sum_by_source(values) / np.maximum(self.out_degree, 1)

    def mean_by_target(self, values: np.ndarray) -> np.ndarray:
        """Mean over each organisation's incoming ties (0 where it has none)."""
        return self.sum_by_target(values) / np.maximum(self.in_degree, 1)

    def summarise(self, orgs) -> None:
        """Per organisation, from its ties: summed levels, expected reciprocity, partners, trust in its ICB."""
        _summary(src=self.src, level=self.level, trust=self.trust, record=self.record, active=self.active,
                 degree=self.out_degree, to_icb=self.to_icb, is_icb=orgs.is_icb, level_sum=orgs.level_sum,
                 expected_reciprocity=orgs.expected_reciprocity, has_partners=orgs.has_partners,
                 trust_in_icb=orgs.trust_in_icb)

    def to_networkx(self, organisations=None) -> nx.DiGraph:
        """The active ties as a networkx DiGraph with trust and level on each edge."""
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n_orgs))
        for e in np.flatnonzero(self.active):
            g.add_edge(
                int(self.src[e]), int(self.dst[e]),
                trust=float(self.trust[e]), level=int(self.level[e]),
                damage=float(self.damage[e]),
            )
        if organisations is not None:
            for org in organisations:
                g.nodes[org.index].update(kind=org.kind, system=org.system, place=org.place)
        return g


@njit(cache=True)
def _summary(src, level, trust, record, active, degree, to_icb, is_icb, level_sum, expected_reciprocity,
             has_partners, trust_in_icb):
    """Fill, per organisation: the sum of its ties' levels, its mean expected reciprocity
    ((trust + record) / 2), whether it has a partner at connecting or above, and its trust in its
    own ICB (0 without a tie to one; an ICB trusts itself fully). ``degree``: each organisation's
    active ties (``out_degree``, kept up to date by ``deactivate_org``, the only change to ``active``)."""
    n_orgs = level_sum.size
    level_sum[:] = 0.0
    expected_reciprocity[:] = 0.0
    has_partners[:] = 0.0
    for e in range(src.size):
        if not active[e]:
            continue
        i = src[e]
        level_sum[i] += level[e]
        expected_reciprocity[i] += 0.5 * (trust[e] + record[e])
        if level[e] > 0:
            has_partners[i] = 1.0
    for i in range(n_orgs):
        if degree[i] > 0:
            expected_reciprocity[i] /= degree[i]
        if is_icb[i]:
            trust_in_icb[i] = 1.0
        elif to_icb[i] >= 0:
            trust_in_icb[i] = trust[to_icb[i]]
        else:
            trust_in_icb[i] = 0.0
