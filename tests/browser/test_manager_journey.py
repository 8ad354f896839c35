"""A sales manager's morning, in Chinese: the home's charts are drawn, two of rep9's customers
go to rep10 through the bulk reassign. A rep's, an auditor's and a security officer's homes
show their own panels. Screenshots of each home go to SCRM_SCREENSHOT_DIR.

Uses rep9's and rep10's customers only (no other journey touches them).
"""

import json

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

# Pixels of a canvas that are not transparent: a drawn chart has many.
DRAWN_PIXELS = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) drawn++; }
  return drawn;
}"""


def _staff(demo_site, username: str) -> dict:
    code = (
        "import json; from scrm.staff.models import Staff; "
        f"s = Staff.objects.get(username={username!r}); "
        "print(json.dumps({'pk': s.pk, 'name': s.display_name}))"
    )
    return json.loads(demo_site.shell(code).splitlines()[-1])


def _assert_drawn(page, panel: str) -> None:
    canvas = page.locator(f'[data-panel="{panel}"] canvas')
    sync_api.expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box["width"] > 100 and box["height"] > 100, box
    page.wait_for_function(
        f"() => ({DRAWN_PIXELS})(document.querySelector('[data-panel=\"{panel}\"] canvas')) > 500"
    )


def test_manager_sees_the_charts_and_reassigns_two_customers(session, demo_site):
    rep9, rep10 = _staff(demo_site, "rep9"), _staff(demo_site, "rep10")
    manager = session("manager1")
    manager.open("/admin/")
    manager.page.wait_for_load_state("load")
    text = manager.text()
    assert "各阶段销售漏斗" in text and "每周新增客户" in text and "团队逾期跟进" in text
    # The axis titles are drawn on the canvas: asked of the chart that drew them.
    y_title = manager.page.evaluate(
        '() => Chart.getChart(document.querySelector(\'[data-panel="weekly_new_customers"] '
        "canvas')).options.scales.y.title.text"
    )
    assert y_title == "客户数"
    assert "¥" in manager.page.locator("#pipeline-table").inner_text()
    _assert_drawn(manager.page, "pipeline")
    _assert_drawn(manager.page, "weekly_new_customers")
    assert "今日待跟进" not in text  # a rep's panel, not a manager's
    manager.screenshot("home-manager1")

    manager.open(f"/admin/customers/customer/?owner__id__exact={rep9['pk']}")
    boxes = manager.page.locator("#result_list input.action-select")
    assert boxes.count() >= 2
    boxes.nth(0).check()
    boxes.nth(1).check()
    manager.page.select_option("select[name=action]", "reassign_owner")
    with manager.page.expect_navigation():
        manager.page.locator("button[name=index]").click()
    assert "转移负责人" in manager.text()
    options = manager.page.locator("#id_to_staff option").all_inner_texts()
    assert any(rep10["name"] in option for option in options)
    assert not any(name in " ".join(options) for name in ("wecom-sync", "hr1", "auditor1"))
    manager.page.select_option("#id_to_staff", str(rep10["pk"]))
    manager.page.fill("#id_reason", "区域调整")
    manager.screenshot("reassign-manager1")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="转移").click()

    sync_api.expect(manager.page.get_by_text(f"已将 2 位客户转给{rep10['name']}。")).to_be_visible()
    manager.screenshot("reassigned-manager1")
    assert manager.errors_except() == []


def test_a_rep_home_shows_what_is_due_today(session):
    rep = session("rep9")
    rep.open("/admin/")
    text = rep.text()
    assert "今日待跟进" in text and "我的客户" in text and "最近会话" in text
    assert "各阶段销售漏斗" not in text
    rep.screenshot("home-rep9")
    assert rep.errors_except() == []


@pytest.mark.parametrize("username", ["auditor1", "security1"])
def test_audit_homes_show_alerts_reveals_and_flagged_reads(session, username):
    viewer = session(username)
    viewer.open("/admin/")
    text = viewer.text()
    assert "未处理的安全告警" in text and "今日明文查看与导出" in text and "被标记的读取" in text
    assert "我的客户" not in text and "各阶段销售漏斗" not in text
    viewer.screenshot(f"home-{username}")
    assert viewer.errors_except() == []
