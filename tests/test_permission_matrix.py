"""Every role against every endpoint: the status a user of that role gets.

The matrix is data: `ROWS` is a list of `Row(role, method, url, expected, ...)`, for the API
(`client="api"`, anonymous gets 401) and the Django admin (`client="admin"`, anonymous is sent to
the login page: 302). `expand()` / `admin()` turn one endpoint and a {role: status} table into
rows; `test_every_endpoint_covers_every_role` makes sure no role was forgotten, and
`test_every_api_route_has_rows` / `test_every_admin_page_has_rows` that no route was: a new
viewset action or admin page fails them until it gets its rows.

Admin conventions the statuses follow: a change form outside the viewer's scope redirects to the
admin index (302, recorded as denied); pages of a model the role has no permission for answer
403; an admin action or button answers 302 whether the service agreed or refused (the refusal is
a message on the next page), so who may do what is pinned by the API rows of the same service.

The world every row runs in (see tests/conftest.py for the organisation):
- one customer per owner: of_rep, of_rep_b, of_leaver (owner in notice), of_other_team,
  of_unrelated;
- rep_b has shared of_rep_b with rep (view level): `world.share`;
- a chat with of_rep: `world.conversation` holding `world.message` (sent now, so inside every
  history window);
- offboarding, all of team1 leavers whose supervisor is `lead`: `world.case_draft` (rep_leaving,
  draft), `world.case_approved` (approved by lead, ready to schedule or run) and
  `world.case_done` (run to completion, its one customer moved: `world.transfer`).

All rows of one role run in one test, each inside a rolled-back savepoint so writes (create,
transfer, revoke) do not leak into the next row; mismatches are reported together.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.contrib.admin import site as admin_site
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from chats.models import ConversationCustomer
from customers.models import Customer
from customers.services import add_follow_up, add_transaction, share_customer
from offboarding.services import approve_case, create_case, run_now
from scrm.audit.models import AccessAction, Channel, ReadBlock, SecurityAlert
from scrm.audit.read_budget import BLOCK_KIND
from scrm.audit.services import raise_alert, record_access
from scrm.staff import roles
from scrm.urls import api_v1
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.chats.wecom_records import text_record
from tests.conftest import ORG_USERS
from tests.factories import CustomerFactory, StaffFactory
from tests.signin import api_client, verified_login

ANONYMOUS = "anonymous"
ROLES = (*ORG_USERS, ANONYMOUS)

UrlBuilder = Callable[[SimpleNamespace], str]
BodyBuilder = Callable[[SimpleNamespace], dict]


@dataclass(frozen=True)
class Row:
    role: str  # an attribute of `org`, or ANONYMOUS
    method: str  # "GET", "POST", "PATCH", "PUT", "DELETE"
    url: UrlBuilder  # world -> url
    expected: int
    body: BodyBuilder | None = None  # world -> JSON body (API) or form data (admin)
    client: str = "api"  # "api": DRF APIClient; "admin": Django test Client, session login
    label: str = ""  # names the endpoint in failure messages
    format: str = "json"  # API bodies only: "json" or "multipart" (file uploads)


def expand(
    label: str,
    method: str,
    url: UrlBuilder,
    expected: dict[str, int],
    body: BodyBuilder | None = None,
    client: str = "api",
    format: str = "json",
) -> list[Row]:
    return [
        Row(role, method, url, status, body=body, client=client, label=label, format=format)
        for role, status in expected.items()
    ]


def customer_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/customers/{getattr(w.customers, attr).pk}/{suffix}"


def fixed(url: str) -> UrlBuilder:
    return lambda w: url


def only(allowed: dict[str, int], otherwise: int) -> dict[str, int]:
    """A full {role: status} table: `allowed` as given, every other logged-in role `otherwise`."""
    table = {role: otherwise for role in ORG_USERS}
    table.update(allowed)
    table[ANONYMOUS] = 401
    return table


def admin_only(allowed: dict[str, int], otherwise: int) -> dict[str, int]:
    """`only` for admin pages: the admin sends an anonymous visitor to its login page."""
    return {**only(allowed, otherwise), ANONYMOUS: 302}


def admin(label: str, method: str, url: UrlBuilder, expected: dict[str, int], body=None):
    return expand(label, method, url, expected, body=body, client="admin")


def _create_body(w) -> dict:
    return {"name": "新客户", "mobile": "13700000001", "stage": "lead"}


def _share_body(w) -> dict:
    return {"staff_id": w.org.rep_other_team.pk, "level": "view"}


def _transfer_body(w) -> dict:
    return {"customers": [w.customers.of_rep.pk], "to_staff": w.org.rep_b.pk, "reason": "rebalance"}


def _reveal_body(w) -> dict:
    return {"field": "mobile", "reason": "customer asked for a call back"}


CASES = "/api/v1/offboarding/cases/"
CUSTOMERS_ADMIN = "/admin/customers/customer/"
MESSAGES_ADMIN = "/admin/chats/message/"
CASES_ADMIN = "/admin/offboarding/offboardingcase/"
TRANSFERS_ADMIN = "/admin/offboarding/customertransfer/"
# Admin pages of models no role is given by default: only administrators see them.
ADMINISTRATORS_ONLY_PAGES = (
    "/admin/auth/group/",
    "/admin/token_blacklist/outstandingtoken/",
    "/admin/token_blacklist/blacklistedtoken/",
    "/admin/django_celery_beat/periodictask/",
    "/admin/django_celery_beat/clockedschedule/",
    "/admin/django_celery_beat/crontabschedule/",
    "/admin/django_celery_beat/solarschedule/",
    "/admin/django_celery_beat/intervalschedule/",
)


def message_url(suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/chats/messages/{w.message.pk}/{suffix}"


def case_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"{CASES}{getattr(w, attr).pk}/{suffix}"


def customer_admin_url(attr: str, suffix: str) -> UrlBuilder:
    return lambda w: f"{CUSTOMERS_ADMIN}{getattr(w.customers, attr).pk}/{suffix}"


def case_admin_url(attr: str, suffix: str) -> UrlBuilder:
    return lambda w: f"{CASES_ADMIN}{getattr(w, attr).pk}/{suffix}"


def _batch_body(w) -> dict:
    return {"messages": [text_record("rep", "wm-matrix", "您好，这是新消息")]}


def _case_body(w) -> dict:
    return {
        "leaver": w.org.rep.pk,
        "successor": w.org.rep_b.pk,
        "reason": "moves to another city",
        "effective_at": (timezone.now() + timedelta(days=30)).isoformat(),
    }


def _leavers_csv(w) -> dict:
    today = timezone.localdate()
    content = (
        "username,notice_date,last_working_date,successor\n"
        f"rep,{today},{today + timedelta(days=30)},rep_b\n"
    )
    return {"file": SimpleUploadedFile("leavers.csv", content.encode(), "text/csv")}


def _refusal_action_body(w) -> dict:
    return {
        "action": "record_refusal_action",
        "_selected_action": [w.transfer.pk],
        "reason": "the customer wants to stay with the company's hotline",
    }


def _reassign_body(w) -> dict:
    return {
        "action": "reassign_owner",
        "_selected_action": [w.customers.of_rep.pk],
        "apply": "1",
        "to_staff": w.org.rep_b.pk,
        "reason": "territory change",
    }


# Role groups that recur below ({role: status} fragments for `only` / `admin_only`).
SEES_OF_REP = {role: 200 for role in ("rep", "lead", "manager", "legal", "auditor", "admin_user")}
SEES_ALL = {"legal": 200, "auditor": 200, "admin_user": 200}
NO_CUSTOMERS = {"security": 403}  # audit and alerts only, no customer pages
NO_CHATS = {"hr": 403, "security": 403}  # roles without chats.view_message
# Who may log work (follow-ups, transactions) on of_rep: its change scope.
_LOGS_ON_OF_REP = {
    "rep": 200,
    "lead": 200,
    "manager": 200,
    "admin_user": 200,
    "legal": 403,
    "auditor": 403,
    **NO_CUSTOMERS,
}
CHAT_EXPORTERS = {
    role: 200 for role in ("lead", "manager", "manager_other", "legal", "auditor", "admin_user")
}
# Offboarding: who may read cases at all, and who sees the team1 leaver's case among them.
CASE_READERS = {role: 200 for role in ("lead", "manager", "manager_other", "hr", "admin_user")}
CASE_HIDDEN = {"manager_other": 404}  # reads cases, but not those of another department
SEES_CASE = {**CASE_READERS, **CASE_HIDDEN}
CASE_RUNNERS = {"hr": 200, "admin_user": 200}
STAFF_READERS = {role: 200 for role in ("lead", "manager", "manager_other", "hr", "admin_user")}
CASE_BUTTON = {**{role: 302 for role in CASE_READERS}, **CASE_HIDDEN}


AUDIT_READERS = {"auditor": 200, "security": 200, "admin_user": 200}
# --- insider §7 ---
REVOKED_SHARES = "/api/v1/offboarding/revoked-shares/"
SHARERS_302 = {
    role: 302
    for role in ("rep", "rep_b", "rep_other_team", "lead", "manager", "manager_other", "admin_user")
}


def _approval_note(w):
    """The notification create_case sent the draft case's approver (lead)."""
    from scrm.staff.models import Notification

    return Notification.objects.filter(recipient=w.org.lead).order_by("pk").first()


def _read_block_alert(w) -> int:
    """rep_leaving's list reads blocked, and the alert saying so (made on first use: the rows
    run in rolled-back savepoints)."""
    ReadBlock.objects.get_or_create(
        staff=w.org.rep_leaving, released_at=None, defaults={"rows": 501}
    )
    alert, _ = SecurityAlert.objects.get_or_create(
        kind=BLOCK_KIND, actor=w.org.rep_leaving, defaults={"message": "reads blocked"}
    )
    return alert.pk


AUDIT_ADMIN = admin_only(AUDIT_READERS, 403)
ADMINS_ONLY = admin_only({"admin_user": 200}, 403)
# --- insider §6: who sees a group room of rep_other_team (a member) ---
SEES_ROOM = {role: 200 for role in ("rep_other_team", "manager", "legal", "auditor", "admin_user")}

# Follow-ups and deals of rep's customer: the customer's view scope, and the row permission
# (HR sees some customers but no follow-ups or deals: 403; security sees no customers: 403).
ROW_READERS = {
    **{role: 200 for role in ("rep", "lead", "manager", "legal", "auditor", "admin_user")},
    "hr": 403,
    "security": 403,
}
# Logging needs the customer's change scope: legal and auditor see it but may not (403).
ROW_WRITERS = {
    **{role: 201 for role in ("rep", "lead", "manager", "admin_user")},
    **{role: 403 for role in ("hr", "legal", "auditor", "security")},
}
# Only the author corrects a row (rep's): the lead, manager and administrator change the
# customer but not someone else's note (403), like everyone who may not log on it.
OWN_ROW_EDITORS = {
    "rep": 200,
    **{role: 403 for role in ("lead", "manager", "admin_user", "hr", "legal", "auditor")},
    "security": 403,
}

ROWS: list[Row] = [
    # --- customers: list (which rows each role sees: test_list_shows_exactly_the_scope) -----
    *expand("customer list", "GET", fixed("/api/v1/customers/"), only({"security": 403}, 200)),
    # --- customers: detail ------------------------------------------------------------------
    *expand(
        "detail of rep's customer",
        "GET",
        customer_url("of_rep"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    *expand(
        "detail of a customer shared with rep",
        "GET",
        customer_url("of_rep_b"),
        only(
            {
                "rep": 200,
                "rep_b": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    *expand(
        "detail of an unrelated department's customer",
        "GET",
        customer_url("of_unrelated"),
        only(
            {
                "manager_other": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    # --- customers: create ------------------------------------------------------------------
    *expand(
        "create customer",
        "POST",
        fixed("/api/v1/customers/"),
        only({"hr": 403, "legal": 403, "auditor": 403, "security": 403}, 201),
        body=_create_body,
    ),
    # --- customers: update ------------------------------------------------------------------
    *expand(
        "patch rep's customer",
        "PATCH",
        customer_url("of_rep"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "admin_user": 200,
                # visible but not changeable: the existence is known, so 403 not 404
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=lambda w: {"stage": "contacted"},
    ),
    *expand(
        "patch a customer shared with rep at view level",
        "PATCH",
        customer_url("of_rep_b"),
        only(
            {
                "rep": 403,
                "rep_b": 200,
                "lead": 200,
                "manager": 200,
                "admin_user": 200,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=lambda w: {"stage": "contacted"},
    ),
    # --- customers: reveal ------------------------------------------------------------------
    *expand(
        "reveal mobile of rep's customer",
        "POST",
        customer_url("of_rep", "reveal/"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "admin_user": 200,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=_reveal_body,
    ),
    *expand(
        "reveal mobile of a customer shared with rep (a share does not open reveal)",
        "POST",
        customer_url("of_rep_b", "reveal/"),
        only(
            {
                "rep": 403,
                "rep_b": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "admin_user": 200,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=_reveal_body,
    ),
    # --- customers: shares ------------------------------------------------------------------
    *expand(
        "list shares of rep's customer",
        "GET",
        customer_url("of_rep", "shares/"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    *expand(
        "share rep's customer",
        "POST",
        customer_url("of_rep", "shares/"),
        only(
            {
                "rep": 201,
                "lead": 201,
                "manager": 201,
                "admin_user": 201,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=_share_body,
    ),
    *expand(
        "revoke the share of rep_b's customer with rep",
        "DELETE",
        lambda w: f"/api/v1/customers/{w.customers.of_rep_b.pk}/shares/{w.share.pk}/",
        only(
            {
                "rep_b": 204,
                "lead": 204,
                "manager": 204,
                "admin_user": 204,
                # the grantee sees the customer but may not change its shares
                "rep": 403,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
    ),
    # --- customers: follow-ups and deals ------------------------------------------------------
    *expand(
        "follow-ups of rep's customer",
        "GET",
        customer_url("of_rep", "follow-ups/"),
        only(ROW_READERS, 404),
    ),
    *expand(
        "deals of rep's customer",
        "GET",
        customer_url("of_rep", "transactions/"),
        only(ROW_READERS, 404),
    ),
    *expand(
        "log a follow-up on rep's customer",
        "POST",
        customer_url("of_rep", "follow-ups/"),
        only(ROW_WRITERS, 404),
        body=lambda w: {"note": "called back"},
    ),
    *expand(
        "log a deal with rep's customer",
        "POST",
        customer_url("of_rep", "transactions/"),
        only(ROW_WRITERS, 404),
        body=lambda w: {"date": "2026-12-01", "product": "plan", "amount": "10.00"},
    ),
    *expand(
        "correct rep's follow-up",
        "PATCH",
        lambda w: f"/api/v1/customers/{w.customers.of_rep.pk}/follow-ups/{w.follow_up.pk}/",
        only(OWN_ROW_EDITORS, 404),
        body=lambda w: {"done": True},
    ),
    *expand(
        "correct rep's deal",
        "PATCH",
        lambda w: f"/api/v1/customers/{w.customers.of_rep.pk}/transactions/{w.deal.pk}/",
        only(OWN_ROW_EDITORS, 404),
        body=lambda w: {"amount": "12.00"},
    ),
    # --- customers: transfer ----------------------------------------------------------------
    *expand(
        "transfer rep's customer to rep_b",
        "POST",
        fixed("/api/v1/customers/transfer/"),
        only({"lead": 200, "manager": 200, "admin_user": 200}, 403),
        body=_transfer_body,
    ),
    # --- staff and me -----------------------------------------------------------------------
    *expand("staff directory", "GET", fixed("/api/v1/staff/"), only({}, 200)),
    *expand("me", "GET", fixed("/api/v1/me/"), only({}, 200)),
    # --- audit ------------------------------------------------------------------------------
    *expand("audit events", "GET", fixed("/api/v1/audit/events/"), only(AUDIT_READERS, 403)),
    *expand(
        "audit events export",
        "GET",
        fixed("/api/v1/audit/events/export/"),
        only(AUDIT_READERS, 403),
    ),
    *expand("security alerts", "GET", fixed("/api/v1/alerts/"), only(AUDIT_READERS, 403)),
    *expand("api root", "GET", fixed("/api/v1/"), only({}, 200)),
    *expand(
        "staff directory entry",
        "GET",
        lambda w: f"/api/v1/staff/{w.org.rep_b.pk}/",
        only({}, 200),
    ),
    *expand(
        "audit event detail",
        "GET",
        lambda w: f"/api/v1/audit/events/{w.event.pk}/",
        only(AUDIT_READERS, 403),
    ),
    *expand(
        "security alert detail",
        "GET",
        lambda w: f"/api/v1/alerts/{w.alert.pk}/",
        only(AUDIT_READERS, 403),
    ),
    # === chats (API) ========================================================================
    *expand("chat messages", "GET", fixed("/api/v1/chats/messages/"), only(NO_CHATS, 200)),
    *expand(
        "chat message with rep's customer",
        "GET",
        message_url(),
        only({**SEES_OF_REP, **NO_CHATS}, 404),
    ),
    *expand(
        "ingest a batch of archive records",
        "POST",
        fixed("/api/v1/chats/messages/batch/"),
        only({"admin_user": 200}, 403),  # and the wecom-sync account: test below
        body=_batch_body,
    ),
    *expand(
        "hide a message with rep's customer (from the caller's own view)",
        "POST",
        message_url("hide/"),
        only({**{role: 204 for role in SEES_OF_REP}, **NO_CHATS}, 404),
    ),
    *expand(
        "chat conversations", "GET", fixed("/api/v1/chats/conversations/"), only(NO_CHATS, 200)
    ),
    *expand(
        "conversation with rep's customer",
        "GET",
        lambda w: f"/api/v1/chats/conversations/{w.conversation.pk}/",
        only({**SEES_OF_REP, **NO_CHATS}, 404),
    ),
    *expand("chat search", "GET", fixed("/api/v1/chats/search/?q=报价"), only(NO_CHATS, 200)),
    *expand(
        "chat export (csv)",
        "GET",
        fixed("/api/v1/chats/export/?format=csv"),
        only(CHAT_EXPORTERS, 403),
    ),
    *expand(
        "timeline of rep's customer",
        "GET",
        customer_url("of_rep", "timeline/"),
        only({**SEES_OF_REP, "security": 403}, 404),
    ),
    *expand(
        "timeline of a customer shared with rep",
        "GET",
        customer_url("of_rep_b", "timeline/"),
        only({**SEES_OF_REP, "rep_b": 200, "security": 403}, 404),
    ),
    # === offboarding (API): HR runs cases, the supervisor approves, managers read ==========
    *expand("offboarding cases", "GET", fixed(CASES), only(CASE_READERS, 403)),
    *expand(
        "open an offboarding case",
        "POST",
        fixed(CASES),
        only({"hr": 201, "admin_user": 201}, 403),
        body=_case_body,
    ),
    *expand("offboarding case detail", "GET", case_url("case_draft"), only(SEES_CASE, 403)),
    *expand(
        "offboarding case preview", "GET", case_url("case_draft", "preview/"), only(SEES_CASE, 403)
    ),
    *expand(
        # The supervisor recorded on the case, or a sales manager above them; never the
        # superuser (no bypass) nor HR, who opened it (insider §1).
        "approve a draft case (the leaver's supervisor)",
        "POST",
        case_url("case_draft", "approve/"),
        only({"lead": 200, "manager": 200, **CASE_HIDDEN}, 403),
    ),
    *expand(
        "schedule an approved case",
        "POST",
        case_url("case_approved", "schedule/"),
        only({**CASE_RUNNERS, **CASE_HIDDEN}, 403),
    ),
    *expand(
        "run an approved case now",
        "POST",
        case_url("case_approved", "run/"),
        only({"hr": 202, "admin_user": 202, **CASE_HIDDEN}, 403),
    ),
    *expand(
        "cancel a draft case",
        "POST",
        case_url("case_draft", "cancel/"),
        only({**CASE_RUNNERS, **CASE_HIDDEN}, 403),
        body=lambda w: {"reason": "stays after all"},
    ),
    *expand("handover report", "GET", case_url("case_done", "report/"), only(SEES_CASE, 403)),
    *expand(
        "handover report (csv)", "GET", case_url("case_done", "report/csv/"), only(SEES_CASE, 403)
    ),
    *expand(
        "import leavers from csv",
        "POST",
        fixed(f"{CASES}import/"),
        only(CASE_RUNNERS, 403),
        body=_leavers_csv,
        format="multipart",
    ),
    *expand(
        "offboarding transfers",
        "GET",
        fixed("/api/v1/offboarding/transfers/"),
        only(CASE_READERS, 403),
    ),
    *expand(
        "record a refused transfer",
        "POST",
        lambda w: f"/api/v1/offboarding/transfers/{w.transfer.pk}/refuse/",
        only({**CASE_RUNNERS, **CASE_HIDDEN}, 403),
        body=lambda w: {"reason": "the customer wants to stay with the company's hotline"},
    ),
    # === the Django admin (session login; out-of-scope change forms redirect to the index) ==
    *admin("admin index", "GET", fixed("/admin/"), admin_only({}, 200)),
    *admin("customer changelist", "GET", fixed(CUSTOMERS_ADMIN), admin_only(NO_CUSTOMERS, 200)),
    *admin(
        "customer change form of rep's customer",
        "GET",
        customer_admin_url("of_rep", "change/"),
        admin_only({**SEES_OF_REP, **NO_CUSTOMERS}, 302),
    ),
    *admin(
        "customer change form of an unrelated department's customer",
        "GET",
        customer_admin_url("of_unrelated", "change/"),
        admin_only({**SEES_ALL, "manager_other": 200, **NO_CUSTOMERS}, 302),
    ),
    *admin(
        "customer add form",
        "GET",
        fixed(f"{CUSTOMERS_ADMIN}add/"),
        admin_only({"hr": 403, "legal": 403, "auditor": 403, **NO_CUSTOMERS}, 200),
    ),
    *admin(
        "customer dashboard",
        "GET",
        fixed(f"{CUSTOMERS_ADMIN}dashboard/"),
        admin_only(NO_CUSTOMERS, 200),
    ),
    *admin(
        "reveal button on rep's customer",
        "POST",
        customer_admin_url("of_rep", "reveal/"),
        # Outside the scope the reveal answers 404 (and records a denied attempt), security too.
        admin_only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "admin_user": 200,
                "auditor": 403,
            },
            404,
        ),
        body=_reveal_body,
    ),
    *admin(
        "log a follow-up on rep's customer (the form)",
        "GET",
        customer_admin_url("of_rep", "follow-up/"),
        # The change scope: seen but not changeable (legal, auditors) is 403; unseen 404.
        admin_only(_LOGS_ON_OF_REP, 404),
    ),
    *admin(
        "log a follow-up on rep's customer",
        "POST",
        customer_admin_url("of_rep", "follow-up/"),
        admin_only({k: 302 if v == 200 else v for k, v in _LOGS_ON_OF_REP.items()}, 404),
        body=lambda w: {"note": "电话回访，客户下周签约"},
    ),
    *admin(
        "mark rep's follow-up done",
        "POST",
        lambda w: f"{CUSTOMERS_ADMIN}{w.customers.of_rep.pk}/follow-up/{w.follow_up.pk}/done/",
        # The change scope decides the answer (a colleague's follow-up comes back as a message
        # on the redirect); only its author's marks it done (test_customer_admin).
        admin_only({k: 302 if v == 200 else v for k, v in _LOGS_ON_OF_REP.items()}, 404),
    ),
    *admin(
        "log a transaction on rep's customer",
        "POST",
        customer_admin_url("of_rep", "transaction/"),
        admin_only({k: 302 if v == 200 else v for k, v in _LOGS_ON_OF_REP.items()}, 404),
        body=lambda w: {"date": "2026-11-30", "product": "会员积分系统", "amount": "12800"},
    ),
    *admin(
        "bulk reassign owner of rep's customer",
        "POST",
        fixed(CUSTOMERS_ADMIN),
        # Done: redirect. Refused (manager_other: the customer is outside their scope) the form
        # comes back with the sentence and the selection (200); roles without the action: the
        # changelist is shown again (200). Nothing moves unless done.
        admin_only(
            {"lead": 302, "manager": 302, "manager_other": 200, "admin_user": 302, **NO_CUSTOMERS},
            200,
        ),
        body=_reassign_body,
    ),
    *admin("access events", "GET", fixed("/admin/audit/accessevent/"), AUDIT_ADMIN),
    *admin("access events export", "GET", fixed("/admin/audit/accessevent/export/"), AUDIT_ADMIN),
    *admin("security alerts", "GET", fixed("/admin/audit/securityalert/"), AUDIT_ADMIN),
    *admin("change log", "GET", fixed("/admin/auditlog/logentry/"), AUDIT_ADMIN),
    *admin(
        "change log of rep's customer",
        "GET",
        lambda w: f"/admin/auditlog/logentry/?customer_id={w.customers.of_rep.pk}",
        AUDIT_ADMIN,
    ),
    *admin(
        "access events touching rep's customer",
        "GET",
        lambda w: f"/admin/audit/accessevent/?customer_id={w.customers.of_rep.pk}",
        AUDIT_ADMIN,
    ),
    *admin(
        "the message a security alert names",
        "GET",
        lambda w: f"{MESSAGES_ADMIN}alert/{w.alert.pk}/",
        admin_only(AUDIT_READERS, 403),
    ),
    *admin(
        "ownership history",
        "GET",
        fixed("/admin/customers/ownershiptransfer/"),
        admin_only(
            {role: 200 for role in ("lead", "manager", "manager_other", "auditor", "admin_user")},
            403,
        ),
    ),
    *admin("staff changelist", "GET", fixed("/admin/staff/staff/"), admin_only(STAFF_READERS, 403)),
    *admin(
        "staff change form",
        "GET",
        lambda w: f"/admin/staff/staff/{w.org.rep.pk}/change/",
        admin_only(STAFF_READERS, 403),
    ),
    *admin(
        "set a staff member's password (administrators only)",
        "GET",
        lambda w: f"/admin/staff/staff/{w.org.admin_user.pk}/password/",
        ADMINS_ONLY,
    ),
    *admin("message changelist", "GET", fixed(MESSAGES_ADMIN), admin_only(NO_CHATS, 200)),
    *admin(
        "message with rep's customer",
        "GET",
        lambda w: f"{MESSAGES_ADMIN}{w.message.pk}/change/",
        admin_only({**SEES_OF_REP, **NO_CHATS}, 302),
    ),
    *admin(
        "chat search page",
        "GET",
        fixed(f"{MESSAGES_ADMIN}search/?q=报价"),
        admin_only(NO_CHATS, 200),
    ),
    *admin(
        "timeline page of rep's customer",
        "GET",
        lambda w: f"{MESSAGES_ADMIN}timeline/{w.customers.of_rep.pk}/",
        admin_only(SEES_OF_REP, 403),
    ),
    *admin(
        "conversation thread of rep's customer",
        "GET",
        lambda w: f"{MESSAGES_ADMIN}thread/{w.conversation.pk}/",
        admin_only(SEES_OF_REP, 403),
    ),
    *admin(
        "conversation changelist",
        "GET",
        fixed("/admin/chats/conversation/"),
        admin_only(NO_CHATS, 200),
    ),
    *admin(
        "conversation with rep's customer",
        "GET",
        lambda w: f"/admin/chats/conversation/{w.conversation.pk}/change/",
        admin_only({**SEES_OF_REP, **NO_CHATS}, 302),
    ),
    *admin(
        "sensitive word rules",
        "GET",
        fixed("/admin/chats/sensitivewordrule/"),
        admin_only({"security": 200, "admin_user": 200}, 403),
    ),
    *admin("retention policies", "GET", fixed("/admin/chats/retentionpolicy/"), ADMINS_ONLY),
    *admin(
        "legal holds",
        "GET",
        fixed("/admin/chats/legalhold/"),
        admin_only({"legal": 200, "admin_user": 200}, 403),
    ),
    *admin("purge logs", "GET", fixed("/admin/chats/purgelog/"), ADMINS_ONLY),
    *admin("history windows", "GET", fixed("/admin/chats/historywindow/"), ADMINS_ONLY),
    *admin(
        "tags",
        "GET",
        fixed("/admin/customers/tag/"),
        admin_only({"hr": 403, "security": 403}, 200),
    ),
    *admin(
        "departments",
        "GET",
        fixed("/admin/staff/department/"),
        admin_only({"hr": 200, "admin_user": 200}, 403),
    ),
    *admin(
        "teams",
        "GET",
        fixed("/admin/staff/team/"),
        admin_only({"hr": 200, "admin_user": 200}, 403),
    ),
    *(
        row
        for url in ADMINISTRATORS_ONLY_PAGES
        for row in admin(f"administrators' page {url}", "GET", fixed(url), ADMINS_ONLY)
    ),
    # --- offboarding (HR's pages) ------------------------------------------------------------
    *admin("offboarding cases page", "GET", fixed(CASES_ADMIN), admin_only(CASE_READERS, 403)),
    *admin(
        "offboarding case add form",
        "GET",
        fixed(f"{CASES_ADMIN}add/"),
        admin_only(CASE_RUNNERS, 403),
    ),
    *admin(
        "offboarding case page",
        "GET",
        case_admin_url("case_draft", "change/"),
        admin_only({**SEES_CASE, "manager_other": 302}, 403),
    ),
    *admin(
        "offboarding preview page",
        "GET",
        case_admin_url("case_draft", "preview/"),
        admin_only(SEES_CASE, 403),
    ),
    # The case buttons always come back to the case page (302); the service's refusal of a
    # role shows as a message there. Who may do what is pinned by the API rows above.
    *admin(
        "offboarding approve button",
        "POST",
        case_admin_url("case_draft", "approve/"),
        admin_only(CASE_BUTTON, 403),
    ),
    *admin(
        "offboarding schedule button",
        "POST",
        case_admin_url("case_approved", "schedule/"),
        admin_only(CASE_BUTTON, 403),
    ),
    *admin(
        "offboarding run button",
        "POST",
        case_admin_url("case_approved", "run/"),
        admin_only(CASE_BUTTON, 403),
    ),
    *admin(
        "offboarding cancel page",
        "GET",
        case_admin_url("case_draft", "cancel/"),
        admin_only(SEES_CASE, 403),
    ),
    *admin(
        "offboarding report page",
        "GET",
        case_admin_url("case_done", "report/"),
        admin_only(SEES_CASE, 403),
    ),
    *admin(
        "offboarding report csv",
        "GET",
        case_admin_url("case_done", "report.csv"),
        admin_only(SEES_CASE, 403),
    ),
    *admin(
        "offboarding case progress (polled while it runs)",
        "GET",
        case_admin_url("case_draft", "progress.json"),
        admin_only(SEES_CASE, 403),
    ),
    # Each person's own notifications: opening one follows its link; anyone else's is 404.
    *admin(
        "my notifications page",
        "GET",
        fixed("/admin/staff/notification/"),
        admin_only({}, 200),
    ),
    *admin(
        "open my notification (the approver's request for case_draft)",
        "GET",
        lambda w: f"/admin/staff/notification/{_approval_note(w).pk}/open/",
        admin_only({"lead": 302}, 404),
    ),
    *admin(
        "offboarding leavers import page",
        "GET",
        fixed(f"{CASES_ADMIN}import/"),
        admin_only(CASE_RUNNERS, 403),
    ),
    *admin(
        "offboarding transfers page",
        "GET",
        fixed(TRANSFERS_ADMIN),
        admin_only(CASE_READERS, 403),
    ),
    *admin(
        "record a refused transfer (admin action)",
        "POST",
        fixed(TRANSFERS_ADMIN),
        # Done: redirect. Case readers without the action get the page again (200).
        admin_only({**CASE_READERS, "hr": 302, "admin_user": 302}, 403),
        body=_refusal_action_body,
    ),
    # --- insider §3: read door (Django's own admin pages) -----------------------------------
    *admin(
        "customer history of rep's customer",
        "GET",
        customer_admin_url("of_rep", "history/"),
        admin_only({**SEES_OF_REP, **NO_CUSTOMERS}, 302),
    ),
    *admin(
        "admin autocomplete (switched off)",
        "GET",
        fixed(
            "/admin/autocomplete/?app_label=customers&model_name=followup"
            "&field_name=customer&term=138"
        ),
        admin_only({}, 404),
    ),
    *admin(
        "customer delete confirmation (off: customers are never deleted)",
        "GET",
        customer_admin_url("of_rep", "delete/"),
        admin_only({}, 403),
    ),
    *admin(
        "access event in the admin",
        "GET",
        lambda w: f"/admin/audit/accessevent/{w.event.pk}/change/",
        AUDIT_ADMIN,
    ),
    *admin(
        "security alert in the admin",
        "GET",
        lambda w: f"/admin/audit/securityalert/{w.alert.pk}/change/",
        AUDIT_ADMIN,
    ),
    # --- insider §7: what leavers leave behind ----------------------------------------------
    *expand(
        "staff directory filtered by employment status",
        "GET",
        fixed("/api/v1/staff/?employment_status=notice"),
        only({"hr": 200, "admin_user": 200}, 403),
    ),
    *expand("revoked shares", "GET", fixed(REVOKED_SHARES), only(NO_CUSTOMERS, 200)),
    # Only the customer's owner (rep_b, the successor) re-confirms; case readers see the row
    # (403 from the verb), everyone else does not (404).
    *expand(
        "reconfirm a revoked share",
        "POST",
        lambda w: f"{REVOKED_SHARES}{w.case_done.revoked_shares.get().pk}/reconfirm/",
        only(
            {"rep_b": 201, **{r: 403 for r in ("lead", "manager", "hr", "admin_user")}}
            | NO_CUSTOMERS,
            404,
        ),
    ),
    *expand(
        "release a read block",
        "POST",
        lambda w: f"/api/v1/alerts/{_read_block_alert(w)}/release-reads/",
        only({"security": 200}, 403),
        body=lambda w: {"reason": "hand-over list agreed with the lead"},
    ),
    *admin(
        "revoked shares page",
        "GET",
        fixed("/admin/offboarding/revokedshare/"),
        admin_only(NO_CUSTOMERS, 200),
    ),
    *admin(
        "reconfirm a revoked share (admin action)",
        "POST",
        fixed("/admin/offboarding/revokedshare/"),
        # Sharers run the action (302, the verb's refusal is a message); others get the page.
        admin_only({**SHARERS_302, "hr": 200, "legal": 200, "auditor": 200, **NO_CUSTOMERS}, 403),
        body=lambda w: {
            "action": "reconfirm_action",
            "_selected_action": [w.case_done.revoked_shares.get().pk],
        },
    ),
    *admin(
        "release a read block (admin action)",
        "POST",
        fixed("/admin/audit/securityalert/"),
        admin_only({"security": 302, "admin_user": 302, "auditor": 200}, 403),
        body=lambda w: {
            "action": "release_reads",
            "_selected_action": [_read_block_alert(w)],
            "reason": "hand-over list agreed with the lead",
        },
    ),
    # --- insider §6: group rooms and the archive binding ---------------------------------------
    # `world.room`: rep_other_team's group room, in which rep's customer spoke. Seen through its
    # member's scopes (rep_other_team, the Sales manager) and the "everything" roles; rep, whose
    # customer spoke there, and the team 1 lead are not members: 404 / admin redirect.
    *expand(
        "message in a group room of rep_other_team",
        "GET",
        lambda w: f"/api/v1/chats/messages/{w.room_message.pk}/",
        only({**SEES_ROOM, **NO_CHATS}, 404),
    ),
    *expand(
        "group room of rep_other_team",
        "GET",
        lambda w: f"/api/v1/chats/conversations/{w.room.pk}/",
        only({**SEES_ROOM, **NO_CHATS}, 404),
    ),
    *admin(
        "group room page of rep_other_team",
        "GET",
        lambda w: f"/admin/chats/conversation/{w.room.pk}/change/",
        admin_only({**SEES_ROOM, **NO_CHATS}, 302),
    ),
    *admin(
        "message page in a group room of rep_other_team",
        "GET",
        lambda w: f"{MESSAGES_ADMIN}{w.room_message.pk}/change/",
        admin_only({**SEES_ROOM, **NO_CHATS}, 302),
    ),
    *expand(
        "set the WeCom external id of rep's customer (the archive binding)",
        "PATCH",
        customer_url("of_rep"),
        only(
            {
                # sales may change the customer, not this field: a right they lack (403)
                "rep": 403,
                "lead": 403,
                "manager": 403,
                "admin_user": 200,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=lambda w: {"wecom_external_userid": "wm-matrix-new"},
    ),
    # --- insider §1: staff lifecycle ---
    *admin(
        "reactivate a departed staff member (administrators only)",
        "GET",
        lambda w: f"/admin/staff/staff/{w.org.rep.pk}/reactivate/",
        ADMINS_ONLY,
    ),
    # --- insider §2: no oracles (lookups and searches that would confirm a masked value) ---
    # Exact lookups need the right to reveal the field's data class (sales and legal may reveal
    # contact data, only legal identity data; the superuser holds every permission).
    *expand(
        "customer lookup by mobile",
        "GET",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_leaver.mobile}",
        only({"hr": 403, "auditor": 403, "security": 403}, 200),
    ),
    *expand(
        "customer lookup by ID number",
        "GET",
        lambda w: f"/api/v1/customers/?id_number={w.customers.of_leaver.id_number}",
        only({"legal": 200, "admin_user": 200}, 403),
    ),
    # Name search only for roles that see names (sales: in their book).
    *expand(
        "customer name search",
        "GET",
        lambda w: f"/api/v1/customers/?q={w.customers.of_leaver.name}",
        only(
            {r: 200 for r in ("rep", "rep_b", "rep_other_team", "lead", "manager")}
            | {"manager_other": 200},
            403,
        ),
    ),
    # The admin refuses with a message on the plain changelist (302), or answers the search.
    *admin(
        "admin customer search by name",
        "GET",
        lambda w: f"{CUSTOMERS_ADMIN}?q={w.customers.of_leaver.name}",
        admin_only(
            {r: 200 for r in ("rep", "rep_b", "rep_other_team", "lead", "manager")}
            | {"manager_other": 200, **NO_CUSTOMERS},
            302,
        ),
    ),
    *admin(
        "admin customer search by mobile",
        "GET",
        lambda w: f"{CUSTOMERS_ADMIN}?q={w.customers.of_leaver.mobile}",
        admin_only({"hr": 302, "auditor": 302, **NO_CUSTOMERS}, 200),
    ),
    *admin(
        "admin customer lookup on a sensitive field",
        "GET",
        fixed(f"{CUSTOMERS_ADMIN}?name__regex=."),
        admin_only(NO_CUSTOMERS, 302),
    ),
    *admin(
        "admin message lookup on the text",
        "GET",
        fixed(f"{MESSAGES_ADMIN}?text__contains=2345"),
        admin_only(NO_CHATS, 302),
    ),
    # --- insider §5: the masking matrix page; the change log scoped like customers ----------
    *admin(
        "masking matrix page",
        "GET",
        fixed("/admin/masking-matrix/"),
        admin_only({"auditor": 200, "security": 200, "admin_user": 200}, 403),
    ),
    *admin(
        "change log entry of rep's customer",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{_log_entry_of(w.customers.of_rep).pk}/change/",
        # The security officer has no customer scope: "not found", back to the index.
        admin_only({"auditor": 200, "admin_user": 200, "security": 302}, 403),
    ),
    *admin(
        "change log entry of an offboarding case (not about a customer)",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{_log_entry_of(w.case_draft).pk}/change/",
        AUDIT_ADMIN,
    ),
    # --- identity: sign-in steps, logout, two-factor set-up ---------------------------------
    # The sign-in steps take no caller: a stale ticket is a 400 for anyone, a forged refresh
    # token a 401. The caller's own set-up and "sign out everywhere" need a signed-in caller.
    *expand(
        "second sign-in step with a stale ticket",
        "POST",
        fixed("/api/v1/auth/token/mfa/"),
        {role: 400 for role in ROLES},
        body=lambda w: {"ticket": "not-a-ticket", "code": "123456"},
    ),
    *expand(
        "logout with a forged refresh token",
        "POST",
        fixed("/api/v1/auth/logout/"),
        {role: 401 for role in ROLES},
        body=lambda w: {"refresh": "forged.token.value"},
    ),
    *expand("sign out everywhere", "POST", fixed("/api/v1/auth/logout/all/"), only({}, 204)),
    *expand(
        "start an authenticator set-up", "POST", fixed("/api/v1/auth/mfa/totp/"), only({}, 201)
    ),
    *expand(
        "confirm an authenticator nobody started",
        "POST",
        fixed("/api/v1/auth/mfa/totp/confirm/"),
        only({}, 409),  # valid input, but no set-up to confirm: a conflict
        body=lambda w: {"code": "123456"},
    ),
    # The admin's code step for a signed-in, verified user: the form (anonymous: no sign-in
    # under way, back to the login). The set-up page: verified privileged users are set up
    # already (back to the index), the others may start one.
    *admin(
        "admin second-factor step",
        "GET",
        fixed("/admin/mfa/verify/"),
        {**{role: 200 for role in ORG_USERS}, ANONYMOUS: 302},
    ),
    *admin(
        "admin authenticator set-up",
        "GET",
        fixed("/admin/mfa/enrol/"),
        admin_only(
            {"rep": 200, "rep_b": 200, "rep_other_team": 200},
            302,
        ),
    ),
    # --- identity change log: who may do what, read by the audit trail's readers only -------
    *expand("api change log", "GET", fixed("/api/v1/audit/changes/"), only(AUDIT_READERS, 403)),
    *expand(
        "api change log of one staff member",
        "GET",
        lambda w: f"/api/v1/audit/changes/?staff={w.org.rep.pk}",
        only(AUDIT_READERS, 403),
    ),
    *expand(
        "api change log entry of a staff record",
        "GET",
        lambda w: f"/api/v1/audit/changes/{_log_entry_of(w.org.rep).pk}/",
        only(AUDIT_READERS, 403),
    ),
    *expand(
        "api change log entry of rep's customer",
        "GET",
        lambda w: f"/api/v1/audit/changes/{_log_entry_of(w.customers.of_rep).pk}/",
        # The security officer has no customer scope: not found.
        only({"auditor": 200, "admin_user": 200, "security": 404}, 403),
    ),
    *admin(
        "admin change log of one staff member",
        "GET",
        lambda w: f"/admin/auditlog/logentry/?staff={w.org.rep.pk}",
        AUDIT_ADMIN,
    ),
    # --- identity deploy: the API schema and its docs pages, signed-in staff only -----------
    *expand("API schema", "GET", fixed("/api/schema/"), only({}, 200)),
    *admin("Swagger UI (session)", "GET", fixed("/api/docs/"), admin_only({}, 200)),
    *admin("Swagger UI script (session)", "GET", fixed("/api/docs/?script"), admin_only({}, 200)),
    *admin("ReDoc (session)", "GET", fixed("/api/redoc/"), admin_only({}, 200)),
]


def _log_entry_of(obj):
    from auditlog.models import LogEntry

    return LogEntry.objects.get_for_object(obj).latest("id")


# Which customers each role's list shows (attributes of the `customers` fixture).
EVERYONE = {"of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"}
LIST_SCOPE = {
    "rep": {"of_rep", "of_rep_b"},  # own + shared with them
    "rep_b": {"of_rep_b"},
    "rep_other_team": {"of_other_team"},
    "lead": {"of_rep", "of_rep_b", "of_leaver"},  # team1
    "manager": {"of_rep", "of_rep_b", "of_leaver", "of_other_team"},  # Sales tree
    "manager_other": {"of_unrelated"},
    "hr": {"of_leaver"},  # customers of staff in notice / departed
    "legal": EVERYONE,
    "auditor": EVERYONE,
    "admin_user": EVERYONE,
}


@pytest.fixture
def customer_world(org, customers):
    share = share_customer(actor=org.rep_b, customer=customers.of_rep_b, with_staff=org.rep)
    follow_up = add_follow_up(actor=org.rep, customer=customers.of_rep, note="called")
    deal = add_transaction(
        actor=org.rep,
        customer=customers.of_rep,
        date=timezone.localdate(),
        product="plan",
        amount=Decimal("10.00"),
    )
    return SimpleNamespace(
        org=org, customers=customers, share=share, follow_up=follow_up, deal=deal
    )


def _offboarding_cases(org) -> dict:
    """Three cases of team1 leavers (supervisor: lead), through the real services."""
    today = timezone.localdate()
    effective_at = timezone.now() + timedelta(days=30)

    def case_of(leaver):
        leaver.supervisor = org.lead
        leaver.save()
        return create_case(
            actor=org.hr,
            leaver=leaver,
            reason="resigned",
            notice_date=today,
            effective_at=effective_at,
            successors=[org.rep_b],
        )

    def new_leaver(username):
        return StaffFactory(username=username, roles=[roles.SALES_REP], team=org.team1)

    # The leaver of "open an offboarding case" needs a supervisor to approve it (insider §1).
    org.rep.supervisor = org.lead
    org.rep.save()
    approved = approve_case(actor=org.lead, case=case_of(new_leaver("leaver_approved")))
    done_leaver = new_leaver("leaver_done")
    done_customer = CustomerFactory(owner=done_leaver)
    # insider §7: a share the leaver gave, revoked by the run (case_done.revoked_shares)
    share_customer(actor=done_leaver, customer=done_customer, with_staff=org.rep_other_team)
    done = approve_case(actor=org.lead, case=case_of(done_leaver))
    done = run_now(actor=org.hr, case=done)
    assert done.status == "completed", done.error
    return {
        "case_draft": case_of(org.rep_leaving),
        "case_approved": approved,
        "case_done": done,
        "transfer": done.transfers.get(),
    }


@pytest.fixture
def world(customer_world):
    """The customer world plus a chat with rep's customer and offboarding cases."""
    org, customers = customer_world.org, customer_world.customers
    conversation = ConversationFactory(customer=customers.of_rep)
    message = MessageFactory(conversation=conversation, text="您好，报价单已发送")
    event = record_access(
        actor=org.rep,
        action=AccessAction.VIEW,
        model=Customer,
        object_ids=[customers.of_rep.pk],
        channel=Channel.API,
    )
    alert = raise_alert(
        kind="sensitive_word", message=f"Message #{message.pk} matches a rule.", obj=message
    )
    # --- insider §6: a group room of rep_other_team in which rep's customer spoke ---
    room = ConversationFactory(customer=None, owner=org.rep_other_team, room_id="room-matrix")
    room.staff.add(org.rep_other_team)
    ConversationCustomer.objects.create(conversation=room, customer=customers.of_rep)
    room_message = MessageFactory(
        conversation=room, sender_customer=customers.of_rep, sender_staff=None
    )
    return SimpleNamespace(
        **vars(customer_world),
        conversation=conversation,
        message=message,
        event=event,
        alert=alert,
        room=room,
        room_message=room_message,
        **_offboarding_cases(org),
    )


def client_for(row: Row, world) -> APIClient | Client:
    user = None if row.role == ANONYMOUS else getattr(world.org, row.role)
    if user is not None:
        # Rows run in rolled-back transactions, but "sign out everywhere" also raised the
        # in-memory account's generation: read the current one back.
        user.refresh_from_db(fields=["auth_generation"])
    if row.client == "admin":
        client = Client()
        if user is not None:
            verified_login(client, user)
        return client
    # A signed-in API client used a second factor where the role needs one (tests/identity
    # covers the refusals without it).
    return APIClient() if user is None else api_client(user)


def perform(row: Row, world):
    client = client_for(row, world)
    body = row.body(world) if row.body else None
    method = getattr(client, row.method.lower())
    if row.client == "admin":
        return method(row.url(world), body) if body is not None else method(row.url(world))
    return method(row.url(world), body, format=row.format)


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_the_expected_status_everywhere(role, world):
    mismatches = []
    for row in (r for r in ROWS if r.role == role):
        with transaction.atomic():
            response = perform(row, world)
            transaction.set_rollback(True)
        if response.status_code != row.expected:
            mismatches.append(
                f"{row.method} {row.url(world)} ({row.label}): "
                f"expected {row.expected}, got {response.status_code}"
            )
    assert not mismatches, "\n".join(mismatches)


def test_every_endpoint_covers_every_role():
    by_endpoint: dict[tuple[str, str, str], set[str]] = {}
    for row in ROWS:
        by_endpoint.setdefault((row.client, row.method, row.label), set()).add(row.role)
    incomplete = {
        key: set(ROLES) - roles for key, roles in by_endpoint.items() if roles != set(ROLES)
    }
    assert incomplete == {}


def test_the_archive_sync_account_may_ingest_but_not_read(customer_world, api_client_for):
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    client = api_client_for(sync)

    ingest = client.post(
        "/api/v1/chats/messages/batch/", _batch_body(customer_world), format="json"
    )
    read = client.get("/api/v1/chats/messages/")

    assert (ingest.status_code, read.status_code) == (200, 403)


def test_hr_edits_staff_records_but_cannot_hand_out_rights(customer_world):
    """Regression: HR could tick "superuser" on itself or set an administrator's password."""
    org = customer_world.org
    client = Client()
    verified_login(client, org.hr)

    form = client.get(f"/admin/staff/staff/{org.hr.pk}/change/").content.decode()
    password = client.post(
        f"/admin/staff/staff/{org.admin_user.pk}/password/",
        {"password1": "a-new-Secret-2026", "password2": "a-new-Secret-2026"},
    )

    assert 'name="username"' in form  # the record itself stays editable
    for field in ("is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in form
    assert password.status_code == 403
    org.admin_user.refresh_from_db()
    assert not org.admin_user.check_password("a-new-Secret-2026")


@pytest.mark.parametrize("client", ["api", "admin"])
def test_timeline_shows_messages_only_to_holders_of_the_chat_permission(client, world):
    """Regression: the timeline needed only customers.view_customer, so a role whose chat
    permission an administrator removed still read the archive there."""
    group = world.org.rep.groups.get()
    group.permissions.remove(Permission.objects.get(codename="view_message"))
    user = type(world.org.rep).objects.get(pk=world.org.rep.pk)  # fresh permission cache
    browser = Client()
    verified_login(browser, user)
    pk = world.customers.of_rep.pk

    if client == "api":
        response = browser.get(f"/api/v1/customers/{pk}/timeline/")
        kinds = [entry["kind"] for entry in response.json()["entries"]]
    else:
        response = browser.get(f"/admin/chats/message/timeline/{pk}/")
        kinds = [entry["kind"] for entry in response.context["entries"]]

    assert response.status_code == 200
    assert "message" not in kinds
    assert world.message.text not in response.content.decode()


@pytest.mark.parametrize("role", sorted(LIST_SCOPE))
def test_list_shows_exactly_the_scope(role, customer_world, api_client_for):
    response = api_client_for(getattr(customer_world.org, role)).get("/api/v1/customers/")

    assert response.status_code == 200
    expected = {getattr(customer_world.customers, attr).pk for attr in LIST_SCOPE[role]}
    assert {row["id"] for row in response.json()["results"]} == expected


def test_rep_no_longer_sees_a_customer_once_the_share_is_revoked(world, api_client_for):
    rep_b_client = api_client_for(world.org.rep_b)
    url = f"/api/v1/customers/{world.customers.of_rep_b.pk}/shares/{world.share.pk}/"
    assert rep_b_client.delete(url).status_code == 204

    response = api_client_for(world.org.rep).get("/api/v1/customers/")

    assert {row["id"] for row in response.json()["results"]} == {world.customers.of_rep.pk}


def test_transfer_outside_the_leads_team_moves_nothing(world, api_client_for):
    body = {
        "customers": [world.customers.of_rep.pk, world.customers.of_other_team.pk],
        "to_staff": world.org.rep_b.pk,
        "reason": "rebalance",
    }

    response = api_client_for(world.org.lead).post(
        "/api/v1/customers/transfer/", body, format="json"
    )

    assert response.status_code == 403
    world.customers.of_rep.refresh_from_db()
    assert world.customers.of_rep.owner == world.org.rep


def test_deactivated_staff_are_refused_even_with_a_live_session(world, api_client_for):
    world.org.rep.is_active = False
    world.org.rep.save()

    response = api_client_for(world.org.rep).get("/api/v1/customers/")

    assert response.status_code == 403


# --- the matrix covers every route ----------------------------------------------------------

# Routes without rows, and why.
UNMATRIXED_API_ROUTES = {
    "token_obtain_pair": "the sign-in door itself: anonymous by design (tests/identity)",
    "token_refresh": "the sign-in door itself: anonymous by design (tests/identity)",
}
# Admin routes every ModelAdmin has; the rows cover the changelists and each custom page.
STANDARD_ADMIN_SUFFIXES = ("_add", "_change", "_delete", "_history")
UNMATRIXED_ADMIN_ROUTES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
    "search",  # unfold's model search, switched off (tests/insider/test_read_door.py)
}


def _route_names(patterns) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _route_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


def _resolved_names(world, client: str) -> set[str]:
    return {resolve(urlsplit(row.url(world)).path).url_name for row in ROWS if row.client == client}


def test_every_api_route_has_rows(world):
    routes = _route_names(api_v1) - set(UNMATRIXED_API_ROUTES)

    assert routes - _resolved_names(world, "api") == set()


def test_every_admin_page_has_rows(world):
    standard = {
        f"{model._meta.app_label}_{model._meta.model_name}{suffix}"
        for model in admin_site._registry
        for suffix in STANDARD_ADMIN_SUFFIXES
    }
    routes = _route_names(admin_site.urls[0]) - standard - UNMATRIXED_ADMIN_ROUTES

    assert routes - _resolved_names(world, "admin") == set()
