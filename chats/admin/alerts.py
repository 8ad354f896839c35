"""The message a security alert points to, for the alert's readers.

A security officer holds no chat scope (their job is alerts, not reading chats), so the message
admin does not show them the message an alert names. This page does, for that one message and
its neighbours in the conversation, masked as for them (scrm.masking.free_text), and records
the read.
It opens only through an alert about a message: no alert, no page (404), so it widens nobody's
access to the archive.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chats.models import Message
from scrm.audit.admin_mixins import reads_blocked_page
from scrm.audit.links import register_alert_page
from scrm.audit.models import AccessAction, Channel, SecurityAlert
from scrm.audit.services import record_access
from scrm.masking.free_text import display_text
from scrm.masking.policy import shown

ALERT_PERMISSION = "audit.view_securityalert"
CONTEXT_MESSAGES = 5  # on each side of the alerted message


def alert_message_url(alert: SecurityAlert) -> str:
    return reverse("admin:chats_message_alert", args=[alert.pk])


register_alert_page("chats.message", alert_message_url, gettext_lazy("Open the message"))


def _refuse(request, alert_id: int, ids: list[int]) -> None:
    record_access(
        actor=request.user,
        action=AccessAction.DENIED,
        model=Message,
        object_ids=ids,
        channel=Channel.ADMIN,
        request=request,
        allowed=False,
        query={"attempt": "alert", "alert": alert_id},
    )


def alert_message_view(model_admin, request, alert_id: int):
    """The alerted message in its conversation (a few messages before and after)."""
    alert = SecurityAlert.objects.filter(pk=alert_id, model="chats.message").first()
    if not request.user.has_perm(ALERT_PERMISSION):
        _refuse(request, alert_id, [alert.object_id] if alert and alert.object_id else [])
        raise PermissionDenied
    if (blocked := reads_blocked_page(request, Message)) is not None:
        return blocked
    message = (
        Message.objects.select_related("conversation", "customer", "staff", "sender_staff")
        .filter(pk=alert.object_id)
        .first()
        if alert is not None and alert.object_id
        else None
    )
    if message is None or alert is None:
        _refuse(request, alert_id, [])
        raise Http404(_("No message for this alert."))
    thread = Message.objects.filter(conversation_id=message.conversation_id).select_related(
        "sender_staff", "customer"
    )
    before = list(
        thread.filter(sent_at__lte=message.sent_at)
        .exclude(pk=message.pk)
        .order_by("-sent_at", "-id")[:CONTEXT_MESSAGES]
    )
    after = list(
        thread.filter(sent_at__gte=message.sent_at)
        .exclude(pk=message.pk)
        .order_by("sent_at", "id")[:CONTEXT_MESSAGES]
    )
    shown_messages = [*reversed(before), message, *after]
    viewer = request.user
    rows = [
        {
            "pk": m.pk,
            "sent_at": m.sent_at,
            "sender": (
                m.sender_staff.display_name
                if m.sender_staff_id
                else shown(viewer, "name", m.customer.name, owner_id=m.customer.owner_id)
                if m.customer_id
                else "-"
            ),
            "text": display_text(viewer, m.text),
            "alerted": m.pk == message.pk,
        }
        for m in shown_messages
    ]
    record_access(
        actor=viewer,
        action=AccessAction.VIEW,
        model=Message,
        object_ids=[m.pk for m in shown_messages],
        channel=Channel.ADMIN,
        request=request,
        query={"view": "alert", "alert": alert.pk},
        reason=f"security alert #{alert.pk}",
    )
    customer = message.customer
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Message._meta,
        "title": _("Message #%(id)s of alert #%(alert)s") % {"id": message.pk, "alert": alert.pk},
        "alert": alert,
        "message": message,
        "customer": (
            shown(viewer, "name", customer.name, owner_id=customer.owner_id) if customer else "-"
        ),
        "staff": message.staff.display_name if message.staff_id else "-",
        "rows": rows,
    }
    return TemplateResponse(request, "admin/chats/message/alert.html", context)
