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

    assert (
        "离职员工不能做自己的接手人" in response.content.decode()
    )  # "cannot be their own successor"
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
    assert "nobody" in result.errors[0][1] and "不是日期" in result.errors[1][1]  # "not a date"


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


# --- issue 11: the flow by clicking ---------------------------------------------------------


def _buttons(client, case) -> set[str]:
    parsed = _FormNesting()
    parsed.feed(client.get(f"{CASES}{case.pk}/change/").content.decode())
    return {url.rstrip("/").rsplit("/", 1)[-1] for url, _ in parsed.buttons}


def test_after_creating_the_case_page_opens_with_no_none(org, leaving):
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
        },
        follow=True,
    )
    case = OffboardingCase.objects.get(leaver=org.rep)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"{CASES}{case.pk}/change/"
    assert "None" not in page and f"#{case.pk}" in page


def test_buttons_match_state_and_role(org, leaving):
    case = create_through_admin(org)
    hr, lead = admin_client(org.hr), admin_client(org.lead)
    assert _buttons(hr, case) == set()  # HR opened it: it cannot approve it
    assert _buttons(lead, case) == {"approve"}
    lead.post(f"{CASES}{case.pk}/approve/")
    assert _buttons(hr, case) == {"schedule", "run"}
    assert _buttons(lead, case) == set()
    hr.post(f"{CASES}{case.pk}/run/")
    assert _buttons(hr, case) == set()


def test_a_refused_case_keeps_what_was_typed(org, leaving):
    response = admin_client(org.hr).post(
        f"{CASES}add/",
        {
            "leaver": org.rep.pk,
            "reason": "moving to Chengdu",
            "notice_date": timezone.localdate() + timedelta(days=30),
            "effective_at_0": timezone.localdate(),
            "effective_at_1": "18:00:00",
            "plan": "single",
            "successors": [org.rep_b.pk],
        },
    )
    assert response.status_code == 200
    assert "moving to Chengdu" in response.content.decode()
    assert response.context["adminform"].form.errors["notice_date"]
    assert not OffboardingCase.objects.exists()


def test_pickers_offer_only_eligible_staff(org, leaving):
    from django.contrib.auth import get_user_model

    bot = get_user_model().objects.create_user(username="wecom-sync", is_staff=False)
    form = admin_client(org.hr).get(f"{CASES}add/").context["adminform"].form
    leavers = set(form.fields["leaver"].queryset.values_list("username", flat=True))
    successors = set(form.fields["successors"].queryset.values_list("username", flat=True))
    for who in (bot.username, org.hr.username, org.auditor.username):
        assert who not in leavers and who not in successors
    assert org.rep.username in leavers and org.rep_b.username in successors


def test_the_approver_is_notified_and_sees_it_on_the_home_page(org, leaving):
    from scrm.staff.models import Notification

    case = create_through_admin(org)
    note = Notification.objects.get(recipient=org.lead)
    lead = admin_client(org.lead)
    home = lead.get("/admin/").content.decode()
    assert note.title in home and "待我审批" in home
    assert lead.get(f"{CASES}?awaiting=me").context["cl"].result_count == 1
    opened = lead.get(f"/admin/staff/notification/{note.pk}/open/")
    assert opened["Location"] == f"{CASES}{case.pk}/change/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_progress_json_in_the_middle_of_a_run(org, leaving):
    case = create_through_admin(org)
    OffboardingCase.objects.filter(pk=case.pk).update(status="running")
    case.steps.filter(name="freeze").update(status="done")
    case.steps.filter(name="transfer").update(status="running", done=1, total=3)
    hr = admin_client(org.hr)
    page = hr.get(f"{CASES}{case.pk}/change/").content.decode()
    assert 'data-poll-seconds="2"' in page
    data = hr.get(f"{CASES}{case.pk}/progress.json").json()
    assert data["running"] and data["status_label"] == "执行中"
    transfer = next(s for s in data["steps"] if s["code"] == "transfer")
    assert transfer["percent"] == 33 and transfer["name"] == "转移客户"


def test_report_reads_as_a_document_and_csv_has_local_seconds(org, leaving):
    import re

    case = create_through_admin(org)
    admin_client(org.lead).post(f"{CASES}{case.pk}/approve/")
    hr = admin_client(org.hr)
    hr.post(f"{CASES}{case.pk}/run/")
    page = hr.get(f"{CASES}{case.pk}/report/").content.decode()
    report = page.split('id="handover-report"')[1].split("</article>")[0]
    assert "转移客户" in report and "{" not in report  # step names, no Python dicts
    assert "示例科技有限公司" in report and "离职员工：" in report and "接替人：" in report
    csv_body = b"".join(hr.get(f"{CASES}{case.pk}/report.csv").streaming_content).decode(
        "utf-8-sig"
    )
    times = re.findall(r"\d{4}-\d\d-\d\d[ T][\d:.+]+", csv_body)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times)
