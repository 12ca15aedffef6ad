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

from numba import njit

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
    _capacity_left(asks=orgs.asks, forum_time=orgs.forum_time, capacity=orgs.capacity, active=orgs.active,
                   compliance=orgs.compliance, discretionary=orgs.discretionary)


@njit(cache=True)
def _capacity_left(asks, forum_time, capacity, active, compliance, discretionary):
    """Compliance work (asks and forums, at most 90% of capacity) and the discretionary capacity left."""
    for i in range(capacity.size):
        compliance[i] = min(asks[i] + forum_time[i], 0.9 * capacity[i])
        discretionary[i] = (capacity[i] - compliance[i]) * active[i]


def act(model) -> None:
    """Inspections and league tables, and what organisations carry forward from them."""
    orgs = model.orgs
    _decay(sanction_stock=orgs.sanction_stock, support=orgs.support, caught_record=orgs.caught_record,
           sanction_decay=SANCTION_DECAY, support_decay=SUPPORT_DECAY, caught_decay=CAUGHT_DECAY)
    for regulator in model.regulators:
        regulator.inspect(model)
    caught = orgs.caught_gaming
    orgs.reported_performance[caught] = orgs.true_performance[caught]   # before any league table ranks it
    for regulator in model.regulators:
        regulator.review(model)
    _carry_forward(caught=caught, sanction_size=orgs.sanction_size, asks=orgs.asks, inspected=orgs.inspected,
                   segment=orgs.segment, caught_record=orgs.caught_record, sanction_stock=orgs.sanction_stock,
                   scrutiny=orgs.scrutiny, ask_scrutiny=ASK_SCRUTINY, scrutiny_rate=SCRUTINY_RATE)


@njit(cache=True)
def _decay(sanction_stock, support, caught_record, sanction_decay, support_decay, caught_decay):
    """Last months' sanctions, support and detections fade."""
    for i in range(sanction_stock.size):
        sanction_stock[i] *= sanction_decay
        support[i] *= support_decay
        caught_record[i] *= caught_decay


@njit(cache=True)
def _carry_forward(caught, sanction_size, asks, inspected, segment, caught_record, sanction_stock, scrutiny,
                   ask_scrutiny, scrutiny_rate):
    """What each organisation carries forward from this month's oversight: its record of being caught,
    its sanction stock, and the scrutiny it felt (asks, an inspection, a bottom segment)."""
    for i in range(caught.size):
        if caught[i]:
            caught_record[i] += 1.0
        sanction_stock[i] += sanction_size[i]
        felt = min(1.0, ask_scrutiny * asks[i] + inspected[i] + 0.5 * (segment[i] == 4))
        scrutiny[i] += scrutiny_rate * (felt - scrutiny[i])
