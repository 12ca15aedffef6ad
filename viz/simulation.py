"""One browser tab's simulation: the model, the settings for the next Reset, the history.

The browser view's components only read this object and call its methods;
it holds no widgets, so it is tested without a browser. Every method that
changes the model takes a lock, because Play steps the model from a thread
while a trainer may click a button.

Reading is as careful as writing: while Play steps the model, the page draws
from another thread, and the live model and its history lists change under a
reader's feet (a table built from lists of different lengths, a picture mixing
two months or two models). So every change ends by publishing a ``Snapshot``
(copies, made under the lock); the page and every reader here read only the
latest snapshot, never the live model.

Settings take effect in two ways, as in NetLogo:
- the regime preset and its knobs act on the running model at once
  (``change_regime``, ``change_knob``) and are marked on the time series;
- initial trust, pressure, organisation counts and the seed build a new model
  on Reset. A bad setting never loses the running model: Reset reports the
  problem and keeps the old one.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from abm import ICSModel, PARAMETERS, REGIMES, england, validate_parameters
from abm.metrics import trust_by_organisation
from abm.network import LEVELS
from abm.regimes import Regime

from .charts import Mark, group_of
from .layout import Layout, layout_for
from .network_data import network_states, network_structure

# Controls shown in the view, in order. Ranges, defaults and meanings come from
# abm.parameters.PARAMETERS; only the short labels below are the view's own.
LIVE_KNOBS = ("oversight_intensity", "system_focus")
START_PARAMETERS = ("initial_trust", "pressure")
COUNT_PARAMETERS = ("n_systems", "n_acute", "n_mental_health", "n_community",
                    "n_local_authorities", "n_vcse", "n_primary_care")
LABELS = {
    "regime": "Accountability regime",
    "oversight_intensity": "Oversight intensity",
    "system_focus": "Focus on system outcomes",
    "initial_trust": "Initial trust",
    "pressure": "Pressure (demand vs. money and staff)",
    "n_systems": "ICSs",
    "n_acute": "Acute trusts per ICS",
    "n_mental_health": "Mental-health trusts per ICS",
    "n_community": "Community trusts per ICS",
    "n_local_authorities": "Councils (places) per ICS",
    "n_vcse": "VCSE providers per ICS",
    "n_primary_care": "Primary care networks per ICS",
    "rng": "Seed",
    "ics": "ICS",
}
STYLISED = "A stylised ICS (the default)"

EVENTS = {
    "winter": ("Winter pressure shock", "demand_shock", {"size": 0.3}),
    "merger": ("Merge two acute trusts", "merger", {"kind": "acute", "system": 0}),
    "budget_cut": ("Council budget cut (10%)", "budget_cut", {"share": 0.1}),
}

# Short labels for the event marks on the charts.
EVENT_MARKS = {"winter": "Winter shock", "merger": "Merger", "budget_cut": "Council cut"}

DEFAULT_SEED = "42"
# The browser draws every organisation and tie each month; beyond this the page
# becomes too slow to use in a room (the command line has no such limit).
MAX_ORGANISATIONS = 5000


def estimated_organisations(settings: dict) -> int:
    """About how many organisations a model with these counts has (an upper bound)."""
    per_ics = (1 + settings["n_acute"] + settings["n_community"] + settings["n_mental_health"] + 1
               + 2 * settings["n_local_authorities"] + 1 + settings["n_vcse"] + settings["n_primary_care"])
    return int(settings["n_systems"]) * int(per_ics)


def label(name: str) -> str:
    """Short control label for a parameter."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


def regime_title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def ics_choices() -> list[tuple[str, str | None]]:
    """(text, value) of every ICS a trainer can build: the stylised default, then England's 42 by name."""
    return [(STYLISED, None), *((name, name) for name in england.names())]


def is_custom(regime: Regime) -> bool:
    """Whether the regime's knobs differ from its preset's (a slider has moved them)."""
    return regime.name not in REGIMES or regime.knobs() != REGIMES[regime.name].knobs()


def parse_seed(text: Any) -> int:
    """A seed typed by a user, as a whole number; ValueError with a plain message otherwise.

    Blank text draws a fresh random seed (shown back to the user so the run can
    be repeated).
    """
    raw = "" if text is None else str(text).strip()
    if raw == "":
        return random.SystemRandom().randrange(0, 10**6)
    if not (raw.isascii() and raw.isdigit()):
        shown = raw if len(raw) <= 30 else raw[:27] + "..."
        raise ValueError(f"The seed must be a whole number such as 42 (got {shown!r}).")
    if len(raw) > 18:
        raise ValueError("The seed is too long: use at most 18 digits.")
    return PARAMETERS["rng"].validate(int(raw))


@dataclass
class ResetResult:
    ok: bool
    message: str


# The figures of an organisation that the view's card shows, in this order.
CARD_FIGURES = ("turf", "pressure", "trust_given", "trust_received", "true_performance",
                "reported_performance", "voice", "budget")


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything the view shows of one moment of the simulation, copied under the lock.

    Built by ``Simulation`` after every change and never changed afterwards, so
    a page drawing from one snapshot shows one month of one model however fast
    Play steps (issue 7). Treat the tables and dicts as read-only: they are
    shared by every reader of the snapshot. Compared by identity (``eq=False``):
    a component given a new snapshot re-draws.
    """

    run_id: int
    version: int
    month: int
    regime: Regime
    settings: Mapping[str, Any]
    seed_text: str
    history: pd.DataFrame        # model metrics, one row per month
    kind_history: pd.DataFrame   # mean trust given and turf, indexed by (month, kind)
    group_history: pd.DataFrame  # the same by group of kinds (viz.charts.GROUPS), indexed by (month, group)
    marks: tuple[Mark, ...]      # regime changes, then events
    colours: Mapping[str, str]   # kind -> colour
    labels: Mapping[str, str]    # kind -> label
    layout: Layout
    structure: dict              # viz.network_data.network_structure (the same for a whole run)
    network: Mapping[str, dict]  # viz.network_data.network_state for each way of sizing the circles
    organisations: pd.DataFrame  # one row per organisation: name, kind, active, card figures, ties by level

    def organisation_details(self, index: int) -> dict[str, Any]:
        """What the view shows about one organisation (IndexError for a row that does not exist)."""
        if not 0 <= index < len(self.organisations):
            raise IndexError(f"no organisation {index}: there are {len(self.organisations)}")
        row = self.organisations.iloc[index]
        levels = [int(row[f"level_{k}"]) for k in range(len(LEVELS))]
        return {
            "name": row["name"], "kind": row["kind"], "active": bool(row["active"]),
            **{name: float(row[name]) for name in CARD_FIGURES},
            "segment": int(row["segment"]), "partners": sum(levels), "levels": levels,
        }


class Simulation:
    """The model of one browser tab, with the settings for its next Reset."""

    def __init__(self, seed_text: str = DEFAULT_SEED, **settings: Any):
        self.lock = threading.RLock()
        self.settings: dict[str, Any] = {
            name: PARAMETERS[name].default for name in (*START_PARAMETERS, *COUNT_PARAMETERS)
        }
        self.settings["regime"] = PARAMETERS["regime"].default
        self.settings["ics"] = None
        self.seed_text = seed_text
        self.seed: int | None = None
        self.model: ICSModel | None = None
        self.events: list[Mark] = []
        self._kind_rows: list[tuple] = []   # (month, kind, trust_given, turf)
        self._group_rows: list[tuple] = []  # (month, group label, trust_given, turf)
        self.version = 0   # bumped on every change; the view re-draws on it
        self.run_id = 0    # bumped on every new model
        self._snapshot: Snapshot | None = None  # replaced (never changed) by _publish
        self._structure: dict = {}  # the run's network_structure, built once per model
        result = self.reset(seed_text=seed_text, **settings)
        if not result.ok:
            raise ValueError(result.message)

    # ------------------------------------------------------------ building
    def reset(self, seed_text: str | None = None, **settings: Any) -> ResetResult:
        """Build a new model from the settings (and seed text); keep the old one on any error."""
        with self.lock:
            candidate = dict(self.settings)
            candidate.update(settings)
            text = self.seed_text if seed_text is None else seed_text
            try:
                seed = parse_seed(text)
            except ValueError as err:
                return ResetResult(False, f"{err} The current model is kept.")
            knobs = {}
            if self.model is not None:
                knobs = {k: getattr(self.model.regime, k) for k in LIVE_KNOBS}
                if candidate["regime"] != self.model.regime.name:
                    knobs = {}
            try:
                checked = validate_parameters({k: candidate[k] for k in (*START_PARAMETERS, *COUNT_PARAMETERS, "regime")})
                ics = england.canonical(candidate.get("ics")) if candidate.get("ics") else None
                checked["ics"] = ics
                size = estimated_organisations(checked)
                if ics is None and size > MAX_ORGANISATIONS:
                    return ResetResult(False, f"About {size:,} organisations is too many to draw in the browser "
                                              f"(at most {MAX_ORGANISATIONS:,}): lower the counts, or use the "
                                              "command line for runs this size. The current model is kept.")
                model = ICSModel(**{k: checked[k] for k in (*START_PARAMETERS, *COUNT_PARAMETERS)},
                                 regime=checked["regime"], **knobs, rng=seed, ics=ics)
            except Exception as err:  # a bad combination must not cost the trainer the running model
                return ResetResult(False, f"Could not build the model: {err}. The current model is kept.")
            self.settings = {k: checked[k] for k in candidate}
            self.seed_text = str(text).strip() if str(text).strip() else str(seed)
            self.seed = seed
            self.model = model
            self.events = []
            self._kind_rows = []
            self._group_rows = []
            self._record_kinds()
            self.version += 1
            self.run_id += 1
            self._structure = network_structure(model, layout_for(model), self.run_id)
            self._publish()
            n = len(model.organisations)
            where = ics if ics else "a stylised ICS" if model.orgs.n_systems == 1 else f"{model.orgs.n_systems} stylised ICSs"
            return ResetResult(True, f"New model: {where}, {n} organisations, seed {seed}.")

    # ------------------------------------------------------------ running
    def step(self, months: int = 1) -> int:
        """Run the model for ``months`` months; return the month reached."""
        with self.lock:
            for _ in range(max(int(months), 0)):
                self.model.step()
                self._record_kinds()
            self.version += 1
            self._publish()
            return self.model.month

    def change_regime(self, name: str) -> None:
        """Switch the running model to a regime preset (its knobs take the preset's values)."""
        with self.lock:
            self.model.set_regime(PARAMETERS["regime"].validate(name))
            self.settings["regime"] = name
            self.version += 1
            self._publish()

    def change_knob(self, name: str, value: float) -> None:
        """Override one knob of the regime in force, now."""
        if name not in LIVE_KNOBS:
            raise ValueError(f"{name!r} is not a knob of the view; knobs: {', '.join(LIVE_KNOBS)}")
        with self.lock:
            current = getattr(self.model.regime, name)
            value = PARAMETERS[name].validate(float(value))
            if abs(value - current) < 1e-9:
                return
            self.model.set_regime(**{name: value})
            self.version += 1
            self._publish()

    def trigger(self, event: str) -> str:
        """Apply one of the view's events (see ``EVENTS``) now; return what happened."""
        title, kind, options = EVENTS[event]
        with self.lock:
            model = self.model
            names = self._snapshot.layout.names
            orgs = model.orgs
            if kind == "merger":
                alive = np.flatnonzero(orgs.active & (orgs.system == options["system"]) & (orgs.kind == options["kind"]))
                if len(alive) < 2:
                    return f"No merger: ICS {options['system'] + 1} has fewer than two acute trusts left."
                # the model merges the last of them into the first (abm.model.ICSModel._apply_event)
                what = f"{names[alive[-1]]} merged into {names[alive[0]]}"
            elif kind == "budget_cut":
                cut = [names[i] for i in np.flatnonzero(orgs.active & (orgs.kind == "local_authority"))]
                shown = ", ".join(cut[:3]) + (f" and {len(cut) - 3} more" if len(cut) > 3 else "")
                what = f"budget cut by {options['share']:.0%} for {shown}"
            else:
                what = f"winter pressure: demand up {options['size']:.0%} for all {int(orgs.active.sum())} organisations"
            model.trigger(kind, **options)
            self.events.append(Mark(model.month, EVENT_MARKS.get(event, title), "event"))
            self.version += 1
            self._publish()
            return f"Month {model.month}: {what}."

    # ------------------------------------------------------------ reading
    # Every reader reads the latest snapshot, never the live model: see the module's docstring.
    def snapshot(self) -> Snapshot:
        """The latest published state. A page takes one per render and draws only from it."""
        return self._snapshot

    @property
    def month(self) -> int:
        return self._snapshot.month

    @property
    def layout(self) -> Layout:
        return self._snapshot.layout

    def history(self) -> pd.DataFrame:
        """Model metrics, one row per month (shared: do not modify)."""
        return self._snapshot.history

    def kind_history(self) -> pd.DataFrame:
        """Mean trust in partners and turf by kind, indexed by (month, kind) (shared: do not modify)."""
        return self._snapshot.kind_history

    def marks(self) -> list[Mark]:
        """Regime changes (a preset's name, "(adjusted)" if a knob was moved) and events."""
        return list(self._snapshot.marks)

    def kind_colours(self) -> tuple[dict[str, str], dict[str, str]]:
        """Each kind's colour and label."""
        return dict(self._snapshot.colours), dict(self._snapshot.labels)

    def organisation_details(self, index: int) -> dict[str, Any]:
        """What the view shows about one organisation."""
        return self._snapshot.organisation_details(index)

    # ------------------------------------------------------------ publishing
    def _publish(self) -> None:
        """Copy what the view shows into a new snapshot. Called with the lock held, after every change."""
        model = self.model
        layout = layout_for(model)
        colours: dict[str, str] = {}
        labels: dict[str, str] = {}
        for o in model.organisation_rows:
            colours.setdefault(o.kind, o.colour)
            labels.setdefault(o.kind, o.label)
        self._snapshot = Snapshot(
            run_id=self.run_id,
            version=self.version,
            month=model.month,
            regime=model.regime,
            settings=MappingProxyType(dict(self.settings)),
            seed_text=self.seed_text,
            history=model.datacollector.get_model_vars_dataframe(),
            kind_history=pd.DataFrame(self._kind_rows, columns=["month", "kind", "trust_given", "turf"])
            .set_index(["month", "kind"]),
            group_history=pd.DataFrame(self._group_rows, columns=["month", "group", "trust_given", "turf"])
            .set_index(["month", "group"]),
            marks=(*self._regime_marks(), *self.events),
            colours=MappingProxyType(colours),
            labels=MappingProxyType(labels),
            layout=layout,
            structure=self._structure,
            network=MappingProxyType(network_states(model, self.run_id)),
            organisations=_organisation_table(model, layout),
        )

    def _regime_marks(self) -> list[Mark]:
        """A mark per regime change: the preset's name, with "(adjusted)" if a knob was moved."""
        out = []
        for month, regime in self.model.regime_history[1:]:
            preset = REGIMES[regime.name].knobs() if regime.name in REGIMES else None
            text = regime.name if regime.knobs() == preset else f"{regime.name} (adjusted)"
            out.append(Mark(month, text, "regime"))
        return out

    def _record_kinds(self) -> None:
        """Add this month's mean trust given and turf by kind and by group, over active organisations.

        The same means as grouping ``abm.metrics.agent_table`` by kind (kinds in order of first
        appearance), done with NumPy: building the table took a third of a step at the default size.
        """
        model = self.model
        orgs = model.orgs
        active = np.asarray(orgs.active, dtype=bool)
        given, _ = trust_by_organisation(model)
        turf = np.asarray(orgs.turf, dtype=float)
        month = model.month
        kinds = np.asarray(orgs.kind)[active]
        self._kind_rows.extend((month, kind, g, t) for kind, g, t in _means_by(kinds, given[active], turf[active]))
        groups = np.array([group_of(k).label for k in kinds], dtype=object)
        order = {label: i for i, label in enumerate(g.label for g in _group_order())}
        self._group_rows.extend(sorted(((month, group, g, t) for group, g, t in _means_by(groups, given[active], turf[active])),
                                       key=lambda row: order.get(row[1], 99)))

    def metrics_csv(self) -> str:
        """The run's metrics, one row per month, as CSV text (from the snapshot)."""
        history = self._snapshot.history
        return history.to_csv(index_label="month", float_format="%.6g")


def _means_by(labels: np.ndarray, given: np.ndarray, turf: np.ndarray) -> list[tuple[str, float, float]]:
    """(label, mean of ``given``, mean of ``turf``) for each label, in order of first appearance."""
    if len(labels) == 0:
        return []
    names, first, index = np.unique(labels, return_index=True, return_inverse=True)
    counts = np.bincount(index, minlength=len(names))
    g = np.bincount(index, weights=given, minlength=len(names)) / counts
    t = np.bincount(index, weights=turf, minlength=len(names)) / counts
    return [(str(names[k]), float(g[k]), float(t[k])) for k in np.argsort(first, kind="stable")]


def _group_order():
    from .charts import GROUPS, OTHER
    return (*GROUPS, OTHER)


def _organisation_table(model: ICSModel, layout: Layout) -> pd.DataFrame:
    """Each organisation's card figures now, and its active ties by level (copies of the model's arrays)."""
    orgs, ties = model.orgs, model.ties
    n = len(model.organisation_rows)
    mine = ties.active
    by_level = np.bincount(ties.src[mine] * len(LEVELS) + ties.level[mine].astype(int),
                           minlength=n * len(LEVELS)).reshape(n, len(LEVELS))
    figures = {
        "turf": orgs.turf, "pressure": orgs.pressure,
        "trust_given": ties.mean_by_source(ties.trust), "trust_received": ties.mean_by_target(ties.trust),
        "true_performance": orgs.true_performance, "reported_performance": orgs.reported_performance,
        "voice": orgs.voice, "budget": orgs.budget,
    }
    return pd.DataFrame({
        "name": list(layout.names),
        "kind": [o.label for o in model.organisation_rows],
        "active": np.array(orgs.active, dtype=bool),
        **{name: np.array(figures[name], dtype=float) for name in CARD_FIGURES},
        "segment": np.array(orgs.segment, dtype=int),
        **{f"level_{k}": by_level[:, k].copy() for k in range(len(LEVELS))},
    })
