"""Organisations at the ICS table, as Mesa agents.

The model keeps each organisation's changing state in arrays (one row per
organisation) so that a month of England (over 4,000 organisations with
``n_vcse=60``) runs in milliseconds; an agent is the named, typed handle on its row. Its properties
read and write that row, so ``org.turf`` is always the model's current value.

A kind of organisation is a subclass that sets class attributes: its budget,
statutory weight, defensiveness and exposure to pressure and oversight.
Adding a kind is a subclass of a few lines (see docs/extending.md).
"""

from __future__ import annotations

import mesa
import numpy as np


class Organisation(mesa.Agent):
    """An organisation in an Integrated Care System.

    Class attributes (override them in a subclass):
        kind: short name used in tables and plots.
        label: name a policy reader understands.
        tier: ``"system"`` (sits at the ICB/ICP table) or ``"place"`` (works in one place).
        budget: relative budget (acute trust = 4).
        statutory_weight: weight of the statutory role in decisions.
        turf_disposition: multiplier on the initial and baseline turf.
        pressure_sensitivity: multiplier on operational pressure.
        nhs_oversight: scored and segmented by the NHS England-like overseer.
        cqc_inspected: inspected by the CQC-like inspector.
        colour: colour used by the browser view.
    """

    kind = "organisation"
    label = "Organisation"
    tier = "place"
    budget = 1.0
    statutory_weight = 1.0
    turf_disposition = 1.0
    pressure_sensitivity = 1.0
    nhs_oversight = False
    cqc_inspected = False
    colour = "#888888"

    def __init__(self, model, index: int, system: int, place: int, systems: tuple[int, ...]):
        super().__init__(model)
        self.index = index            # row in the model's organisation arrays
        self.system = system          # home ICS
        self.place = place            # place id (-1 for system-level bodies)
        self.systems = systems        # every ICS the organisation serves

    # --- array-backed state -------------------------------------------------
    def _get(self, name):
        return getattr(self.model.orgs, name)[self.index]

    @property
    def turf(self) -> float:
        """Protectiveness of budget, remit, staff and identity, in [0, 1]."""
        return float(self.model.orgs.turf[self.index])

    @turf.setter
    def turf(self, value: float) -> None:
        self.model.orgs.turf[self.index] = np.clip(value, 0.0, 1.0)

    @property
    def pressure(self) -> float:
        """Operational and financial pressure this month, in [0, 1]."""
        return float(self._get("pressure"))

    @property
    def capacity(self) -> float:
        """Management capacity left after pressure, in [0, 1]."""
        return float(self._get("capacity"))

    @property
    def current_budget(self) -> float:
        """Budget now (after cuts and mergers)."""
        return float(self._get("budget"))

    @property
    def voice(self) -> float:
        """Share of decision weight in its system."""
        return float(self._get("voice"))

    @property
    def true_performance(self) -> float:
        return float(self._get("true_performance"))

    @property
    def reported_performance(self) -> float:
        return float(self._get("reported_performance"))

    @property
    def segment(self) -> int:
        """Oversight segment (1 best to 4 worst; 0 when not segmented)."""
        return int(self._get("segment"))

    @property
    def effort(self) -> dict[str, float]:
        """How capacity is split: own targets, compliance, gaming, joint work."""
        o = self.model.orgs
        i = self.index
        return {
            "own": float(o.effort_own[i]),
            "compliance": float(o.effort_compliance[i]),
            "gaming": float(o.effort_gaming[i]),
            "joint": float(o.effort_joint[i]),
        }

    @property
    def joint_work_share(self) -> float:
        """Share of discretionary capacity put into joint work this month."""
        o = self.model.orgs
        return float(o.joint_work[self.index] / max(o.discretionary[self.index], 1e-12))

    @property
    def active(self) -> bool:
        return bool(self._get("active"))

    @property
    def trust_given(self) -> float:
        """Mean trust this organisation has in its partners."""
        return float(self.model.ties.mean_by_source(self.model.ties.trust)[self.index])

    @property
    def trust_received(self) -> float:
        """Mean trust its partners have in it."""
        return float(self.model.ties.mean_by_target(self.model.ties.trust)[self.index])

    def partners(self) -> list["Organisation"]:
        """Organisations this one has a tie with."""
        ties = self.model.ties
        dst = ties.dst[(ties.src == self.index) & ties.active]
        return [self.model.organisation_rows[j] for j in dst]

    def step(self) -> None:
        """Not how a month runs: raise, rather than let ``organisations.shuffle_do("step")`` do nothing."""
        raise NotImplementedError(
            "Organisations do not step one by one: ICSModel.step() runs each phase of the month "
            "(pressure, effort, joint work, oversight, trust, turf, ...) for all organisations at once, "
            "on arrays (model.orgs, model.ties). Change behaviour with a kind's class attributes, a "
            "decision rule (ICSModel(rules=...)) or a regulator subclass: see docs/extending.md."
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.unique_id} system={self.system} place={self.place}>"


class IntegratedCareBoard(Organisation):
    kind = "icb"
    label = "Integrated Care Board"
    tier = "system"
    # Voice comes from the ICB's statutory role as convener and commissioner; the money
    # it allocates is spent by providers, so its own budget (running costs) is modest.
    budget = 1.0
    statutory_weight = 2.0
    turf_disposition = 0.7
    pressure_sensitivity = 0.8
    nhs_oversight = True
    colour = "#1f4e79"


class AcuteTrust(Organisation):
    kind = "acute"
    label = "Acute hospital trust"
    tier = "system"
    budget = 4.0
    statutory_weight = 1.0
    turf_disposition = 1.2
    pressure_sensitivity = 1.2
    nhs_oversight = True
    cqc_inspected = True
    colour = "#005eb8"


class MentalHealthTrust(Organisation):
    kind = "mental_health"
    label = "Mental health trust"
    tier = "system"
    budget = 1.5
    statutory_weight = 1.0
    turf_disposition = 1.0
    pressure_sensitivity = 1.1
    nhs_oversight = True
    cqc_inspected = True
    colour = "#41b6e6"


class CommunityTrust(Organisation):
    kind = "community"
    label = "Community trust"
    tier = "system"
    budget = 1.0
    statutory_weight = 1.0
    turf_disposition = 0.9
    pressure_sensitivity = 1.0
    nhs_oversight = True
    cqc_inspected = True
    colour = "#00a9ce"


class AmbulanceTrust(Organisation):
    kind = "ambulance"
    label = "Ambulance trust"
    tier = "system"
    budget = 1.2
    statutory_weight = 0.8
    turf_disposition = 1.0
    pressure_sensitivity = 1.3
    nhs_oversight = True
    cqc_inspected = True
    colour = "#768692"


class LocalAuthority(Organisation):
    kind = "local_authority"
    label = "Local authority (upper tier)"
    tier = "system"
    budget = 2.0
    statutory_weight = 0.8
    turf_disposition = 1.0
    pressure_sensitivity = 1.2
    nhs_oversight = False
    cqc_inspected = True  # CQC assesses adult social care duties
    colour = "#d5281b"


class VCSEAlliance(Organisation):
    kind = "vcse_alliance"
    label = "VCSE alliance"
    tier = "system"
    budget = 0.1
    statutory_weight = 0.4
    turf_disposition = 0.6
    pressure_sensitivity = 1.0
    colour = "#009639"


class VCSEProvider(Organisation):
    kind = "vcse"
    label = "VCSE provider"
    tier = "place"
    budget = 0.05
    statutory_weight = 0.2
    turf_disposition = 0.7
    pressure_sensitivity = 1.1
    colour = "#78be20"


class PrimaryCareNetwork(Organisation):
    kind = "primary_care"
    label = "Primary care network"
    tier = "place"
    budget = 0.3
    statutory_weight = 0.3
    turf_disposition = 0.8
    pressure_sensitivity = 1.2
    cqc_inspected = True
    colour = "#ffb81c"


class Healthwatch(Organisation):
    kind = "healthwatch"
    label = "Local Healthwatch"
    tier = "place"
    budget = 0.02
    statutory_weight = 0.3
    turf_disposition = 0.5
    pressure_sensitivity = 0.8
    colour = "#ae2573"


# Built-in kinds in table order. A modeller's kind needs no entry here.
ORGANISATION_KINDS: dict[str, type[Organisation]] = {
    cls.kind: cls
    for cls in (
        IntegratedCareBoard,
        AcuteTrust,
        MentalHealthTrust,
        CommunityTrust,
        AmbulanceTrust,
        LocalAuthority,
        VCSEAlliance,
        VCSEProvider,
        PrimaryCareNetwork,
        Healthwatch,
    )
}
