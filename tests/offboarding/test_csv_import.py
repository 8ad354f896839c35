"""HR uploads the HR system's leaver export: one draft case per good row, bad rows reported with
their line number and reason, and nothing half-created."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from offboarding.models import CaseStep, OffboardingCase, SuccessorOverride
from offboarding.steps import STEPS
from scrm.staff import roles
from tests.factories import StaffFactory
from tests.offboarding.cases import CASES_URL, open_case, supervised_by_lead

IMPORT_URL = f"{CASES_URL}import/"


def upload(client, text: str | bytes, name: str = "leavers.csv"):
    content = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        IMPORT_URL, {"file": SimpleUploadedFile(name, content, "text/csv")}, format="multipart"
    )


@pytest.fixture
def people(org):
    """Three more reps of team1 (supervised by the lead) who are about to leave."""
    return [
        StaffFactory(
            username=name,
            roles=[roles.SALES_REP],
            team=org.team1,
            wecom_userid=wecom,
            supervisor=org.lead,
        )
        for name, wecom in (("li.na", "LiNa01"), ("wang.wei", "WangWei"), ("zhao.lei", None))
    ]


def test_good_rows_become_draft_cases(org, people, api_client_for):
    # given: a username row with a successor, a WeCom id row without one (round-robin)
    csv_text = (
        "username,wecom_userid,notice_date,last_working_date,successor,reason\n"
        "li.na,,2026-03-01,2026-03-31,rep,Moving abroad\n"
        ",WangWei,2026-03-02,2026-04-15,,\n"
    )

    # when
    response = upload(api_client_for(org.hr), csv_text)

    # then
    assert response.status_code == 200, response.content
    assert response.json()["errors"] == []
    created = OffboardingCase.objects.filter(pk__in=response.json()["created"]).order_by("pk")
    first, second = created
    assert (first.leaver, first.plan, list(first.successors.all())) == (
        people[0],
        "single",
        [org.rep],
    )
    assert first.reason == "Moving abroad"
    assert first.notice_date == date(2026, 3, 1)
    assert timezone.localtime(first.effective_at).date() == date(2026, 3, 31)
    assert (second.leaver, second.plan, second.reason) == (
        people[1],
        "round_robin",
        "从人事系统导入",  # "Imported from the HR system", stored in the product language
    )
    assert {c.status for c in created} == {"draft"}
    assert {c.created_by for c in created} == {org.hr}
    assert CaseStep.objects.filter(case__in=created).count() == 2 * len(STEPS)


def test_bad_rows_are_reported_with_line_and_reason_and_leave_nothing_behind(
    org, people, api_client_for
):
    # given: only lines 2 and 9 are good
    open_case(org, supervised_by_lead(org, org.rep_b), successors=[org.rep])  # leaving already
    inactive = StaffFactory(username="gone", roles=[roles.SALES_REP], is_active=False)
    csv_text = (
        "username,notice_date,last_working_date,successor\n"
        "li.na,2026-03-01,2026-03-31,rep\n"  # 2 good
        "nobody,2026-03-01,2026-03-31,rep\n"  # 3 unknown leaver
        "wang.wei,01/03/2026,2026-03-31,rep\n"  # 4 not ISO
        "wang.wei,2026-04-01,2026-03-31,rep\n"  # 5 notice after last day
        f"wang.wei,2026-03-01,2026-03-31,{inactive.username}\n"  # 6 inactive successor
        "wang.wei,2026-03-01,2026-03-31,wang.wei\n"  # 7 successor is the leaver
        "wang.wei,2026-03-01,2026-03-31,rep_b\n"  # 8 successor is leaving too
        "zhao.lei,2026-03-01,2026-03-31,\n"  # 9 good (round-robin)
        "li.na,2026-03-01,2026-03-31,rep\n"  # 10 li.na has a case since line 2
        "wang.wei,2026-03-01,2026-03-31,nobody\n"  # 11 unknown successor
        "wang.wei,2026-03-01,2026-03-31,rep,surplus\n"  # 12 more fields than the header
        "rep_b,2026-03-01,2026-03-31,rep\n"  # 13 already in an open case
    )
    cases_before = OffboardingCase.objects.count()

    # when
    response = upload(api_client_for(org.hr), csv_text)

    # then
    assert response.status_code == 200, response.content
    errors = {e["line"]: e["reason"] for e in response.json()["errors"]}
    assert errors == {  # as HR reads them (zh-hans)
        3: "没有员工“nobody”",
        4: "notice_date“01/03/2026”不是日期（YYYY-MM-DD）",
        5: "notice_date: 通知日期不能晚于最后工作日。",
        6: "successors: gone 不是在职员工。",
        7: "successors: 离职员工不能做自己的接手人。",
        8: "successors: rep_b 也在离职中（有未完成的离职交接）。",
        10: "leaver: li.na 已有未完成的离职交接。",
        11: "没有员工“nobody”",
        12: "字段比表头多（多 1 个）",
        13: "leaver: rep_b 已有未完成的离职交接。",
    }
    created = OffboardingCase.objects.filter(pk__in=response.json()["created"])
    assert sorted(c.leaver.username for c in created) == ["li.na", "zhao.lei"]
    # Nothing half-created: exactly two new cases, each with its seven steps and nothing else.
    assert OffboardingCase.objects.count() == cases_before + 2
    assert not OffboardingCase.objects.filter(leaver=people[1]).exists()
    assert CaseStep.objects.count() == len(STEPS) * (cases_before + 2)
    assert not SuccessorOverride.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,notice\nli.na,2026-03-01\n", "需要的列"),  # "Columns needed"
        ("username,notice_date\nli.na,2026-03-01\n", "需要的列"),
        ("", "提交的是空文件。"),  # Django's own message, in the product language
        ("username,notice_date,last_working_date\n".encode("utf-16"), "不是 UTF-8"),
    ],
)
def test_a_file_that_is_not_a_leaver_export_answers_400(
    content, message, org, people, api_client_for
):
    # when
    response = upload(api_client_for(org.hr), content)

    # then
    assert response.status_code == 400, response.content
    assert message in response.json()["errors"]["file"][0]
    assert not OffboardingCase.objects.exists()


def test_an_upload_without_a_file_answers_400(org, api_client_for):
    # when
    response = api_client_for(org.hr).post(IMPORT_URL, {}, format="multipart")

    # then
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_a_byte_order_mark_and_header_case_from_excel_are_accepted(org, people, api_client_for):
    # given: Excel's "CSV UTF-8" starts with a BOM; some HR systems shout their headers
    later = (timezone.localdate() + timedelta(days=20)).isoformat()
    csv_text = f"\ufeffUSERNAME,Notice_Date,Last_Working_Date\nli.na,{later},{later}\n"

    # when
    response = upload(api_client_for(org.hr), csv_text)

    # then
    assert response.json() == {"created": [OffboardingCase.objects.get().pk], "errors": []}


@pytest.mark.parametrize("who", ["lead", "manager"])
def test_only_hr_imports(who, org, people, api_client_for):
    # when
    response = upload(
        api_client_for(getattr(org, who)),
        "username,notice_date,last_working_date\nli.na,2026-03-01,2026-03-31\n",
    )

    # then
    assert response.status_code == 403
    assert not OffboardingCase.objects.exists()
