"""Seeds: every run's seed derives from the experiment's root seed.

numpy's ``SeedSequence(root)`` spawns one child per replicate; replicate r
gets the same seed in every design point (common random numbers), so two
regimes are compared on the same simulated histories and their difference is
measured with less noise. Adding replicates keeps the seeds of the existing
ones. Sampled designs (Latin hypercube, Sobol, Morris) draw their points from
a separate child, so the design and the replicates never share a stream.
"""

from __future__ import annotations

import numpy as np

_SEED_MASK = (1 << 63) - 1       # keep seeds within a signed 64-bit column
_DESIGN_KEY = 1 << 32            # spawn key of the design stream (replicates use 0, 1, 2, ...)


def _as_int(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint64)[0]) & _SEED_MASK


def replicate_seeds(root: int, replicates: int) -> list[int]:
    """The model seed of each replicate, the same in every design point."""
    return [_as_int(child) for child in np.random.SeedSequence(root).spawn(replicates)]


def design_seed(root: int) -> int:
    """The seed of the design sampler (independent of the replicate seeds)."""
    return _as_int(np.random.SeedSequence(root, spawn_key=(_DESIGN_KEY,)))
