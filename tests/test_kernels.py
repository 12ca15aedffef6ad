"""The compiled kernels compute exactly what the NumPy submodels state."""

from __future__ import annotations

import numpy as np
import pytest

from abm import ICSModel, kernels
from abm import continuum, joint_work, trust


@pytest.fixture(params=[0, 1, 2])
def model(request):
    """A model part-way through a run, with ties at every level."""
    m = ICSModel(rng=request.param, collect_agents=False, n_vcse=30)
    m.run_for(18)
    return m


def _draws(model, seed):
    return np.random.default_rng(seed).random(model.ties.n_pairs).astype(np.float32)


def test_joint_projects_kernel_matches_numpy(model):
    ties, orgs, p = model.ties, model.orgs, model.p
    factor = joint_work.level_output_factor(p, 0.5, 0.2)
    draws = _draws(model, 7)
    compiled = joint_work.run_projects_compiled(ties, orgs, 0.3, factor, draws)
    invested_compiled = ties.investment.copy()
    joint_work.invest(ties, orgs.joint_work)
    np.testing.assert_allclose(ties.investment, invested_compiled, rtol=1e-12, atol=1e-15)
    reference = joint_work.run_projects(ties, orgs, 0.3, factor, draws)
    assert compiled.success.any() and (~compiled.success).any()
    for name in ("attempted", "success"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(reference, name))
    for name in ("kept_by_a", "kept_by_b", "share_a", "inflow", "tried", "won", "unfair"):
        np.testing.assert_allclose(getattr(compiled, name), getattr(reference, name), rtol=1e-9, atol=1e-12)
    assert compiled.acute_weight == pytest.approx(reference.acute_weight, rel=1e-9)


def test_trust_kernel_matches_numpy_rule(model):
    ties, orgs, p = model.ties, model.orgs, model.p
    factor = joint_work.level_output_factor(p, 0.5, 0.0)
    result = joint_work.run_projects_compiled(ties, orgs, 0.3, factor, _draws(model, 3))
    detected = np.zeros(orgs.n, dtype=bool)
    detected[[0, 5, 9]] = True
    bad_weight = min(1.0, p["reputation_weight"] * p["negativity_bias"])
    before = (ties.trust.copy(), ties.damage.copy(), ties.record.copy())

    # NumPy path: observations, then the rule, then small wins
    obs, weight = model._trust_observations(result, detected, bad_weight)
    t_ref, d_ref = trust.asymmetric_trust_update(ties.trust, ties.damage, obs, weight, p)
    win = np.repeat(result.success, 2)
    t_ref = t_ref + p["small_win_boost"] * win * np.maximum(1.0 - d_ref - t_ref, 0.0)
    record_ref = ties.record.copy()

    ties.trust[:], ties.damage[:], ties.record[:] = before
    kernels.update_trust(ties.src, ties.dst, ties.trust, ties.damage, ties.record, ties.investment,
                         result.kept_by_a, result.kept_by_b, result.success, result.win_rate, detected,
                         p["record_smoothing"], p["reputation_weight"], bad_weight, p["trust_build_rate"],
                         p["trust_erosion_rate"], p["damage_gain"], p["damage_decay"], p["small_win_boost"])
    assert not np.allclose(ties.trust, before[0])
    np.testing.assert_allclose(ties.trust, t_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ties.damage, d_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ties.record, record_ref, rtol=1e-12, atol=1e-14)


def test_levels_kernel_matches_numpy(model):
    ties, orgs, p = model.ties, model.orgs, model.p
    rng = np.random.default_rng(11)
    attempted = rng.random(ties.n_pairs) < 0.5
    up = rng.random(ties.n_pairs).astype(np.float32)
    convene = rng.random(ties.n_pairs).astype(np.float32)
    ready = continuum.readiness(ties.trust[0::2], ties.trust[1::2], orgs.turf[ties.a], orgs.turf[ties.b])
    convened = ties.table_pair & (convene < 0.4)
    expected = continuum.update_levels(ties.level[0::2].copy(), ready, attempted, convened, p, up)
    level = ties.level.copy()
    kernels.update_levels(ties.a, ties.b, ties.trust, orgs.turf, level, attempted, ties.table_pair,
                          ties.active, up, convene, p["readiness_step"], p["continuum_hysteresis"],
                          p["step_up_probability"], 0.4)
    np.testing.assert_array_equal(level[0::2], expected)
    np.testing.assert_array_equal(level[1::2], expected)
    assert (expected != ties.level[0::2]).any()


def test_swapped_trust_rule_takes_the_numpy_path_with_same_results():
    """A copy of the default rule passed as a custom rule gives the same run."""
    def same_rule(trust_, damage, observation, weight, p):
        return trust.asymmetric_trust_update(trust_, damage, observation, weight, p)

    fast = ICSModel(rng=5, collect_agents=False)
    slow = ICSModel(rng=5, collect_agents=False, rules={"trust_update": same_rule})
    fast.run_for(36)
    slow.run_for(36)
    a = fast.datacollector.get_model_vars_dataframe()
    b = slow.datacollector.get_model_vars_dataframe()
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-12)


def test_trust_by_organisation_matches_numpy(model):
    ties = model.ties
    given, received = kernels.trust_by_organisation(ties.src, ties.dst, ties.trust, ties.active, ties.n_orgs)
    np.testing.assert_allclose(given, ties.mean_by_source(ties.trust), rtol=1e-12)
    np.testing.assert_allclose(received, ties.mean_by_target(ties.trust), rtol=1e-12)
