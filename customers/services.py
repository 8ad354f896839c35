"""Every write to customers, as verbs: keyword-only, explicit actor, one transaction each."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import (
    Customer,
    CustomerUserObjectPermission,
    FollowUp,
    OwnershipTransfer,
    Tag,
    Transaction,
)
from customers.ownership import move_customers
from scrm.access.scope import CHANGE, SHARE, TRANSFER, can, can_assign_to
from scrm.audit.attribution import attributed
from scrm.conflicts import Conflict
from scrm.staff.models import Staff
from scrm.staff.types import Actor, Viewer
from scrm.types import Text

SHARE_LEVELS = {"view": "view_customer", "change": "change_customer"}
BATCH_SIZE = 1000

# `wecom_external_userid` files the chat archive under a customer: whoever changes it detaches
# a customer's chats (or attaches someone else's), and a uniqueness error on it tells which ids
# exist elsewhere. Only the archive sync (holders of the ingest right) and administrators (who
# hold every permission) set it; for everyone else it is read-only.
ARCHIVE_BINDING_PERMISSION = "chats.ingest_message"
ARCHIVE_BINDING_READ_ONLY = _(
    "Read-only for your role: only the archive sync and administrators link a customer to WeCom."
)


def yuan(amount: Decimal) -> str:
    """An amount as shown to people: ¥ with thousands separators and fen (¥12,800.00)."""
    return f"¥{Decimal(amount):,.2f}"


def may_bind_archive(user: Viewer) -> bool:
    """May `user` set or change a customer's WeCom external user id?"""
    return user.has_perm(ARCHIVE_BINDING_PERMISSION)


def archive_binding(value: str | None) -> str | None:
    """The stored form of a WeCom external user id: blank is NULL, so blanks never collide."""
    return (value or "").strip() or None


def _check_archive_binding(actor: Actor, fields: dict[str, Any], current: str | None) -> None:
    # Before full_clean: its uniqueness check would answer the oracle question.
    if "wecom_external_userid" not in fields:
        return
    value = fields["wecom_external_userid"] = archive_binding(fields["wecom_external_userid"])
    if value != archive_binding(current) and not may_bind_archive(actor):
        raise PermissionDenied(ARCHIVE_BINDING_READ_ONLY)


def _set_tags(customer: Customer, tag_names: list[str] | None) -> None:
    if tag_names is None:
        return
    tags = [Tag.objects.get_or_create(name=name.strip())[0] for name in tag_names if name.strip()]
    customer.tags.set(tags)


@transaction.atomic
def create_customer(*, actor: Actor, tags: list[str] | None = None, **fields: Any) -> Customer:
    """Create a customer owned by the actor (unless an owner is given). Raises PermissionDenied
    without the add permission, ValidationError on invalid values."""
    if not actor.has_perm("customers.add_customer"):
        raise PermissionDenied(_("You may not create customers."))
    _check_archive_binding(actor, fields, None)
    fields.setdefault("owner", actor)
    customer = Customer(**fields)
    customer.full_clean(exclude=["owner"])
    customer.save()
    _set_tags(customer, tags)
    return customer


@transaction.atomic
def update_customer(
    *, actor: Actor, customer: Customer, tags: list[str] | None = None, **fields: Any
) -> Customer:
    """Change a customer the actor may change. Raises PermissionDenied outside the actor's
    change scope (the API and the admin ask the same door first, so their answers stand) and
    for an archive binding the actor may not set, ValidationError on invalid values."""
    if not can(actor, CHANGE, customer):
        raise PermissionDenied(_("You may not change this customer."))
    _check_archive_binding(actor, fields, customer.wecom_external_userid)
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.full_clean(exclude=["owner"])
    customer.save()
    _set_tags(customer, tags)
    return customer


def _check_may_log(actor: Actor, customer: Customer) -> None:
    # Logging work on a customer changes its record: the customer's change scope decides
    # (the owner, their lead and manager, a colleague it was shared with for change).
    if not can(actor, CHANGE, customer):
        raise PermissionDenied(_("You may not log work on this customer."))


@transaction.atomic
def add_follow_up(
    *,
    actor: Actor,
    customer: Customer,
    note: str,
    due_at: datetime | None = None,
    done: bool = False,
) -> FollowUp:
    """Log a follow-up on a customer the actor may change. Raises PermissionDenied outside the
    actor's change scope, ValidationError on an empty note. The change log records the row
    (django-auditlog, note masked)."""
    _check_may_log(actor, customer)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write what was done or agreed with the customer.")})
    follow_up = FollowUp(customer=customer, staff=actor, note=note, due_at=due_at, done=done)
    follow_up.full_clean(exclude=["customer", "staff"])
    follow_up.save()
    return follow_up


@transaction.atomic
def add_transaction(
    *, actor: Actor, customer: Customer, date: date_type, product: str, amount: Decimal
) -> Transaction:
    """Log a deal with a customer the actor may change. Raises PermissionDenied outside the
    actor's change scope, ValidationError on an empty product or an amount not above zero."""
    _check_may_log(actor, customer)
    product = (product or "").strip()
    errors: dict[str, Text] = {}
    if not product:
        errors["product"] = _("Say which product or service was sold.")
    if amount is None or amount <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    if errors:
        raise ValidationError(errors)
    deal = Transaction(
        customer=customer, date=date, product=product, amount=amount, recorded_by=actor
    )
    deal.full_clean(exclude=["customer", "recorded_by"])
    deal.save()
    return deal


def _check_author(actor: Actor, author_id: int | None, refusal: Text) -> None:
    if author_id is None or author_id != actor.pk:
        raise PermissionDenied(refusal)


@attributed
@transaction.atomic
def update_follow_up(*, actor: Actor, follow_up: FollowUp, **fields: Any) -> FollowUp:
    """Correct a follow-up: only its author, and only while they may still change the customer.
    `fields`: any of `note`, `due_at`, `done`. The change log records it (note masked)."""
    follow_up = FollowUp.objects.select_for_update().select_related("customer").get(pk=follow_up.pk)
    _check_may_log(actor, follow_up.customer)
    _check_author(
        actor, follow_up.staff_id, _("Only the colleague who logged this follow-up may change it.")
    )
    unknown = set(fields) - {"note", "due_at", "done"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    if "note" in fields:
        fields["note"] = (fields["note"] or "").strip()
        if not fields["note"]:
            raise ValidationError({"note": _("Write what was done or agreed with the customer.")})
    for name, value in fields.items():
        setattr(follow_up, name, value)
    follow_up.full_clean(exclude=["customer", "staff"])
    follow_up.save()
    return follow_up


@attributed
@transaction.atomic
def update_transaction(*, actor: Actor, deal: Transaction, **fields: Any) -> Transaction:
    """Correct a deal: only the colleague who logged it, while they may change the customer.
    `fields`: any of `date`, `product`, `amount`, validated as `add_transaction` does."""
    deal = Transaction.objects.select_for_update().select_related("customer").get(pk=deal.pk)
    _check_may_log(actor, deal.customer)
    _check_author(
        actor, deal.recorded_by_id, _("Only the colleague who logged this deal may change it.")
    )
    unknown = set(fields) - {"date", "product", "amount"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    errors: dict[str, Text] = {}
    if "product" in fields:
        fields["product"] = (fields["product"] or "").strip()
        if not fields["product"]:
            errors["product"] = _("Say which product or service was sold.")
    if "amount" in fields and (fields["amount"] is None or fields["amount"] <= 0):
        errors["amount"] = _("The amount must be more than zero.")
    if errors:
        raise ValidationError(errors)
    for name, value in fields.items():
        setattr(deal, name, value)
    deal.full_clean(exclude=["customer", "recorded_by"])
    deal.save()
    return deal


@transaction.atomic
def share_customer(
    *,
    actor: Actor,
    customer: Customer,
    with_staff: Staff,
    level: str = "view",
    expires_at: datetime | None = None,
) -> CustomerUserObjectPermission:
    """Grant `with_staff` view or change on one customer, optionally until `expires_at`.

    Raises PermissionDenied if the actor may not share this customer, ValidationError on a bad
    level, an inactive colleague, a past expiry or sharing with the owner.
    """
    if not can(actor, SHARE, customer):
        raise PermissionDenied(_("You may not share this customer."))
    errors: dict[str, Text] = {}
    if level not in SHARE_LEVELS:
        errors["level"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(SHARE_LEVELS)}
    if not with_staff.is_active or with_staff.employment_status != "active":
        errors["staff"] = _("Customers can only be shared with active staff.")
    elif with_staff.pk == customer.owner_id:
        errors["staff"] = _("This colleague already owns the customer.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if errors:
        raise ValidationError(errors)
    permission = Permission.objects.get(
        content_type__app_label="customers", codename=SHARE_LEVELS[level]
    )
    # One live grant per colleague and customer: re-sharing replaces the level and the expiry.
    CustomerUserObjectPermission.objects.filter(
        content_object=customer, user=with_staff, permission__codename__in=SHARE_LEVELS.values()
    ).delete()
    return CustomerUserObjectPermission.objects.create(
        content_object=customer,
        user=with_staff,
        permission=permission,
        granted_by=actor,
        expires_at=expires_at,
    )


@transaction.atomic
def revoke_share(*, actor: Actor, share: CustomerUserObjectPermission) -> None:
    if not can(actor, SHARE, share.content_object):
        raise PermissionDenied(_("You may not change the shares of this customer."))
    share.delete()


@dataclass(frozen=True)
class TransferResult:
    transferred: int
    skipped_already_owned: int
    to_staff_id: int


def validate_successor(to_staff: Staff) -> None:
    if not to_staff.is_active or to_staff.employment_status != "active":
        raise ValidationError({"to_staff": _("The new owner must be an active staff member.")})


def recent_transfer_counts(customer_ids: list[int]) -> dict[int, int]:
    """How many times each customer changed hands in the last SCRM_TRANSFER_LIMIT_DAYS days.

    The one rule of transfers (WeCom's: at most SCRM_TRANSFER_LIMIT moves in that window),
    applied by the in-service transfer (`transfer_customers`, refused) and the offboarding run
    (offboarding.steps.transfer, routed to the team lead)."""
    since = timezone.now() - timedelta(days=settings.SCRM_TRANSFER_LIMIT_DAYS)
    counts: dict[int, int] = defaultdict(int)
    for customer_id in OwnershipTransfer.objects.filter(
        customer_id__in=customer_ids, at__gte=since
    ).values_list("customer_id", flat=True):
        counts[customer_id] += 1
    return counts


def over_transfer_limit(customer_ids: list[int]) -> dict[int, int]:
    """The customers among these that may not change hands again yet, with their count."""
    limit = settings.SCRM_TRANSFER_LIMIT
    return {pk: n for pk, n in recent_transfer_counts(customer_ids).items() if n >= limit}


@transaction.atomic
def transfer_customers(
    *, customers: QuerySet[Customer], to_staff: Staff, actor: Actor, reason: str
) -> TransferResult:
    """Move customers within the actor's transfer scope to `to_staff` (in-service transfer).

    Raises ValidationError (inactive successor, empty reason) or PermissionDenied when any of the
    customers is outside the actor's transfer scope: then nothing moves.
    """
    if not actor.has_perm("customers.transfer_customer"):
        raise PermissionDenied(_("Your role may not transfer customers."))
    ids = list(customers.values_list("pk", flat=True))
    allowed = Customer.objects.visible_to(actor, TRANSFER).filter(pk__in=ids).count()
    if allowed != len(ids):
        raise PermissionDenied(_("Some of these customers are outside your transfer scope."))
    if not can_assign_to(actor, to_staff):
        raise ValidationError(
            {
                "to_staff": _(
                    "The new owner must be a sales colleague within your team or department."
                )
            }
        )
    # Locked, so two concurrent transfers of one customer cannot both pass the limit.
    moving = list(
        Customer.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(owner_id=to_staff.pk)
        .values_list("pk", flat=True)
    )
    refused = over_transfer_limit(moving)
    if refused:
        raise Conflict(
            {
                "customers": [
                    _(
                        "Customer %(id)s changed hands %(count)s times in the last %(days)s "
                        "days (limit %(limit)s): it may not be transferred again yet."
                    )
                    % {
                        "id": pk,
                        "count": count,
                        "days": settings.SCRM_TRANSFER_LIMIT_DAYS,
                        "limit": settings.SCRM_TRANSFER_LIMIT,
                    }
                    for pk, count in sorted(refused.items())
                ]
            }
        )
    return move_ownership(customer_ids=ids, to_staff=to_staff, actor=actor, reason=reason)


@transaction.atomic
def move_ownership(
    *, customer_ids: list[int], to_staff: Staff, actor: Actor, reason: str
) -> TransferResult:
    """The transfer engine: set the owner, recording who owned each customer before, in batches.

    Callers decide who may move what; this only guarantees a valid successor, a reason, and
    one history row per customer whose owner actually changed.
    """
    validate_successor(to_staff)
    if not reason.strip():
        raise ValidationError({"reason": _("A reason is required for a transfer.")})
    result = move_customers(
        actor_id=actor.pk, customer_ids=customer_ids, to_owner_id=to_staff.pk, reason=reason
    )
    return TransferResult(
        transferred=result.moved,
        skipped_already_owned=result.skipped_already_owned,
        to_staff_id=to_staff.pk,
    )
