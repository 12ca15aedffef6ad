"""Experiment files: read a TOML experiment file and check every key.

An experiment file says which model parameters are fixed, which factors vary
and how (the design), how many replicates each design point gets, the root
seed, how long each run lasts, any scheduled regime changes or structural
events, and which extra tables to store. Everything is checked here, before
anything is run or written, against the model's one parameter table
(``abm.parameters.PARAMETERS``); an error names the file, the key, the value
and what is allowed.

Format (see the files shipped beside this module)::

    [experiment]
    name = "oversight-sweep"
    months = 120
    replicates = 20
    seed = 1                      # root seed
    design = "full_factorial"     # or "latin_hypercube", "sobol", "morris"
    samples = 64                  # for sampled designs

    [parameters]                  # fixed model parameters
    n_vcse = 10

    [factors]                     # lists of values, or {low = .., high = ..}
    regime = ["top_down", "permissive"]
    oversight_intensity = [0.2, 0.5, 0.8]

    [regimes.cautious]            # optional: a named regime = a preset with knobs changed;
    base = "permissive"           # usable wherever a regime name is (factors, parameters,
    oversight_intensity = 0.5     # schedules)

    [[schedule]]                  # optional: change the regime during the run
    month = 36
    regime = "top_down"

    [[schedule]]                  # or a structural event (abm.events)
    month = 48
    event = "demand_shock"
    size = 0.3

    [schedules]                   # or: named alternative schedules, compared
    baseline = []                 # as the factor "schedule"
    episode = [{month = 36, regime = "top_down"}, {month = 72, regime = "permissive"}]

    [output]                      # optional extra tables
    agents = false                # organisation-level table
    ties = false                  # tie-level table
    ics = false                   # per-ICS table (one row per ICS)
    every = 12                    # months between snapshots of those tables
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abm.events import EVENT_OPTIONS
from abm.parameters import PARAMETERS, REGIME_KNOBS, suggest

DESIGNS = ("full_factorial", "latin_hypercube", "sobol", "morris")
SAMPLED_DESIGNS = ("latin_hypercube", "sobol", "morris")

# Parameters an experiment may not set: the seed comes from the root seed,
# and the stored tables from [output].
RESERVED = {
    "rng": "each run's seed is derived from [experiment] seed",
    "collect_agents": "use [output] agents = true",
    "collect_ties": "use [output] ties = true",
    "collect_ics": "use [output] ics = true",
}
SETTABLE = tuple(name for name in PARAMETERS if name not in RESERVED)

# An experiment's name becomes the folder results/<name>: it must stay one
# plain file name (no path, no shell metacharacters, no leading dot).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
NAME_RULE = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"

EXPERIMENT_KEYS = {
    "name": "a short name: " + NAME_RULE,
    "description": "free text",
    "months": "a whole number of months, 1-600",
    "replicates": "a whole number of replicates per design point, 1-10000",
    "seed": "the root seed, a whole number >= 0",
    "design": "one of " + ", ".join(DESIGNS),
    "samples": "a whole number of samples for sampled designs",
    "levels": "number of grid levels for the Morris design (even, 4 by default)",
    "uncertainty": '"seeds" (default) or "posterior": replicate r also draws its parameters from the calibration '
                   'posterior, the same draw in every design point (experiments/uncertainty.py)',
}
OUTPUT_KEYS = {"agents": "true or false", "ties": "true or false", "ics": "true or false",
               "every": "months between snapshots, >= 1"}
SECTIONS = ("experiment", "parameters", "factors", "regimes", "schedule", "schedules", "output")


class ExperimentError(ValueError):
    """A problem in an experiment file; the message names file, key and what is allowed."""


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a list of ``values``, or a ``low``-``high`` range."""

    name: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None


@dataclass
class Experiment:
    """A checked experiment: what to run, how often, for how long."""

    name: str
    months: int
    replicates: int
    seed: int
    design: str
    parameters: dict[str, Any]
    factors: dict[str, Factor]
    schedules: dict[str, list[dict]]        # name -> events; {"": [...]} when there is one schedule
    samples: int | None = None
    levels: int = 4
    description: str = ""
    agents: bool = False
    ties: bool = False
    ics: bool = False
    every: int = 12
    uncertainty: str = "seeds"              # or "posterior" (experiments/uncertainty.py)
    source: str = "<text>"
    text: str = ""
    extra: dict = field(default_factory=dict)
    regimes: dict[str, dict] = field(default_factory=dict)   # named regime -> {"base": preset, knob: value}

    def model_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Parameter values as the model takes them: a named regime becomes its preset and knobs."""
        custom = self.regimes.get(values.get("regime"))
        if custom is None:
            return dict(values)
        return {**values, "regime": custom["base"], **{k: v for k, v in custom.items() if k != "base"}}

    @property
    def schedule_is_factor(self) -> bool:
        return len(self.schedules) > 1 or "" not in self.schedules

    @property
    def categorical(self) -> list[str]:
        """Names of the factors that take named values (regime, schedule, choices)."""
        names = [n for n, f in self.factors.items() if PARAMETERS[n].kind in ("choice", "ics")]
        if self.schedule_is_factor:
            names.append("schedule")
        return names


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file; raise ExperimentError on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such experiment file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"{path}: cannot read the experiment file ({exc})") from None
    return parse_experiment(text, source=str(path))


def parse_experiment(text: str, source: str = "<text>") -> Experiment:
    """Check the TOML ``text`` of an experiment; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ExperimentError(f"{source}: not valid TOML: arrays or tables nested too deeply") from None
    return _Checker(source, text).check(data)


class _Checker:
    def __init__(self, source: str, text: str):
        self.source = source
        self.text = text

    def fail(self, key: str, message: str) -> None:
        raise ExperimentError(f"{self.source}: {key}: {message}")

    # ---------------------------------------------------------------- helpers
    def table(self, data: dict, name: str, required: bool = False) -> dict:
        value = data.get(name, {} if not required else None)
        if value is None:
            self.fail(f"[{name}]", "this section is required")
        if not isinstance(value, dict):
            self.fail(f"[{name}]", f"must be a table (a [{name}] section), got {value!r}")
        return value

    def whole(self, key: str, value: Any, low: int, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            allowed = f"a whole number >= {low}" if high is None else f"a whole number in [{low}, {high}]"
            self.fail(key, f"got {value!r}; allowed: {allowed}")
        return value

    def parameter_name(self, key: str, name: str, what: str) -> str:
        if name in RESERVED:
            self.fail(key, f"{name!r} cannot be set here: {RESERVED[name]}")
        if name not in PARAMETERS:
            hint = suggest(name, SETTABLE + (("schedule",) if what == "factor" else ()))
            self.fail(key, f"unknown {what} {name!r}{hint} (allowed: the model parameters listed by "
                           "`python -m abm.parameters`)")
        return name

    def value(self, key: str, name: str, value: Any) -> Any:
        if name == "regime" and isinstance(value, str) and value in getattr(self, "custom", {}):
            return value
        try:
            return PARAMETERS[name].validate(value)
        except ValueError as exc:
            if PARAMETERS[name].kind == "ics":   # a misspelt ICS: say which one was meant
                self.fail(key, str(exc).split(": ", 1)[-1])
            self.fail(key, f"got {value!r}; allowed: {PARAMETERS[name].allowed()}")

    # ---------------------------------------------------------------- check
    def check(self, data: dict) -> Experiment:
        for section in data:
            if section not in SECTIONS:
                self.fail(f"[{section}]", f"unknown section{suggest(section, SECTIONS)}; "
                                          f"allowed: {', '.join('[' + s + ']' for s in SECTIONS)}")
        exp = self.table(data, "experiment", required=True)
        for key in exp:
            if key not in EXPERIMENT_KEYS:
                self.fail(f"experiment.{key}", f"unknown key{suggest(key, EXPERIMENT_KEYS)}; "
                                               f"allowed: {', '.join(EXPERIMENT_KEYS)}")
        name = exp.get("name")
        if name is None:   # the file's name, made safe: "my sweep.toml" -> "my-sweep"
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(self.source).stem).strip("._-")[:100] or "experiment"
        if not isinstance(name, str) or not SAFE_NAME.fullmatch(name.strip()):
            self.fail("experiment.name", f"got {name!r}; allowed: {NAME_RULE} (it names the results folder)")
        description = exp.get("description", "")
        if not isinstance(description, str):
            self.fail("experiment.description", f"got {description!r}; allowed: a string")
        months = self.whole("experiment.months", exp.get("months", 120), 1, 600)
        replicates = self.whole("experiment.replicates", exp.get("replicates", 10), 1, 10000)
        seed = self.whole("experiment.seed", exp.get("seed", 1), 0)
        design = exp.get("design", "full_factorial")
        if design not in DESIGNS:
            hint = suggest(str(design), DESIGNS)
            self.fail("experiment.design", f"unknown design {design!r}{hint}; allowed: {', '.join(DESIGNS)}")
        samples = exp.get("samples")
        if design in SAMPLED_DESIGNS:
            samples = self.whole("experiment.samples", 16 if samples is None else samples, 1, 100000)
            if design == "sobol" and samples & (samples - 1):
                self.fail("experiment.samples", f"got {samples}; the sobol design needs a power of 2 (e.g. 16, 32, 64)")
        elif samples is not None:
            self.fail("experiment.samples", f"only used by the sampled designs ({', '.join(SAMPLED_DESIGNS)}); "
                                            "remove it or change experiment.design")
        levels = self.whole("experiment.levels", exp.get("levels", 4), 2, 20)
        if levels % 2:
            self.fail("experiment.levels", f"got {levels}; allowed: an even whole number (Morris grid levels)")

        uncertainty = exp.get("uncertainty", "seeds")
        self.check_uncertainty(uncertainty)

        self.custom = self.check_regimes(self.table(data, "regimes"))
        parameters = {}
        for pname, value in self.table(data, "parameters").items():
            key = f"parameters.{pname}"
            self.parameter_name(key, pname, "parameter")
            parameters[pname] = self.value(key, pname, value)

        schedules = self.check_schedules(data, months)
        factors = self.check_factors(self.table(data, "factors"), design, parameters, schedules)

        self.check_event_targets(schedules, parameters, factors)
        used = set(factors["regime"].values) if "regime" in factors else {parameters.get("regime")}
        for rname in used & set(self.custom):
            for knob in self.custom[rname]:
                if knob in parameters or knob in factors:
                    self.fail(f"regimes.{rname}.{knob}", f"{knob!r} is also set in "
                              f"[{'parameters' if knob in parameters else 'factors'}]; keep it in one place")

        out = self.table(data, "output")
        for key in out:
            if key not in OUTPUT_KEYS:
                self.fail(f"output.{key}", f"unknown key{suggest(key, OUTPUT_KEYS)}; allowed: {', '.join(OUTPUT_KEYS)}")
        flags = {}
        for key in ("agents", "ties", "ics"):
            flags[key] = out.get(key, False)
            if not isinstance(flags[key], bool):
                self.fail(f"output.{key}", f"got {flags[key]!r}; allowed: true or false")
        every = self.whole("output.every", out.get("every", 12), 1, 600)

        return Experiment(
            name=name.strip(), months=months, replicates=replicates, seed=seed, design=design,
            parameters=parameters, factors=factors, schedules=schedules, samples=samples,
            levels=levels, description=description, agents=flags["agents"], ties=flags["ties"],
            ics=flags["ics"], every=every, source=self.source, text=self.text, uncertainty=uncertainty,
            regimes=self.custom,
        )

    def check_uncertainty(self, value: Any) -> None:
        from abm import posterior

        from .uncertainty import UNCERTAINTY

        if value not in UNCERTAINTY:
            self.fail("experiment.uncertainty", f"got {value!r}; allowed: {', '.join(repr(u) for u in UNCERTAINTY)}")
        if value == "posterior" and not posterior.available():
            self.fail("experiment.uncertainty", "'posterior' needs a calibration posterior in abm/data/posterior; "
                                                "run `ics-abm calibrate` first, or use 'seeds'")

    def check_regimes(self, table: dict) -> dict[str, dict]:
        """Named regimes: a preset (``base``) with some knobs changed."""
        from abm.parameters import REGIME_NAMES

        out = {}
        for rname, spec in table.items():
            key = f"regimes.{rname}"
            if rname in REGIME_NAMES:
                self.fail(key, f"{rname!r} is a built-in preset; give the named regime another name")
            if not isinstance(spec, dict):
                self.fail(key, f"got {spec!r}; allowed: a table like [regimes.{rname}] with base = \"permissive\" "
                               "and knob values")
            base = spec.get("base", "permissive")
            if base not in REGIME_NAMES:
                self.fail(f"{key}.base", f"got {base!r}; allowed: one of {', '.join(map(repr, REGIME_NAMES))}")
            entry = {"base": base}
            for knob, value in spec.items():
                if knob == "base":
                    continue
                if knob not in REGIME_KNOBS:
                    self.fail(f"{key}.{knob}", f"unknown key{suggest(knob, ('base',) + REGIME_KNOBS)}; "
                                               f"allowed: base, {', '.join(REGIME_KNOBS)}")
                entry[knob] = self.value(f"{key}.{knob}", knob, value)
            out[rname] = entry
        return out

    def check_factors(self, table: dict, design: str, parameters: dict, schedules: dict) -> dict[str, Factor]:
        factors: dict[str, Factor] = {}
        for fname, spec in table.items():
            key = f"factors.{fname}"
            if fname == "schedule":
                self.fail(key, "list the alternative schedules in a [schedules] section instead; "
                               "each name there becomes a value of the factor 'schedule'")
            self.parameter_name(key, fname, "factor")
            if fname in parameters:
                self.fail(key, f"{fname!r} is also fixed in [parameters]; keep it in one place")
            param = PARAMETERS[fname]
            if isinstance(spec, list):
                if not spec:
                    self.fail(key, "the list of values is empty; give at least one value")
                values = tuple(self.value(f"{key}[{i}]", fname, v) for i, v in enumerate(spec))
                if len(set(values)) != len(values):
                    self.fail(key, f"values repeat in {spec!r}; give each value once")
                if design in ("sobol", "morris"):
                    self.fail(key, f"the {design} design needs a range for every factor, "
                                   f"e.g. {fname} = {{low = .., high = ..}}; a list of values is not allowed")
                factors[fname] = Factor(fname, values=values)
            elif isinstance(spec, dict):
                for k in spec:
                    if k not in ("low", "high"):
                        self.fail(f"{key}.{k}", "unknown key; allowed: low, high")
                if param.kind not in ("int", "float"):
                    self.fail(key, f"{fname!r} takes named values, so give a list: {param.allowed()}")
                if "low" not in spec or "high" not in spec:
                    self.fail(key, "a range needs both low and high, e.g. {low = 0.2, high = 0.8}")
                low = self.value(f"{key}.low", fname, spec["low"])
                high = self.value(f"{key}.high", fname, spec["high"])
                if low is None or high is None or not low < high:
                    self.fail(key, f"low ({spec['low']!r}) must be below high ({spec['high']!r})")
                if design == "full_factorial":
                    self.fail(key, "the full_factorial design needs a list of values; ranges "
                                   f"{{low, high}} are for the sampled designs ({', '.join(SAMPLED_DESIGNS)})")
                factors[fname] = Factor(fname, low=low, high=high)
            else:
                self.fail(key, f"got {spec!r}; allowed: a list of values, or {{low = .., high = ..}} for sampled designs")
        if design in SAMPLED_DESIGNS and not any(f.is_range for f in factors.values()):
            self.fail("[factors]", f"the {design} design needs at least one factor with a range {{low = .., high = ..}}")
        if design in ("sobol", "morris") and len(schedules) > 1:
            self.fail("[schedules]", f"the {design} design varies numeric factors only; use one [[schedule]]")
        return factors

    def check_schedules(self, data: dict, months: int) -> dict[str, list[dict]]:
        if "schedule" in data and "schedules" in data:
            self.fail("[[schedule]]", "give either one [[schedule]] or named [schedules], not both")
        if "schedules" in data:
            named = self.table(data, "schedules")
            if not named:
                self.fail("[schedules]", "empty; name at least one schedule, e.g. baseline = []")
            out = {}
            for sname, events in named.items():
                if not isinstance(events, list):
                    self.fail(f"schedules.{sname}", f"got {events!r}; allowed: a list of events like "
                                                    "[{month = 36, regime = \"top_down\"}]")
                out[sname] = [self.event(f"schedules.{sname}[{i}]", e, months) for i, e in enumerate(events)]
            return out
        events = data.get("schedule", [])
        if not isinstance(events, list):
            self.fail("[[schedule]]", "must be an array of tables: write [[schedule]] (double brackets)")
        return {"": [self.event(f"schedule[{i}]", e, months) for i, e in enumerate(events)]}

    def event(self, key: str, entry: Any, months: int) -> dict:
        """One scheduled change, as {"month", "kind", "options"}."""
        if not isinstance(entry, dict):
            self.fail(key, f"got {entry!r}; allowed: a table with month and regime (or event)")
        entry = dict(entry)
        if "month" not in entry:
            self.fail(key, "needs a month, e.g. month = 36")
        month = self.whole(f"{key}.month", entry.pop("month"), 0, months)
        if "event" in entry:
            kind = entry.pop("event")
            if kind not in EVENT_OPTIONS or kind == "regime":
                allowed = [k for k in EVENT_OPTIONS if k != "regime"]
                hint = suggest(str(kind), allowed)
                self.fail(f"{key}.event", f"unknown event {kind!r}{hint}; allowed: {', '.join(allowed)} "
                                          "(for a regime change write regime = \"...\" without event)")
            allowed = EVENT_OPTIONS[kind]
            for opt, value in entry.items():
                if opt not in allowed:
                    self.fail(f"{key}.{opt}", f"event {kind!r} has no option {opt!r}{suggest(opt, allowed)}; "
                                              f"allowed: {', '.join(allowed)}")
            self._check_event_values(key, kind, entry)
            return {"month": month, "kind": kind, "options": entry}
        options = {}
        if "regime" in entry:
            options["regime"] = self.value(f"{key}.regime", "regime", entry.pop("regime"))
            custom = getattr(self, "custom", {}).get(options["regime"])
            if custom is not None:   # a named regime: its preset and knobs
                options = {"regime": custom["base"], **{k: v for k, v in custom.items() if k != "base"}}
        for knob, value in entry.items():
            if knob not in REGIME_KNOBS:
                hint = suggest(knob, ("regime", "event") + REGIME_KNOBS)
                self.fail(f"{key}.{knob}", f"unknown key{hint}; allowed: month, regime, event, {', '.join(REGIME_KNOBS)}")
            options[knob] = self.value(f"{key}.{knob}", knob, value)
        if not options:
            self.fail(key, "says nothing to change: give regime = \"...\", a regime knob, or event = \"...\"")
        return {"month": month, "kind": "regime", "options": options}

    def check_event_targets(self, schedules: dict, parameters: dict, factors: dict[str, Factor]) -> None:
        """Events must name an organisation kind that exists and an ICS within n_systems."""
        if "n_systems" in factors:
            f = factors["n_systems"]
            n_systems = int(f.high) if f.is_range else max(f.values)
        else:
            n_systems = parameters.get("n_systems", PARAMETERS["n_systems"].default)
        if parameters.get("england"):
            n_systems = 42
        elif parameters.get("ics"):
            n_systems = parameters["ics"].count(";") + 1
        for sname, events in schedules.items():
            for i, event in enumerate(events):
                key = f"schedules.{sname}[{i}]" if sname else f"schedule[{i}]"
                if event["kind"] != "regime":
                    self._check_event_values(key, event["kind"], event["options"], n_systems)

    def _check_event_values(self, key: str, kind: str, options: dict, n_systems: int | None = None) -> None:
        """The model's own event check (abm.events.check_event), with the failing key named."""
        from abm.events import EventOptionError, check_event

        try:
            check_event(kind, 0, options, n_systems)
        except EventOptionError as exc:
            self.fail(f"{key}.{exc.option}", str(exc))
        except (TypeError, ValueError) as exc:
            self.fail(key, str(exc))


def to_toml_list(values) -> str:
    """Format a list of strings or numbers as TOML."""
    return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else repr(v) for v in values) + "]"


# ---------------------------------------------------------------- command-line overrides
def parse_setting(text: str) -> tuple[str, Any]:
    """``name=value`` from ``--set``: the value is read as TOML (numbers, true/false,
    quoted strings), and as a bare string otherwise (``regime=top_down``)."""
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise ExperimentError(f"--set {text!r}: expected name=value, e.g. --set pressure=0.7")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return name, value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(data: dict, header: str = "") -> str:
    """Write an experiment's TOML data back as text (root keys first, then sections)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def with_overrides(exp: Experiment, settings: list[str] = (), replicates: int | None = None,
                   months: int | None = None) -> Experiment:
    """``exp`` with fixed parameters, replicates or months changed from the command line.

    The result is written back as an experiment file (stored as
    experiment.toml), so the run can be repeated without the command line,
    and checked exactly like a file: a bad value is a one-line error.
    """
    if not settings and replicates is None and months is None:
        return exp
    data = tomllib.loads(exp.text)
    said = []
    for text in settings:
        name, value = parse_setting(text)
        if name in data.get("factors", {}):
            raise ExperimentError(f"--set {text}: {name!r} is a factor of {exp.source} (it varies); "
                                  "--set fixes a parameter that is not varied")
        data.setdefault("parameters", {})[name] = value
        said.append(f"--set {name}={_toml_value(value)}")
    if replicates is not None:
        data.setdefault("experiment", {})["replicates"] = replicates
        said.append(f"--replicates {replicates}")
    if months is not None:
        data.setdefault("experiment", {})["months"] = months
        said.append(f"--months {months}")
    header = f"{exp.source}, with {' '.join(said)}"
    return parse_experiment(dump_toml(data, header=f"Experiment file {header}"), source=header)
