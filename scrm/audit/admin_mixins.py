from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from scrm.access.declarations import Declared, WriteOnly, kind_of
from scrm.access.scope import LIST, VIEW
from scrm.audit.models import AccessAction, Channel
from scrm.audit.read_budget import ReadsBlocked
from scrm.audit.services import record_access, refuse_blocked_reads
from scrm.types import AdminMixinBase


def reads_blocked_page(request, model) -> TemplateResponse | None:
    """The admin's answer to a list read while the viewer's list reads are blocked (403 with a
    page saying why), or None when the read may go ahead."""
    try:
        refuse_blocked_reads(user=request.user, model=model, channel=Channel.ADMIN, request=request)
    except ReadsBlocked as exc:
        context = {**admin.site.each_context(request), "title": _("List reads blocked")}
        context["message"] = str(exc)
        return TemplateResponse(request, "admin/reads_blocked.html", context, status=403)
    return None


class RecordedReadsMixin(AdminMixinBase):
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
            self.record_changelist(request, changelist)
        return response

    def record_changelist(self, request, changelist) -> None:
        """One event per page with the ids it showed (a popup is a changelist too)."""
        self.record(
            request,
            AccessAction.LIST,
            [o.pk for o in changelist.result_list],
            query=request.GET.dict(),
        )

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


# The pages every ModelAdmin has, and what they are. The add form and the delete confirmation
# are writes (the confirmation is recorded as a view where delete is allowed, see delete_view).
STANDARD_PAGES: dict[str, Declared] = {
    "changelist": LIST,
    "change": VIEW,
    "history": VIEW,
    "add": WriteOnly("the add form: empty until the caller fills it"),
    "delete": WriteOnly("refused unless delete is allowed; the confirmation is recorded"),
}


def _refused(request, *args, **kwargs):
    raise PermissionDenied(_("This admin page declares no scope, so it is refused until it does."))


def _is_redirect(pattern: URLPattern) -> bool:
    view_class = getattr(pattern.callback, "view_class", None)
    return view_class is not None and issubclass(view_class, RedirectView)


class DoorAdminMixin(RecordedReadsMixin):
    """The platform base for admins over protected data. Fails closed: a page of `get_urls()`
    that is neither a standard page nor declared in `view_scopes` ({url name: scope action,
    Public(...) or WriteOnly(...)}) answers 403 and fails `manage.py check`. Django's own pages
    go through the door: history is scoped and recorded, the delete confirmation is refused
    where delete is not allowed and recorded where it is, popups are the recorded changelist.
    """

    view_scopes: dict[str, Declared] = {}

    def page_declarations(self) -> dict[str, Declared]:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return {
            **{f"{info}_{suffix}": d for suffix, d in STANDARD_PAGES.items()},
            **self.view_scopes,
        }

    def page_classes(self) -> dict[str, str | None]:
        """{url name: class} of this admin's pages (None: undeclared, refused)."""
        declared = self.page_declarations()
        return {p.name: kind_of(declared.get(p.name)) for p in self.get_urls() if p.name}

    @property
    def urls(self):
        declared = self.page_declarations()
        patterns = []
        for pattern in self.get_urls():
            allowed = (
                _is_redirect(pattern)
                if pattern.name is None
                else kind_of(declared.get(pattern.name))
            )
            if not allowed:
                pattern = URLPattern(pattern.pattern, _refused, pattern.default_args, pattern.name)
            patterns.append(pattern)
        return patterns

    def history_view(self, request, object_id, extra_context=None):
        # The history lists who changed what: a read of the object, scoped like its change view.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        ids = [int(object_id)] if str(object_id).isdigit() else []
        if obj is None:
            self.record(
                request, AccessAction.DENIED, ids, allowed=False, query={"attempt": "history"}
            )
        elif self.has_view_or_change_permission(request, obj):
            self.record(request, AccessAction.VIEW, ids, query={"view": "history"})
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if not self.has_delete_permission(request):
            raise PermissionDenied  # off: not even the object is looked up
        obj = self.get_object(request, unquote(object_id))
        ids = [int(object_id)] if str(object_id).isdigit() else []
        if obj is None:
            self.record(
                request, AccessAction.DENIED, ids, allowed=False, query={"attempt": "delete"}
            )
        elif request.method != "POST" and self.has_delete_permission(request, obj):
            # The confirmation shows the object and every related row it would take along.
            self.record(request, AccessAction.VIEW, ids, query={"view": "delete"})
        return super().delete_view(request, object_id, extra_context)
