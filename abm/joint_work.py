"""Submodel: joint work on ties, small wins, benefit sharing and what joint work builds.

Each organisation spreads its joint-work effort over its ties at connecting
level or above, in proportion to their level. A pair in which both invest
runs a joint project this month. Part of their effort is lost to
coordination overhead, which is highest at the first steps (collaborative
inertia; Huxham & Vangen 2005) and lower where both partners work to the
same clear steer: detailed national asks, received or relayed to them by the
ICB's plan, or the purpose of the plan both signed (``steer_strength``), or
an ICB forum the pair meets in this month (a facilitated meeting is
coordination done for them: ``FORUM_FACILITATION``). The project succeeds
with a chance that rises with the mutual effort left after overhead and with
mutual trust, and falls with imbalance of effort. A success:

- produces joint output: (effort of both, less overhead) x collaborative
  advantage, which grows with the level (joint output can exceed what each
  could do alone);
- feeds the channels its partners work in (``Organisation.channels``: patient
  flow, workforce, prevention; a pair feeds the product of the two sides'),
  as capability of the partners' ICSs that matures after each channel's delay
  (``abm.channels``). Prevention work is paid from pooled money: its output
  is scaled by min(1, 0.25 + 3 x the share of its ICS's budget the ICB
  pooled);
- is a small win that raises both partners' trust (Vangen & Huxham 2003);
- is decided by voice: each partner's share of the benefit is its share of
  the pair's voice; a partner that contributed more than it received
  perceives unfair sharing (raising its turf).

Each partner also observes whether the other kept its commitment: the share
of its capacity it put into joint work, relative to one's own (half if the
project failed). The rule is one compiled loop over pairs (``_projects``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from numba import njit

from .kept import kept_until_changed

EFFORT_SCALE = 0.02  # assumption: per-tie effort at which a project is half likely to be staffed
FORUM_FACILITATION = 0.5  # assumption: a pair meeting in a forum has half its coordination overhead done for it


@dataclass
class JointWorkResult:
    """What joint work did this month. Pair arrays run over pairs (ties.a, ties.b)."""

    attempted: np.ndarray       # per pair: both partners invested
    success: np.ndarray         # per pair: the project succeeded (a small win)
    kept_by_a: np.ndarray       # per pair: commitment a observed b keep, in [0, 1]
    kept_by_b: np.ndarray       # per pair: commitment b observed a keep
    share_a: np.ndarray         # per pair: a's share of the pair's voice (and of the benefit)
    inflow: np.ndarray          # per channel and ICS: joint output this month
    tried: np.ndarray           # per organisation: projects attempted
    won: np.ndarray             # per organisation: projects that succeeded
    unfair: np.ndarray          # per organisation: summed unfair share over its successes
    acute_weight: float         # decision weight held by acute trusts over all successes

    @cached_property
    def win_rate(self) -> np.ndarray:
        """Per organisation: projects that succeeded over projects attempted (0 with none attempted)."""
        return _win_rate(won=np.asarray(self.won, dtype=float), tried=np.asarray(self.tried, dtype=float))


def level_advantage(p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Collaborative advantage and coordination overhead at each level 0-4."""
    return _level_advantage(p["collaborative_advantage"], p["stage_overhead"])


@lru_cache(maxsize=16)  # the same two parameters every month: computed once (the arrays are not to be changed)
def _level_advantage(collaborative_advantage: float, stage_overhead: float) -> tuple[np.ndarray, np.ndarray]:
    level = np.arange(5, dtype=float)
    advantage = collaborative_advantage * level / 4.0
    overhead = np.clip(stage_overhead * (1.0 - (level - 1.0) / 4.0), 0.0, 1.0)
    return advantage, overhead


@njit(cache=True)
def _clarity(steer: float, shared_purpose: float, steer_strength: float) -> float:
    """How clear a steer an organisation works to: national asks it received, or the plan it signed
    (``steer_strength`` x the larger of its steer and half its shared purpose, NaN as np.maximum)."""
    plan = 0.5 * shared_purpose
    return steer_strength * (steer if (steer >= plan or steer != steer) else plan)


@njit(cache=True)
def _prevention_funding(pooled_share: float) -> float:
    """How far an ICS's prevention work is paid for: 0.25 + 3 x the share of its budget pooled, at most 1."""
    funding = 0.25 + 3.0 * pooled_share
    return 1.0 if 1.0 <= funding else funding


def run_projects(model, draws: np.ndarray, meeting: np.ndarray) -> JointWorkResult:
    """Invest joint work by level, run one project per pair and tally what it built.

    ``meeting`` marks the pairs whose ICB forum meets this month.
    """
    ties, orgs, p = model.ties, model.orgs, model.p
    advantage, overhead = level_advantage(p)
    share_a = voice_shares(model)
    out = _projects(a=ties.a, b=ties.b, level=ties.level, trust=ties.trust, joint_work=orgs.joint_work,
                    level_sum=orgs.level_sum, effort_joint=orgs.effort_joint, share_a=share_a,
                    acute=orgs.acute, steer=orgs.steer, shared_purpose=orgs.shared_purpose,
                    steer_strength=p["steer_strength"], meeting=meeting,
                    facilitation=FORUM_FACILITATION, system_a=ties.system_a,
                    system_b=ties.system_b, draws=draws, advantage=advantage, overhead=overhead,
                    mix=ties.channel_mix, pooled_share=model.pooled_share,
                    effort_scale=EFFORT_SCALE, investment=ties.investment, n_orgs=ties.n_orgs,
                    n_systems=orgs.n_systems)
    success, attempted, kept_by_a, kept_by_b, inflow, tried, won, unfair, acute_weight = out
    return JointWorkResult(attempted, success, kept_by_a, kept_by_b, share_a, inflow, tried, won,
                           unfair, float(acute_weight))


# error_model="numpy": every division below is guarded (no division by zero can happen), so NumPy's
# rules give the same numbers as Python's without a zero check on each division (about 6% of the loop).
@njit(cache=True, error_model="numpy")
def _projects(a, b, level, trust, joint_work, level_sum, effort_joint, share_a, acute, steer, shared_purpose,
              steer_strength, meeting,
              facilitation, system_a,
              system_b, draws, advantage, overhead, mix, pooled_share, effort_scale, investment,
              n_orgs, n_systems):
    n_pairs = a.size
    n_channels = mix.shape[1]
    # every pair's entry is written below: no zeroing pass over these arrays first
    success = np.empty(n_pairs, dtype=np.bool_)
    attempted = np.empty(n_pairs, dtype=np.bool_)
    kept_by_a = np.empty(n_pairs)
    kept_by_b = np.empty(n_pairs)
    inflow = np.zeros((n_channels, n_systems))
    tried = np.zeros(n_orgs)
    won = np.zeros(n_orgs)
    unfair = np.zeros(n_orgs)
    acute_weight = 0.0
    # what an organisation puts into one tie at each level (its joint work spread over its ties in
    # proportion to their level; nothing at level 0): the same division as pair by pair, done once
    # per organisation and level
    effort_at = np.zeros((n_orgs, advantage.size))
    for i in range(n_orgs):
        if level_sum[i] > 0:
            for lv in range(1, advantage.size):
                effort_at[i, lv] = joint_work[i] * lv / level_sum[i]
    # how clear a steer each organisation works to: once per organisation, not twice per project
    clarity = np.empty(n_orgs)
    for i in range(n_orgs):
        clarity[i] = _clarity(steer[i], shared_purpose[i], steer_strength)
    for k in range(n_pairs):
        i = a[k]
        j = b[k]
        lv = level[2 * k]
        x_a = effort_at[i, lv]
        x_b = effort_at[j, lv]
        investment[2 * k] = x_a
        investment[2 * k + 1] = x_b
        both = x_a * x_b
        ok = False
        attempted[k] = both > 0
        kept_share = 1.0
        if both > 0:
            tried[i] += 1.0
            tried[j] += 1.0
            # the share of the pair's effort not lost to coordination overhead: a clearer steer
            # (or a forum) saves more of it, and only what is left counts towards success
            clear = min(clarity[i], clarity[j])
            if meeting[k] and clear < facilitation:
                clear = facilitation
            kept_share = 1.0 - overhead[lv] * (1.0 - clear)
            mutual = np.sqrt(both) * kept_share
            balance = min(x_a, x_b) / max(x_a, x_b)
            mutual_trust = min(trust[2 * k], trust[2 * k + 1])
            chance = mutual / (mutual + effort_scale) * balance * (0.3 + 0.7 * mutual_trust)
            ok = draws[k] < chance
        delivered = 1.0 if ok else 0.5
        kept_by_a[k] = min(1.0, effort_joint[j] / max(effort_joint[i], 1e-12)) * delivered if x_b > 0 else 0.0
        kept_by_b[k] = min(1.0, effort_joint[i] / max(effort_joint[j], 1e-12)) * delivered if x_a > 0 else 0.0
        success[k] = ok
        if ok:
            won[i] += 1.0
            won[j] += 1.0
            out = (x_a + x_b) * advantage[lv] * kept_share
            for c in range(n_channels):
                share = out * mix[k, c]
                if c == n_channels - 1:
                    inflow[c, system_a[k]] += 0.5 * share * _prevention_funding(pooled_share[system_a[k]])
                    inflow[c, system_b[k]] += 0.5 * share * _prevention_funding(pooled_share[system_b[k]])
                else:
                    inflow[c, system_a[k]] += 0.5 * share
                    inflow[c, system_b[k]] += 0.5 * share
            s_a = share_a[k]
            gap = x_a / (x_a + x_b) - s_a
            if gap > 0:
                unfair[i] += gap
            else:
                unfair[j] -= gap
            if acute[i]:
                acute_weight += s_a
            if acute[j]:
                acute_weight += 1.0 - s_a
    return success, attempted, kept_by_a, kept_by_b, inflow, tried, won, unfair, acute_weight


@njit(cache=True)
def _win_rate(won, tried):
    """won / tried where tried > 0, else 0."""
    rate = np.zeros(won.size)
    for i in range(won.size):
        if tried[i] > 0:
            rate[i] = won[i] / tried[i]
    return rate


def sharing_and_wins(orgs, result: JointWorkResult) -> None:
    """Smooth each organisation's perceived unfair sharing and its record of shared wins."""
    _sharing_and_wins(unfair=result.unfair, won=result.won, win_rate=result.win_rate,
                      unfairness=orgs.unfairness, wins=orgs.wins)


def voice_shares(model) -> np.ndarray:
    """Each pair's first partner's share of the pair's voice (read-only).

    Voice changes only when budgets or the organisations in an ICS change (a cut, a merger), so
    the shares are kept on the model and recomputed only when voice differs from last time.
    """
    voice = model.orgs.voice

    def shares() -> np.ndarray:
        share_a = _voice_shares(a=model.ties.a, b=model.ties.b, voice=voice)
        share_a.setflags(write=False)
        return share_a

    return kept_until_changed(model, "_voice_shares", (voice,), shares)


@njit(cache=True)
def _voice_shares(a, b, voice):
    """a's share of the pair's voice, voice[a] / (voice[a] + voice[b]) (0 where neither has any)."""
    share_a = np.empty(a.size)
    for k in range(a.size):
        total_voice = voice[a[k]] + voice[b[k]]
        share_a[k] = voice[a[k]] / total_voice if total_voice > 0 else 0.0
    return share_a


@njit(cache=True)
def _sharing_and_wins(unfair, won, win_rate, unfairness, wins):
    for i in range(unfairness.size):
        mean_unfair = unfair[i] / won[i] if won[i] > 0 else 0.0
        unfairness[i] += 0.1 * (mean_unfair - unfairness[i])
        wins[i] += 0.1 * (win_rate[i] - wins[i])
