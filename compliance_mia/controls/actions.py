"""The action plan and the sign-off block: what is planned, by whom, and who decided."""

from __future__ import annotations

import datetime as dt
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
    (validated / conditional / refused) and a date, and a conditional
    decision states its conditions; anything less is a draft.
    """
    s = policy.signoff

    def iso(day: dt.date | None) -> str | None:
        return day.isoformat() if day is not None else None

    final = s.assessor is not None and s.decision is not None and s.date is not None
    if s.decision == "conditional" and not s.conditions:
        final = False
    return SignOffInfo(
        assessor=s.assessor,
        assessor_role=s.assessor_role,
        dpo_name=s.dpo_name,
        dpo_opinion=s.dpo_opinion,
        dpo_date=iso(s.dpo_date),
        decision=s.decision,
        conditions=list(s.conditions),
        approver=s.approver,
        approver_role=s.approver_role,
        approval_date=iso(s.approval_date),
        date=iso(s.date),
        next_review=iso(s.next_review),
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
    control without an item appears as ``not planned`` with no owner and no
    due date (and its priority), so the report shows the gap instead of
    hiding it. Items naming a control the
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
        if known is not None and item.control not in known:
            notes.append("not a control in the catalogue")
        items.append(
            ActionPlanItem(
                control=item.control,
                owner=item.owner,
                due=item.due.isoformat(),
                status=item.status,
                note="; ".join(notes),
                priority=rec.priority if rec is not None and not rec.in_place else None,
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
                priority=rec.priority,
            )
        )
    return items
