"""Submodel: the oversight phases of a month, as the regulators carry them out.

Before organisations choose their effort, every regulator makes its asks
(``Regulator.ask``) and the ICB holds forums; what they take comes off
each organisation's capacity (at most 90% of it). After performance is
known, every regulator inspects (``Regulator.inspect``) and the overseer
publishes its quarterly league table (``Regulator.review``). This module only
sequences the regulators and turns what they did into what each
organisation carries forward: reported figures corrected after a detection,
a sanction stock, a record of being caught, and felt scrutiny. It reads no
regime setting; the regulators do (``agents.regulator``).
"""

from __future__ import annotations

import numpy as np

SANCTION_DECAY = 0.9   # assumption: a sanction's effect on turf halves in about 7 months
SUPPORT_DECAY = 0.9    # assumption: improvement support fades likewise
CAUGHT_DECAY = 0.9     # assumption: a detection raises inspection risk for about two years (record above 0.1)
SCRUTINY_RATE = 0.2    # assumption: felt scrutiny follows what happened over about five months
ASK_SCRUTINY = 3.0     # assumption: asks taking a third of capacity are felt as full scrutiny


def demands(model) -> None:
    """Asks and forums: set compliance work and discretionary capacity."""
    orgs = model.orgs
    orgs.clear_month()
    for regulator in model.regulators:
        regulator.ask(model)
    orgs.compliance[:] = np.minimum(orgs.asks + orgs.forum_time, 0.9 * orgs.capacity)
    orgs.discretionary[:] = (orgs.capacity - orgs.compliance) * orgs.active


def act(model) -> None:
    """Inspections and league tables, and what organisations carry forward from them."""
    orgs = model.orgs
    orgs.sanction_stock *= SANCTION_DECAY
    orgs.support *= SUPPORT_DECAY
    orgs.caught_record *= CAUGHT_DECAY
    for regulator in model.regulators:
        regulator.inspect(model)
    caught = orgs.caught_gaming
    orgs.reported_performance[caught] = orgs.true_performance[caught]   # before any league table ranks it
    for regulator in model.regulators:
        regulator.review(model)
    orgs.caught_record[caught] += 1.0
    orgs.sanction_stock += orgs.sanction_size
    felt = np.minimum(1.0, ASK_SCRUTINY * orgs.asks + orgs.inspected + 0.5 * (orgs.segment == 4))
    orgs.scrutiny += SCRUTINY_RATE * (felt - orgs.scrutiny)
