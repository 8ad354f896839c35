"""The admin home as each role's work: which panels each role gets, and figures over its scope."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from customers.dashboard import week_starts, weekly_new_customers, yuan
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.audit.services import raise_alert, record_access
from tests.factories import CustomerFactory, FollowUpFactory, TransactionFactory
from tests.signin import verified_login

HOME = "/admin/"
REP_PANELS = {"my_customers", "follow_ups", "recent_chats"}
LEAD_PANELS = {"pipeline", "weekly_new_customers", "team_overdue"}
AUDIT_PANELS = {"open_alerts", "reveals_exports", "flagged_reads"}
MINE = REP_PANELS | LEAD_PANELS | AUDIT_PANELS


def home(user):
    client = Client()
    verified_login(client, user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response


def panels(response) -> dict:
    return {p["key"]: p["data"] for p in response.context["scrm_panels"] if p["key"] in MINE}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("rep", REP_PANELS),
        ("lead", LEAD_PANELS),
        ("manager", LEAD_PANELS),
        ("auditor", AUDIT_PANELS),
        ("security", AUDIT_PANELS),
        ("hr", set()),
        ("legal", set()),
    ],
)
def test_each_role_gets_its_panels_and_not_the_others(org, customers, role, expected):
    assert set(panels(home(getattr(org, role)))) == expected


def test_a_rep_counts_only_their_own_customers(org, customers):
    CustomerFactory.create_batch(4, owner=org.rep_other_team)
    CustomerFactory(owner=org.rep)

    data = panels(home(org.rep))["my_customers"]

    assert data["count"] == 2
    assert {row["label"] for row in data["rows"]} == {
        f"{c.name} (#{c.pk})" for c in org.rep.customers.all()
    }  # a rep sees their own customers' names


def test_a_rep_home_says_what_is_due_today_and_overdue(org, customers):
    now = timezone.localtime()
    noon_today = now.replace(hour=23, minute=0, second=0, microsecond=0)
    FollowUpFactory(customer=customers.of_rep, due_at=noon_today)
    FollowUpFactory(customer=customers.of_rep, due_at=now - timedelta(days=3))
    FollowUpFactory(customer=customers.of_rep, due_at=now - timedelta(days=3), done=True)
    FollowUpFactory(customer=customers.of_other_team, due_at=noon_today)  # not theirs

    response = home(org.rep)
    data = panels(response)["follow_ups"]

    assert (data["today_count"], data["overdue_count"]) == (1, 1)
    assert "今日待跟进" in response.content.decode()


def test_the_home_records_the_customers_it_listed(org, customers):
    home(org.rep)

    event = AccessEvent.objects.get(
        actor=org.rep, action=AccessAction.LIST, query__panel="my_customers"
    )
    assert event.object_ids == [customers.of_rep.pk]
    assert event.model == "customers.customer"


def test_the_pipeline_counts_only_the_team_with_yuan_totals(org, customers):
    won = CustomerFactory(owner=org.rep_b, stage="won")
    TransactionFactory(customer=won, amount=Decimal("1234567.50"))
    other_team_won = CustomerFactory(owner=org.rep_other_team, stage="won")
    TransactionFactory(customer=other_team_won, amount=Decimal("999.00"))

    data = panels(home(org.lead))["pipeline"]

    stages = {s["label"]: s for s in data["stages"]}
    assert stages["赢单"]["count"] == 1
    assert stages["赢单"]["amount"] == "¥1,234,567.50"
    assert data["total_count"] == 4  # of_rep, of_rep_b, of_leaver, won: team 1 only
    chart = json.loads(data["chart"])
    assert chart["datasets"][0]["data"] == [s["count"] for s in data["stages"]]

    manager = panels(home(org.manager))["pipeline"]
    assert manager["total_amount"] == "¥1,235,566.50"  # the department sees both teams


def test_weeks_without_new_customers_are_zero(org):
    now = timezone.now()
    CustomerFactory(owner=org.rep, created_at=now)
    CustomerFactory(owner=org.rep_b, created_at=now - timedelta(weeks=3))
    CustomerFactory(owner=org.rep_other_team, created_at=now)  # another team
    CustomerFactory(owner=org.rep, created_at=now - timedelta(weeks=20))  # too old

    weekly = weekly_new_customers(org.lead)

    assert [row["week"] for row in weekly] == week_starts(timezone.localdate())
    assert len(weekly) == 12
    assert weekly[-1]["n"] == 1 and weekly[-4]["n"] == 1
    assert sum(row["n"] for row in weekly) == 2
    assert [row["n"] for row in weekly].count(0) == 10


def test_the_weekly_chart_has_chinese_dates_and_titled_axes(org, customers):
    data = panels(home(org.manager))["weekly_new_customers"]

    chart, options = json.loads(data["chart"]), json.loads(data["options"])
    assert len(chart["labels"]) == 12 and all("月" in label for label in chart["labels"])
    assert options["scales"]["y"]["title"]["text"] == "客户数"
    assert sum(chart["datasets"][0]["data"]) == 4  # the department's customers, made now


def test_team_overdue_follow_ups_stay_in_the_team(org, customers):
    past = timezone.now() - timedelta(days=2)
    FollowUpFactory(customer=customers.of_rep_b, due_at=past)
    FollowUpFactory(customer=customers.of_other_team, due_at=past)

    assert panels(home(org.lead))["team_overdue"]["count"] == 1
    assert panels(home(org.manager))["team_overdue"]["count"] == 2


def test_audit_panels_count_alerts_reveals_exports_and_flagged_reads(org, customers):
    raise_alert(kind="reveal_rate_limit", message="rep revealed 13800138000 too often")
    acknowledged = raise_alert(kind="lookup_limit", message="old")
    SecurityAlert.objects.filter(pk=acknowledged.pk).update(acknowledged_at=timezone.now())
    for action in (AccessAction.REVEAL, AccessAction.REVEAL, AccessAction.EXPORT):
        record_access(actor=org.rep, action=action, model="customers.customer", channel="admin")
    record_access(actor=org.rep_leaving, action="list", model="customers.customer", channel="api")

    response = home(org.auditor)
    data = panels(response)

    assert data["open_alerts"]["count"] == 1
    assert "13800138000" not in response.content.decode()  # the message through the detectors
    assert (data["reveals_exports"]["reveals"], data["reveals_exports"]["exports"]) == (2, 1)
    assert data["flagged_reads"]["count"] == 1
    assert "action__exact=reveal" in data["reveals_exports"]["reveals_url"]
    assert data["flagged_reads"]["list_url"].endswith("?flagged__exact=1")
    assert data["open_alerts"]["list_url"].endswith("?acknowledged_at__isempty=1")


def test_yuan_has_thousands_separators():
    assert yuan(Decimal("1234567.5")) == "¥1,234,567.50"
    assert yuan(None) == "¥0.00"
