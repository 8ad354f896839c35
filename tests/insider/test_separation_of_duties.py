"""Issue 9, section 1: no single person moves a customer book.

The attacks an HR officer, a superuser or a leaver would try, through the staff admin (session)
and the offboarding API (JWT or force_authenticate), against the real database:
- make oneself the leaver's supervisor, then open, approve and run the case alone;
- approve a case one opened, or one's own case;
- hand the book to someone outside sales (auditor, legal, the wecom-sync service account, HR) or
  outside the approver's team;
- edit an administrator's or a security officer's record;
- set "departed" by hand and count on the account living on; reactivate a leaver.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import MultiWidget
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer
from offboarding.models import OffboardingCase
from offboarding.runner import run_case
from offboarding.services import approve_case, create_case
from scrm.staff import roles
from scrm.staff import services as staff_services
from scrm.staff.models import Device, Staff
from tests.conftest import obtain_jwt
from tests.factories import TEST_PASSWORD, CustomerFactory, StaffFactory
from tests.offboarding.cases import CASES_URL, open_case
from tests.signin import verified_login

STAFF_ADMIN = "/admin/staff/staff/"
NEW_PASSWORD = "Back-again-2026-xyz"


def session_for(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def change_form_data(client: Client, staff: Staff, **changes) -> dict:
    """What the browser would post from the staff change form as the viewer sees it, with
    `changes` applied: the form's current values, its inline formsets and management forms."""
    page = client.get(f"{STAFF_ADMIN}{staff.pk}/change/")
    assert page.status_code == 200
    data: dict = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for bound in form:
            if bound.field.disabled:
                continue
            value = bound.value()
            widget = bound.field.widget
            if isinstance(widget, MultiWidget):
                for i, part in enumerate(widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else part
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = list(value)
            elif value is not None:
                data[bound.html_name] = value
    data.update(changes)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def case_body(leaver, successor) -> dict:
    return {
        "leaver": leaver.pk,
        "successor": successor.pk,
        "reason": "Resigned",
        "effective_at": (timezone.now() + timedelta(days=14)).isoformat(),
    }


@pytest.fixture
def leaver(org):
    """A rep of team1 supervised by the team lead, with a small book."""
    person = StaffFactory(
        username="leaver", roles=[roles.SALES_REP], team=org.team1, supervisor=org.lead
    )
    CustomerFactory.create_batch(3, owner=person)
    return person


# --- the HR officer who makes itself supervisor -------------------------------------------------


def test_hr_cannot_make_itself_the_leavers_supervisor_in_the_staff_admin(org, leaver):
    # given: HR may edit the leaver's record (employment status) but not the reporting line
    hr = session_for(org.hr)
    form = hr.get(f"{STAFF_ADMIN}{leaver.pk}/change/").content.decode()
    assert 'name="supervisor"' not in form and 'name="team"' not in form

    # when: the field is posted anyway, with the rest of the form
    response = hr.post(
        f"{STAFF_ADMIN}{leaver.pk}/change/",
        change_form_data(hr, leaver, supervisor=org.hr.pk, first_name="Changed"),
        follow=True,
    )

    # then: refused whole, with a message; nothing saved
    assert response.status_code == 200
    assert any("无权修改 supervisor" in m for m in messages_of(response))
    leaver.refresh_from_db()
    assert leaver.supervisor == org.lead and leaver.first_name == ""


@pytest.mark.parametrize(
    "changes",
    [
        lambda org: {"supervisor": org.hr},
        lambda org: {"team": org.team2, "department": org.team2.department},
    ],
)
def test_hr_cannot_change_the_reporting_line_through_the_service(changes, org, leaver):
    # when / then
    placement = {"department": leaver.department, "team": leaver.team, "supervisor": org.lead}
    with pytest.raises(PermissionDenied):
        staff_services.change_placement(actor=org.hr, staff=leaver, **{**placement, **changes(org)})
    leaver.refresh_from_db()
    assert (leaver.supervisor, leaver.team) == (org.lead, org.team1)


def test_hr_cannot_give_itself_or_anyone_a_role(org, leaver):
    with pytest.raises(PermissionDenied):
        staff_services.set_groups(
            actor=org.hr, staff=org.hr, groups=Group.objects.filter(name=roles.ADMINISTRATOR)
        )
    assert roles.ADMINISTRATOR not in Staff.objects.get(pk=org.hr.pk).role_names


def test_an_administrator_changes_the_supervisor_in_the_staff_admin(org, leaver):
    # given
    admin = session_for(org.admin_user)
    other_lead = StaffFactory(username="lead_b", roles=[roles.TEAM_LEAD], team=org.team1)

    # when
    response = admin.post(
        f"{STAFF_ADMIN}{leaver.pk}/change/",
        change_form_data(admin, leaver, supervisor=other_lead.pk),
    )

    # then
    assert response.status_code == 302, messages_of(response)
    leaver.refresh_from_db()
    assert leaver.supervisor == other_lead


def test_a_supervisor_loop_is_a_message_not_a_500_nor_a_partial_save(org, leaver):
    # given: the lead would report to the leaver, who reports to the lead
    admin = session_for(org.admin_user)

    # when
    response = admin.post(
        f"{STAFF_ADMIN}{org.lead.pk}/change/",
        change_form_data(admin, org.lead, supervisor=leaver.pk, first_name="Changed"),
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert any("形成了循环" in m for m in messages_of(response))  # "a loop"
    org.lead.refresh_from_db()
    assert org.lead.supervisor is None and org.lead.first_name == ""


def test_hr_creates_an_account_and_only_an_administrator_places_it(org):
    # given
    hr = session_for(org.hr)

    # when: the add form asks for a username and a password only
    response = hr.post(
        f"{STAFF_ADMIN}add/",
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "A-long-password-2026",
            "password2": "A-long-password-2026",
            "devices-TOTAL_FORMS": "0",
            "devices-INITIAL_FORMS": "0",
            "team": org.team1.pk,
            "supervisor": org.hr.pk,
            "is_superuser": "on",
        },
    )

    # then
    assert response.status_code == 302, response.content
    newcomer = Staff.objects.get(username="newcomer")
    assert (newcomer.team, newcomer.supervisor, newcomer.is_superuser) == (None, None, False)
    assert not newcomer.groups.exists()
    page = hr.get(f"{STAFF_ADMIN}{newcomer.pk}/change/").content.decode()
    assert 'name="employment_status"' in page
    for field in ("team", "department", "supervisor", "is_active", "groups"):
        assert f'name="{field}"' not in page


def test_the_full_attack_hr_alone_cannot_move_a_book(org, leaver, jwt_client_for):
    # given: HR tries to become the supervisor first
    hr_admin = session_for(org.hr)
    hr_admin.post(
        f"{STAFF_ADMIN}{leaver.pk}/change/",
        change_form_data(hr_admin, leaver, supervisor=org.hr.pk),
    )
    hr = jwt_client_for(org.hr)

    # when: HR opens the case, to the auditor first, then to a rep, and approves it itself
    to_auditor = hr.post(CASES_URL, case_body(leaver, org.auditor), format="json")
    created = hr.post(CASES_URL, case_body(leaver, org.rep), format="json")
    approved = hr.post(f"{CASES_URL}{created.json()['id']}/approve/")
    run = hr.post(f"{CASES_URL}{created.json()['id']}/run/")

    # then
    assert to_auditor.status_code == 400
    assert created.status_code == 201, created.content
    case = OffboardingCase.objects.get(pk=created.json()["id"])
    assert case.approver == org.lead
    assert approved.status_code == 403, approved.content
    assert run.status_code == 409  # never approved: the case cannot run
    assert Customer.objects.filter(owner=leaver).count() == 3
    assert Staff.objects.get(pk=leaver.pk).is_active


# --- who approves -------------------------------------------------------------------------------


def test_a_superuser_cannot_approve_a_case_it_created(org, api_client_for):
    # given: the superuser supervises the leaver and opens the case itself
    leaver = StaffFactory(roles=[roles.SALES_REP], team=org.team1, supervisor=org.admin_user)
    client = api_client_for(org.admin_user)
    created = client.post(CASES_URL, case_body(leaver, org.rep), format="json")
    assert created.status_code == 201, created.content

    # when
    response = client.post(f"{CASES_URL}{created.json()['id']}/approve/")

    # then
    assert response.status_code == 403, response.content
    assert "发起交接的人不能审批" in response.json()["detail"]  # "Whoever opened a case ..."
    assert OffboardingCase.objects.get(pk=created.json()["id"]).status == "draft"


def test_a_superuser_has_no_approval_bypass(org, leaver, api_client_for):
    # given: HR opened the case; the superuser is nobody's supervisor here
    case = open_case(org, leaver)

    # when
    response = api_client_for(org.admin_user).post(f"{CASES_URL}{case.pk}/approve/")

    # then
    assert response.status_code == 403, response.content
    case.refresh_from_db()
    assert case.status == "draft" and case.approved_by is None


def test_the_leaver_cannot_approve_their_own_case_even_as_a_superuser(org, jwt_client_for):
    # given: a superuser who is also a sales manager is leaving; HR opened the case
    leaver = StaffFactory(
        username="big_boss",
        roles=[roles.SALES_MANAGER, roles.ADMINISTRATOR],
        is_superuser=True,
        department=org.sales,
        supervisor=org.manager,
    )
    case = open_case(org, leaver, successors=[org.rep])

    # when
    response = jwt_client_for(leaver).post(f"{CASES_URL}{case.pk}/approve/")

    # then
    assert response.status_code == 403, response.content
    assert "不能审批自己的交接" in response.json()["detail"]  # "... their own case"
    assert OffboardingCase.objects.get(pk=case.pk).status == "draft"


def test_a_leaving_manager_does_not_approve_their_own_case_as_the_manager_above(org):
    # given: the manager's department tree holds their own department
    leaver = StaffFactory(
        roles=[roles.SALES_MANAGER], department=org.sales_east, supervisor=org.manager
    )
    case = open_case(org, leaver, successors=[org.rep])

    # when / then
    with pytest.raises(PermissionDenied):
        approve_case(actor=leaver, case=case)


def test_the_approver_is_the_supervisor_when_the_case_was_opened(org, leaver, api_client_for):
    # given: after the case was opened, an administrator gives the leaver another supervisor
    case = open_case(org, leaver)
    new_lead = StaffFactory(username="lead_new", roles=[roles.TEAM_LEAD], team=org.team1)
    staff_services.change_placement(
        actor=org.admin_user,
        staff=leaver,
        department=leaver.department,
        team=leaver.team,
        supervisor=new_lead,
    )

    # when
    by_new = api_client_for(new_lead).post(f"{CASES_URL}{case.pk}/approve/")
    by_recorded = api_client_for(org.lead).post(f"{CASES_URL}{case.pk}/approve/")

    # then
    assert by_new.status_code == 403, by_new.content
    assert by_recorded.status_code == 200, by_recorded.content


@pytest.mark.parametrize("supervisor", ["none", "inactive", "departed"])
def test_a_leaver_without_an_active_supervisor_cannot_get_a_case(
    supervisor, org, leaver, api_client_for
):
    # given
    if supervisor == "none":
        leaver.supervisor = None
    else:
        leaver.supervisor = StaffFactory(
            roles=[roles.TEAM_LEAD],
            team=org.team1,
            is_active=supervisor != "inactive",
            employment_status="departed" if supervisor == "departed" else "active",
        )
    leaver.save()

    # when
    response = api_client_for(org.hr).post(CASES_URL, case_body(leaver, org.rep), format="json")

    # then
    assert response.status_code == 400, response.content
    assert "no active supervisor" in response.json()["errors"]["leaver"][0]
    assert not OffboardingCase.objects.exists()


# --- whom the book may go to --------------------------------------------------------------------


def _sync_account():
    account = StaffFactory(username="wecom-sync", is_staff=False)
    account.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    return account


UNFIT = {
    "auditor": lambda org: org.auditor,
    "legal": lambda org: org.legal,
    "wecom_sync": lambda org: _sync_account(),
    "hr": lambda org: org.hr,
    "rep_of_another_department": lambda org: org.rep_unrelated,
    "rep_of_another_team": lambda org: org.rep_other_team,
}


@pytest.mark.parametrize("who", sorted(UNFIT))
def test_an_unfit_successor_is_refused_at_create(who, org, leaver, jwt_client_for):
    # given
    successor = UNFIT[who](org)

    # when
    response = jwt_client_for(org.hr).post(CASES_URL, case_body(leaver, successor), format="json")

    # then
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "successors": [f"{successor.username} 不是审批人 lead 可以分配客户的销售同事。"]
    }
    assert not OffboardingCase.objects.exists()


@pytest.mark.parametrize("who", sorted(UNFIT))
def test_an_unfit_successor_in_an_override_is_refused_at_create(who, org, leaver, api_client_for):
    # given
    successor = UNFIT[who](org)
    customer = Customer.objects.filter(owner=leaver).first()
    plan = {"kind": "single", "successors": [org.rep.pk], "overrides": {customer.pk: successor.pk}}
    body = {**case_body(leaver, org.rep), "plan": plan}
    del body["successor"]

    # when
    response = api_client_for(org.hr).post(CASES_URL, body, format="json")

    # then
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["overrides"]
    assert not OffboardingCase.objects.exists()


@pytest.mark.parametrize("who", sorted(UNFIT))
def test_a_case_whose_successor_does_not_qualify_answers_400_at_preview_and_does_not_run(
    who, org, leaver, api_client_for
):
    # given: a case from before the rule (or whose successor was swapped in the database)
    case = open_case(org, leaver)
    case.successors.set([UNFIT[who](org)])
    hr = api_client_for(org.hr)

    # when
    preview = hr.get(f"{CASES_URL}{case.pk}/preview/")
    approve = api_client_for(org.lead).post(f"{CASES_URL}{case.pk}/approve/")
    OffboardingCase.objects.filter(pk=case.pk).update(status="approved")
    run = hr.post(f"{CASES_URL}{case.pk}/run/")

    # then
    assert preview.status_code == 400, preview.content
    assert list(preview.json()["errors"]) == ["successors"]
    assert "assignments" not in preview.json()
    assert approve.status_code == 400
    assert run.status_code == 400
    assert Customer.objects.filter(owner=leaver).count() == 3
    assert Staff.objects.get(pk=leaver.pk).is_active


def test_a_scheduled_run_with_an_unfit_successor_stops_before_the_freeze(org, leaver):
    # given: an approved case whose successor was swapped for the auditor afterwards
    case = approve_case(actor=org.lead, case=open_case(org, leaver))
    case.successors.set([org.auditor])

    # when: what the beat task does at the effective time
    ended = run_case(case.pk)

    # then
    assert ended.status == "failed"
    assert "auditor 不是审批人 lead 可以分配客户的销售同事" in ended.error
    assert Customer.objects.filter(owner=leaver).count() == 3
    assert Staff.objects.get(pk=leaver.pk).is_active
    assert not ended.steps.exclude(status="pending").exists()


def test_a_team_plan_never_picks_someone_the_approver_could_not_assign(org, api_client_for):
    # given: the leaver of team2 is supervised by the team1 lead, so nobody in team2 qualifies
    leaver = StaffFactory(roles=[roles.SALES_REP], team=org.team2, supervisor=org.lead)
    body = {**case_body(leaver, org.rep), "plan": {"kind": "round_robin"}}
    del body["successor"]
    case = create_case(
        actor=org.hr,
        leaver=leaver,
        reason="Resigned",
        notice_date=timezone.localdate(),
        effective_at=timezone.now() + timedelta(days=7),
        plan="round_robin",
    )

    # when
    preview = api_client_for(org.hr).get(f"{CASES_URL}{case.pk}/preview/")

    # then
    assert preview.status_code == 400, preview.content
    assert "plan" in preview.json()["errors"]


def test_the_csv_import_refuses_unfit_successors_and_unsupervised_leavers(
    org, leaver, api_client_for
):
    # given
    today = timezone.localdate()
    unsupervised = StaffFactory(username="alone", roles=[roles.SALES_REP], team=org.team1)
    last = today + timedelta(days=30)
    content = (
        "username,notice_date,last_working_date,successor\n"
        f"leaver,{today},{last},auditor\n"
        f"alone,{today},{last},rep\n"
    )

    # when
    response = api_client_for(org.hr).post(
        f"{CASES_URL}import/",
        {"file": SimpleUploadedFile("leavers.csv", content.encode(), "text/csv")},
        format="multipart",
    )

    # then
    assert response.status_code == 200, response.content
    errors = {e["line"]: e["reason"] for e in response.json()["errors"]}
    assert "auditor 不是审批人 lead 可以分配客户的销售同事" in errors[2]
    assert "alone has no active supervisor" in errors[3]
    assert response.json()["created"] == [] and unsupervised.pk
    assert not OffboardingCase.objects.exists()


def test_the_admin_refuses_an_unfit_successor_with_a_message(org, leaver):
    # when
    response = session_for(org.hr).post(
        "/admin/offboarding/offboardingcase/add/",
        {
            "leaver": leaver.pk,
            "reason": "resigned",
            "notice_date": timezone.localdate(),
            "effective_at_0": timezone.localdate() + timedelta(days=7),
            "effective_at_1": "18:00:00",
            "plan": "single",
            "successors": [org.legal.pk],
            "handover_notes": "",
        },
        follow=True,
    )

    # then
    # The form comes back with the refusal at the field (the picker never offers legal, so a
    # forged id is refused as not one of the choices).
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["successors"]
    assert not OffboardingCase.objects.exists()


# --- records only an administrator edits ----------------------------------------------------


@pytest.mark.parametrize("target", ["admin_user", "security"])
def test_hr_cannot_edit_an_administrators_or_security_officers_record(target, org):
    # given
    person = getattr(org, target)
    hr = session_for(org.hr)
    page = hr.get(f"{STAFF_ADMIN}{person.pk}/change/")

    # when
    response = hr.post(
        f"{STAFF_ADMIN}{person.pk}/change/",
        {
            "username": person.username,
            "email": "hr-owns-this@example.com",
            "employment_status": "departed",
        },
    )

    # then
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.email != "hr-owns-this@example.com"
    assert (person.is_active, person.employment_status) == (True, "active")
    with pytest.raises(PermissionDenied):
        staff_services.set_employment_status(actor=org.hr, staff=person, status="departed")


# --- departed by hand, and back ---------------------------------------------------------------


@pytest.fixture
def signed_in_rep(org):
    """org.rep with a JWT pair, a browser session and a registered phone."""
    tokens = obtain_jwt(APIClient(), org.rep.username)
    browser = session_for(org.rep)
    Device.objects.create(staff=org.rep, device_id="rep-phone", name="Rep's phone")
    return tokens, browser


def test_hr_setting_a_rep_departed_by_hand_ends_every_access(org, signed_in_rep):
    # given
    tokens, browser = signed_in_rep
    access = APIClient()
    access.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert access.get("/api/v1/customers/").status_code == 200
    hr = session_for(org.hr)

    # when
    response = hr.post(
        f"{STAFF_ADMIN}{org.rep.pk}/change/",
        change_form_data(hr, org.rep, employment_status="departed"),
    )

    # then
    assert response.status_code == 302
    rep = Staff.objects.get(pk=org.rep.pk)
    assert (rep.is_active, rep.employment_status) == (False, "departed")
    assert rep.departed_at is not None
    assert access.get("/api/v1/customers/").status_code == 401
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refresh.status_code == 401
    login = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep", "password": TEST_PASSWORD}, format="json"
    )
    assert login.status_code == 401
    page = browser.get("/admin/")
    assert page.status_code == 302 and "/admin/login/" in page["Location"]
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(rep.pk)
    ]
    # The phone still holds the rep's (now revoked) token: it is told to wipe (insider §7).
    phone = APIClient(HTTP_X_DEVICE_ID="rep-phone")
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert phone.get("/api/v1/me/").json()["code"] == "device_wiped"


def test_an_administrator_reactivates_a_departed_rep_with_a_new_password(org, signed_in_rep):
    # given
    staff_services.set_employment_status(actor=org.hr, staff=org.rep, status="departed")
    admin = session_for(org.admin_user)

    # when
    response = admin.post(
        f"{STAFF_ADMIN}{org.rep.pk}/reactivate/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # then
    assert response.status_code == 302, response.content
    rep = Staff.objects.get(pk=org.rep.pk)
    assert (rep.is_active, rep.employment_status, rep.departed_at) == (True, "active", None)
    old = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep", "password": TEST_PASSWORD}, format="json"
    )
    new = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep", "password": NEW_PASSWORD}, format="json"
    )
    assert old.status_code == 401
    assert new.status_code == 200


def test_reactivation_refuses_the_old_password(org):
    staff_services.set_employment_status(actor=org.hr, staff=org.rep, status="departed")

    with pytest.raises(Exception) as refused:
        staff_services.reactivate_staff(
            actor=org.admin_user, staff=org.rep, new_password=TEST_PASSWORD
        )

    assert "new_password" in refused.value.message_dict
    assert not Staff.objects.get(pk=org.rep.pk).is_active


def test_hr_cannot_reactivate_a_leaver(org):
    # given
    staff_services.set_employment_status(actor=org.hr, staff=org.rep, status="departed")
    hr = session_for(org.hr)

    # when
    page = hr.get(f"{STAFF_ADMIN}{org.rep.pk}/reactivate/")
    posted = hr.post(
        f"{STAFF_ADMIN}{org.rep.pk}/reactivate/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    by_status = hr.post(
        f"{STAFF_ADMIN}{org.rep.pk}/change/",
        change_form_data(hr, org.rep, employment_status="active"),
        follow=True,
    )

    # then
    assert page.status_code == posted.status_code == 403
    assert any("reactivates" in m for m in messages_of(by_status))
    with pytest.raises(PermissionDenied):
        staff_services.reactivate_staff(actor=org.hr, staff=org.rep, new_password=NEW_PASSWORD)
    rep = Staff.objects.get(pk=org.rep.pk)
    assert (rep.is_active, rep.employment_status) == (False, "departed")
    assert not rep.check_password(NEW_PASSWORD)
