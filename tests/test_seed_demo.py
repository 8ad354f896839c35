"""`manage.py seed_demo`: the demo organisation every role signs in to, created idempotently."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from customers.models import Customer, FollowUp, Tag, Transaction, mobile_index
from scrm.masking.validation import is_valid_id_number, validate_mobile
from scrm.staff import roles
from scrm.staff.models import Department, Staff, Team

EXPECTED_ROLES = {
    "manager1": roles.SALES_MANAGER,
    "lead1": roles.TEAM_LEAD,
    "lead2": roles.TEAM_LEAD,
    "rep1": roles.SALES_REP,
    "rep10": roles.SALES_REP,
    "rep11": roles.SALES_REP,
    "rep20": roles.SALES_REP,
    "hr1": roles.HR,
    "legal1": roles.LEGAL,
    "auditor1": roles.AUDITOR,
    "security1": roles.SECURITY_OFFICER,
}


@pytest.fixture
def demo_settings(settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off (pytest turns it off)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    return settings


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", customers=30, stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = [Department, Team, Staff, Tag, Customer, FollowUp, Transaction, Customer.tags.through]
    return {model._meta.label: model.objects.count() for model in models}


def test_seed_demo_creates_every_role_with_its_group(db, demo_settings):
    seed()

    for username, role in EXPECTED_ROLES.items():
        staff = Staff.objects.get(username=username)
        assert set(staff.groups.values_list("name", flat=True)) == {role}, username
        assert staff.is_staff and staff.is_active
        assert staff.check_password("scrm-demo-2026")
    admin = Staff.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert Staff.objects.filter(username__regex=r"^rep\d+$").count() == 20
    assert Group.objects.get(name=roles.SALES_REP).user_set.count() == 20


def test_seed_demo_builds_the_sales_hierarchy(db, demo_settings):
    seed()

    manager, lead1, rep1, rep11 = (
        Staff.objects.get(username=name) for name in ("manager1", "lead1", "rep1", "rep11")
    )
    assert manager.department.name == "销售部"
    assert lead1.supervisor == manager and lead1.team.name == "一组"
    assert rep1.supervisor == lead1 and rep1.team == lead1.team
    assert rep1.department == rep1.team.department
    assert rep1.department.parent == manager.department
    assert rep11.supervisor.username == "lead2" and rep11.team.name == "二组"
    # The manager's department scope reaches every rep's customers through the tree.
    assert Customer.objects.visible_to(manager).count() == 30
    assert Customer.objects.visible_to(rep1).count() == 2  # 30 round-robin over 20 reps


def test_staff_wecom_userid_is_the_username_and_the_service_account_has_none(db, demo_settings):
    seed()

    for staff in Staff.objects.exclude(username="wecom-sync"):
        assert staff.wecom_userid == staff.username
    service = Staff.objects.get(username="wecom-sync")
    assert service.wecom_userid is None
    assert not service.is_staff and service.has_usable_password()
    assert not service.groups.exists()
    assert service.has_perm("chats.ingest_message")
    assert not service.has_perm("customers.view_customer")


def test_running_seed_demo_twice_creates_nothing_new(db, demo_settings):
    seed()
    first = row_counts()

    output = seed()

    assert row_counts() == first
    assert Customer.objects.count() == 30
    assert "0 created, 30 already there" in output


def test_demo_customers_have_valid_mainland_mobiles_and_id_numbers(db, demo_settings):
    seed()

    customers = list(Customer.objects.all())
    assert len(customers) == 30
    for customer in customers:
        validate_mobile(customer.mobile)
        assert is_valid_id_number(customer.id_number), customer.id_number
        assert customer.mobile_bidx == mobile_index(customer.mobile)
        assert customer.wecom_external_userid.startswith("wm")
    assert Customer.objects.filter(mobile_bidx=mobile_index(customers[0].mobile)).count() == 1


def test_demo_mobiles_are_encrypted_in_the_table(db, demo_settings):
    seed()
    mobiles = list(Customer.objects.values_list("mobile", flat=True))

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer")
        table = repr(cursor.fetchall())

    assert mobiles and not [mobile for mobile in mobiles if mobile in table]


def test_seed_demo_rejects_a_negative_customer_count(db, demo_settings):
    with pytest.raises(CommandError, match="--customers"):
        call_command("seed_demo", customers=-5, stdout=StringIO())
    assert not Staff.objects.exists()


def test_seed_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", customers=1, stdout=StringIO())
