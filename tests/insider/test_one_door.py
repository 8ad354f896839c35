"""The one door: every model that reaches a user is read through `visible_to`, built from what
its app registered with the platform (scrm.access.registry), and nothing else opens it."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from customers.models import Customer
from offboarding.models import OffboardingCase
from offboarding.services import create_case
from scrm.access import registry
from scrm.access.querysets import ScopedQuerySet
from scrm.access.scope import LIST, VIEW


def _open_case(org):
    """A draft case for rep (team1, supervised by lead) whose notice starts next month."""
    org.rep.supervisor = org.lead
    org.rep.save()
    return create_case(
        actor=org.hr,
        leaver=org.rep,
        reason="moving to Beijing",
        notice_date=timezone.localdate() + timedelta(days=30),
        effective_at=timezone.now() + timedelta(days=60),
        successors=[org.rep_b],
    )


def test_every_model_with_a_door_registered_how_it_is_reached():
    # given: every installed model whose default manager offers visible_to
    scoped = [
        model
        for model in apps.get_models()
        if issubclass(model._default_manager._queryset_class, ScopedQuerySet)
    ]
    # then: the four kinds of records users reach, each with its rows and a known policy
    assert {m._meta.label for m in scoped} == {
        "customers.Customer",
        "chats.Conversation",
        "chats.Message",
        "offboarding.OffboardingCase",
    }
    for model in scoped:
        registry.policy(registry.reach(model).policy)


def test_a_model_nobody_registered_reaches_no_one(org):
    # given: a queryset class on the door over a model no app registered
    from scrm.staff.models import Team

    class Unregistered(ScopedQuerySet):
        pass

    # then: the door refuses to guess (fail closed), even for a superuser
    with pytest.raises(LookupError, match="registers no rows"):
        Unregistered(model=Team).visible_to(org.admin_user, VIEW)


def test_hr_sees_the_customers_of_an_open_case_because_offboarding_registered_it(
    org, customers, monkeypatch
):
    # given: an open (draft) case for a rep who is not yet in notice
    _open_case(org)
    assert org.rep.employment_status == "active"
    hr_list = set(Customer.objects.visible_to(org.hr, LIST).values_list("pk", flat=True))
    # then: HR's leavers' scope holds the rep's customer (and the notice-period leaver's)
    assert {customers.of_rep.pk, customers.of_leaver.pk} <= hr_list
    # when: offboarding's registration is taken away
    monkeypatch.setattr(registry._registry, "leaving", [])
    hr_list = set(Customer.objects.visible_to(org.hr, LIST).values_list("pk", flat=True))
    # then: only the platform's own notice/departed states remain
    assert customers.of_rep.pk not in hr_list and customers.of_leaver.pk in hr_list


def test_the_case_door_is_the_scope_of_the_leaver(org):
    # given: a case for a rep of team1 (lead's team, manager's tree)
    case = _open_case(org)
    seen = {
        name: OffboardingCase.objects.visible_to(getattr(org, name)).filter(pk=case.pk).exists()
        for name in ("hr", "admin_user", "lead", "manager", "manager_other", "rep_b", "legal")
    }
    # then: HR and administrators everything, the lead their team, the manager their tree;
    # the other manager, a colleague and legal nothing
    assert seen == {
        "hr": True,
        "admin_user": True,
        "lead": True,
        "manager": True,
        "manager_other": False,
        "rep_b": False,
        "legal": False,
    }
