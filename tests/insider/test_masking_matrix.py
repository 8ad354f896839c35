"""Insider §5: masking follows the role, per data class (scrm/masking/policy.py ROLE_MATRIX).

Every role of the test organisation reads the customer list and each customer's detail through
the API, and the changelist and each change form through the admin; for every customer it gets
back, each sensitive field is classified as raw, masked (exactly the policy's mask) or hidden,
and compared with the matrix written out below as the specification (not computed from the code
under test). The world: one customer per owner, and rep_b shares of_rep_b with rep.

Then the attacks: the security officer reading a customer's change log entry, a shared
customer's name, a leaver in their notice period, a stale cached book, and the "send back what
you were shown" write path keeping the stored values.
"""

import html
import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import translation

from chats.models import SensitiveWordRule
from customers.models import Customer
from customers.services import share_customer, update_customer
from scrm.audit.changelog import changes_for
from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_wechat_id,
)
from scrm.masking.policy import HIDDEN_VALUE, ROLE_MATRIX
from scrm.staff import roles
from scrm.staff.models import Staff
from tests.conftest import ORG_USERS
from tests.factories import CustomerFactory
from tests.signin import verified_login

RAW, MASKED, HIDDEN = "raw", "masked", "hidden"
FIELDS = ("name", "mobile", "wechat_id", "email", "address", "id_number")
CONTACT_AND_IDENTITY = FIELDS[1:]
MASKS = {
    "name": mask_name,
    "mobile": mask_mobile,
    "wechat_id": mask_wechat_id,
    "email": mask_email,
    "address": mask_address,
    "id_number": mask_id_number,
}

# --- the specification ------------------------------------------------------------------------
# role -> customer (attribute of `customers`) -> how its NAME comes back in the list. Absent:
# not in the role's list at all. The name is raw in the viewer's book (own / team / department),
# masked for a share and for every role with a wider scope.
NAMES: dict[str, dict[str, str]] = {
    "rep": {"of_rep": RAW, "of_rep_b": MASKED},  # of_rep_b is shared with rep
    "rep_b": {"of_rep_b": RAW},
    "rep_other_team": {"of_other_team": RAW},
    "lead": {"of_rep": RAW, "of_rep_b": RAW, "of_leaver": RAW},
    "manager": {"of_rep": RAW, "of_rep_b": RAW, "of_leaver": RAW, "of_other_team": RAW},
    "manager_other": {"of_unrelated": RAW},
    "hr": {"of_leaver": MASKED},  # HR lists the customers of staff who are leaving
    "legal": dict.fromkeys(
        ("of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"), MASKED
    ),
    "auditor": dict.fromkeys(
        ("of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"), MASKED
    ),
    "security": {},  # no customer pages at all (403)
    "admin_user": dict.fromkeys(
        ("of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"), MASKED
    ),
}
# Contact (mobile, WeChat ID, email, address) and identity (ID number): masked for everyone
# who may read customers, hidden (not even masked) for HR and security officers.
CONTACT = {role: MASKED for role in ORG_USERS} | {"hr": HIDDEN, "security": HIDDEN}
# Who opens the detail / change form of the customers they list (HR only lists).
OPENS_DETAIL = set(ORG_USERS) - {"hr", "security"}


def expected(role: str) -> dict[str, dict[str, str]]:
    return {
        attr: {"name": name, **dict.fromkeys(CONTACT_AND_IDENTITY, CONTACT[role])}
        for attr, name in NAMES[role].items()
    }


def classify(field: str, raw: str, value: str) -> str:
    if value == raw:
        return RAW
    if value in (HIDDEN_VALUE, "[已隐藏]"):  # the API's token; the admin shows it in Chinese
        return HIDDEN
    assert value == MASKS[field](raw), f"{field}: {value!r} is neither raw, masked nor hidden"
    return MASKED


@pytest.fixture
def world(org, customers):
    share_customer(actor=org.rep_b, customer=customers.of_rep_b, with_staff=org.rep)
    return customers


def attr_of(world, pk: int) -> str:
    return next(attr for attr, c in vars(world).items() if c.pk == pk)


def api(user) -> Client:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=user)
    return client


def admin(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ORG_USERS)
def test_api_list_and_detail_follow_the_matrix(role, org, world):
    client = api(getattr(org, role))

    listing = client.get("/api/v1/customers/")

    if role == "security":
        assert listing.status_code == 403
        return
    assert listing.status_code == 200
    seen = {}
    for row in listing.json()["results"]:
        customer = Customer.objects.get(pk=row["id"])
        seen[attr_of(world, row["id"])] = {
            f: classify(f, getattr(customer, f), row[f]) for f in FIELDS
        }
    assert seen == expected(role)
    for attr, fields in expected(role).items():
        customer = getattr(world, attr)
        detail = client.get(f"/api/v1/customers/{customer.pk}/")
        if role not in OPENS_DETAIL:
            assert detail.status_code == 404
            continue
        body = detail.json()
        assert {f: classify(f, getattr(customer, f), body[f]) for f in FIELDS} == fields, attr


# --- the admin --------------------------------------------------------------------------------

ROW_RE = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)


def changelist_rows(body: str) -> dict[int, dict[str, str]]:
    """pk -> the name and mobile columns of the customer changelist."""
    rows = {}
    for row in ROW_RE.findall(body):
        pk = re.search(r'customers/customer/(\d+)/change/"[^>]*>\d+<', row)
        if pk is None:
            continue
        name = re.search(r"field-masked_name\b[^>]*><a [^>]*>(.*?)</a>", row).group(1)
        mobile = re.search(r"field-masked_mobile\b[^>]*>(.*?)</td>", row).group(1)
        rows[int(pk.group(1))] = {"name": html.unescape(name), "mobile": html.unescape(mobile)}
    return rows


def change_form_values(body: str) -> dict[str, str]:
    """Each sensitive field of a change form: the input's value, or the read-only text."""
    values = {}
    for field in FIELDS:
        editable = re.search(rf'<input[^>]*name="{field}"[^>]*value="([^"]*)"', body)
        # unfold marks a read-only value by its label, not by a field-<name> class
        label = re.escape(str(Customer._meta.get_field(field).verbose_name))
        readonly = re.search(
            rf">{label}</label>\s*</div>\s*<div[^>]*>\s*<div class=\"readonly[^\"]*\">(.*?)</div>",
            body,
            re.S,
        )
        assert editable or readonly, field
        values[field] = html.unescape((editable or readonly).group(1))
    return values


@pytest.mark.parametrize("role", ORG_USERS)
def test_admin_changelist_and_change_form_follow_the_matrix(role, org, world):
    client = admin(getattr(org, role))

    page = client.get("/admin/customers/customer/")

    if role == "security":
        assert page.status_code == 403
        return
    assert page.status_code == 200
    seen = {}
    for pk, columns in changelist_rows(page.content.decode()).items():
        customer = Customer.objects.get(pk=pk)
        seen[attr_of(world, pk)] = {
            f: classify(f, getattr(customer, f), v) for f, v in columns.items()
        }
    assert seen == {
        attr: {f: fields[f] for f in ("name", "mobile")} for attr, fields in expected(role).items()
    }
    for attr, fields in expected(role).items():
        customer = getattr(world, attr)
        form = client.get(f"/admin/customers/customer/{customer.pk}/change/")
        if role not in OPENS_DETAIL:
            assert form.status_code == 302  # out of the view scope: back to the index
            continue
        assert form.status_code == 200
        values = change_form_values(form.content.decode())
        assert {f: classify(f, getattr(customer, f), values[f]) for f in FIELDS} == fields, attr


def test_hr_never_sees_contact_or_identity_values_not_even_masked(org, world):
    """HR's list of a leaver's customers: the masked name, and no trace of the contact data."""
    of_leaver = world.of_leaver
    api_row = api(org.hr).get("/api/v1/customers/").json()["results"][0]
    admin_page = admin(org.hr).get("/admin/customers/customer/").content.decode()

    for field in CONTACT_AND_IDENTITY:
        assert api_row[field] == HIDDEN_VALUE
        for shape in (getattr(of_leaver, field), MASKS[field](getattr(of_leaver, field))):
            assert shape not in str(api_row) and shape not in admin_page
    assert api_row["name"] == mask_name(of_leaver.name)


# --- attacks ----------------------------------------------------------------------------------


def test_security_officer_cannot_read_a_customers_change_log(org, world):
    """The security officer has no customer scope: no customer entry, listed or by id."""
    update_customer(actor=org.rep, customer=world.of_rep, company="Renamed Ltd")
    entry = LogEntry.objects.get_for_object(world.of_rep).latest("id")
    client = admin(org.security)

    listing = client.get("/admin/auditlog/logentry/")
    by_id = client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")
    searched = client.get("/admin/auditlog/logentry/", {"q": "Renamed"})

    assert listing.status_code == 200
    assert f"/admin/auditlog/logentry/{entry.pk}/change/" not in listing.content.decode()
    assert by_id.status_code == 302  # "does not exist": back to the admin index
    assert "Renamed Ltd" not in client.get(by_id.url).content.decode()
    assert "Renamed Ltd" not in searched.content.decode()
    assert searched.context["cl"].result_count == 0


def test_security_officer_still_reads_the_change_log_of_their_own_business(org):
    """Entries not about a customer (here a sensitive-word rule) stay visible to them."""
    rule = SensitiveWordRule.objects.create(pattern="内部价", severity="high")
    entry = LogEntry.objects.get_for_object(rule).latest("id")
    client = admin(org.security)

    listing = client.get("/admin/auditlog/logentry/").content.decode()
    page = client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")

    assert f"/admin/auditlog/logentry/{entry.pk}/change/" in listing
    assert page.status_code == 200 and "内部价" in page.content.decode()


def test_change_log_is_scoped_like_customers_for_every_reader(org, world):
    """An auditor (everything) sees every customer's entries; a role given the change log but
    a narrow scope sees only its scope's, follow-ups included."""
    from tests.factories import FollowUpFactory

    FollowUpFactory(customer=world.of_unrelated, staff=org.rep_unrelated, note="回访")
    FollowUpFactory(customer=world.of_rep, staff=org.rep, note="回访")
    unrelated = LogEntry.objects.get_for_object(world.of_unrelated.follow_ups.get()).get()
    own = LogEntry.objects.get_for_object(world.of_rep.follow_ups.get()).get()
    org.lead.user_permissions.add(
        Permission.objects.get(codename="view_logentry", content_type__app_label="auditlog")
    )
    lead = Staff.objects.get(pk=org.lead.pk)  # fresh permission cache

    auditor_page = admin(org.auditor).get("/admin/auditlog/logentry/").content.decode()
    lead_page = admin(lead).get("/admin/auditlog/logentry/").content.decode()

    link = "/admin/auditlog/logentry/{}/change/"
    assert link.format(unrelated.pk) in auditor_page and link.format(own.pk) in auditor_page
    assert link.format(own.pk) in lead_page
    assert link.format(unrelated.pk) not in lead_page
    assert admin(lead).get(link.format(unrelated.pk)).status_code == 302


def test_change_log_diffs_hide_what_the_matrix_hides(org, world):
    """The log stores masks; a data class the viewer may not see at all renders [hidden]."""
    update_customer(actor=org.rep, customer=world.of_rep, mobile="13800001111", name="周杰")
    entry = LogEntry.objects.get_for_object(world.of_rep).latest("id")

    for_hr = changes_for(entry, org.hr)
    for_auditor = changes_for(entry, org.auditor)

    assert for_hr["mobile"] == [HIDDEN_VALUE, HIDDEN_VALUE]
    assert for_auditor["mobile"] == entry.changes_dict["mobile"] != for_hr["mobile"]
    assert "13800001111" not in str(for_auditor)
    assert for_hr["name"] == entry.changes_dict["name"]  # basic data: masked for HR, not hidden


def test_a_share_does_not_show_the_name(org, world):
    """rep_b shares of_rep_b with rep: rep may view it, but the name stays masked."""
    body = api(org.rep).get(f"/api/v1/customers/{world.of_rep_b.pk}/").json()

    assert body["name"] == mask_name(world.of_rep_b.name)


def test_a_rep_in_their_notice_period_sees_their_own_names_masked(org, world):
    rows = api(org.rep_leaving).get("/api/v1/customers/").json()["results"]

    assert [row["name"] for row in rows] == [mask_name(world.of_leaver.name)]


def test_chat_and_offboarding_surfaces_name_the_customer_per_viewer(org, world):
    """Conversations list the name as the matrix shows it: raw for the team lead, masked for
    the auditor (both see the conversation)."""
    from tests.chats.factories import ConversationFactory

    conversation = ConversationFactory(customer=world.of_rep, owner=org.rep)

    as_lead = api(org.lead).get(f"/api/v1/chats/conversations/{conversation.pk}/").json()
    as_auditor = api(org.auditor).get(f"/api/v1/chats/conversations/{conversation.pk}/").json()
    lead_admin = admin(org.lead).get("/admin/chats/conversation/").content.decode()

    assert as_lead["customer_name"] == world.of_rep.name
    assert as_auditor["customer_name"] == mask_name(world.of_rep.name)
    assert world.of_rep.name in lead_admin


def test_offboarding_preview_names_per_viewer_and_hr_sees_them_masked(org, world):
    """HR handles the case on masked names; the leaver's lead sees the team's names."""
    from datetime import timedelta

    from django.utils import timezone

    from offboarding.services import create_case

    org.rep_leaving.supervisor = org.lead
    org.rep_leaving.save()
    case = create_case(
        actor=org.hr,
        leaver=org.rep_leaving,
        reason="resigned",
        notice_date=timezone.localdate(),
        effective_at=timezone.now() + timedelta(days=30),
        successors=[org.rep_b],
    )
    of_leaver = world.of_leaver
    url = f"/api/v1/offboarding/cases/{case.pk}/preview/"

    as_hr = api(org.hr).get(url).json()["assignments"]
    as_lead = api(org.lead).get(url).json()["assignments"]
    hr_page = admin(org.hr).get(f"/admin/offboarding/offboardingcase/{case.pk}/preview/")

    assert [row["customer"] for row in as_hr] == [f"{mask_name(of_leaver.name)} (#{of_leaver.pk})"]
    assert [row["customer"] for row in as_lead] == [f"{of_leaver.name} (#{of_leaver.pk})"]
    assert hr_page.status_code == 200
    assert of_leaver.name not in hr_page.content.decode()
    assert mask_name(of_leaver.name) in hr_page.content.decode()


def test_a_cached_book_does_not_outlive_the_request(org, world):
    """The same user object across requests (as a long-lived worker could hold it): after the
    team changes, the lead sees the newcomer's customer with its name, not a stale mask."""
    client = api(org.lead)
    before = client.get("/api/v1/customers/").json()["results"]
    org.rep_other_team.team = org.team1
    org.rep_other_team.save()

    after = client.get("/api/v1/customers/").json()["results"]

    assert world.of_other_team.pk not in [row["id"] for row in before]
    names = {row["id"]: row["name"] for row in after}
    assert names[world.of_other_team.pk] == world.of_other_team.name


def test_sending_back_what_was_shown_changes_nothing(org, world):
    """The rep saves their own customer's form as shown (raw name, masked contacts) and PUTs
    the API detail back: every stored value stays as it was."""
    customer = world.of_rep
    stored = {f: getattr(customer, f) for f in FIELDS}
    client = admin(org.rep)
    form = change_form_values(
        client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    )
    assert form["name"] == stored["name"] and form["mobile"] == mask_mobile(stored["mobile"])

    inlines = {
        f"{prefix}-{count}": "0"
        for prefix in ("follow_ups", "transactions", "ownership")
        for count in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    posted = client.post(
        f"/admin/customers/customer/{customer.pk}/change/",
        {
            **form,
            **inlines,
            "company": "Kept Ltd",
            "source_channel": customer.source_channel,
            "stage": "won",
            "wecom_external_userid": customer.wecom_external_userid or "",
        },
    )
    body = api(org.rep).get(f"/api/v1/customers/{customer.pk}/").json()
    put = api(org.rep).put(
        f"/api/v1/customers/{customer.pk}/",
        {k: body[k] for k in (*FIELDS, "company", "source_channel", "stage")},
        format="json",
    )

    assert posted.status_code == 302, posted.content.decode()[:2000]
    assert put.status_code == 200, put.content
    customer.refresh_from_db()
    assert {f: getattr(customer, f) for f in FIELDS} == stored
    assert (customer.company, customer.stage) == ("Kept Ltd", "won")


def test_customer_list_queries_do_not_grow_with_the_page(org, django_assert_max_num_queries):
    """The lead's book is read once per request, not once per row."""
    counts = []
    for extra in (2, 20):
        Customer.objects.all().delete()
        CustomerFactory.create_batch(extra, owner=org.rep)
        client = api(Staff.objects.get(pk=org.lead.pk))
        with django_assert_max_num_queries(30) as captured:
            assert client.get("/api/v1/customers/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- the matrix page --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ORG_USERS)
def test_the_matrix_page_is_for_administrators_auditors_and_security(role, org):
    response = admin(getattr(org, role)).get("/admin/masking-matrix/")

    if role in ("auditor", "security", "admin_user"):
        assert response.status_code == 200
        page = response.content.decode()
        for role_name, cells in ROLE_MATRIX.items():
            with translation.override("zh-hans"):  # the page's language
                label = roles.role_label(role_name)
            row = re.search(rf"<th>{re.escape(label)}</th>(.*?)</tr>", page, re.S).group(1)
            assert re.findall(r'class="presentation-(\w+)"', row) == [
                cells[c] for c in ("basic", "contact", "identity")
            ]
    else:
        assert response.status_code == 403


def test_the_matrix_page_asks_anonymous_visitors_to_sign_in(client):
    assert client.get("/admin/masking-matrix/").status_code == 302


def test_the_matrix_declares_every_role(org):
    assert set(ROLE_MATRIX) == set(roles.ALL_ROLES)


def test_the_customer_app_registers_every_sensitive_field_with_its_data_class():
    """The platform declares no field: customers registers its six as its model loads, each in
    the data class the matrix above decides (a field outside the table would be shown raw)."""
    from scrm.masking.policy import SENSITIVE_FIELDS, register_sensitive_field

    assert {name: s.data_class for name, s in SENSITIVE_FIELDS.items()} == {
        "name": "basic",
        "mobile": "contact",
        "wechat_id": "contact",
        "email": "contact",
        "address": "contact",
        "id_number": "identity",
    }
    with pytest.raises(ValueError, match="unknown data class"):
        register_sensitive_field("passport", data_class="secret", mask=mask_id_number)
    assert "passport" not in SENSITIVE_FIELDS
