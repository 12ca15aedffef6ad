"""The Integrated Care Board: the one organisation that acts for its system.

Besides being an organisation with partners of its own, each ICB acts for its
ICS every month. Its actions are the only way the regime's funding rules and
the overseer's mandate for forums reach the partnership:

- **joint plan** (every April): it invites every partner to sign up to a
  joint plan; each decides by its own ``plan_participation``. Taking part
  builds a shared purpose, which grows further when the plan's track record
  (the change in the system outcome since the last plan) is good and fades
  when it is poor or when an organisation stays out. No regime setting enters.
- **convening** (monthly): within its facilitation budget, plus any forums the
  overseer mandates, it brings together chosen pairs that have no working
  relationship yet: pairs of partners whose work feeds patient flow most,
  among the plan's members first. A forum meets monthly for a year
  (``FORUM_MONTHS``): while it meets, the pair is at least "connecting" (first
  contact is forced) and both sides spend a little capacity on it; it does
  not create trust.
- **relaying the national steer** (monthly): the ICB is held to national
  asks like the providers, and its plan carries the steer those asks give
  (the national priorities a joint forward plan must set out how to
  deliver; Health and Care Act 2022; NHS England 2022) to every partner
  that signed it. A member works to the clearer of the steer it received
  itself and the one its plan relays, so councils, primary care and VCSE
  members share the national steer only through the plan. No regime
  setting enters: how clear the steer is depends on the asks the ICB
  received.
- **pooling** (every April): where national funding rules allow money to be
  pooled (``funding_flexibility``), it pools a share of its allocation with the
  plan's members. Pooled money pays for prevention work (joint prevention
  projects need it) and buffers members' scarcity.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .organisation import CHANNELS, TABLE_KINDS, PLACE_KINDS, Organisation

FORUM_COST = 0.01        # assumption: capacity a forum takes from each side in each month it meets
FORUM_MONTHS = 12        # assumption: a forum meets monthly for a year
PLAN_PURPOSE_RATE = 0.15  # assumption: monthly adjustment of shared purpose
FLOW = CHANNELS.index("flow")


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
    overseen_by = ("overseer",)   # held to account by the overseer, apart from its providers' league table
    league_table = False
    ties_to = TABLE_KINDS + PLACE_KINDS
    channels = (0.3, 0.5, 1.0)
    colour = "#000000"

    # --- the ICB's actions for its system, over all ICBs at once ------------
    @classmethod
    def agree_plans(cls, model) -> None:
        """Invite every organisation to its ICS's joint plan; each decides by its own rule."""
        orgs = model.orgs
        chance = model.decide("plan_participation")
        orgs.in_plan[:] = (model.rng.random(orgs.n) < chance) & orgs.active
        orgs.in_plan[orgs.is_icb] = orgs.active[orgs.is_icb]
        outcome = model.system_outcome
        model.plan_track_record[:] = outcome - model.plan_baseline
        model.plan_baseline[:] = outcome

    @classmethod
    def update_shared_purpose(cls, model) -> None:
        """Members move towards a purpose set by the plan's track record; others let it fade."""
        orgs = model.orgs
        _update_purpose(track_record=model.plan_track_record, system=orgs.system, in_plan=orgs.in_plan,
                        shared_purpose=orgs.shared_purpose, rate=PLAN_PURPOSE_RATE)

    @classmethod
    def relay_steer(cls, model) -> None:
        """Pass the national steer the ICB received on to its plan's members (after the asks)."""
        orgs = model.orgs
        _relay(steer=orgs.steer, in_plan=orgs.in_plan, active=orgs.active, is_icb=orgs.is_icb,
               system=orgs.system, n_systems=orgs.n_systems)

    @classmethod
    def pool_funds(cls, model) -> None:
        """Pool a share of each ICB's allocation with its plan's members, as funding rules allow."""
        orgs, p = model.orgs, model.p
        members = np.bincount(orgs.system, weights=orgs.in_plan * orgs.active, minlength=orgs.n_systems)
        everyone = np.maximum(np.bincount(orgs.system, weights=orgs.active, minlength=orgs.n_systems), 1)
        model.pooled_share[:] = p["pooling_share"] * model.regime.funding_flexibility * members / everyone
        orgs.pooled_relief[:] = np.where(orgs.in_plan, model.pooled_share[orgs.system], 0.0)

    @classmethod
    def convene(cls, model, mandated: np.ndarray) -> np.ndarray:
        """Start forums for chosen pairs; return the per-pair mask of forums meeting this month.

        ``mandated`` is the number of forums per ICS the overseer requires on
        top of the ICB's own facilitation budget (a fractional forum is held
        with that chance). The ICB chooses unconnected pairs of its plan's
        members first, then others; within each, pairs whose joint work would
        feed patient flow most (equal ones in an order drawn once per model).
        """
        ties, orgs, p = model.ties, model.orgs, model.p
        budget = np.floor(p["facilitation_budget"] + mandated + model.rng.random(orgs.n_systems)).astype(np.int64)
        members, member_bounds = ties.member_pairs(orgs.in_plan)
        _choose(order=ties.convening_order, bounds=ties.convening_bounds, members=members,
                member_bounds=member_bounds, system=ties.system_a, level=ties.level, active=ties.active,
                budget=budget, forum_left=ties.forum_left, forum_months=FORUM_MONTHS)
        return _meet(forum_left=ties.forum_left, active=ties.active, a=ties.a, b=ties.b, forum_cost=FORUM_COST,
                     forum_time=orgs.forum_time)


@njit(cache=True)
def _relay(steer, in_plan, active, is_icb, system, n_systems):
    """Each active plan member's steer becomes the larger of its own and its ICB's (in place)."""
    relayed = np.zeros(n_systems)
    for i in range(steer.size):
        if is_icb[i] and active[i] and steer[i] > relayed[system[i]]:
            relayed[system[i]] = steer[i]
    for i in range(steer.size):
        if in_plan[i] and active[i] and relayed[system[i]] > steer[i]:
            steer[i] = relayed[system[i]]


@njit(cache=True)
def _update_purpose(track_record, system, in_plan, shared_purpose, rate):
    """Members move towards 0.6 + 5 x the plan's track record (within 0.2-1); others towards 0."""
    for i in range(shared_purpose.size):
        target = 0.0
        if in_plan[i]:
            target = 0.6 + 5.0 * track_record[system[i]]
            target = 0.2 if target < 0.2 else (1.0 if target > 1.0 else target)
        shared_purpose[i] += rate * (target - shared_purpose[i])


@njit(cache=True)
def _meet(forum_left, active, a, b, forum_cost, forum_time):
    """Mark the forums meeting this month (one month fewer left); each takes ``forum_cost`` from both sides."""
    meeting = np.zeros(a.size, dtype=np.bool_)
    count = np.zeros(forum_time.size, dtype=np.int64)
    for k in range(a.size):
        if forum_left[k] > 0 and active[2 * k]:
            meeting[k] = True
            forum_left[k] -= 1
            count[a[k]] += 1
            count[b[k]] += 1
    for i in range(forum_time.size):
        forum_time[i] = forum_cost * count[i]
    return meeting


@njit(cache=True)
def _choose(order, bounds, members, member_bounds, system, level, active, budget, forum_left, forum_months):
    """Start forums: each ICB walks its own pairs in convening order (``order[bounds[r]:bounds[r + 1]]`` is one
    ICS's run), open pairs (no tie, no forum) of plan members first (``members``, the same order), then
    others, until its budget is spent.

    A chosen pair's forum is set to meet for ``forum_months``. Stopping at the end of the budget gives the
    same choice as walking every pair: nothing after it in the ICS's run could be chosen.
    """
    for r in range(bounds.size - 1):
        start, end = bounds[r], bounds[r + 1]
        if start == end:
            continue
        left = budget[system[order[start]]]
        for walk, first, last in ((members, member_bounds[r], member_bounds[r + 1]), (order, start, end)):
            for position in range(first, last):
                if left <= 0:
                    break
                k = walk[position]
                if level[2 * k] != 0 or forum_left[k] > 0 or not active[2 * k]:
                    continue
                forum_left[k] = forum_months
                left -= 1
