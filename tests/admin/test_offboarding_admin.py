"""HR's offboarding pages in the admin: create, preview, approve, schedule, run, report, import."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from customers.models import Customer
from offboarding.models import OffboardingCase
from offboarding.steps import STEPS
from tests.factories import CustomerFactory
from tests.signin import verified_login

CASES = "/admin/offboarding/offboardingcase/"


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


@pytest.fixture
def leaving(org):
    org.rep.supervisor = org.lead
    org.rep.save()
    return [CustomerFactory(owner=org.rep) for _ in range(3)]


def create_through_admin(org) -> OffboardingCase:
    response = admin_client(org.hr).post(
        f"{CASES}add/",
        {
            "leaver": org.rep.pk,
            "reason": "resigned",
            "notice_date": timezone.localdate(),
            "effective_at_0": timezone.localdate(),
            "effective_at_1": "18:00:00",
            "plan": "single",
            "successors": [org.rep_b.pk],
            "handover_notes": "",
        },
    )
    assert response.status_code == 302, response.content
    return OffboardingCase.objects.get(leaver=org.rep)


def test_hr_runs_a_case_end_to_end_in_the_admin(org, leaving):
    case = create_through_admin(org)
    hr, lead = admin_client(org.hr), admin_client(org.lead)

    preview = hr.get(f"{CASES}{case.pk}/preview/")
    assert preview.context["preview"]["customers"] == 3
    assert all(c.name not in preview.content.decode() for c in leaving)

    lead.post(f"{CASES}{case.pk}/approve/")
    hr.post(f"{CASES}{case.pk}/schedule/")
    case.refresh_from_db()
    assert case.status == "scheduled" and case.scheduled_task.one_off

    hr.post(f"{CASES}{case.pk}/run/")
    case.refresh_from_db()
    assert case.status == "completed"
    assert Customer.objects.filter(owner=org.rep_b).count() == 3

    page = hr.get(f"{CASES}{case.pk}/change/")
    assert page.content.decode().count("<progress") == len(STEPS)  # one bar per step
    report = hr.get(f"{CASES}{case.pk}/report/")
    assert report.context["summary"]["completed"] == 3
    assert all(c.name not in report.content.decode() for c in leaving)
    csv_body = b"".join(hr.get(f"{CASES}{case.pk}/report.csv").streaming_content).decode(
        "utf-8-sig"
    )
    assert len(csv_body.strip().splitlines()) == 4 and "rep_b" in csv_body


@pytest.mark.parametrize("who", ["hr", "admin_user", "manager_other"])
def test_only_the_supervisor_or_a_manager_above_approves(who, org, leaving):
    # HR opened the case; the superuser has no bypass; another department's manager is not above
    case = create_through_admin(org)

    admin_client(getattr(org, who)).post(f"{CASES}{case.pk}/approve/")

    case.refresh_from_db()
    assert case.status == "draft"


def test_reps_have_no_offboarding_pages(org, leaving):
    case = create_through_admin(org)
    client = admin_client(org.rep_b)

    assert client.get(CASES).status_code == 403
    assert client.get(f"{CASES}{case.pk}/report/").status_code == 403


def test_bad_successor_is_a_clear_error_and_creates_nothing(org, leaving):
    response = admin_client(org.hr).post(
        f"{CASES}add/",
        {
            "leaver": org.rep.pk,
            "reason": "resigned",
            "notice_date": timezone.localdate(),
            "effective_at_0": timezone.localdate(),
            "effective_at_1": "18:00:00",
            "plan": "single",
            "successors": [org.rep.pk],
        },
        follow=True,
    )

    assert "cannot be their own successor" in response.content.decode()
    assert not OffboardingCase.objects.exists()


def test_csv_import_page_reports_bad_lines(org, leaving):
    last_day = (timezone.localdate() + timedelta(days=14)).isoformat()
    today = timezone.localdate().isoformat()
    content = (
        "username,notice_date,last_working_date,successor\n"
        f"rep,{today},{last_day},rep_b\n"
        f"nobody,{today},{last_day},\n"
        f"rep_other_team,{today},not-a-date,\n"
    ).encode()

    response = admin_client(org.hr).post(
        f"{CASES}import/", {"file": SimpleUploadedFile("leavers.csv", content)}
    )

    result = response.context["result"]
    assert [c.leaver.username for c in result.created] == ["rep"]
    assert [line for line, _ in result.errors] == [3, 4]
    assert "nobody" in result.errors[0][1] and "not a date" in result.errors[1][1]


class _FormNesting(HTMLParser):
    """Every <form> on a page, whether one opened inside another (browsers drop those), and the
    buttons that post their form elsewhere."""

    def __init__(self):
        super().__init__()
        self.depth, self.nested, self.buttons = 0, False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.nested |= self.depth > 0
            self.depth += 1
        if tag == "button" and "formaction" in attrs:
            self.buttons.append((attrs["formaction"], attrs.get("formmethod")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def test_the_case_action_buttons_post_to_their_own_urls_without_nested_forms(org, leaving):
    """The supervisor's Approve used to sit in a <form> inside the change form: the browser
    dropped the inner form and posted the change form instead (a 403 or a 500)."""
    case = create_through_admin(org)
    supervisor = admin_client(org.lead)
    page = supervisor.get(f"{CASES}{case.pk}/change/").content.decode()

    parsed = _FormNesting()
    parsed.feed(page)

    assert not parsed.nested
    approve = f"{CASES}{case.pk}/approve/"
    assert (approve, "post") in parsed.buttons

    # What the browser sends for that button: the change form's own fields, to its URL.
    response = supervisor.post(approve, {"reason": "resigned", "leaver": org.rep.pk})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == OffboardingCase.Status.APPROVED
