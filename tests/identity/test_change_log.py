"""Every change to who may do what is recorded (issue 10): staff records, roles, role
permissions, per-user permissions and devices are in the change log with the actor, the
password never, the offboarding freeze leaves explicit entries for what it does in bulk, and
the auditor and the security officer read it by staff member in the API and the admin, with
customer entries still scoped."""

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from rest_framework.test import APIClient

from customers.models import Customer
from customers.services import update_customer
from offboarding.services import run_now
from scrm.audit.attribution import audit_actor
from scrm.audit.models import AccessAction, AccessEvent
from scrm.masking.policy import HIDDEN_VALUE
from scrm.staff import roles
from scrm.staff import services as staff_services
from scrm.staff.models import Device, Staff
from tests.conftest import obtain_jwt
from tests.factories import StaffFactory
from tests.insider.test_separation_of_duties import change_form_data
from tests.offboarding.cases import approved_case
from tests.signin import verified_login

CHANGES = "/api/v1/audit/changes/"
LOG_ADMIN = "/admin/auditlog/logentry/"
STAFF_ADMIN = "/admin/staff/staff/"
NEW_PASSWORD = "Lantern-Kettle-2026"


def session_for(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def staff_entries(staff) -> list[LogEntry]:
    """The entries on the staff member's own row, oldest first."""
    return list(LogEntry.objects.get_for_object(staff).order_by("id"))


def m2m(entry: LogEntry, field: str) -> tuple[str, list[str]]:
    change = entry.changes_dict[field]
    assert change["type"] == "m2m"
    return change["operation"], change["objects"]


def group(name: str) -> Group:
    return Group.objects.get(name=name)


def newest_id() -> int:
    return LogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def every_stored_value() -> str:
    """Everything the change log holds, as one string to search."""
    rows = LogEntry.objects.values(
        "object_repr", "changes", "changes_text", "serialized_data", "additional_data"
    )
    return json.dumps(list(rows), ensure_ascii=False, default=str)


# --- roles and permissions ---------------------------------------------------------------------


def test_an_administrator_changing_roles_through_the_service_is_recorded(org):
    before = newest_id()

    staff_services.set_groups(actor=org.admin_user, staff=org.rep, groups=[group(roles.TEAM_LEAD)])

    entries = [e for e in staff_entries(org.rep) if e.pk > before]
    # The log names roles as people read them (str of a group: scrm.staff.labels)
    assert sorted(m2m(e, "groups") for e in entries) == [
        ("add", [roles.role_label(roles.TEAM_LEAD)]),
        ("delete", [roles.role_label(roles.SALES_REP)]),
    ]
    assert {e.actor for e in entries} == {org.admin_user}


def test_an_administrator_changing_roles_in_the_admin_is_recorded(org):
    admin = session_for(org.admin_user)
    before = newest_id()
    wanted = [group(roles.SALES_REP).pk, group(roles.LEGAL).pk]

    response = admin.post(
        f"{STAFF_ADMIN}{org.rep.pk}/change/", change_form_data(admin, org.rep, groups=wanted)
    )

    assert response.status_code == 302
    # Only the role: the form does not round date_joined (read-only) or touch anything else.
    [entry] = [e for e in staff_entries(org.rep) if e.pk > before]
    assert m2m(entry, "groups") == ("add", [roles.role_label(roles.LEGAL)])
    assert entry.actor == org.admin_user


def test_a_roles_permissions_changed_in_the_admin_are_recorded(org):
    role = group(roles.AUDITOR)
    export = Permission.objects.get(codename="export_raw")
    granted = [*role.permissions.values_list("pk", flat=True), export.pk]
    before = newest_id()

    response = session_for(org.admin_user).post(
        f"/admin/auth/group/{role.pk}/change/", {"name": role.name, "permissions": granted}
    )

    assert response.status_code == 302
    [entry] = LogEntry.objects.get_for_object(role).filter(pk__gt=before)
    assert m2m(entry, "permissions") == ("add", [str(export)])
    assert entry.actor == org.admin_user


def test_a_permission_given_to_one_person_is_recorded(org):
    reveal = Permission.objects.get(codename="reveal_identity")

    with audit_actor(org.admin_user):
        org.rep.user_permissions.add(reveal)

    entry = staff_entries(org.rep)[-1]
    assert m2m(entry, "user_permissions") == ("add", [str(reveal)])
    assert entry.actor == org.admin_user


def test_a_membership_changed_from_the_roles_side_is_on_the_persons_log_too(org):
    """`group.user_set.add(...)` is logged by auditlog on the group; it is on the person's
    own log as well, so the filter by staff member finds it."""
    with audit_actor(org.admin_user):
        group(roles.AUDITOR).user_set.add(org.rep)
        group(roles.AUDITOR).user_set.remove(org.rep)

    *_, added, removed = staff_entries(org.rep)
    assert (m2m(added, "groups"), m2m(removed, "groups")) == (
        ("add", [roles.role_label(roles.AUDITOR)]),
        ("delete", [roles.role_label(roles.AUDITOR)]),
    )
    assert {added.actor, removed.actor} == {org.admin_user}
    listed = api_for(org.auditor).get(CHANGES, {"staff": org.rep.pk}).json()["results"]
    assert {added.pk, removed.pk} <= {row["id"] for row in listed}


# --- the password ------------------------------------------------------------------------------


def _assert_nothing_of_the_password_is_stored(*hashes: str) -> None:
    stored = every_stored_value()
    assert NEW_PASSWORD not in stored
    for hashed in hashes:
        assert hashed not in stored
        assert hashed.rsplit("$", 1)[-1] not in stored  # not even the digest alone


def test_a_password_set_by_an_administrator_is_recorded_without_the_hash(org):
    old_hash = Staff.objects.get(pk=org.rep.pk).password

    response = session_for(org.admin_user).post(
        f"{STAFF_ADMIN}{org.rep.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    rep = Staff.objects.get(pk=org.rep.pk)
    assert rep.check_password(NEW_PASSWORD)
    entry = staff_entries(rep)[-1]
    assert entry.changes_dict == {"password": [HIDDEN_VALUE, HIDDEN_VALUE]}
    assert entry.actor == org.admin_user
    _assert_nothing_of_the_password_is_stored(old_hash, rep.password)
    shown = api_for(org.auditor).get(f"{CHANGES}{entry.pk}/")
    assert shown.json()["changes"] == {"password": [HIDDEN_VALUE, HIDDEN_VALUE]}
    for hashed in (old_hash, rep.password):
        assert hashed.rsplit("$", 1)[-1] not in shown.content.decode()


def test_a_person_changing_their_own_password_is_recorded_without_the_hash(org):
    old_hash = Staff.objects.get(pk=org.lead.pk).password

    response = session_for(org.lead).post(
        "/admin/password_change/",
        {
            "old_password": "pw-test-1234",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302, response.content
    lead = Staff.objects.get(pk=org.lead.pk)
    entry = staff_entries(lead)[-1]
    assert (entry.changes_dict, entry.actor) == (
        {"password": [HIDDEN_VALUE, HIDDEN_VALUE]},
        org.lead,
    )
    _assert_nothing_of_the_password_is_stored(old_hash, lead.password)


def test_a_reactivation_records_the_new_password_hidden_with_the_rest(org):
    staff_services.set_employment_status(actor=org.hr, staff=org.rep, status="departed")

    staff_services.reactivate_staff(actor=org.admin_user, staff=org.rep, new_password=NEW_PASSWORD)

    entry = staff_entries(org.rep)[-1]
    assert entry.actor == org.admin_user
    assert entry.changes_dict["password"] == [HIDDEN_VALUE, HIDDEN_VALUE]
    assert entry.changes_dict["is_active"] == ["False", "True"]
    _assert_nothing_of_the_password_is_stored(Staff.objects.get(pk=org.rep.pk).password)


def test_signing_in_is_not_a_change(org):
    before = newest_id()

    obtain_jwt(APIClient(), org.rep.username)  # updates last_login
    session_for(org.rep)

    assert Staff.objects.get(pk=org.rep.pk).last_login is not None
    assert not LogEntry.objects.filter(pk__gt=before).exists()


# --- devices -----------------------------------------------------------------------------------


def test_a_device_registered_in_the_admin_and_wiped_at_departure_is_recorded(org):
    admin = session_for(org.admin_user)
    data = change_form_data(admin, org.rep)
    data.update(
        {
            "devices-TOTAL_FORMS": "1",
            "devices-0-device_id": "rep-pixel-8",
            "devices-0-name": "Pixel 8",
            "devices-0-platform": "android",
            "devices-0-staff": org.rep.pk,
        }
    )

    registered = admin.post(f"{STAFF_ADMIN}{org.rep.pk}/change/", data)
    staff_services.set_employment_status(actor=org.hr, staff=org.rep, status="departed")

    assert registered.status_code == 302, registered.content
    device = Device.objects.get(device_id="rep-pixel-8")
    created, wiped = LogEntry.objects.get_for_object(device).order_by("id")
    assert (created.action, created.actor) == (LogEntry.Action.CREATE, org.admin_user)
    assert created.changes_dict["device_id"] == ["None", "rep-pixel-8"]
    assert (wiped.action, wiped.actor) == (LogEntry.Action.UPDATE, org.hr)
    assert list(wiped.changes_dict) == ["wipe_requested_at"]
    assert wiped.changes_dict["wipe_requested_at"][0] == "None"


# --- the offboarding freeze --------------------------------------------------------------------


@pytest.fixture
def signed_in_leaver(org):
    """A team1 rep (supervised by lead) with two phones, a JWT pair and a browser session."""
    leaver = StaffFactory(
        username="leaver", roles=[roles.SALES_REP], team=org.team1, supervisor=org.lead
    )
    phones = [
        Device.objects.create(staff=leaver, device_id=f"leaver-phone-{n}", name=f"Phone {n}")
        for n in (1, 2)
    ]
    obtain_jwt(APIClient(), leaver.username)
    session_for(leaver)
    return leaver, phones


def test_the_offboarding_freeze_leaves_explicit_entries_for_all_it_ends(org, signed_in_leaver):
    leaver, phones = signed_in_leaver
    case = approved_case(org, leaver)
    before = newest_id()

    case = run_now(actor=org.hr, case=case)

    assert case.status == "completed", case.error
    deactivated, ended = [e for e in staff_entries(leaver) if e.pk > before]
    assert set(deactivated.changes_dict) == {"is_active", "employment_status", "departed_at"}
    assert deactivated.changes_dict["is_active"] == ["True", "False"]
    assert deactivated.changes_dict["employment_status"] == ["notice", "departed"]
    assert ended.changes_dict == {"refresh_tokens": ["1", "0"], "sessions": ["1", "0"]}
    for phone in phones:
        entries = LogEntry.objects.get_for_object(phone).filter(pk__gt=before)
        wiped, forgotten = entries.order_by("id")
        assert list(wiped.changes_dict) == ["wipe_requested_at"]
        assert forgotten.changes_dict["name"] == [phone.name, ""]
    # The run acts for the HR officer who opened the case, as its ownership transfers do.
    mine = LogEntry.objects.filter(pk__gt=before, content_type__app_label="staff")
    assert {e.actor for e in mine} == {case.created_by} == {org.hr}


def test_running_the_freeze_again_records_nothing_new(org, signed_in_leaver):
    leaver, _ = signed_in_leaver
    staff_services.end_access(staff=leaver, actor=org.hr)
    before = newest_id()

    staff_services.end_access(staff=leaver, actor=org.hr)

    assert not LogEntry.objects.filter(pk__gt=before).exists()


# --- reading it by staff member ----------------------------------------------------------------


@pytest.fixture
def history(org, customers):
    """Changes about rep (roles, a device), about rep_b, and rep's change to a customer."""
    staff_services.set_groups(actor=org.admin_user, staff=org.rep, groups=[group(roles.TEAM_LEAD)])
    with audit_actor(org.admin_user):
        phone = Device.objects.create(staff=org.rep, device_id="rep-phone", name="Rep's phone")
    staff_services.set_groups(actor=org.admin_user, staff=org.rep_b, groups=[group(roles.LEGAL)])
    update_customer(actor=org.rep, customer=customers.of_rep, company="Renamed Ltd")
    about_rep = {e.pk for e in staff_entries(org.rep)}
    about_rep |= set(LogEntry.objects.get_for_object(phone).values_list("pk", flat=True))
    customer_entry = LogEntry.objects.get_for_object(customers.of_rep).latest("id")
    return about_rep, customer_entry


@pytest.mark.parametrize("reader", ["auditor", "security"])
def test_audit_readers_filter_the_api_by_staff_member(reader, org, history):
    about_rep, _ = history

    response = api_for(getattr(org, reader)).get(CHANGES, {"staff": org.rep.pk})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["id"] for row in rows} == about_rep
    assert {row["model"] for row in rows} == {"staff.staff", "staff.device"}
    role_change = next(row for row in rows if "groups" in row["changes"] and row["actor"])
    assert role_change["actor_username"] == org.admin_user.username


@pytest.mark.parametrize("reader", ["auditor", "security"])
def test_audit_readers_filter_the_admin_by_staff_member(reader, org, history):
    about_rep, _ = history

    response = session_for(getattr(org, reader)).get(LOG_ADMIN, {"staff": org.rep.pk})

    assert response.status_code == 200
    assert {entry.pk for entry in response.context["cl"].result_list} == about_rep


def test_the_api_filters_by_actor_model_and_time(org, history):
    client = api_for(org.auditor)
    by_admin = client.get(CHANGES, {"actor": org.admin_user.pk, "page_size": 200}).json()
    groups_only = client.get(CHANGES, {"model": "staff.device"}).json()
    later = client.get(CHANGES, {"since": "2999-01-01T00:00:00Z"}).json()
    earlier = client.get(CHANGES, {"until": "2000-01-01T00:00:00Z"}).json()
    unknown = client.get(CHANGES, {"model": "staff.password"})

    assert by_admin["count"] >= 4
    assert {row["actor"] for row in by_admin["results"]} == {org.admin_user.pk}
    assert [row["object_repr"] for row in groups_only["results"]] == ["Rep's phone (rep)"]
    assert later["count"] == earlier["count"] == 0
    assert unknown.status_code == 400


@pytest.mark.parametrize("role", ["rep", "lead", "manager", "hr", "legal"])
def test_other_roles_may_not_read_the_change_log(role, org, history):
    about_rep, _ = history
    user = getattr(org, role)

    listing = api_for(user).get(CHANGES, {"staff": org.rep.pk})
    entry = api_for(user).get(f"{CHANGES}{min(about_rep)}/")
    page = session_for(user).get(LOG_ADMIN, {"staff": org.rep.pk})

    assert (listing.status_code, entry.status_code, page.status_code) == (403, 403, 403)


def test_nothing_about_customers_reaches_the_security_officer(org, history):
    """The security officer has no customer scope: however they filter, no customer entry."""
    _, customer_entry = history
    client = api_for(org.security)
    customer_models = {"customers.customer", "customers.followup", "customers.transaction"}
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    answers = [
        client.get(CHANGES, {"page_size": 200}),
        client.get(CHANGES, {"model": "customers.customer"}),
        client.get(CHANGES, {"actor": org.rep.pk, "page_size": 200}),
        client.get(CHANGES, {"staff": org.rep.pk}),
    ]
    by_id = client.get(f"{CHANGES}{customer_entry.pk}/")

    for answer in answers:
        assert answer.status_code == 200
        assert "Renamed" not in answer.content.decode()
        assert not {row["model"] for row in answer.json()["results"]} & customer_models
    assert answers[1].json()["count"] == 0
    assert by_id.status_code == 404
    denied = AccessEvent.objects.filter(pk__gt=before, action=AccessAction.DENIED).get()
    assert (denied.actor, denied.object_ids) == (org.security, [customer_entry.pk])
    # The auditor (every customer) does read it: the entry is there to be hidden.
    seen = api_for(org.auditor).get(f"{CHANGES}{customer_entry.pk}/")
    assert seen.status_code == 200 and seen.json()["model"] == "customers.customer"
    assert seen.json()["changes"]["company"][1] == "Renamed Ltd"
    assert Customer.objects.filter(pk=customer_entry.object_id).exists()


def test_a_staff_entry_opened_by_id_is_shown_and_recorded(org, history):
    about_rep, _ = history
    entry_id = min(about_rep)
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = api_for(org.security).get(f"{CHANGES}{entry_id}/")

    assert response.status_code == 200
    assert response.json()["object_id"] == org.rep.pk
    [event] = AccessEvent.objects.filter(pk__gt=before)
    assert (event.action, event.model, event.object_ids) == (
        AccessAction.VIEW,
        "auditlog.logentry",
        [entry_id],
    )
    content_type = ContentType.objects.get_for_model(Staff)
    assert LogEntry.objects.get(pk=entry_id).content_type == content_type
