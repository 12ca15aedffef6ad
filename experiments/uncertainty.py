"""What an experiment's intervals cover: seed noise only, or parameter uncertainty too.

``[experiment] uncertainty = "posterior"`` gives replicate r a parameter set
drawn from the shipped calibration posterior (``abm.posterior``) as well as
its own seed. Draw r is the same in every design point (common draws, like
the common seeds), so two regimes are compared on the same parameter sets and
histories, and the intervals over replicates cover parameter uncertainty as
well as seed noise. Parameters the experiment fixes or varies override the
draw. ``uncertainty = "seeds"`` (the default) keeps the table's defaults.
"""

from __future__ import annotations

import numpy as np

UNCERTAINTY = ("seeds", "posterior")
_POSTERIOR_KEY = (1 << 32) + 1     # spawn key of the posterior-draw stream (replicates use 0, 1, ...)


def draw_seed(root: int) -> int:
    """Seed of the posterior draws of an experiment with root seed ``root``."""
    seq = np.random.SeedSequence(root, spawn_key=(_POSTERIOR_KEY,))
    return int(seq.generate_state(1, dtype=np.uint64)[0]) & ((1 << 63) - 1)


def replicate_parameters(exp) -> list[dict]:
    """Per replicate: {} (seeds only) or that replicate's posterior draw."""
    mode = getattr(exp, "uncertainty", "seeds")
    if mode == "seeds":
        return [{} for _ in range(exp.replicates)]
    from abm import posterior

    return posterior.draw(exp.replicates, draw_seed(exp.seed))


def covers(mode: str, replicates: int | None = None) -> str:
    """A sentence for reports: what the intervals cover."""
    if mode == "posterior":
        n = f"{replicates} " if replicates else ""
        return (f"Intervals cover parameter uncertainty and seed noise: each replicate runs its own draw from the "
                f"calibration posterior (abm/data/posterior; {n}draws, the same draw in every condition) with its "
                f"own seed.")
    return ("Intervals cover seed noise only: every replicate runs the same parameter set (the table's defaults "
            "unless set), so they do not include parameter uncertainty.")


def mode_of(manifest: dict) -> str:
    """The uncertainty mode recorded in a results folder's manifest (from the experiment text)."""
    import tomllib

    text = manifest.get("experiment", {}).get("text", "")
    try:
        return tomllib.loads(text).get("experiment", {}).get("uncertainty", "seeds")
    except tomllib.TOMLDecodeError:
        return "seeds"
