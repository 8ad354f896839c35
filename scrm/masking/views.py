"""The masking matrix as an admin page: who sees which data class of a customer, and how."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from scrm.masking.policy import (
    HIDDEN,
    HIDDEN_VALUE,
    IN_BOOK,
    MASKED,
    MATRIX_CLASSES,
    SENSITIVE_FIELDS,
    SHOWN,
    matrix_table,
)
from scrm.staff import roles

# The policy is readable by those who keep and check it; it names no customer and no value, so
# reading it is not recorded as an access event.
MATRIX_READERS = frozenset({roles.ADMINISTRATOR, roles.AUDITOR, roles.SECURITY_OFFICER})

LEGEND = {
    SHOWN: "shown as stored",
    IN_BOOK: "shown for the customers of the viewer's book (own / team / department), "
    "masked for every other customer (shares, wider scopes) and for staff in their notice period",
    MASKED: "masked (e.g. 138****5678); the raw value only through a recorded reveal",
    HIDDEN: f"not shown at all, not even masked ({HIDDEN_VALUE})",
}


def may_read_matrix(user) -> bool:
    return bool(user.is_active and (user.is_superuser or set(user.role_names) & MATRIX_READERS))


def masking_matrix_view(request: HttpRequest) -> HttpResponse:
    if not may_read_matrix(request.user):
        raise PermissionDenied("Only administrators, auditors and security officers may read it.")
    fields = {
        c: [f for f, s in SENSITIVE_FIELDS.items() if s.data_class == c] for c in MATRIX_CLASSES
    }
    context = {
        **admin.site.each_context(request),
        "title": "Masking matrix",
        "classes": [{"name": c, "fields": fields[c]} for c in MATRIX_CLASSES],
        "rows": matrix_table(),
        "legend": LEGEND.items(),
    }
    return TemplateResponse(request, "admin/masking/matrix.html", context)


masking_matrix = admin.site.admin_view(masking_matrix_view)
