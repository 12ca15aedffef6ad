"""Who sits at the table: organisations per ICS, their ties, shared trusts, mergers, added kinds."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pytest

from abm import ICSModel
from agents.organisation import TABLE_KINDS, AcuteTrust, Organisation


def pair_set(model, active_only=True):
    t = model.ties
    keep = t.active if active_only else np.ones(t.n, bool)
    return {(int(a), int(b)) for a, b in zip(t.src[keep], t.dst[keep])}


def kinds_of(model, system=None):
    return Counter(o.kind for o in model.organisations
                   if o.active and (system is None or o.system == system))


class Hospice(Organisation):
    kind = "hospice"
    label = "Hospice"
    tier = "place"
    budget = 0.08
    statutory_weight = 0.2
    ties_to = ("icb", "local_authority", "community", "acute")
    colour = "#663399"


class Police(Organisation):
    kind = "police"
    label = "Police force"
    tier = "system"
    budget = 1.0
    ties_to = TABLE_KINDS


class Liaison(Organisation):
    """A system-level body that declares ties to the ICB and acute trusts only."""

    kind = "liaison"
    label = "Hospital liaison service"
    tier = "system"
    ties_to = ("icb", "acute")


class Loner(Organisation):
    kind = "loner"
    label = "A body that declares no ties"
    tier = "system"


class BigAcute(AcuteTrust):
    budget = 8.0


@pytest.fixture(scope="module")
def default_model():
    return ICSModel(rng=11)


# --------------------------------------------------------------------- counts
def test_default_ics_counts_per_kind(default_model):
    assert kinds_of(default_model) == {
        "icb": 1, "acute": 3, "mental_health": 1, "community": 1, "ambulance": 1,
        "local_authority": 4, "vcse_alliance": 1, "vcse": 10, "primary_care": 30, "healthwatch": 4,
    }
    assert len(default_model.organisations) == 56
    assert default_model.n_places == 4


def test_counts_follow_the_parameters():
    m = ICSModel(rng=1, n_systems=2, n_acute=2, n_local_authorities=3, n_vcse=5, n_primary_care=7, n_community=0)
    for s in range(2):
        got = kinds_of(m, s)
        assert got["icb"] == 1 and got["acute"] == 2 and got["local_authority"] == 3
        assert got["vcse"] == 5 and got["primary_care"] == 7 and got["healthwatch"] == 3
        assert got["community"] == 0
    assert m.n_places == 6
    assert list(m.place_system) == [0, 0, 0, 1, 1, 1]


def test_organisations_know_their_row_and_are_mesa_agents(default_model):
    m = default_model
    assert [o.index for o in m.organisations] == list(range(len(m.organisations)))
    assert set(m.organisations) <= set(m.agents)
    assert len({o.unique_id for o in m.organisations}) == len(m.organisations)


def test_england_has_at_least_4000_organisations():
    m = ICSModel(rng=1, n_systems=42, n_vcse=60, collect_agents=False)
    assert len(m.organisations) >= 4000
    got = kinds_of(m)
    assert got["icb"] == 42 and got["local_authority"] == 42 * 4
    assert got["ambulance"] == int(np.ceil(42 / 4))


# --------------------------------------------------------------------- ties
def _system_tier_serving(model, s):
    return [o.index for o in model.organisations if o.tier == "system" and s in o.systems]


@pytest.mark.parametrize("kw", [{}, {"n_systems": 5, "mental_health_span": 2, "n_acute": 2}])
def test_every_system_tier_pair_in_an_ics_has_a_tie(kw):
    m = ICSModel(rng=3, **kw)
    pairs = pair_set(m)
    for s in range(m.p["n_systems"]):
        table = _system_tier_serving(m, s)
        assert len(table) >= 5
        for a, b in combinations(table, 2):
            assert (a, b) in pairs and (b, a) in pairs, (s, m.organisation_rows[a], m.organisation_rows[b])


@pytest.mark.parametrize("kw", [{}, {"n_systems": 3, "n_local_authorities": 2}])
def test_every_place_tier_organisation_is_tied_to_its_icb_and_council(kw):
    m = ICSModel(rng=4, **kw)
    pairs = pair_set(m)
    icb = {o.system: o.index for o in m.organisations if o.kind == "icb"}
    council = {o.place: o.index for o in m.organisations if o.kind == "local_authority"}
    place_tier = [o for o in m.organisations if o.tier == "place"]
    assert len(place_tier) >= 44
    for o in place_tier:
        assert o.place >= 0 and m.place_system[o.place] == o.system
        assert (o.index, icb[o.system]) in pairs
        assert (o.index, council[o.place]) in pairs


def test_vcse_providers_are_tied_to_their_alliance(default_model):
    m = default_model
    pairs = pair_set(m)
    alliance = next(o.index for o in m.organisations if o.kind == "vcse_alliance")
    for o in m.organisations_of("vcse"):
        assert (o.index, alliance) in pairs


def test_ties_come_in_reverse_pairs(default_model):
    t = default_model.ties
    e = np.arange(t.n)
    assert t.n % 2 == 0 and t.n > 0
    assert (t.rev == (e ^ 1)).all()
    assert (t.rev[t.rev] == e).all()
    assert (t.src[t.rev] == t.dst).all() and (t.dst[t.rev] == t.src).all()
    assert (t.level[0::2] == t.level[1::2]).all()


@pytest.mark.parametrize("kw", [{}, {"n_systems": 4, "place_degree": 50.0, "mental_health_span": 3}])
def test_no_self_ties_and_no_duplicate_pairs(kw):
    m = ICSModel(rng=5, **kw)
    t = m.ties
    assert (t.src != t.dst).all()
    undirected = [tuple(sorted(x)) for x in zip(t.src[0::2].tolist(), t.dst[0::2].tolist())]
    assert len(undirected) == len(set(undirected))
    assert len(pair_set(m, active_only=False)) == t.n


def test_place_degree_zero_gives_no_ties_among_place_peers():
    m = ICSModel(rng=1, place_degree=0.0)
    place = np.array([o.tier == "place" for o in m.organisations])
    assert not (place[m.ties.src] & place[m.ties.dst]).any()
    m2 = ICSModel(rng=1, place_degree=6.0)
    assert (place[m2.ties.src] & place[m2.ties.dst]).any()


def test_eight_systems_share_two_ambulance_trusts_of_four_icss_each():
    m = ICSModel(rng=6, n_systems=8, ambulance_span=4)
    amb = m.organisations_of("ambulance")
    assert len(amb) == 2
    assert sorted(s for a in amb for s in a.systems) == list(range(8))
    pairs = pair_set(m)
    icb = {o.system: o.index for o in m.organisations_of("icb")}
    for a in amb:
        assert len(a.systems) == 4
        for s in a.systems:
            assert (a.index, icb[s]) in pairs


def test_mental_health_trusts_can_span_neighbouring_icss():
    m = ICSModel(rng=6, n_systems=4, mental_health_span=2, n_mental_health=1)
    mh = m.organisations_of("mental_health")
    assert len(mh) == 2 and all(len(o.systems) == 2 for o in mh)


# --------------------------------------------------------------------- mergers
def test_merger_deactivates_one_organisation_and_all_its_ties_and_keeps_budgets():
    m = ICSModel(rng=7, collect_ties=True)
    m.run_for(3)
    acute = [o.index for o in m.organisations_of("acute") if o.system == 0]
    before_budget = m.orgs.budget[acute].sum()
    before_active_total = m.orgs.budget[m.orgs.active].sum()
    before_pairs = int(m.ties.active.sum())
    m.trigger("merger", system=0)  # default kind: acute
    still = [i for i in acute if m.orgs.active[i]]
    gone = [i for i in acute if not m.orgs.active[i]]
    assert len(still) == len(acute) - 1 and len(gone) == 1
    g = gone[0]
    touches = (m.ties.src == g) | (m.ties.dst == g)
    assert touches.any() and not m.ties.active[touches].any()
    assert int(m.ties.active.sum()) == before_pairs - int(touches.sum())
    assert m.orgs.budget[still].sum() == pytest.approx(before_budget)
    assert m.orgs.budget[m.orgs.active].sum() == pytest.approx(before_active_total)
    assert m.organisation_rows[g] not in m.agents
    assert not m.organisation_rows[g].active

    m.run_for(4)
    assert not m.ties.active[touches].any() and (m.ties.level[touches] == 0).all()
    gid = m.organisation_rows[g].unique_id
    tt = m.tie_table()
    assert gid not in set(tt["source"]) and gid not in set(tt["target"])
    agents = m.datacollector.get_agent_vars_dataframe()
    assert gid not in agents.loc[m.month].index
    assert gid in agents.loc[3].index
    assert m.orgs.voice[g] == 0.0


def test_scheduled_merger_happens_at_its_month():
    m = ICSModel(rng=7, events=[(2, "merger", {"system": 0})])
    m.step()
    assert len(m.organisations_of("acute")) == 3
    m.step()
    assert len(m.organisations_of("acute")) == 2


@pytest.mark.parametrize("how", ["trigger", "schedule", "events"])
def test_event_option_kind_can_be_given(how):
    """The documented call model.trigger("merger", kind="acute", system=0) and its scheduled forms.

    (The option 'kind' once collided with the methods' own event-kind argument.)
    """
    if how == "events":
        m = ICSModel(rng=7, events=[(1, "merger", {"kind": "acute", "system": 0}),
                                    (1, "budget_cut", {"kind": "local_authority", "share": 0.5})])
        m.step()
    elif how == "schedule":
        m = ICSModel(rng=7)
        m.schedule_structural_event(1, "merger", kind="acute", system=0)
        m.schedule_structural_event(1, "budget_cut", kind="local_authority", share=0.5)
        m.step()
    else:
        m = ICSModel(rng=7)
        m.trigger("merger", kind="acute", system=0)
        m.trigger("budget_cut", kind="local_authority", share=0.5)
    assert len(m.organisations_of("acute")) == 2
    la = [o.index for o in m.organisations_of("local_authority")]
    assert np.allclose(m.orgs.budget[la], 0.5 * m.orgs.base_budget[la])


def test_merger_of_a_kind_with_one_organisation_changes_nothing(default_model):
    m = ICSModel(rng=7)
    active = m.ties.active.copy()
    m.trigger("merger", kind="icb", system=0)
    assert (m.ties.active == active).all() and m.orgs.active.all()


# --------------------------------------------------------------------- ties by declaration
def partner_kinds(model, org):
    return Counter(o.kind for o in org.partners())


@pytest.mark.parametrize("n_systems", [1, 3])
def test_a_new_kind_gets_ties_to_exactly_the_kinds_it_declares(n_systems):
    m = ICSModel(rng=9, n_systems=n_systems, extra_organisations={Liaison: 2})
    liaisons = m.organisations_of("liaison")
    assert len(liaisons) == 2 * n_systems
    for body in liaisons:
        got = partner_kinds(m, body)
        assert set(got) == {"icb", "acute"}, got
        assert got["icb"] == 1
        # every acute trust of its ICS, and nothing beyond its ICS
        assert got["acute"] == m.p["n_acute"]
        assert all(body.system in o.systems for o in body.partners())
    # the declaration is symmetric: the ICB and acute trusts see it as a partner
    icb = next(o for o in m.organisations_of("icb") if o.system == 0)
    assert partner_kinds(m, icb)["liaison"] == 2


def test_a_new_kind_that_declares_nothing_gets_no_ties():
    m = ICSModel(rng=9, extra_organisations={Loner: 1})
    loner = m.organisations_of("loner")[0]
    assert loner.partners() == []
    m.run_for(3)   # and the model still runs with an isolated body
    assert m.joint_work_result.tried[loner.index] == 0


def test_a_swapped_built_in_kind_ties_by_its_own_declaration():
    """An acute trust that declares no partnership with primary care loses those ties, and nothing else."""

    class AloofAcute(AcuteTrust):
        ties_to = tuple(k for k in AcuteTrust.ties_to if k != "primary_care")

    class AloofPCN(m_kinds()["primary_care"]):
        ties_to = tuple(k for k in m_kinds()["primary_care"].ties_to if k != "acute")

    plain = ICSModel(rng=10)
    aloof = ICSModel(rng=10, organisation_classes={"acute": AloofAcute, "primary_care": AloofPCN})
    for acute in aloof.organisations_of("acute"):
        assert "primary_care" not in partner_kinds(aloof, acute)
    before = {k: v for k, v in partner_kinds(plain, plain.organisations_of("acute")[0]).items() if k != "primary_care"}
    assert partner_kinds(aloof, aloof.organisations_of("acute")[0]) == before
    assert sum(partner_kinds(plain, a)["primary_care"] for a in plain.organisations_of("acute")) > 0


def m_kinds():
    from agents.kinds import ORGANISATION_KINDS

    return ORGANISATION_KINDS


# --------------------------------------------------------------------- extending
def test_extra_place_tier_kind_gets_place_tier_ties():
    m = ICSModel(rng=8, n_systems=2, extra_organisations={Hospice: 3})
    hospices = m.organisations_of("hospice")
    assert len(hospices) == 6
    assert all(isinstance(h, Hospice) for h in hospices)
    pairs = pair_set(m)
    for h in hospices:
        icb = next(o for o in m.organisations_of("icb") if o.system == h.system)
        council = next(o for o in m.organisations_of("local_authority") if o.place == h.place)
        community = [o for o in m.organisations_of("community") if o.system == h.system]
        alliance = next(o for o in m.organisations_of("vcse_alliance") if o.system == h.system)
        assert (h.index, icb.index) in pairs and (h.index, council.index) in pairs
        assert all((h.index, c.index) in pairs for c in community)
        assert (h.index, alliance.index) not in pairs  # only VCSE providers tie to the alliance
        assert not any(o.system != h.system for o in h.partners() if o.tier == "place")
    m.run_for(3)
    assert "hospice" in set(m.datacollector.get_agent_vars_dataframe()["kind"])


def test_extra_system_tier_kind_sits_at_the_table():
    m = ICSModel(rng=8, extra_organisations={Police: 1})
    police = m.organisations_of("police")
    assert len(police) == 1
    partners = {o.index for o in police[0].partners()}
    assert set(_system_tier_serving(m, 0)) - {police[0].index} <= partners


def test_swapped_kind_class_is_used():
    m = ICSModel(rng=8, size_spread=0.0, organisation_classes={"acute": BigAcute})
    acute = m.organisations_of("acute")
    assert all(type(o) is BigAcute for o in acute)
    assert (m.orgs.budget[[o.index for o in acute]] == 8.0).all()


@pytest.mark.parametrize("bad,err", [
    ({"organisation_classes": {"hospital": BigAcute}}, ValueError),
    ({"organisation_classes": {"icb": BigAcute}}, TypeError),
    ({"extra_organisations": {int: 1}}, TypeError),
    ({"extra_organisations": {Hospice: -1}}, ValueError),
    ({"extra_organisations": {Hospice: 1.5}}, ValueError),
])
def test_bad_extension_arguments_raise_clear_errors(bad, err):
    with pytest.raises(err):
        ICSModel(**bad)
