"""Organisation and regulator agents of the ICS model."""

from .icb import IntegratedCareBoard
from .kinds import ORGANISATION_KINDS
from .organisation import (
    AcuteTrust, AmbulanceTrust, CommunityTrust, Healthwatch,
    LocalAuthority, MentalHealthTrust, Organisation,
    PrimaryCareNetwork, VCSEAlliance, VCSEProvider,
)
from .regulator import CQCInspector, NHSEOverseer, Regulator

__all__ = [
    "ORGANISATION_KINDS", "Organisation", "IntegratedCareBoard", "AcuteTrust", "MentalHealthTrust",
    "CommunityTrust", "AmbulanceTrust", "LocalAuthority", "VCSEAlliance", "VCSEProvider",
    "PrimaryCareNetwork", "Healthwatch", "Regulator", "NHSEOverseer", "CQCInspector",
]
