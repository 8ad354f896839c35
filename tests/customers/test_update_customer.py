"""update_customer asks the door itself: a caller that forgot to check changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied

from customers.models import Customer
from customers.services import share_customer, update_customer


def test_the_owner_changes_their_customer(org, customers):
    update_customer(actor=org.rep, customer=customers.of_rep, company="Renamed Ltd")

    assert Customer.objects.get(pk=customers.of_rep.pk).company == "Renamed Ltd"


def test_a_colleague_outside_the_change_scope_is_refused(org, customers):
    before = Customer.objects.get(pk=customers.of_rep_b.pk).company

    with pytest.raises(PermissionDenied):
        update_customer(actor=org.rep, customer=customers.of_rep_b, company="Taken over Ltd")

    assert Customer.objects.get(pk=customers.of_rep_b.pk).company == before


def test_a_viewer_who_may_not_change_is_refused(org, customers):
    # Legal sees every customer but changes none; a view-only share opens no change either.
    share_customer(actor=org.lead, customer=customers.of_rep, with_staff=org.rep_b)

    for viewer in (org.legal, org.rep_b):
        with pytest.raises(PermissionDenied):
            update_customer(actor=viewer, customer=customers.of_rep, company="Renamed Ltd")


def test_a_change_share_opens_the_change(org, customers):
    share_customer(actor=org.lead, customer=customers.of_rep, with_staff=org.rep_b, level="change")

    update_customer(actor=org.rep_b, customer=customers.of_rep, company="Shared Ltd")

    assert Customer.objects.get(pk=customers.of_rep.pk).company == "Shared Ltd"
