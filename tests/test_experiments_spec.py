"""Experiment files: checking, designs, seeds, and the files shipped in experiments/."""

from pathlib import Path

import numpy as np
import pytest

from abm.parameters import PARAMETERS
from experiments.design import build_design
from experiments.runner import plan_runs
from experiments.seeds import design_seed, replicate_seeds
from experiments.spec import ExperimentError, load_experiment, parse_experiment

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.toml"))

BASE = """
[experiment]
name = "t"
months = 12
replicates = 2
seed = 3
design = "full_factorial"
"""


def parse(body: str, head: str = BASE):
    return parse_experiment(head + body, source="test.toml")


def error_of(body: str, head: str = BASE) -> str:
    with pytest.raises(ExperimentError) as info:
        parse(body, head)
    message = str(info.value)
    assert message.startswith("test.toml: "), message   # every error names the file
    return message


def test_full_file_is_read():
    exp = parse("""
[parameters]
n_vcse = 4
[factors]
regime = ["top_down", "permissive"]
oversight_intensity = [0.2, 0.5, 0.8]
[[schedule]]
month = 6
regime = "top_down"
system_focus = 0.5
[[schedule]]
month = 8
event = "demand_shock"
size = 0.3
""")
    assert exp.parameters == {"n_vcse": 4}
    assert exp.factors["oversight_intensity"].values == (0.2, 0.5, 0.8)
    assert exp.schedules[""][0] == {"month": 6, "kind": "regime", "options": {"regime": "top_down", "system_focus": 0.5}}
    assert exp.schedules[""][1] == {"month": 8, "kind": "demand_shock", "options": {"size": 0.3}}
    assert not exp.schedule_is_factor
    assert len(plan_runs(exp)) == 2 * 3 * 2


@pytest.mark.parametrize("body, key, words", [
    ("[parameters]\nn_vcs = 3\n", "parameters.n_vcs", "did you mean 'n_vcse'"),
    ("[factors]\noversight_intensty = [0.1]\n", "factors.oversight_intensty", "did you mean 'oversight_intensity'"),
    ("[parameters]\nn_vcse = -1\n", "parameters.n_vcse", "a whole number in [0, 3000]"),
    ("[factors]\noversight_intensity = [0.5, 1.5]\n", "factors.oversight_intensity[1]", "a number in [0, 1]"),
    ("[factors]\nregime = [\"top_dwn\"]\n", "factors.regime[0]", "one of 'top_down'"),
    ("[parameters]\nrng = 5\n", "parameters.rng", "[experiment] seed"),
    ("[factors]\npressure = {low = 0.2, high = 0.8}\n", "factors.pressure", "the full_factorial design needs a list"),
    ("[[schedule]]\nmonth = 50\nregime = \"top_down\"\n", "schedule[0].month", "in [0, 12]"),
    ("[[schedule]]\nmonth = 5\nevent = \"demand_shok\"\n", "schedule[0].event", "did you mean 'demand_shock'"),
    ("[[schedule]]\nmonth = 5\nevent = \"demand_shock\"\nsize = 3\n", "schedule[0]", "must be in [0, 1]"),
    ("[[schedule]]\nmonth = 5\nevent = \"merger\"\nkind = \"hospital\"\n", "schedule[0].kind", "allowed: icb, acute"),
    ("[[schedule]]\nmonth = 5\nregime = \"top_down\"\nsystem_fokus = 0.3\n", "schedule[0].system_fokus", "did you mean 'system_focus'"),
    ("[outputs]\nagents = true\n", "[outputs]", "did you mean 'output'"),
])
def test_bad_input_names_key_and_what_is_allowed(body, key, words):
    message = error_of(body)
    assert f": {key}:" in message
    assert words in message


def test_unknown_design_and_malformed_toml():
    message = error_of("", BASE.replace('"full_factorial"', '"latin_hypercub"'))
    assert "experiment.design" in message and "did you mean 'latin_hypercube'" in message
    assert "full_factorial, latin_hypercube, sobol, morris" in message
    message = error_of("[factors\nregime = [1]\n")
    assert "not valid TOML" in message and "line" in message


def test_sampled_design_rules():
    head = BASE.replace('"full_factorial"', '"sobol"') + "samples = 12\n"
    assert "power of 2" in error_of("[factors]\npressure = {low = 0.2, high = 0.8}\n", head)
    head = BASE.replace('"full_factorial"', '"morris"') + "samples = 4\n"
    assert "needs a range for every factor" in error_of("[factors]\nregime = [\"top_down\"]\n", head)
    assert "low (0.8) must be below high (0.2)" in error_of("[factors]\npressure = {low = 0.8, high = 0.2}\n", head)
    assert "needs at least one factor with a range" in error_of("", head)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ExperimentError, match="no such experiment file"):
        load_experiment(tmp_path / "nope.toml")


# ---------------------------------------------------------------- designs
def test_full_factorial_is_every_combination():
    exp = parse('[factors]\nregime = ["top_down", "permissive"]\nn_vcse = [2, 4, 6]\n')
    points = build_design(exp).points
    assert len(points) == 6
    assert {(p["regime"], p["n_vcse"]) for p in points} == {(r, n) for r in ("top_down", "permissive") for n in (2, 4, 6)}


def test_latin_hypercube_is_stratified_and_crossed_with_lists():
    head = BASE.replace('"full_factorial"', '"latin_hypercube"') + "samples = 10\n"
    exp = parse('[factors]\npressure = {low = 0.2, high = 0.8}\nn_vcse = {low = 2, high = 12}\n'
                'regime = ["top_down", "permissive"]\n', head)
    points = build_design(exp).points
    assert len(points) == 20
    pressure = np.array([p["pressure"] for p in points[::2]])
    assert pressure.min() >= 0.2 and pressure.max() <= 0.8
    # one sample in each tenth of the range: the Latin hypercube property
    assert sorted(np.floor((pressure - 0.2) / 0.06).astype(int)) == list(range(10))
    assert all(isinstance(p["n_vcse"], int) and 2 <= p["n_vcse"] <= 12 for p in points)
    assert build_design(exp).points == points                    # deterministic from the root seed


def test_sobol_and_morris_sizes_follow_salib():
    k = 3
    factors = "[factors]\npressure = {low = 0.2, high = 0.8}\ninitial_trust = {low = 0.2, high = 0.6}\n" \
              "system_focus = {low = 0.0, high = 1.0}\n"
    sobol = build_design(parse(factors, BASE.replace('"full_factorial"', '"sobol"') + "samples = 8\n"))
    assert len(sobol.points) == 8 * (k + 2) and sobol.matrix.shape == (8 * (k + 2), k)
    morris = build_design(parse(factors, BASE.replace('"full_factorial"', '"morris"') + "samples = 5\n"))
    assert len(morris.points) == 5 * (k + 1)
    # a Morris trajectory changes one factor at a time
    steps = np.diff(morris.matrix[: k + 1], axis=0)
    assert ((steps != 0).sum(axis=1) == 1).all()


# ---------------------------------------------------------------- seeds
def test_common_random_numbers_across_design_points():
    exp = parse('[factors]\nregime = ["top_down", "permissive", "hands_off"]\n',
                BASE.replace("replicates = 2", "replicates = 4"))
    plan = plan_runs(exp)
    by_replicate = {}
    for spec in plan:
        by_replicate.setdefault(spec.replicate, set()).add(spec.seed)
    assert all(len(seeds) == 1 for seeds in by_replicate.values())      # same seed in every point
    assert len({next(iter(s)) for s in by_replicate.values()}) == 4     # different across replicates
    assert len({spec.run_id for spec in plan}) == len(plan)


def test_seeds_come_from_seed_sequence_and_extend_stably():
    assert replicate_seeds(3, 5)[:3] == replicate_seeds(3, 3)
    expected = int(np.random.SeedSequence(3).spawn(2)[1].generate_state(1, np.uint64)[0]) & ((1 << 63) - 1)
    assert replicate_seeds(3, 2)[1] == expected
    assert replicate_seeds(4, 3) != replicate_seeds(3, 3)
    assert design_seed(3) not in replicate_seeds(3, 100)


# ---------------------------------------------------------------- shipped files
@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_experiment_files_are_valid_and_sized_to_run(path):
    exp = load_experiment(path)
    plan = plan_runs(exp)
    months = sum(spec.months for spec in plan)
    # about 0.1 s per 120 months of the default ICS on one core: under ~10 minutes on 2 cores
    assert months / 120 * 0.1 / 2 < 600, f"{path.name}: {len(plan)} runs is too big for its default size"
    for spec in plan:
        for name, value in spec.params.items():
            assert PARAMETERS[name].validate(value) == value


def test_shipped_files_cover_the_issue():
    designs = {load_experiment(p).design for p in SHIPPED}
    assert {"full_factorial", "morris", "sobol"} <= designs
    names = {p.stem for p in SHIPPED}
    assert {"regime_comparison", "oversight_sweep", "pressure_regime", "topdown_episode",
            "morris_screening", "sobol_indices"} <= names
    episode = load_experiment(next(p for p in SHIPPED if p.stem == "topdown_episode"))
    assert episode.parameters["regime"] == "permissive"
    assert [(e["month"], e["options"]["regime"]) for e in episode.schedules["episode"]] == [(36, "top_down"),
                                                                                           (72, "permissive")]
