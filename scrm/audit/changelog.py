"""The change log (django-auditlog's LogEntry) as a viewer may read it.

An entry about a customer, or about a row that belongs to one (follow-up, transaction, share,
hand-over transfer, legal hold), is visible only to viewers whose customer scope
(`Customer.objects.visible_to(user, VIEW)`) holds that customer: an auditor (everything) sees
all of them, a security officer (no customer scope) none. Entries about anything else (staff,
roles and their permissions, devices, offboarding cases, rules and policies) are the change
log's own business and visible to everyone who may open it (auditlog.view_logentry). An entry
about a customer-bound row that has since been deleted (a revoked share) can no longer be tied
to its customer: only viewers who see every customer see it (fail closed).

Diffs render through the masking matrix: sensitive customer fields are stored masked already
(AUDITLOG_MASK_CALLABLE), and a data class the viewer may not see at all shows `[hidden]`. A
password is stored concealed (scrm.staff.changelog) and shown `[hidden]` whatever is stored.

`about_staff` narrows entries to one staff member: their Staff row (its fields, roles and
permissions) and the rows bound to them (`scrm.staff.changelog.STAFF_BOUND`: devices).
"""

import copy
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from scrm.access.scope import VIEW, door, sees_everything
from scrm.audit.links import SUBJECT_BOUND, subject_model
from scrm.audit.registry import reverse_relations
from scrm.masking.policy import HIDDEN, HIDDEN_VALUE, SENSITIVE_FIELDS, presentation

if TYPE_CHECKING:
    from auditlog.models import LogEntry  # untyped: Any to the checker

    from scrm.staff.types import Viewer

# The rows an entry may be about, each with its lookups to its customer, are registered by
# their apps (scrm.audit.links.register_subject / register_bound: the customer itself, its
# follow-ups, deals and shares, a hand-over transfer, a legal hold).


def _content_types() -> dict[str, ContentType]:
    models = [apps.get_model(label) for label in SUBJECT_BOUND]
    by_model = ContentType.objects.get_for_models(*models)  # cached by ContentType's manager
    return {model._meta.label: by_model[model] for model in models}


def visible_log_entries(entries: "QuerySet[LogEntry]", user: "Viewer") -> "QuerySet[LogEntry]":
    """`entries` narrowed to what `user` may read (see the module docstring)."""
    if sees_everything(user, VIEW):
        return entries
    subject = subject_model()
    visible = door(subject).visible_to(user, VIEW).values("pk")
    content_types = _content_types()
    allowed = ~Q(content_type__in=list(content_types.values()))
    for label, paths in SUBJECT_BOUND.items():
        model = apps.get_model(label)
        if model is subject:
            ids = visible
        else:
            belongs = Q()
            for path in paths:
                belongs |= Q(**{f"{path}__in": visible})
            ids = model.objects.filter(belongs).values("pk")
        allowed |= Q(content_type=content_types[label], object_id__in=ids)
    return entries.filter(allowed)


def about_customer(entries: "QuerySet[LogEntry]", customer_id: int) -> "QuerySet[LogEntry]":
    """The entries about one customer: its own row and each row bound to it (SUBJECT_BOUND)."""
    content_types = _content_types()
    subject = subject_model()
    about = Q()
    for label, paths in SUBJECT_BOUND.items():
        if apps.get_model(label) is subject:
            about |= Q(content_type=content_types[label], object_id=customer_id)
            continue
        belongs = Q()
        for path in paths:
            belongs |= Q(**{path: customer_id})
        rows = apps.get_model(label)._default_manager.filter(belongs).values("pk")
        about |= Q(content_type=content_types[label], object_id__in=rows)
    return entries.filter(about)


def about_staff(entries: "QuerySet[LogEntry]", staff_id: int) -> "QuerySet[LogEntry]":
    """The entries about one staff member: their Staff row and each row bound to them."""
    from scrm.staff.changelog import STAFF_BOUND

    staff_model = get_user_model()
    labels = [staff_model._meta.label, *STAFF_BOUND]
    by_model = ContentType.objects.get_for_models(*(apps.get_model(label) for label in labels))
    about = Q(content_type=by_model[staff_model], object_id=staff_id)
    for label, (lookup, _options) in STAFF_BOUND.items():
        model = apps.get_model(label)
        rows = model._default_manager.filter(**{lookup: staff_id}).values("pk")
        about |= Q(content_type=by_model[model], object_id__in=rows)
    return entries.filter(about)


def changes_for(entry: "LogEntry", user: "Viewer | None") -> dict[str, Any]:
    """The entry's changes with every data class `user` may not see replaced by [hidden].

    Data classes concern customer entries only. The stored values are the log's masks, never
    raw, so a viewer who sees names raw elsewhere sees the mask here: the log keeps no raw name
    to show. (HIDDEN never depends on the customer's owner, so no owner lookup is needed.)"""
    changes: dict[str, Any] = entry.changes_dict
    if isinstance(changes.get("password"), list):  # stored concealed; never shown otherwise
        changes = {**changes, "password": [HIDDEN_VALUE, HIDDEN_VALUE]}
    if entry.content_type.model_class() is not subject_model():
        return changes
    return {
        field: (
            [HIDDEN_VALUE if value not in (None, "", "None") else value for value in change]
            if field in SENSITIVE_FIELDS
            and isinstance(change, list)
            and presentation(user, SENSITIVE_FIELDS[field].data_class) == HIDDEN
            else change
        )
        for field, change in changes.items()
    }


def field_label(entry: "LogEntry", field: str) -> str:
    """A changed field by its translated name (auditlog's lookup: mapping, then verbose_name)."""
    from auditlog.render import get_field_verbose_name

    return str(get_field_verbose_name(entry, field))


def shown_fields(entry: "LogEntry") -> list[str]:
    """The changed fields a person reads: not the reverse relations auditlog diffed into the
    entries of created rows before `scrm.audit.registry.register` excluded them (each said
    only "customers.Customer.None")."""
    model = entry.content_type.model_class()
    reverse = set(reverse_relations(model)) if model else set()
    return [field for field in entry.changes_dict if field not in reverse]


def _readable(value: object) -> object:
    # auditlog stores every value as text: "None" before a row existed, "True"/"False" flags.
    if value == "None":
        return "—"
    if isinstance(value, str) and value in ("True", "False"):
        return gettext(value)
    return value


def rendered_changes(entry: "LogEntry", user: "Viewer | None") -> str:
    """auditlog's HTML table of the changes, from `changes_for(entry, user)`, values readable."""
    from auditlog.render import render_logentry_changes_html

    changes = changes_for(entry, user)
    shown = copy.copy(entry)
    shown.changes = {
        field: [_readable(v) for v in changes[field]]
        if isinstance(changes[field], list)
        else changes[field]
        for field in shown_fields(entry)
    }
    html: str = render_logentry_changes_html(shown)
    return html
