"""Property tests: for any valid parameters (drawn from the table's own ranges) every state stays in bounds.

Structures are kept small and runs short (6-12 months) so that each example takes milliseconds.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abm import MODEL_METRICS, PARAMETERS, ICSModel, england
from abm.events import EVENT_OPTIONS

# Small structures: counts far below the table's upper ends (which describe England).
SMALL = {
    "n_systems": (1, 3), "n_acute": (0, 3), "n_mental_health": (0, 2), "mental_health_span": (1, 3),
    "n_community": (0, 2), "ambulance_span": (1, 4), "n_local_authorities": (1, 3),
    "n_vcse": (0, 6), "n_primary_care": (0, 8),
}
ROUNDING = 1e-12  # e.g. the Gini of equal voices computes as -2.2e-16
COUNT_METRICS = {"joint_projects", "gaming_detected", "sanctions", "inspections"}
RATE_METRICS = {"emergency_admissions", "delayed_discharge_days"}   # per 1,000 people a month: >= 0, not capped at 1
UNIT_AGENT_COLUMNS = ("turf", "trust_given", "trust_received", "voice", "pressure", "true_performance",
                      "reported_performance", "joint_work_share")
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _strategy(param):
    if param.name == "england":
        return st.just(False)   # all 42 real ICSs: too large for a property test (tests/test_england*.py)
    if param.kind == "ics":
        return st.none() | st.sampled_from(england.names())   # the stylised ICSs, or one real ICS
    if param.name in SMALL:
        lo, hi = SMALL[param.name]
        return st.integers(max(lo, int(param.low)), min(hi, int(param.high)))
    if param.kind == "int":
        hi = int(param.high) if param.group != "structure" else min(int(param.high), int(param.low) + 3)
        return st.integers(int(param.low), hi)
    if param.kind == "float":
        values = st.floats(param.low, param.high, allow_nan=False, allow_infinity=False)
        return st.none() | values if param.default is None else values
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "seed":
        return st.integers(0, 2**32 - 1)
    raise AssertionError(f"no strategy for parameter kind {param.kind!r} ({param.name})")


parameter_sets = st.fixed_dictionaries({name: _strategy(p) for name, p in PARAMETERS.items()})


def in_unit(x, what, tol=0.0):
    """All finite and in [0, 1]; ``tol`` allows rounding error in derived figures (not in state)."""
    x = np.asarray(x, dtype=float)
    assert np.isfinite(x).all(), f"{what}: not finite"
    assert (x >= -tol).all() and (x <= 1.0 + tol).all(), f"{what}: outside [0, 1]: min {x.min()}, max {x.max()}"


def check_state(model) -> None:
    orgs, ties = model.orgs, model.ties
    for name in ("trust", "damage", "record"):
        in_unit(getattr(ties, name), f"ties.{name}")
    for name in ("turf", "pressure", "capacity", "true_performance", "reported_performance", "voice"):
        in_unit(getattr(orgs, name), f"orgs.{name}")
    level = ties.level
    assert ((level >= 0) & (level <= 4)).all(), "level outside 0..4"
    assert (level[0::2] == level[1::2]).all(), "the two directions of a pair disagree on level"
    assert (level[~ties.active] == 0).all(), "an ended tie keeps a level"
    efforts = np.stack([orgs.effort_own, orgs.effort_joint, orgs.effort_gaming, orgs.effort_compliance])
    assert np.isfinite(efforts).all() and (efforts >= 0.0).all(), "negative effort share"
    assert (efforts.sum(axis=0) <= 1.0 + 1e-9).all(), f"effort shares sum to {efforts.sum(axis=0).max()}"
    assert set(np.unique(orgs.segment)) <= {0, 1, 2, 3, 4}
    for name in ("inspection", "detection", "free_rider", "org_stake", "system_stake"):
        in_unit(getattr(model.beliefs, name), f"beliefs.{name}")
    # a believed sanction is a size: sanctions from several regulators in one month add up
    sanction = model.beliefs.sanction
    assert np.isfinite(sanction).all() and (sanction >= 0).all() and (sanction <= 4.0).all()
    in_unit(orgs.shared_purpose, "orgs.shared_purpose")
    in_unit(model.system_outcome, "system outcome")
    channels = model.channels
    in_unit(channels.capability, "channel capability")
    assert np.isfinite(channels.admissions).all() and (channels.admissions >= 0).all()
    assert np.isfinite(channels.delayed_days).all() and (channels.delayed_days >= 0).all()


def check_metrics(model, months: int) -> None:
    df = model.datacollector.get_model_vars_dataframe()
    assert list(df.index) == list(range(months + 1))
    assert set(MODEL_METRICS) <= set(df.columns)
    values = df[list(MODEL_METRICS)].to_numpy(dtype=float)
    assert np.isfinite(values).all(), df.columns[~np.isfinite(values).all(axis=0)].tolist()
    for name in MODEL_METRICS:
        if name in COUNT_METRICS or name in RATE_METRICS:
            assert (df[name] >= 0).all(), name
        else:
            in_unit(df[name], f"metric {name}", tol=ROUNDING)
    shares = df[["share_connecting", "share_cooperating", "share_coordinating", "share_collaborating"]]
    assert (shares.sum(axis=1) <= 1.0 + 1e-9).all()
    if model.p["collect_agents"]:
        agents = model.datacollector.get_agent_vars_dataframe()
        for col in UNIT_AGENT_COLUMNS:
            in_unit(agents[col], f"agent column {col}", tol=ROUNDING)
        assert agents["segment"].between(0, 4).all()


@PROPERTY_SETTINGS
@given(params=parameter_sets, months=st.integers(6, 12))
def test_any_valid_parameters_keep_every_state_in_bounds(params, months):
    model = ICSModel(**params)
    check_state(model)
    model.run_for(months)
    check_state(model)
    check_metrics(model, months)


event_strategy = st.one_of(
    st.tuples(st.just("demand_shock"), st.fixed_dictionaries({"size": st.floats(0, 1)})),
    st.tuples(st.just("budget_cut"), st.fixed_dictionaries({"share": st.floats(0, 0.9)})),
    st.tuples(st.just("merger"), st.just({})),
    st.tuples(st.just("leadership_turnover"), st.just({})),
    st.tuples(st.just("regime"), st.fixed_dictionaries(
        {"regime": st.sampled_from(PARAMETERS["regime"].choices)},
        optional={"oversight_intensity": st.floats(0, 1), "system_focus": st.floats(0, 1)})),
)


@PROPERTY_SETTINGS
@given(params=parameter_sets, events=st.lists(st.tuples(st.integers(1, 5), event_strategy), max_size=5),
       shocks=st.lists(st.floats(0, 1), max_size=3))
def test_events_and_shocks_keep_every_state_in_bounds(params, events, shocks):
    assert set(kind for _, (kind, _) in events) <= set(EVENT_OPTIONS)
    model = ICSModel(events=[(month, kind, opts) for month, (kind, opts) in events], **params)
    for size in shocks:
        model.trigger("demand_shock", size=size)
    model.run_for(5)
    model.set_regime("top_down", sanction_severity=1.0)
    model.run_for(4)
    check_state(model)
    check_metrics(model, 9)
    assert model.regime.name == "top_down" and model.regime.sanction_severity == 1.0
