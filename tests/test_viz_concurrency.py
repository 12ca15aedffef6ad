"""Reading the browser view's simulation while Play steps it in a thread (issue 7).

Play steps the model in a background thread while the page draws from another.
Every reader the page uses must give one consistent moment of one model: a
table built while history lists grow raised "Length of values (80) does not
match length of index (90)" and replaced the page with a traceback.
"""

from __future__ import annotations

import threading
from collections import Counter

from viz.simulation import Simulation

ROUNDS = 2000     # each reader is called at least this many times ...
MIN_STEPS = 100   # ... and until the model has been stepped at least this often meanwhile
LAST = 48         # the stepping thread starts a new model here, as a trainer's Reset does


def _contiguous_months(months) -> bool:
    return list(months) == list(range(len(months)))


def check_history(sim: Simulation) -> None:
    history = sim.history()
    assert _contiguous_months(history.index), "history skips or repeats a month"
    assert not history.isna().any().any(), "history has a hole"


def check_kind_history(sim: Simulation) -> None:
    kinds = sim.kind_history()
    per_month = kinds.groupby(level="month").size()
    assert _contiguous_months(per_month.index), "kind history skips a month"
    assert per_month.nunique() == 1, "a month has fewer kinds than another"


def check_marks(sim: Simulation) -> None:
    marks = sim.marks()
    assert all(m.kind in ("regime", "event") for m in marks)


def check_kind_colours(sim: Simulation) -> None:
    colours, labels = sim.kind_colours()
    assert set(colours) == set(labels) and colours


def check_organisation_details(sim: Simulation) -> None:
    for index in (0, 5, 30):
        details = sim.organisation_details(index)
        assert details["partners"] == sum(details["levels"])


def check_month_and_layout(sim: Simulation) -> None:
    assert sim.month >= 0
    assert len(sim.layout.names) == len(sim.layout.positions)


def check_snapshot(sim: Simulation) -> None:
    """Everything a render draws comes from one month of one model."""
    snap = sim.snapshot()
    assert snap.history.index[-1] == snap.month
    assert snap.kind_history.index.get_level_values("month").max() == snap.month
    assert all(state["month"] == snap.month and state["id"] == snap.run_id for state in snap.network.values())
    assert snap.structure["id"] == snap.run_id
    n = len(snap.structure["x"])
    assert len(snap.organisations) == len(snap.layout.names) == n
    assert all(len(state["size"]) == n for state in snap.network.values())
    assert all(m.month <= snap.month for m in snap.marks)


READERS = {
    "history": check_history,
    "kind_history": check_kind_history,
    "marks": check_marks,
    "kind_colours": check_kind_colours,
    "organisation_details": check_organisation_details,
    "month_and_layout": check_month_and_layout,
    "snapshot": check_snapshot,
}


def test_every_reader_is_consistent_while_play_steps_in_the_background():
    sim = Simulation(seed_text="5")
    stop = threading.Event()
    steps = [0]
    stepper_errors: list[BaseException] = []

    def play() -> None:
        """What the page's Play thread does, with a trainer's clicks in between."""
        try:
            while not stop.is_set():
                with sim.lock:
                    if sim.model.month >= LAST:
                        assert sim.reset().ok
                    sim.step(1)
                    steps[0] += 1
                    if steps[0] % 10 == 0:
                        sim.change_regime("top_down" if steps[0] % 20 else "permissive")
                    if steps[0] % 15 == 0:
                        sim.trigger("winter")
        except BaseException as err:  # reported by the test below
            stepper_errors.append(err)

    calls: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    examples: dict[str, str] = {}
    thread = threading.Thread(target=play, name="play-stress", daemon=True)
    thread.start()
    try:
        rounds = 0
        while (rounds < ROUNDS or steps[0] < MIN_STEPS) and thread.is_alive():
            for name, check in READERS.items():
                calls[name] += 1
                try:
                    check(sim)
                except Exception as err:  # counted: the test reports every reader that failed
                    failures[name] += 1
                    examples.setdefault(name, f"{type(err).__name__}: {err}")
            rounds += 1
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not stepper_errors, f"the stepping thread failed: {stepper_errors[0]!r}"
    assert steps[0] >= MIN_STEPS and rounds >= ROUNDS
    report = {name: f"{failures[name]} of {calls[name]}" for name in READERS if failures[name]}
    assert not failures, f"reads failed while Play stepped ({steps[0]} steps): {report}; e.g. {examples}"
