"""Controls: the catalogue, what output controls would impose, recommendations, the action plan.

========================  ======================================================
module                    job
========================  ======================================================
catalogue                 ``policies/controls.yaml``: schema, loading, look-ups
restrictions              the exposure an output control imposes, if stricter
recommend                 which controls to recommend, ranked, with why
actions                   the action plan and the sign-off block
========================  ======================================================
"""

from compliance_mia.controls.actions import action_plan_items, signoff_info
from compliance_mia.controls.catalogue import (
    SITUATIONS,
    Catalogue,
    CatalogueSpec,
    Control,
    ExposureChange,
    FrameworkInfo,
    load_catalogue,
)
from compliance_mia.controls.recommend import recommend, situations
from compliance_mia.controls.restrictions import already_satisfied, restricted_exposure

__all__ = [
    "SITUATIONS",
    "Catalogue",
    "CatalogueSpec",
    "Control",
    "ExposureChange",
    "FrameworkInfo",
    "action_plan_items",
    "already_satisfied",
    "load_catalogue",
    "recommend",
    "restricted_exposure",
    "signoff_info",
    "situations",
]
