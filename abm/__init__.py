"""ics-abm: an agent-based model of collaboration in England's Integrated Care Systems."""

from .model import ICSModel
from .metrics import MODEL_METRICS
from .parameters import PARAMETERS, DEFAULTS, validate_parameters
from .regimes import REGIMES, Regime
from .rules import register_rule

__all__ = ["ICSModel", "MODEL_METRICS", "PARAMETERS", "DEFAULTS", "validate_parameters",
           "REGIMES", "Regime", "register_rule"]
__version__ = "0.1.0"
