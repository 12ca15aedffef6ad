"""Submodel: how an organisation splits its management capacity.

Compliance with national asks and time in forums come first (they are
mandatory). What is left is split between own targets, joint work and gaming
by a logit choice (bounded rationality) over perceived utilities plus
learned propensities, which are reinforced by satisfaction against an
adapting aspiration level (Macy & Flache 2002).

Utilities are each kind's ``Organisation.effort_utilities``: they rest on
what the organisation believes about oversight (``abm.beliefs``), its trust
in partners, its turf and the shared purpose it signed up to, never on a
regime setting. The payoff that reinforces a line is what the organisation
experienced: its published score (or its true performance, where nobody
scores it), the system outcome in proportion to its shared purpose, less a
sanction.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rules import register_rule

OWN, JOINT, GAMING = 0, 1, 2
PROPENSITY_LIMIT = 0.25  # assumption: habits shift a utility by at most a quarter


@register_rule("effort_choice", "default")
def logit_effort_choice(utilities, propensity, p):
    """Multinomial logit: share of line k = exp(beta (u_k + q_k)) / sum over lines."""
    z = np.empty(propensity.shape)
    _logit_exponents(utilities=utilities, propensity=propensity, sharpness=p["choice_sharpness"], z=z)
    np.exp(z, out=z)   # NumPy's exp, as before the loops were compiled: the same shares to the last digit
    _normalise_rows(z)
    return z


@njit(cache=True)
def _logit_exponents(utilities, propensity, sharpness, z):
    """beta (u_k + q_k - the largest u + q of the organisation): the exponents, at most 0, so exp cannot overflow."""
    for i in range(z.shape[0]):
        for k in range(z.shape[1]):
            z[i, k] = utilities[i, k] + propensity[i, k]
        top = z[i, 0]
        for k in range(1, z.shape[1]):
            if not (top >= z[i, k] or top != top):   # as np.maximum: the larger, NaN if either is NaN
                top = z[i, k]
        for k in range(z.shape[1]):
            z[i, k] = (z[i, k] - top) * sharpness


@njit(cache=True)
def _normalise_rows(z):
    """Divide each row by its sum (summed from the first line to the last)."""
    for i in range(z.shape[0]):
        total = z[i, 0]
        for k in range(1, z.shape[1]):
            total += z[i, k]
        for k in range(z.shape[1]):
            z[i, k] /= total


def allocate(orgs, shares) -> None:
    """Turn the chosen shares of discretionary capacity into work on each line."""
    _allocate(shares=shares, discretionary=orgs.discretionary, capacity=orgs.capacity, compliance=orgs.compliance,
              own_work=orgs.own_work, joint_work=orgs.joint_work, gaming_work=orgs.gaming_work,
              effort_own=orgs.effort_own, effort_joint=orgs.effort_joint, effort_gaming=orgs.effort_gaming,
              effort_compliance=orgs.effort_compliance)


@njit(cache=True)
def _allocate(shares, discretionary, capacity, compliance, own_work, joint_work, gaming_work, effort_own,
              effort_joint, effort_gaming, effort_compliance):
    for i in range(discretionary.size):
        own_work[i] = shares[i, OWN] * discretionary[i]
        joint_work[i] = shares[i, JOINT] * discretionary[i]
        gaming_work[i] = shares[i, GAMING] * discretionary[i]
        total = max(capacity[i], 1e-12)
        effort_own[i] = own_work[i] / total
        effort_joint[i] = joint_work[i] / total
        effort_gaming[i] = gaming_work[i] / total
        effort_compliance[i] = compliance[i] / total


def payoff(orgs, system_outcome) -> np.ndarray:
    """What each organisation experienced this month (see the module docstring)."""
    experienced = np.empty(orgs.true_performance.size)
    _payoff(scored=orgs.covered_by("overseer"), segment=orgs.segment, score=orgs.score,
            true_performance=orgs.true_performance, shared_purpose=orgs.shared_purpose,
            system_outcome=system_outcome, system=orgs.system, sanctioned=orgs.sanctioned, payoff=experienced)
    return experienced


@njit(cache=True)
def _payoff(scored, segment, score, true_performance, shared_purpose, system_outcome, system, sanctioned, payoff):
    for i in range(payoff.size):
        own = score[i] if scored[i] and segment[i] > 0 else true_performance[i]   # its published score, if it has one
        purpose = shared_purpose[i]
        payoff[i] = (1.0 - 0.5 * purpose) * own + 0.5 * purpose * system_outcome[system[i]] - 0.5 * sanctioned[i]


def learn(orgs, shares, p) -> None:
    """Bush-Mosteller reinforcement: lines used more when satisfied are reinforced."""
    _learn(payoff=orgs.payoff, aspiration=orgs.aspiration, propensity=orgs.propensity, shares=shares,
           learning_rate=p["learning_rate"], aspiration_adaptation=p["aspiration_adaptation"],
           limit=PROPENSITY_LIMIT)


@njit(cache=True)
def _learn(payoff, aspiration, propensity, shares, learning_rate, aspiration_adaptation, limit):
    for i in range(payoff.size):
        satisfaction = payoff[i] - aspiration[i]
        for k in range(propensity.shape[1]):
            q = propensity[i, k] + learning_rate * satisfaction * (shares[i, k] - 1.0 / 3.0) * 3.0
            propensity[i, k] = -limit if q < -limit else (limit if q > limit else q)
        aspiration[i] += aspiration_adaptation * (payoff[i] - aspiration[i])
