"""Issue 11: HR offboards rep15 (successor rep16) by clicking, in Chinese; lead2 approves."""

import re

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CASES = "/admin/offboarding/offboardingcase/"


def _value(page, select: str, text: str) -> str:
    return page.locator(f"{select} option", has_text=text).first.get_attribute("value")


def test_hr_offboards_a_rep_and_the_supervisor_approves(session, demo_site):
    hr = session("hr1")
    hr.open(f"{CASES}add/")
    page = hr.page
    page.fill('input[data-filter-for="leaver"]', "rep15")
    page.select_option("#id_leaver", _value(page, "#id_leaver", "(rep15)"))
    page.fill("#id_reason", "个人原因离职")
    page.fill("#id_notice_date", "2026-12-03")
    page.fill("#id_effective_at_0", "2026-12-03")
    page.fill("#id_effective_at_1", "18:00:00")
    page.select_option("#id_plan", "single")
    page.select_option("#id_successors", _value(page, "#id_successors", "(rep16)"))
    with page.expect_navigation():
        page.locator("[name=_save]").first.click()
    assert re.search(r"/offboardingcase/\d+/change/$", page.url), page.url
    assert "None" not in page.url and "草稿" in hr.text()
    assert "等待" in hr.text() and "批准" not in page.locator("#case-actions").inner_text()
    case_url = page.url.split(demo_site.url)[1]
    hr.screenshot("hr-case-draft")

    with page.expect_navigation():
        page.click("#case-actions a:has-text('预览')")
    assert "执行将转移的内容" in hr.text()
    hr.screenshot("hr-preview")

    lead = session("lead2")
    lead.open("/admin/")
    assert "待我审批" in lead.text()
    with lead.page.expect_navigation():
        lead.page.click("#awaiting-approval")
    with lead.page.expect_navigation():
        lead.page.locator("#result_list tbody tr a").first.click()
    with lead.page.expect_navigation():
        lead.page.click("#case-actions button:has-text('批准')")
    assert "已批准" in lead.text()

    hr.open(case_url)
    with page.expect_navigation():
        page.click("#case-actions button:has-text('立即执行')")
    sync_api.expect(page.locator("#case-status")).to_have_text("已完成", timeout=20_000)
    hr.screenshot("hr-progress")
    with page.expect_navigation():
        page.click("#case-actions a:has-text('交接报告')")
    text = hr.text()
    assert "转移客户" in text and "离职员工：" in text and "接替人：" in text
    hr.screenshot("hr-report")
    page.emulate_media(media="print")
    hr.screenshot("hr-report-print")
    assert hr.errors_except() == [] and lead.errors_except() == []
