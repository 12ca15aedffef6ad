"""ICSModel: organisations, their ties, regulators and the regime, month by month.

One step is one month. The order within a month (docs/ODD.md, "Process
overview and scheduling"):

 1. scheduled events (regime changes, mergers, turnover, cuts, shocks)
 2. pressure and capacity
 3. voice
 4. oversight demands: compliance, scrutiny, inspection chances
 5. effort choice: own targets, joint work, gaming
 6. joint work on ties: projects, small wins, benefit sharing, delayed capability
 7. performance (true and reported)
 8. system outcome; oversight acts: inspections, gaming detection, sanctions; quarterly segments
 9. trust (kept commitments, small wins, reputation)
10. turf
11. continuum levels
12. learning (satisfaction against aspiration)
13. metrics
"""

from __future__ import annotations

import bisect
import numbers
from typing import Any

import mesa
import numpy as np

from agents.organisation import ORGANISATION_KINDS, Organisation
from agents.regulator import CQCInspector, NHSEOverseer

from . import effort, joint_work, kernels, oversight, performance, pressure, trust, turf, voice
from .events import ScheduledEvent, check_event
from .metrics import MetricsCollector, tie_table
from .network import TieNetwork
from .parameters import REGIME_KNOBS, validate_parameters
from .regimes import Regime, resolve_regime
from .rules import resolve_rules
from .state import OrganisationArrays
from .structure import build_structure

SANCTION_DECAY = 0.9   # assumption: a sanction's effect on turf halves in about 7 months
SUPPORT_DECAY = 0.9    # assumption: improvement support fades likewise


def _unpack_event(item) -> tuple:
    """An ``events=`` entry: (month, kind) or (month, kind, {options})."""
    shape = "(month, kind) or (month, kind, {options})"
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise ValueError(f"events: entry {item!r} must be {shape}")
    if len(item) == 3 and not isinstance(item[2], dict):
        raise ValueError(f"events: options in {item!r} must be a dict, as in {shape}")
    if not isinstance(item[1], str):
        raise ValueError(f"events: kind in {item!r} must be a string, as in {shape}")
    return item[0], item[1], dict(item[2]) if len(item) == 3 else {}


class ICSModel(mesa.Model):
    """Collaboration in one or more Integrated Care Systems.

    Every parameter is a keyword with a default (see ``abm.parameters``);
    ``regime`` names a preset whose knobs any of ``oversight_intensity``,
    ``system_focus``, ``sanction_severity``, ``prescriptiveness``,
    ``earned_autonomy`` and ``funding_flexibility`` override.

    Extension keywords (not model parameters):
        organisation_classes: {kind name: subclass} to swap a built-in kind.
        extra_organisations: {Organisation subclass: count per ICS} to add kinds.
        rules: {rule name: function or registered name} to swap a decision rule.
        events: [(month, kind, {options})] structural events to schedule.
        regulators: list of Regulator classes (default NHSEOverseer, CQCInspector).
    """

    def __init__(
        self,
        *,
        organisation_classes: dict[str, type[Organisation]] | None = None,
        extra_organisations: dict[type[Organisation], int] | None = None,
        rules: dict | None = None,
        events: list | None = None,
        regulators: list | None = None,
        **params: Any,
    ):
        p = validate_parameters(params)
        super().__init__(rng=p["rng"])
        self.p = p
        self.rules = resolve_rules(rules)
        self._regime = resolve_regime(p["regime"], **{k: p[k] for k in REGIME_KNOBS})
        for k in REGIME_KNOBS:
            p[k] = getattr(self._regime, k)
        self.regime_history: list[tuple[int, Regime]] = [(0, self._regime)]

        kinds = dict(ORGANISATION_KINDS)
        for name, cls in (organisation_classes or {}).items():
            if name not in ORGANISATION_KINDS:
                raise ValueError(f"organisation_classes: unknown kind {name!r}; kinds are {', '.join(ORGANISATION_KINDS)}")
            if not (isinstance(cls, type) and issubclass(cls, ORGANISATION_KINDS[name])):
                raise TypeError(f"organisation_classes[{name!r}] must subclass {ORGANISATION_KINDS[name].__name__}")
            kinds[name] = cls
        extra = dict(extra_organisations or {})
        for cls, count in extra.items():
            if not (isinstance(cls, type) and issubclass(cls, Organisation)):
                raise TypeError(f"extra_organisations: {cls!r} is not an Organisation subclass")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"extra_organisations[{cls.__name__}]: count {count!r} must be a whole number >= 0")

        # --- structure ---------------------------------------------------------
        structure = build_structure(p, kinds, extra, self.rng)
        self.n_places = structure.n_places
        self.place_system = np.array(structure.place_system, dtype=np.int64)
        self.organisations: list[Organisation] = [
            spec.cls(self, index=i, system=spec.system, place=spec.place, systems=spec.systems)
            for i, spec in enumerate(structure.specs)
        ]
        self.orgs = OrganisationArrays(self.organisations, p["n_systems"])
        self.agent_ids = np.array([o.unique_id for o in self.organisations])
        system_tier = np.array([o.tier == "system" for o in self.organisations])
        self.ties = TieNetwork(structure.pairs, len(self.organisations), self.orgs.system, system_tier)
        regulator_classes = regulators if regulators is not None else [NHSEOverseer, CQCInspector]
        self.regulators = [cls(self) for cls in regulator_classes]

        self._voice_gini_of = None
        # ties from councils and VCSE bodies to their partners (their inclusion)
        self.inclusion_ties = self.orgs.is_kind("local_authority", "vcse", "vcse_alliance")[self.ties.src]
        self._initialise_state()
        self.capability_pipeline = joint_work.CapabilityPipeline(
            p["n_systems"], p["capability_delay"], p["capability_decay"],
            initial_stock=performance.INITIAL_CAPABILITY_PER_TRUST * p["initial_trust"])
        self.capability = performance.capability_level(self.capability_pipeline.stock)
        performance.settle_performance(self.orgs, self.capability)
        self.system_outcome = performance.system_outcome(self.orgs, self.capability)
        self.joint_work_result: joint_work.JointWorkResult | None = None  # what joint work did last month
        self._schedule: list[ScheduledEvent] = []
        for item in events or []:
            month, event, options = _unpack_event(item)
            self.schedule_structural_event(month, event, **options)

        self.datacollector = MetricsCollector(p["collect_agents"], p["collect_ties"])
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _initialise_state(self) -> None:
        p, orgs, ties, rng = self.p, self.orgs, self.ties, self.rng
        orgs.base_turf[:] = np.clip(p["initial_turf"] * orgs.turf_disposition, 0.0, 1.0)
        orgs.turf[:] = np.clip(orgs.base_turf + rng.normal(0.0, 0.05, orgs.n), 0.0, 1.0)
        ties.trust[:] = np.clip(p["initial_trust"] + rng.normal(0.0, 0.05, ties.n), 0.0, 1.0)
        ties.record[:] = p["initial_trust"]
        # Organisations that sit together at the ICB/ICP table start connected.
        ties.level[:] = np.repeat(ties.table_pair, 2).astype(np.int8)
        pressure.update_pressure(orgs, p, 0)
        voice.update_voice(orgs, p)
        orgs.discretionary[:] = orgs.capacity
        orgs.aspiration[:] = 0.5
        orgs.payoff[:] = 0.5

    # ------------------------------------------------------------------ regime
    @property
    def regime(self) -> Regime:
        """The accountability regime in force."""
        return self._regime

    @property
    def voice_gini(self) -> float:
        """Gini of voice within ICSs, mean over ICSs (recomputed only when voice changes)."""
        if self._voice_gini_of is None or not np.array_equal(self._voice_gini_of, self.orgs.voice):
            orgs = self.orgs
            act = orgs.active
            self._voice_gini = float(voice.gini_by_group(orgs.voice[act], orgs.system[act], orgs.n_systems).mean())
            self._voice_gini_of = orgs.voice.copy()
        return self._voice_gini

    @property
    def month(self) -> int:
        """Months simulated so far (the Mesa clock ``time``)."""
        return int(self.time)

    def run_for(self, duration: int) -> None:
        """Run ``duration`` more months: a whole number >= 0 (the clock counts months; inf never ends)."""
        if isinstance(duration, bool) or not isinstance(duration, numbers.Integral) or duration < 0:
            raise ValueError(f"run_for: duration {duration!r} must be a whole number of months >= 0")
        super().run_for(int(duration))

    def set_regime(self, regime: str | Regime | None = None, **knobs: float | None) -> Regime:
        """Change the regime now: a preset name and/or knob overrides.

        With no preset name the current regime's knobs are overridden.
        """
        base = self._regime if regime is None else regime
        new = resolve_regime(base, **knobs)
        self._regime = new
        for k in REGIME_KNOBS:
            self.p[k] = getattr(new, k)
        self.p["regime"] = new.name
        self.regime_history.append((self.month, new))
        return new

    def schedule_regime(self, month: int, regime: str | None = None, **knobs: float | None) -> None:
        """Change the regime at the start of ``month`` (e.g. a new government)."""
        self.schedule_structural_event(month, "regime", regime=regime, **knobs)

    # ------------------------------------------------------------------ events
    def schedule_structural_event(self, month: int, event: str, /, **options: Any) -> None:
        """Schedule ``event`` (a kind in ``abm.events``) at the start of ``month``."""
        full = check_event(event, month, options, self.p["n_systems"])
        if month <= self.month and self.steps > 0:
            raise ValueError(f"event {event!r}: month {month} has passed (the model is at month {self.month})")
        bisect.insort(self._schedule, ScheduledEvent(month, event, full))

    def trigger(self, event: str, /, **options: Any) -> None:
        """Apply ``event`` now (the browser view's shock, merger and cut buttons)."""
        self._apply_event(event, check_event(event, max(self.month, 0), options, self.p["n_systems"]))

    def _apply_event(self, kind: str, o: dict) -> None:
        orgs, ties, p = self.orgs, self.ties, self.p
        if kind == "regime":
            self.set_regime(o["regime"], **{k: o[k] for k in REGIME_KNOBS})
            return
        in_system = np.ones(orgs.n, dtype=bool) if o.get("system") is None else (orgs.system == int(o["system"]))
        if kind == "demand_shock":
            orgs.shock[in_system & orgs.active] += float(o["size"])
            return
        chosen = np.flatnonzero(orgs.active & in_system & (orgs.kind == o["kind"]))
        if kind == "budget_cut":
            orgs.budget[chosen] *= 1.0 - float(o["share"])
            orgs.shock[chosen] += 2.0 * float(o["share"])
        elif kind == "merger":
            if chosen.size < 2:
                return  # nothing to merge
            keep, gone = chosen[0], chosen[-1]
            orgs.budget[keep] += orgs.budget[gone]
            orgs.active[gone] = False
            ties.deactivate_org(gone)
            self.organisations[gone].remove()
            orgs.turf[keep] = min(1.0, orgs.turf[keep] + 0.2)
            into_keep = ties.active & (ties.dst == keep)
            ties.trust[into_keep] += 0.5 * (p["initial_trust"] - ties.trust[into_keep])
        elif kind == "leadership_turnover":
            if chosen.size == 0:
                return
            who = chosen[int(self.rng.integers(chosen.size))]
            touched = ties.active & ((ties.src == who) | (ties.dst == who))
            ties.trust[touched] += 0.5 * (p["initial_trust"] - ties.trust[touched])
            ties.damage[touched] *= 0.5
            orgs.propensity[who] = 0.0
            orgs.turf[who] = orgs.base_turf[who]

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        p, orgs, ties, rng = self.p, self.orgs, self.ties, self.rng
        month = self.month  # Mesa has already advanced the clock to this month
        while self._schedule and self._schedule[0].month <= month:
            event = self._schedule.pop(0)
            self._apply_event(event.kind, event.options)
        regime = self._regime

        # 2-3. pressure, capacity, voice
        pressure.update_pressure(orgs, p, month)
        voice.update_voice(orgs, p)

        # 4. oversight demands
        demand = oversight.demands(self)
        convening = p["convening_strength"] * regime.oversight_intensity
        steer = p["steer_strength"] * regime.oversight_intensity * regime.prescriptiveness

        # 5. effort choice
        level_sum, expected, has_partners = kernels.organisation_tie_summary(
            ties.src, ties.level, ties.trust, ties.record, ties.active, ties.n_orgs)
        utilities = effort.effort_utilities(orgs, expected, has_partners, regime, p, demand.inspection_rate)
        shares = self.rules["effort_choice"](utilities, orgs.propensity, p)
        # a stronger steer makes each unit of effort count for more
        orgs.own_work[:] = shares[:, effort.OWN] * orgs.discretionary * (1.0 + 0.5 * steer)
        orgs.joint_work[:] = shares[:, effort.JOINT] * orgs.discretionary
        orgs.gaming_work[:] = shares[:, effort.GAMING] * orgs.discretionary
        total = np.maximum(orgs.capacity, 1e-12)
        orgs.effort_own[:] = shares[:, effort.OWN] * orgs.discretionary / total
        orgs.effort_joint[:] = orgs.joint_work / total
        orgs.effort_gaming[:] = orgs.gaming_work / total
        orgs.effort_compliance[:] = orgs.compliance / total

        # 6. joint work
        factor = joint_work.level_output_factor(p, regime.funding_flexibility, steer)
        result = joint_work.run_projects_compiled(ties, orgs, convening, factor, rng.random(ties.n_pairs, dtype=np.float32), level_sum)
        joint_work.sharing_and_wins(orgs, result)
        self.joint_work_result = result
        n_in_system = np.maximum(np.bincount(orgs.system, weights=orgs.active, minlength=orgs.n_systems), 1)
        self.capability_pipeline.add(result.inflow / n_in_system)
        self.capability = performance.capability_level(self.capability_pipeline.stock)

        # 7. performance
        orgs.sanction_stock *= SANCTION_DECAY
        orgs.support *= SUPPORT_DECAY
        performance.update_performance(orgs, self.capability, p)

        # 8. oversight acts
        self.system_outcome = performance.system_outcome(orgs, self.capability)
        detected = oversight.act(self, demand.covered)

        # 9. trust
        self._update_trust(result, detected)

        # 10. turf
        drivers = {
            "base": orgs.base_turf,
            "scrutiny": orgs.scrutiny,
            "sanctions": np.minimum(orgs.sanction_stock, 1.0),
            "scarcity": turf.scarcity(orgs, regime),
            "unfairness": orgs.unfairness,
            "wins": orgs.wins,
            "shared_purpose": np.full(orgs.n, regime.system_focus),
        }
        turf.update_turf(orgs, self.rules["turf_target"](drivers, p), p)

        # 11. continuum (mandated forums hold partners of the ICB/ICP table at least at connecting)
        draws_up = rng.random(ties.n_pairs, dtype=np.float32)
        draws_convene = np.ones(ties.n_pairs, dtype=np.float32)
        draws_convene[ties.table_pairs] = rng.random(ties.table_pairs.size, dtype=np.float32)
        kernels.update_levels(ties.a, ties.b, ties.trust, orgs.turf, ties.level, result.attempted,
                              ties.table_pair, ties.active, draws_up, draws_convene, p["readiness_step"],
                              p["continuum_hysteresis"], p["step_up_probability"], convening)

        # 12. learning
        focus = regime.system_focus
        orgs.payoff[:] = ((1.0 - focus) * orgs.reported_performance + focus * self.system_outcome[orgs.system]
                          - 0.5 * orgs.sanctioned)
        effort.learn(orgs, shares, p)

        # 13. metrics
        self.datacollector.collect(self)

    def _update_trust(self, result, detected: np.ndarray) -> None:
        """Trust moves towards what each organisation observed of each partner this month.

        Observations: kept commitments in joint work (weight 1 where one invested);
        reputation: a third party seen succeeding in joint work with others
        (good, weight ``reputation_weight`` x its win rate) or detected gaming
        (bad, weight ``reputation_weight`` x ``negativity_bias``). Then the
        trust rule, and small wins raise both partners' trust.
        """
        p, ties = self.p, self.ties
        bad_weight = min(1.0, p["reputation_weight"] * p["negativity_bias"])
        if self.rules["trust_update"] is trust.asymmetric_trust_update:
            kernels.update_trust(
                ties.src, ties.dst, ties.trust, ties.damage, ties.record, ties.investment,
                result.kept_by_a, result.kept_by_b, result.success, result.win_rate, detected,
                p["record_smoothing"], p["reputation_weight"], bad_weight, p["trust_build_rate"],
                p["trust_erosion_rate"], p["damage_gain"], p["damage_decay"], p["small_win_boost"])
            return
        obs, weight = self._trust_observations(result, detected, bad_weight)
        ties.trust[:], ties.damage[:] = self.rules["trust_update"](ties.trust, ties.damage, obs, weight, p)
        win = np.repeat(result.success, 2)
        ties.trust += p["small_win_boost"] * win * np.maximum(1.0 - ties.damage - ties.trust, 0.0)

    def _trust_observations(self, result, detected, bad_weight):
        """This month's observation of each partner and its weight (and the record update)."""
        p, ties = self.p, self.ties
        observed = ties.investment > 0
        kept = np.empty(ties.n)
        kept[0::2] = result.kept_by_a
        kept[1::2] = result.kept_by_b
        ties.record += p["record_smoothing"] * observed * (kept - ties.record)
        good_weight = (p["reputation_weight"] * result.win_rate)[ties.dst] * ~observed
        weight = observed + good_weight + bad_weight * detected[ties.dst]
        obs = (observed * kept + good_weight) / np.maximum(weight, 1e-12)
        return obs, np.minimum(weight, 1.0)

    # ------------------------------------------------------------------ views
    def tie_table(self):
        """The current tie table: source, target, kinds, trust, damage, record, level."""
        return tie_table(self)

    def organisations_of(self, kind: str) -> list[Organisation]:
        return [o for o in self.organisations if o.kind == kind and o.active]

    def network(self):
        """The current ties as a networkx DiGraph."""
        return self.ties.to_networkx(self.organisations)
