"""Submodel: the channels through which joint work creates value, and the system outcome.

Joint projects that partnerships complete build capability in three
channels, each maturing after its own delay (Repenning & Sterman 2001: the
payoff of improvement work comes late), decaying by ``capability_decay`` a
month (staff move on, schemes lapse), and saturating: level = stock /
(stock + H) with H = ``capability_half_output`` / ``capability_decay``, so joint
output sustained at ``capability_half_output`` per organisation a month holds a
channel half-way whatever the decay (the decay sets only how fast capability
follows the output). Capability starts at the ICS's mean prior joint working
(initial trust between its pairs), held in steady state. The channels'
effects are measured from ``CAPABILITY_REFERENCE``, the capability behind
today's reference figures, so a system with today's capability shows
today's admissions, delayed discharges and vacancies:

- **patient flow** (6 months): joint discharge arrangements between
  hospitals, community services and councils' social care. Delayed
  discharges per 1,000 people rise with the square of emergency demand over
  discharge-support supply; supply is the capacity of the ICS's councils and
  community trusts (cut by pressure and budget cuts), raised or lowered by
  flow capability above or below the reference (``flow_gain``). Delayed discharges fill acute beds and pull
  acute performance down (``abm.performance``).
- **workforce** (12 months): shared staff and joint recruitment across
  boundaries (King's Fund 2024). The vacancy rate rises with pressure and
  falls with workforce capability above the reference (``workforce_gain``); vacancies take
  capacity from NHS providers (``abm.pressure``).
- **prevention** (``capability_delay`` months): prevention work paid from
  pooled budgets (``abm.joint_work``). Emergency admissions per 1,000
  people follow need (deprivation), winter and shocks, less what prevention
  capability above the reference avoids (``prevention_gain``).

The **system outcome** of an ICS is a population measure in [0, 1]: the mean
of an admissions index (1.5 - admissions / reference, clipped), a delays
index (1 - delays / (2 x reference), clipped) and care quality (the
budget-weighted true performance of its organisations). It contains no
effort term: joint work reaches it only through what the channels deliver.

Reference figures: about 6.4 million emergency admissions a year in England
(9.4 per 1,000 people a month; NHS England Hospital Episode Statistics
2023/24); about 12,500 beds a day occupied by patients fit for discharge
(6.7 bed-days per 1,000 people a month; NHS England discharge situation
reports 2024); NHS vacancy rate about 8% (NHS England vacancy statistics
2024).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agents.organisation import CHANNELS

from .numeric import clip01

FLOW, WORKFORCE, PREVENTION = range(3)
ADMISSIONS_REFERENCE = 9.4      # emergency admissions per 1,000 people per month (HES 2023/24)
DELAYS_REFERENCE = 6.7          # delayed-discharge bed-days per 1,000 people per month (sitreps 2024)
VACANCY_REFERENCE = 0.08        # NHS vacancy rate (NHS England 2024)
SUPPLY_REFERENCE = 0.66         # discharge-support capacity of councils and community trusts at default pressure
CHANNEL_DELAYS = {FLOW: 6, WORKFORCE: 12}   # assumption: months before flow and workforce work matures
CAPABILITY_REFERENCE = 0.4      # assumption: capability behind today's reference figures (about today's prior joint working)
DEPRIVATION_NEED = 0.5          # assumption: extra need per unit of relative deprivation


class CapabilityPipeline:
    """A capability stock per ICS, fed by joint output after a delay."""

    def __init__(self, n_systems: int, delay: int, decay: float, initial_stock: np.ndarray, half: float = 1.0):
        self.delay = delay
        self.decay = decay
        self.half = half  # stock at which the level is one half
        # start in steady state: past joint work keeps the initial stock topped up
        self.pipeline = np.tile(initial_stock * decay, (delay, 1))
        self.stock = np.array(initial_stock, dtype=float)
        self._slot = 0

    def add(self, inflow_by_system: np.ndarray) -> None:
        """Put this month's output in; what went in ``delay`` months ago matures (in place, ``_mature``)."""
        inflow = np.asarray(inflow_by_system, dtype=float)
        if inflow.shape != self.stock.shape:
            inflow = np.broadcast_to(inflow, self.stock.shape)   # a number for every ICS, or a clear error
        _mature(pipeline=self.pipeline, slot=self._slot, stock=self.stock, inflow=inflow, decay=self.decay)
        self._slot = (self._slot + 1) % self.delay

    def in_progress(self) -> np.ndarray:
        return self.pipeline.sum(axis=0)

    def level(self) -> np.ndarray:
        """Capability level in [0, 1): stock / (stock + half)."""
        return self.stock / (self.stock + self.half)


class Channels:
    """Capability by channel and the population measures of every ICS."""

    def __init__(self, model):
        p, n = model.p, model.orgs.n_systems
        decay = p["capability_decay"]
        half = p["capability_half_output"] / decay   # capability_decay >= 0.001 (parameter table)
        level0 = np.clip(model.initial_trust_by_system, 0.0, 0.95)
        initial = half * level0 / (1.0 - level0)    # the stock at which the level is the prior joint working
        delays = {**CHANNEL_DELAYS, PREVENTION: p["capability_delay"]}
        self.pipelines = [CapabilityPipeline(n, delays[c], decay, initial, half) for c in range(len(CHANNELS))]
        self.capability = np.zeros((len(CHANNELS), n))
        self.admissions = np.zeros(n)
        self.delayed_days = np.zeros(n)
        self.vacancy_rate = np.zeros(n)
        self._level()

    def _level(self) -> None:
        for c, pipe in enumerate(self.pipelines):
            self.capability[c] = pipe.level()

    def add(self, inflow: np.ndarray, n_in_system: np.ndarray) -> None:
        """This month's joint output per channel and ICS (per organisation of the ICS)."""
        for c, pipe in enumerate(self.pipelines):
            pipe.add(inflow[c] / n_in_system)
        self._level()

    def update(self, model, seasonal: float) -> None:
        """Admissions, delayed discharges and vacancies of every ICS this month (one compiled loop, ``_update``)."""
        orgs, p = model.orgs, model.p
        _update(system=orgs.system, active=orgs.active, n_active=orgs.active_by_system(), shock=orgs.shock,
                pressure=orgs.pressure,
                capacity=orgs.capacity, budget=orgs.budget, base_budget=orgs.base_budget,
                discharge_support=orgs.discharge_support, deprivation=model.deprivation, seasonal=seasonal,
                flow=self.capability[FLOW], workforce=self.capability[WORKFORCE],
                prevention=self.capability[PREVENTION], prevention_gain=p["prevention_gain"],
                flow_gain=p["flow_gain"], workforce_gain=p["workforce_gain"], admissions=self.admissions,
                delayed_days=self.delayed_days, vacancy_rate=self.vacancy_rate)

    def system_outcome(self, orgs) -> np.ndarray:
        """Population measure of each ICS in [0, 1] (see the module docstring)."""
        outcome = np.empty(self.admissions.size)
        _system_outcome(admissions=self.admissions, delayed_days=self.delayed_days, budget=orgs.budget,
                        active=orgs.active, true_performance=orgs.true_performance, system=orgs.system,
                        outcome=outcome)
        return outcome


@njit(cache=True)
def _mature(pipeline, slot, stock, inflow, decay):
    """The stock decays and takes in what went into ``pipeline[slot]`` ``delay`` months ago; this month's
    ``inflow`` takes its place."""
    for s in range(stock.size):
        matured = pipeline[slot, s]
        pipeline[slot, s] = inflow[s]
        stock[s] = stock[s] * (1.0 - decay) + matured


@njit(cache=True)
def _system_outcome(admissions, delayed_days, budget, active, true_performance, system, outcome):
    """Mean of the admissions index, the delays index and care quality (budget-weighted true performance)."""
    performance = np.zeros(outcome.size)
    total = np.zeros(outcome.size)
    for i in range(budget.size):
        weight = budget[i] * active[i]
        performance[system[i]] += weight * true_performance[i]
        total[system[i]] += weight
    for s in range(outcome.size):
        admissions_index = clip01(1.5 - admissions[s] / ADMISSIONS_REFERENCE)
        delays_index = clip01(1.0 - delayed_days[s] / (2.0 * DELAYS_REFERENCE))
        quality = performance[s] / total[s] if total[s] > 0 else 0.0
        outcome[s] = (admissions_index + delays_index + quality) / 3.0


@njit(cache=True)
def _update(system, active, n_active, shock, pressure, capacity, budget, base_budget, discharge_support,
            deprivation, seasonal, flow, workforce, prevention, prevention_gain, flow_gain, workforce_gain,
            admissions, delayed_days, vacancy_rate):
    """Per ICS: admissions follow need (deprivation), winter and the mean shock of its active organisations,
    less what prevention capability above the reference avoids; delayed discharges rise with the square of
    admissions over discharge support (the mean capacity of its active councils and community trusts, cut
    by budget cuts; the reference supply where it has none), raised by flow capability; the vacancy rate
    rises with its mean pressure and falls with workforce capability (at most 0.5)."""
    n = admissions.size
    shock_total = np.zeros(n)
    pressure_total = np.zeros(n)
    supply_total = np.zeros(n)
    n_support = np.zeros(n)
    for i in range(system.size):
        s = system[i]
        shock_total[s] += shock[i] * active[i]
        pressure_total[s] += pressure[i] * active[i]
        support = active[i] and discharge_support[i]
        supply_total[s] += capacity[i] * (budget[i] / max(base_budget[i], 1e-12)) * support
        n_support[s] += support
    for s in range(n):
        mean_shock = shock_total[s] / n_active[s]        # n_active: active organisations, at least one
        mean_pressure = pressure_total[s] / n_active[s]
        supply = supply_total[s] / n_support[s] if n_support[s] > 0 else SUPPLY_REFERENCE
        need = 1.0 + DEPRIVATION_NEED * deprivation[s]
        admissions[s] = (ADMISSIONS_REFERENCE * need * (1.0 + seasonal + mean_shock)
                         * (1.0 - prevention_gain * (prevention[s] - CAPABILITY_REFERENCE)))
        supply = supply / SUPPLY_REFERENCE * max(1.0 + flow_gain * (flow[s] - CAPABILITY_REFERENCE), 0.1)
        ratio = (admissions[s] / ADMISSIONS_REFERENCE) / max(supply, 1e-6)
        delayed_days[s] = DELAYS_REFERENCE * (ratio * ratio)
        vacancy = (VACANCY_REFERENCE * (0.5 + mean_pressure)
                   * (1.0 - workforce_gain * (workforce[s] - CAPABILITY_REFERENCE)))
        vacancy_rate[s] = min(max(vacancy, 0.0), 0.5)
