"""Every endpoint, declared once; the batteries in this package are derived from `ENDPOINTS`.

An `Endpoint` is one request (method, URL, client, body) in the world of tests/endpoints/world.py
and what it must do there:
- `statuses`: the status every role gets (`only()` / `admin_only()` build full tables; the API
  answers anonymous 401, the admin sends them to its login page, 302) -> test_permissions.py;
- `shows`: the sensitive data it could show. `SCANNED`: the whole body is scanned, as every
  role, for raw values; `CHAT` / `RAW_EXPORT`: the same, skipped for the roles that read it raw by
  an explicit right -> test_masking.py;
- `records`: {role: Event}, the one access event that role's request must leave -> test_audit.py
  (writes leave change-log entries instead: the change tests in test_audit.py);
- `queries`: the query budget of a read, exactly what the role that needs the most needs
  (test_query_budgets.py; a {"sqlite": n, "postgresql": m} pair where the two differ).

Add an endpoint by appending to `ENDPOINTS`; an API route or admin page without one fails
test_coverage.py. Variants (another customer, a lookup) are endpoints of their own; one without
`statuses` gives each recorded role its `Event.status`.

Admin conventions the statuses follow: a change form outside the viewer's scope redirects to the
admin index (302, recorded as denied); pages of a model the role has no permission for answer
403; an admin action or button answers 302 whether the service agreed or refused (the refusal is
a message on the next page), so who may do what is pinned by the API rows of the same service.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chats.export import RAW, presentation_for
from customers.models import Customer
from scrm.audit.models import AccessAction, AccessEvent, ReadBlock, SecurityAlert
from scrm.audit.read_budget import BLOCK_KIND
from scrm.masking.free_text import shows_raw_content
from tests.chats.wecom_records import text_record
from tests.conftest import ORG_USERS
from tests.endpoints.world import CUSTOMER_ATTRS

ANONYMOUS = "anonymous"
ROLES = (*ORG_USERS, ANONYMOUS)

World = SimpleNamespace
UrlBuilder = Callable[[World], str]
BodyBuilder = Callable[[World], dict]
Ids = Callable[[World], list[int]]


@dataclass(frozen=True)
class Shows:
    """What the masking battery does with an endpoint's body."""

    # Who reads this endpoint raw by an explicit right (None: nobody); skipped for them.
    raw_for: Callable[[object], bool] | None = None


def exports_raw(user) -> bool:
    return presentation_for(user) is RAW


SCANNED = Shows()
CHAT = Shows(raw_for=shows_raw_content)  # chat content or notes: raw for chats.reveal_message
RAW_EXPORT = Shows(raw_for=exports_raw)  # a download: raw for customers.export_raw


@dataclass(frozen=True)
class Event:
    """The one access event a role's request leaves."""

    action: str
    model: str
    ids: Ids  # world -> the ids the event must hold (order aside)
    query: Mapping = field(default_factory=dict)  # must be contained in the event's query
    status: int | None = None  # only on endpoints without `statuses`

    @property
    def allowed(self) -> bool:
        return self.action != AccessAction.DENIED


@dataclass(frozen=True)
class Endpoint:
    label: str
    method: str  # "GET", "POST", "PATCH", "PUT", "DELETE"
    url: UrlBuilder
    statuses: Mapping[str, int] = field(default_factory=dict)  # every role, or none
    client: str = "api"  # "api": DRF APIClient; "admin": Django test Client, session login
    body: BodyBuilder | None = None  # world -> JSON body (API) or form data (admin)
    format: str = "json"  # API bodies only: "json" or "multipart" (file uploads)
    shows: Shows | None = None  # None: shows no customer data, or not scanned
    records: Mapping[str, Event] = field(default_factory=dict)
    # The queries of the read as the role that needs the most, pinned exactly (None: not a
    # read). {"sqlite": n, "postgresql": m} where the two databases differ.
    queries: int | Mapping[str, int] | None = None
    # The world fixture it needs (tests/endpoints/world.py): "base_world" (cheapest), "world"
    # (offboarding cases) or "masking_world" (the secrets).
    needs: str = "base_world"

    @property
    def key(self) -> str:
        return f"{self.client}: {self.label}"

    def status_for(self, role: str) -> int:
        return self.statuses[role] if self.statuses else self.records[role].status

    def budget(self, vendor: str) -> int | None:
        """The query budget on this database vendor ("sqlite", "postgresql")."""
        if isinstance(self.queries, Mapping):
            return self.queries[vendor]
        return self.queries


def api(label: str, method: str, url: UrlBuilder, statuses=None, **kw) -> Endpoint:
    return Endpoint(label, method, url, statuses or {}, **kw)


def admin(label: str, method: str, url: UrlBuilder, statuses=None, **kw) -> Endpoint:
    return Endpoint(label, method, url, statuses or {}, client="admin", **kw)


def only(allowed: dict[str, int], otherwise: int) -> dict[str, int]:
    """A full {role: status} table: `allowed` as given, every other logged-in role `otherwise`."""
    table = {role: otherwise for role in ORG_USERS}
    table.update(allowed)
    table[ANONYMOUS] = 401
    return table


def admin_only(allowed: dict[str, int], otherwise: int) -> dict[str, int]:
    """`only` for admin pages: the admin sends an anonymous visitor to its login page."""
    return {**only(allowed, otherwise), ANONYMOUS: 302}


def scoped_reads(
    make: Callable[..., Endpoint],
    noun: str,
    template: str,
    attr: str,
    *,
    statuses: dict[str, int],
    model: str,
    queries: int,
    shows: Shows = SCANNED,
    denied: int | None = None,
    also: Mapping[str, Event] | None = None,
) -> list[Endpoint]:
    """One object's page read in the world's versions of it: rep's (`statuses`; rep's view
    recorded, and `also`), the unrelated department's (rep's attempt recorded as denied with the
    `denied` status; omitted when None) and the masking world's (`secrets.<attr>`, scanned)."""
    reads = [
        make(
            f"{noun} with rep's customer",
            "GET",
            at(template, attr),
            statuses,
            records={"rep": Event(VIEW, model, pk(attr)), **(also or {})},
            queries=queries,
        )
    ]
    if denied is not None:
        unrelated = f"unrelated_{attr}"
        reads.append(
            make(
                f"{noun} with the unrelated department's customer",
                "GET",
                at(template, unrelated),
                records={"rep": Event(DENIED, model, pk(unrelated), status=denied)},
            )
        )
    reads.append(
        make(
            f"{noun} with rep's customer's secrets",
            "GET",
            at(template, f"secrets.{attr}"),
            shows=shows,
            needs="masking_world",
        )
    )
    return reads


# --- URL builders ---------------------------------------------------------------------------

CASES = "/api/v1/offboarding/cases/"
CUSTOMERS_ADMIN = "/admin/customers/customer/"
MESSAGES_ADMIN = "/admin/chats/message/"
CASES_ADMIN = "/admin/offboarding/offboardingcase/"
TRANSFERS_ADMIN = "/admin/offboarding/customertransfer/"
REVOKED_SHARES = "/api/v1/offboarding/revoked-shares/"
# Admin pages of models no role is given by default: only administrators see them.
# {url: query budget}
ADMINISTRATORS_ONLY_PAGES = {
    "/admin/auth/group/": 6,
    "/admin/token_blacklist/outstandingtoken/": 6,
    "/admin/token_blacklist/blacklistedtoken/": 6,
    "/admin/django_celery_beat/periodictask/": 9,
    "/admin/django_celery_beat/clockedschedule/": 6,
    "/admin/django_celery_beat/crontabschedule/": 6,
    "/admin/django_celery_beat/solarschedule/": 6,
    "/admin/django_celery_beat/intervalschedule/": 6,
}


def fixed(url: str) -> UrlBuilder:
    return lambda w: url


def customer_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/customers/{getattr(w.customers, attr).pk}/{suffix}"


def customer_admin_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"{CUSTOMERS_ADMIN}{getattr(w.customers, attr).pk}/{suffix}"


def case_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"{CASES}{getattr(w, attr).pk}/{suffix}"


def case_admin_url(attr: str, suffix: str) -> UrlBuilder:
    return lambda w: f"{CASES_ADMIN}{getattr(w, attr).pk}/{suffix}"


def at(template: str, path: str) -> UrlBuilder:
    """`template` with the pk of a world object, e.g. at("/api/v1/x/{}/", "secrets.room")."""
    return lambda w: template.format(obj(w, path).pk)


def obj(w: World, path: str):
    """A world object by its dotted path, e.g. "customers.of_rep" or "rep_messages.0"."""
    found = w
    for name in path.split("."):
        found = found[int(name)] if name.isdigit() else getattr(found, name)
    return found


def log_entry_of(obj) -> LogEntry:
    """The newest change-log entry about `obj`."""
    return LogEntry.objects.get_for_object(obj).latest("id")


def customer_log(customer) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(Customer)
    entries = LogEntry.objects.filter(content_type=content_type, object_pk=str(customer.pk))
    return list(entries.order_by("id"))


def _approval_note(w):
    """The notification create_case sent the draft case's approver (lead)."""
    from scrm.staff.models import Notification

    return Notification.objects.filter(recipient=w.org.lead).order_by("pk").first()


def _read_block(w) -> None:
    """rep_leaving's list reads blocked, as after paging past the budget (made on first use:
    requests run in rolled-back savepoints)."""
    ReadBlock.objects.get_or_create(
        staff=w.org.rep_leaving, released_at=None, defaults={"rows": 501}
    )


def _read_block_alert(w) -> int:
    """The alert saying rep_leaving's reads are blocked."""
    _read_block(w)
    alert, _ = SecurityAlert.objects.get_or_create(
        kind=BLOCK_KIND, actor=w.org.rep_leaving, defaults={"message": "reads blocked"}
    )
    return alert.pk


def blocked(url: str) -> UrlBuilder:
    def build(w) -> str:
        _read_block(w)
        return url

    return build


# --- bodies ----------------------------------------------------------------------------------


def _create_body(w) -> dict:
    return {"name": "新客户", "mobile": "13700000001", "stage": "lead"}


NEW_CUSTOMER = {
    # Not one of the factories' names: a creator sees their new customer's name (insider §5),
    # and the scan must not mistake it for another customer's.
    "name": "上官婉儿",
    "mobile": "13812345678",
    "id_number": "11010519491231002X",
    "email": "zhang@example.com",
    "wechat_id": "wxid_ab12389",
    "address": "上海市浦东新区张江路100号",
}


def _share_body(w) -> dict:
    return {"staff_id": w.org.rep_other_team.pk, "level": "view"}


def _transfer_body(w) -> dict:
    return {"customers": [w.customers.of_rep.pk], "to_staff": w.org.rep_b.pk, "reason": "rebalance"}


def _reveal_body(w) -> dict:
    return {"field": "mobile", "reason": "customer asked for a call back"}


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


# --- access events ---------------------------------------------------------------------------

LIST, VIEW, SEARCH, EXPORT, DENIED, REVEAL = (
    AccessAction.LIST,
    AccessAction.VIEW,
    AccessAction.SEARCH,
    AccessAction.EXPORT,
    AccessAction.DENIED,
    AccessAction.REVEAL,
)
CUSTOMER, MESSAGE, CONVERSATION = "customers.customer", "chats.message", "chats.conversation"
ALERT, ACCESS_EVENT, LOG_ENTRY = "audit.securityalert", "audit.accessevent", "auditlog.logentry"


def pk(path: str) -> Ids:
    """The id of one world object, e.g. pk("customers.of_rep")."""
    return lambda w: [obj(w, path).pk]


def rep_messages(w) -> list[int]:
    return [m.pk for m in w.rep_messages]


def sales_tree_messages(w) -> list[int]:
    """What the Sales manager's search for 报价 finds: rep's two and the group room's one."""
    return [*rep_messages(w), w.room_message.pk]


def team1_customers(w) -> list[int]:
    return [w.customers.of_rep.pk, w.customers.of_rep_b.pk, w.customers.of_leaver.pk]


def nothing(w) -> list[int]:
    return []


def earlier_events(w) -> list[int]:
    """The access events that existed before the read (all but the read's own, the newest)."""
    return list(AccessEvent.objects.order_by("-id").values_list("id", flat=True)[1:])


def newest_log_entries(count: int) -> Ids:
    """The first page of the change log (newest first)."""

    def ids(w) -> list[int]:
        newest = LogEntry.objects.order_by("-timestamp", "-id").values_list("id", flat=True)
        return list(newest[:count])

    return ids


def log_of_rep(w) -> list[int]:
    return [e.pk for e in LogEntry.objects.get_for_object(w.org.rep)]


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
_LOGGED_ON_OF_REP = {k: 302 if v == 200 else v for k, v in _LOGS_ON_OF_REP.items()}
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
AUDIT_ADMIN = admin_only(AUDIT_READERS, 403)
ADMINS_ONLY = admin_only({"admin_user": 200}, 403)
# --- insider §7 ---
SHARERS_302 = {
    role: 302
    for role in ("rep", "rep_b", "rep_other_team", "lead", "manager", "manager_other", "admin_user")
}
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
# An offboarding record's own admin page: another department's is "not found" (302).
CASE_PAGE = admin_only({**SEES_CASE, "manager_other": 302}, 403)
SEES_CHAT_OF_REP = admin_only({**SEES_OF_REP, **NO_CHATS}, 302)
LEGAL_HOLDS = admin_only({"legal": 200, "admin_user": 200}, 403)
OWNERSHIP_READERS = {r: 200 for r in ("lead", "manager", "manager_other", "auditor", "admin_user")}
# One ownership change: its customer's scope (manager_other: another department's, 302).
OWNERSHIP_CHANGE = admin_only({**OWNERSHIP_READERS, "manager_other": 302}, 403)
# One revoked share: its customer's owner (rep_b), case readers of that department, HR.
REVOKED_SHARE_PAGE = admin_only(
    {**{r: 200 for r in ("rep_b", "lead", "manager", "hr", "admin_user")}, **NO_CUSTOMERS}, 302
)
# Who sees a customer's detail, by owner (tests/conftest.py's org chart); security sees none.
DETAIL_OF_REP = {**SEES_OF_REP, **NO_CUSTOMERS}


def _customer_variants(attrs, make: Callable[[str], Endpoint]) -> list[Endpoint]:
    return [make(attr) for attr in attrs]


ENDPOINTS: list[Endpoint] = [
    # === customers (API) =======================================================================
    # which rows each role sees: test_permissions.py::test_list_shows_exactly_the_scope
    api(
        "customer list",
        "GET",
        fixed("/api/v1/customers/"),
        only(NO_CUSTOMERS, 200),
        shows=SCANNED,
        queries=10,
    ),
    api(
        "customer list, one per page",
        "GET",
        fixed("/api/v1/customers/?page_size=1&page=2"),
        shows=SCANNED,
    ),
    api("customer search by name", "GET", fixed("/api/v1/customers/?q=张"), shows=SCANNED),
    api(
        "detail of rep's customer",
        "GET",
        customer_url("of_rep"),
        only(DETAIL_OF_REP, 404),
        shows=SCANNED,
        queries=7,
    ),
    api(
        "detail of a customer shared with rep",
        "GET",
        customer_url("of_rep_b"),
        only({**DETAIL_OF_REP, "rep_b": 200}, 404),
        shows=SCANNED,
        queries=7,
    ),
    api(
        "detail of an unrelated department's customer",
        "GET",
        customer_url("of_unrelated"),
        only({**SEES_ALL, "manager_other": 200, **NO_CUSTOMERS}, 404),
        shows=SCANNED,
        queries=7,
    ),
    *_customer_variants(
        ("of_leaver", "of_other_team"),
        lambda attr: api(f"detail of {attr}", "GET", customer_url(attr), shows=SCANNED),
    ),
    api(
        "create customer",
        "POST",
        fixed("/api/v1/customers/"),
        only({"hr": 403, "legal": 403, "auditor": 403, "security": 403}, 201),
        body=_create_body,
    ),
    api(
        "create customer with every field",
        "POST",
        fixed("/api/v1/customers/"),
        body=lambda w: NEW_CUSTOMER,
        shows=SCANNED,
    ),
    api(
        "patch rep's customer",
        "PATCH",
        customer_url("of_rep"),
        only(
            {
                **_LOGS_ON_OF_REP,
                # visible but not changeable: the existence is known, so 403 not 404
                "legal": 403,
                "auditor": 403,
            },
            404,
        ),
        body=lambda w: {"stage": "contacted"},
    ),
    api(
        "patch the contacts of rep's customer",
        "PATCH",
        customer_url("of_rep"),
        body=lambda w: {"mobile": "13698765432", "email": "new.mail@example.com"},
        shows=SCANNED,
    ),
    api(
        "patch a customer shared with rep at view level",
        "PATCH",
        customer_url("of_rep_b"),
        only({**_LOGS_ON_OF_REP, "rep": 403, "rep_b": 200}, 404),
        body=lambda w: {"stage": "contacted"},
    ),
    api(
        "reveal mobile of rep's customer",
        "POST",
        customer_url("of_rep", "reveal/"),
        only({**DETAIL_OF_REP, "auditor": 403}, 404),
        body=_reveal_body,
        queries=11,
    ),
    api(
        "reveal mobile of a customer shared with rep (a share does not open reveal)",
        "POST",
        customer_url("of_rep_b", "reveal/"),
        only({**DETAIL_OF_REP, "rep": 403, "rep_b": 200, "auditor": 403}, 404),
        body=_reveal_body,
        queries=11,
    ),
    # --- shares ------------------------------------------------------------------------------
    api(
        "list shares of rep's customer",
        "GET",
        customer_url("of_rep", "shares/"),
        only(DETAIL_OF_REP, 404),
        shows=SCANNED,
        queries=6,
    ),
    *_customer_variants(
        CUSTOMER_ATTRS[1:],
        lambda attr: api(f"shares of {attr}", "GET", customer_url(attr, "shares/"), shows=SCANNED),
    ),
    api(
        "share rep's customer",
        "POST",
        customer_url("of_rep", "shares/"),
        only(
            {
                **{r: 201 for r in ("rep", "lead", "manager", "admin_user")},
                "legal": 403,
                "auditor": 403,
                **NO_CUSTOMERS,
            },
            404,
        ),
        body=_share_body,
        queries=16,
    ),
    api(
        "revoke the share of rep_b's customer with rep",
        "DELETE",
        lambda w: f"/api/v1/customers/{w.customers.of_rep_b.pk}/shares/{w.share.pk}/",
        only(
            {
                **{r: 204 for r in ("rep_b", "lead", "manager", "admin_user")},
                # the grantee sees the customer but may not change its shares
                "rep": 403,
                "legal": 403,
                "auditor": 403,
                **NO_CUSTOMERS,
            },
            404,
        ),
    ),
    # --- follow-ups and deals ------------------------------------------------------------------
    api(
        "follow-ups of rep's customer",
        "GET",
        customer_url("of_rep", "follow-ups/"),
        only(ROW_READERS, 404),
        shows=CHAT,
        records={"lead": Event(VIEW, CUSTOMER, pk("customers.of_rep"), {"view": "follow_ups"})},
        queries=7,
    ),
    api(
        "deals of rep's customer",
        "GET",
        customer_url("of_rep", "transactions/"),
        only(ROW_READERS, 404),
        shows=CHAT,
        records={"lead": Event(VIEW, CUSTOMER, pk("customers.of_rep"), {"view": "transactions"})},
        queries=7,
    ),
    *(
        api(
            f"{kind} of {attr}",
            "GET",
            customer_url(attr, f"{path}/"),
            shows=CHAT,
            records={
                "rep": Event(
                    DENIED, CUSTOMER, pk("customers.of_unrelated"), {"attempt": view}, status=404
                )
            }
            if attr == "of_unrelated"
            else {},
        )
        for kind, path, view in (
            ("follow-ups", "follow-ups", "follow_ups"),
            ("deals", "transactions", "transactions"),
        )
        for attr in CUSTOMER_ATTRS[1:]
    ),
    api(
        "log a follow-up on rep's customer",
        "POST",
        customer_url("of_rep", "follow-ups/"),
        only(ROW_WRITERS, 404),
        body=lambda w: {"note": "called back"},
        queries=13,
    ),
    api(
        "log a deal with rep's customer",
        "POST",
        customer_url("of_rep", "transactions/"),
        only(ROW_WRITERS, 404),
        body=lambda w: {"date": "2026-12-01", "product": "plan", "amount": "10.00"},
        queries=13,
    ),
    api(
        "correct rep's follow-up",
        "PATCH",
        lambda w: f"/api/v1/customers/{w.customers.of_rep.pk}/follow-ups/{w.follow_up.pk}/",
        only(OWN_ROW_EDITORS, 404),
        body=lambda w: {"done": True},
    ),
    api(
        "correct rep's deal",
        "PATCH",
        lambda w: f"/api/v1/customers/{w.customers.of_rep.pk}/transactions/{w.deal.pk}/",
        only(OWN_ROW_EDITORS, 404),
        body=lambda w: {"amount": "12.00"},
    ),
    api(
        "transfer rep's customer to rep_b",
        "POST",
        fixed("/api/v1/customers/transfer/"),
        only({"lead": 200, "manager": 200, "admin_user": 200}, 403),
        body=_transfer_body,
    ),
    # === staff, me, audit (API) ================================================================
    api("staff directory", "GET", fixed("/api/v1/staff/"), only({}, 200), shows=SCANNED, queries=3),
    api("me", "GET", fixed("/api/v1/me/"), only({}, 200), shows=SCANNED, queries=0),
    api(
        "audit events",
        "GET",
        fixed("/api/v1/audit/events/"),
        only(AUDIT_READERS, 403),
        shows=SCANNED,
        records={"auditor": Event(LIST, ACCESS_EVENT, earlier_events)},
        queries=3,
    ),
    api(
        "audit events export",
        "GET",
        fixed("/api/v1/audit/events/export/"),
        only(AUDIT_READERS, 403),
        shows=SCANNED,
        records={"auditor": Event(EXPORT, ACCESS_EVENT, nothing)},
        queries=4,
    ),
    api(
        "security alerts",
        "GET",
        fixed("/api/v1/alerts/"),
        only(AUDIT_READERS, 403),
        shows=SCANNED,
        records={"security": Event(LIST, ALERT, pk("alert"))},
        queries=3,
    ),
    api("api root", "GET", fixed("/api/v1/"), only({}, 200), queries=0),
    api(
        "staff directory entry",
        "GET",
        lambda w: f"/api/v1/staff/{w.org.rep_b.pk}/",
        only({}, 200),
        queries=1,
    ),
    api(
        "audit event detail",
        "GET",
        at("/api/v1/audit/events/{}/", "event"),
        only(AUDIT_READERS, 403),
        queries=2,
    ),
    api(
        "security alert detail",
        "GET",
        at("/api/v1/alerts/{}/", "alert"),
        only(AUDIT_READERS, 403),
        queries=2,
    ),
    # === chats (API) ===========================================================================
    api(
        "chat messages",
        "GET",
        fixed("/api/v1/chats/messages/"),
        only(NO_CHATS, 200),
        shows=CHAT,
        records={"lead": Event(LIST, MESSAGE, rep_messages)},
        queries=8,
    ),
    *scoped_reads(
        api,
        "chat message",
        "/api/v1/chats/messages/{}/",
        "message",
        statuses=only({**SEES_OF_REP, **NO_CHATS}, 404),
        model=MESSAGE,
        shows=CHAT,
        also={"rep_b": Event(DENIED, MESSAGE, pk("message"))},
        queries=7,
    ),
    api(
        "ingest a batch of archive records",
        "POST",
        fixed("/api/v1/chats/messages/batch/"),
        only({"admin_user": 200}, 403),  # and the wecom-sync account: test_permissions.py
        body=_batch_body,
    ),
    api(
        "hide a message with rep's customer (from the caller's own view)",
        "POST",
        at("/api/v1/chats/messages/{}/hide/", "message"),
        only({**{role: 204 for role in SEES_OF_REP}, **NO_CHATS}, 404),
        queries=9,
    ),
    api(
        "hide a message with the unrelated department's customer",
        "POST",
        at("/api/v1/chats/messages/{}/hide/", "unrelated_message"),
        records={"rep": Event(DENIED, MESSAGE, pk("unrelated_message"), status=404)},
    ),
    api(
        "chat conversations",
        "GET",
        fixed("/api/v1/chats/conversations/"),
        only(NO_CHATS, 200),
        shows=SCANNED,
        records={"rep": Event(LIST, CONVERSATION, pk("conversation"))},
        queries=7,
    ),
    *scoped_reads(
        api,
        "conversation",
        "/api/v1/chats/conversations/{}/",
        "conversation",
        statuses=only({**SEES_OF_REP, **NO_CHATS}, 404),
        model=CONVERSATION,
        denied=404,
        queries=6,
    ),
    api(
        "chat search",
        "GET",
        fixed("/api/v1/chats/search/?q=报价"),
        only(NO_CHATS, 200),
        shows=CHAT,
        records={"manager": Event(SEARCH, MESSAGE, sales_tree_messages, {"q": "报价"})},
        queries={"sqlite": 8, "postgresql": 14},
    ),
    api("chat search, 3 characters", "GET", fixed("/api/v1/chats/search/?q=手机号"), shows=CHAT),
    api("chat search in a group room", "GET", fixed("/api/v1/chats/search/?q=群里说"), shows=CHAT),
    api(
        "chat search for digits of a hidden middle",
        "GET",
        fixed("/api/v1/chats/search/?q=1234"),
        shows=CHAT,
    ),
    api(
        "chat export (csv)",
        "GET",
        fixed("/api/v1/chats/export/?format=csv"),
        only(CHAT_EXPORTERS, 403),
        shows=RAW_EXPORT,
        queries=8,
    ),
    api("chat export (xlsx)", "GET", fixed("/api/v1/chats/export/?format=xlsx"), shows=RAW_EXPORT),
    api(
        "chat export of rep's customer",
        "GET",
        lambda w: f"/api/v1/chats/export/?format=csv&customer={w.customers.of_rep.pk}",
        # an export records its filters and row count, not millions of ids
        records={
            "lead": Event(EXPORT, MESSAGE, nothing, {"format": "csv", "row_count": 2}, status=200)
        },
    ),
    api(
        "timeline of rep's customer",
        "GET",
        customer_url("of_rep", "timeline/"),
        only({**SEES_OF_REP, "security": 403}, 404),
        shows=CHAT,
        records={"lead": Event(VIEW, CUSTOMER, pk("customers.of_rep"), {"view": "timeline"})},
        queries=13,
    ),
    api(
        "timeline of a customer shared with rep",
        "GET",
        customer_url("of_rep_b", "timeline/"),
        only({**SEES_OF_REP, "rep_b": 200, "security": 403}, 404),
        shows=CHAT,
        queries=12,
    ),
    *_customer_variants(
        CUSTOMER_ATTRS[2:],
        lambda attr: api(
            f"timeline of {attr}",
            "GET",
            customer_url(attr, "timeline/"),
            shows=CHAT,
            records={
                "rep": Event(
                    DENIED,
                    CUSTOMER,
                    pk("customers.of_unrelated"),
                    {"attempt": "timeline"},
                    status=404,
                )
            }
            if attr == "of_unrelated"
            else {},
        ),
    ),
    api(
        "chat file message",
        "GET",
        at("/api/v1/chats/messages/{}/", "secrets.file_message"),
        shows=CHAT,
        needs="masking_world",
    ),
    # === offboarding (API): HR runs cases, the supervisor approves, managers read =============
    api(
        "offboarding cases",
        "GET",
        fixed(CASES),
        only(CASE_READERS, 403),
        shows=SCANNED,
        records={
            "hr": Event(
                LIST,
                "offboarding.offboardingcase",
                lambda w: [w.case_draft.pk, w.case_approved.pk, w.case_done.pk],
            )
        },
        needs="world",
        queries=6,
    ),
    api(
        "open an offboarding case",
        "POST",
        fixed(CASES),
        only({"hr": 201, "admin_user": 201}, 403),
        body=_case_body,
        needs="world",
    ),
    api(
        "offboarding case detail",
        "GET",
        case_url("case_draft"),
        only(SEES_CASE, 403),
        shows=SCANNED,
        needs="world",
        queries=6,  # + the case's event trail
    ),
    api(
        "offboarding case preview",
        "GET",
        case_url("case_draft", "preview/"),
        only(SEES_CASE, 403),
        shows=SCANNED,
        records={"hr": Event(LIST, CUSTOMER, pk("customers.of_leaver"), {"view": "preview"})},
        needs="world",
        queries=25,
    ),
    api(
        # The supervisor recorded on the case, or a sales manager above them; never the
        # superuser (no bypass) nor HR, who opened it (insider §1).
        "approve a draft case (the leaver's supervisor)",
        "POST",
        case_url("case_draft", "approve/"),
        only({"lead": 200, "manager": 200, **CASE_HIDDEN}, 403),
        needs="world",
    ),
    api(
        "schedule an approved case",
        "POST",
        case_url("case_approved", "schedule/"),
        only({**CASE_RUNNERS, **CASE_HIDDEN}, 403),
        needs="world",
    ),
    api(
        "run an approved case now",
        "POST",
        case_url("case_approved", "run/"),
        only({"hr": 202, "admin_user": 202, **CASE_HIDDEN}, 403),
        needs="world",
    ),
    api(
        "cancel a draft case",
        "POST",
        case_url("case_draft", "cancel/"),
        only({**CASE_RUNNERS, **CASE_HIDDEN}, 403),
        body=lambda w: {"reason": "stays after all"},
        needs="world",
    ),
    api(
        "handover report",
        "GET",
        case_url("case_done", "report/"),
        only(SEES_CASE, 403),
        shows=SCANNED,
        records={
            "lead": Event(LIST, CUSTOMER, pk("transferred"), {"view": "report"}),
            # the revoked share's customer is listed once
            "hr": Event(LIST, CUSTOMER, pk("transferred"), {"view": "report"}),
        },
        needs="world",
        queries=13,
    ),
    api(
        "handover report (csv)",
        "GET",
        case_url("case_done", "report/csv/"),
        only(SEES_CASE, 403),
        shows=SCANNED,
        records={"hr": Event(EXPORT, CUSTOMER, nothing, {"row_count": 1})},
        needs="world",
        queries=9,
    ),
    api(
        "import leavers from csv",
        "POST",
        fixed(f"{CASES}import/"),
        only(CASE_RUNNERS, 403),
        body=_leavers_csv,
        format="multipart",
        needs="world",
    ),
    api(
        "offboarding transfers",
        "GET",
        fixed("/api/v1/offboarding/transfers/"),
        only(CASE_READERS, 403),
        shows=SCANNED,
        records={"manager": Event(LIST, CUSTOMER, pk("transferred"))},
        needs="world",
        queries=5,
    ),
    api(
        "record a refused transfer",
        "POST",
        at("/api/v1/offboarding/transfers/{}/refuse/", "transfer"),
        only({**CASE_RUNNERS, **CASE_HIDDEN}, 403),
        body=lambda w: {"reason": "the customer wants to stay with the company's hotline"},
        needs="world",
    ),
    # === the Django admin (session login; out-of-scope change forms redirect to the index) =====
    admin("admin index", "GET", fixed("/admin/"), admin_only({}, 200), queries=25),
    admin(
        "customer changelist",
        "GET",
        fixed(CUSTOMERS_ADMIN),
        admin_only(NO_CUSTOMERS, 200),
        shows=SCANNED,
        records={"lead": Event(LIST, CUSTOMER, team1_customers)},
        queries=18,
    ),
    admin("customer name search", "GET", fixed(f"{CUSTOMERS_ADMIN}?q=张"), shows=SCANNED),
    admin(
        "customer change form of rep's customer",
        "GET",
        customer_admin_url("of_rep", "change/"),
        admin_only(DETAIL_OF_REP, 302),
        shows=SCANNED,
        records={"rep": Event(VIEW, CUSTOMER, pk("customers.of_rep"))},
        queries=52,
    ),
    admin(
        "customer change form of an unrelated department's customer",
        "GET",
        customer_admin_url("of_unrelated", "change/"),
        admin_only({**SEES_ALL, "manager_other": 200, **NO_CUSTOMERS}, 302),
        shows=SCANNED,
        records={"rep": Event(DENIED, CUSTOMER, pk("customers.of_unrelated"))},
        queries=52,
    ),
    *_customer_variants(
        ("of_rep_b", "of_leaver", "of_other_team"),
        lambda attr: admin(
            f"change form of {attr}", "GET", customer_admin_url(attr, "change/"), shows=SCANNED
        ),
    ),
    admin(
        "customer add form",
        "GET",
        fixed(f"{CUSTOMERS_ADMIN}add/"),
        admin_only({"hr": 403, "legal": 403, "auditor": 403, **NO_CUSTOMERS}, 200),
        queries=8,
    ),
    admin(
        "customer dashboard",
        "GET",
        fixed(f"{CUSTOMERS_ADMIN}dashboard/"),
        admin_only(NO_CUSTOMERS, 200),
        shows=SCANNED,
        # counts per owner/team/week, no customer shown
        records={"lead": Event(LIST, CUSTOMER, nothing, {"view": "dashboard"})},
        queries=13,
    ),
    admin(
        "reveal button on rep's customer",
        "POST",
        customer_admin_url("of_rep", "reveal/"),
        # Outside the scope the reveal answers 404 (and records a denied attempt), security too.
        admin_only({**SEES_OF_REP, "auditor": 403}, 404),
        body=_reveal_body,
        records={"rep": Event(REVEAL, CUSTOMER, pk("customers.of_rep"))},
        queries=16,
    ),
    admin(
        "log a follow-up on rep's customer (the form)",
        "GET",
        customer_admin_url("of_rep", "follow-up/"),
        # The change scope: seen but not changeable (legal, auditors) is 403; unseen 404.
        admin_only(_LOGS_ON_OF_REP, 404),
        shows=SCANNED,
        # the form names the customer
        records={"rep": Event(VIEW, CUSTOMER, pk("customers.of_rep"), {"view": "follow_up"})},
        queries=14,
    ),
    *_customer_variants(
        CUSTOMER_ATTRS[1:],
        lambda attr: admin(
            f"follow-up form of {attr}",
            "GET",
            customer_admin_url(attr, "follow-up/"),
            shows=SCANNED,
        ),
    ),
    admin(
        "log a follow-up on rep's customer",
        "POST",
        customer_admin_url("of_rep", "follow-up/"),
        admin_only(_LOGGED_ON_OF_REP, 404),
        body=lambda w: {"note": "电话回访，客户下周签约"},
    ),
    admin(
        "mark rep's follow-up done",
        "POST",
        lambda w: f"{CUSTOMERS_ADMIN}{w.customers.of_rep.pk}/follow-up/{w.follow_up.pk}/done/",
        # The change scope decides the answer (a colleague's follow-up comes back as a message
        # on the redirect); only its author's marks it done (test_customer_admin).
        admin_only(_LOGGED_ON_OF_REP, 404),
    ),
    admin(
        "log a transaction on rep's customer",
        "POST",
        customer_admin_url("of_rep", "transaction/"),
        admin_only(_LOGGED_ON_OF_REP, 404),
        body=lambda w: {"date": "2026-11-30", "product": "会员积分系统", "amount": "12800"},
    ),
    admin(
        "transaction form of an unrelated department's customer",
        "GET",
        customer_admin_url("of_unrelated", "transaction/"),
        records={
            "rep": Event(
                DENIED,
                CUSTOMER,
                pk("customers.of_unrelated"),
                {"attempt": "transaction"},
                status=404,
            )
        },
    ),
    admin(
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
    admin(
        "reassign owner page",
        "POST",
        fixed(CUSTOMERS_ADMIN),
        body=lambda w: {
            "action": "reassign_owner",
            "_selected_action": [getattr(w.customers, a).pk for a in CUSTOMER_ATTRS],
        },
        shows=SCANNED,
    ),
    admin(
        "access events",
        "GET",
        fixed("/admin/audit/accessevent/"),
        AUDIT_ADMIN,
        shows=SCANNED,
        records={"auditor": Event(LIST, ACCESS_EVENT, earlier_events)},
        queries=11,
    ),
    admin(
        "access events export",
        "GET",
        fixed("/admin/audit/accessevent/export/"),
        AUDIT_ADMIN,
        shows=SCANNED,
        queries=14,
    ),
    admin(
        "security alerts",
        "GET",
        fixed("/admin/audit/securityalert/"),
        AUDIT_ADMIN,
        shows=SCANNED,
        records={"security": Event(LIST, ALERT, pk("alert"))},
        queries=11,
    ),
    admin(
        "change log",
        "GET",
        fixed("/admin/auditlog/logentry/"),
        AUDIT_ADMIN,
        shows=SCANNED,
        records={
            "auditor": Event(
                LIST, LOG_ENTRY, lambda w: list(LogEntry.objects.values_list("id", flat=True))
            )
        },
        queries=15,
    ),
    admin(
        "change log of rep's customer",
        "GET",
        lambda w: f"/admin/auditlog/logentry/?customer_id={w.customers.of_rep.pk}",
        AUDIT_ADMIN,
        shows=SCANNED,
        queries=15,
    ),
    admin(
        "access events touching rep's customer",
        "GET",
        lambda w: f"/admin/audit/accessevent/?customer_id={w.customers.of_rep.pk}",
        AUDIT_ADMIN,
        queries=11,
    ),
    admin(
        "the message a security alert names",
        "GET",
        at(f"{MESSAGES_ADMIN}alert/{{}}/", "alert"),
        admin_only(AUDIT_READERS, 403),
        records={
            # the message and its conversation around it
            "security": Event(VIEW, MESSAGE, rep_messages, {"view": "alert"}),
            "rep": Event(DENIED, MESSAGE, pk("message")),
        },
        queries=11,
    ),
    admin(
        "the secret message a security alert names",
        "GET",
        at(f"{MESSAGES_ADMIN}alert/{{}}/", "secrets.alert"),
        shows=CHAT,
        needs="masking_world",
    ),
    admin(
        "ownership history",
        "GET",
        fixed("/admin/customers/ownershiptransfer/"),
        admin_only(OWNERSHIP_READERS, 403),
        shows=SCANNED,
        records={"lead": Event(LIST, CUSTOMER, pk("transferred"), {"view": "ownership history"})},
        needs="world",
        queries=16,
    ),
    admin(
        "ownership history of one customer",
        "GET",
        lambda w: f"/admin/customers/ownershiptransfer/?customer_id={w.transferred.pk}",
        records={
            "auditor": Event(
                LIST, CUSTOMER, pk("transferred"), {"view": "ownership history"}, status=200
            )
        },
        needs="world",
    ),
    admin(
        "staff changelist",
        "GET",
        fixed("/admin/staff/staff/"),
        admin_only(STAFF_READERS, 403),
        queries=13,
    ),
    admin(
        "staff change form",
        "GET",
        lambda w: f"/admin/staff/staff/{w.org.rep.pk}/change/",
        admin_only(STAFF_READERS, 403),
        queries=20,
    ),
    admin(
        "set a staff member's password (administrators only)",
        "GET",
        lambda w: f"/admin/staff/staff/{w.org.admin_user.pk}/password/",
        ADMINS_ONLY,
        queries=4,
    ),
    admin(
        "message changelist",
        "GET",
        fixed(MESSAGES_ADMIN),
        admin_only(NO_CHATS, 200),
        shows=CHAT,
        records={"lead": Event(LIST, MESSAGE, rep_messages)},
        queries=17,
    ),
    admin(
        "export messages (admin action)",
        "POST",
        fixed(MESSAGES_ADMIN),
        body=lambda w: {"action": "export_csv", "_selected_action": rep_messages(w)},
        records={
            "lead": Event(EXPORT, MESSAGE, nothing, {"format": "csv", "row_count": 2}, status=200)
        },
    ),
    *scoped_reads(
        admin,
        "message",
        f"{MESSAGES_ADMIN}{{}}/change/",
        "message",
        statuses=admin_only({**SEES_OF_REP, **NO_CHATS}, 302),
        model=MESSAGE,
        shows=CHAT,
        also={"rep_b": Event(DENIED, MESSAGE, pk("message"))},
        queries=23,
    ),
    admin(
        "file message",
        "GET",
        at(f"{MESSAGES_ADMIN}{{}}/change/", "secrets.file_message"),
        shows=CHAT,
        needs="masking_world",
    ),
    admin(
        "chat search page",
        "GET",
        fixed(f"{MESSAGES_ADMIN}search/?q=报价"),
        admin_only(NO_CHATS, 200),
        shows=CHAT,
        records={"manager": Event(SEARCH, MESSAGE, sales_tree_messages, {"q": "报价"})},
        queries={"sqlite": 15, "postgresql": 16},
    ),
    admin(
        "timeline page of rep's customer",
        "GET",
        lambda w: f"{MESSAGES_ADMIN}timeline/{w.customers.of_rep.pk}/",
        admin_only(SEES_OF_REP, 403),
        shows=CHAT,
        records={"lead": Event(VIEW, CUSTOMER, pk("customers.of_rep"), {"view": "timeline"})},
        queries=19,
    ),
    *_customer_variants(
        CUSTOMER_ATTRS[1:],
        lambda attr: admin(
            f"timeline page of {attr}",
            "GET",
            lambda w: f"{MESSAGES_ADMIN}timeline/{getattr(w.customers, attr).pk}/",
            shows=CHAT,
            records={
                "rep": Event(
                    DENIED,
                    CUSTOMER,
                    pk("customers.of_unrelated"),
                    {"attempt": "timeline"},
                    status=403,
                )
            }
            if attr == "of_unrelated"
            else {},
        ),
    ),
    admin(
        "conversation thread of rep's customer",
        "GET",
        at(f"{MESSAGES_ADMIN}thread/{{}}/", "conversation"),
        admin_only(SEES_OF_REP, 403),
        records={"rep": Event(VIEW, MESSAGE, rep_messages, {"view": "thread"})},
        queries=17,
    ),
    admin(
        "conversation thread of the unrelated department's customer",
        "GET",
        at(f"{MESSAGES_ADMIN}thread/{{}}/", "unrelated_conversation"),
        records={
            "rep": Event(
                DENIED,
                CONVERSATION,
                pk("unrelated_conversation"),
                {"attempt": "thread"},
                status=403,
            )
        },
    ),
    admin(
        "conversation thread of rep's customer's secrets",
        "GET",
        at(f"{MESSAGES_ADMIN}thread/{{}}/", "secrets.conversation"),
        shows=CHAT,
        needs="masking_world",
    ),
    admin(
        "conversation changelist",
        "GET",
        fixed("/admin/chats/conversation/"),
        admin_only(NO_CHATS, 200),
        shows=SCANNED,
        records={"lead": Event(LIST, CONVERSATION, pk("conversation"))},
        queries=14,
    ),
    *scoped_reads(
        admin,
        "conversation",
        "/admin/chats/conversation/{}/change/",
        "conversation",
        statuses=admin_only({**SEES_OF_REP, **NO_CHATS}, 302),
        model=CONVERSATION,
        denied=302,
        queries=19,
    ),
    admin(
        "sensitive word rules",
        "GET",
        fixed("/admin/chats/sensitivewordrule/"),
        admin_only({"security": 200, "admin_user": 200}, 403),
        queries=9,
    ),
    admin(
        "retention policies", "GET", fixed("/admin/chats/retentionpolicy/"), ADMINS_ONLY, queries=8
    ),
    admin(
        "legal holds",
        "GET",
        fixed("/admin/chats/legalhold/"),
        admin_only({"legal": 200, "admin_user": 200}, 403),
        queries=10,
    ),
    admin("purge logs", "GET", fixed("/admin/chats/purgelog/"), ADMINS_ONLY, queries=8),
    admin("history windows", "GET", fixed("/admin/chats/historywindow/"), ADMINS_ONLY, queries=6),
    admin(
        "tags",
        "GET",
        fixed("/admin/customers/tag/"),
        admin_only({"hr": 403, "security": 403}, 200),
        queries=9,
    ),
    admin(
        "departments",
        "GET",
        fixed("/admin/staff/department/"),
        admin_only({"hr": 200, "admin_user": 200}, 403),
        queries=10,
    ),
    admin(
        "teams",
        "GET",
        fixed("/admin/staff/team/"),
        admin_only({"hr": 200, "admin_user": 200}, 403),
        queries=10,
    ),
    *(
        admin(f"administrators' page {url}", "GET", fixed(url), ADMINS_ONLY, queries=queries)
        for url, queries in ADMINISTRATORS_ONLY_PAGES.items()
    ),
    # --- offboarding (HR's pages) ------------------------------------------------------------
    admin(
        "offboarding cases page",
        "GET",
        fixed(CASES_ADMIN),
        admin_only(CASE_READERS, 403),
        shows=SCANNED,
        needs="world",
        queries=14,
    ),
    admin(
        "offboarding case add form",
        "GET",
        fixed(f"{CASES_ADMIN}add/"),
        admin_only(CASE_RUNNERS, 403),
        needs="world",
        queries=9,
    ),
    admin(
        "offboarding case page",
        "GET",
        case_admin_url("case_draft", "change/"),
        CASE_PAGE,
        shows=SCANNED,
        needs="world",
        queries=29,  # + the event trail and its actors
    ),
    admin(
        "offboarding preview page",
        "GET",
        case_admin_url("case_draft", "preview/"),
        admin_only(SEES_CASE, 403),
        shows=SCANNED,
        records={"hr": Event(LIST, CUSTOMER, pk("customers.of_leaver"), {"view": "preview"})},
        needs="world",
        queries=33,
    ),
    # The case buttons always come back to the case page (302); the service's refusal of a
    # role shows as a message there. Who may do what is pinned by the API rows above.
    admin(
        "offboarding approve button",
        "POST",
        case_admin_url("case_draft", "approve/"),
        admin_only(CASE_BUTTON, 403),
        needs="world",
    ),
    admin(
        "offboarding schedule button",
        "POST",
        case_admin_url("case_approved", "schedule/"),
        admin_only(CASE_BUTTON, 403),
        needs="world",
    ),
    admin(
        "offboarding run button",
        "POST",
        case_admin_url("case_approved", "run/"),
        admin_only(CASE_BUTTON, 403),
        needs="world",
    ),
    admin(
        "offboarding cancel page",
        "GET",
        case_admin_url("case_draft", "cancel/"),
        admin_only(SEES_CASE, 403),
        needs="world",
        queries=9,
    ),
    admin(
        "offboarding report page",
        "GET",
        case_admin_url("case_done", "report/"),
        admin_only(SEES_CASE, 403),
        shows=SCANNED,
        records={"hr": Event(LIST, CUSTOMER, pk("transferred"), {"view": "report"})},
        needs="world",
        queries=26,  # + the event trail and its actors
    ),
    admin(
        "offboarding report csv",
        "GET",
        case_admin_url("case_done", "report.csv"),
        admin_only(SEES_CASE, 403),
        shows=SCANNED,
        records={"lead": Event(EXPORT, CUSTOMER, nothing, {"row_count": 1})},
        needs="world",
        queries=13,
    ),
    admin(
        "offboarding case progress (polled while it runs)",
        "GET",
        case_admin_url("case_draft", "progress.json"),
        admin_only(SEES_CASE, 403),
        needs="world",
        queries=9,
    ),
    # Each person's own notifications: opening one follows its link; anyone else's is 404.
    admin(
        "my notifications page",
        "GET",
        fixed("/admin/staff/notification/"),
        admin_only({}, 200),
        queries=9,
    ),
    admin(
        "open my notification (the approver's request for case_draft)",
        "GET",
        lambda w: f"/admin/staff/notification/{_approval_note(w).pk}/open/",
        admin_only({"lead": 302}, 404),
        needs="world",
        queries=6,
    ),
    admin(
        "offboarding leavers import page",
        "GET",
        fixed(f"{CASES_ADMIN}import/"),
        admin_only(CASE_RUNNERS, 403),
        queries=6,
    ),
    admin(
        "offboarding transfers page",
        "GET",
        fixed(TRANSFERS_ADMIN),
        admin_only(CASE_READERS, 403),
        shows=SCANNED,
        records={"hr": Event(LIST, CUSTOMER, pk("transferred"))},
        needs="world",
        queries=12,
    ),
    admin(
        "record a refused transfer (admin action)",
        "POST",
        fixed(TRANSFERS_ADMIN),
        # Done: redirect. Case readers without the action get the page again (200).
        admin_only({**CASE_READERS, "hr": 302, "admin_user": 302}, 403),
        body=_refusal_action_body,
        needs="world",
    ),
    # --- insider §3: read door (Django's own admin pages, the audit trail itself) ------------
    admin(
        "customer history of rep's customer",
        "GET",
        customer_admin_url("of_rep", "history/"),
        admin_only(DETAIL_OF_REP, 302),
        records={"rep": Event(VIEW, CUSTOMER, pk("customers.of_rep"), {"view": "history"})},
        queries=15,
    ),
    admin(
        "customer history of an unrelated department's customer",
        "GET",
        customer_admin_url("of_unrelated", "history/"),
        records={
            "rep": Event(
                DENIED, CUSTOMER, pk("customers.of_unrelated"), {"attempt": "history"}, status=302
            )
        },
    ),
    admin(
        "admin autocomplete (switched off)",
        "GET",
        fixed(
            "/admin/autocomplete/?app_label=customers&model_name=followup"
            "&field_name=customer&term=138"
        ),
        admin_only({}, 404),
        queries=4,
    ),
    admin(
        "customer delete confirmation (off: customers are never deleted)",
        "GET",
        customer_admin_url("of_rep", "delete/"),
        admin_only({}, 403),
        queries=4,
    ),
    admin(
        "access event in the admin",
        "GET",
        at("/admin/audit/accessevent/{}/change/", "event"),
        AUDIT_ADMIN,
        queries=11,
    ),
    admin(
        "a reveal's access event",
        "GET",
        at("/admin/audit/accessevent/{}/change/", "secrets.reveal_event"),
        shows=SCANNED,
        needs="masking_world",
    ),
    admin(
        "security alert in the admin",
        "GET",
        at("/admin/audit/securityalert/{}/change/", "alert"),
        AUDIT_ADMIN,
        queries=10,
    ),
    admin(
        "secret message's security alert",
        "GET",
        at("/admin/audit/securityalert/{}/change/", "secrets.alert"),
        shows=SCANNED,
        needs="masking_world",
    ),
    # --- insider §7: what leavers leave behind ----------------------------------------------
    api(
        "staff directory filtered by employment status",
        "GET",
        fixed("/api/v1/staff/?employment_status=notice"),
        only({"hr": 200, "admin_user": 200}, 403),
        queries=2,
    ),
    api(
        "revoked shares",
        "GET",
        fixed(REVOKED_SHARES),
        only(NO_CUSTOMERS, 200),
        records={"rep_b": Event(LIST, CUSTOMER, pk("transferred"), {"view": "revoked_shares"})},
        needs="world",
        queries=4,
    ),
    # Only the customer's owner (rep_b, the successor) re-confirms; case readers see the row
    # (403 from the verb), everyone else does not (404).
    api(
        "reconfirm a revoked share",
        "POST",
        lambda w: f"{REVOKED_SHARES}{w.case_done.revoked_shares.get().pk}/reconfirm/",
        only(
            {"rep_b": 201, **{r: 403 for r in ("lead", "manager", "hr", "admin_user")}}
            | NO_CUSTOMERS,
            404,
        ),
        needs="world",
    ),
    api(
        "release a read block",
        "POST",
        lambda w: f"/api/v1/alerts/{_read_block_alert(w)}/release-reads/",
        only({"security": 200}, 403),
        body=lambda w: {"reason": "hand-over list agreed with the lead"},
    ),
    admin(
        "revoked shares page",
        "GET",
        fixed("/admin/offboarding/revokedshare/"),
        admin_only(NO_CUSTOMERS, 200),
        records={"rep_b": Event(LIST, CUSTOMER, pk("transferred"), {"view": "revoked_shares"})},
        needs="world",
        queries=11,
    ),
    admin(
        "reconfirm a revoked share (admin action)",
        "POST",
        fixed("/admin/offboarding/revokedshare/"),
        # Sharers run the action (302, the verb's refusal is a message); others get the page.
        admin_only({**SHARERS_302, "hr": 200, "legal": 200, "auditor": 200, **NO_CUSTOMERS}, 403),
        body=lambda w: {
            "action": "reconfirm_action",
            "_selected_action": [w.case_done.revoked_shares.get().pk],
        },
        needs="world",
    ),
    admin(
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
    # List reads refused while rep_leaving's reads are blocked (after paging past the budget).
    api(
        "customer list while list reads are blocked",
        "GET",
        blocked("/api/v1/customers/"),
        records={
            "rep_leaving": Event(
                DENIED, CUSTOMER, nothing, {"refused": "reads_blocked"}, status=403
            )
        },
    ),
    api(
        "chat search while list reads are blocked",
        "GET",
        blocked("/api/v1/chats/search/?q=报价"),
        records={
            "rep_leaving": Event(DENIED, MESSAGE, nothing, {"refused": "reads_blocked"}, status=403)
        },
    ),
    admin(
        "customer changelist while list reads are blocked",
        "GET",
        blocked(CUSTOMERS_ADMIN),
        records={
            "rep_leaving": Event(
                DENIED, CUSTOMER, nothing, {"refused": "reads_blocked"}, status=403
            )
        },
    ),
    # --- insider §6: group rooms and the archive binding ---------------------------------------
    # `world.room`: rep_other_team's group room, in which rep's customer spoke. Seen through its
    # member's scopes (rep_other_team, the Sales manager) and the "everything" roles; rep, whose
    # customer spoke there, and the team 1 lead are not members: 404 / admin redirect.
    api(
        "message in a group room of rep_other_team",
        "GET",
        at("/api/v1/chats/messages/{}/", "room_message"),
        only({**SEES_ROOM, **NO_CHATS}, 404),
        queries=6,
    ),
    api(
        "group room of rep_other_team",
        "GET",
        at("/api/v1/chats/conversations/{}/", "room"),
        only({**SEES_ROOM, **NO_CHATS}, 404),
        queries=5,
    ),
    admin(
        "group room page of rep_other_team",
        "GET",
        at("/admin/chats/conversation/{}/change/", "room"),
        admin_only({**SEES_ROOM, **NO_CHATS}, 302),
        queries=17,
    ),
    admin(
        "message page in a group room of rep_other_team",
        "GET",
        at(f"{MESSAGES_ADMIN}{{}}/change/", "room_message"),
        admin_only({**SEES_ROOM, **NO_CHATS}, 302),
        queries=20,
    ),
    # The secrets' group room (their messages also run through every list above).
    api(
        "secret message in a group room",
        "GET",
        at("/api/v1/chats/messages/{}/", "secrets.room_message"),
        shows=CHAT,
        needs="masking_world",
    ),
    api(
        "secrets' group room",
        "GET",
        at("/api/v1/chats/conversations/{}/", "secrets.room"),
        shows=SCANNED,
        needs="masking_world",
    ),
    admin(
        "secret message in a group room",
        "GET",
        at(f"{MESSAGES_ADMIN}{{}}/change/", "secrets.room_message"),
        shows=CHAT,
        needs="masking_world",
    ),
    admin(
        "secrets' group room",
        "GET",
        at("/admin/chats/conversation/{}/change/", "secrets.room"),
        shows=SCANNED,
        needs="masking_world",
    ),
    api(
        "set the WeCom external id of rep's customer (the archive binding)",
        "PATCH",
        customer_url("of_rep"),
        # sales may change the customer, not this field: a right they lack (403)
        only({**_LOGS_ON_OF_REP, "rep": 403, "lead": 403, "manager": 403}, 404),
        body=lambda w: {"wecom_external_userid": "wm-matrix-new"},
    ),
    # --- insider §1: staff lifecycle ---
    admin(
        "reactivate a departed staff member (administrators only)",
        "GET",
        lambda w: f"/admin/staff/staff/{w.org.rep.pk}/reactivate/",
        ADMINS_ONLY,
        queries=4,
    ),
    # --- insider §2: no oracles (lookups and searches that would confirm a masked value) ---
    # Exact lookups need the right to reveal the field's data class (sales and legal may reveal
    # contact data, only legal identity data; the superuser holds every permission).
    api(
        "customer lookup by mobile",
        "GET",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_leaver.mobile}",
        only({"hr": 403, "auditor": 403, "security": 403}, 200),
        queries=11,
    ),
    # (the blind index's value: tests/insider/test_no_oracles.py)
    api(
        "customer lookup by the mobile of rep's customer",
        "GET",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_rep.mobile}",
        shows=SCANNED,
        records={
            "rep": Event(LIST, CUSTOMER, pk("customers.of_rep"), {"lookup": "mobile"}, status=200),
            "auditor": Event(DENIED, CUSTOMER, nothing, {"lookup": "mobile"}, status=403),
        },
    ),
    api(
        "customer lookup by ID number",
        "GET",
        lambda w: f"/api/v1/customers/?id_number={w.customers.of_leaver.id_number}",
        only({"legal": 200, "admin_user": 200}, 403),
        queries=8,
    ),
    api(
        "customer lookup by the ID number of rep's customer",
        "GET",
        lambda w: f"/api/v1/customers/?id_number={w.customers.of_rep.id_number}",
        shows=SCANNED,
    ),
    # Name search only for roles that see names (sales: in their book).
    api(
        "customer name search",
        "GET",
        lambda w: f"/api/v1/customers/?q={w.customers.of_leaver.name}",
        only(
            {r: 200 for r in ("rep", "rep_b", "rep_other_team", "lead", "manager")}
            | {"manager_other": 200},
            403,
        ),
        queries=7,
    ),
    api(
        "customer name search for rep's customer",
        "GET",
        lambda w: f"/api/v1/customers/?q={w.customers.of_rep.name}",
        records={"auditor": Event(DENIED, CUSTOMER, nothing, status=403)},
    ),
    # The admin refuses with a message on the plain changelist (302), or answers the search.
    admin(
        "admin customer search by name",
        "GET",
        lambda w: f"{CUSTOMERS_ADMIN}?q={w.customers.of_leaver.name}",
        admin_only(
            {r: 200 for r in ("rep", "rep_b", "rep_other_team", "lead", "manager")}
            | {"manager_other": 200, **NO_CUSTOMERS},
            302,
        ),
        queries=18,
    ),
    admin(
        "admin customer search for rep's customer's name",
        "GET",
        lambda w: f"{CUSTOMERS_ADMIN}?q={w.customers.of_rep.name}",
        records={"auditor": Event(DENIED, CUSTOMER, nothing, status=302)},
    ),
    admin(
        "admin customer search by mobile",
        "GET",
        lambda w: f"{CUSTOMERS_ADMIN}?q={w.customers.of_leaver.mobile}",
        admin_only({"hr": 302, "auditor": 302, **NO_CUSTOMERS}, 200),
        queries=22,
    ),
    admin(
        "admin customer search by the mobile of rep's customer",
        "GET",
        lambda w: f"{CUSTOMERS_ADMIN}?q={w.customers.of_rep.mobile}",
        records={
            "lead": Event(LIST, CUSTOMER, pk("customers.of_rep"), {"lookup": "mobile"}, status=200)
        },
    ),
    admin(
        "admin customer lookup on a sensitive field",
        "GET",
        fixed(f"{CUSTOMERS_ADMIN}?name__regex=."),
        admin_only(NO_CUSTOMERS, 302),
        records={"lead": Event(DENIED, CUSTOMER, nothing, {"attempt": "lookup"})},
        queries=7,
    ),
    admin(
        "admin message lookup on the text",
        "GET",
        fixed(f"{MESSAGES_ADMIN}?text__contains=2345"),
        admin_only(NO_CHATS, 302),
        records={"lead": Event(DENIED, MESSAGE, nothing, {"attempt": "lookup"})},
        queries=7,
    ),
    # --- insider §5: the masking matrix page; the change log scoped like customers ----------
    admin(
        "masking matrix page",
        "GET",
        fixed("/admin/masking-matrix/"),
        admin_only({"auditor": 200, "security": 200, "admin_user": 200}, 403),
        shows=SCANNED,
        queries=6,
    ),
    admin(
        "change log entry of rep's customer",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{log_entry_of(w.customers.of_rep).pk}/change/",
        # The security officer has no customer scope: "not found", back to the index.
        admin_only({"auditor": 200, "admin_user": 200, "security": 302}, 403),
        shows=SCANNED,
        queries=16,
    ),
    admin(
        "change log entry of an offboarding case (not about a customer)",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{log_entry_of(w.case_draft).pk}/change/",
        AUDIT_ADMIN,
        shows=SCANNED,
        needs="world",
        queries=16,
    ),
    admin(
        "change log entry of a follow-up",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{log_entry_of(w.secrets.follow_up).pk}/change/",
        shows=SCANNED,
        needs="masking_world",
    ),
    admin(
        "change log entry of a transfer",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{log_entry_of(w.transfer).pk}/change/",
        shows=SCANNED,
        needs="world",
    ),
    # --- identity: sign-in steps, logout, two-factor set-up ---------------------------------
    # The sign-in steps take no caller: a stale ticket is a 400 for anyone, a forged refresh
    # token a 401. The caller's own set-up and "sign out everywhere" need a signed-in caller.
    api(
        "second sign-in step with a stale ticket",
        "POST",
        fixed("/api/v1/auth/token/mfa/"),
        {role: 400 for role in ROLES},
        body=lambda w: {"ticket": "not-a-ticket", "code": "123456"},
    ),
    api(
        "logout with a forged refresh token",
        "POST",
        fixed("/api/v1/auth/logout/"),
        {role: 401 for role in ROLES},
        body=lambda w: {"refresh": "forged.token.value"},
    ),
    api("sign out everywhere", "POST", fixed("/api/v1/auth/logout/all/"), only({}, 204)),
    api("start an authenticator set-up", "POST", fixed("/api/v1/auth/mfa/totp/"), only({}, 201)),
    api(
        "confirm an authenticator nobody started",
        "POST",
        fixed("/api/v1/auth/mfa/totp/confirm/"),
        only({}, 409),  # valid input, but no set-up to confirm: a conflict
        body=lambda w: {"code": "123456"},
    ),
    # The admin's code step for a signed-in, verified user: the form (anonymous: no sign-in
    # under way, back to the login). The set-up page: verified privileged users are set up
    # already (back to the index), the others may start one.
    admin(
        "admin second-factor step",
        "GET",
        fixed("/admin/mfa/verify/"),
        {**{role: 200 for role in ORG_USERS}, ANONYMOUS: 302},
        queries=6,
    ),
    admin(
        "admin authenticator set-up",
        "GET",
        fixed("/admin/mfa/enrol/"),
        admin_only({"rep": 200, "rep_b": 200, "rep_other_team": 200}, 302),
        queries=15,
    ),
    # --- identity change log: who may do what, read by the audit trail's readers only -------
    api(
        "api change log",
        "GET",
        fixed("/api/v1/audit/changes/"),
        only(AUDIT_READERS, 403),
        records={"auditor": Event(LIST, LOG_ENTRY, newest_log_entries(50))},
        queries=4,
    ),
    api(
        "api change log, one long page",
        "GET",
        fixed("/api/v1/audit/changes/?page_size=200"),
        shows=SCANNED,
    ),
    api(
        "api change log of customers",
        "GET",
        fixed("/api/v1/audit/changes/?model=customers.customer"),
        shows=SCANNED,
    ),
    api(
        "api change log of one staff member",
        "GET",
        lambda w: f"/api/v1/audit/changes/?staff={w.org.rep.pk}",
        only(AUDIT_READERS, 403),
        records={"security": Event(LIST, LOG_ENTRY, log_of_rep)},
        queries=5,
    ),
    api(
        "api change log entry of a staff record",
        "GET",
        lambda w: f"/api/v1/audit/changes/{log_entry_of(w.org.rep).pk}/",
        only(AUDIT_READERS, 403),
        records={"security": Event(VIEW, LOG_ENTRY, lambda w: [log_entry_of(w.org.rep).pk])},
        queries=5,
    ),
    api(
        "api change log entry of rep's customer",
        "GET",
        lambda w: f"/api/v1/audit/changes/{log_entry_of(w.customers.of_rep).pk}/",
        # The security officer has no customer scope: not found.
        only({"auditor": 200, "admin_user": 200, "security": 404}, 403),
        shows=SCANNED,
        queries=5,
    ),
    api(
        "api change log entry creating rep's customer",
        "GET",
        lambda w: f"/api/v1/audit/changes/{customer_log(w.customers.of_rep)[0].pk}/",
        records={
            "security": Event(
                DENIED, LOG_ENTRY, lambda w: [customer_log(w.customers.of_rep)[0].pk], status=404
            )
        },
    ),
    api(
        "api change log entry of a follow-up",
        "GET",
        lambda w: f"/api/v1/audit/changes/{log_entry_of(w.secrets.follow_up).pk}/",
        shows=SCANNED,
        needs="masking_world",
    ),
    *(
        api(
            f"api change log entry of {name}",
            "GET",
            lambda w, path=path: f"/api/v1/audit/changes/{log_entry_of(obj(w, path)).pk}/",
            shows=SCANNED,
            needs="world",
        )
        for name, path in (("an offboarding case", "case_draft"), ("a transfer", "transfer"))
    ),
    admin(
        "admin change log of one staff member",
        "GET",
        lambda w: f"/admin/auditlog/logentry/?staff={w.org.rep.pk}",
        AUDIT_ADMIN,
        shows=SCANNED,
        records={"auditor": Event(LIST, LOG_ENTRY, log_of_rep)},
        queries=16,
    ),
    # --- the door admins' own pages of one record (history, and the models without a custom
    # change form above): scoped like the record's change form --------------------------------
    *(
        admin(
            name,
            "GET",
            at(f"/admin/{model}/{{}}/{page}/", path),
            statuses,
            queries=queries,
            needs="world",
        )
        for name, model, path, page, statuses, queries in (
            (
                "history of an access event",
                "audit/accessevent",
                "event",
                "history",
                AUDIT_ADMIN,
                11,
            ),
            (
                "history of a security alert",
                "audit/securityalert",
                "alert",
                "history",
                AUDIT_ADMIN,
                11,
            ),
            (
                "history of the conversation with rep's customer",
                "chats/conversation",
                "conversation",
                "history",
                SEES_CHAT_OF_REP,
                17,
            ),
            (
                "history of a message with rep's customer",
                "chats/message",
                "message",
                "history",
                SEES_CHAT_OF_REP,
                19,
            ),
            ("history of a legal hold", "chats/legalhold", "hold", "history", LEGAL_HOLDS, 11),
            ("page of a legal hold", "chats/legalhold", "hold", "change", LEGAL_HOLDS, 19),
            (
                "history of the transferred customer's ownership change",
                "customers/ownershiptransfer",
                "ownership_change",
                "history",
                OWNERSHIP_CHANGE,
                16,
            ),
            (
                "page of the transferred customer's ownership change",
                "customers/ownershiptransfer",
                "ownership_change",
                "change",
                OWNERSHIP_CHANGE,
                20,
            ),
            (
                "history of the done case's transfer",
                "offboarding/customertransfer",
                "transfer",
                "history",
                CASE_PAGE,
                13,
            ),
            (
                "page of the done case's transfer",
                "offboarding/customertransfer",
                "transfer",
                "change",
                CASE_PAGE,
                17,
            ),
            (
                "history of the done case's revoked share",
                "offboarding/revokedshare",
                "revoked_share",
                "history",
                REVOKED_SHARE_PAGE,
                13,
            ),
            (
                "page of the done case's revoked share",
                "offboarding/revokedshare",
                "revoked_share",
                "change",
                REVOKED_SHARE_PAGE,
                16,
            ),
            (
                "history of the draft case",
                "offboarding/offboardingcase",
                "case_draft",
                "history",
                CASE_PAGE,
                14,
            ),
            (
                "history of rep's staff record",
                "staff/staff",
                "org.rep",
                "history",
                admin_only(STAFF_READERS, 403),
                11,
            ),
        )
    ),
    admin(
        "history of a change log entry",
        "GET",
        lambda w: f"/admin/auditlog/logentry/{log_entry_of(w.org.rep).pk}/history/",
        AUDIT_ADMIN,
        queries=14,
    ),
    # --- identity deploy: the API schema and its docs pages, signed-in staff only -----------
    api("API schema", "GET", fixed("/api/schema/"), only({}, 200), queries=0),
    admin("Swagger UI (session)", "GET", fixed("/api/docs/"), admin_only({}, 200), queries=3),
    admin(
        "Swagger UI script (session)",
        "GET",
        fixed("/api/docs/?script"),
        admin_only({}, 200),
        queries=3,
    ),
    admin("ReDoc (session)", "GET", fixed("/api/redoc/"), admin_only({}, 200), queries=3),
]
