"""Metrics collected every month, and the collector that stores them.

Model-level columns (one row per month) are listed in ``MODEL_METRICS``
with their meaning; organisation- and tie-level tables are optional.
The collector is a ``mesa.DataCollector`` (so ``mesa.batch_run`` and Mesa's
plot components work on it, and reporters are added the Mesa way) and adds
``get_tie_table`` and ``get_ics_table`` (per-ICS rows, ``abm.ics_table``,
collected when the model's ``collect_ics`` is set).
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from copy import deepcopy
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd
from numba import njit

from .ics_table import ics_frame, ics_snapshot
from .kept import kept_until_changed
from .network import LEVELS

MODEL_METRICS: dict[str, str] = {
    "trust_mean": "Mean trust over all active directed ties (0-1)",
    "turf_mean": "Mean turf over active organisations (0-1)",
    "share_connecting": "Share of partnerships at the connecting level",
    "share_cooperating": "Share of partnerships at the cooperating level",
    "share_coordinating": "Share of partnerships at the coordinating level",
    "share_collaborating": "Share of partnerships at the collaborating level",
    "collaboration_index": "Mean continuum level of partnerships / 4 (0 none - 1 all collaborating)",
    "joint_projects": "Joint projects that succeeded this month",
    "joint_work_share": "Mean share of discretionary capacity put into joint work",
    "gaming_share": "Mean share of discretionary capacity put into gaming",
    "capability": "Mean capability (0-1) over the three channels and the ICSs",
    "capability_flow": "Mean patient-flow capability of the ICSs (0-1)",
    "capability_workforce": "Mean workforce capability of the ICSs (0-1)",
    "capability_prevention": "Mean prevention capability of the ICSs (0-1)",
    "emergency_admissions": "Emergency admissions per 1,000 people this month (population-weighted mean of the ICSs)",
    "delayed_discharge_days": "Bed-days of patients fit for discharge per 1,000 people this month (population-weighted)",
    "vacancy_rate": "NHS vacancy rate (population-weighted mean of the ICSs)",
    "system_outcome": "Mean system outcome of the ICSs (0-1): admissions, delayed discharges and care quality",
    "org_performance": "Mean true performance of organisations (0-1)",
    "reported_performance": "Mean reported performance of organisations (0-1)",
    "gaming_gap": "Mean reported minus true performance of the NHS providers in league tables (0-1 scale)",
    "gaming_detected": "Organisations detected gaming this month",
    "inspections": "Inspections this month",
    "sanctions": "Sanctions imposed this month",
    "compliance_burden": "Mean management capacity consumed by compliance with oversight (share of full capacity)",
    "pressure_mean": "Mean operational and financial pressure (0-1)",
    "voice_gini": "Gini of voice within ICSs (mean over ICSs)",
    "acute_decision_share": "Share of realised joint decisions' weight held by acute trusts",
    "council_vcse_inclusion": "Mean continuum level / 4 of the ties from councils and VCSE bodies to their partners",
    "plan_membership": "Share of organisations signed up to their ICB's joint plan",
    "shared_purpose": "Mean shared purpose of organisations (0-1)",
    "pooled_share": "Mean share of budgets pooled by the ICBs (0-1)",
    "belief_inspection": "Mean believed monthly chance of inspection, over bodies a regulator covers",
    "org_stake": "Mean believed stake of an organisation's own published score, over providers in league tables",
}

#: which way is better for the metrics where that is not in doubt (+1 higher, -1 lower); the
#: rest (e.g. the shares at each level, inspections, beliefs) describe rather than judge
BETTER: dict[str, int] = {
    "trust_mean": +1, "collaboration_index": +1, "joint_projects": +1, "capability": +1,
    "capability_flow": +1, "capability_workforce": +1, "capability_prevention": +1, "system_outcome": +1,
    "org_performance": +1, "council_vcse_inclusion": +1, "shared_purpose": +1,
    "turf_mean": -1, "gaming_share": -1, "gaming_gap": -1, "emergency_admissions": -1,
    "delayed_discharge_days": -1, "vacancy_rate": -1, "compliance_burden": -1, "pressure_mean": -1,
}
assert set(BETTER) <= set(MODEL_METRICS)

AGENT_COLUMNS = ("kind", "system", "place", "turf", "trust_given", "trust_received", "voice",
                 "pressure", "true_performance", "reported_performance", "segment", "joint_work_share",
                 "gaming_share", "in_plan", "shared_purpose")


def _weights(mask: np.ndarray) -> np.ndarray:
    """Weights that average over ``mask`` with one dot product (zeros if the mask is empty)."""
    n = np.count_nonzero(mask)
    return mask / n if n else np.zeros(mask.size)


def _averaging_weights(model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weights for the monthly averages: over active organisations, over league-table providers,
    over bodies a regulator covers, and over people (ICS populations).

    They change only when an organisation leaves (a merger), so they are kept on the model
    and recomputed when the active organisations or the populations differ from last time.
    """
    orgs = model.orgs

    def weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        act = orgs.active
        return (_weights(act), _weights(act & orgs.in_league_table),
                _weights(act & (orgs.covered_by("overseer") | orgs.covered_by("inspector"))),
                model.population / model.population.sum())

    return kept_until_changed(model, "_metric_weights", (orgs.active, model.population), weights)


def effort_shares(orgs) -> tuple[np.ndarray, np.ndarray]:
    """Shares of discretionary capacity put into joint work and into gaming, per organisation."""
    return _effort_shares(discretionary=orgs.discretionary, joint_work=orgs.joint_work, gaming_work=orgs.gaming_work)


@njit(cache=True)
def _effort_shares(discretionary, joint_work, gaming_work):
    """joint_work / d and gaming_work / d with d = discretionary capacity, at least 1e-12 (as np.maximum)."""
    joint = np.empty(discretionary.size)
    gaming = np.empty(discretionary.size)
    for i in range(discretionary.size):
        d = discretionary[i]
        if not (d >= 1e-12 or d != d):
            d = 1e-12
        joint[i] = joint_work[i] / d
        gaming[i] = gaming_work[i] / d
    return joint, gaming


def _mean(values: np.ndarray) -> float:
    """``values.mean()`` (the same sum, in the same order), without the method's Python overhead."""
    return float(np.add.reduce(values, axis=None) / values.size)


def tie_sums(model, by_organisation: bool = False) -> tuple:
    """What the metrics need from the ties, in one pass over them (``_tie_sums``): the trust sum over
    active ties, their number, pair counts by level 0-4, the level sum and count of the ties from
    councils and VCSE bodies, and, with ``by_organisation``, the mean trust each organisation gives
    and receives (else two empty arrays)."""
    ties = model.ties
    return _tie_sums(a=ties.a, b=ties.b, trust=ties.trust, level=ties.level, active=ties.active,
                     inclusion=model.inclusion_ties, n_orgs=ties.n_orgs if by_organisation else 0,
                     out_degree=ties.out_degree, in_degree=ties.in_degree)


def trust_by_organisation(model) -> tuple[np.ndarray, np.ndarray]:
    """Mean trust each organisation gives its partners and receives from them (0 with no ties)."""
    return tie_sums(model, by_organisation=True)[5:]


def model_metrics(model, shares: tuple[np.ndarray, np.ndarray] | None = None,
                  sums: tuple | None = None) -> dict[str, float]:
    """The model-level metrics now (``shares``: ``effort_shares(model.orgs)``, ``sums``: ``tie_sums(model)``,
    if already computed)."""
    orgs, channels = model.orgs, model.channels
    trust_sum, n_active, counts, incl_sum, incl_n = (tie_sums(model) if sums is None else sums)[:5]
    counts = counts.tolist()
    n_pairs = max(sum(counts), 1)
    joint_share, gaming_share = effort_shares(orgs) if shares is None else shares
    result = model.joint_work_result
    successes = int(np.count_nonzero(result.success)) if result is not None else 0
    capability = channels.capability
    by_channel = np.add.reduce(capability, axis=1) / capability.shape[1]  # each row's mean, as .mean() sums it
    # averages as dot products with weights (no copies of masked arrays on the monthly path); ndarray.dot is
    # the same BLAS dot as the @ operator with less call overhead
    w, league, covered, people = _averaging_weights(model)
    return {
        "trust_mean": trust_sum / n_active if n_active else 0.0,
        "turf_mean": float(orgs.turf.dot(w)),
        "share_connecting": counts[1] / n_pairs,
        "share_cooperating": counts[2] / n_pairs,
        "share_coordinating": counts[3] / n_pairs,
        "share_collaborating": counts[4] / n_pairs,
        "collaboration_index": (counts[1] + 2 * counts[2] + 3 * counts[3] + 4 * counts[4]) / (4.0 * n_pairs),
        "joint_projects": successes,
        "joint_work_share": float(joint_share.dot(w)),
        "gaming_share": float(gaming_share.dot(w)),
        "capability": _mean(capability),
        "capability_flow": float(by_channel[0]),
        "capability_workforce": float(by_channel[1]),
        "capability_prevention": float(by_channel[2]),
        "emergency_admissions": float(people.dot(channels.admissions)),
        "delayed_discharge_days": float(people.dot(channels.delayed_days)),
        "vacancy_rate": float(people.dot(channels.vacancy_rate)),
        "system_outcome": _mean(model.system_outcome),
        "org_performance": float(orgs.true_performance.dot(w)),
        "reported_performance": float(orgs.reported_performance.dot(w)),
        "gaming_gap": float((orgs.reported_performance - orgs.true_performance).dot(league)),
        "gaming_detected": int(np.count_nonzero(orgs.caught_gaming)),
        "inspections": int(np.count_nonzero(orgs.inspected)),
        "sanctions": int(np.count_nonzero(orgs.sanctioned)),
        "compliance_burden": float(orgs.compliance.dot(w)),
        "pressure_mean": float(orgs.pressure.dot(w)),
        "voice_gini": model.voice_gini,
        "acute_decision_share": result.acute_weight / successes if successes else 0.0,
        "council_vcse_inclusion": incl_sum / (4.0 * incl_n) if incl_n else 0.0,
        "plan_membership": float(orgs.in_plan.dot(w)),
        "shared_purpose": float(orgs.shared_purpose.dot(w)),
        "pooled_share": _mean(model.pooled_share),
        "belief_inspection": float(model.beliefs.inspection.dot(covered)),
        "org_stake": float(model.beliefs.org_stake.dot(league)),
    }


class MetricsCollector(mesa.DataCollector):
    """Mesa's DataCollector with the model's own metrics built in.

    Every month (one Mesa step) it records ``MODEL_METRICS`` as model reporters and,
    with ``collect_agents``, the organisation table (``AGENT_COLUMNS``) as agent
    reporters, so Mesa's tools (``batch_run``, the plot components) see them like any
    reporter. A modeller adds reporters the Mesa way (``model_reporters``,
    ``agent_reporters``, ``agenttype_reporters``, ``tables``); agent reporters run over
    ``model.organisations`` (the regulators have no organisation state: use
    ``agenttype_reporters`` for them).

    The built-in columns are computed on whole arrays, and organisation and tie
    snapshots are kept as arrays and turned into rows only when read (also Mesa's
    ``_agent_records``), so collecting costs little per month even for all of England.
    Tables are indexed as Mesa's: ``Step`` (the month) and ``AgentID``.
    """

    def __init__(
        self,
        collect_agents: bool = True,
        collect_ties: bool = False,
        model_reporters: dict[str, Any] | None = None,
        agent_reporters: dict[str, Any] | None = None,
        agenttype_reporters: dict[type, dict[str, Any]] | None = None,
        tables: dict[str, list[str]] | None = None,
    ):
        own_model, own_agents = dict(model_reporters or {}), dict(agent_reporters or {})
        taken = sorted((set(own_model) & set(MODEL_METRICS)) | (set(own_agents) & set(AGENT_COLUMNS)))
        if taken:
            raise ValueError(f"reporter names {', '.join(taken)} are built-in columns; choose other names")
        built_in_agents = {name: name for name in AGENT_COLUMNS} if collect_agents else {}
        super().__init__(
            model_reporters={**{name: partial(_metric, name) for name in MODEL_METRICS}, **own_model},
            agent_reporters={**built_in_agents, **own_agents},
            agenttype_reporters=agenttype_reporters,
            tables=tables,
        )
        self.collect_agents = collect_agents
        self.collect_ties = collect_ties
        self._own_model_reporters = tuple(own_model)
        self._own_agent_reporters = tuple(own_agents)
        self._agent_snapshots: dict[int, tuple[dict | None, list[tuple]]] = {}
        self._agent_records = _AgentRecords(self)
        self._tie_snapshots: dict[int, dict] = {}
        self._ics_snapshots: list[dict] = []
        self._model = None

    def collect(self, model) -> None:
        """Record this month: built-in metrics at once on arrays, then the modeller's reporters."""
        self._model = model
        step = model.month
        if not self._validated:
            for name in self._own_model_reporters:
                self._validate_model_reporter(name, self.model_reporters[name], model)
        shares = effort_shares(model.orgs)  # for the metrics and the organisation table alike
        with_table = bool(self.agent_reporters) and self.collect_agents
        sums = tie_sums(model, by_organisation=with_table)  # one pass over the ties for both
        metrics = model_metrics(model, shares, sums)
        row = [(name, metrics[name] if name in metrics else _report(reporter, model))
               for name, reporter in self.model_reporters.items()]
        model_vars = self.model_vars
        for name, value in row:
            model_vars[name].append(value)
        self._collection_steps.append(step)  # last: a reader in another thread sees whole rows only
        if self.agent_reporters:
            own = [self.agent_reporters[name] for name in self._own_agent_reporters]
            rows = [(o.unique_id, *(_copied(rep(o)) for rep in own)) for o in model.organisations] if own else []
            self._agent_snapshots[step] = (agent_snapshot(model, shares, sums[5:]) if with_table else None, rows)
        if self.agenttype_reporters:
            self._agenttype_records[step] = {
                agent_type: [(step, *record[1:]) for record in self._record_agenttype(model, agent_type)]
                for agent_type in self.agenttype_reporters
            }
        if self.collect_ties:
            self._tie_snapshots[step] = tie_snapshot(model)
        if model.p.get("collect_ics"):
            self._ics_snapshots.append(ics_snapshot(model))

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per month collected (month 0 is the initial state), indexed by ``Step``."""
        steps = list(self._collection_steps)  # the rows complete now, if a month is being collected meanwhile
        return pd.DataFrame({name: values[:len(steps)] for name, values in self.model_vars.items()},
                            index=pd.Index(steps, name="Step"))

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """One row per organisation in the model and month, indexed by (``Step``, ``AgentID``)."""
        frames = [self._agent_frame(step) for step in self._agent_snapshots]
        if not frames:
            empty = pd.MultiIndex.from_arrays([[], []], names=["Step", "AgentID"])
            return pd.DataFrame(columns=list(self.agent_reporters), index=empty)
        return pd.concat(frames, keys=list(self._agent_snapshots), names=["Step"])

    def _agent_frame(self, step: int) -> pd.DataFrame:
        """The organisation table of one collected month, indexed by AgentID, columns as ``agent_reporters``."""
        snapshot, rows = self._agent_snapshots[step]
        own = pd.DataFrame.from_records(rows, columns=["AgentID", *self._own_agent_reporters], index="AgentID")
        if snapshot is None:
            return own
        built_in = agent_frame(self._model, snapshot).set_index("AgentID")
        return built_in.join(own) if self._own_agent_reporters else built_in

    def get_ics_table(self) -> pd.DataFrame:
        """One row per ICS and month collected (``collect_ics=True``); columns in ``abm.ics_table``."""
        if not self._ics_snapshots:
            raise LookupError("no per-ICS tables collected: create the model with collect_ics=True, "
                              "or use model.ics_table()")
        return ics_frame(self._model, self._ics_snapshots)

    def get_tie_table(self, month: int | None = None) -> pd.DataFrame:
        """The tie table of a collected month (the last collected if None)."""
        if not self._tie_snapshots:
            raise LookupError("no tie tables collected: create the model with collect_ties=True, or use model.tie_table()")
        if month is None:
            month = max(self._tie_snapshots)
        if month not in self._tie_snapshots:
            raise LookupError(f"month {month} was not collected; collected months: "
                              f"{min(self._tie_snapshots)}-{max(self._tie_snapshots)}")
        return tie_frame(self._model, self._tie_snapshots[month])


class _AgentRecords(Mapping):
    """Mesa's ``DataCollector._agent_records`` ({step: [(step, AgentID, *values)]}), which
    ``mesa.batch_run`` reads, built from the collector's snapshots when asked for."""

    def __init__(self, collector: MetricsCollector):
        self._collector = collector

    def __getitem__(self, step: int) -> list[tuple]:
        frame = self._collector._agent_frame(step)
        return [(step, *row) for row in frame.itertuples(name=None)]

    def __iter__(self) -> Iterator[int]:
        return iter(self._collector._agent_snapshots)

    def __len__(self) -> int:
        return len(self._collector._agent_snapshots)


def _metric(name: str, model) -> float:
    """A built-in model reporter on its own (the collector computes all of them at once)."""
    return model_metrics(model)[name]


def _copied(value: Any) -> Any:
    """A reporter's value, copied unless immutable (as Mesa's collector does)."""
    return value if isinstance(value, (str, int, bool, float, tuple)) else deepcopy(value)


def _report(reporter: Any, model) -> Any:
    """A modeller's model reporter, called the way ``mesa.DataCollector.collect`` calls it."""
    if isinstance(reporter, (types.LambdaType, partial)):
        value = reporter(model)
    elif isinstance(reporter, str):
        value = getattr(model, reporter, None)
    elif isinstance(reporter, list):
        value = reporter[0](*reporter[1])
    else:
        value = reporter()
    return deepcopy(value)


def agent_snapshot(model, shares: tuple[np.ndarray, np.ndarray] | None = None,
                   trust: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """The organisation table's columns now (``shares``: ``effort_shares(model.orgs)``, ``trust``:
    ``trust_by_organisation(model)``, if already computed)."""
    orgs = model.orgs
    joint_share, gaming_share = effort_shares(orgs) if shares is None else shares
    given, received = trust_by_organisation(model) if trust is None else trust
    return {
        "active": orgs.active.copy(),
        "turf": orgs.turf.copy(),
        "trust_given": given,
        "trust_received": received,
        "voice": orgs.voice.copy(),
        "pressure": orgs.pressure.copy(),
        "true_performance": orgs.true_performance.copy(),
        "reported_performance": orgs.reported_performance.copy(),
        "segment": orgs.segment.copy(),
        "joint_work_share": joint_share,
        "gaming_share": gaming_share,
        "in_plan": orgs.in_plan.copy(),
        "shared_purpose": orgs.shared_purpose.copy(),
    }


def agent_frame(model, snap: dict) -> pd.DataFrame:
    orgs = model.orgs
    frame = pd.DataFrame({
        "AgentID": model.agent_ids,
        "kind": orgs.kind,
        "system": orgs.system,
        "place": orgs.place,
        **{k: v for k, v in snap.items() if k != "active"},
    })
    return frame[snap["active"]].reset_index(drop=True)


def agent_table(model) -> pd.DataFrame:
    """The organisation table now."""
    return agent_frame(model, agent_snapshot(model))


def tie_snapshot(model) -> dict:
    ties = model.ties
    return {"active": ties.active.copy(), "trust": ties.trust.copy(), "damage": ties.damage.copy(),
            "record": ties.record.copy(), "level": ties.level.copy()}


def tie_frame(model, snap: dict) -> pd.DataFrame:
    ties, orgs = model.ties, model.orgs
    ids = model.agent_ids
    act = snap["active"]
    return pd.DataFrame({
        "source": ids[ties.src[act]],
        "target": ids[ties.dst[act]],
        "source_kind": orgs.kind[ties.src[act]],
        "target_kind": orgs.kind[ties.dst[act]],
        "trust": snap["trust"][act],
        "damage": snap["damage"][act],
        "record": snap["record"][act],
        "level": snap["level"][act],
        "level_name": np.array(LEVELS, dtype=object)[snap["level"][act]],
    })


def tie_table(model) -> pd.DataFrame:
    """The tie table now."""
    return tie_frame(model, tie_snapshot(model))


@njit(cache=True)
def _tie_sums(a, b, trust, level, active, inclusion, n_orgs, out_degree, in_degree):
    """Sums for the monthly tie metrics in one pass over the pairs (tie 2k runs a -> b, 2k + 1 b -> a,
    so the ties are summed in their own order).

    Returns the trust sum over active ties, their number, pair counts by level 0-4, the level sum
    and count of active ties on which councils or VCSE bodies take part, and the mean trust each of
    ``n_orgs`` organisations gives and receives (0 with no ties; ``n_orgs`` 0 skips them), over its
    active ties (``out_degree`` and ``in_degree``, kept by the tie network).
    """
    trust_sum = 0.0
    n_active = 0
    counts = np.zeros(5, dtype=np.int64)
    incl_sum = 0.0
    incl_n = 0
    given = np.zeros(n_orgs)
    received = np.zeros(n_orgs)
    by_organisation = n_orgs > 0
    for k in range(a.size):
        i = a[k]
        j = b[k]
        e = 2 * k          # i -> j (a pair's level is held on this tie too)
        if active[e]:
            t = trust[e]
            trust_sum += t
            n_active += 1
            counts[level[e]] += 1
            if inclusion[e]:
                incl_sum += level[e]
                incl_n += 1
            if by_organisation:
                given[i] += t
                received[j] += t
        e += 1             # j -> i
        if active[e]:
            t = trust[e]
            trust_sum += t
            n_active += 1
            if inclusion[e]:
                incl_sum += level[e]
                incl_n += 1
            if by_organisation:
                given[j] += t
                received[i] += t
    for i in range(n_orgs):
        if out_degree[i] > 0:
            given[i] /= out_degree[i]
        if in_degree[i] > 0:
            received[i] /= in_degree[i]
    return trust_sum, n_active, counts, incl_sum, incl_n, given, received
