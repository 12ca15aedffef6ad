"""Unit tests of each submodel, with expectations computed by hand from the docstrings."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from abm import DEFAULTS, ICSModel, register_rule
from abm import continuum, effort, joint_work, kernels, pressure, turf, voice
from abm.events import EVENT_OPTIONS, check_event
from abm.rules import RULE_NAMES, registered, resolve_rules
from abm.trust import asymmetric_trust_update
from agents.regulator import NHSEOverseer

P = dict(DEFAULTS)


def trust_step(trust, observation, damage=0.0, weight=1.0, impl="numpy", **over):
    """One trust update of one tie: the NumPy rule, or the compiled kernel the model runs by default.

    For the kernel, weight 1 is a kept commitment observed in joint work (the
    observation is what the partner kept) and weight 0 is nothing observed.
    """
    p = {**P, **over}
    if impl == "numpy":
        t, d = asymmetric_trust_update(np.array([trust], float), np.array([damage], float),
                                       np.array([observation], float), np.array([weight], float), p)
        return float(t[0]), float(d[0])
    assert weight in (0.0, 1.0)
    t = np.array([trust, 0.5])
    d = np.array([damage, 0.0])
    kernels.update_trust(
        np.array([0, 1]), np.array([1, 0]), t, d, np.zeros(2), np.array([weight, 0.0]),
        np.array([observation]), np.zeros(1), np.zeros(1, dtype=np.bool_), np.zeros(2),
        np.zeros(2, dtype=np.bool_), p["record_smoothing"], p["reputation_weight"], 0.0,
        p["trust_build_rate"], p["trust_erosion_rate"], p["damage_gain"], p["damage_decay"],
        p["small_win_boost"])
    return float(t[0]), float(d[0])


IMPLS = pytest.mark.parametrize("impl", ["numpy", "compiled"])


# --------------------------------------------------------------------- trust
class TestTrust:
    def test_defaults_are_build_0_10_and_erosion_0_30(self):
        assert P["trust_build_rate"] == 0.10 and P["trust_erosion_rate"] == 0.30

    @IMPLS
    def test_build_closes_a_tenth_of_the_gap_in_one_step(self, impl):
        t, d = trust_step(0.5, 1.0, impl=impl)
        assert t == pytest.approx(0.55, abs=1e-12)
        assert d == 0.0

    @IMPLS
    def test_erosion_closes_three_tenths_of_the_gap_in_one_step(self, impl):
        t, _ = trust_step(0.5, 0.0, impl=impl)
        assert t == pytest.approx(0.35, abs=1e-12)

    @IMPLS
    def test_falls_three_times_faster_than_it_builds(self, impl):
        up, _ = trust_step(0.5, 0.9, impl=impl)
        down, _ = trust_step(0.5, 0.1, impl=impl)
        assert (0.5 - down) == pytest.approx(3 * (up - 0.5), abs=1e-12)

    @IMPLS
    def test_damage_grows_by_damage_gain_times_the_drop(self, impl):
        t, d = trust_step(0.5, 0.0, damage=0.1, impl=impl)
        drop = 0.5 - 0.35
        assert d == pytest.approx(0.1 * (1 - P["damage_decay"]) + P["damage_gain"] * drop, abs=1e-12)
        t, d = trust_step(0.5, 0.0, damage=0.0, damage_gain=0.2, impl=impl)
        assert d == pytest.approx(0.2 * 0.15, abs=1e-12)

    @IMPLS
    def test_damage_decays_without_a_drop(self, impl):
        _, d = trust_step(0.5, 0.9, damage=0.2, impl=impl)
        assert d == pytest.approx(0.2 * (1 - 0.02), abs=1e-12)
        _, d = trust_step(0.5, 0.5, damage=0.2, damage_decay=0.5, impl=impl)
        assert d == pytest.approx(0.1, abs=1e-12)

    @IMPLS
    def test_recovery_is_capped_at_one_minus_damage(self, impl):
        # uncapped the step would give 0.35 + 0.1 * 0.65 = 0.415; the ceiling is 1 - 0.6
        t, _ = trust_step(0.35, 1.0, damage=0.6, impl=impl)
        assert t == pytest.approx(0.4, abs=1e-12)
        # below the ceiling the step is uncapped
        t, _ = trust_step(0.35, 1.0, damage=0.1, impl=impl)
        assert t == pytest.approx(0.415, abs=1e-12)

    @IMPLS
    def test_trust_above_the_ceiling_does_not_rise_but_can_fall(self, impl):
        t, _ = trust_step(0.5, 1.0, damage=0.6, impl=impl)
        assert t == pytest.approx(0.5, abs=1e-12)
        t, _ = trust_step(0.5, 0.0, damage=0.6, impl=impl)
        assert t == pytest.approx(0.35, abs=1e-12)

    @IMPLS
    def test_weight_zero_leaves_trust_unchanged(self, impl):
        for obs in (0.0, 0.3, 1.0):
            t, d = trust_step(0.42, obs, damage=0.1, weight=0.0, impl=impl)
            assert t == 0.42
            assert d == pytest.approx(0.1 * (1 - P["damage_decay"]), abs=1e-12)

    def test_weight_scales_the_step(self):
        t, _ = trust_step(0.5, 0.0, weight=0.5)
        assert t == pytest.approx(0.5 - 0.5 * 0.3 * 0.5, abs=1e-12)

    def test_works_elementwise_on_arrays(self):
        t, d = asymmetric_trust_update(np.array([0.5, 0.5, 0.35]), np.array([0.0, 0.0, 0.6]),
                                       np.array([1.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0]), P)
        assert_allclose(t, [0.55, 0.35, 0.4])
        assert_allclose(d, [0.0, 0.5 * 0.15, 0.6 * 0.98])


# --------------------------------------------------------------------- continuum
def levels(level, ready, engaged=False, convened=False, prob=1.0, impl="numpy", **over):
    """New pair levels: the NumPy rule, or the compiled kernel the model runs.

    For the kernel each pair's two directed trusts are ``ready`` and 1 and turf is 0,
    so the pair's readiness is ``ready``; convened pairs are table pairs drawn to be convened.
    """
    p = {**P, "step_up_probability": prob, **over}
    n = len(level)
    level = np.asarray(level, dtype=np.int8)
    ready = np.asarray(ready, float)
    engaged = np.broadcast_to(np.asarray(engaged), n).copy()
    convened = np.broadcast_to(np.asarray(convened), n).copy()
    draws = np.random.default_rng(0).random(n)
    if impl == "numpy":
        return continuum.update_levels(level, ready, engaged, convened, p, draws)
    trust = np.ones(2 * n)
    trust[0::2] = ready
    tie_level = np.repeat(level, 2)
    kernels.update_levels(np.arange(n), np.arange(n) + n, trust, np.zeros(2 * n), tie_level, engaged,
                          convened, np.ones(2 * n, dtype=np.bool_), draws.astype(np.float32),
                          np.zeros(n, dtype=np.float32), p["readiness_step"], p["continuum_hysteresis"],
                          p["step_up_probability"], 1.0)
    assert (tie_level[0::2] == tie_level[1::2]).all()
    return tie_level[0::2]


class TestContinuum:
    step = P["readiness_step"]
    hyst = P["continuum_hysteresis"]

    def test_readiness_is_lower_trust_times_one_minus_higher_turf(self):
        assert continuum.readiness(0.6, 0.4, 0.2, 0.5) == pytest.approx(0.4 * 0.5)

    @IMPLS
    def test_steps_up_only_when_ready(self, impl):
        s = self.step
        got = levels([0, 0, 1, 1], [s + 1e-9, s - 1e-3, 2 * s, 2 * s - 1e-3], engaged=True, impl=impl)
        assert_array_equal(got, [1, 0, 2, 1])

    @IMPLS
    def test_beyond_connecting_only_when_engaged(self, impl):
        s = self.step
        assert_array_equal(levels([0, 1, 2, 3], [1.0] * 4, engaged=False, impl=impl), [1, 1, 2, 3])
        assert_array_equal(levels([0, 1, 2, 3], [1.0] * 4, engaged=True, impl=impl), [1, 2, 3, 4])
        assert levels([1], [2 * s], engaged=False, impl=impl)[0] == 1

    @IMPLS
    def test_one_step_at_a_time_and_never_above_four(self, impl):
        assert_array_equal(levels([0, 4], [1.0, 1.0], engaged=True, impl=impl), [1, 4])

    @IMPLS
    def test_step_up_probability_zero_never_rises(self, impl):
        assert_array_equal(levels([0, 1, 2], [1.0] * 3, engaged=True, prob=0.0, impl=impl), [0, 1, 2])

    @IMPLS
    def test_steps_down_only_below_threshold_minus_hysteresis(self, impl):
        s, h = self.step, self.hyst
        floor = 2 * s - h  # level 2 holds down to here
        got = levels([2, 2, 2, 2], [2 * s - 1e-3, floor + 1e-9, floor - 1e-9, 0.0], impl=impl)
        assert_array_equal(got, [2, 2, 1, 1])

    @IMPLS
    def test_hysteresis_band_keeps_the_level(self, impl):
        s, h = self.step, self.hyst
        for k in (1, 2, 3, 4):
            inside = np.linspace(k * s - h + 1e-9, k * s - 1e-9, 5)
            assert_array_equal(levels([k] * 5, inside, prob=0.0, impl=impl), [k] * 5)
        # without hysteresis the same readiness steps down
        assert levels([3], [3 * s - 1e-3], continuum_hysteresis=0.0, impl=impl)[0] == 2

    @IMPLS
    def test_convened_level_zero_pairs_reach_connecting(self, impl):
        got = levels([0, 0, 0], [0.0, 0.0, 0.0], convened=np.array([True, False, True]), prob=0.0, impl=impl)
        assert_array_equal(got, [1, 0, 1])

    def test_probability_of_stepping_up_is_step_up_probability(self):
        n = 20000
        got = levels([0] * n, [1.0] * n, prob=0.3)
        assert abs(got.mean() - 0.3) < 0.02


# --------------------------------------------------------------------- voice
def fake_orgs(budget, weight, system=None, active=None, n_systems=1):
    n = len(budget)
    return SimpleNamespace(
        n=n, n_systems=n_systems, budget=np.asarray(budget, float), statutory_weight=np.asarray(weight, float),
        system=np.zeros(n, dtype=np.int64) if system is None else np.asarray(system, dtype=np.int64),
        active=np.ones(n, bool) if active is None else np.asarray(active, bool), voice=np.zeros(n))


class TestVoice:
    def test_hand_computed_shares(self):
        orgs = fake_orgs([4.0, 2.0, 1.0, 1.0], [1.0, 0.5, 1.0, 1.0], system=[0, 0, 1, 1], n_systems=2)
        voice.update_voice(orgs, {**P, "inclusion": 0.0, "voice_budget_exponent": 1.0})
        assert_allclose(orgs.voice, [0.8, 0.2, 0.5, 0.5])
        voice.update_voice(orgs, {**P, "inclusion": 0.5, "voice_budget_exponent": 1.0})
        assert_allclose(orgs.voice, [0.65, 0.35, 0.5, 0.5])
        voice.update_voice(orgs, {**P, "inclusion": 0.0, "voice_budget_exponent": 0.0})
        assert_allclose(orgs.voice, [2 / 3, 1 / 3, 0.5, 0.5])

    def test_inactive_organisations_have_no_voice(self):
        orgs = fake_orgs([4.0, 2.0, 1.0], [1, 1, 1], active=[True, False, True])
        voice.update_voice(orgs, {**P, "inclusion": 0.5})
        assert_allclose(orgs.voice, [0.5 * 0.8 + 0.25, 0.0, 0.5 * 0.2 + 0.25])

    def test_acute_trusts_as_a_kind_hold_the_largest_voice_share_by_default(self):
        m = ICSModel(rng=1)
        by_kind = {k: m.orgs.voice[m.orgs.kind == k].sum() for k in set(m.orgs.kind)}
        assert max(by_kind, key=by_kind.get) == "acute"
        acute_min = m.orgs.voice[m.orgs.kind == "acute"].min()
        others = ~np.isin(m.orgs.kind, ["acute", "icb"])
        assert acute_min > m.orgs.voice[others].max()

    def test_an_acute_trust_has_the_largest_single_voice_share_by_default(self):
        m = ICSModel(rng=1)
        assert m.orgs.kind[np.argmax(m.orgs.voice)] == "acute"

    def test_inclusion_one_gives_equal_shares(self):
        m = ICSModel(rng=1, n_systems=2, inclusion=1.0)
        for s in range(2):
            v = m.orgs.voice[m.orgs.system == s]
            assert_allclose(v, 1.0 / v.size)
            assert voice.gini(v) == pytest.approx(0.0, abs=1e-12)

    def test_voice_sums_to_one_in_each_system(self):
        m = ICSModel(rng=1, n_systems=3)
        assert_allclose(np.bincount(m.orgs.system, weights=m.orgs.voice), [1.0, 1.0, 1.0])

    def test_gini(self):
        assert voice.gini(np.array([2.0, 2.0, 2.0])) == pytest.approx(0.0, abs=1e-12)
        assert voice.gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)
        assert voice.gini(np.array([1.0, 0.0, 0.0, 0.0])) == pytest.approx(0.75)  # order does not matter
        assert voice.gini(np.array([1.0, 3.0])) == pytest.approx(0.25)   # mean abs diff 1 / (2 x mean 2)
        assert voice.gini(np.array([])) == 0.0
        assert voice.gini(np.zeros(3)) == 0.0


# --------------------------------------------------------------------- pressure
class TestPressure:
    def test_winter_wave_peaks_in_january_and_is_zero_in_july(self):
        assert pressure.winter_wave(10) == pytest.approx(1.0)   # month 10 from an April start = January
        assert pressure.winter_wave(22) == pytest.approx(1.0)
        assert pressure.winter_wave(4) == pytest.approx(0.0, abs=1e-12)   # July
        assert pressure.winter_wave(1) == pytest.approx(0.5 * (1 + np.cos(2 * np.pi * 3 / 12)))  # April
        waves = [pressure.winter_wave(m) for m in range(1, 13)]
        assert min(waves) >= 0.0 and max(waves) <= 1.0

    @pytest.mark.parametrize("month,wave", [(4, 0.0), (10, 1.0)])
    def test_pressure_and_capacity_by_hand(self, month, wave):
        orgs = SimpleNamespace(shock=np.array([0.0, 0.2, 0.0]), pressure_sensitivity=np.array([1.0, 1.0, 1.5]),
                               pressure=np.zeros(3), capacity=np.zeros(3))
        p = {**P, "pressure": 0.5, "winter_pressure": 0.15, "pressure_capacity_share": 0.5}
        pressure.update_pressure(orgs, p, month)
        expected = np.clip(np.array([0.5, 0.5 + 0.2 * pressure.SHOCK_DECAY, 0.75]) + 0.15 * wave, 0, 1)
        assert_allclose(orgs.pressure, expected)
        assert_allclose(orgs.capacity, 1.0 - 0.5 * expected)
        assert_allclose(orgs.shock, [0.0, 0.2 * pressure.SHOCK_DECAY, 0.0])

    def test_pressure_is_clipped_to_one(self):
        orgs = SimpleNamespace(shock=np.array([5.0]), pressure_sensitivity=np.array([1.0]),
                               pressure=np.zeros(1), capacity=np.zeros(1))
        pressure.update_pressure(orgs, {**P, "pressure_capacity_share": 1.0}, 10)
        assert orgs.pressure[0] == 1.0 and orgs.capacity[0] == 0.0


# --------------------------------------------------------------------- turf
BASE_DRIVERS = {"base": 0.5, "scrutiny": 0.2, "sanctions": 0.2, "scarcity": 0.5, "unfairness": 0.1,
                "wins": 0.2, "shared_purpose": 0.2}


def target(**change):
    d = {k: np.array([v]) for k, v in {**BASE_DRIVERS, **change}.items()}
    return float(turf.additive_turf_target(d, P)[0])


class TestTurf:
    def test_target_by_hand(self):
        expected = 0.5 + 0.35 * 0.2 + 0.3 * 0.2 + 0.3 * 0.0 + 0.6 * 0.1 - 0.4 * 0.2 - 0.25 * 0.2
        assert target() == pytest.approx(expected)

    @pytest.mark.parametrize("driver", ["scrutiny", "sanctions", "scarcity", "unfairness"])
    def test_target_rises_with(self, driver):
        assert target(**{driver: BASE_DRIVERS[driver] + 0.1}) > target()

    @pytest.mark.parametrize("driver", ["wins", "shared_purpose"])
    def test_target_falls_with(self, driver):
        assert target(**{driver: BASE_DRIVERS[driver] + 0.1}) < target()

    def test_target_is_clipped(self):
        assert target(scrutiny=1, sanctions=1, unfairness=1, base=1) == 1.0
        assert target(wins=1, shared_purpose=1, base=0, scrutiny=0, sanctions=0, unfairness=0) == 0.0

    def test_update_turf_moves_part_way_and_stays_bounded(self):
        orgs = SimpleNamespace(turf=np.array([0.5, 0.5, 0.9, 0.1]))
        turf.update_turf(orgs, np.array([0.7, 0.3, 5.0, -5.0]), {**P, "turf_adjustment_rate": 0.08})
        assert_allclose(orgs.turf[:2], [0.5 + 0.08 * 0.2, 0.5 - 0.08 * 0.2])
        assert_allclose(orgs.turf[2:], [min(1.0, 0.9 + 0.08 * 4.1), max(0.0, 0.1 - 0.08 * 5.1)])
        turf.update_turf(orgs, np.array([5.0, -5.0, 5.0, -5.0]), {**P, "turf_adjustment_rate": 1.0})
        assert_allclose(orgs.turf, [1.0, 0.0, 1.0, 0.0])

    def test_scarcity_is_buffered_by_flexible_funding(self):
        orgs = SimpleNamespace(pressure=np.array([0.8]))
        assert turf.scarcity(orgs, SimpleNamespace(funding_flexibility=0.0))[0] == pytest.approx(0.8)
        assert turf.scarcity(orgs, SimpleNamespace(funding_flexibility=1.0))[0] == pytest.approx(0.4)


# --------------------------------------------------------------------- effort
class TestEffort:
    def test_rows_sum_to_one(self):
        rng = np.random.default_rng(0)
        u = rng.normal(size=(50, 3))
        prop = rng.uniform(-0.25, 0.25, size=(50, 3))
        for sharp in (0.0, 1.0, 3.0, 50.0):
            s = effort.logit_effort_choice(u, prop, {**P, "choice_sharpness": sharp})
            assert_allclose(s.sum(axis=1), 1.0)
            assert (s >= 0).all()

    def test_sharpness_zero_gives_equal_shares(self):
        s = effort.logit_effort_choice(np.array([[0.1, 2.0, -1.0]]), np.zeros((1, 3)), {**P, "choice_sharpness": 0.0})
        assert_allclose(s, [[1 / 3, 1 / 3, 1 / 3]])

    def test_higher_utility_gets_higher_share(self):
        s = effort.logit_effort_choice(np.array([[0.1, 0.5, 0.3]]), np.zeros((1, 3)), {**P, "choice_sharpness": 2.0})
        assert s[0, 1] > s[0, 2] > s[0, 0]
        w = np.exp(2.0 * np.array([0.1, 0.5, 0.3]))
        assert_allclose(s[0], w / w.sum())

    def test_propensity_adds_to_utility(self):
        s = effort.logit_effort_choice(np.zeros((1, 3)), np.array([[0.0, 0.2, 0.0]]), {**P, "choice_sharpness": 1.0})
        assert s[0, 1] > s[0, 0] == pytest.approx(s[0, 2])

    def test_huge_utilities_do_not_overflow(self):
        s = effort.logit_effort_choice(np.array([[1e6, 0.0, -1e6]]), np.zeros((1, 3)), {**P, "choice_sharpness": 50.0})
        assert np.isfinite(s).all()
        assert_allclose(s, [[1.0, 0.0, 0.0]])


# --------------------------------------------------------------------- joint work
class TestCapabilityPipeline:
    @pytest.mark.parametrize("delay", [1, 3, 24])
    def test_inflow_appears_exactly_delay_months_later(self, delay):
        pipe = joint_work.CapabilityPipeline(2, delay, 0.0)
        pipe.add(np.array([1.0, 2.0]))          # month 0
        for month in range(1, delay):
            pipe.add(np.zeros(2))
            assert_array_equal(pipe.stock, [0.0, 0.0]), month
        assert_allclose(pipe.in_progress(), [1.0, 2.0])
        pipe.add(np.zeros(2))                   # month = delay
        assert_allclose(pipe.stock, [1.0, 2.0])
        assert_allclose(pipe.in_progress(), [0.0, 0.0])

    def test_decay_is_applied_every_month(self):
        pipe = joint_work.CapabilityPipeline(1, 2, 0.1)
        pipe.add(np.array([1.0]))
        pipe.add(np.array([0.5]))
        pipe.add(np.zeros(1))   # first inflow matures
        assert_allclose(pipe.stock, [1.0])
        pipe.add(np.zeros(1))   # second matures, first decays
        assert_allclose(pipe.stock, [0.9 + 0.5])
        pipe.add(np.zeros(1))
        assert_allclose(pipe.stock, [(0.9 + 0.5) * 0.9])


# --------------------------------------------------------------------- events
class TestEvents:
    def test_unknown_kind_lists_kinds(self):
        with pytest.raises(ValueError) as err:
            check_event("earthquake", 3, {})
        for kind in EVENT_OPTIONS:
            assert kind in str(err.value)

    def test_unknown_option_raises_type_error_naming_it(self):
        with pytest.raises(TypeError, match="sise"):
            check_event("demand_shock", 3, {"sise": 0.2})

    @pytest.mark.parametrize("month", [-1, 1.5, True, "3"])
    def test_bad_month(self, month):
        with pytest.raises(ValueError, match="month"):
            check_event("demand_shock", month, {})

    def test_options_filled_with_defaults(self):
        assert check_event("merger", 0, {"system": 1}) == {"kind": "acute", "system": 1}

    @pytest.mark.parametrize("kind,options", [("budget_cut", {"share": 0.95}), ("demand_shock", {"size": -0.1})])
    def test_out_of_range_options(self, kind, options):
        with pytest.raises(ValueError, match=next(iter(options))):
            check_event(kind, 1, options)

    @pytest.mark.parametrize("entry", [(3,), (3, "merger", "acute"), (3, "merger", {}, {}), "merger"])
    def test_malformed_events_entry_gets_a_clear_error_naming_events(self, entry):
        """ICSModel(events=[(month, kind, {options})]): a malformed entry is named, not unpacked deep inside."""
        with pytest.raises((ValueError, TypeError), match="events"):
            ICSModel(events=[entry])

    def test_model_checks_events_before_scheduling(self):
        m = ICSModel(rng=1)
        with pytest.raises(ValueError):
            m.schedule_structural_event(-2, "merger")
        with pytest.raises(TypeError):
            m.schedule_structural_event(5, "merger", knd="acute")
        with pytest.raises(ValueError):
            m.trigger("earthquake")
        assert m._schedule == []


# --------------------------------------------------------------------- rules
@register_rule("trust_update", "test_total_distrust")
def _total_distrust(trust, damage, observation, weight, p):
    return np.zeros_like(trust), damage


class TestRules:
    def test_registered_rule_by_name_and_by_function(self):
        assert "test_total_distrust" in registered("trust_update")
        for rule in ("test_total_distrust", _total_distrust):
            m = ICSModel(rng=1, rules={"trust_update": rule}, small_win_boost=0.0)
            assert m.rules["trust_update"] is _total_distrust
            m.step()
            assert (m.tie_table()["trust"] == 0.0).all()
        default = ICSModel(rng=1, small_win_boost=0.0)
        default.step()
        assert (default.tie_table()["trust"] > 0.0).any()

    def test_numpy_path_of_the_default_trust_rule_matches_the_compiled_path(self):
        """A swapped trust rule runs the NumPy path; the default rule in disguise must give the same run."""
        disguised = lambda *args: asymmetric_trust_update(*args)  # noqa: E731
        numpy_path = ICSModel(rng=3, n_systems=2, rules={"trust_update": disguised})
        compiled = ICSModel(rng=3, n_systems=2)
        for _ in range(12):
            numpy_path.step()
            compiled.step()
            assert_allclose(numpy_path.ties.trust, compiled.ties.trust, rtol=0, atol=1e-9)
            assert_allclose(numpy_path.ties.damage, compiled.ties.damage, rtol=0, atol=1e-9)
            assert_allclose(numpy_path.ties.record, compiled.ties.record, rtol=0, atol=1e-9)
            assert_array_equal(numpy_path.ties.level, compiled.ties.level)
        assert compiled.datacollector.get_model_vars_dataframe()["joint_projects"].sum() > 0

    def test_every_rule_has_a_default(self):
        chosen = resolve_rules(None)
        assert set(chosen) == set(RULE_NAMES)
        assert chosen["trust_update"] is asymmetric_trust_update
        assert chosen["effort_choice"] is effort.logit_effort_choice
        assert chosen["turf_target"] is turf.additive_turf_target

    def test_unknown_rule_name_raises_type_error(self):
        with pytest.raises(TypeError, match="trust_updat"):
            ICSModel(rules={"trust_updat": "default"})

    def test_unknown_variant_raises_value_error_listing_registered(self):
        with pytest.raises(ValueError, match="default"):
            ICSModel(rules={"trust_update": "no_such_variant"})

    def test_registering_for_an_unknown_rule_raises(self):
        with pytest.raises(ValueError, match="no_such_rule"):
            register_rule("no_such_rule", "x")


# --------------------------------------------------------------------- regulators
class TestNHSEOverseer:
    def model(self):
        return ICSModel(rng=2, n_systems=4, n_acute=5)

    def test_quartiles_one_to_four_in_roughly_equal_numbers(self):
        m = self.model()
        m.orgs.pressure[:] = 0.2
        m.orgs.reported_performance[:] = np.random.default_rng(0).random(m.orgs.n)
        nhse = next(r for r in m.regulators if isinstance(r, NHSEOverseer))
        seg = nhse.segment(m)
        covered = nhse.covers(m)
        assert set(seg[covered]) == {1, 2, 3, 4}
        assert (seg[~covered] == 0).all()
        counts = np.bincount(seg[covered], minlength=5)[1:]
        assert counts.max() - counts.min() <= 1

    def test_best_scores_get_segment_one(self):
        m = self.model()
        m.set_regime(system_focus=0.0)
        m.orgs.pressure[:] = 0.2
        nhse = next(r for r in m.regulators if isinstance(r, NHSEOverseer))
        covered = np.flatnonzero(nhse.covers(m))
        m.orgs.reported_performance[:] = 0.5
        m.orgs.reported_performance[covered[0]] = 0.99
        m.orgs.reported_performance[covered[1]] = 0.01
        seg = nhse.segment(m)
        assert seg[covered[0]] == 1 and seg[covered[1]] == 4

    def test_organisations_in_deficit_are_no_higher_than_segment_three(self):
        m = self.model()
        nhse = next(r for r in m.regulators if isinstance(r, NHSEOverseer))
        covered = nhse.covers(m)
        m.orgs.reported_performance[:] = np.linspace(1.0, 0.0, m.orgs.n)  # early rows score best
        m.orgs.pressure[:] = 0.2
        m.orgs.pressure[::2] = 0.75
        seg = nhse.segment(m)
        deficit = covered & (m.orgs.pressure >= 0.75)
        assert deficit.any() and (seg[deficit] >= 3).all()
        assert (seg[covered & ~deficit] >= 1).all()
        assert (seg[covered & ~deficit] == 1).any()
