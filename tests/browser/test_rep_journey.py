"""A sales rep's day in the admin, in Chinese: their customer by name, a follow-up logged and
listed, a reveal refused without a reason and granted with one, a conversation thread, and the
chat archive searched. rep3 is used by no other journey.

The demo's Chinese chat archive is seeded by another change; until it lands the few messages
this journey needs are ingested here through the real ingest service (idempotent: a second
ingest of the same message ids stores nothing new).
"""

import json
import re

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

REP = "rep3"
SEED = """
import json
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from chats.ingest import ingest_records
from customers.models import Customer
from scrm.staff.models import Staff
from tests.chats.wecom_records import revoke_record, text_record

rep = Staff.objects.get(username="rep3")
customer = Customer.objects.filter(owner=rep).order_by("pk").first()
if not rep.wecom_userid:
    rep.wecom_userid = "rep3"
    rep.save(update_fields=["wecom_userid"])
sync, _ = Staff.objects.get_or_create(username="journey-sync-rep3", defaults={"is_staff": False})
sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
me, them = rep.wecom_userid, customer.wecom_external_userid
now = timezone.now()
lines = [
    (them, me, "您好，我想了解一下星河积分平台的报价", 50),
    (me, them, "您好！星河积分平台标准版年费12800元，我把报价单发给您", 48),
    (them, me, "好的，我的手机号是13812345678，方便的话电话聊", 45),
    (me, them, "收到，明天上午给您回电，顺便约个演示时间", 40),
    (me, them, "这条消息发错了", 35),
]
records = [
    text_record(a, b, text, at=now - timedelta(minutes=m), msgid=f"rep3-journey-{i}")
    for i, (a, b, text, m) in enumerate(lines)
]
ingest_records(records=records, actor=sync)
ingest_records(records=[revoke_record(me, them, "rep3-journey-4")], actor=sync)
print(json.dumps({"pk": customer.pk, "name": customer.name}))
"""


@pytest.fixture
def rep_customer(demo_site) -> dict:
    return json.loads(demo_site.shell(SEED).splitlines()[-1])


def test_a_rep_works_a_customer_and_the_chat_archive(session, rep_customer):
    rep = session(REP)
    pk, name = rep_customer["pk"], rep_customer["name"]

    # The customer page: their own customer by full name, the mobile masked.
    rep.open(f"/admin/customers/customer/{pk}/change/")
    assert f"{name} (#{pk})" in rep.text()
    expect(rep.page.get_by_role("button", name="查看完整手机号")).to_be_visible()
    rep.screenshot("rep-customer-page")

    # Log a follow-up and see it listed.
    rep.page.get_by_role("link", name="记录跟进").first.click()
    rep.page.get_by_label("跟进内容").fill("电话沟通报价，客户周四看演示")
    rep.page.get_by_role("button", name="保存").click()
    expect(rep.page.get_by_text("跟进已记录。")).to_be_visible()
    expect(
        rep.page.locator("#follow-ups").get_by_text("电话沟通报价，客户周四看演示")
    ).to_be_visible()

    # A reveal without a reason is refused with a sentence; with one it shows 11 digits.
    reveal = rep.page.get_by_role("button", name="查看完整手机号")
    reveal.click()
    expect(rep.page.get_by_text("请填写查看原因。")).to_be_visible()
    rep.page.get_by_role("textbox", name="原因: 查看完整手机号").fill("客户要求回电")
    reveal.click()
    status = rep.page.get_by_role("status").filter(has_text=re.compile(r"^1\d{10}$"))
    expect(status).to_be_visible()
    rep.screenshot("rep-customer-page-revealed")

    # The timeline (newest first, who and which way) and a message in its thread.
    rep.page.get_by_role("link", name="时间线").first.click()
    expect(rep.page.get_by_text("收到").first).to_be_visible()
    rep.page.get_by_role("link", name="在会话中查看").first.click()
    expect(rep.page.get_by_text("好的，我的手机号是138****5678，方便的话电话聊")).to_be_visible()
    assert "13812345678" not in rep.text()
    rep.screenshot("rep-thread")

    # Search the archive: the keyword marked, a hit opens its thread at the message.
    rep.open("/admin/chats/message/search/")
    # (the demo archive mentions 报价 often: search the words only this journey wrote)
    rep.page.get_by_role("searchbox", name="关键词").fill("星河积分平台")
    rep.page.get_by_role("button", name="搜索").click()
    expect(rep.page.locator("mark").first).to_have_text("星河积分平台")
    assert "找到 2 条消息" in rep.text()
    rep.screenshot("rep-search")
    rep.page.get_by_role("link", name="在会话中查看").first.click()
    assert re.search(r"#m-\d+$", rep.page.url)
    expect(rep.page.get_by_text("星河积分平台标准版年费12800元").first).to_be_visible()

    assert rep.errors_except() == []
