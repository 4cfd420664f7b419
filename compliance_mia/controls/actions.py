"""The action plan and the sign-off block: what is planned, by whom, and who decided."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from compliance_mia.assessment import (
    ActionPlanItem,
    ControlRecommendation,
    SignOffInfo,
)
from compliance_mia.controls.catalogue import Catalogue

if TYPE_CHECKING:
    from compliance_mia.policy.schema import Policy

log = logging.getLogger(__name__)


# ====================================================== action plan, sign-off
def signoff_info(policy: Policy) -> SignOffInfo:
    """The policy's sign-off block for the report; ``final`` only when someone decided and signed.

    An assessment is final when the sign-off names an assessor, a decision
    (validated / conditional / refused) and a date; anything less is a draft.
    """
    s = policy.signoff
    final = s.assessor is not None and s.decision is not None and s.date is not None
    return SignOffInfo(
        assessor=s.assessor,
        assessor_role=s.assessor_role,
        dpo_opinion=s.dpo_opinion,
        decision=s.decision,
        date=s.date.isoformat() if s.date is not None else None,
        next_review=s.next_review.isoformat() if s.next_review is not None else None,
        triggers=list(s.triggers),
        status="final" if final else "draft",
    )


def action_plan_items(
    policy: Policy,
    recommendations: Sequence[ControlRecommendation],
    *,
    catalogue: Catalogue | None = None,
) -> list[ActionPlanItem]:
    """The action plan: the policy's planned items, then recommended controls not yet planned.

    Planned items keep the policy's owner, due date and status. A recommended
    control without an item appears as ``not planned`` with no owner, so the
    report shows the gap instead of hiding it. Items naming a control the
    catalogue does not know are kept and flagged in their note.
    """
    items: list[ActionPlanItem] = []
    known = set(catalogue.ids()) if catalogue is not None else None
    rec_by_id = {r.control_id: r for r in recommendations}
    planned: set[str] = set()
    for item in policy.action_plan:
        planned.add(item.control)
        notes = [item.note] if item.note else []
        rec = rec_by_id.get(item.control)
        if rec is not None and not rec.in_place:
            notes.append(f"recommended, priority {rec.priority}")
        if known is not None and item.control not in known:
            notes.append("not a control in the catalogue")
        items.append(
            ActionPlanItem(
                control=item.control,
                owner=item.owner,
                due=item.due.isoformat(),
                status=item.status,
                note="; ".join(notes),
            )
        )
    for rec in sorted(recommendations, key=lambda r: r.priority):
        if rec.in_place or rec.control_id in planned:
            continue
        items.append(
            ActionPlanItem(
                control=rec.control_id,
                owner="",
                due="",
                status="not planned",
                note=f"recommended, priority {rec.priority}; add an owner and due date under action_plan in the policy",
            )
        )
    return items
