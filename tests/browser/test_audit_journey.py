"""Investigation journeys in a real browser (zh-hans, 1366 px): an auditor finds who read a
customer; a security officer follows an alert to the message it names."""

import subprocess

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= 1366"
# An alert as ingest raises it: a rule matching a demo message, checked by the ingest's step.
ALERT_SETUP = """
from chats.ingest import ingest_records
from customers.models import Customer
from scrm.audit.models import SecurityAlert
from scrm.staff.models import Staff
from tests.chats.wecom_records import text_record
from chats.models import SensitiveWordRule
rep = Staff.objects.get(username="rep6")
rep.wecom_userid = rep.wecom_userid or "rep6"
rep.save()
customer = Customer.objects.filter(owner=rep).order_by("pk").first()
customer.wecom_external_userid = customer.wecom_external_userid or "wm-journey"
customer.save()
SensitiveWordRule.objects.get_or_create(pattern="私下转账", defaults={"severity": "high"})
text = "私下转账给我，手机13912345678联系"
record = text_record(customer.wecom_external_userid, rep.wecom_userid, text)
ingest_records(records=[record], actor=Staff.objects.get(username="admin"))
print(SecurityAlert.objects.filter(kind="sensitive_word").latest("id").pk)
"""


def test_auditor_finds_who_read_a_customer(session, demo_site):
    customer_id, rep_name = (
        demo_site.shell(
            "from customers.models import Customer; from scrm.staff.models import Staff; "
            "rep = Staff.objects.get(username='rep5'); "
            "c = Customer.objects.filter(owner=rep).order_by('pk').first(); "
            "print(f'{c.pk}|{rep.display_name}')"
        )
        .splitlines()[-1]
        .split("|")
    )
    rep = session("rep5")
    rep.open(f"/admin/customers/customer/{customer_id}/change/")
    rep.screenshot("journey-rep5-customer")

    auditor = session("auditor1")
    auditor.open(f"/admin/audit/accessevent/?customer_id={customer_id}")
    auditor.screenshot("journey-auditor-access-events")

    rows = auditor.page.locator("#result_list tbody tr")
    assert rows.count() >= 1
    first = rows.filter(has_text=rep_name).first
    assert first.is_visible()
    assert "查看" in first.inner_text()
    assert auditor.page.evaluate(FITS)
    assert auditor.errors_except() == []


def test_security_officer_follows_an_alert_to_the_message(session, demo_site):
    try:
        alert_id = demo_site.shell(ALERT_SETUP).splitlines()[-1]
    except subprocess.CalledProcessError as exc:
        pytest.fail(exc.stderr)
    security = session("security1")
    security.open(f"/admin/audit/securityalert/{alert_id}/change/")
    security.screenshot("journey-security-alert")
    assert "命中规则" in security.text()
    assert security.page.evaluate(FITS)

    with security.page.expect_navigation():
        security.page.get_by_role("link", name="打开消息").first.click()
    assert "/admin/chats/message/alert/" in security.page.url
    security.screenshot("journey-security-alert-message")
    assert "告警消息" in security.text()
    assert "13912345678" not in security.text()
    assert "本次查看已记录" in security.text()
    assert security.page.evaluate(FITS)
    assert security.errors_except() == []
