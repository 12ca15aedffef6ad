"""Per-organisation state arrays (one row per organisation)."""

from __future__ import annotations

import numpy as np

from .kept import kept_until_changed


class OrganisationArrays:
    """The changing state of every organisation, as NumPy arrays.

    Fixed attributes come from each organisation's class (and its own draw
    of size, finances and leadership, ``abm.structure``); the rest is set by
    the model at the start and changed by the submodels every month.
    """

    def __init__(self, organisations, n_systems: int):
        n = len(organisations)
        self.n = n
        self.n_systems = n_systems
        col = lambda attr, dtype=float: np.array([getattr(o, attr) for o in organisations], dtype=dtype)  # noqa: E731
        self.kind = np.array([o.kind for o in organisations], dtype=object)
        self.system = np.array([o.system for o in organisations], dtype=np.int64)
        self.place = np.array([o.place for o in organisations], dtype=np.int64)
        self.budget = col("budget")
        self.statutory_weight = col("statutory_weight")
        self.turf_disposition = col("turf_disposition")
        self.pressure_sensitivity = col("pressure_sensitivity")
        self.channels = np.array([o.channels for o in organisations], dtype=float).reshape(n, -1)
        self._roles = {role: np.array([role in o.overseen_by for o in organisations], dtype=bool)
                       for role in {r for o in organisations for r in o.overseen_by} | {"overseer", "inspector"}}
        self.in_league_table = col("league_table", bool)
        self.is_icb = self.kind == "icb"
        self.acute = self.kind == "acute"
        self.discharge_support = np.isin(self.kind, ("local_authority", "community"))  # social care and community beds
        self.is_flow_exposed = np.isin(self.kind, ("acute", "ambulance"))  # their beds and handovers feel delayed discharges
        self.active = np.ones(n, dtype=bool)
        zeros = lambda: np.zeros(n)  # noqa: E731
        flags = lambda: np.zeros(n, dtype=bool)  # noqa: E731
        # heterogeneity, drawn by abm.structure
        self.integrity_gap = np.ones(n)   # leadership's readiness to game, relative to the sector (1 = typical)
        self.in_deficit = flags()         # spending above its allocation (pressure, segment cap)
        self.base_budget = self.budget.copy()
        # state
        self.turf = zeros()
        self.base_turf = zeros()
        self.pressure = zeros()
        self.shock = zeros()              # decaying extra pressure from shocks and cuts
        self.capacity = zeros()
        self.discretionary = zeros()      # capacity left after compliance and forums
        self.compliance = zeros()
        self.effort_own = zeros()
        self.effort_compliance = zeros()
        self.effort_gaming = zeros()
        self.effort_joint = zeros()
        self.own_work = zeros()
        self.gaming_work = zeros()
        self.joint_work = zeros()
        self.true_performance = zeros()
        self.reported_performance = zeros()
        self.expected_reciprocity = zeros()  # mean over its ties of (trust + record) / 2
        self.has_partners = zeros()          # 1 with at least one tie at connecting or above
        self.level_sum = zeros()             # summed continuum levels of its ties
        self.trust_in_icb = zeros()          # its trust in its own ICB
        # what the ICB does with it
        self.in_plan = flags()
        self.shared_purpose = zeros()
        self.pooled_relief = zeros()
        self.forum_time = zeros()
        # what the regulators do to it, this month
        self.asks = zeros()
        self.steer = zeros()
        self.inspected = flags()
        self.caught_gaming = flags()
        self.caught_free_riding = flags()
        self.sanctioned = flags()
        self.sanction_size = zeros()
        # what the regulators have done to it, lasting
        self.segment = np.zeros(n, dtype=np.int8)
        self.score = zeros()
        self.autonomy = zeros()           # 1 while in the top segment
        self.in_support = flags()         # in mandated intensive support
        self.sanction_stock = zeros()     # recent sanctions, decaying
        self.support = zeros()            # improvement support received, decaying
        self.caught_record = zeros()      # recent detections, decaying (raises inspection risk)
        self.scrutiny = zeros()           # felt scrutiny: asks, inspections, a bottom segment, decaying
        # joint work and learning
        self.unfairness = zeros()
        self.wins = zeros()
        self.voice = zeros()
        self.propensity = np.zeros((n, 3))
        self.aspiration = zeros()
        self.payoff = zeros()

    def active_by_system(self) -> np.ndarray:
        """Active organisations in each ICS (at least 1), as floats; read-only.

        Kept until the active organisations change (a merger), so the monthly
        steps that divide by it do not recount.
        """
        return kept_until_changed(self, "_active_by_system", (self.active,), self._count_active_by_system)

    def _count_active_by_system(self) -> np.ndarray:
        count = np.maximum(np.bincount(self.system, weights=self.active, minlength=self.n_systems), 1)
        count.setflags(write=False)
        return count

    def covered_by(self, role: str) -> np.ndarray:
        """Organisations that name ``role`` among the regulators overseeing them."""
        return self._roles.get(role, np.zeros(self.n, dtype=bool))

    def is_kind(self, *kinds: str) -> np.ndarray:
        return np.isin(self.kind, kinds)

    def clear_month(self) -> None:
        """Forget last month's oversight events before the regulators act again."""
        for flag in (self.inspected, self.caught_gaming, self.caught_free_riding, self.sanctioned):
            flag[:] = False
        self.sanction_size[:] = 0.0
