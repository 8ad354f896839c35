"""The customer list's bulk reassign: who is offered, what a crafted target gets, what moves."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from customers.admin_reassign import assignable_staff
from customers.models import Customer, OwnershipTransfer
from scrm.staff import roles
from tests.factories import StaffFactory
from tests.signin import verified_login

CHANGELIST = "/admin/customers/customer/"


def signed_in(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


@pytest.fixture
def bot(org):
    # The archive sync's account (seed_demo's wecom-sync): not staff, only the ingest right.
    account = StaffFactory(username="wecom-sync", is_staff=False, team=org.team1)
    account.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    return account


@pytest.fixture
def outsiders(org, bot):
    """Everyone in team 1 who must never be offered as a new owner."""
    return {
        "bot": bot,
        "hr": StaffFactory(username="hr_in_team", roles=[roles.HR], team=org.team1),
        "auditor": StaffFactory(username="aud_in_team", roles=[roles.AUDITOR], team=org.team1),
        "security": StaffFactory(
            username="sec_in_team", roles=[roles.SECURITY_OFFICER], team=org.team1
        ),
        "legal": StaffFactory(username="legal_in_team", roles=[roles.LEGAL], team=org.team1),
        "inactive": StaffFactory(
            username="rep_inactive", roles=[roles.SALES_REP], team=org.team1, is_active=False
        ),
        "departed": StaffFactory(
            username="rep_departed",
            roles=[roles.SALES_REP],
            team=org.team1,
            employment_status="departed",
        ),
        "notice": org.rep_leaving,
    }


def offered(response) -> set[str]:
    field = response.context["form"].fields["to_staff"]
    return {staff.username for staff in field.queryset}


def confirm_page(client, selected):
    return client.post(CHANGELIST, {"action": "reassign_owner", "_selected_action": selected})


def test_a_lead_is_offered_only_active_sales_colleagues_of_the_team(org, customers, outsiders):
    response = confirm_page(signed_in(org.lead), [customers.of_rep.pk])

    assert response.status_code == 200
    assert offered(response) == {"rep", "rep_b", "lead"}
    labels = [label for _, label in response.context["form"].fields["to_staff"].choices]
    assert all(o.username not in str(labels) for o in outsiders.values())


def test_a_manager_is_offered_the_department_tree_and_no_other(org, customers, outsiders):
    assert {s.username for s in assignable_staff(org.manager)} == {
        "rep",
        "rep_b",
        "rep_other_team",
        "lead",
        "manager",
    }


def test_choices_are_shown_by_display_name(org, customers):
    org.rep_b.last_name, org.rep_b.first_name = "唐", "丹"
    org.rep_b.save()

    response = confirm_page(signed_in(org.lead), [customers.of_rep.pk])

    assert "唐丹（East 1）" in response.content.decode()


@pytest.mark.parametrize("target", ["bot", "hr", "auditor", "inactive", "departed", "notice"])
def test_a_posted_ineligible_target_is_a_sentence_and_nothing_moves(
    org, customers, outsiders, target
):
    selected = [customers.of_rep.pk, customers.of_rep_b.pk]
    response = signed_in(org.lead).post(
        CHANGELIST,
        {
            "action": "reassign_owner",
            "_selected_action": selected,
            "apply": "1",
            "to_staff": outsiders[target].pk,
            "reason": "territory",
        },
    )

    assert response.status_code == 200  # the page again, not a redirect
    body = response.content.decode()
    assert "你不能把客户转给此人，请从列表中选择同事。" in body
    assert "未转移任何客户，请修正下面的错误。" in body
    assert "{" not in str(response.context["form"].errors["to_staff"])
    # The selection is kept: the same customers are on the page and posted again.
    for pk in selected:
        assert f'name="_selected_action" value="{pk}"' in body
    assert not OwnershipTransfer.objects.exists()
    assert set(Customer.objects.filter(pk__in=selected).values_list("owner", flat=True)) == {
        org.rep.pk,
        org.rep_b.pk,
    }


def test_another_teams_rep_is_refused_for_a_lead(org, customers):
    response = signed_in(org.lead).post(
        CHANGELIST,
        {
            "action": "reassign_owner",
            "_selected_action": [customers.of_rep.pk],
            "apply": "1",
            "to_staff": org.rep_other_team.pk,
            "reason": "territory",
        },
    )

    assert response.status_code == 200
    assert "你不能把客户转给此人" in response.content.decode()
    assert not OwnershipTransfer.objects.exists()


def test_a_missing_reason_keeps_the_selection_and_says_so(org, customers):
    response = signed_in(org.lead).post(
        CHANGELIST,
        {
            "action": "reassign_owner",
            "_selected_action": [customers.of_rep.pk],
            "apply": "1",
            "to_staff": org.rep_b.pk,
            "reason": "",
        },
    )

    body = response.content.decode()
    assert "请填写转移原因。" in body
    assert f'name="_selected_action" value="{customers.of_rep.pk}"' in body
    assert not OwnershipTransfer.objects.exists()


def test_success_says_how_many_moved_to_whom(org, customers):
    org.rep_b.last_name, org.rep_b.first_name = "唐", "丹"
    org.rep_b.save()
    client = signed_in(org.lead)
    selected = [customers.of_rep.pk, customers.of_leaver.pk, customers.of_rep_b.pk]

    done = client.post(
        CHANGELIST,
        {
            "action": "reassign_owner",
            "_selected_action": selected,
            "apply": "1",
            "to_staff": org.rep_b.pk,
            "reason": "territory",
        },
        follow=True,
    )

    text = [str(m) for m in done.context["messages"]]
    assert text == ["已将 2 位客户转给唐丹。 1 位客户原本就归其负责。"]
    assert Customer.objects.filter(owner=org.rep_b).count() == 3


def test_the_confirmation_page_records_the_customers_it_lists(org, customers):
    from scrm.audit.models import AccessEvent

    confirm_page(signed_in(org.lead), [customers.of_rep.pk])

    event = AccessEvent.objects.filter(actor=org.lead, query__view="reassign").get()
    assert event.object_ids == [customers.of_rep.pk]
