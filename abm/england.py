"""The 42 real Integrated Care Systems of England, built from data.

``abm/data/ics_england.csv`` holds one row per ICS (integrated care board, as
the map stood in mid-2025): codes, name, region, population (Census 2021),
the upper-tier councils, counts of acute, mental-health and community trusts,
the ambulance trust, first-wave status, deprivation (IMD 2025) and notes that
name the trusts serving more than one ICS. ``abm/data/ics_trusts.csv`` lists
the 205 trusts by ODS code, kind and the ICS they are counted in.
``abm/data/SOURCES.md`` gives the sources and the uncertain cells.

How the data become ``ICSConfig`` and ``SharedBody`` entries (``configs_for``):

- acute, mental-health and community trusts: the counts of each ICS;
- a mental-health or community trust that the notes name as serving other
  ICSs ("Cross-boundary trusts counted here: ... [CODE] also partner of
  QAB/QCD") is one ``SharedBody`` tied into each ICS it serves, home first;
  cross-boundary *acute* trusts stay in their home ICS only (an acute trust
  serves named places of its ICS; a shared one would serve every place);
- ambulance trusts: one ``SharedBody`` per trust (``ambulance_trust``
  column) over the ICSs it serves, its home the ICS NHS England apportions
  it to;
- councils: one per upper-tier council, each its own named place;
  Healthwatch: one per council (as in law: one local Healthwatch per
  upper-tier council);
- bodies the data do not give scale with population (assumption):
  ``n_primary_care`` and ``n_vcse`` are read as counts for an ICS of mean
  size (England / 42 = 1.345 m people), so the defaults give one primary
  care network per ~45,000 people (about 1,250 in England, NHS England's
  figure) and 7.4 VCSE providers per million people; at least one of each
  when the parameter is above zero;
- one ICB and one VCSE alliance per ICS;
- deprivation: the ICS's IMD 2025 average score over the population-weighted
  England mean, less one (0 = as deprived as England; Birmingham and
  Solihull +0.59, Surrey Heartlands -0.52);
- first wave: the ``first_wave`` column (the ten systems of June 2017).

A model of a few ICSs (``ics=...``) keeps every trust that serves them: the
shared trusts are tied into the chosen ICSs only, and one based elsewhere
takes the first chosen ICS it serves as its home.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .structure import ICSConfig, SharedBody, stylised_configs

DATA_DIR = Path(__file__).resolve().parent / "data"
ICS_FILE = DATA_DIR / "ics_england.csv"
TRUST_FILE = DATA_DIR / "ics_trusts.csv"
TRUST_KINDS = ("acute", "mental_health", "community", "ambulance")
SHARED_KINDS = ("mental_health", "community")   # cross-boundary kinds tied into each ICS they serve
ALLOWED = "an ICS name, its ONS (E54...) or ODS (Q..) code, an NHS region, or a list of them"
_CROSS = re.compile(r"\[(\w+)\] also partner of ([\w/]+)")


@dataclass(frozen=True)
class ICSRecord:
    """One ICS as the data give it."""

    code: str                 # ONS code (E54...)
    ods: str                  # ODS code (Q..)
    name: str
    region: str
    population: int
    councils: tuple[str, ...]
    trusts: dict[str, int]    # counted here, by kind (ambulance: apportioned here)
    ambulance_trust: str
    first_wave: bool
    imd: float                # IMD 2025 average score
    cross_boundary: tuple[tuple[str, tuple[str, ...]], ...]   # (trust code, other ICSs' ODS codes)


@lru_cache(maxsize=1)
def records() -> tuple[ICSRecord, ...]:
    """The 42 ICSs, in the order of the data file."""
    out = []
    with open(ICS_FILE, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            councils = tuple(c.strip() for c in row["upper_tier_councils"].split(";"))
            if len(councils) != int(row["n_upper_tier_councils"]):
                raise ValueError(f"{ICS_FILE.name}: {row['ics_name']}: council list and count differ")
            cross = []
            for part in row["notes"].split(" | "):
                if part.startswith("Cross-boundary trusts counted here:"):
                    cross += [(code, tuple(others.split("/"))) for code, others in _CROSS.findall(part)]
            out.append(ICSRecord(
                code=row["ics_code"], ods=row["ics_ods_code"], name=row["ics_name"], region=row["nhs_region"],
                population=int(row["population"]), councils=councils,
                trusts={"acute": int(row["n_acute_trusts"]), "mental_health": int(row["n_mental_health_trusts"]),
                        "community": int(row["n_community_trusts"]),
                        "ambulance": int(row["n_ambulance_trusts_apportioned"])},
                ambulance_trust=row["ambulance_trust"], first_wave=row["first_wave"].strip().lower() == "true",
                imd=float(row["imd2025_avg_score"]), cross_boundary=tuple(cross)))
    return tuple(out)


@lru_cache(maxsize=1)
def trusts() -> dict[str, tuple[str, str]]:
    """Every trust: ODS code -> (kind, ODS code of the ICS it is counted in)."""
    with open(TRUST_FILE, newline="", encoding="utf-8") as fh:
        return {row["trust_code"]: (row["kind"], row["ics_ods_code"]) for row in csv.DictReader(fh)}


def england_population() -> int:
    return sum(r.population for r in records())


def england_imd() -> float:
    """Population-weighted mean IMD 2025 average score of England's ICSs."""
    recs = records()
    return sum(r.imd * r.population for r in recs) / england_population()


# ---------------------------------------------------------------------- names
def _keys() -> dict[str, int]:
    keys = {}
    for i, r in enumerate(records()):
        for key in (r.name, r.code, r.ods):
            keys[key.casefold()] = i
    return keys


def find(name: str) -> int:
    """Index (in ``records()``) of the ICS with this name, ONS code or ODS code (any case).

    A misspelt name or code raises ValueError naming the closest ICS.
    """
    text = str(name).strip()
    keys = _keys()
    if text.casefold() in keys:
        return keys[text.casefold()]
    recs = records()
    folded = {n.casefold(): n for r in recs for n in (r.name, r.region)}
    codes = {c: f"{c} ({r.name})" for r in recs for c in (r.ods, r.code)}
    close = [folded[c] for c in difflib.get_close_matches(text.casefold(), list(folded), n=1, cutoff=0.6)]
    if not close:
        close = [codes[c] for c in difflib.get_close_matches(text.upper(), list(codes), n=1, cutoff=0.6)]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown ICS {text!r}{hint} (names: abm.england.names(); "
                     "codes: ONS E54..., ODS Q..; regions: abm.england.regions())")


def regions() -> list[str]:
    """The seven NHS England regions (``ics="London"`` builds the ICSs of a region)."""
    return list(dict.fromkeys(r.region for r in records()))


def names() -> list[str]:
    """The 42 ICS names, in the order of the data file."""
    return [r.name for r in records()]


def _split(ics) -> list[str]:
    if isinstance(ics, str):
        return [s for s in (part.strip() for part in ics.split(";")) if s]
    if isinstance(ics, (list, tuple)):
        if all(isinstance(s, str) for s in ics):
            return [s.strip() for s in ics]
    raise ValueError(f"allowed: {ALLOWED}")


def select(ics) -> list[int]:
    """Indices of the ICSs named by ``ics``: a name, code or NHS region, a list of them, or ``"A; B"``; order kept."""
    chosen: list[int] = []
    by_region = {r.region.casefold(): r.region for r in records()}
    for part in _split(ics):
        if part.casefold() in by_region:
            found = [i for i, r in enumerate(records()) if r.region == by_region[part.casefold()]]
        else:
            found = [find(part)]
        chosen += [i for i in found if i not in chosen]
    if not chosen:
        raise ValueError(f"names no ICS; allowed: {ALLOWED}")
    return chosen


def canonical(ics) -> str | None:
    """The checked value of the ``ics`` parameter: the names joined by ``"; "`` (None stays None)."""
    if ics is None:
        return None
    return "; ".join(records()[i].name for i in select(ics))


# ---------------------------------------------------------------------- configs
def configs_for(ics=None, england: bool = False, *, n_primary_care: int = 30, n_vcse: int = 10
                ) -> tuple[list[ICSConfig], list[SharedBody]]:
    """The ICSs named by ``ics`` (or all 42 with ``england=True``) as configs and shared trusts.

    ``n_primary_care`` and ``n_vcse`` are counts for an ICS of mean population;
    each ICS gets them in proportion to its population (module docstring).
    """
    recs = records()
    if england and ics is not None:
        raise ValueError("give either ics=... (some ICSs) or england=True (all 42), not both")
    if not england and ics is None:
        raise ValueError("configs_for needs ics=... or england=True")
    chosen = list(range(len(recs))) if england else select(ics)
    pos = {recs[i].ods: k for k, i in enumerate(chosen)}
    trust_of = trusts()
    mean_pop = england_population() / len(recs)
    imd_mean = england_imd()

    shared: list[SharedBody] = []
    moved = {k: dict.fromkeys(SHARED_KINDS, 0) for k in range(len(chosen))}  # shared trusts homed in k
    # ambulance trusts, home first (the ICS they are apportioned to, when chosen)
    for trust in dict.fromkeys(recs[i].ambulance_trust for i in chosen):
        served = [k for k, i in enumerate(chosen) if recs[i].ambulance_trust == trust]
        home = [k for k in served if recs[chosen[k]].trusts["ambulance"] > 0]
        served = home[:1] + [k for k in served if k not in home[:1]]
        shared.append(SharedBody("ambulance", tuple(served)))
    # cross-boundary mental-health and community trusts
    for r in recs:
        for code, others in r.cross_boundary:
            kind, counted_in = trust_of[code]
            if counted_in != r.ods:
                raise ValueError(f"{TRUST_FILE.name}: {code} is counted in {counted_in}, the notes say {r.ods}")
            if kind not in SHARED_KINDS:
                continue
            served = [pos[o] for o in (r.ods, *others) if o in pos]
            if not served:
                continue
            shared.append(SharedBody(kind, tuple(served)))
            if r.ods in pos:
                moved[pos[r.ods]][kind] += 1

    configs = []
    for k, i in enumerate(chosen):
        r = recs[i]
        scale = r.population / mean_pop
        counts = {
            "icb": 1,
            "acute": r.trusts["acute"],
            "mental_health": r.trusts["mental_health"] - moved[k]["mental_health"],
            "community": r.trusts["community"] - moved[k]["community"],
            "local_authority": len(r.councils),
            "vcse_alliance": 1,
            "primary_care": _scaled(n_primary_care, scale),
            "vcse": _scaled(n_vcse, scale),
            "healthwatch": len(r.councils),
        }
        configs.append(ICSConfig(r.name, float(r.population), counts, len(r.councils),
                                 first_wave=r.first_wave, deprivation=r.imd / imd_mean - 1.0))
    return configs, shared


def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale)) if count > 0 else 0


def structure_configs(p: dict) -> tuple[list[ICSConfig], list[SharedBody]]:
    """The model's ICSs: real ones when ``ics`` or ``england`` is set, else the stylised ``n_systems``."""
    if p.get("ics") is None and not p.get("england"):
        return stylised_configs(p)
    return configs_for(p.get("ics"), bool(p.get("england")),
                       n_primary_care=p["n_primary_care"], n_vcse=p["n_vcse"])


def place_names(p: dict) -> list[str]:
    """The name of every place of a model built from ``p`` (its council for a real ICS), in place order."""
    if p.get("ics") is None and not p.get("england"):
        configs, _ = stylised_configs(p)
        return [f"{c.name} place {j + 1}" for c in configs for j in range(c.n_places)]
    recs = records()
    chosen = list(range(len(recs))) if p.get("england") else select(p["ics"])
    return [council for i in chosen for council in recs[i].councils]


def ics_codes(model) -> list[str]:
    """ODS codes of the model's ICSs ('' for a stylised one)."""
    keys = _keys()
    return [records()[keys[n.casefold()]].ods if n.casefold() in keys else "" for n in model.ics_names]
