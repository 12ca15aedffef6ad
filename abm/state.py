"""Per-organisation state arrays (one row per organisation)."""

from __future__ import annotations

import numpy as np


class OrganisationArrays:
    """The changing state of every organisation, as NumPy arrays.

    Fixed attributes come from each organisation's class; the rest is set by
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
        self.base_budget = self.budget.copy()
        self.statutory_weight = col("statutory_weight")
        self.turf_disposition = col("turf_disposition")
        self.pressure_sensitivity = col("pressure_sensitivity")
        self.nhs_oversight = col("nhs_oversight", bool)
        self.cqc_inspected = col("cqc_inspected", bool)
        self.acute = self.kind == "acute"
        self.active = np.ones(n, dtype=bool)
        zeros = lambda: np.zeros(n)  # noqa: E731
        self.turf = zeros()
        self.base_turf = zeros()
        self.pressure = zeros()
        self.shock = zeros()              # decaying extra pressure from shocks and cuts
        self.capacity = zeros()
        self.discretionary = zeros()      # capacity left after compliance
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
        self.segment = np.zeros(n, dtype=np.int8)
        self.autonomy = zeros()           # 1 when in the top segment under earned autonomy
        self.sanction_stock = zeros()     # recent sanctions, decaying
        self.support = zeros()            # improvement support received, decaying
        self.unfairness = zeros()         # perceived unfair sharing of joint benefits, decaying
        self.wins = zeros()               # record of shared wins, decaying
        self.scrutiny = zeros()
        self.voice = zeros()
        self.propensity = np.zeros((n, 3))  # learned lean towards own / joint / gaming
        self.aspiration = zeros()
        self.payoff = zeros()
        self.gaming_detected = np.zeros(n, dtype=bool)
        self.sanctioned = np.zeros(n, dtype=bool)
        self.inspected = np.zeros(n, dtype=bool)

    def is_kind(self, *kinds: str) -> np.ndarray:
        return np.isin(self.kind, kinds)
