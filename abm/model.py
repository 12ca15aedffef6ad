"""ICSModel: organisations, their ties, regulators, the ICB and the regime, month by month.

One step is one month. The order within a month (docs/ODD.md, "Process
overview and scheduling"):

 1. scheduled events (regime changes, mergers, turnover, cuts, shocks)
 2. pressure and capacity; voice; what each organisation sees of its ties
 3. the ICB: every April a joint plan and pooled funds; every month forums
 4. the regulators' asks: compliance work and the national steer, which the ICB's
    plan relays to its members
 5. effort choice: own targets, joint work, gaming (each kind's own rule)
 6. joint work on ties: projects, small wins, benefit sharing, channel output
 7. channels (admissions, delayed discharges, vacancies) and performance
 8. system outcome; the regulators act: inspections, detection, sanctions,
    quarterly league tables
 9. beliefs about oversight, from what organisations and their peers saw
10. trust (kept commitments, small wins, reputation)
11. turf
12. continuum levels
13. shared purpose; learning (satisfaction against aspiration)
14. metrics

The regime's knobs are read only by the regulators (``agents.regulator``) and
the ICB (``agents.icb``); every other step works from what they did.
"""

from __future__ import annotations

import bisect
import numbers
from typing import Any

import mesa
import numpy as np
from mesa.agentset import AgentSet
from mesa.experimental.scenarios import Scenario

from agents.kinds import ORGANISATION_KINDS
from agents.organisation import Organisation
from agents.regulator import CQCInspector, NHSEOverseer, Regulator

from . import continuum, effort, joint_work, oversight, performance, pressure, trust, turf, voice  # noqa: F401 (trust registers its rule)
from .beliefs import Beliefs
from .channels import DELAYS_REFERENCE, Channels
from .england import structure_configs
from .events import ScheduledEvent, check_event
from .ics_table import ics_table
from .kept import kept_until_changed
from .mesa_interface import documented_parameters, scenario_for, scenario_parameters
from .metrics import MetricsCollector, tie_table
from .network import TieNetwork
from .parameters import REGIME_KNOBS, validate_parameters
from .regimes import Regime, resolve_regime
from .rules import resolve_rules
from .state import OrganisationArrays
from .structure import build_structure, draw_heterogeneity

#: decisions a kind of organisation may override (class methods over its rows)
DECISIONS = ("effort_utilities", "plan_participation")
DIRECTION_NOISE = 0.03  # assumption: the two directions of a pair's initial trust differ a little


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


@documented_parameters  # signature and help() list every parameter of the table (abm/parameters.py)
class ICSModel(mesa.Model):
    """Collaboration in one or more Integrated Care Systems.

    Every parameter is a keyword with a default (listed below, from ``abm.parameters``);
    ``regime`` names a preset whose knobs any of ``oversight_intensity``,
    ``system_focus``, ``sanction_severity``, ``prescriptiveness``,
    ``earned_autonomy`` and ``funding_flexibility`` override. Parameters may also
    come in a Mesa ``scenario`` (``mesa.experimental.scenarios.Scenario``), as
    SolaraViz's Reset passes them; ``model.scenario`` holds every parameter the
    model was built with.

    Extension keywords (not model parameters):
        scenario: a Mesa Scenario carrying parameters (keywords given too must agree with it).
        organisation_classes: {kind name: subclass} to swap a built-in kind.
        extra_organisations: {Organisation subclass: count per ICS} to add kinds.
        rules: {rule name: function or registered name} to swap a decision rule.
        events: [(month, kind, {options})] structural events to schedule.
        regulators: list of Regulator classes (default NHSEOverseer, CQCInspector).
        model_reporters, agent_reporters, agenttype_reporters: extra Mesa DataCollector
            reporters, collected every month beside the built-in metrics (agent
            reporters run over ``model.organisations``).
    """

    def __init__(
        self,
        *,
        scenario: Scenario | None = None,
        organisation_classes: dict[str, type[Organisation]] | None = None,
        extra_organisations: dict[type[Organisation], int] | None = None,
        rules: dict | None = None,
        events: list | None = None,
        regulators: list | None = None,
        model_reporters: dict | None = None,
        agent_reporters: dict | None = None,
        agenttype_reporters: dict | None = None,
        **params: Any,
    ):
        p = validate_parameters(scenario_parameters(scenario, params))
        super().__init__(rng=p["rng"], scenario=scenario_for(p, like=scenario))
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
        configs, shared = structure_configs(p)   # real ICSs (ics=, england=) or the stylised n_systems
        self.ics_names = [c.name for c in configs]
        self.population = np.array([c.population for c in configs], dtype=float)
        self.deprivation = np.array([c.deprivation for c in configs], dtype=float)
        self.first_wave = np.array([c.first_wave for c in configs], dtype=bool)
        structure = build_structure(configs, shared, kinds, extra, p["place_degree"], self.rng)
        self.n_places = structure.n_places
        self.place_system = np.array(structure.place_system, dtype=np.int64)
        # Row i of the arrays (model.orgs) is organisation_rows[i], merged-away organisations included;
        # model.organisations is the AgentSet of those still in the model (regulators are not in it).
        self.organisation_rows: tuple[Organisation, ...] = tuple(
            spec.cls(self, index=i, system=spec.system, place=spec.place, systems=spec.systems)
            for i, spec in enumerate(structure.specs)
        )
        self.organisations: AgentSet = AgentSet(self.organisation_rows, random=self.random)
        self.orgs = OrganisationArrays(self.organisation_rows, len(configs))
        draw_heterogeneity(self.orgs, p, self.rng)
        self.agent_ids = np.array([o.unique_id for o in self.organisation_rows])
        self._rows_by_class = {}
        for o in self.organisation_rows:
            self._rows_by_class.setdefault(type(o), []).append(o.index)
        self._rows_by_class = {cls: np.array(rows) for cls, rows in self._rows_by_class.items()}
        self._all_rows = np.arange(len(self.organisation_rows))
        system_tier = np.array([o.tier == "system" for o in self.organisation_rows])
        self.ties = TieNetwork(structure.pairs, len(self.organisation_rows), self.orgs.system, system_tier,
                               self.orgs.channels, self.orgs.is_icb)
        self.icb_class = kinds["icb"]
        regulator_classes = regulators if regulators is not None else [NHSEOverseer, CQCInspector]
        for cls in regulator_classes:
            if not (isinstance(cls, type) and issubclass(cls, Regulator)):
                raise TypeError(f"regulators: {cls!r} is not a Regulator subclass")
        self.regulators = [cls(self) for cls in regulator_classes]

        # ties from councils and VCSE bodies to their partners (their inclusion)
        self.inclusion_ties = self.orgs.is_kind("local_authority", "vcse", "vcse_alliance")[self.ties.src]
        self.beliefs = Beliefs(self.orgs)
        self.publication = None
        self.pooled_share = np.zeros(self.orgs.n_systems)
        self._initialise_state()
        self.joint_work_result: joint_work.JointWorkResult | None = None  # what joint work did last month
        self._schedule: list[ScheduledEvent] = []
        for item in events or []:
            month, event, options = _unpack_event(item)
            self.schedule_structural_event(month, event, **options)

        self.datacollector = MetricsCollector(p["collect_agents"], p["collect_ties"], model_reporters,
                                              agent_reporters, agenttype_reporters)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _initialise_state(self) -> None:
        p, orgs, ties, rng = self.p, self.orgs, self.ties, self.rng
        orgs.base_turf[:] = np.clip(p["initial_turf"] * orgs.turf_disposition, 0.0, 1.0)
        orgs.turf[:] = np.clip(orgs.base_turf + rng.normal(0.0, 0.05, orgs.n), 0.0, 1.0)
        # prior joint working differs by pair (and a little by direction); first-wave systems have more
        history = p["initial_trust"] + p["trust_spread"] * rng.normal(0.0, 1.0, ties.n_pairs)
        history += 0.1 * self.first_wave[ties.system_a]
        ties.trust[:] = np.clip(np.repeat(history, 2) + rng.normal(0.0, DIRECTION_NOISE, ties.n), 0.0, 1.0)
        ties.record[:] = ties.trust
        # a pair's history is a trust level: clipped like trust, so initial capability stays in [0, 1)
        self.initial_trust_by_system = np.bincount(ties.system_a, weights=np.clip(history, 0.0, 1.0),
                                                   minlength=orgs.n_systems) / \
            np.maximum(np.bincount(ties.system_a, minlength=orgs.n_systems), 1)
        # Organisations that sit together at the ICB/ICP table start connected.
        ties.level[:] = np.repeat(ties.table_pair, 2).astype(np.int8)
        self.channels = Channels(self)
        pressure.update_pressure(orgs, p, 0, self.channels.vacancy_rate)
        self.channels.update(self, p["winter_pressure"] * pressure.winter_wave(0))
        pressure.update_pressure(orgs, p, 0, self.channels.vacancy_rate)
        voice.update_voice(orgs, p)
        ties.summarise(orgs)
        performance.settle_performance(orgs, self.channels.delayed_days / DELAYS_REFERENCE)
        self.system_outcome = self.channels.system_outcome(orgs)
        self.plan_baseline = self.system_outcome.copy()
        self.plan_track_record = np.zeros(orgs.n_systems)
        self.icb_class.agree_plans(self)
        orgs.shared_purpose[:] = orgs.in_plan * p["initial_trust"]
        self.icb_class.pool_funds(self)
        orgs.discretionary[:] = orgs.capacity
        orgs.aspiration[:] = 0.5
        orgs.payoff[:] = 0.5

    def decide(self, decision: str) -> np.ndarray:
        """Run one decision (``DECISIONS``) for every organisation, each kind by its own class method.

        The base rule runs once over all rows; a kind that overrides it
        replaces the rows of its own organisations.
        """
        base = getattr(Organisation, decision)
        result = base(self, self._all_rows)
        for cls, rows in self._rows_by_class.items():
            method = getattr(cls, decision)
            if method.__func__ is not base.__func__:
                result[rows] = method(self, rows)
        return result

    # ------------------------------------------------------------------ agents
    def deregister_agent(self, agent: mesa.Agent) -> None:
        """Mesa's removal of an agent (a merger removes an organisation); it also leaves ``organisations``."""
        super().deregister_agent(agent)
        self.organisations.discard(agent)

    # ------------------------------------------------------------------ regime
    @property
    def regime(self) -> Regime:
        """The accountability regime in force."""
        return self._regime

    @property
    def voice_gini(self) -> float:
        """Gini of voice within ICSs, mean over ICSs (recomputed only when voice changes)."""
        orgs = self.orgs

        def gini() -> float:
            act = orgs.active
            return float(voice.gini_by_group(orgs.voice[act], orgs.system[act], orgs.n_systems).mean())

        return kept_until_changed(self, "_voice_gini", (orgs.voice,), gini)

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
        full = check_event(event, month, options, self.orgs.n_systems)
        if month <= self.month and self.steps > 0:
            raise ValueError(f"event {event!r}: month {month} has passed (the model is at month {self.month})")
        bisect.insort(self._schedule, ScheduledEvent(month, event, full))

    def trigger(self, event: str, /, **options: Any) -> None:
        """Apply ``event`` now (the browser view's shock, merger and cut buttons)."""
        self._apply_event(event, check_event(event, max(self.month, 0), options, self.orgs.n_systems))

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
            self.organisation_rows[gone].remove()
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

        # 2. pressure, capacity, voice, what each organisation sees of its ties
        pressure.update_pressure(orgs, p, month, self.channels.vacancy_rate)
        voice.update_voice(orgs, p)
        ties.summarise(orgs)

        # 3. the ICB: a joint plan and pooled funds every April, forums every month
        icb = self.icb_class
        if month % 12 == 1:
            icb.agree_plans(self)
            icb.pool_funds(self)
        mandated = sum(regulator.forums(self) for regulator in self.regulators)
        convened = icb.convene(self, mandated)

        # 4. the regulators' asks; the ICB's plan relays the national steer to its members
        oversight.demands(self)
        icb.relay_steer(self)

        # 5. effort choice
        shares = self.rules["effort_choice"](self.decide("effort_utilities"), orgs.propensity, p)
        effort.allocate(orgs, shares)

        # 6. joint work
        result = joint_work.run_projects(self, rng.random(ties.n_pairs, dtype=np.float32), convened)
        joint_work.sharing_and_wins(orgs, result)
        self.joint_work_result = result

        # 7. channels and performance
        self.channels.add(result.inflow, orgs.active_by_system())
        self.channels.update(self, p["winter_pressure"] * pressure.winter_wave(month))
        performance.update_performance(orgs, self.channels.delayed_days / DELAYS_REFERENCE, p)

        # 8. system outcome; the regulators act
        self.system_outcome = self.channels.system_outcome(orgs)
        oversight.act(self)

        # 9-12. beliefs, trust, turf, continuum
        self.beliefs.update(orgs, self.publication, p["belief_learning_rate"], p["gaming_saturation"])
        self.rules["trust_update"](ties, result, orgs.caught_gaming, p)
        turf.update_turf(orgs, self.rules["turf_target"](turf.drivers(orgs), p), p)
        continuum.update_levels(ties, orgs.turf, result.attempted, convened,
                                rng.random(ties.n_pairs, dtype=np.float32), p)

        # 13. shared purpose and learning
        icb.update_shared_purpose(self)
        orgs.payoff[:] = effort.payoff(orgs, self.system_outcome)
        effort.learn(orgs, shares, p)

        # 14. metrics
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ views
    def tie_table(self):
        """The current tie table: source, target, kinds, trust, damage, record, level."""
        return tie_table(self)

    def ics_table(self):
        """The current per-ICS table: one row per ICS (abm.ics_table)."""
        return ics_table(self)

    def organisations_of(self, kind: str) -> list[Organisation]:
        return [o for o in self.organisations if o.kind == kind and o.active]

    def network(self):
        """The current ties as a networkx DiGraph."""
        return self.ties.to_networkx(self.organisation_rows)
