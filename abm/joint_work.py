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

import numpy as np

EFFORT_SCALE = 0.02  # assumption: per-tie effort at which a project is likely to be staffed


@dataclass
class JointWorkResult:
    attempted: np.ndarray       # per pair
    success: np.ndarray         # per pair
    output: np.ndarray          # per pair, realised joint output
    kept: np.ndarray            # per directed tie: observed commitment of the partner, [0, 1]
    observed: np.ndarray        # per directed tie: 1 where the source invested (so observed)
    benefit_share: np.ndarray   # per directed tie: source's share of the pair's benefit


def invest(ties, joint_work):
    """Spread each organisation's joint work over its ties by level."""
    weight = ties.level.astype(float) * ties.active
    denom = np.bincount(ties.src, weights=weight, minlength=ties.n_orgs)
    share = np.divide(weight, denom[ties.src], out=np.zeros_like(weight), where=denom[ties.src] > 0)
    ties.investment[:] = joint_work[ties.src] * share
    return ties.investment


def run_projects(ties, orgs, convening: float, funding_flexibility: float, p: dict, rng) -> JointWorkResult:
    x_ab = ties.investment[0::2]
    x_ba = ties.investment[1::2]
    a = ties.src[0::2]
    b = ties.dst[0::2]
    level = ties.level[0::2].astype(float)
    attempted = (x_ab > 0) & (x_ba > 0)
    mutual_effort = np.sqrt(x_ab * x_ba)
    balance = np.divide(np.minimum(x_ab, x_ba), np.maximum(x_ab, x_ba),
                        out=np.zeros_like(x_ab), where=attempted)
    mutual_trust = np.minimum(ties.trust[0::2], ties.trust[1::2])
    p_success = (1.0 - np.exp(-mutual_effort / EFFORT_SCALE)) * np.sqrt(balance) * (
        0.3 + 0.4 * mutual_trust + 0.3 * convening)
    success = attempted & (rng.random(a.size) < np.clip(p_success, 0.0, 1.0))

    advantage = p["collaborative_advantage"] * level / 4.0
    overhead = p["stage_overhead"] * (1.0 - (level - 1.0) / 4.0)
    pooling = np.where(level >= 4, 0.75 + 0.5 * funding_flexibility, 1.0)
    output = np.where(success, (x_ab + x_ba) * advantage * (1.0 - overhead) * pooling, 0.0)

    # Kept commitments: did the partner put as large a share of its capacity into joint work as I did?
    share = orgs.effort_joint
    invested = ties.investment > 0
    partner_invested = ties.investment[ties.rev] > 0
    ratio = np.divide(share[ties.dst], share[ties.src], out=np.ones(ties.n), where=share[ties.src] > 0)
    # a failed project delivers half of what was promised
    delivered = 0.5 + 0.5 * np.repeat(success, 2)
    kept = np.where(partner_invested, np.minimum(1.0, ratio) * delivered, 0.0)
    observed = (invested & ties.active & (ties.level > 0)).astype(float)

    voice_a, voice_b = orgs.voice[a], orgs.voice[b]
    total = voice_a + voice_b
    share_a = np.divide(voice_a, total, out=np.full_like(total, 0.5), where=total > 0)
    benefit_share = np.empty(ties.n)
    benefit_share[0::2] = share_a
    benefit_share[1::2] = 1.0 - share_a
    return JointWorkResult(attempted, success, output, kept, observed, benefit_share)


def sharing_and_wins(ties, orgs, result: JointWorkResult) -> None:
    """Update each organisation's perceived unfairness and record of shared wins."""
    succ = np.repeat(result.success, 2)
    total_inv = ties.investment + ties.investment[ties.rev]
    contribution = np.divide(ties.investment, total_inv, out=np.zeros(ties.n), where=total_inv > 0)
    unfair = np.maximum(0.0, contribution - result.benefit_share) * succ
    n_succ = np.bincount(ties.src, weights=succ.astype(float), minlength=orgs.n)
    n_tried = np.bincount(ties.src, weights=np.repeat(result.attempted, 2).astype(float), minlength=orgs.n)
    mean_unfair = np.divide(np.bincount(ties.src, weights=unfair, minlength=orgs.n), n_succ,
                            out=np.zeros(orgs.n), where=n_succ > 0)
    win_rate = np.divide(n_succ, n_tried, out=np.zeros(orgs.n), where=n_tried > 0)
    orgs.unfairness += 0.1 * (mean_unfair - orgs.unfairness)
    orgs.wins += 0.1 * (win_rate - orgs.wins)


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
