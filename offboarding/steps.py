"""The steps of an offboarding run, in order. Each is idempotent: re-running a step that was
interrupted finishes the remaining work and never repeats what was committed.

Ordering matters: the account is frozen first so the leaver cannot act (export, reveal, change)
while their customers move; grants are removed only after the transfer so nothing is ever
visible to nobody; private data goes last among the data steps so a failed transfer can still be
investigated with the leaver's notes intact.
"""

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from chats.models import Conversation, Message
from customers.models import (
    Customer,
    CustomerUserObjectPermission,
    FollowUp,
    PersonalNote,
)
from customers.ownership import OPEN_FOLLOW_UPS, move_customers
from customers.ownership import follow_the_customer as _follow_the_customer
from customers.services import SHARE_LEVELS, recent_transfer_counts
from offboarding.models import CaseStep, CustomerTransfer, OffboardingCase, RevokedShare
from offboarding.planning import assign, team_lead_for
from scrm.audit.attribution import audit_actor
from scrm.product_language import product_text
from scrm.staff.models import Device, Draft, Notification, SavedSearch, Staff
from scrm.staff.services import end_access

BATCH = 2000


def batch_committed(step: CaseStep) -> None:
    """Progress is saved after every committed batch (tests interrupt the run here)."""
    step.save(update_fields=["done", "total", "detail"])


def freeze(case: OffboardingCase, step: CaseStep) -> None:
    # The same function a departure set by hand calls: one definition of "all access gone".
    # The change log names the case's creator, as the run's ownership transfers do.
    ended = end_access(staff=case.leaver, actor=case.created_by)
    step.total = step.done = 1
    step.detail = {
        "tokens_revoked": ended.tokens_revoked,
        "sessions_ended": ended.sessions_ended,
        "devices_marked_for_wipe": ended.devices_marked_for_wipe
        + step.detail.get("devices_marked_for_wipe", 0),
    }


def transfer(case: OffboardingCase, step: CaseStep) -> None:
    leaver = case.leaver
    remaining = Customer.objects.filter(owner_id=leaver.pk)
    step.done = case.transfers.count()
    step.total = step.done + remaining.count()
    lead = team_lead_for(leaver)
    limit = settings.SCRM_TRANSFER_LIMIT
    last = 0
    while True:
        with transaction.atomic():
            # Keyset pagination: a batch starts after the previous one instead of rescanning
            # the moved rows; the lock keeps a concurrent run (a redelivered task) off them.
            ids = list(
                remaining.filter(pk__gt=last)
                .select_for_update()
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids and last and remaining.exists():
                last = 0  # a customer reached the leaver behind us: sweep once more
                continue
            if not ids:
                break
            last = ids[-1]
            targets = assign(case, ids)
            recent = recent_transfer_counts(ids)
            now = timezone.now()
            records, by_target = [], defaultdict(list)
            # Rows are built from ids, not model instances: 2 x BATCH instances per batch made
            # the related-object descriptors a large share of this step's time.
            for customer_id in ids:
                refused = recent[customer_id] >= limit
                to_owner_id = lead.pk if refused else targets[customer_id].pk
                reason = (
                    f"Transferred {recent[customer_id]} times in "
                    f"{settings.SCRM_TRANSFER_LIMIT_DAYS} days (limit {limit}); routed to team lead"
                    if refused
                    else ""
                )
                by_target[to_owner_id, reason].append(customer_id)
                records.append(
                    CustomerTransfer(
                        case_id=case.pk,
                        customer_id=customer_id,
                        from_owner_id=leaver.pk,
                        to_owner_id=to_owner_id,
                        at=now,
                        reason=reason,
                        status=CustomerTransfer.Status.REFUSED
                        if refused
                        else CustomerTransfer.Status.COMPLETED,
                    )
                )
            for (to_owner_id, reason), customer_ids in by_target.items():
                move_customers(
                    actor_id=case.created_by_id,
                    customer_ids=customer_ids,
                    to_owner_id=to_owner_id,
                    case_id=case.pk,
                    reason=handover_reason(leaver, reason),
                    hand_over=False,  # the conversations step hands the whole book over
                )
            CustomerTransfer.objects.bulk_create(records)
            step.done += len(ids)
            batch_committed(step)
    step.detail = {
        "completed": case.transfers.filter(status=CustomerTransfer.Status.COMPLETED).count(),
        "refused": case.transfers.filter(status=CustomerTransfer.Status.REFUSED).count(),
    }


def conversations(case: OffboardingCase, step: CaseStep) -> None:
    """The staff side of conversations and open follow-ups follows the customer.

    Messages are not rewritten: `Message.staff` records who held the conversation when the
    message was sent (history, like the sender), and reads and filters go through the
    conversation's current owner. Rewriting half a million message rows (every index, the
    search index included) was what made this step take minutes (docs/benchmarks.md).
    """
    leaver_id, fallback_id = case.leaver_id, team_lead_for(case.leaver).pk
    with transaction.atomic():
        moving = list(Conversation.objects.filter(owner_id=leaver_id).values_list("pk", flat=True))
        moved = _follow_the_customer(
            Conversation, "owner_id", leaver_id=leaver_id, fallback_id=fallback_id
        )
        moved += Conversation.objects.filter(owner_id=leaver_id, customer__isnull=True).update(
            owner_id=fallback_id
        )
        follow_ups = _follow_the_customer(
            FollowUp,
            "staff_id",
            where=OPEN_FOLLOW_UPS,
            leaver_id=leaver_id,
            fallback_id=fallback_id,
        )
        messages = Message.objects.filter(conversation_id__in=moving).count() if moving else 0
        step.detail = {
            "conversations": moved + step.detail.get("conversations", 0),
            "open_follow_ups": follow_ups + step.detail.get("open_follow_ups", 0),
            "messages_in_moved_conversations": messages
            + step.detail.get("messages_in_moved_conversations", 0),
        }
        step.total = step.done = step.detail["conversations"] + step.detail["open_follow_ups"]
        step.save(update_fields=["done", "total", "detail"])


def grants(case: OffboardingCase, step: CaseStep) -> None:
    # Only grants held by the leaver go; shares the leaver gave stay valid for the colleague.
    removed, _ = CustomerUserObjectPermission.objects.filter(user_id=case.leaver_id).delete()
    step.total = step.done = removed + step.detail.get("grants_removed", 0)
    step.detail = {"grants_removed": step.total}


def shares(case: OffboardingCase, step: CaseStep) -> None:
    """Shares the leaver gave (on their own customers or anyone's) are revoked.

    Nobody answers for them once the leaver is gone: the colleague would keep the customer
    through a grant no one remembers. Each live share is recorded (`RevokedShare`) in the same
    transaction that deletes it, so an interrupted run resumes without losing or repeating one;
    the customer's owner may re-confirm it afterwards (`services.reconfirm_share`). Expired
    shares and shares with whoever owns the customer now are removed without a record.
    """
    levels = {codename: level for level, codename in SHARE_LEVELS.items()}
    now = timezone.now()
    with transaction.atomic():
        given = CustomerUserObjectPermission.objects.filter(granted_by_id=case.leaver_id)
        ids = list(given.select_for_update().values_list("pk", flat=True))
        rows = (
            CustomerUserObjectPermission.objects.filter(pk__in=ids)
            .exclude(expires_at__lte=now)
            .exclude(user_id=F("content_object__owner_id"))
            .values_list(
                "content_object_id", "user_id", "permission__codename", "granted_at", "expires_at"
            )
        )
        records = [
            RevokedShare(
                case_id=case.pk,
                customer_id=customer_id,
                colleague_id=user_id,
                level=levels.get(codename, codename),
                granted_at=granted_at,
                expires_at=expires_at,
                revoked_at=now,
            )
            for customer_id, user_id, codename, granted_at, expires_at in rows
        ]
        RevokedShare.objects.bulk_create(records, ignore_conflicts=True)
        removed, _ = CustomerUserObjectPermission.objects.filter(pk__in=ids).delete()
    step.detail = {
        # Counted from the records, not added up: a crash after the commit loses no count.
        "shares_revoked": RevokedShare.objects.filter(case_id=case.pk).count(),
        "expired_or_owner_removed": removed
        - len(records)
        + step.detail.get("expired_or_owner_removed", 0),
    }
    step.total = step.done = step.detail["shares_revoked"] + step.detail["expired_or_owner_removed"]


def _forget_device_details(case: OffboardingCase) -> int:
    """The device rows stay as tombstones (id + wipe flag) so the client keeps being told to
    wipe; what was registered about each device goes. A few rows: each saved, so the change log
    records it (in the case creator's name, like the freeze)."""
    locked = Device.objects.select_for_update().filter(staff_id=case.leaver_id)
    devices = list(locked.exclude(name="", platform=""))
    with audit_actor(case.created_by):
        for device in devices:
            device.staff, device.name, device.platform = case.leaver, "", ""
            device.save(update_fields=["name", "platform"])
    return len(devices)


def private_data(case: OffboardingCase, step: CaseStep) -> None:
    leaver_id = case.leaver_id
    with transaction.atomic():
        counts = {
            "drafts": Draft.objects.filter(staff_id=leaver_id).delete()[0],
            "saved_searches": SavedSearch.objects.filter(staff_id=leaver_id).delete()[0],
            "personal_notes": PersonalNote.objects.filter(
                staff_id=leaver_id, customer__isnull=True
            ).delete()[0],
            "device_registrations": _forget_device_details(case),
        }
    step.detail = {k: counts[k] + step.detail.get(k, 0) for k in counts}
    step.total = step.done = sum(step.detail.values())


def handover_reason(leaver: Staff, reason: str) -> str:
    """The ownership history's reason for a move by offboarding (stored, product language)."""
    text = product_text(gettext_noop("Offboarding of %(leaver)s"), leaver=leaver.display_name)
    return (
        product_text(gettext_noop("%(text)s: %(reason)s"), text=text, reason=reason)
        if reason
        else text
    )


def notify(case: OffboardingCase, step: CaseStep) -> None:
    received: defaultdict[int, int] = defaultdict(int)
    for to_owner_id in case.transfers.values_list("to_owner_id", flat=True):
        received[to_owner_id] += 1
    Staff = type(case.leaver)
    recipients = {s.pk: s for s in Staff.objects.filter(pk__in=received)}
    if case.leaver.supervisor is not None:
        recipients.setdefault(case.leaver.supervisor.pk, case.leaver.supervisor)
    link = f"/admin/offboarding/offboardingcase/{case.pk}/report/"
    sent = 0
    for staff_id, staff in recipients.items():
        count = received.get(staff_id, 0)
        leaver = case.leaver.display_name
        title = product_text(
            gettext_noop("Hand-over from %(leaver)s (case #%(pk)s)"), leaver=leaver, pk=case.pk
        )
        body = (
            product_text(
                gettext_noop("You now own %(count)s customer(s) of %(leaver)s."),
                count=count,
                leaver=leaver,
            )
            if count
            else product_text(
                gettext_noop("%(leaver)s's offboarding has run; see the hand-over report."),
                leaver=leaver,
            )
        )
        _, created = Notification.objects.get_or_create(
            recipient=staff, title=title, defaults={"body": body, "link": link}
        )
        if created and staff.email:
            text = product_text(gettext_noop("%(body)s\n\nReport: %(link)s"), body=body, link=link)
            send_mail(title, text, None, [staff.email], fail_silently=True)
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
    (CaseStep.Name.SHARES, shares),
    (CaseStep.Name.PRIVATE_DATA, private_data),
    (CaseStep.Name.NOTIFY, notify),
    (CaseStep.Name.REPORT, report),
]
