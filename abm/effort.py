"""Submodel: how an organisation splits its management capacity.

Compliance with oversight comes first (it is mandatory). What is left is split
between own targets, joint work and gaming by a logit choice (bounded
rationality) over perceived utilities plus learned propensities, which are
reinforced by satisfaction against an adapting aspiration level (Macy &
Flache 2002).

Perceived utilities (all terms are the organisation's incentives):
- own targets: urgency of pressure + the pull of organisational metrics;
- joint work: willingness = expected reciprocity (trust and record in
  partners) x (1 - turf), times (collaborative advantage x a horizon that
  pressure shortens: "work harder, not smarter", Repenning & Sterman 2001,
  + the pull of system metrics), + the expected penalty for free-riding under
  system accountability;
- gaming: the pull of organisational metrics x how much more a unit of gaming
  moves a reported score than a unit of real work (``gaming_leverage``) x
  (1 - the expected penalty of detection), less an integrity cost
  (1 - ``gaming_propensity``).
"""

from __future__ import annotations

import numpy as np

from .rules import register_rule

OWN, JOINT, GAMING = 0, 1, 2
PROPENSITY_LIMIT = 0.25  # assumption: habits shift a utility by at most a quarter


def effort_utilities(orgs, expected_reciprocity, has_partners, regime, p, inspection_rate):
    """Perceived utility of a unit of effort on own targets, joint work and gaming (n x 3)."""
    intensity = regime.oversight_intensity
    focus = regime.system_focus
    relief = 1.0 - regime.earned_autonomy * orgs.autonomy
    regulated = (orgs.nhs_oversight | orgs.cqc_inspected).astype(float)
    org_pull = intensity * (1.0 - focus) * relief * regulated   # weight of organisational scores
    system_pull = intensity * focus                             # weight of system scores
    horizon = 1.0 - p["myopia"] * orgs.pressure                  # delayed payoff, discounted
    willingness = expected_reciprocity * (1.0 - orgs.turf)
    expected_penalty = np.minimum(1.0, 2.0 * inspection_rate * p["detection_probability"] * regime.sanction_severity)
    u = np.zeros((orgs.n, 3))
    u[:, OWN] = 0.4 + 0.6 * orgs.pressure + org_pull
    u[:, JOINT] = has_partners * (
        willingness * (p["collaborative_advantage"] * horizon + system_pull)
        + p["free_rider_deterrence"] * system_pull
    )
    u[:, GAMING] = (org_pull * p["gaming_leverage"] * (1.0 - expected_penalty)
                    - (1.0 - p["gaming_propensity"]))
    return u


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


def learn(orgs, shares, p) -> None:
    """Bush-Mosteller reinforcement: lines used more when satisfied are reinforced."""
    satisfaction = orgs.payoff - orgs.aspiration
    orgs.propensity += p["learning_rate"] * satisfaction[:, None] * (shares - 1.0 / 3.0) * 3.0
    np.clip(orgs.propensity, -PROPENSITY_LIMIT, PROPENSITY_LIMIT, out=orgs.propensity)
    orgs.aspiration += p["aspiration_adaptation"] * (orgs.payoff - orgs.aspiration)
