"""Regulators that apply the accountability regime, as Mesa agents.

Both regulators act on all organisations they cover at once (array
operations), so a subclass that overrides ``inspection_rate`` or ``score``
changes the rule for every organisation in one place.
"""

from __future__ import annotations

import mesa
import numpy as np

# Share of a month's inspection chance at full intensity (one visit every four months).
BASE_INSPECTION_RATE = 0.25


class Regulator(mesa.Agent):
    """A body that inspects organisations and detects gaming.

    ``covers(model)`` says which organisations it oversees; ``inspection_rate``
    gives each one's chance of an inspection this month.
    """

    kind = "regulator"
    label = "Regulator"

    def covers(self, model) -> np.ndarray:
        return np.zeros(model.orgs.n, dtype=bool)

    def inspection_rate(self, model) -> np.ndarray:
        """Monthly inspection chance: intensity, lighter for organisations with earned autonomy."""
        regime = model.regime
        orgs = model.orgs
        relief = 1.0 - regime.earned_autonomy * orgs.autonomy
        return np.where(self.covers(model), BASE_INSPECTION_RATE * regime.oversight_intensity * relief, 0.0)

    def inspect(self, model) -> tuple[np.ndarray, np.ndarray]:
        """Inspect this month; return (inspected, gaming detected) masks.

        The chance of detecting gaming rises with how much of its capacity an
        organisation puts into gaming (Bevan & Hood 2006).
        """
        orgs = model.orgs
        inspected = (model.rng.random(orgs.n) < self.inspection_rate(model)) & orgs.active
        gaming_level = np.minimum(1.0, 3.0 * orgs.gaming_work)
        p_detect = model.p["detection_probability"] * gaming_level
        detected = inspected & (model.rng.random(orgs.n) < p_detect)
        return inspected, detected

    def step(self) -> None:
        """Not how a month runs: raise, rather than let ``model.agents.shuffle_do("step")`` do nothing."""
        raise NotImplementedError(
            "Regulators do not step one by one: ICSModel.step() calls their inspection_rate, inspect "
            "and score on all organisations at once in its oversight phase. Change how a regulator "
            "works by overriding those in a subclass: see docs/extending.md."
        )


class CQCInspector(Regulator):
    """A CQC-like inspector: inspects providers and councils' care duties."""

    kind = "cqc"
    label = "Care Quality Commission"

    def covers(self, model) -> np.ndarray:
        return model.orgs.cqc_inspected & model.orgs.active


class NHSEOverseer(Regulator):
    """An NHS England-like overseer: scores NHS bodies, places them in segments.

    Scores mix reported organisational performance and the system outcome by
    the regime's ``system_focus``. Every quarter organisations are ranked into
    quartile segments 1-4 (league tables); an organisation in deficit can be
    no higher than segment 3; segment 1 earns autonomy; an organisation in
    segment 4 enters mandated intensive support (a sanction that also brings
    improvement help) with a chance equal to the oversight intensity.
    """

    kind = "nhse"
    label = "NHS England"
    review_interval = 3  # months (quarterly league tables)

    def covers(self, model) -> np.ndarray:
        return model.orgs.nhs_oversight & model.orgs.active

    def score(self, model) -> np.ndarray:
        focus = model.regime.system_focus
        orgs = model.orgs
        return (1.0 - focus) * orgs.reported_performance + focus * model.system_outcome[orgs.system]

    def segment(self, model) -> np.ndarray:
        """Quartile segments (1 best, 4 worst) among covered organisations; 0 elsewhere."""
        covered = self.covers(model)
        segments = np.zeros(model.orgs.n, dtype=np.int8)
        if covered.sum() == 0:
            return segments
        score = self.score(model)[covered]
        # rank 0 = best; ties broken by index for reproducibility
        order = np.lexsort((np.arange(score.size), -score))
        ranks = np.empty(score.size, dtype=np.int64)
        ranks[order] = np.arange(score.size)
        quartile = 1 + (4 * ranks) // max(score.size, 1)
        in_deficit = model.orgs.pressure[covered] >= 0.75
        quartile = np.where(in_deficit, np.maximum(quartile, 3), quartile)
        segments[covered] = quartile
        return segments
