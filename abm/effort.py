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

from .rules import register_rule

OWN, JOINT, GAMING = 0, 1, 2
PROPENSITY_LIMIT = 0.25  # assumption: habits shift a utility by at most a quarter


@register_rule("effort_choice", "default")
def logit_effort_choice(utilities, propensity, p):
    """Multinomial logit: share of line k = exp(beta (u_k + q_k)) / sum over lines."""
    z = utilities + propensity
    # column-wise max and sum: the same numbers as z.max(axis=1) / z.sum(axis=1), 4x faster for 3 lines
    z -= np.maximum(np.maximum(z[:, 0], z[:, 1]), z[:, 2])[:, None]
    z *= p["choice_sharpness"]
    np.exp(z, out=z)
    z /= (z[:, 0] + z[:, 1] + z[:, 2])[:, None]
    return z


def allocate(orgs, shares) -> None:
    """Turn the chosen shares of discretionary capacity into work on each line."""
    disc = orgs.discretionary
    orgs.own_work[:] = shares[:, OWN] * disc
    orgs.joint_work[:] = shares[:, JOINT] * disc
    orgs.gaming_work[:] = shares[:, GAMING] * disc
    total = np.maximum(orgs.capacity, 1e-12)
    orgs.effort_own[:] = orgs.own_work / total
    orgs.effort_joint[:] = orgs.joint_work / total
    orgs.effort_gaming[:] = orgs.gaming_work / total
    orgs.effort_compliance[:] = orgs.compliance / total


def payoff(orgs, system_outcome) -> np.ndarray:
    """What each organisation experienced this month (see the module docstring)."""
    own = np.where(orgs.covered_by("overseer") & (orgs.segment > 0), orgs.score, orgs.true_performance)
    purpose = orgs.shared_purpose
    return (1.0 - 0.5 * purpose) * own + 0.5 * purpose * system_outcome[orgs.system] - 0.5 * orgs.sanctioned


def learn(orgs, shares, p) -> None:
    """Bush-Mosteller reinforcement: lines used more when satisfied are reinforced."""
    satisfaction = orgs.payoff - orgs.aspiration
    orgs.propensity += p["learning_rate"] * satisfaction[:, None] * (shares - 1.0 / 3.0) * 3.0
    np.clip(orgs.propensity, -PROPENSITY_LIMIT, PROPENSITY_LIMIT, out=orgs.propensity)
    orgs.aspiration += p["aspiration_adaptation"] * (orgs.payoff - orgs.aspiration)
