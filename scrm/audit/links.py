"""Links from audit rows to the objects they name, without the platform importing a domain app.

An access event or an alert names its object by model label and id. `admin_url` turns that into
the object's admin page when the viewer may open that admin at all (its model permission); the
page itself still applies the object's scope. A domain app may register a page of its own for
the alerts about its objects (`register_alert_page`): chats sends a security officer to the
message an alert points to, which its ordinary admin would not show them.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from scrm.types import Text

if TYPE_CHECKING:
    from scrm.audit.models import SecurityAlert
    from scrm.staff.types import Viewer

# The subject: the model whose ids "customer id" means in the audit filters and whose rows
# (and the rows bound to them) the change log narrows to a viewer's scope. Registered by its
# app (`register_subject`, `register_bound`), so the platform names no domain model.
_SUBJECT: list[str] = []
# model label -> the lookups from that model to its subject row (any of them may match)
SUBJECT_BOUND: dict[str, tuple[str, ...]] = {}


def register_subject(model_label: str) -> None:
    _SUBJECT[:] = [model_label.lower()]
    SUBJECT_BOUND[model_label] = ("pk",)


def register_bound(model_label: str, *paths: str) -> None:
    """Rows of `model_label` belong to a subject row through any of `paths`."""
    SUBJECT_BOUND[model_label] = paths


def subject_label() -> str:
    """The subject model's label, lower case ("app.model")."""
    if not _SUBJECT:
        raise LookupError("no app registered the audit subject (scrm.audit.links)")
    return _SUBJECT[0]


def subject_model() -> type[Model]:
    return apps.get_model(subject_label())


SHOWN_IDS = 3

# model label -> (fn(alert) -> the URL of the page that opens the alert's object for its
# readers, the link's text)
# (the text may be a lazy translation: read in the language of the page that shows it)
_ALERT_PAGES: dict[str, tuple[Callable[["SecurityAlert"], str], Text]] = {}


def register_alert_page(
    model_label: str, page: Callable[["SecurityAlert"], str], text: Text
) -> None:
    _ALERT_PAGES[model_label.lower()] = (page, text)


def alert_page(alert: "SecurityAlert") -> tuple[str, str] | None:
    """(URL, link text) of the page a domain app registered for the alert's object, if any."""
    registered = _ALERT_PAGES.get((alert.model or "").lower())
    if registered is None or not alert.object_id:
        return None
    page, text = registered
    return page(alert), str(text)


def model_of(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def model_name(label: str) -> str:
    """ "app.model" as people read it (the customer model: 客户)."""
    model = model_of(label)
    return str(model._meta.verbose_name) if model is not None else label


def admin_url(user: "Viewer | None", label: str, pk: int) -> str | None:
    """The admin change page of `label` #pk, or None when the viewer may not open that admin."""
    model = model_of(label)
    if model is None or model not in admin.site._registry or user is None:
        return None
    opts = model._meta
    if not any(
        user.has_perm(f"{opts.app_label}.{verb}_{opts.model_name}") for verb in ("view", "change")
    ):
        return None
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return None


def object_links(user: "Viewer | None", label: str, ids: Sequence[int]) -> str:
    """ "客户 #12, #13 … (+8)": the model's name and its first ids, linked where allowed."""
    name = model_name(label)
    if not ids:
        return name
    shown = []
    for pk in ids[:SHOWN_IDS]:
        url = admin_url(user, label, pk)
        shown.append((url, pk))
    links = format_html_join(
        ", ",
        "{}",
        (
            (format_html('<a href="{}" class="text-primary-600 underline">#{}</a>', url, pk),)
            if url
            else (format_html("#{}", pk),)
            for url, pk in shown
        ),
    )
    more = len(ids) - SHOWN_IDS
    if more > 0:
        return format_html("{} {} {}", name, links, _("… (+%(count)s)") % {"count": more})
    return format_html("{} {}", name, links)
