"""The masking matrix as an admin page: who sees which data class of a customer, and how."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from scrm.masking.policy import (
    BASIC,
    CONTACT,
    HIDDEN,
    HIDDEN_VALUE,
    IDENTITY,
    IN_BOOK,
    MASKED,
    MATRIX_CLASSES,
    SENSITIVE_FIELDS,
    SHOWN,
    field_label,
    matrix_table,
)
from scrm.staff import roles
from scrm.staff.roles import role_label
from scrm.staff.types import Viewer

# The policy is readable by those who keep and check it; it names no customer and no value, so
# reading it is not recorded as an access event.
MATRIX_READERS = frozenset({roles.ADMINISTRATOR, roles.AUDITOR, roles.SECURITY_OFFICER})

PRESENTATION_LABELS = {
    SHOWN: _("shown"),
    IN_BOOK: _("shown in own book"),
    MASKED: _("masked"),
    HIDDEN: _("hidden"),
}
LEGEND = {
    SHOWN: _("shown as stored"),
    IN_BOOK: _(
        "shown for the customers of the viewer's book (own / team / department), "
        "masked for every other customer (shares, wider scopes) and for staff in their notice "
        "period"
    ),
    MASKED: _("masked (e.g. 138****5678); the raw value only through a recorded reveal"),
    HIDDEN: _("not shown at all, not even masked (%(token)s)") % {"token": HIDDEN_VALUE},
}
CLASS_LABELS = {BASIC: _("basic"), CONTACT: _("contact"), IDENTITY: _("identity")}


def may_read_matrix(user: Viewer) -> bool:
    return bool(user.is_active and (user.is_superuser or set(user.role_names) & MATRIX_READERS))


def masking_matrix_view(request: HttpRequest) -> HttpResponse:
    if not may_read_matrix(request.user):
        raise PermissionDenied(
            _("Only administrators, auditors and security officers may read it.")
        )
    fields = {
        c: [f for f, s in SENSITIVE_FIELDS.items() if s.data_class == c] for c in MATRIX_CLASSES
    }
    context = {
        **admin.site.each_context(request),
        "title": _("Masking matrix"),
        "classes": [
            {"name": CLASS_LABELS[c], "fields": [field_label(f) for f in fields[c]]}
            for c in MATRIX_CLASSES
        ],
        "rows": [
            {
                "label": role_label(row["role"]),
                "cells": [{"key": c, "label": PRESENTATION_LABELS[c]} for c in row["cells"]],
            }
            for row in matrix_table()
        ],
        "legend": [(PRESENTATION_LABELS[k], meaning) for k, meaning in LEGEND.items()],
    }
    return TemplateResponse(request, "admin/masking/matrix.html", context)


masking_matrix = admin.site.admin_view(masking_matrix_view)
