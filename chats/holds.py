"""Legal holds: placing and releasing them, and which messages they protect from purging.

A hold names a customer or a conversation (or both) and stays active until released; released
holds are kept (who, when, why) and never deleted. Both services write their django-auditlog
entry inside their own transaction (LegalHold is registered in chats.apps).
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chats.models import Conversation, ConversationCustomer, LegalHold
from scrm.audit.attribution import audit_actor

if TYPE_CHECKING:
    from scrm.staff.types import Actor

MANAGE_PERMISSION = "chats.manage_legal_hold"


def _require_permission(actor: "Actor | None") -> None:
    if actor is None or not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(_("You may not place or release legal holds."))


def _clean_reason(reason: str | None, field: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("A reason is required.")})
    return reason


def place_legal_hold(*, actor: "Actor", reason: str, customer=None, conversation=None) -> LegalHold:
    """Hold every message of `customer` and/or `conversation` until the hold is released.

    Raises PermissionDenied without "chats.manage_legal_hold", ValidationError for an empty
    reason or when neither a customer nor a conversation is given.
    """
    _require_permission(actor)
    reason = _clean_reason(reason, "reason")
    if customer is None and conversation is None:
        raise ValidationError(_("A legal hold needs a customer or a conversation."))
    with transaction.atomic(), audit_actor(actor):
        return LegalHold.objects.create(
            customer=customer,
            conversation=conversation,
            reason=reason,
            placed_by=actor,
            placed_at=timezone.now(),
        )


def release_legal_hold(*, actor: "Actor", hold: LegalHold, reason: str) -> LegalHold:
    """End `hold`: its messages become purgeable again unless another hold covers them.

    Raises PermissionDenied without "chats.manage_legal_hold", ValidationError for an empty
    reason or a hold that is already released (checked on the locked row, so two concurrent
    releases cannot both succeed).
    """
    _require_permission(actor)
    reason = _clean_reason(reason, "release_reason")
    with transaction.atomic(), audit_actor(actor):
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise ValidationError(_("%(hold)s was already released.") % {"hold": locked})
        locked.released_by = actor
        locked.released_at = timezone.now()
        locked.release_reason = reason
        locked.save(update_fields=["released_by", "released_at", "release_reason"])
    for field in ("released_by", "released_at", "release_reason"):
        setattr(hold, field, getattr(locked, field))
    return hold


def held_messages_q() -> Q:
    """Messages under an active hold: of a held conversation, or involving a held customer.

    A customer hold covers the messages filed under the customer, the ones they sent anywhere,
    every message of a conversation filed under them and of every group room they are a member
    of: holding too much is recoverable, purging a held message is not.
    """
    active = LegalHold.objects.filter(released_at__isnull=True)
    customers = active.filter(customer__isnull=False).values("customer_id")
    conversations = active.filter(conversation__isnull=False).values("conversation_id")
    customer_conversations = Conversation.objects.filter(customer_id__in=customers).values("pk")
    # The group rooms a held customer is a member of (room messages have no customer).
    rooms = ConversationCustomer.objects.filter(customer_id__in=customers).values("conversation_id")
    return (
        Q(conversation_id__in=conversations)
        | Q(customer_id__in=customers)
        | Q(sender_customer_id__in=customers)
        | Q(conversation_id__in=customer_conversations)
        | Q(conversation_id__in=rooms)
    )
