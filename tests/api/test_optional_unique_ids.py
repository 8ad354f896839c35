"""Unique but optional string ids are NULL when absent, so records without one never collide."""

import pytest

from customers.models import Customer
from scrm.staff.models import Staff
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("blank", ["", "   ", None, "omitted"])
def test_two_customers_without_a_wecom_id_can_both_be_created(blank, admin_user, api_client_for):
    client = api_client_for(admin_user)  # may bind archives: the field is writable for it
    body = (
        {"name": "张三"} if blank == "omitted" else {"name": "张三", "wecom_external_userid": blank}
    )

    first = client.post("/api/v1/customers/", body, format="json")
    second = client.post("/api/v1/customers/", body, format="json")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    stored = Customer.objects.filter(pk__in=[first.json()["id"], second.json()["id"]])
    assert list(stored.values_list("wecom_external_userid", flat=True)) == [None, None]


def test_a_rep_creating_two_customers_without_a_wecom_id(rep, api_client_for):
    client = api_client_for(rep)
    for _ in range(2):
        response = client.post(
            "/api/v1/customers/", {"name": "李四", "wecom_external_userid": ""}, format="json"
        )
        assert response.status_code == 201, response.content
    assert Customer.objects.filter(wecom_external_userid="").count() == 0


def test_two_staff_without_a_wecom_userid_are_both_null(db):
    a = StaffFactory(username="a1", wecom_userid="")
    b = StaffFactory(username="b1", wecom_userid="  ")
    assert list(
        Staff.objects.filter(pk__in=[a.pk, b.pk]).values_list("wecom_userid", flat=True)
    ) == [None, None]


def test_the_migration_turns_stored_blanks_into_null(db):
    from importlib import import_module

    from django.apps import apps

    staff = StaffFactory(username="c1")
    Staff.objects.filter(pk=staff.pk).update(wecom_userid="")
    import_module("scrm.staff.migrations.0005_blank_wecom_userid_as_null").blanks_to_null(
        apps, None
    )
    staff.refresh_from_db()
    assert staff.wecom_userid is None
