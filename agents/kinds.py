"""The built-in kinds of organisation, in table order.

A modeller's own kind needs no entry here: pass it to ``ICSModel`` with
``extra_organisations`` (docs/extending.md).
"""

from __future__ import annotations

from .icb import IntegratedCareBoard
from .organisation import (
    AcuteTrust, AmbulanceTrust, CommunityTrust, Healthwatch, LocalAuthority, MentalHealthTrust,
    Organisation, PrimaryCareNetwork, VCSEAlliance, VCSEProvider,
)

ORGANISATION_KINDS: dict[str, type[Organisation]] = {
    cls.kind: cls
    for cls in (
        IntegratedCareBoard,
        AcuteTrust,
        MentalHealthTrust,
        CommunityTrust,
        AmbulanceTrust,
        LocalAuthority,
        VCSEAlliance,
        VCSEProvider,
        PrimaryCareNetwork,
        Healthwatch,
    )
}
