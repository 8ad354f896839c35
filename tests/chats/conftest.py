"""Chat fixtures: a small archive ingested through the real service."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from chats.ingest import ingest_records
from tests.chats.wecom_records import text_record
from tests.factories import StaffFactory


@pytest.fixture
def archive(org, customers):
    """Messages with each customer, at several ages, through the real ingest service."""
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    for user in (org.rep, org.rep_other_team, org.rep_unrelated):
        user.wecom_userid = user.username
        user.save()
    for name in ("of_rep", "of_other_team", "of_unrelated"):
        customer = getattr(customers, name)
        customer.wecom_external_userid = f"wm-{name}"
        customer.save()
    now = timezone.now()
    records = {
        "rep_today": text_record("rep", "wm-of_rep", "请问保险理赔需要什么材料", at=now),
        "rep_10d": text_record(
            "wm-of_rep", "rep", "我的手机号是13912345678，理赔进度如何", at=now - timedelta(days=10)
        ),
        "rep_40d": text_record(
            "rep", "wm-of_rep", "年度理赔报告已发送", at=now - timedelta(days=40)
        ),
        "other_team": text_record("rep_other_team", "wm-of_other_team", "理赔款已到账", at=now),
        "unrelated": text_record("rep_unrelated", "wm-of_unrelated", "保险续费提醒", at=now),
    }
    results = ingest_records(records=list(records.values()), actor=sync)
    return {key: result.id for key, result in zip(records, results, strict=True)}
