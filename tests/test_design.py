"""The design rules of Model 2.0 (issue 9), checked on the code and on runs.

- A regime is what the regulators and the ICB do: no other module reads a regime knob.
- Editing a rule by the documented route changes the output; overriding one kind's
  decision method changes only that kind's decisions.
- A regulator's role is an attribute, not its place in the list; ties in scores break at random.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from abm import ICSModel, register_rule
from abm import trust, turf
from abm.parameters import REGIME_KNOBS
from agents import AcuteTrust, CQCInspector, NHSEOverseer

ROOT = Path(__file__).resolve().parents[1]
#: the only modules that may read a regime knob (abm/events.py only validates them)
KNOB_READERS = {"agents/regulator.py", "agents/icb.py", "abm/regimes.py", "abm/parameters.py", "abm/events.py"}
#: may also handle the knobs generically (copy them all, without reading one by name)
GENERIC_KNOB_HANDLERS = KNOB_READERS | {"abm/model.py"}


# --------------------------------------------------------------------------- knob reads
def knob_reads(source: str, filename: str = "<source>", generic_allowed: bool = False) -> list[str]:
    """Every place in ``source`` that reads a regime knob by name, or handles the knobs generically.

    Flags: an attribute named after a knob (``regime.oversight_intensity``), a string equal to a
    knob name anywhere in code (``p["system_focus"]``, ``getattr(r, "sanction_severity")``,
    ``key = "earned_autonomy"``), and, unless ``generic_allowed``, the knob list ``REGIME_KNOBS``
    or a regime's ``knobs()``/``with_knobs()``. Docstrings and comments that mention a knob
    inside longer text are not reads.
    """
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and node.attr in REGIME_KNOBS:
            found.append(f"{where}: attribute .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in REGIME_KNOBS:
            found.append(f"{where}: string {node.value!r}")
        elif not generic_allowed:
            if isinstance(node, ast.Name) and node.id == "REGIME_KNOBS":
                found.append(f"{where}: REGIME_KNOBS")
            elif isinstance(node, ast.alias) and node.name == "REGIME_KNOBS":
                found.append(f"{where}: imports REGIME_KNOBS")
            elif isinstance(node, ast.Attribute) and node.attr in ("knobs", "with_knobs", "REGIME_KNOBS"):
                found.append(f"{where}: .{node.attr}")
    return found


def package_files():
    return sorted(p for folder in ("abm", "agents") for p in (ROOT / folder).rglob("*.py"))


def test_no_module_other_than_the_regulators_the_icb_and_the_regime_reads_a_knob():
    files = package_files()
    assert len(files) > 15 and any(p.name == "organisation.py" for p in files)
    offences = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel in KNOB_READERS:
            continue
        offences += knob_reads(path.read_text(encoding="utf-8"), rel, generic_allowed=rel in GENERIC_KNOB_HANDLERS)
    assert not offences, "regime knobs read outside the regulators, the ICB and the regime module:\n" + "\n".join(offences)


def test_the_allowed_modules_do_read_knobs():
    """The checker finds the reads where they are meant to be (so it is looking at the right thing)."""
    for rel in ("agents/regulator.py", "agents/icb.py"):
        assert knob_reads((ROOT / rel).read_text(encoding="utf-8"), rel)


@pytest.mark.parametrize("planted", [
    "def utility(model, rows):\n    return model.regime.oversight_intensity * rows\n",
    "def utility(model, rows):\n    return model.p['system_focus']\n",
    "def utility(model, rows):\n    return model.p.get('funding_flexibility', 0.0)\n",
    "def utility(model, rows):\n    return getattr(model.regime, 'sanction_severity')\n",
    "KEY = 'earned_autonomy'\ndef utility(model, rows):\n    return model.p[KEY]\n",
    "def utility(model, rows):\n    return model.regime.knobs()['prescriptiveness']\n",
    "from abm.parameters import REGIME_KNOBS\ndef utility(model, rows):\n    return [model.p[k] for k in REGIME_KNOBS]\n",
    "def utility(model, rows):\n    return sum(model.regime.knobs().values())\n",
])
def test_the_checker_catches_a_planted_read(planted):
    assert knob_reads(planted)
    # planted into a real module, it is caught there too
    source = (ROOT / "agents" / "organisation.py").read_text(encoding="utf-8") + "\n\n" + planted
    assert knob_reads(source, "agents/organisation.py")


def test_the_checker_ignores_prose_about_knobs():
    clean = ('def utility(model, rows):\n'
             '    """Responds to beliefs, never to ``oversight_intensity`` or system_focus."""\n'
             '    # not prescriptiveness either\n'
             '    return model.beliefs.inspection[rows]\n')
    assert knob_reads(clean) == []


# --------------------------------------------------------------------------- rules by the documented route
@register_rule("trust_update", "test_design_grudging")
def grudging(ties, result, caught, p):
    """The default rule, but erosion six times as fast as building and double damage."""
    trust.update_trust(ties, result, caught, {**p, "trust_erosion_rate": min(1.0, 6 * p["trust_build_rate"]),
                                              "damage_gain": min(1.0, 2 * p["damage_gain"])})


@register_rule("turf_target", "test_design_sanction_blind")
def sanction_blind(drivers, p):
    """The default turf target, but scrutiny and sanctions do not raise it."""
    return turf.additive_turf_target({**drivers, "scrutiny": 0.0 * drivers["scrutiny"],
                                      "sanctions": 0.0 * drivers["sanctions"]}, p)


def final_table(months=24, **kw):
    model = ICSModel(rng=12, collect_agents=False, regime="top_down", **kw)
    model.run_for(months)
    return model.datacollector.get_model_vars_dataframe()


@pytest.fixture(scope="module")
def default_run():
    return final_table()


@pytest.mark.parametrize("by", ["name", "function"])
def test_a_registered_trust_rule_changes_the_output(default_run, by):
    rule = "test_design_grudging" if by == "name" else grudging
    varied = final_table(rules={"trust_update": rule})
    assert varied["trust_mean"].iloc[-1] < default_run["trust_mean"].iloc[-1] - 0.01
    # month 0, before any rule has run, is the same
    assert varied["trust_mean"].iloc[0] == default_run["trust_mean"].iloc[0]


def test_a_registered_turf_target_changes_the_output(default_run):
    varied = final_table(rules={"turf_target": "test_design_sanction_blind"})
    assert varied["turf_mean"].iloc[-1] < default_run["turf_mean"].iloc[-1] - 0.02


def test_the_default_rule_by_its_registered_name_changes_nothing(default_run):
    same = final_table(rules={"trust_update": "default", "turf_target": "default"})
    assert same.equals(default_run)


# --------------------------------------------------------------------------- a kind's own decision
class CautiousAcute(AcuteTrust):
    """An acute trust that values joint work at nothing."""

    @classmethod
    def effort_utilities(cls, model, rows):
        u = super().effort_utilities(model, rows)
        u[:, 1] = 0.0
        return u


def first_month(**kw):
    model = ICSModel(rng=21, n_systems=2, **kw)
    model.step()
    return model


def test_overriding_one_kind_s_decision_changes_only_that_kind_in_the_first_month():
    default = first_month()
    cautious = first_month(organisation_classes={"acute": CautiousAcute})
    acute = cautious.orgs.kind == "acute"
    assert acute.sum() == 6
    split = lambda m: np.column_stack([m.orgs.effort_own, m.orgs.effort_joint, m.orgs.effort_gaming,  # noqa: E731
                                       m.orgs.effort_compliance])
    assert_array_equal(split(cautious)[~acute], split(default)[~acute])
    assert (cautious.orgs.effort_joint[acute] < default.orgs.effort_joint[acute]).all()
    assert (cautious.orgs.effort_own[acute] > default.orgs.effort_own[acute]).all()
    # and the model's decision for those rows is the subclass's
    u = cautious.decide("effort_utilities")
    assert (u[acute, 1] == 0.0).all() and (u[~acute, 1] != 0.0).any()


def test_overriding_plan_participation_changes_only_that_kind():
    class Aloof(AcuteTrust):
        @classmethod
        def plan_participation(cls, model, rows):
            return np.zeros(rows.size)

    model = ICSModel(rng=21, n_systems=2, organisation_classes={"acute": Aloof})
    default = ICSModel(rng=21, n_systems=2)
    acute = model.orgs.kind == "acute"
    assert not model.orgs.in_plan[acute].any() and default.orgs.in_plan[acute].any()
    assert_array_equal(model.orgs.in_plan[~acute], default.orgs.in_plan[~acute])


# --------------------------------------------------------------------------- roles by attribute
def segmentation(regulators, seed=3):
    model = ICSModel(rng=seed, regime="top_down", n_systems=2, deficit_share=0.0, regulators=regulators)
    model.run_for(3)   # the first quarterly league table
    return model


def test_regulators_in_either_order_give_the_same_roles_and_segmentation():
    default = segmentation([NHSEOverseer, CQCInspector])
    swapped = segmentation([CQCInspector, NHSEOverseer])
    for model in (default, swapped):
        overseer = [r for r in model.regulators if r.role == "overseer"]
        assert len(overseer) == 1 and isinstance(overseer[0], NHSEOverseer)
        providers = model.orgs.in_league_table
        assert set(model.orgs.segment[providers]) == {1, 2, 3, 4}
        assert (model.orgs.segment[model.orgs.is_icb] > 0).all()
        assert (model.orgs.segment[~providers & ~model.orgs.is_icb] == 0).all()
        covered = model.orgs.covered_by("overseer")
        assert (model.orgs.asks[covered] > 0).all() and (model.orgs.asks[~covered] == 0).all()
    for model in (default, swapped):   # the same counts per segment in either order
        counts = np.bincount(model.orgs.segment[model.orgs.in_league_table], minlength=5)
        assert_array_equal(counts, np.bincount(default.orgs.segment[default.orgs.in_league_table], minlength=5))
    assert default.datacollector.get_model_vars_dataframe()["compliance_burden"].iloc[-1] == pytest.approx(
        swapped.datacollector.get_model_vars_dataframe()["compliance_burden"].iloc[-1], rel=0.2)


def test_a_list_of_inspectors_only_publishes_no_league_table():
    model = ICSModel(rng=3, regime="top_down", regulators=[CQCInspector])
    model.run_for(3)
    assert (model.orgs.segment == 0).all() and (model.orgs.asks == 0).all()


def test_equal_scores_are_segmented_in_a_random_order():
    """Providers with identical scores: their order in the league table differs across seeds."""
    order = []
    community_segment = []
    for seed in range(20):
        model = ICSModel(rng=seed, regime="top_down", system_focus=0.0, deficit_share=0.0)
        model.orgs.reported_performance[:] = 0.5
        overseer = next(r for r in model.regulators if r.role == "overseer")
        overseer.review(model)   # month 0 is a review month
        acute = np.flatnonzero(model.orgs.kind == "acute")
        seg = model.orgs.segment
        order.append(np.sign(int(seg[acute[0]]) - int(seg[acute[1]])))
        community_segment.append(int(seg[model.orgs.kind == "community"][0]))
    assert 1 in order and -1 in order
    assert len(set(community_segment)) > 1   # the community trust is not always last


# --------------------------------------------------------------------------- one implementation per rule
def test_each_compiled_rule_lives_in_its_mechanism_s_module_and_there_is_no_twin():
    import importlib.util

    from numba.core.registry import CPUDispatcher

    from abm import continuum, joint_work

    assert importlib.util.find_spec("abm.kernels") is None
    for module, loop in ((trust, "_update"), (continuum, "_update"), (joint_work, "_projects")):
        assert isinstance(getattr(module, loop), CPUDispatcher), (module.__name__, loop)
    # the registered default trust rule is the function in abm/trust.py that calls that loop
    from abm.rules import resolve_rules

    assert resolve_rules(None)["trust_update"].__module__ == "abm.trust"


# --------------------------------------------------------------------------- heterogeneity
def test_organisations_of_one_kind_differ_and_icss_are_not_clones():
    model = ICSModel(rng=8, n_systems=3)
    acute = model.orgs.kind == "acute"
    assert np.unique(model.orgs.budget[acute]).size == acute.sum()
    assert np.unique(model.orgs.integrity_gap[acute]).size == acute.sum()
    model.run_for(12)
    outcome = model.system_outcome
    assert np.unique(np.round(outcome, 12)).size == 3
    same = ICSModel(rng=8, n_systems=3, size_spread=0.0, leadership_spread=0.0)
    assert np.unique(same.orgs.budget[acute]).size == 1


def test_about_deficit_share_of_nhs_providers_are_in_deficit():
    model = ICSModel(rng=1, n_systems=42, n_vcse=0, n_primary_care=0, collect_agents=False)
    league = model.orgs.in_league_table
    assert league.sum() > 200
    assert abs(model.orgs.in_deficit[league].mean() - model.p["deficit_share"]) < 0.08
    assert not model.orgs.in_deficit[~league].any()
