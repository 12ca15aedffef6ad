"""Small numeric helpers shared by the compiled rules (numba kernels in each mechanism's module)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def clip01(x: float) -> float:
    """``np.clip(x, 0.0, 1.0)`` for one number (NaN stays NaN)."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x
