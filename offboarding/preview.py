"""What a case would move, before anyone approves it: counts and a masked list."""

from collections import Counter
from typing import TYPE_CHECKING

from chats.models import Conversation, Message
from customers.models import Customer, CustomerUserObjectPermission, FollowUp
from offboarding.models import OffboardingCase
from offboarding.planning import assign, validate_plan
from scrm.access.scope import LIST
from scrm.masking.policy import customer_label

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

LIST_LIMIT = 500


def preview_case(*, case: OffboardingCase, user: "Viewer") -> dict:
    """Counts over the leaver's whole book and the masked list of the customers the viewer's
    scope shows (HR's scope covers leavers with an open case). Raises ValidationError when the
    plan cannot be carried out (e.g. no valid successor)."""
    validate_plan(case)  # a bad plan is a 400 with field errors, never a partial preview
    leaver = case.leaver
    ids = list(
        Customer.objects.filter(owner_id=leaver.pk).order_by("pk").values_list("pk", flat=True)
    )
    targets = assign(case, ids)
    per_successor = Counter(targets[i].username for i in ids)
    visible = Customer.objects.visible_to(user, LIST).filter(owner_id=leaver.pk).order_by("pk")
    shown = list(visible[:LIST_LIMIT])
    return {
        "leaver": leaver.username,
        "customers": len(ids),
        "conversations": Conversation.objects.filter(owner_id=leaver.pk).count(),
        "messages": Message.objects.filter(conversation__owner_id=leaver.pk).count(),
        "open_follow_ups": FollowUp.objects.filter(staff_id=leaver.pk, done=False).count(),
        "shares_held": CustomerUserObjectPermission.objects.filter(user_id=leaver.pk).count(),
        "shares_given": CustomerUserObjectPermission.objects.filter(
            granted_by_id=leaver.pk, content_object__owner_id=leaver.pk
        ).count(),
        "per_successor": dict(sorted(per_successor.items())),
        # Names as the masking matrix shows them to the viewer: HR handles the case on masked
        # names, the leaver's lead and manager see their book's.
        "assignments": [
            {"customer_id": c.pk, "customer": customer_label(user, c), "to": targets[c.pk].username}
            for c in shown
        ],
        "assignments_truncated": len(ids) > len(shown),
    }
