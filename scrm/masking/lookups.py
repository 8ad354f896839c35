"""Lookups that could confirm a masked value: who may run them, and how often.

An exact lookup on a sensitive field (`?mobile=13812345678`) answers "is this somebody's
number?" even though every result is masked, so it is a reveal in disguise: allowed only to
roles that may reveal the field's data class, recorded with the value's blind index (an
investigator can tell which number was tried, the event never holds it), and counted against
an hourly budget like reveals (SCRM_LOOKUP_LIMIT_PER_HOUR). A name search answers the same
question about names: allowed only to roles that see names (the masking matrix), and for
"in book" roles only over the customers of their book.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import NoReturn, NotRequired, TypedDict, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.audit.services import raise_alert, record_access
from scrm.masking.policy import (
    BASIC,
    IN_BOOK,
    SHOWN,
    field_label,
    presentation,
    reveal_permission,
)
from scrm.masking.reveal import seconds_until_window_frees
from scrm.product_language import product_text
from scrm.staff.types import Actor, Viewer
from scrm.types import Text

T = TypeVar("T")
# The key that marks an access event as an exact lookup (its value: the field looked up).
LOOKUP_KEY = "lookup"
ALERT_KIND = "lookup_rate_limit"


class LookupAudit(TypedDict):
    """record_access's where-and-what of a lookup's denied events."""

    model: type[Model] | str
    channel: str
    request: NotRequired[HttpRequest | None]


class RefusalAudit(LookupAudit):
    actor: Viewer | None


class LookupRefused(PermissionDenied):
    """The viewer may not look this field up (recorded as a denied attempt)."""


class LookupLimitExceeded(Exception):
    """The actor used up their exact lookups for the hour; a security alert was raised.
    `retry_after`: seconds until the oldest lookup of the hour leaves the window."""

    def __init__(self, retry_after: int = 3600) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def may_look_up(user: Viewer | None, field: str) -> bool:
    """Exact lookups on `field` are for the roles that may reveal its data class."""
    return bool(user and user.is_authenticated and user.has_perm(reveal_permission(field)))


def may_search_names(user: Viewer | None) -> bool:
    """Name search is for roles that see names: everywhere (SHOWN) or in their book (IN_BOOK)."""
    return presentation(user, BASIC) in (SHOWN, IN_BOOK)


def names_limited_to_book(user: Viewer | None) -> bool:
    """Whether a name search must stay inside the user's book (scrm.access.scope.book_owners)."""
    return presentation(user, BASIC) == IN_BOOK


def _lookups_in_last_hour(user: Actor) -> QuerySet[AccessEvent]:
    since = timezone.now() - timedelta(hours=1)
    return AccessEvent.objects.filter(
        actor=user, allowed=True, at__gte=since, query__has_key=LOOKUP_KEY
    )


def lookups_in_last_hour(user: Actor) -> int:
    return _lookups_in_last_hour(user).count()


def refuse(*, audit: RefusalAudit, query: dict[str, object], message: Text) -> NoReturn:
    """Record the refused attempt (its query masked by record_access) and raise LookupRefused."""
    record_access(action=AccessAction.DENIED, allowed=False, query=query, **audit)
    raise LookupRefused(message)


def run_lookup(
    *,
    actor: Actor,
    field: str,
    blind_index: str,
    audit: LookupAudit,
    query: dict[str, object],
    read: Callable[[dict[str, object]], T],
) -> T:
    """Run `read` (the list that performs the lookup and records its own access event with the
    query entries it is given) if `actor` may look `field` up and has budget left.

    `audit` holds record_access's model / channel / request for the denied events. Raises
    LookupRefused (no right) or LookupLimitExceeded (over the hourly budget), both recorded.
    """
    lookup_query = {**query, LOOKUP_KEY: field, f"{field}_bidx": blind_index}
    if not may_look_up(actor, field):
        refuse(
            audit={"actor": actor, **audit},
            query=lookup_query,
            message=_("Your role may not look customers up by %(field)s.")
            % {"field": field_label(field)},
        )
    with transaction.atomic():
        # Serialise one user's lookups, as reveals are, so the budget cannot be raced past;
        # `read` records its event inside this transaction.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        over_limit = lookups_in_last_hour(actor) >= settings.SCRM_LOOKUP_LIMIT_PER_HOUR
        if not over_limit:
            return read(lookup_query)
        record_access(
            actor=actor,
            action=AccessAction.DENIED,
            allowed=False,
            query={**lookup_query, "limit": 1},
            **audit,
        )
        _alert_once_an_hour(actor, field)
    # Raised after the block so the denial and the alert are committed, not rolled back.
    raise LookupLimitExceeded(seconds_until_window_frees(_lookups_in_last_hour(actor)))


def _alert_once_an_hour(actor: Actor, field: str) -> None:
    if SecurityAlert.objects.filter(
        kind=ALERT_KIND, actor=actor, created_at__gte=timezone.now() - timedelta(hours=1)
    ).exists():
        return
    raise_alert(
        kind=ALERT_KIND,
        severity=SecurityAlert.Severity.HIGH,
        actor=actor,
        message=product_text(
            gettext_noop("%(name)s exceeded %(limit)s exact lookups per hour (field %(field)s)."),
            name=actor.display_name,
            limit=settings.SCRM_LOOKUP_LIMIT_PER_HOUR,
            field=field,
        ),
    )
