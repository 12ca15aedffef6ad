"""Submodel: how an organisation splits its management capacity.

Compliance with oversight comes first (it is mandatory). What is left is split
between own targets, joint work and gaming by a logit choice (bounded
rationality) over perceived utilities plus learned propensities, which are
reinforced by satisfaction against an adapting aspiration level (Macy &
Flache 2002).

Perceived utilities (all terms are the organisation's incentives):
- own targets: urgency of pressure + the pull of organisational metrics;
- joint work: expected reciprocity (trust and record in partners) x
  willingness to share turf x (the long-run value of joint work, discounted by
  pressure: "work harder, not smarter", Repenning & Sterman 2001, + the pull of
  system metrics) + the expected penalty for free-riding under system
  accountability;
- gaming: propensity x the pull of organisational metrics x (1 - the expected
  cost of detection).
"""

from __future__ import annotations

import numpy as np

from .rules import register_rule

OWN, JOINT, GAMING = 0, 1, 2


def effort_utilities(orgs, expected_reciprocity, has_partners, regime, p, inspection_rate):
    intensity = regime.oversight_intensity
    focus = regime.system_focus
    relief = 1.0 - regime.earned_autonomy * orgs.autonomy
    regulated = (orgs.nhs_oversight | orgs.cqc_inspected).astype(float)
    org_pull = intensity * (1.0 - focus) * relief * regulated
    system_pull = intensity * focus
    horizon = 1.0 - p["myopia"] * orgs.pressure
    u = np.zeros((orgs.n, 3))
    u[:, OWN] = 0.4 + 0.6 * orgs.pressure + org_pull
    u[:, JOINT] = has_partners * (
        expected_reciprocity * (1.0 - orgs.turf) * (0.9 * horizon + system_pull)
        + p["free_rider_deterrence"] * system_pull
    )
    detection_cost = np.minimum(1.0, inspection_rate * 4.0 * p["detection_probability"]) * (0.5 + regime.sanction_severity)
    u[:, GAMING] = p["gaming_propensity"] * 1.5 * org_pull * np.maximum(0.0, 1.0 - detection_cost) - 0.1
    return u


@register_rule("effort_choice", "default")
def logit_effort_choice(utilities, propensity, p):
    z = p["choice_sharpness"] * (utilities + propensity)
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)


def learn(orgs, shares, p) -> None:
    """Bush-Mosteller reinforcement: lines used more when satisfied are reinforced."""
    satisfaction = orgs.payoff - orgs.aspiration
    orgs.propensity += p["learning_rate"] * satisfaction[:, None] * (shares - 1.0 / 3.0) * 3.0
    np.clip(orgs.propensity, -1.0, 1.0, out=orgs.propensity)
    orgs.aspiration += p["aspiration_adaptation"] * (orgs.payoff - orgs.aspiration)
