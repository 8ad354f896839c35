from django.contrib import admin
from django.template.response import TemplateResponse

from scrm.audit.models import AccessAction, Channel
from scrm.audit.read_budget import ReadsBlocked, refuse_blocked_reads
from scrm.audit.services import record_access


def reads_blocked_page(request, model) -> TemplateResponse | None:
    """The admin's answer to a list read while the viewer's list reads are blocked (403 with a
    page saying why), or None when the read may go ahead."""
    try:
        refuse_blocked_reads(user=request.user, model=model, channel=Channel.ADMIN, request=request)
    except ReadsBlocked as exc:
        context = {**admin.site.each_context(request), "title": "List reads blocked"}
        context["message"] = str(exc)
        return TemplateResponse(request, "admin/reads_blocked.html", context, status=403)
    return None


class RecordedReadsMixin:
    """For ModelAdmins over protected data: every changelist page and change view is recorded.

    A changelist records one event with the ids it showed; a change view records a view, or a
    denied attempt when the object is outside the viewer's scope (get_queryset is scoped).
    """

    def record(self, request, action: str, ids, **extra) -> None:
        record_access(
            actor=request.user,
            action=action,
            model=self.model,
            object_ids=ids,
            channel=Channel.ADMIN,
            request=request,
            **extra,
        )

    def change_context(self, request, obj) -> dict:
        """Extra template context for a change view the viewer may see."""
        return {}

    def changelist_view(self, request, extra_context=None):
        if (blocked := reads_blocked_page(request, self.model)) is not None:
            return blocked
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self.record(
                request,
                AccessAction.LIST,
                [o.pk for o in changelist.result_list],
                query=request.GET.dict(),
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        ids = [int(object_id)] if str(object_id).isdigit() else []
        if obj is None:
            self.record(
                request, AccessAction.DENIED, ids, allowed=False, query={"attempt": "change_view"}
            )
        else:
            self.record(request, AccessAction.VIEW, ids)
            extra_context = {**(extra_context or {}), **self.change_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)
