"""Unit tests of each submodel, with expectations computed by hand from the docstrings."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from abm import DEFAULTS, REGIMES, ICSModel, register_rule
from abm import channels, continuum, effort, pressure, trust, turf, voice
from abm.beliefs import BELIEF_PRIORS, NAMES, Beliefs
from abm.events import EVENT_OPTIONS, check_event
from abm.rules import RULE_NAMES, registered, resolve_rules
from agents import CQCInspector, NHSEOverseer
from agents.regulator import quartiles

P = dict(DEFAULTS)


# --------------------------------------------------------------------- trust
def trust_step(value, kept=None, damage=0.0, record=0.0, win_rate=0.0, caught=False, success=False, **over):
    """One month of the default trust rule on the tie 0 -> 1 of a single pair.

    ``kept``: the commitment 0 saw 1 keep in joint work (None: 0 did not work
    with 1 this month, so it sees only 1's reputation: its ``win_rate`` with
    others and whether a regulator ``caught`` it gaming). Returns (trust, damage, record).
    """
    p = {**P, **over}
    ties = SimpleNamespace(
        src=np.array([0, 1]), dst=np.array([1, 0]), trust=np.array([value, 0.5]),
        damage=np.array([damage, 0.0]), record=np.array([record, 0.0]),
        investment=np.array([0.0 if kept is None else 1.0, 0.0]))
    result = SimpleNamespace(kept_by_a=np.array([0.0 if kept is None else kept]), kept_by_b=np.zeros(1),
                             success=np.array([success]), win_rate=np.array([0.0, win_rate]))
    trust.update_trust(ties, result, np.array([False, caught]), p)
    return float(ties.trust[0]), float(ties.damage[0]), float(ties.record[0])


class TestTrust:
    def test_defaults_are_build_0_10_and_erosion_0_30(self):
        assert P["trust_build_rate"] == 0.10 and P["trust_erosion_rate"] == 0.30

    def test_build_closes_a_tenth_of_the_gap_in_one_step(self):
        t, d, _ = trust_step(0.5, kept=1.0)
        assert t == pytest.approx(0.55, abs=1e-12)
        assert d == 0.0

    def test_erosion_closes_three_tenths_of_the_gap_in_one_step(self):
        t, _, _ = trust_step(0.5, kept=0.0)
        assert t == pytest.approx(0.35, abs=1e-12)

    def test_falls_three_times_faster_than_it_builds(self):
        up, _, _ = trust_step(0.5, kept=0.9)
        down, _, _ = trust_step(0.5, kept=0.1)
        assert (0.5 - down) == pytest.approx(3 * (up - 0.5), abs=1e-12)

    def test_kept_commitment_updates_the_smoothed_record(self):
        _, _, r = trust_step(0.5, kept=1.0, record=0.4)
        assert r == pytest.approx(0.4 + P["record_smoothing"] * 0.6, abs=1e-12)
        _, _, r = trust_step(0.5, kept=None, record=0.4, win_rate=1.0)
        assert r == 0.4  # no joint work, no new record

    def test_damage_grows_by_damage_gain_times_the_drop(self):
        _, d, _ = trust_step(0.5, kept=0.0, damage=0.1)
        assert d == pytest.approx(0.1 * (1 - P["damage_decay"]) + P["damage_gain"] * 0.15, abs=1e-12)
        _, d, _ = trust_step(0.5, kept=0.0, damage=0.0, damage_gain=0.2)
        assert d == pytest.approx(0.2 * 0.15, abs=1e-12)

    def test_damage_decays_without_a_drop(self):
        _, d, _ = trust_step(0.5, kept=0.9, damage=0.2)
        assert d == pytest.approx(0.2 * (1 - P["damage_decay"]), abs=1e-12)
        _, d, _ = trust_step(0.5, kept=0.5, damage=0.2, damage_decay=0.5)
        assert d == pytest.approx(0.1, abs=1e-12)

    def test_recovery_is_capped_at_one_minus_damage(self):
        # uncapped the step would give 0.35 + 0.1 * 0.65 = 0.415; the ceiling is 1 - 0.6
        t, _, _ = trust_step(0.35, kept=1.0, damage=0.6)
        assert t == pytest.approx(0.4, abs=1e-12)
        t, _, _ = trust_step(0.35, kept=1.0, damage=0.1)
        assert t == pytest.approx(0.415, abs=1e-12)

    def test_trust_above_the_ceiling_does_not_rise_but_can_fall(self):
        t, _, _ = trust_step(0.5, kept=1.0, damage=0.6)
        assert t == pytest.approx(0.5, abs=1e-12)
        t, _, _ = trust_step(0.5, kept=0.0, damage=0.6)
        assert t == pytest.approx(0.35, abs=1e-12)

    def test_nothing_observed_leaves_trust_unchanged(self):
        t, d, _ = trust_step(0.42, kept=None, damage=0.1, win_rate=0.0)
        assert t == 0.42
        assert d == pytest.approx(0.1 * (1 - P["damage_decay"]), abs=1e-12)

    def test_reputation_for_wins_builds_trust_with_its_weight(self):
        """No joint work with j: j's win rate with others is a good observation of weight reputation_weight x win rate."""
        t, _, _ = trust_step(0.5, kept=None, win_rate=0.5)
        weight = P["reputation_weight"] * 0.5
        assert t == pytest.approx(0.5 + P["trust_build_rate"] * weight * 0.5, abs=1e-12)

    def test_partner_caught_gaming_loses_trust_with_negativity_bias(self):
        bad = min(1.0, P["reputation_weight"] * P["negativity_bias"])
        t, d, _ = trust_step(0.5, kept=None, caught=True)
        assert t == pytest.approx(0.5 - P["trust_erosion_rate"] * bad * 0.5, abs=1e-12)
        assert d == pytest.approx(P["damage_gain"] * (0.5 - t), abs=1e-12)
        # a good record with others softens the observation but it is still bad
        t2, _, _ = trust_step(0.5, kept=None, caught=True, win_rate=1.0)
        assert t < t2 < 0.5

    def test_a_private_detection_leaves_partners_trust_alone(self):
        """detection_publicity scales the weight of a detection; 0 switches partners' distrust off."""
        t, _, _ = trust_step(0.5, kept=None, caught=True, detection_publicity=0.0)
        assert t == 0.5
        half, _, _ = trust_step(0.5, kept=None, caught=True, detection_publicity=0.5)
        bad = 0.5 * min(1.0, P["reputation_weight"] * P["negativity_bias"])
        assert half == pytest.approx(0.5 - P["trust_erosion_rate"] * bad * 0.5, abs=1e-12)
        # the good half of reputation is untouched
        good, _, _ = trust_step(0.5, kept=None, win_rate=0.5, detection_publicity=0.0)
        assert good == trust_step(0.5, kept=None, win_rate=0.5)[0]

    def test_a_small_win_adds_its_boost_of_the_room_below_the_ceiling(self):
        t, _, _ = trust_step(0.5, kept=0.5, damage=0.1, success=True)
        assert t == pytest.approx(0.5 + P["small_win_boost"] * (1 - 0.1 * (1 - P["damage_decay"]) - 0.5), abs=1e-12)

    def test_works_tie_by_tie(self):
        ties = SimpleNamespace(
            src=np.array([0, 1, 2, 3]), dst=np.array([1, 0, 3, 2]), trust=np.array([0.5, 0.5, 0.35, 0.5]),
            damage=np.array([0.0, 0.0, 0.6, 0.0]), record=np.zeros(4), investment=np.array([1.0, 1.0, 1.0, 0.0]))
        result = SimpleNamespace(kept_by_a=np.array([1.0, 1.0]), kept_by_b=np.array([0.0, 0.0]),
                                 success=np.zeros(2, bool), win_rate=np.zeros(4))
        trust.update_trust(ties, result, np.zeros(4, bool), P)
        assert_allclose(ties.trust, [0.55, 0.35, 0.4, 0.5])
        assert_allclose(ties.damage, [0.0, 0.5 * 0.15, 0.6 * 0.98, 0.0])


# --------------------------------------------------------------------- continuum
def levels(level, ready, attempted=False, convened=False, prob=1.0, trust_b=1.0, turf_values=None, **over):
    """New pair levels from the default rule. Pair k's trusts are ``ready[k]`` and ``trust_b``; turf is 0
    unless given (one value per organisation: pair k is organisations k and n + k)."""
    p = {**P, "step_up_probability": prob, **over}
    n = len(level)
    trust_values = np.full(2 * n, float(trust_b))
    trust_values[0::2] = ready
    ties = SimpleNamespace(a=np.arange(n), b=np.arange(n) + n, trust=trust_values,
                           level=np.repeat(np.asarray(level, dtype=np.int8), 2), active=np.ones(2 * n, bool))
    turf_values = np.zeros(2 * n) if turf_values is None else np.asarray(turf_values, float)
    continuum.update_levels(ties, turf_values, np.broadcast_to(np.asarray(attempted), n).copy(),
                            np.broadcast_to(np.asarray(convened), n).copy(),
                            np.random.default_rng(0).random(n, dtype=np.float32), p)
    assert (ties.level[0::2] == ties.level[1::2]).all()
    assert_array_equal(ties.trust, trust_values)  # the continuum never changes trust
    return ties.level[0::2]


class TestContinuum:
    step = P["readiness_step"]
    hyst = P["continuum_hysteresis"]

    def test_readiness_is_lower_trust_times_one_minus_higher_turf(self):
        # trusts 0.6 and 0.4, turfs 0.2 and 0.5: readiness 0.4 x 0.5 = 0.2
        common = dict(trust_b=0.4, turf_values=[0.2, 0.5], attempted=True)
        assert levels([0], [0.6], readiness_step=0.2 - 1e-9, **common)[0] == 1
        assert levels([0], [0.6], readiness_step=0.2 + 1e-9, **common)[0] == 0

    def test_steps_up_only_when_ready(self):
        s = self.step
        got = levels([0, 0, 1, 1], [s + 1e-6, s - 1e-3, 2 * s + 1e-6, 2 * s - 1e-3], attempted=True)
        assert_array_equal(got, [1, 0, 2, 1])

    def test_beyond_connecting_only_when_a_joint_project_was_attempted(self):
        s = self.step
        assert_array_equal(levels([0, 1, 2, 3], [1.0] * 4, attempted=False), [1, 1, 2, 3])
        assert_array_equal(levels([0, 1, 2, 3], [1.0] * 4, attempted=True), [1, 2, 3, 4])
        assert levels([1], [2 * s + 1e-6], attempted=False)[0] == 1

    def test_one_step_at_a_time_and_never_above_four(self):
        assert_array_equal(levels([0, 4], [1.0, 1.0], attempted=True), [1, 4])

    def test_step_up_probability_zero_never_rises(self):
        assert_array_equal(levels([0, 1, 2], [1.0] * 3, attempted=True, prob=0.0), [0, 1, 2])

    def test_steps_down_only_below_threshold_minus_hysteresis(self):
        s, h = self.step, self.hyst
        floor = 2 * s - h  # level 2 holds down to here
        got = levels([2, 2, 2, 2], [2 * s - 1e-3, floor + 1e-6, floor - 1e-6, 0.0])
        assert_array_equal(got, [2, 2, 1, 1])

    def test_hysteresis_band_keeps_the_level(self):
        s, h = self.step, self.hyst
        for k in (1, 2, 3, 4):
            inside = np.linspace(k * s - h + 1e-6, k * s - 1e-6, 5)
            assert_array_equal(levels([k] * 5, inside, prob=0.0), [k] * 5)
        assert levels([3], [3 * s - 1e-3], continuum_hysteresis=0.0)[0] == 2

    def test_convened_pairs_reach_connecting_without_trust(self):
        got = levels([0, 0, 0], [0.0, 0.0, 0.0], convened=np.array([True, False, True]), prob=0.0)
        assert_array_equal(got, [1, 0, 1])

    def test_an_ended_tie_has_no_level(self):
        ties = SimpleNamespace(a=np.array([0]), b=np.array([1]), trust=np.ones(2), level=np.array([3, 3], np.int8),
                               active=np.zeros(2, bool))
        continuum.update_levels(ties, np.zeros(2), np.ones(1, bool), np.zeros(1, bool), np.zeros(1, np.float32), P)
        assert_array_equal(ties.level, [0, 0])

    def test_probability_of_stepping_up_is_step_up_probability(self):
        got = levels([0] * 20000, [1.0] * 20000, prob=0.3)
        assert abs(got.mean() - 0.3) < 0.02


class TestConvening:
    def test_convened_pairs_reach_connecting_without_trust_rising(self):
        """The ICB's forums put unconnected pairs at connecting; trust is untouched by the forum."""
        m = ICSModel(rng=4, facilitation_budget=5.0, initial_trust=0.05, trust_spread=0.0)
        m.run_for(1)
        before_trust, before_level = m.ties.trust.copy(), m.ties.level.copy()
        meeting = m.icb_class.convene(m, np.zeros(m.orgs.n_systems))
        new = meeting & (before_level[0::2] == 0)
        assert new.sum() >= 5
        assert_array_equal(m.ties.trust, before_trust)
        continuum.update_levels(m.ties, m.orgs.turf, np.zeros(m.ties.n_pairs, bool), meeting,
                                np.ones(m.ties.n_pairs, np.float32), m.p)
        assert (m.ties.level[0::2][meeting] >= 1).all()
        assert (m.ties.level[0::2][new] == 1).all()
        assert_array_equal(m.ties.trust, before_trust)
        # readiness alone would not have connected them
        ready = np.minimum(before_trust[0::2], before_trust[1::2])[new]
        assert (ready < m.p["readiness_step"]).all()

    def test_a_forum_keeps_meeting_after_its_first_month(self):
        m = ICSModel(rng=4, facilitation_budget=2.0)
        first = m.icb_class.convene(m, np.zeros(m.orgs.n_systems))
        assert first.any()
        again = m.icb_class.convene(m, np.zeros(m.orgs.n_systems))
        assert again[first].all()

    def test_forums_cost_both_sides_capacity(self):
        m = ICSModel(rng=4, facilitation_budget=3.0)
        convened = m.icb_class.convene(m, np.zeros(m.orgs.n_systems))
        sides = np.zeros(m.orgs.n, bool)
        sides[m.ties.a[convened]] = sides[m.ties.b[convened]] = True
        assert sides.any()
        assert (m.orgs.forum_time[sides] > 0).all() and (m.orgs.forum_time[~sides] == 0).all()


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

    def test_without_size_spread_every_acute_trust_outweighs_every_other_provider(self):
        m = ICSModel(rng=1, size_spread=0.0)
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

    def test_gini_by_group_matches_gini_per_group(self):
        values = np.array([1.0, 3.0, 0.0, 0.0, 0.0, 1.0, 2.0])
        group = np.array([0, 0, 1, 1, 1, 1, 2])
        assert_allclose(voice.gini_by_group(values, group, 4),
                        [voice.gini(values[group == g]) for g in range(4)], atol=1e-12)


# --------------------------------------------------------------------- pressure
def pressure_orgs(shock, sensitivity, deficit=None, league=None):
    n = len(shock)
    return SimpleNamespace(
        shock=np.asarray(shock, float), pressure_sensitivity=np.asarray(sensitivity, float),
        in_deficit=np.zeros(n, bool) if deficit is None else np.asarray(deficit, bool),
        in_league_table=np.zeros(n, bool) if league is None else np.asarray(league, bool),
        system=np.zeros(n, dtype=np.int64), pressure=np.zeros(n), capacity=np.zeros(n))


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
        orgs = pressure_orgs([0.0, 0.2, 0.0, 0.0], [1.0, 1.0, 1.5, 1.0], deficit=[False, False, False, True])
        p = {**P, "pressure": 0.5, "winter_pressure": 0.15, "pressure_capacity_share": 0.5, "deficit_pressure": 0.1}
        pressure.update_pressure(orgs, p, month, np.zeros(1))
        expected = np.clip(np.array([0.5, 0.5 + 0.2 * pressure.SHOCK_DECAY, 0.75, 0.6]) + 0.15 * wave, 0, 1)
        assert_allclose(orgs.pressure, expected)
        assert_allclose(orgs.capacity, 1.0 - 0.5 * expected)
        assert_allclose(orgs.shock, [0.0, 0.2 * pressure.SHOCK_DECAY, 0.0, 0.0])

    def test_vacancies_take_capacity_from_nhs_providers_only(self):
        orgs = pressure_orgs([0.0, 0.0], [1.0, 1.0], league=[True, False])
        pressure.update_pressure(orgs, {**P, "pressure": 0.5, "winter_pressure": 0.0}, 4, np.array([0.1]))
        free = 1.0 - P["pressure_capacity_share"] * 0.5
        assert_allclose(orgs.capacity, [free * 0.9, free])

    def test_pressure_is_clipped_to_one(self):
        orgs = pressure_orgs([5.0], [1.0])
        pressure.update_pressure(orgs, {**P, "pressure_capacity_share": 1.0}, 10, np.zeros(1))
        assert orgs.pressure[0] == 1.0 and orgs.capacity[0] == 0.0


# --------------------------------------------------------------------- turf
BASE_DRIVERS = {"base": 0.5, "scrutiny": 0.2, "sanctions": 0.2, "scarcity": 0.5, "unfairness": 0.1,
                "wins": 0.2, "shared_purpose": 0.2}


def target(**change):
    d = {k: np.array([v]) for k, v in {**BASE_DRIVERS, **change}.items()}
    return float(turf.additive_turf_target(d, P)[0])


class TestTurf:
    def test_target_by_hand(self):
        expected = (0.5 + P["turf_scrutiny_weight"] * 0.2 + P["turf_sanction_weight"] * 0.2
                    + P["turf_scarcity_weight"] * 0.0 + P["turf_unfairness_weight"] * 0.1
                    - P["turf_shared_win_weight"] * 0.2 - P["turf_shared_purpose_weight"] * 0.2)
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
        rate = 0.08
        turf.update_turf(orgs, np.array([0.7, 0.3, 5.0, -5.0]), {**P, "turf_adjustment_rate": rate})
        assert_allclose(orgs.turf[:2], [0.5 + rate * 0.2, 0.5 - rate * 0.2])
        assert_allclose(orgs.turf[2:], [min(1.0, 0.9 + rate * 4.1), max(0.0, 0.1 - rate * 5.1)])
        turf.update_turf(orgs, np.array([5.0, -5.0, 5.0, -5.0]), {**P, "turf_adjustment_rate": 1.0})
        assert_allclose(orgs.turf, [1.0, 0.0, 1.0, 0.0])

    def test_scarcity_is_pressure_and_deficit_eased_by_pooled_money(self):
        orgs = SimpleNamespace(pressure=np.array([0.6, 0.6, 0.6]), in_deficit=np.array([False, True, True]),
                               pooled_relief=np.array([0.0, 0.0, 0.5]))
        assert_allclose(turf.scarcity(orgs), [0.6, 0.8, 0.4])

    def test_a_sanctioned_body_s_turf_rises(self):
        """A regulator that also sanctions one acute trust at every inspection: that trust's turf rises
        above its turf in the same run (same seed) without the extra sanctions; when sanctions weigh
        nothing (severity 0) turf barely moves."""

        class Harsh(CQCInspector):
            def inspect(self, model):
                super().inspect(model)
                target_body = np.zeros(model.orgs.n, bool)
                target_body[TARGET] = True
                self.sanction(model, target_body, 1.0)

        probe = ICSModel(rng=5)
        TARGET = int(np.flatnonzero(probe.orgs.kind == "acute")[0])
        runs = {}
        for name, regulators, severity in [("plain", [NHSEOverseer, CQCInspector], 0.8),
                                           ("harsh", [NHSEOverseer, Harsh], 0.8),
                                           ("weightless", [NHSEOverseer, Harsh], 0.0),
                                           ("weightless_plain", [NHSEOverseer, CQCInspector], 0.0)]:
            m = ICSModel(rng=5, regulators=regulators, sanction_severity=severity)
            m.run_for(6)
            runs[name] = m
        assert runs["harsh"].orgs.sanction_stock[TARGET] > 1.0
        assert runs["harsh"].orgs.turf[TARGET] > runs["plain"].orgs.turf[TARGET] + 0.02
        rise = runs["harsh"].orgs.turf[TARGET] - runs["plain"].orgs.turf[TARGET]
        weightless_rise = runs["weightless"].orgs.turf[TARGET] - runs["weightless_plain"].orgs.turf[TARGET]
        assert abs(weightless_rise) < 0.2 * rise


# --------------------------------------------------------------------- effort
class TestEffort:
    def test_rows_sum_to_one(self):
        rng = np.random.default_rng(0)
        u = rng.normal(size=(50, 3))
        prop = rng.uniform(-0.25, 0.25, size=(50, 3))
        for sharp in (0.0, 1.0, 3.0, 50.0):
            s = effort.logit_effort_choice(u.copy(), prop, {**P, "choice_sharpness": sharp})
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

    def test_gaming_utility_falls_with_the_sanction_a_body_expects_if_caught(self):
        m = ICSModel(rng=1, regime="top_down")
        rows = np.flatnonzero(m.orgs.in_league_table)
        before = m.decide("effort_utilities")[rows, effort.GAMING]
        m.beliefs.detection[rows] = 1.0
        m.beliefs.inspection[rows] = 1.0
        m.beliefs.sanction[rows] = 1.0
        after = m.decide("effort_utilities")[rows, effort.GAMING]
        assert (after < before).all()

    def test_a_body_nobody_scores_has_no_stake_in_gaming(self):
        """VCSE bodies have no score to inflate: gaming utility is only the (negative) integrity cost."""
        m = ICSModel(rng=1, regime="top_down")
        u = m.decide("effort_utilities")
        vcse = m.orgs.kind == "vcse"
        assert (u[vcse, effort.GAMING] < 0).all()
        assert (m.beliefs.org_stake[vcse] == 0).all()

    def test_allocation_splits_discretionary_capacity(self):
        m = ICSModel(rng=1)
        m.orgs.discretionary[:] = 0.5 * m.orgs.capacity
        m.orgs.compliance[:] = 0.5 * m.orgs.capacity
        shares = np.tile([0.5, 0.3, 0.2], (m.orgs.n, 1))
        effort.allocate(m.orgs, shares)
        assert_allclose(m.orgs.effort_own, 0.25)
        assert_allclose(m.orgs.effort_joint, 0.15)
        assert_allclose(m.orgs.effort_gaming, 0.10)
        assert_allclose(m.orgs.effort_compliance, 0.5)


# --------------------------------------------------------------------- beliefs
SATURATION = 0.1


def belief_orgs(kinds, inspected=(), caught=(), sanctioned=(), size=1.0, gaming=0.0, joint=None):
    n = len(kinds)
    flags = lambda idx: np.isin(np.arange(n), idx)  # noqa: E731
    covered = np.array([k != "vcse" for k in kinds])
    return SimpleNamespace(
        n=n, kind=np.array(kinds, dtype=object), active=np.ones(n, bool), system=np.zeros(n, dtype=np.int64),
        n_systems=1, covered_by=lambda role: covered, inspected=flags(inspected), caught_gaming=flags(caught),
        caught_free_riding=np.zeros(n, bool), sanctioned=flags(sanctioned),
        sanction_size=flags(sanctioned) * float(size), in_league_table=covered, is_icb=np.zeros(n, bool),
        gaming_work=np.full(n, float(gaming)), effort_joint=np.full(n, 0.1) if joint is None else np.array(joint))


class TestBeliefs:
    def test_priors_only_for_covered_bodies(self):
        b = Beliefs(belief_orgs(["acute", "acute", "vcse"]))
        for name in NAMES:
            assert_allclose(getattr(b, name), [BELIEF_PRIORS[name]] * 2 + [0.0])

    def test_inspection_belief_learns_from_own_and_peers_inspections(self):
        orgs = belief_orgs(["acute", "acute", "acute", "acute"], inspected=[0])
        b = Beliefs(orgs)
        rate, prior = 0.1, BELIEF_PRIORS["inspection"]
        b.update(orgs, None, rate, SATURATION)
        # own inspection counts half, the share of peers inspected (1 in 4) the other half
        assert b.inspection[0] == pytest.approx(prior + rate * (0.5 + 0.5 * 0.25 - prior))
        assert b.inspection[1] == pytest.approx(prior + rate * (0.5 * 0.25 - prior))

    def test_detection_belief_is_detections_per_unit_of_inspected_gaming(self):
        """Two inspected peers each gaming at half saturation (one gaming unit in all), one caught: 1 per unit."""
        orgs = belief_orgs(["acute"] * 4, inspected=[0, 1], caught=[0], gaming=0.5 * SATURATION)
        b = Beliefs(orgs)
        b.update(orgs, None, 0.5, SATURATION)
        assert_allclose(b.detection, 1.0)
        # nobody games: nothing to learn from, the prior stays
        quiet = belief_orgs(["acute"] * 4, inspected=[0, 1])
        b = Beliefs(quiet)
        b.update(quiet, None, 0.5, SATURATION)
        assert_allclose(b.detection, BELIEF_PRIORS["detection"])

    def test_detection_belief_is_a_ratio_of_running_tallies(self):
        """Months with no detection pull the belief down only in proportion to the gaming inspected."""
        caught = belief_orgs(["acute"] * 4, inspected=[0, 1], caught=[0], gaming=SATURATION)
        missed = belief_orgs(["acute"] * 4, inspected=[0, 1], gaming=SATURATION)
        b = Beliefs(caught)
        for orgs in (caught, missed, missed, caught):
            b.update(orgs, None, 0.3, SATURATION)
        found = exposure = 0.0
        for hit in (1, 0, 0, 1):
            found += 0.3 * (hit - found)
            exposure += 0.3 * (2.0 - exposure)
        assert_allclose(b.detection, found / exposure)

    def test_free_rider_belief_counts_only_inspected_free_riders(self):
        """Peer 0 put little into joint work and was sanctioned for it; peer 1 was inspected but contributed."""
        orgs = belief_orgs(["acute"] * 4, inspected=[0, 1], joint=[0.0, 0.2, 0.2, 0.2])
        orgs.caught_free_riding = np.array([True, False, False, False])
        b = Beliefs(orgs)
        b.update(orgs, None, 0.5, SATURATION)
        assert_allclose(b.free_rider, 1.0)

    def test_sanction_belief_weights_own_sanction_double(self):
        orgs = belief_orgs(["acute"] * 3, sanctioned=[0], size=0.9)
        b = Beliefs(orgs)
        b.update(orgs, None, 1.0, SATURATION)
        assert b.sanction[0] == pytest.approx((2 * 0.9 + 0.9) / 3)
        assert b.sanction[1] == pytest.approx(0.9)

    @pytest.mark.parametrize("regime", list(REGIMES))
    def test_an_uncovered_kind_ends_with_zero_oversight_beliefs_under_any_regime(self, regime):
        m = ICSModel(rng=2, regime=regime)
        m.run_for(24)
        for kind in ("vcse", "healthwatch", "vcse_alliance"):
            rows = m.orgs.kind == kind
            for name in NAMES:
                assert (getattr(m.beliefs, name)[rows] == 0.0).all(), (kind, name)
        covered = m.orgs.covered_by("inspector") & m.orgs.active
        assert m.beliefs.sanction[covered].max() > 0.0 or regime == "hands_off"

    def test_covered_bodies_believe_in_more_inspection_under_heavier_oversight(self):
        """Beliefs follow what happened: more inspections under top_down than hands_off."""
        belief = {}
        for regime in ("top_down", "hands_off"):
            m = ICSModel(rng=3, regime=regime)
            m.run_for(24)
            belief[regime] = m.datacollector.get_model_vars_dataframe()["belief_inspection"].iloc[-1]
        assert belief["top_down"] > belief["hands_off"] + 0.05


# --------------------------------------------------------------------- channels
class TestCapabilityPipeline:
    @pytest.mark.parametrize("delay", [1, 3, 24])
    def test_inflow_appears_exactly_delay_months_later(self, delay):
        pipe = channels.CapabilityPipeline(2, delay, 0.0, np.zeros(2))
        pipe.add(np.array([1.0, 2.0]))          # month 0
        for _ in range(1, delay):
            pipe.add(np.zeros(2))
            assert_array_equal(pipe.stock, [0.0, 0.0])
        assert_allclose(pipe.in_progress(), [1.0, 2.0])
        pipe.add(np.zeros(2))                   # month = delay
        assert_allclose(pipe.stock, [1.0, 2.0])
        assert_allclose(pipe.in_progress(), [0.0, 0.0])

    def test_decay_is_applied_every_month(self):
        pipe = channels.CapabilityPipeline(1, 2, 0.1, np.zeros(1))
        pipe.add(np.array([1.0]))
        pipe.add(np.array([0.5]))
        pipe.add(np.zeros(1))   # first inflow matures
        assert_allclose(pipe.stock, [1.0])
        pipe.add(np.zeros(1))   # second matures, first decays
        assert_allclose(pipe.stock, [0.9 + 0.5])
        pipe.add(np.zeros(1))
        assert_allclose(pipe.stock, [(0.9 + 0.5) * 0.9])

    @pytest.mark.parametrize("decay", [0.01, 0.03, 0.1])
    def test_sustained_output_sets_the_level_whatever_the_decay(self, decay):
        """Output held at capability_half_output per organisation a month settles a channel at one half; decay sets only the speed."""
        q = P["capability_half_output"]
        pipe = channels.CapabilityPipeline(1, 3, decay, np.zeros(1), q / decay)
        for _ in range(3000):
            pipe.add(np.array([q]))
        assert_allclose(pipe.level(), [0.5], atol=1e-6)
        for _ in range(3000):
            pipe.add(np.array([3.0 * q]))
        assert_allclose(pipe.level(), [0.75], atol=1e-6)

    def test_initial_stock_is_a_steady_state(self):
        pipe = channels.CapabilityPipeline(2, 6, 0.05, np.array([0.2, 0.4]))
        for _ in range(30):
            pipe.add(np.array([0.2, 0.4]) * 0.05)
        assert_allclose(pipe.stock, [0.2, 0.4])

    def test_the_model_reads_capability_half_output(self):
        """The same joint work holds capability lower when more output is needed to hold it half-way."""
        levels = {}
        for q in (0.001, 0.004):
            m = ICSModel(rng=3, capability_half_output=q, collect_agents=False)
            assert m.channels.pipelines[0].half == pytest.approx(q / m.p["capability_decay"])
            m.run_for(36)
            levels[q] = m.channels.capability.mean()
        assert levels[0.004] < levels[0.001]


def first_month(**params):
    m = ICSModel(rng=6, **params)
    m.step()
    return m


class TestChannels:
    def test_delayed_discharges_rise_when_council_capacity_is_cut(self):
        cut = ICSModel(rng=6, events=[(1, "budget_cut", {"kind": "local_authority", "share": 0.5})])
        cut.step()
        base = first_month()
        assert cut.channels.delayed_days[0] > 1.2 * base.channels.delayed_days[0]
        assert cut.system_outcome[0] < base.system_outcome[0]

    def test_prevention_output_needs_pooled_funds(self):
        """Same seed and month: flow and workforce output are the same; prevention output is scaled by pooling."""
        rigid = first_month(funding_flexibility=0.0)
        flexible = first_month(funding_flexibility=1.0)
        assert rigid.pooled_share.max() == 0.0 and flexible.pooled_share.min() > 0.0
        r, f = rigid.joint_work_result.inflow, flexible.joint_work_result.inflow
        assert r[channels.FLOW].sum() > 0
        assert_allclose(r[channels.FLOW], f[channels.FLOW])
        assert_allclose(r[channels.WORKFORCE], f[channels.WORKFORCE])
        assert r[channels.PREVENTION].sum() < 0.9 * f[channels.PREVENTION].sum()

    @pytest.mark.parametrize("initial", [0.0, 1.0])
    def test_initial_capability_stays_in_bounds_when_pair_histories_spread_beyond_them(self, initial):
        """Regression: pair histories below 0 (or above 1) once gave a negative (or too large) starting stock."""
        for seed in range(10):
            m = ICSModel(rng=seed, initial_trust=initial, trust_spread=0.5, n_acute=0, n_primary_care=0, n_vcse=0,
                         n_local_authorities=1, n_community=0, n_mental_health=0, place_degree=0.0)
            assert 0.0 <= m.initial_trust_by_system.min() and m.initial_trust_by_system.max() <= 1.0
            assert (m.channels.capability >= 0.0).all() and (m.channels.capability < 1.0).all()

    def test_capability_at_the_reference_gives_the_reference_figures(self):
        """An ICS with today's capability, pressure and need shows today's admissions (the reference)."""
        m = first_month(pressure=0.5, winter_pressure=0.0)
        m.orgs.shock[:] = 0.0
        m.channels.capability[:] = channels.CAPABILITY_REFERENCE
        m.channels.update(m, 0.0)
        need = 1.0 + channels.DEPRIVATION_NEED * m.deprivation
        assert_allclose(m.channels.admissions, channels.ADMISSIONS_REFERENCE * need)

    def test_the_system_outcome_contains_no_effort_term(self):
        m = first_month()
        before = m.channels.system_outcome(m.orgs).copy()
        for name in ("effort_joint", "joint_work", "effort_own", "own_work", "gaming_work"):
            getattr(m.orgs, name)[:] = 0.77
        assert_array_equal(m.channels.system_outcome(m.orgs), before)

    def test_more_flow_capability_means_fewer_delayed_discharges(self):
        m = first_month()
        before = m.channels.delayed_days.copy()
        m.channels.capability[channels.FLOW] += 0.3
        m.channels.update(m, 0.0)
        after = m.channels.delayed_days.copy()
        m.channels.capability[channels.FLOW] -= 0.3
        m.channels.update(m, 0.0)
        assert (after < m.channels.delayed_days).all()
        assert before.shape == after.shape

    def test_more_prevention_capability_means_fewer_admissions(self):
        m = first_month()
        m.channels.update(m, 0.0)
        base = m.channels.admissions.copy()
        m.channels.capability[channels.PREVENTION] += 0.5
        m.channels.update(m, 0.0)
        now = m.channels.capability[channels.PREVENTION]
        g, ref = P["prevention_gain"], channels.CAPABILITY_REFERENCE
        assert_allclose(m.channels.admissions, base * (1 - g * (now - ref)) / (1 - g * (now - 0.5 - ref)))
        assert (m.channels.admissions < base).all()


# --------------------------------------------------------------------- regulators
class TestQuartiles:
    def test_one_to_four_in_roughly_equal_numbers(self):
        seg = quartiles(np.random.default_rng(0).random(23), np.random.default_rng(1))
        assert set(seg) == {1, 2, 3, 4}
        counts = np.bincount(seg, minlength=5)[1:]
        assert counts.max() - counts.min() <= 1

    def test_best_scores_get_segment_one(self):
        score = np.full(12, 0.5)
        score[3], score[7] = 0.99, 0.01
        seg = quartiles(score, np.random.default_rng(0))
        assert seg[3] == 1 and seg[7] == 4

    def test_bodies_in_deficit_are_no_higher_than_segment_three(self):
        score = np.linspace(1.0, 0.0, 16)
        cap = np.arange(16) % 2 == 0
        seg = quartiles(score, np.random.default_rng(0), cap=cap)
        assert (seg[cap] >= 3).all()
        assert (seg[~cap] == 1).any()

    def test_equal_scores_are_ordered_at_random(self):
        first = {tuple(quartiles(np.zeros(8), np.random.default_rng(s))) for s in range(20)}
        assert len(first) > 5

    def test_overseer_ranks_providers_and_assesses_icbs_apart(self):
        m = ICSModel(rng=2, n_systems=4, n_acute=5)
        m.run_for(3)  # the first quarterly review
        seg = m.orgs.segment
        providers = m.orgs.in_league_table
        assert set(seg[providers]) == {1, 2, 3, 4}
        assert set(seg[m.orgs.is_icb]) <= {1, 2, 3, 4} and (seg[m.orgs.is_icb] > 0).all()
        assert (seg[~providers & ~m.orgs.is_icb] == 0).all()
        # each ICB's score is its own system's outcome, not a provider score
        icb = np.flatnonzero(m.orgs.is_icb)
        assert len(set(seg[icb])) > 1


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

    def test_leadership_turnover_pulls_trust_towards_initial_trust(self):
        m = ICSModel(rng=1, initial_trust=0.4)
        m.run_for(6)
        m.ties.trust[:] = 0.9
        m.trigger("leadership_turnover", kind="acute", system=0)
        touched = m.ties.trust < 0.9
        assert touched.any()
        assert_allclose(m.ties.trust[touched], 0.65)


# --------------------------------------------------------------------- rules
@register_rule("trust_update", "test_total_distrust")
def _total_distrust(ties, result, caught, p):
    ties.trust[:] = 0.0


class TestRules:
    def test_registered_rule_by_name_and_by_function(self):
        assert "test_total_distrust" in registered("trust_update")
        for rule in ("test_total_distrust", _total_distrust):
            m = ICSModel(rng=1, rules={"trust_update": rule})
            assert m.rules["trust_update"] is _total_distrust
            m.step()
            assert (m.tie_table()["trust"] == 0.0).all()
        default = ICSModel(rng=1)
        default.step()
        assert (default.tie_table()["trust"] > 0.0).any()

    def test_every_rule_has_a_default(self):
        chosen = resolve_rules(None)
        assert set(chosen) == set(RULE_NAMES)
        assert chosen["trust_update"] is trust.update_trust
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


def test_kept_until_changed_recomputes_only_when_an_input_changes():
    from abm.kept import kept_until_changed

    class Owner:
        pass

    owner, calls = Owner(), []
    x, y = np.zeros(3), np.ones(2)

    def compute():
        calls.append(1)
        return float(x.sum() + y.sum())

    assert kept_until_changed(owner, "_total", (x, y), compute) == 2.0
    assert kept_until_changed(owner, "_total", (x, y), compute) == 2.0 and len(calls) == 1
    y[0] = 5.0                       # a change in any input is seen
    assert kept_until_changed(owner, "_total", (x, y), compute) == 6.0 and len(calls) == 2


# --------------------------------------------------------------------- the clear steer and free-rider checks
def one_pair(overhead, steer, shared_purpose=0.0, steer_strength=1.0, meeting=False, draw=0.2):
    """One pair at level 1 with equal effort, run through the joint-work kernel; returns (success, inflow)."""
    from abm.joint_work import FORUM_FACILITATION, _projects

    advantage = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    out = _projects(a=np.array([0]), b=np.array([1]), level=np.array([1, 1]), trust=np.array([1.0, 1.0]),
                    joint_work=np.array([1.0, 1.0]), level_sum=np.array([1.0, 1.0]),
                    effort_joint=np.array([0.5, 0.5]), share_a=np.array([0.5]), acute=np.zeros(2, bool),
                    steer=np.array([steer, steer]), shared_purpose=np.array([shared_purpose, shared_purpose]),
                    steer_strength=steer_strength, meeting=np.array([meeting]), facilitation=FORUM_FACILITATION,
                    system_a=np.array([0]), system_b=np.array([0]), draws=np.array([draw], dtype=np.float32),
                    advantage=advantage, overhead=np.array([1.0, overhead, 0.0, 0.0, 0.0]),
                    mix=np.array([[1.0, 0.0, 0.0]]), pooled_share=np.zeros(1), effort_scale=1.0,
                    investment=np.zeros(2), n_orgs=2, n_systems=1)
    return bool(out[0][0]), float(out[4].sum())


class TestCoordinationOverhead:
    """Effort lost to coordination overhead counts neither towards success nor towards output."""

    def test_without_overhead_the_chance_is_mutual_effort_over_effort_plus_scale(self):
        # mutual effort 1, scale 1, balance 1, trust 1: chance 0.5
        assert one_pair(0.0, 0.0, draw=0.49)[0] and not one_pair(0.0, 0.0, draw=0.51)[0]

    def test_overhead_lowers_the_chance_of_success(self):
        # overhead 0.8 and no steer leave 0.2 of the effort: chance 0.2 / 1.2 = 0.167
        assert one_pair(0.8, 0.0, draw=0.16)[0] and not one_pair(0.8, 0.0, draw=0.17)[0]

    def test_a_shared_steer_saves_overhead_for_success_and_output(self):
        # steer 1 at full strength saves all of it: chance 0.5 again, output 2 x 1 x 1
        success, inflow = one_pair(0.8, 1.0, draw=0.49)
        assert success and inflow == pytest.approx(2.0)
        # half a steer saves half: kept share 0.6, chance 0.6 / 1.6 = 0.375, output 2 x 0.6
        assert one_pair(0.8, 0.5, draw=0.37)[0] and not one_pair(0.8, 0.5, draw=0.38)[0]
        assert one_pair(0.8, 0.5, draw=0.1)[1] == pytest.approx(1.2)
        # without steer_strength the steer saves nothing
        assert not one_pair(0.8, 1.0, steer_strength=0.0, draw=0.17)[0]

    def test_the_plan_steers_at_half_its_shared_purpose_and_a_forum_at_facilitation(self):
        # shared purpose 1 gives a steer of 0.5, as a forum does
        assert one_pair(0.8, 0.0, shared_purpose=1.0, draw=0.37)[0]
        assert not one_pair(0.8, 0.0, shared_purpose=1.0, draw=0.38)[0]
        assert one_pair(0.8, 0.0, meeting=True, draw=0.37)[0]


class TestSteerRelay:
    def test_plan_members_work_to_the_steer_their_icb_received(self):
        m = ICSModel(rng=3, regime="top_down")
        m.step()
        o = m.orgs
        icb_steer = o.steer[o.is_icb][0]
        assert icb_steer == pytest.approx(REGIMES["top_down"].prescriptiveness)
        uncovered = ~(o.covered_by("overseer")) & o.active
        members, others = uncovered & o.in_plan, uncovered & ~o.in_plan
        assert members.any() and others.any()
        assert_allclose(o.steer[members], icb_steer)
        assert_array_equal(o.steer[others], 0.0)

    def test_a_less_prescriptive_regime_relays_a_weaker_steer(self):
        m = ICSModel(rng=3, regime="permissive")
        m.step()
        o = m.orgs
        members = ~o.covered_by("overseer") & o.in_plan & o.active
        assert_allclose(o.steer[members], REGIMES["permissive"].prescriptiveness)


class TestFreeRiderChecks:
    def test_the_inspector_checks_contributions_whatever_the_scores_weigh(self):
        """With no system weight in scores the overseer checks nobody, but the inspector still catches
        free-riders it inspects (in proportion to free_rider_deterrence)."""
        def caught(deterrence):
            m = ICSModel(rng=5, regime="top_down", system_focus=0.0, free_rider_deterrence=deterrence,
                         inspection_capacity=1.0)
            total = np.zeros(m.orgs.n)
            for _ in range(24):
                m.step()
                total += m.orgs.caught_free_riding
            return total, m
        total, m = caught(1.0)
        overseer_only = m.orgs.covered_by("overseer") & ~m.orgs.covered_by("inspector")
        assert total.sum() > 0
        assert total[overseer_only].sum() == 0     # the ICB: the overseer scores no system here
        none, _ = caught(0.0)
        assert none.sum() == 0


def test_a_regulator_subclass_can_stop_checking_joint_work():
    """free_rider_chance returning None: that regulator catches no free-rider and draws nothing for it."""
    class NoChecks(CQCInspector):
        def free_rider_chance(self, model):
            return None

    m = ICSModel(rng=5, regime="top_down", system_focus=0.0, free_rider_deterrence=1.0, inspection_capacity=1.0,
                 regulators=[NHSEOverseer, NoChecks])
    for _ in range(24):
        m.step()
        assert not m.orgs.caught_free_riding.any()
