"""The steps of an offboarding run, in order. Each is idempotent: re-running a step that was
interrupted finishes the remaining work and never repeats what was committed.

Ordering matters: the account is frozen first so the leaver cannot act (export, reveal, change)
while their customers move; grants are removed only after the transfer so nothing is ever
visible to nobody; private data goes last among the data steps so a failed transfer can still be
investigated with the leaver's notes intact.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from chats.models import Conversation, Message
from customers.models import Customer, CustomerUserObjectPermission, FollowUp, OwnershipTransfer
from offboarding.models import CaseStep, CustomerTransfer, OffboardingCase
from offboarding.planning import assign, team_lead_for
from scrm.staff.models import Device, Draft, Notification, PersonalNote, SavedSearch

BATCH = 1000
MESSAGE_BATCH = 20_000


def batch_committed(step: CaseStep) -> None:
    """Progress is saved after every committed batch (tests interrupt the run here)."""
    step.save(update_fields=["done", "total", "detail"])


def freeze(case: OffboardingCase, step: CaseStep) -> None:
    leaver = case.leaver
    now = timezone.now()
    with transaction.atomic():
        type(leaver).objects.filter(pk=leaver.pk).update(
            is_active=False, employment_status="departed", departed_at=now
        )
        tokens = OutstandingToken.objects.filter(user_id=leaver.pk)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=t) for t in tokens.exclude(blacklistedtoken__isnull=False)],
            ignore_conflicts=True,
        )
        wiped = Device.objects.filter(staff_id=leaver.pk, wipe_requested_at__isnull=True).update(
            wipe_requested_at=now
        )
    # Sessions hold the user id only inside their encoded data: decode the live ones.
    sessions = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=now)
        if str(s.get_decoded().get("_auth_user_id")) == str(leaver.pk)
    ]
    Session.objects.filter(pk__in=sessions).delete()
    step.total = step.done = 1
    step.detail = {
        "tokens_revoked": tokens.count(),
        "sessions_ended": len(sessions),
        "devices_marked_for_wipe": wiped + step.detail.get("devices_marked_for_wipe", 0),
    }


def _recent_transfer_counts(customer_ids: list[int]) -> dict[int, int]:
    since = timezone.now() - timedelta(days=settings.SCRM_TRANSFER_LIMIT_DAYS)
    counts: dict[int, int] = defaultdict(int)
    for customer_id in OwnershipTransfer.objects.filter(
        customer_id__in=customer_ids, at__gte=since
    ).values_list("customer_id", flat=True):
        counts[customer_id] += 1
    return counts


def transfer(case: OffboardingCase, step: CaseStep) -> None:
    leaver = case.leaver
    remaining = Customer.objects.filter(owner_id=leaver.pk)
    step.done = case.transfers.count()
    step.total = step.done + remaining.count()
    lead = team_lead_for(leaver)
    limit = settings.SCRM_TRANSFER_LIMIT
    while True:
        with transaction.atomic():
            ids = list(remaining.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            targets = assign(case, ids)
            recent = _recent_transfer_counts(ids)
            now = timezone.now()
            moves, records, by_target = [], [], defaultdict(list)
            for customer_id in ids:
                refused = recent[customer_id] >= limit
                to_owner = lead if refused else targets[customer_id]
                by_target[to_owner.pk].append(customer_id)
                reason = (
                    f"Transferred {recent[customer_id]} times in "
                    f"{settings.SCRM_TRANSFER_LIMIT_DAYS} days (limit {limit}); routed to team lead"
                    if refused
                    else ""
                )
                records.append(
                    CustomerTransfer(
                        case=case,
                        customer_id=customer_id,
                        from_owner_id=leaver.pk,
                        to_owner=to_owner,
                        at=now,
                        reason=reason,
                        status=CustomerTransfer.Status.REFUSED
                        if refused
                        else CustomerTransfer.Status.COMPLETED,
                    )
                )
                moves.append(
                    OwnershipTransfer(
                        customer_id=customer_id,
                        from_owner_id=leaver.pk,
                        to_owner=to_owner,
                        at=now,
                        actor=case.created_by,
                        case=case,
                        reason=f"Offboarding of {leaver.username}"
                        + (f": {reason}" if reason else ""),
                    )
                )
            for owner_id, customer_ids in by_target.items():
                Customer.objects.filter(pk__in=customer_ids, owner_id=leaver.pk).update(
                    owner_id=owner_id, updated_at=now
                )
            OwnershipTransfer.objects.bulk_create(moves)
            CustomerTransfer.objects.bulk_create(records)
            step.done += len(ids)
            batch_committed(step)
    step.detail = {
        "completed": case.transfers.filter(status=CustomerTransfer.Status.COMPLETED).count(),
        "refused": case.transfers.filter(status=CustomerTransfer.Status.REFUSED).count(),
    }


def conversations(case: OffboardingCase, step: CaseStep) -> None:
    """The staff side of conversations, messages and open follow-ups follows the customer."""
    leaver = case.leaver
    fallback = team_lead_for(leaver)
    owner_of_customer = Subquery(
        Customer.objects.filter(pk=OuterRef("customer_id")).values("owner_id")[:1]
    )
    with transaction.atomic():
        moved_conversations = Conversation.objects.filter(
            owner_id=leaver.pk, customer__isnull=False
        ).update(owner_id=owner_of_customer)
        moved_conversations += Conversation.objects.filter(
            owner_id=leaver.pk, customer__isnull=True
        ).update(owner_id=fallback.pk)
        follow_ups = FollowUp.objects.filter(staff_id=leaver.pk, done=False).update(
            staff_id=owner_of_customer
        )
    messages = Message.objects.filter(staff_id=leaver.pk)
    step.total = step.done + messages.count()
    while True:
        with transaction.atomic():
            ids = list(messages.order_by("pk").values_list("pk", flat=True)[:MESSAGE_BATCH])
            if not ids:
                break
            Message.objects.filter(pk__in=ids, customer__isnull=False).update(
                staff_id=owner_of_customer
            )
            Message.objects.filter(pk__in=ids, customer__isnull=True).update(staff_id=fallback.pk)
            step.done += len(ids)
            batch_committed(step)
    step.detail = {
        "conversations": moved_conversations + step.detail.get("conversations", 0),
        "open_follow_ups": follow_ups + step.detail.get("open_follow_ups", 0),
        "messages": step.done,
    }


def grants(case: OffboardingCase, step: CaseStep) -> None:
    # Only grants held by the leaver go; shares the leaver gave stay valid for the colleague.
    removed, _ = CustomerUserObjectPermission.objects.filter(user_id=case.leaver_id).delete()
    step.total = step.done = removed + step.detail.get("grants_removed", 0)
    step.detail = {"grants_removed": step.total}


def private_data(case: OffboardingCase, step: CaseStep) -> None:
    leaver_id = case.leaver_id
    with transaction.atomic():
        counts = {
            "drafts": Draft.objects.filter(staff_id=leaver_id).delete()[0],
            "saved_searches": SavedSearch.objects.filter(staff_id=leaver_id).delete()[0],
            "personal_notes": PersonalNote.objects.filter(
                staff_id=leaver_id, customer__isnull=True
            ).delete()[0],
            # The device row stays as a tombstone (id + wipe flag) so the client keeps being told
            # to wipe; what it registered about the device goes.
            "device_registrations": Device.objects.filter(staff_id=leaver_id)
            .exclude(name="", platform="")
            .update(name="", platform=""),
        }
    step.detail = {k: counts[k] + step.detail.get(k, 0) for k in counts}
    step.total = step.done = sum(step.detail.values())


def notify(case: OffboardingCase, step: CaseStep) -> None:
    received = defaultdict(int)
    for to_owner_id in case.transfers.values_list("to_owner_id", flat=True):
        received[to_owner_id] += 1
    Staff = type(case.leaver)
    recipients = {s.pk: s for s in Staff.objects.filter(pk__in=received)}
    if case.leaver.supervisor_id:
        recipients.setdefault(case.leaver.supervisor_id, case.leaver.supervisor)
    link = f"/admin/offboarding/offboardingcase/{case.pk}/report/"
    sent = 0
    for staff_id, staff in recipients.items():
        count = received.get(staff_id, 0)
        title = f"Hand-over from {case.leaver.username} (case #{case.pk})"
        body = (
            f"You now own {count} customer(s) of {case.leaver.username}."
            if count
            else f"{case.leaver.username}'s offboarding has run; see the hand-over report."
        )
        _, created = Notification.objects.get_or_create(
            recipient=staff, title=title, defaults={"body": body, "link": link}
        )
        if created and staff.email:
            send_mail(title, f"{body}\n\nReport: {link}", None, [staff.email], fail_silently=True)
        sent += created
    step.total = step.done = len(recipients)
    step.detail = {"notified": len(recipients), "emails_sent_now": sent}


def report(case: OffboardingCase, step: CaseStep) -> None:
    from offboarding.report import report_summary

    step.detail = report_summary(case)
    step.total = step.done = 1


STEPS = [
    (CaseStep.Name.FREEZE, freeze),
    (CaseStep.Name.TRANSFER, transfer),
    (CaseStep.Name.CONVERSATIONS, conversations),
    (CaseStep.Name.GRANTS, grants),
    (CaseStep.Name.PRIVATE_DATA, private_data),
    (CaseStep.Name.NOTIFY, notify),
    (CaseStep.Name.REPORT, report),
]
