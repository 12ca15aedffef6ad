"""The 42 real ICSs: the structure against the data, every ICS builds and runs, names, the per-ICS table."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from abm import ICSModel, england
from abm.ics_table import ICS_METRICS
from abm.parameters import PARAMETERS

TRUST_KINDS = ("acute", "mental_health", "community", "ambulance")


@pytest.fixture(scope="module")
def whole():
    """England from real data, run for two months with the per-ICS table collected."""
    m = ICSModel(england=True, rng=3, collect_agents=False, collect_ics=True)
    m.run_for(2)
    return m


def kinds_of(model) -> Counter:
    return Counter(o.kind for o in model.organisations)


# --------------------------------------------------------------------- the data
def test_data_totals_are_the_published_ones():
    recs = england.records()
    assert len(recs) == 42
    assert len({r.code for r in recs}) == len({r.ods for r in recs}) == len({r.name for r in recs}) == 42
    totals = {k: sum(r.trusts[k] for r in recs) for k in TRUST_KINDS}
    assert totals == {"acute": 134, "mental_health": 48, "community": 13, "ambulance": 10}
    assert sum(totals.values()) == 205
    assert sum(len(r.councils) for r in recs) == 153
    assert england.england_population() == 56_490_108
    assert sum(r.first_wave for r in recs) == 9
    assert len(england.regions()) == 7


def test_trust_list_agrees_with_the_counts():
    listed = Counter((ods, kind) for kind, ods in england.trusts().values())
    assert len(england.trusts()) == 205
    for r in england.records():
        for kind in TRUST_KINDS:
            assert listed[(r.ods, kind)] == r.trusts[kind], (r.name, kind)


def test_cross_boundary_notes_name_known_trusts_and_icss():
    ods = {r.ods for r in england.records()}
    found = [(r.ods, code, others) for r in england.records() for code, others in r.cross_boundary]
    assert len(found) == 24
    for home, code, others in found:
        assert england.trusts()[code][1] == home
        assert set(others) <= ods and home not in others


# --------------------------------------------------------------------- England built
def test_england_has_every_trust_council_and_person(whole):
    kinds = kinds_of(whole)
    assert {k: kinds[k] for k in TRUST_KINDS} == {"acute": 134, "mental_health": 48, "community": 13, "ambulance": 10}
    assert kinds["local_authority"] == kinds["healthwatch"] == whole.n_places == 153
    assert kinds["icb"] == kinds["vcse_alliance"] == 42
    assert whole.population.sum() == 56_490_108
    assert whole.ics_names == england.names()
    assert whole.first_wave.sum() == 9


def test_councils_are_named_places_of_their_own_ics(whole):
    names = england.place_names(whole.p)
    assert len(names) == 153 and "Liverpool" in names and "Isles of Scilly" in names
    for r, s in zip(england.records(), range(42)):
        councils = [o for o in whole.organisations if o.kind == "local_authority" and o.system == s]
        assert sorted(names[o.place] for o in councils) == sorted(r.councils)
        assert all(whole.place_system[o.place] == s for o in councils)


def test_shared_trusts_serve_the_icss_the_data_name(whole):
    by_name = {n: s for s, n in enumerate(whole.ics_names)}
    ambulance = [o for o in whole.organisations if o.kind == "ambulance"]
    served = sorted(len(o.systems) for o in ambulance)
    assert sum(served) == 42 and served[0] == 1 and served[-1] == 7      # NEAS alone; South Western serves 7
    london = {by_name[n] for n in whole.ics_names if "London" in n}
    assert any(set(o.systems) == london for o in ambulance)
    shared = [o for o in whole.organisations if o.kind in ("mental_health", "community") and len(o.systems) > 1]
    assert len(shared) == 15
    # Central and North West London (counted in North West London) also serves BLMK and North Central London
    want = (by_name["North West London"], by_name["Bedfordshire, Luton and Milton Keynes"], by_name["North Central London"])
    assert any(o.kind == "mental_health" and o.systems == want for o in shared)
    # every ICS has an ambulance trust, and the ICSs that host no MH trust are still served by one
    for s in range(42):
        serving = Counter(o.kind for o in whole.organisations if s in o.systems)
        assert serving["ambulance"] == 1 and serving["icb"] == 1
    frimley = by_name["Frimley"]
    assert sum(o.kind == "mental_health" and frimley in o.systems for o in whole.organisations) == 2


def test_deprivation_is_relative_to_the_england_mean(whole):
    by_name = dict(zip(whole.ics_names, whole.deprivation))
    assert by_name["Birmingham and Solihull"] == pytest.approx(0.594, abs=0.01)
    assert by_name["Surrey Heartlands"] == pytest.approx(-0.524, abs=0.01)
    assert np.average(whole.deprivation, weights=whole.population) == pytest.approx(0.0, abs=1e-12)


def test_population_scales_the_bodies_the_data_do_not_give(whole):
    kinds = kinds_of(whole)
    assert 1200 <= kinds["primary_care"] <= 1300        # about 1,250 PCNs in England
    by_system = Counter((o.system, o.kind) for o in whole.organisations)
    pcn = np.array([by_system[(s, "primary_care")] for s in range(42)])
    assert np.corrcoef(pcn, whole.population)[0, 1] > 0.99


@pytest.mark.parametrize("name", england.names())
def test_every_ics_builds_and_runs(name):
    m = ICSModel(ics=name, rng=5, collect_agents=False)
    r = england.records()[england.find(name)]
    kinds = kinds_of(m)
    assert m.ics_names == [name]
    assert kinds["acute"] == r.trusts["acute"]
    assert kinds["local_authority"] == len(r.councils) == m.n_places
    assert kinds["ambulance"] == 1 and kinds["icb"] == 1
    assert kinds["mental_health"] >= r.trusts["mental_health"]   # plus trusts based elsewhere that serve it
    m.run_for(3)
    metrics = m.datacollector.get_model_vars_dataframe()
    assert len(metrics) == 4 and np.isfinite(metrics.to_numpy(dtype=float)).all()


def test_an_ics_alone_keeps_the_trusts_that_serve_it_from_elsewhere():
    m = ICSModel(ics="QHG", rng=1, collect_agents=False)     # BLMK hosts no MH trust
    kinds = kinds_of(m)
    assert kinds["mental_health"] == 2 and kinds["community"] == 1


# --------------------------------------------------------------------- names
def test_names_codes_regions_and_lists():
    assert ICSModel(ics="cheshire and merseyside", rng=1).ics_names == ["Cheshire and Merseyside"]
    assert ICSModel(ics="QYG", rng=1).p["ics"] == "Cheshire and Merseyside"
    assert ICSModel(ics="E54000008", rng=1).ics_names == ["Cheshire and Merseyside"]
    assert len(ICSModel(ics="London", rng=1).ics_names) == 5
    two = ICSModel(ics=["Somerset", "QR1", "Somerset"], rng=1)
    assert two.ics_names == ["Somerset", "Gloucestershire"] and two.p["ics"] == "Somerset; Gloucestershire"
    assert ICSModel(ics="Somerset; Dorset", rng=1).ics_names == ["Somerset", "Dorset"]


def test_misspelt_name_says_which_was_meant_in_one_line():
    with pytest.raises(ValueError) as err:
        ICSModel(ics="Cheshire and Mersyside")
    msg = str(err.value)
    assert "did you mean 'Cheshire and Merseyside'?" in msg and "\n" not in msg
    with pytest.raises(ValueError, match="did you mean 'QYG"):
        ICSModel(ics="QYX")
    with pytest.raises(ValueError, match="allowed"):
        PARAMETERS["ics"].validate(3)


def test_ics_and_england_together_is_an_error():
    with pytest.raises(ValueError, match="not both"):
        ICSModel(ics="Somerset", england=True)


def test_stylised_model_is_unchanged_without_ics():
    m = ICSModel(n_systems=2, rng=1)
    assert m.ics_names == ["ICS 1", "ICS 2"]
    assert len(england.place_names(m.p)) == m.n_places


# --------------------------------------------------------------------- per-ICS table
def test_ics_table_shape_and_consistency_with_the_model_metrics(whole):
    now = whole.ics_table()
    assert list(now.columns) == ["month", "system", "ics", *ICS_METRICS]
    assert len(now) == 42 and (now["month"] == 2).all() and list(now["ics"]) == england.names()
    collected = whole.datacollector.get_ics_table()
    assert collected.shape == (42 * 3, 3 + len(ICS_METRICS))
    assert sorted(collected["month"].unique()) == [0, 1, 2]
    last = whole.datacollector.get_model_vars_dataframe().iloc[-1]
    assert now["system_outcome"].mean() == pytest.approx(last["system_outcome"])
    people = whole.population / whole.population.sum()
    assert people @ now["emergency_admissions"] == pytest.approx(last["emergency_admissions"])
    assert now["organisations"].sum() == len(whole.organisations)
    assert now["partnerships"].sum() == whole.ties.n_pairs
    pairs = now["partnerships"].to_numpy()
    assert np.average(now["collaboration_index"], weights=pairs) == pytest.approx(last["collaboration_index"])


def test_ics_table_not_collected_says_how():
    m = ICSModel(ics="Somerset", rng=1)
    with pytest.raises(LookupError, match="collect_ics=True"):
        m.datacollector.get_ics_table()
    assert len(m.ics_table()) == 1


def test_sweep_stores_the_ics_table(tmp_path):
    from experiments.runner import run_experiment
    from experiments.spec import parse_experiment
    from experiments.store import load

    exp = parse_experiment("""
        [experiment]
        name = "two-ICSs"
        months = 2
        replicates = 1
        [parameters]
        ics = ["Somerset", "Gloucestershire"]
        [output]
        ics = true
        every = 1
    """)
    assert exp.ics and exp.parameters["ics"] == "Somerset; Gloucestershire"
    with ThreadPoolExecutor(1) as pool:
        run_experiment(exp, tmp_path / "out", executor=pool, progress=False)
    results = load(tmp_path / "out")
    assert results.ics is not None and len(results.ics) == 2 * 3
    assert set(results.ics["ics"]) == {"Somerset", "Gloucestershire"}
    assert results.manifest["experiment"]["tables"] == ["runs", "metrics", "ics"]


def test_experiment_file_misspelt_ics_is_named():
    from experiments.spec import ExperimentError, parse_experiment

    with pytest.raises(ExperimentError, match="did you mean 'Somerset'"):
        parse_experiment('[experiment]\nname = "x"\n[parameters]\nics = "Somerst"\n')


# --------------------------------------------------------------------- across the ICSs in a report
def test_report_ranks_the_42_icss_under_each_regime(tmp_path):
    """A tiny England sweep: the report's ranked chart holds the 42 ICSs once per regime, in order."""
    import pandas as pd

    from experiments.report import write_report
    from experiments.runner import run_experiment
    from experiments.spec import parse_experiment

    exp = parse_experiment("""
        [experiment]
        name = "england-tiny"
        months = 2
        replicates = 1
        design = "full_factorial"
        [parameters]
        england = true
        [factors]
        regime = ["permissive", "top_down"]
        [output]
        ics = true
        every = 1
    """)
    with ThreadPoolExecutor(2) as pool:
        run_experiment(exp, tmp_path / "out", executor=pool, progress=False)
    page = write_report(tmp_path / "out").read_text(encoding="utf-8")
    assert "<h2>Across the 42 ICSs</h2>" in page
    assert 'alt="system_outcome of each ICS ranked under each regime"' in page

    rank = pd.read_csv(tmp_path / "out" / "ics_ranking.csv")
    for metric in ("system_outcome", "collaboration_index"):
        for regime in ("permissive", "top_down"):
            chart = rank[(rank["metric"] == metric) & (rank["label"] == regime)]
            assert sorted(chart["ics"]) == sorted(england.names())
            assert list(chart["rank"]) == list(range(1, 43))
            assert chart["mean"].is_monotonic_decreasing
            assert chart["ci_low"].isna().all() and (chart["n"] == 1).all()    # one replicate: no interval
    spread = pd.read_csv(tmp_path / "out" / "ics_spread.csv")
    so = spread[spread["metric"] == "system_outcome"].set_index("label")
    assert set(so.index) == {"permissive", "top_down"} and (so["icss"] == 42).all()
    for regime, row in so.iterrows():
        values = rank[(rank["metric"] == "system_outcome") & (rank["label"] == regime)]["mean"]
        assert row["mean"] == pytest.approx(values.mean())
        assert row["sd_across_icss"] == pytest.approx(values.std(ddof=1))
        assert row["min"] == pytest.approx(values.min()) and row["max"] == pytest.approx(values.max())
        assert row["organisations_most"] > row["organisations_fewest"]
        assert -1 <= row["spearman_deprivation"] <= 1       # real ICSs: their deprivation is known
    gaps = pd.read_csv(tmp_path / "out" / "ics_gaps.csv")
    assert set(gaps["label"]) == {"top_down"} and set(gaps["reference"]) == {"permissive"}


def test_across_icss_averages_the_final_period_and_pairs_the_regimes(tmp_path):
    """Hand-made per-ICS table: the final-period mean, intervals over replicates, most against
    fewest organisations and the gap between regimes, paired on the seed."""
    import pandas as pd

    from experiments import across_ics, analysis
    from experiments.store import Results

    names = ["A", "B", "C", "D"]
    orgs = {"A": 10, "B": 20, "C": 30, "D": 40}
    runs, rows = [], []
    for point, regime in enumerate(["permissive", "top_down"]):
        for rep, seed in enumerate([11, 12, 13]):
            run_id = f"p{point}-r{rep}"
            runs.append({"run_id": run_id, "point": point, "replicate": rep, "seed": seed, "status": "ok",
                         "months": 24, "regime": regime, "error": ""})
            for month in (0, 12, 18, 24):
                for system, name in enumerate(names):
                    # before the final period (months 13-24) the value is off the scale; then it is
                    # ICS level + regime shift + a replicate effect shared by both regimes
                    value = 9.0 if month <= 12 else 0.1 * system + 0.05 * point + 0.01 * rep + 0.001 * month
                    rows.append({"run_id": run_id, "month": month, "system": system, "ics": name,
                                 "system_outcome": value, "organisations": orgs[name]})
    results = Results(path=tmp_path, runs=pd.DataFrame(runs), metrics=pd.DataFrame(columns=["run_id", "month"]),
                      ics=pd.DataFrame(rows),
                      manifest={"experiment": {"factors": ["regime"], "design": "full_factorial", "root_seed": 1}})
    assert across_ics.available(results) and across_ics.final_period(results) == (13, 24)
    rank = across_ics.ranking(results, ["system_outcome"])
    top = rank[rank["label"] == "top_down"]
    assert list(top["ics"]) == ["D", "C", "B", "A"] and list(top["rank"]) == [1, 2, 3, 4]
    d = top.iloc[0]
    expected = [0.3 + 0.05 + 0.01 * rep + 0.001 * 21 for rep in range(3)]     # months 18 and 24 averaged
    assert d["mean"] == pytest.approx(np.mean(expected))
    assert (d["ci_low"], d["ci_high"]) == pytest.approx(analysis.ci95(expected)[1:3])
    spread = across_ics.spread(results, ["system_outcome"], rank=rank).set_index("label")
    assert spread.loc["permissive", "most_icss"] == "D" and spread.loc["permissive", "fewest_icss"] == "A"
    assert spread.loc["permissive", "most_minus_fewest"] == pytest.approx(0.3)
    assert spread.loc["permissive", "sd_across_icss"] == pytest.approx(np.std([0, 0.1, 0.2, 0.3], ddof=1))
    assert spread.loc["permissive", "sd_across_seeds"] == pytest.approx(0.01)
    assert spread.loc["permissive", "spearman_organisations"] == pytest.approx(1.0)
    assert spread["spearman_deprivation"].isna().all()                         # not real ICSs
    gaps = across_ics.gaps(results, ["system_outcome"]).iloc[0]
    assert (gaps["label"], gaps["reference"], gaps["icss_positive"]) == ("top_down", "permissive", 4)
    assert gaps["mean_gap"] == pytest.approx(0.05) and gaps["sd_across_icss"] == pytest.approx(0, abs=1e-12)
    assert gaps["ci_high"] - gaps["ci_low"] == pytest.approx(0, abs=1e-9)     # paired: replicate effects cancel
