"""Admin changelists filter only on what they declare.

Django's admin accepts any query-string lookup on a model's own fields (`?name__regex=^张`,
`?mobile_bidx=...`, `?text__contains=2345`): each is an oracle on a value the page shows
masked. ModelAdmin.lookup_allowed only restricts lookups across relations, so admins over
protected data use this mixin: a changelist filters on its list_filter and date_hierarchy
fields only, and anything else is refused with a message (and recorded as a denied attempt),
for every viewer. Filtering on a sensitive value is not a feature any page offers; a name or a
number is searched through the search box, which applies the lookup rules of
scrm.masking.lookups.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin import SimpleListFilter
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from scrm.audit.models import AccessAction, Channel
from scrm.audit.services import record_access
from scrm.types import AdminMixinBase

_NOT_LOOKUPS = {*IGNORED_PARAMS, PAGE_VAR, ERROR_FLAG}


def declared_lookups(model_admin, request) -> set[str]:
    """The field paths (and simple filters' parameter names) a changelist declares."""
    valid = {model_admin.date_hierarchy} if model_admin.date_hierarchy else set()
    for item in model_admin.get_list_filter(request):
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            valid.add(item.parameter_name)
        elif isinstance(item, list | tuple):
            valid.add(item[0])
        else:
            valid.add(item)
    return valid


class DeclaredLookupsMixin(AdminMixinBase):
    """Put it before RecordedReadsMixin: a refused filter is one denied event, not a list."""

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if request is None:  # Django always passes it since 5.0; without it, refuse
            return False
        valid = declared_lookups(self, request)
        if not any(lookup == v or lookup.startswith(f"{v}__") for v in valid):
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)  # Django's 403
        refused = [
            key
            for key, value in request.GET.items()
            if key not in _NOT_LOOKUPS and not self.lookup_allowed(key, value, request)
        ]
        if not refused:
            return super().changelist_view(request, extra_context)
        record_access(
            actor=request.user,
            action=AccessAction.DENIED,
            model=self.model,
            channel=Channel.ADMIN,
            request=request,
            query={**request.GET.dict(), "attempt": "lookup"},
            allowed=False,
        )
        self.message_user(
            request,
            _("Filtering by %(fields)s is not allowed on this page.")
            % {"fields": ", ".join(sorted(refused))},
            messages.ERROR,
        )
        return redirect_without(request, refused)


def redirect_without(request, keys) -> HttpResponseRedirect:
    """The same page without the refused parameters."""
    kept = [(k, v) for k, v in request.GET.lists() if k not in keys]
    query = urlencode([(k, item) for k, values in kept for item in values])
    return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)
