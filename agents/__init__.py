"""Organisation and regulator agents of the ICS model."""

from .organisation import (
    ORGANISATION_KINDS, AcuteTrust, AmbulanceTrust, CommunityTrust, Healthwatch,
    IntegratedCareBoard, LocalAuthority, MentalHealthTrust, Organisation,
    PrimaryCareNetwork, VCSEAlliance, VCSEProvider,
)
from .regulator import CQCInspector, NHSEOverseer, Regulator

__all__ = [
    "ORGANISATION_KINDS", "Organisation", "IntegratedCareBoard", "AcuteTrust", "MentalHealthTrust",
    "CommunityTrust", "AmbulanceTrust", "LocalAuthority", "VCSEAlliance", "VCSEProvider",
    "PrimaryCareNetwork", "Healthwatch", "Regulator", "NHSEOverseer", "CQCInspector",
]
