"""Organisations at the ICS table, as Mesa agents.

The model keeps each organisation's changing state in arrays (one row per
organisation) so that a month of England (over 4,000 organisations) runs in
milliseconds; an agent is the named, typed handle on its row. Its properties
read and write that row, so ``org.turf`` is always the model's current value.

A kind of organisation is a subclass that sets class attributes: its budget,
statutory weight, defensiveness, exposure to pressure, which regulators
oversee it, which kinds it ties to and which channels of value its joint work
feeds. Two decisions are class methods over all rows of the kind at once, so
a subclass can change how that kind decides (see docs/extending.md):

- ``effort_utilities``: how it values a unit of effort on its own targets,
  joint work and gaming, from what it believes about oversight;
- ``plan_participation``: how likely it is to sign up to the ICB's joint plan.

Neither reads a regime knob: organisations respond to what they have
experienced and observed (their beliefs, ``abm.beliefs``), never to the
settings of the regime.
"""

from __future__ import annotations

import mesa
import numpy as np
from numba import njit

#: kinds that sit at the ICB/ICP table and tie to one another
TABLE_KINDS = ("icb", "acute", "mental_health", "community", "ambulance", "local_authority", "vcse_alliance")
#: kinds that work in one place
PLACE_KINDS = ("primary_care", "vcse", "healthwatch")
#: assumption: manipulating figures takes effort worth nothing in itself, so nobody games what nobody scores
GAMING_EFFORT_COST = 0.3
#: channels through which joint work creates value (abm.channels)
CHANNELS = ("flow", "workforce", "prevention")


class Organisation(mesa.Agent):
    """An organisation in an Integrated Care System.

    Class attributes (override them in a subclass):
        kind: short name used in tables and plots.
        label: name a policy reader understands.
        tier: ``"system"`` (sits at the ICB/ICP table) or ``"place"`` (works in one place).
        budget: relative budget (acute trust = 4); each organisation's own
            budget varies around it (``size_spread``).
        statutory_weight: weight of the statutory role in decisions.
        turf_disposition: multiplier on the initial and baseline turf.
        pressure_sensitivity: multiplier on operational pressure.
        overseen_by: roles of the regulators that oversee it (``"overseer"``,
            ``"inspector"``); a regulator finds what it covers by its role.
        league_table: ranked in the overseer's provider league table (the ICB
            is held to account separately, on its system).
        ties_to: kinds it has a partnership with in each ICS it serves (a
            pair is tied when either side declares the other's kind).
        local_network: has random ties to other place-level bodies in its place.
        channels: how much its joint work feeds patient flow, workforce and
            prevention (a pair's project feeds the product of the two sides').
        colour: colour used by the browser view.
    """

    kind = "organisation"
    label = "Organisation"
    tier = "place"
    budget = 1.0
    statutory_weight = 1.0
    turf_disposition = 1.0
    pressure_sensitivity = 1.0
    overseen_by: tuple[str, ...] = ()
    league_table = False
    ties_to: tuple[str, ...] = ()
    local_network = False
    channels = (0.5, 0.5, 0.5)
    colour = "#888888"

    def __init__(self, model, index: int, system: int, place: int, systems: tuple[int, ...]):
        super().__init__(model)
        self.index = index            # row in the model's organisation arrays
        self.system = system          # home ICS
        self.place = place            # place id (-1 for system-level bodies)
        self.systems = systems        # every ICS the organisation serves

    def step(self) -> None:
        """Not used: ICSModel.step runs each phase of the month over all organisations at once.

        Change how a kind behaves by overriding ``effort_utilities`` or
        ``plan_participation`` in a subclass, or swap a rule
        (docs/extending.md).
        """
        raise NotImplementedError(
            "Organisations do not step one by one: ICSModel.step() runs each phase of the month "
            "(pressure, effort, joint work, oversight, trust, turf, ...) for all organisations at once, "
            "on arrays (model.orgs, model.ties). Change behaviour by overriding a decision method "
            "(effort_utilities, plan_participation) in a subclass, a decision rule (ICSModel(rules=...)) "
            "or a regulator subclass: see docs/extending.md.")

    # --- decisions, vectorised over the rows of one kind --------------------
    @classmethod
    def effort_utilities(cls, model, rows: np.ndarray) -> np.ndarray:
        """Perceived utility of a unit of effort on own targets, joint work and gaming (len(rows) x 3).

        - own targets: urgency of pressure + the stake it believes its own
          published score carries;
        - joint work: willingness (expected reciprocity x (1 - turf)) x (the
          collaborative advantage it expects, discounted by pressure's myopia,
          + the shared purpose it has signed up to + the stake it believes the
          system score carries) + the sanction it expects for free-riding;
        - gaming: its score stake x how much more gaming moves a reported
          score than real work x (1 - 4 x the chance it believes of being
          inspected, found out and the sanction's size, at least 0), less an
          integrity cost (1 - ``gaming_propensity`` x its leadership's
          readiness to game).
        """
        o, p, b = model.orgs, model.p, model.beliefs
        u = np.empty((len(rows), 3))
        _effort_utilities(rows=np.asarray(rows), pressure=o.pressure, expected_reciprocity=o.expected_reciprocity,
                          turf=o.turf, has_partners=o.has_partners, shared_purpose=o.shared_purpose,
                          integrity_gap=o.integrity_gap, inspection=b.inspection, detection=b.detection,
                          sanction=b.sanction, free_rider=b.free_rider, org_stake=b.org_stake,
                          system_stake=b.system_stake, myopia=p["myopia"],
                          collaborative_advantage=p["collaborative_advantage"],
                          gaming_leverage=p["gaming_leverage"], gaming_propensity=p["gaming_propensity"], u=u)
        return u

    @classmethod
    def plan_participation(cls, model, rows: np.ndarray) -> np.ndarray:
        """Chance of signing up to the ICB's joint plan: 0.3 + trust in the ICB - turf / 2 (clipped).

        Signing a plan costs little, so most bodies that trust their ICB do;
        a defensive body holds back (assumption).
        """
        o = model.orgs
        return np.clip(0.3 + o.trust_in_icb[rows] - 0.5 * o.turf[rows], 0.0, 1.0)

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
    def in_plan(self) -> bool:
        """Signed up to its ICB's joint plan this year."""
        return bool(self._get("in_plan"))

    @property
    def shared_purpose(self) -> float:
        """How far it has adopted the system's shared purpose (0-1)."""
        return float(self._get("shared_purpose"))

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
    def beliefs(self) -> dict[str, float]:
        """What it believes about oversight, learned from what happened to it and its peers."""
        return self.model.beliefs.of(self.index)

    @property
    def gaming_share(self) -> float:
        """Share of discretionary capacity put into gaming this month."""
        o = self.model.orgs
        return float(o.gaming_work[self.index] / max(o.discretionary[self.index], 1e-12))

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.unique_id} system={self.system} place={self.place}>"


@njit(cache=True)
def _effort_utilities(rows, pressure, expected_reciprocity, turf, has_partners, shared_purpose, integrity_gap,
                      inspection, detection, sanction, free_rider, org_stake, system_stake, myopia,
                      collaborative_advantage, gaming_leverage, gaming_propensity, u):
    """The default utilities (``Organisation.effort_utilities``), one row of ``u`` per organisation in ``rows``."""
    for r in range(rows.size):
        i = rows[r]
        horizon = 1.0 - myopia * pressure[i]     # pressure makes it myopic
        willingness = expected_reciprocity[i] * (1.0 - turf[i])
        caught = inspection[i] * detection[i] * sanction[i]
        free_rider_penalty = inspection[i] * free_rider[i] * sanction[i]
        deterrence = 1.0 - 4.0 * caught
        deterrence = 0.0 if deterrence < 0.0 else (1.0 if deterrence > 1.0 else deterrence)
        u[r, 0] = 0.4 + 0.6 * pressure[i] + org_stake[i]
        u[r, 1] = has_partners[i] * (
            willingness * (collaborative_advantage * horizon + shared_purpose[i] + system_stake[i])
            + free_rider_penalty)
        u[r, 2] = (org_stake[i] * gaming_leverage * deterrence
                   - (1.0 - gaming_propensity * integrity_gap[i]) - GAMING_EFFORT_COST)


_ALL_LOCAL = TABLE_KINDS + PLACE_KINDS
_NHS = ("overseer", "inspector")


class AcuteTrust(Organisation):
    kind = "acute"
    label = "Acute hospital trust"
    tier = "system"
    budget = 4.0
    statutory_weight = 1.0
    turf_disposition = 1.2
    pressure_sensitivity = 1.2
    overseen_by = _NHS
    league_table = True
    ties_to = _ALL_LOCAL
    channels = (1.0, 1.0, 0.2)
    colour = "#0072B2"


class MentalHealthTrust(Organisation):
    kind = "mental_health"
    label = "Mental health trust"
    tier = "system"
    budget = 1.5
    turf_disposition = 1.0
    pressure_sensitivity = 1.1
    overseen_by = _NHS
    league_table = True
    ties_to = _ALL_LOCAL
    channels = (0.6, 1.0, 0.6)
    colour = "#56B4E9"


class CommunityTrust(Organisation):
    kind = "community"
    label = "Community trust"
    tier = "system"
    budget = 1.0
    turf_disposition = 0.9
    pressure_sensitivity = 1.0
    overseen_by = _NHS
    league_table = True
    ties_to = _ALL_LOCAL
    channels = (1.0, 1.0, 0.5)
    colour = "#009E73"


class AmbulanceTrust(Organisation):
    kind = "ambulance"
    label = "Ambulance trust"
    tier = "system"
    budget = 1.2
    statutory_weight = 0.8
    turf_disposition = 1.0
    pressure_sensitivity = 1.3
    overseen_by = _NHS
    league_table = True
    ties_to = TABLE_KINDS
    channels = (1.0, 0.6, 0.1)
    colour = "#999999"


class LocalAuthority(Organisation):
    kind = "local_authority"
    label = "Local authority (upper tier)"
    tier = "system"
    budget = 2.0
    statutory_weight = 0.8
    turf_disposition = 1.0
    pressure_sensitivity = 1.2
    overseen_by = ("inspector",)  # CQC assesses adult social care duties
    ties_to = _ALL_LOCAL
    channels = (1.0, 0.4, 1.0)
    colour = "#D55E00"


class VCSEAlliance(Organisation):
    kind = "vcse_alliance"
    label = "VCSE alliance"
    tier = "system"
    budget = 0.1
    statutory_weight = 0.4
    turf_disposition = 0.6
    pressure_sensitivity = 1.0
    ties_to = TABLE_KINDS + ("vcse",)
    channels = (0.4, 0.2, 1.0)
    colour = "#E69F00"


class VCSEProvider(Organisation):
    kind = "vcse"
    label = "VCSE provider"
    tier = "place"
    budget = 0.05
    statutory_weight = 0.2
    turf_disposition = 0.7
    pressure_sensitivity = 1.1
    ties_to = ("icb", "local_authority", "acute", "community", "mental_health", "vcse_alliance")
    local_network = True
    channels = (0.5, 0.1, 1.0)
    colour = "#F0E442"


class PrimaryCareNetwork(Organisation):
    kind = "primary_care"
    label = "Primary care network"
    tier = "place"
    budget = 0.3
    statutory_weight = 0.3
    turf_disposition = 0.8
    pressure_sensitivity = 1.2
    overseen_by = ("inspector",)
    ties_to = ("icb", "local_authority", "acute", "community", "mental_health")
    local_network = True
    channels = (0.6, 0.6, 1.0)
    colour = "#CC79A7"


class Healthwatch(Organisation):
    kind = "healthwatch"
    label = "Local Healthwatch"
    tier = "place"
    budget = 0.02
    statutory_weight = 0.3
    turf_disposition = 0.5
    pressure_sensitivity = 0.8
    ties_to = ("icb", "local_authority", "acute", "community", "mental_health")
    local_network = True
    channels = (0.2, 0.0, 0.5)
    colour = "#882255"
