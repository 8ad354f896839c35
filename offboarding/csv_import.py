"""Leavers from an HR system's CSV export: one draft case per good row, bad rows reported.

Accepted columns (header names, case-insensitive): `username` or `wecom_userid` (or `user`,
either kind), `notice_date`, `last_working_date` (YYYY-MM-DD), optional `successor`, `reason`.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from offboarding.models import OffboardingCase
from offboarding.services import create_case
from scrm.product_language import product_text

if TYPE_CHECKING:
    from scrm.staff.types import Actor

MAX_BYTES = 2_000_000


@dataclass
class ImportResult:
    created: list[OffboardingCase] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _staff(identifier: str):
    Staff = get_user_model()
    found = Staff.objects.filter(Q(username=identifier) | Q(wecom_userid=identifier)).first()
    if found is None:
        raise ValidationError(_("no staff member “%(name)s”") % {"name": identifier})
    return found


def _date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            _("%(column)s “%(value)s” is not a date (YYYY-MM-DD)")
            % {"column": column, "value": value}
        ) from None


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def import_leavers(*, actor: "Actor", content: bytes) -> ImportResult:
    """Create a draft case for each good row; a bad row creates nothing and is reported."""
    if len(content) > MAX_BYTES:
        raise ValidationError(
            {"file": _("The file is larger than %(MAX_BYTES)s bytes.") % {"MAX_BYTES": MAX_BYTES}}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": _("The file is not UTF-8 text.")}) from None
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    if (
        not headers & {"username", "wecom_userid", "user"}
        or not {"notice_date", "last_working_date"} <= headers
    ):
        raise ValidationError(
            {
                "file": _(
                    "Columns needed: username (or wecom_userid), "
                    "notice_date, last_working_date; optional successor, reason."
                )
            }
        )
    result = ImportResult()
    for line, raw in enumerate(reader, start=2):
        # DictReader puts the fields beyond the header in a list under the key None.
        if None in raw:
            extra = len(raw.pop(None))
            result.errors.append(
                (line, _("more fields than the header row (%(extra)s extra)") % {"extra": extra})
            )
            continue
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            # One savepoint per row: a bad row leaves nothing behind, good rows stay.
            with transaction.atomic():
                leaver = _staff(
                    row.get("username") or row.get("wecom_userid") or row.get("user", "")
                )
                last_day = _date(row.get("last_working_date", ""), "last_working_date")
                successor = row.get("successor")
                result.created.append(
                    create_case(
                        actor=actor,
                        leaver=leaver,
                        reason=row.get("reason")
                        or product_text(gettext_noop("Imported from the HR system")),
                        notice_date=_date(row.get("notice_date", ""), "notice_date"),
                        effective_at=timezone.make_aware(datetime.combine(last_day, time(23, 59))),
                        plan=OffboardingCase.Plan.SINGLE
                        if successor
                        else OffboardingCase.Plan.ROUND_ROBIN,
                        successors=[_staff(successor)] if successor else [],
                    )
                )
        except ValidationError as exc:
            result.errors.append((line, _message(exc)))
    return result
