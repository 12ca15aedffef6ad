"""Submodel: joint work on ties, small wins, benefit sharing and delayed payoff.

Each organisation spreads its joint-work effort over its ties at connecting
level or above, in proportion to their level. A pair in which both invest
runs a joint project this month. It succeeds with a chance that rises with
their mutual effort, their mutual trust and the backing of convening
oversight, and falls with imbalance of effort. A success:
- produces joint output: collaborative advantage grows with the level
  (Huxham & Vangen: joint output can exceed what each could do alone), early
  levels lose a share to overhead (collaborative inertia), and pooled budgets
  at the collaborating level need flexible funding;
- is a small win that raises both partners' trust (Vangen & Huxham 2003);
- is decided by voice: each partner's share of the benefit is its share of
  the pair's voice; a partner that contributed more than it received
  perceives unfair sharing (raising its turf).
Joint output becomes shared capability only after ``capability_delay``
months (Repenning & Sterman 2001). Each partner also observes whether the
other kept its commitment: the share of its capacity it put into joint work,
relative to one's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import kernels

EFFORT_SCALE = 0.02  # assumption: per-tie effort at which a project is half likely to be staffed


@dataclass
class JointWorkResult:
    """What joint work did this month. Pair arrays run over pairs (ties.a, ties.b)."""

    attempted: np.ndarray       # per pair: both partners invested
    success: np.ndarray         # per pair: the project succeeded (a small win)
    kept_by_a: np.ndarray       # per pair: commitment a observed b keep, in [0, 1]
    kept_by_b: np.ndarray       # per pair: commitment b observed a keep
    share_a: np.ndarray         # per pair: a's share of the pair's voice (and of the benefit)
    inflow: np.ndarray          # per ICS: joint output this month (half of a pair's to each partner's ICS)
    tried: np.ndarray           # per organisation: projects attempted
    won: np.ndarray             # per organisation: projects that succeeded
    unfair: np.ndarray          # per organisation: summed unfair share over its successes
    acute_weight: float         # decision weight held by acute trusts over all successes

    @cached_property
    def win_rate(self) -> np.ndarray:
        return np.divide(self.won, self.tried, out=np.zeros_like(self.won), where=self.tried > 0)


def invest(ties, joint_work):
    """Spread each organisation's joint work over its ties in proportion to their level."""
    weight = ties.level.astype(float)
    denom = np.bincount(ties.src, weights=weight, minlength=ties.n_orgs)
    per_level = np.divide(joint_work, denom, out=np.zeros_like(joint_work), where=denom > 0)
    ties.investment[:] = per_level[ties.src] * weight
    return ties.investment


def level_output_factor(p: dict, funding_flexibility: float, steer: float) -> np.ndarray:
    """Joint output per unit of joint effort at each level 0-4.

    Collaborative advantage grows with the level; overhead is highest at the
    first step (collaborative inertia); pooled budgets at the collaborating
    level need flexible funding; a stronger steer makes effort count for more.
    """
    level = np.arange(5, dtype=float)
    advantage = p["collaborative_advantage"] * level / 4.0
    overhead = p["stage_overhead"] * (1.0 - (level - 1.0) / 4.0)
    pooling = np.where(level >= 4, 0.75 + 0.5 * funding_flexibility, 1.0)
    return np.clip(advantage * (1.0 - overhead) * pooling, 0.0, None) * (1.0 + 0.5 * steer)


def run_projects(ties, orgs, convening: float, factor: np.ndarray, draws: np.ndarray) -> JointWorkResult:
    """Joint projects of every pair, in NumPy (the reference for ``run_projects_compiled``).

    ``ties.investment`` must already be set (``invest``); ``draws`` holds one
    uniform random number per pair.
    """
    a, b = ties.a, ties.b
    x_a = ties.investment[0::2]
    x_b = ties.investment[1::2]
    level = ties.level[0::2]
    both = x_a * x_b
    attempted = both > 0
    mutual = np.sqrt(both)
    balance = np.minimum(x_a, x_b) / np.maximum(np.maximum(x_a, x_b), 1e-300)
    mutual_trust = np.minimum(ties.trust[0::2], ties.trust[1::2])
    p_success = mutual / (mutual + EFFORT_SCALE) * balance * (0.3 + 0.4 * mutual_trust + 0.3 * convening)
    success = attempted & (draws < p_success)
    output = success * (x_a + x_b) * factor[level]

    # Kept commitments: did the partner put as large a share of its capacity into
    # joint work as I did? A failed project delivers half of what was promised.
    share_of_a = orgs.effort_joint[a]
    share_of_b = orgs.effort_joint[b]
    delivered = 0.5 + 0.5 * success
    kept_by_a = (x_b > 0) * np.minimum(1.0, share_of_b / np.maximum(share_of_a, 1e-12)) * delivered
    kept_by_b = (x_a > 0) * np.minimum(1.0, share_of_a / np.maximum(share_of_b, 1e-12)) * delivered

    # Benefits are shared by voice; a partner whose share of the effort was larger perceives unfairness.
    total_voice = orgs.voice[a] + orgs.voice[b]
    share_a = np.divide(orgs.voice[a], total_voice, out=np.zeros_like(total_voice), where=total_voice > 0)
    contribution_a = x_a / np.maximum(x_a + x_b, 1e-300)
    gap = (contribution_a - share_a) * success
    acute = orgs.acute
    n_sys = orgs.n_systems
    return JointWorkResult(
        attempted=attempted,
        success=success,
        kept_by_a=kept_by_a,
        kept_by_b=kept_by_b,
        share_a=share_a,
        inflow=(np.bincount(ties.system_a, weights=0.5 * output, minlength=n_sys)
                + np.bincount(ties.system_b, weights=0.5 * output, minlength=n_sys)),
        tried=ties.per_org_from_pairs(attempted.astype(float)),
        won=ties.per_org_from_pairs(success.astype(float)),
        unfair=ties.per_org_from_pairs(np.maximum(gap, 0.0), np.maximum(-gap, 0.0)),
        acute_weight=float(((share_a * acute[a] + (1.0 - share_a) * acute[b]) * success).sum()),
    )


def run_projects_compiled(ties, orgs, convening: float, factor: np.ndarray, draws: np.ndarray,
                          level_sum: np.ndarray | None = None) -> JointWorkResult:
    """``invest`` then ``run_projects`` in one compiled loop (``abm.kernels``); same results.

    ``level_sum`` (each organisation's summed tie levels) is computed if not given.
    """
    if level_sum is None:
        level_sum, _, _ = kernels.organisation_tie_summary(
            ties.src, ties.level, ties.trust, ties.record, ties.active, ties.n_orgs)
    (success, attempted, kept_by_a, kept_by_b, share_a, inflow, tried, won, unfair,
     acute_weight) = kernels.joint_projects(
        ties.a, ties.b, ties.level, ties.trust, orgs.joint_work, level_sum, orgs.effort_joint,
        orgs.voice, orgs.acute, ties.system_a, ties.system_b, draws, convening, factor,
        EFFORT_SCALE, ties.investment, ties.n_orgs, orgs.n_systems)
    return JointWorkResult(attempted, success, kept_by_a, kept_by_b, share_a, inflow, tried, won,
                           unfair, float(acute_weight))


def sharing_and_wins(orgs, result: JointWorkResult) -> None:
    """Smooth each organisation's perceived unfair sharing and its record of shared wins."""
    mean_unfair = np.divide(result.unfair, result.won, out=np.zeros_like(result.unfair), where=result.won > 0)
    orgs.unfairness += 0.1 * (mean_unfair - orgs.unfairness)
    orgs.wins += 0.1 * (result.win_rate - orgs.wins)


class CapabilityPipeline:
    """Shared capability stock per ICS, fed by joint output after a delay."""

    def __init__(self, n_systems: int, delay: int, decay: float, initial_stock: float = 0.0):
        self.delay = delay
        self.decay = decay
        # start in steady state: past joint work keeps the initial stock topped up
        self.pipeline = np.full((delay, n_systems), initial_stock * decay)
        self.stock = np.full(n_systems, float(initial_stock))
        self._slot = 0

    def add(self, inflow_by_system: np.ndarray) -> None:
        """Put this month's output in; what went in ``delay`` months ago matures."""
        matured = self.pipeline[self._slot].copy()
        self.pipeline[self._slot] = inflow_by_system
        self._slot = (self._slot + 1) % self.delay
        self.stock = self.stock * (1.0 - self.decay) + matured

    def in_progress(self) -> np.ndarray:
        return self.pipeline.sum(axis=0)
