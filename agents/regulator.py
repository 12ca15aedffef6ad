"""Regulators that apply the accountability regime, as Mesa agents.

A regulator's role (``"overseer"`` or ``"inspector"``) is an attribute, so it
covers the organisations that name that role in ``overseen_by``, wherever it
stands in the model's list. The regulators (and the ICB, ``agents.icb``) are
the only code that reads the regime's knobs; what they do is what
organisations experience:

- **asks** (overseer, monthly): national asks to every body it covers take
  compliance work: more and more detailed asks under a prescriptive regime,
  fewer for bodies that earned autonomy. Detailed asks are also a clear
  steer: they cut the coordination overhead of joint work between bodies
  that work to the same steer (``abm.joint_work``), whether they received
  it or the ICB's plan relays it to them (``agents.icb``).
- **inspections** (each regulator, monthly): an inspection budget that
  grows with oversight intensity, less what improvement support uses, spread
  over the covered bodies by risk (a low segment, being caught before) and
  away from bodies with earned autonomy. An inspection detects gaming with a
  chance that rises with how much the body games; a detected body is
  sanctioned, its reported figures are corrected and its partners see it.
  An inspection also checks contributions to joint work: a body putting in
  under half its ICS's mean is sanctioned as a free-rider. The inspector
  does so at every inspection, with chance ``free_rider_deterrence``
  (working in partnership with other agencies is part of being well led:
  Care Quality Commission 2017); the overseer with that chance times the
  weight its scores give the system outcome.
- **league tables** (overseer, quarterly): covered providers are scored on
  reported performance and the system outcome, weighted by the regime's
  ``system_focus``, and ranked into quartile segments (ties broken at random;
  a provider in deficit is no higher than segment 3). The scores, their
  weights and their consequences are published. Segment 1 earns autonomy;
  segment 4 brings mandated intensive support, with a chance set by
  intensity: a sanction that takes capacity and brings improvement help,
  each supported body using two inspections' worth of the overseer's
  inspection budget. ICBs are assessed apart, on
  their system's outcome.
- **forums** (overseer): a mandate for a number of forums per ICS, held by the
  ICB (``agents.icb``).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
from numba import njit

SUPPORT_PER_QUARTER = 0.1      # assumption: performance support from a quarter of intensive support at full strength
INTENSIVE_SUPPORT_LOAD = 0.1    # assumption: capacity intensive support takes from a body at full intensity
SUPPORT_INSPECTION_COST = 0.25  # assumption: a month of intensive support for one body uses a quarter of an inspection's capacity
RISK_WEIGHT = 2.0               # assumption: a risky body is three times as likely to be inspected
FORUMS_AT_FULL = 4.0            # assumption: forums per ICS per month the overseer mandates at full convening and intensity


@dataclass
class Publication:
    """What the overseer published at its last review: weights and consequences of its scores."""

    org_weight: float = 0.0          # weight of reported organisational performance in provider scores
    system_weight: float = 0.0       # weight of the system outcome in provider scores
    consequence_rate: float = 0.0    # mean consequence a ranked provider's segment brought (0-1)
    icb_consequence_rate: float = 0.0  # the same for ICBs, assessed on their system's outcome
    published: bool = False


class Regulator(mesa.Agent):
    """A body that inspects the organisations that name its ``role`` and detects gaming."""

    kind = "regulator"
    label = "Regulator"
    role = "inspector"
    reviews = False  # publishes league tables and segments

    def covers(self, model) -> np.ndarray:
        return model.orgs.covered_by(self.role) & model.orgs.active

    def inspection_budget(self, model) -> float:
        """Share of covered bodies it can inspect this month, after improvement support."""
        regime, p = model.regime, model.p
        budget = p["inspection_capacity"] * regime.oversight_intensity
        return max(0.0, budget - SUPPORT_INSPECTION_COST * self.support_load(model))

    def support_load(self, model) -> float:
        """Share of covered bodies receiving improvement support from it (none by default)."""
        return 0.0

    def inspection_chance(self, model) -> np.ndarray:
        """Each body's chance of an inspection this month: the budget spread by risk, away from autonomy."""
        orgs, regime = model.orgs, model.regime
        covered = self.covers(model)
        n = np.count_nonzero(covered)
        if n == 0:
            return np.zeros(orgs.n)
        risk = np.empty(orgs.n)
        _risk(segment=orgs.segment, caught_record=orgs.caught_record, autonomy=orgs.autonomy, covered=covered,
              earned_autonomy=regime.earned_autonomy, risk_weight=RISK_WEIGHT, risk=risk)
        total = risk.sum()
        if total <= 0:
            return np.zeros(orgs.n)
        _spread(risk=risk, inspections=self.inspection_budget(model) * n, total=total)
        return risk

    def inspect(self, model) -> None:
        """Inspect, detect gaming and (where it checks them) free-riders; record what each body experiences."""
        orgs, p, rng = model.orgs, model.p, model.rng
        inspection_draw = rng.random(orgs.n)
        chance = self.inspection_chance(model)
        if not isinstance(chance, np.ndarray):   # a subclass may give one chance for all
            chance = np.full(orgs.n, float(chance))
        detection_draw = rng.random(orgs.n)
        inspected, caught = _inspect(inspection_draw=inspection_draw, chance=chance, detection_draw=detection_draw,
                                     active=orgs.active, gaming_work=orgs.gaming_work,
                                     gaming_saturation=p["gaming_saturation"],
                                     detection_probability=p["detection_probability"],
                                     all_inspected=orgs.inspected, all_caught=orgs.caught_gaming)
        self.sanction(model, caught, 1.0)
        self.check_contributions(model, inspected)

    def free_rider_chance(self, model) -> float | None:
        """Chance an inspected free-rider is sanctioned, or None if this regulator does not check joint work.

        An inspection checks each body's share of joint work: working in partnership with other
        agencies is part of being well led, whatever a league table weighs.
        """
        return model.p["free_rider_deterrence"]

    def check_contributions(self, model, inspected: np.ndarray) -> None:
        """Sanction the inspected free-riders it catches (``free_rider_chance``)."""
        chance = self.free_rider_chance(model)
        if chance is None:
            return
        orgs, rng = model.orgs, model.rng
        caught = _catch_free_riders(inspected=inspected, free_riding=free_riders(orgs), draw=rng.random(orgs.n),
                                    chance=chance, caught_free_riding=orgs.caught_free_riding)
        self.sanction(model, caught, 1.0)

    def sanction(self, model, who: np.ndarray, weight: float) -> None:
        """Impose a sanction of the regime's severity on ``who``."""
        orgs = model.orgs
        _sanction(who=np.asarray(who, dtype=np.bool_), active=orgs.active, sanctioned=orgs.sanctioned,
                  sanction_size=orgs.sanction_size, size=weight * model.regime.sanction_severity)

    def ask(self, model) -> None:
        """Inspectors make no national asks."""

    def review(self, model) -> None:
        """Inspectors publish no league tables."""

    def forums(self, model) -> np.ndarray:
        """Forums per ICS this regulator mandates this month (none)."""
        return np.zeros(model.orgs.n_systems)

    def step(self) -> None:
        """Not how a month runs: raise, rather than let ``model.agents.shuffle_do("step")`` do nothing."""
        raise NotImplementedError(
            "Regulators do not step one by one: ICSModel.step() calls their ask, inspect and review "
            "methods for all organisations at once in its oversight phases. Change how a regulator "
            "works by overriding those in a subclass: see docs/extending.md."
        )


class CQCInspector(Regulator):
    """A CQC-like inspector: inspects providers and councils' care duties."""

    kind = "cqc"
    label = "Care Quality Commission"
    role = "inspector"


class NHSEOverseer(Regulator):
    """An NHS England-like overseer: asks, inspects, scores, segments, supports, sanctions."""

    kind = "nhse"
    label = "NHS England"
    role = "overseer"
    reviews = True
    review_interval = 3  # months (quarterly league tables)

    def support_load(self, model) -> float:
        covered = self.covers(model)
        n = max(np.count_nonzero(covered), 1)
        return np.count_nonzero(model.orgs.in_support & covered) / n

    def ask(self, model) -> None:
        """National asks: compliance work, intensive-support load and the steer they carry."""
        orgs, regime, p = model.orgs, model.regime, model.p
        covered = self.covers(model)
        volume = p["compliance_load"] * regime.oversight_intensity * (0.25 + 0.75 * regime.prescriptiveness)
        _asks(covered=covered, autonomy=orgs.autonomy, in_support=orgs.in_support,
              earned_autonomy=regime.earned_autonomy, volume=volume,
              intensive=INTENSIVE_SUPPORT_LOAD * regime.oversight_intensity,
              prescriptiveness=regime.prescriptiveness, asks=orgs.asks, steer=orgs.steer)

    def forums(self, model) -> np.ndarray:
        regime, p = model.regime, model.p
        return np.full(model.orgs.n_systems, FORUMS_AT_FULL * p["convening_strength"] * regime.oversight_intensity)

    def free_rider_chance(self, model) -> float | None:
        """The overseer checks joint work as far as its scores count the system outcome (not at all at 0)."""
        focus = model.regime.system_focus
        return None if focus <= 0 else focus * model.p["free_rider_deterrence"]

    def score(self, model) -> np.ndarray:
        """Published score of each provider: reported performance and the system outcome, by ``system_focus``."""
        focus = model.regime.system_focus
        orgs = model.orgs
        return (1.0 - focus) * orgs.reported_performance + focus * model.system_outcome[orgs.system]

    def review(self, model) -> None:
        """Quarterly league tables: segments, autonomy, intensive support; ICBs assessed apart."""
        if model.month % self.review_interval != 0:
            return
        orgs, regime, rng = model.orgs, model.regime, model.rng
        covered = self.covers(model)
        providers = covered & orgs.in_league_table
        icbs = covered & orgs.is_icb
        score = self.score(model)
        orgs.score[providers] = score[providers]
        orgs.segment[:] = 0
        orgs.segment[providers] = quartiles(score[providers], rng, cap=orgs.in_deficit[providers])
        orgs.score[icbs] = model.system_outcome[orgs.system[icbs]]
        orgs.segment[icbs] = quartiles(orgs.score[icbs], rng)
        entering = _autonomy_and_support(
            segment=orgs.segment, ranked=providers | icbs, draw=rng.random(orgs.n),
            intensity=regime.oversight_intensity,
            support_gain=model.p["improvement_support"] * regime.oversight_intensity * SUPPORT_PER_QUARTER,
            autonomy=orgs.autonomy, in_support=orgs.in_support, support=orgs.support)
        self.sanction(model, entering, 1.0)
        # what a ranking brings: intensive support (a sanction of the regime's severity), or the relief autonomy grants
        relief = regime.earned_autonomy * regime.oversight_intensity
        consequence = np.where(entering, regime.sanction_severity, orgs.autonomy * relief)
        model.publication = Publication(
            org_weight=1.0 - regime.system_focus,
            system_weight=regime.system_focus,
            consequence_rate=_mean(consequence[providers]),
            icb_consequence_rate=_mean(consequence[icbs]),
            published=True,
        )


def free_riders(orgs) -> np.ndarray:
    """Bodies putting under half their ICS's mean share of capacity into joint work (visible to partners)."""
    return _free_riders(system=orgs.system, active=orgs.active, effort_joint=orgs.effort_joint,
                        n_systems=orgs.n_systems)


@njit(cache=True)
def _free_riders(system, active, effort_joint, n_systems):
    """The mean share of capacity the active bodies of each ICS put into joint work (over at least one
    body), then the active bodies under half their ICS's mean."""
    total = np.zeros(n_systems)
    count = np.zeros(n_systems)
    for i in range(system.size):
        total[system[i]] += effort_joint[i] * active[i]
        count[system[i]] += active[i]
    free_riding = np.zeros(system.size, dtype=np.bool_)
    for i in range(system.size):
        mean = total[system[i]] / max(count[system[i]], 1.0)
        free_riding[i] = active[i] and effort_joint[i] < 0.5 * mean
    return free_riding


def quartiles(score: np.ndarray, rng: np.random.Generator, cap: np.ndarray | None = None) -> np.ndarray:
    """Quartile segments (1 best, 4 worst) of ``score``; equal scores are ordered at random.

    ``cap`` marks bodies (in deficit) that can be no higher than segment 3.
    """
    n = score.size
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    order = np.lexsort((rng.random(n), -score))
    capped = np.zeros(n, dtype=np.bool_) if cap is None else np.asarray(cap, dtype=np.bool_)
    return _segments(order=order, cap=capped)


@njit(cache=True)
def _segments(order, cap):
    """Segment 1 + 4 x rank // n of the body at each rank (``order``: best first), at least 3 where ``cap``."""
    n = order.size
    segment = np.empty(n, dtype=np.int8)
    for rank in range(n):
        i = order[rank]
        s = 1 + (4 * rank) // n
        segment[i] = 3 if cap[i] and s < 3 else s
    return segment


def _mean(values: np.ndarray) -> float:
    """``values.mean()`` (the same sum, in the same order) without its Python overhead; 0 when empty."""
    return float(np.add.reduce(values, axis=None) / values.size) if values.size else 0.0


@njit(cache=True)
def _autonomy_and_support(segment, ranked, draw, intensity, support_gain, autonomy, in_support, support):
    """After a league table: ranked bodies in segment 1 earn autonomy; those in segment 4 enter intensive
    support with chance ``intensity`` (by their ``draw``) and receive ``support_gain``. Returns who entered."""
    entering = np.zeros(segment.size, dtype=np.bool_)
    for i in range(segment.size):
        autonomy[i] = 1.0 if ranked[i] and segment[i] == 1 else 0.0
        entering[i] = ranked[i] and segment[i] == 4 and draw[i] < intensity
        in_support[i] = entering[i]
        if entering[i]:
            support[i] += support_gain
    return entering


@njit(cache=True)
def _inspect(inspection_draw, chance, detection_draw, active, gaming_work, gaming_saturation, detection_probability,
             all_inspected, all_caught):
    """Who is inspected (with its chance), and who of them is found gaming (more likely the more it games).

    Adds them to this month's ``all_inspected`` and ``all_caught`` and returns both, for this regulator.
    """
    inspected = np.zeros(active.size, dtype=np.bool_)
    caught = np.zeros(active.size, dtype=np.bool_)
    for i in range(active.size):
        inspected[i] = inspection_draw[i] < chance[i] and active[i]
        gaming_level = min(1.0, gaming_work[i] / gaming_saturation)
        caught[i] = inspected[i] and detection_draw[i] < detection_probability * gaming_level
        all_inspected[i] |= inspected[i]
        all_caught[i] |= caught[i]
    return inspected, caught


@njit(cache=True)
def _risk(segment, caught_record, autonomy, covered, earned_autonomy, risk_weight, risk):
    """Inspection risk of each covered body: higher in the bottom segment or when caught before,
    lower with earned autonomy (0 for bodies the regulator does not cover)."""
    for i in range(risk.size):
        risky = segment[i] == 4 or caught_record[i] > 0.1
        risk[i] = (1.0 + risk_weight * risky) * (1.0 - earned_autonomy * autonomy[i]) * covered[i]


@njit(cache=True)
def _asks(covered, autonomy, in_support, earned_autonomy, volume, intensive, prescriptiveness, asks, steer):
    """National asks to each covered body (fewer with earned autonomy, more in intensive support) and the steer
    they carry."""
    for i in range(asks.size):
        relief = 1.0 - earned_autonomy * autonomy[i]
        asks[i] = covered[i] * (volume * relief + intensive * in_support[i])
        steer[i] = covered[i] * prescriptiveness * (volume > 0)


@njit(cache=True)
def _spread(risk, inspections, total):
    """Turn risk into each body's chance of an inspection, in place: ``inspections`` (the budget x the
    bodies covered) shared in proportion to risk (``risk / total``), at most 1."""
    for i in range(risk.size):
        chance = inspections * risk[i] / total
        risk[i] = 1.0 if chance > 1.0 else chance


@njit(cache=True)
def _sanction(who, active, sanctioned, sanction_size, size):
    """Sanction the active bodies among ``who``: mark them and add ``size`` to this month's sanctions."""
    for i in range(who.size):
        if who[i] and active[i]:
            sanctioned[i] = True
            sanction_size[i] += size


@njit(cache=True)
def _catch_free_riders(inspected, free_riding, draw, chance, caught_free_riding):
    """Inspected free-riders caught (each with ``chance``, by its ``draw``); added to ``caught_free_riding``."""
    caught = np.zeros(inspected.size, dtype=np.bool_)
    for i in range(inspected.size):
        caught[i] = inspected[i] and free_riding[i] and draw[i] < chance
        caught_free_riding[i] |= caught[i]
    return caught
