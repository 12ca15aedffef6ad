"""The parameter table: defaults, validation messages, misspelt names, regimes, rng, warnings, ODD."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest

from abm import DEFAULTS, PARAMETERS, REGIMES, ICSModel, validate_parameters
from abm.parameters import REGIME_KNOBS, parameter_table_markdown

ROOT = Path(__file__).resolve().parent.parent
NUMERIC = [p for p in PARAMETERS.values() if p.kind in ("int", "float")]
FLOATS = [p for p in NUMERIC if p.kind == "float"]
INTS = [p for p in NUMERIC if p.kind == "int"]


def _ids(params):
    return [p.name for p in params]


def _assert_clear(err: pytest.ExceptionInfo, name: str, value) -> None:
    """The message names the parameter, the value and what is allowed."""
    msg = str(err.value)
    assert repr(name) in msg or name in msg, msg
    assert repr(value) in msg or str(value) in msg, msg
    assert "allowed" in msg, msg


# --------------------------------------------------------------------- defaults
@pytest.mark.parametrize("param", list(PARAMETERS.values()), ids=list(PARAMETERS))
def test_default_passes_its_own_validation(param):
    assert param.validate(param.default) == param.default
    assert DEFAULTS[param.name] == param.default


def test_validate_parameters_of_nothing_gives_the_defaults():
    assert validate_parameters({}) == DEFAULTS
    assert validate_parameters() == DEFAULTS


def test_validate_parameters_returns_the_full_checked_set():
    got = validate_parameters({"n_acute": 5.0, "initial_trust": 1})
    assert got["n_acute"] == 5 and isinstance(got["n_acute"], int)
    assert got["initial_trust"] == 1.0 and isinstance(got["initial_trust"], float)
    assert set(got) == set(PARAMETERS)
    assert got["pressure"] == PARAMETERS["pressure"].default


def test_model_built_from_all_defaults_keeps_them():
    model = ICSModel(**DEFAULTS)
    preset = REGIMES[DEFAULTS["regime"]]
    for name, value in DEFAULTS.items():
        if name in REGIME_KNOBS:
            assert model.p[name] == getattr(preset, name)
        else:
            assert model.p[name] == value, name


@pytest.mark.parametrize("param", NUMERIC, ids=_ids(NUMERIC))
def test_range_ends_are_allowed(param):
    assert param.validate(param.low) == param.low
    assert param.validate(param.high) == param.high


# --------------------------------------------------------------------- bad values
@pytest.mark.parametrize("param", NUMERIC, ids=_ids(NUMERIC))
def test_out_of_range_raises_value_error_naming_parameter_value_and_range(param):
    step = 1 if param.kind == "int" else 0.5
    cast = int if param.kind == "int" else float
    for bad in (cast(param.low - step), cast(param.high + step)):
        for check in (lambda v: validate_parameters({param.name: v}), lambda v: ICSModel(**{param.name: v})):
            with pytest.raises(ValueError) as err:
                check(bad)
            _assert_clear(err, param.name, bad)
            msg = str(err.value)
            assert f"{param.low:g}" in msg and f"{param.high:g}" in msg, msg


@pytest.mark.parametrize("param", FLOATS, ids=_ids(FLOATS))
def test_just_outside_a_float_range_is_rejected(param):
    with pytest.raises(ValueError):
        param.validate(param.high + 1e-9)
    with pytest.raises(ValueError):
        param.validate(param.low - 1e-9)


@pytest.mark.parametrize("param", NUMERIC, ids=_ids(NUMERIC))
@pytest.mark.parametrize("bad", ["0.5", [0.5], True, math.nan, math.inf, -math.inf])
def test_wrong_type_nan_and_infinity_raise_value_error(param, bad):
    with pytest.raises(ValueError) as err:
        validate_parameters({param.name: bad})
    msg = str(err.value)
    assert repr(param.name) in msg and "allowed" in msg, msg
    assert repr(bad) in msg, msg


@pytest.mark.parametrize("param", INTS, ids=_ids(INTS))
def test_int_parameters_reject_fractions(param):
    bad = param.low + 0.5
    with pytest.raises(ValueError) as err:
        ICSModel(**{param.name: bad})
    _assert_clear(err, param.name, bad)
    assert "whole number" in str(err.value)


@pytest.mark.parametrize("name,bad", [
    ("collect_agents", "yes"), ("collect_agents", 1), ("collect_ties", None),
    ("regime", 3), ("regime", "Top_Down"), ("regime", None),
])
def test_bool_and_choice_parameters_reject_wrong_values(name, bad):
    with pytest.raises(ValueError) as err:
        ICSModel(**{name: bad})
    _assert_clear(err, name, bad)


def test_nan_in_a_regime_knob_raises_value_error():
    with pytest.raises(ValueError, match="oversight_intensity"):
        ICSModel(oversight_intensity=float("nan"))


# --------------------------------------------------------------------- misspelt names
def test_misspelt_model_keyword_raises_type_error_suggesting_the_name():
    with pytest.raises(TypeError, match=r"initial_trst.*did you mean 'initial_trust'"):
        ICSModel(initial_trst=0.5)


def test_misspelt_name_in_validate_parameters_suggests_the_name():
    with pytest.raises(TypeError, match=r"pressur.*did you mean 'pressure'"):
        validate_parameters({"pressur": 1})


def test_name_with_no_close_match_raises_type_error_without_a_guess():
    with pytest.raises(TypeError, match="zzqqxx") as err:
        validate_parameters({"zzqqxx": 1})
    assert "did you mean" not in str(err.value)


def test_misspelt_regime_knob_in_set_regime_suggests_the_knob():
    model = ICSModel(rng=1)
    with pytest.raises(TypeError, match="oversight_intensity"):
        model.set_regime(oversight_intensty=0.5)
    with pytest.raises(ValueError, match="oversight_intensity"):
        model.set_regime(oversight_intensity=2.0)
    assert len(model.regime_history) == 1  # nothing half-done


# --------------------------------------------------------------------- regimes
@pytest.mark.parametrize("knob", REGIME_KNOBS)
def test_regime_knob_overrides_the_preset_and_leaves_the_others(knob):
    model = ICSModel(regime="top_down", **{knob: 0.1})
    preset = REGIMES["top_down"]
    assert model.regime.name == "top_down"
    assert getattr(model.regime, knob) == 0.1
    for other in REGIME_KNOBS:
        if other != knob:
            assert getattr(model.regime, other) == getattr(preset, other), other
    assert model.p[knob] == 0.1


def test_oversight_intensity_override_on_top_down():
    regime = ICSModel(regime="top_down", oversight_intensity=0.1).regime
    assert regime.oversight_intensity == 0.1
    assert regime.knobs() == {**REGIMES["top_down"].knobs(), "oversight_intensity": 0.1}


@pytest.mark.parametrize("name", list(REGIMES))
def test_every_preset_builds_with_its_own_knobs(name):
    assert ICSModel(regime=name).regime == REGIMES[name]


def test_unknown_regime_name_lists_the_allowed():
    with pytest.raises(ValueError) as err:
        ICSModel(regime="anarchy")
    msg = str(err.value)
    assert "'anarchy'" in msg and "regime" in msg
    for name in REGIMES:
        assert name in msg, msg


# --------------------------------------------------------------------- rng
@pytest.mark.parametrize("seed", [None, 0, 7, 2**40])
def test_rng_accepts_none_and_whole_numbers(seed):
    assert ICSModel(rng=seed).p["rng"] == seed


@pytest.mark.parametrize("bad", [-1, 1.5, True, "abc"])
def test_rng_rejects_negative_fractional_and_other(bad):
    with pytest.raises(ValueError) as err:
        ICSModel(rng=bad)
    _assert_clear(err, "rng", bad)


# --------------------------------------------------------------------- warnings
def test_default_model_raises_no_future_or_deprecation_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ICSModel(rng=3, collect_ties=True)
        model.run_for(13)
        model.set_regime("top_down")
        model.step()
        model.datacollector.get_model_vars_dataframe()
        model.datacollector.get_agent_vars_dataframe()
        model.datacollector.get_tie_table()
        model.tie_table()


# --------------------------------------------------------------------- ODD
def test_odd_contains_exactly_the_generated_parameter_table():
    odd = ROOT / "docs" / "ODD.md"
    if not odd.exists():
        pytest.fail("docs/ODD.md is missing; its parameter table comes from "
                    "`python -m abm.parameters` (abm.parameters.parameter_table_markdown())")
    text = odd.read_text(encoding="utf-8")
    table = parameter_table_markdown()
    assert table in text, ("docs/ODD.md's parameter table is stale: regenerate it with "
                           "`python -m abm.parameters`")
    assert text.count(table.splitlines()[0]) == 1, "docs/ODD.md should hold the parameter table once"
    # the table ends where the generated one ends: no extra hand-written parameter rows
    after = text.split(table, 1)[1].lstrip(" ")
    assert not after.startswith("\n| `"), "docs/ODD.md has parameter rows not in abm.parameters"
