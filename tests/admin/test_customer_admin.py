"""The Django admin as sales managers (and every other role) meet it."""

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings

from customers.models import Customer, FollowUp, OwnershipTransfer
from customers.services import add_follow_up, add_transaction, share_customer, yuan
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.masking.masks import mask_name
from tests.factories import CustomerFactory, FollowUpFactory
from tests.signin import verified_login

CHANGELIST = "/admin/customers/customer/"


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def change_url(customer) -> str:
    return f"{CHANGELIST}{customer.pk}/change/"


def raw_values(customer) -> list[str]:
    return [
        customer.mobile,
        customer.id_number,
        customer.email,
        customer.wechat_id,
        customer.address,
    ]


def shown_ids(response) -> set[int]:
    return {c.pk for c in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("rep", {"of_rep"}),
        ("lead", {"of_rep", "of_rep_b", "of_leaver"}),
        ("manager", {"of_rep", "of_rep_b", "of_leaver", "of_other_team"}),
        ("legal", {"of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"}),
        ("auditor", {"of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"}),
        ("hr", {"of_leaver"}),
    ],
)
def test_changelist_shows_exactly_the_role_scope(org, customers, role, expected):
    response = admin_client(getattr(org, role)).get(CHANGELIST)

    assert response.status_code == 200
    assert shown_ids(response) == {getattr(customers, name).pk for name in expected}


def test_security_officer_has_no_customer_pages(org, customers):
    client = admin_client(org.security)

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(customers.of_rep)).status_code == 403


def test_every_role_can_sign_in_to_the_admin(org):
    for user in (org.rep, org.lead, org.manager, org.hr, org.legal, org.auditor, org.security):
        assert admin_client(user).get("/admin/").status_code == 200, user.username


def test_changelist_masks_and_records_one_list_event(org, customers):
    response = admin_client(org.lead).get(CHANGELIST)

    body = response.content.decode()
    for customer in (customers.of_rep, customers.of_rep_b):
        assert customer.mobile not in body
        assert f"{customer.mobile[:3]}****{customer.mobile[-4:]}" in body
        assert customer.name in body  # insider §5: a lead sees the team's names
    event = AccessEvent.objects.get(actor=org.lead, action=AccessAction.LIST)
    assert set(event.object_ids) == shown_ids(response)
    assert event.channel == "admin"


def test_change_form_shows_masks_only(org, customers):
    FollowUpFactory(customer=customers.of_rep, note="客户手机 13812345678，请回电")
    response = admin_client(org.rep).get(change_url(customers.of_rep))

    assert response.status_code == 200
    body = response.content.decode()
    for raw in raw_values(customers.of_rep):
        assert raw not in body
    assert "13812345678" not in body
    assert "138****5678" in body
    assert AccessEvent.objects.filter(
        actor=org.rep, action=AccessAction.VIEW, object_ids=[customers.of_rep.pk]
    ).exists()


def test_read_only_roles_see_masked_values_in_the_read_only_form(org, customers):
    response = admin_client(org.legal).get(change_url(customers.of_rep))

    assert response.status_code == 200
    body = response.content.decode()
    for raw in raw_values(customers.of_rep):
        assert raw not in body
    assert 'name="mobile"' not in body  # no editable input for legal


def test_out_of_scope_change_form_is_refused_and_recorded(org, customers):
    response = admin_client(org.rep).get(change_url(customers.of_other_team))

    assert response.status_code == 302  # the admin's "does not exist" redirect
    event = AccessEvent.objects.get(actor=org.rep, action=AccessAction.DENIED)
    assert event.object_ids == [customers.of_other_team.pk]
    assert event.allowed is False


def form_data(customer, **changes) -> dict:
    data = {
        "name": "张*",
        "mobile": f"{customer.mobile[:3]}****{customer.mobile[-4:]}",
        "wechat_id": f"{customer.wechat_id[:2]}***{customer.wechat_id[-2:]}",
        "email": f"{customer.email[0]}***@{customer.email.split('@')[1]}",
        "id_number": f"{customer.id_number[:4]}{'*' * 10}{customer.id_number[-4:]}",
        "address": "上海市浦东新区***",
        "company": "New Co",
        "source_channel": "wecom",
        "stage": "won",
        "wecom_external_userid": "",
    }
    for prefix in ("follow_ups", "transactions", "ownership"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


def test_saving_without_touching_masked_fields_keeps_stored_values(org):
    customer = CustomerFactory(owner=org.rep, name="张三")
    before = {
        f: getattr(customer, f)
        for f in ("mobile", "email", "id_number", "wechat_id", "address", "name")
    }

    response = admin_client(org.rep).post(change_url(customer), form_data(customer))

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert {f: getattr(customer, f) for f in before} == before
    assert customer.company == "New Co"
    assert customer.stage == "won"


def test_typing_a_new_mobile_changes_it_and_a_bad_one_is_refused(org):
    customer = CustomerFactory(owner=org.rep, name="张三")
    client = admin_client(org.rep)

    bad = client.post(change_url(customer), form_data(customer, mobile="12345"))
    assert bad.status_code == 200
    assert "mobile" in bad.context["adminform"].form.errors

    good = client.post(change_url(customer), form_data(customer, mobile="13700001111"))
    assert good.status_code == 302
    customer.refresh_from_db()
    assert customer.mobile == "13700001111"


def test_exact_mobile_search_uses_the_blind_index(org, customers):
    response = admin_client(org.manager).get(CHANGELIST, {"q": customers.of_rep_b.mobile})

    assert shown_ids(response) == {customers.of_rep_b.pk}
    event = AccessEvent.objects.get(actor=org.manager, action=AccessAction.LIST)
    assert customers.of_rep_b.mobile not in str(event.query)


def test_name_search(org):
    wanted = CustomerFactory(owner=org.rep, name="诸葛亮")
    CustomerFactory(owner=org.rep, name="王小明")

    response = admin_client(org.rep).get(CHANGELIST, {"q": "诸葛"})

    assert shown_ids(response) == {wanted.pk}


def reveal_url(customer) -> str:
    return f"{CHANGELIST}{customer.pk}/reveal/"


def test_reveal_button_returns_the_value_and_records_the_reason(org, customers):
    client = admin_client(org.rep)
    page = client.get(change_url(customers.of_rep))
    assert b"scrm-reveal" in page.content

    response = client.post(reveal_url(customers.of_rep), {"field": "mobile", "reason": "回电"})

    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": customers.of_rep.mobile}
    event = AccessEvent.objects.get(actor=org.rep, action=AccessAction.REVEAL)
    assert (event.fields, event.reason, event.channel) == (["mobile"], "回电", "admin")


def test_reveal_refused_without_the_right(org, customers):
    assert (
        admin_client(org.auditor)
        .post(reveal_url(customers.of_rep), {"field": "mobile", "reason": "x"})
        .status_code
        == 403
    )
    assert (
        admin_client(org.rep)
        .post(reveal_url(customers.of_rep), {"field": "id_number", "reason": "x"})
        .status_code
        == 403
    )
    assert (
        admin_client(org.rep)
        .post(reveal_url(customers.of_other_team), {"field": "mobile", "reason": "x"})
        .status_code
        == 404
    )
    assert (
        admin_client(org.rep)
        .post(reveal_url(customers.of_rep), {"field": "mobile", "reason": ""})
        .status_code
        == 400
    )


@override_settings(SCRM_REVEAL_LIMIT_PER_HOUR=2)
def test_reveal_past_the_hourly_limit_answers_429_and_alerts_security(org, customers):
    client = admin_client(org.rep)
    statuses = [
        client.post(reveal_url(customers.of_rep), {"field": "mobile", "reason": "call"}).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]
    assert SecurityAlert.objects.filter(actor=org.rep, kind="reveal_rate_limit").count() == 1


def test_lead_reassigns_owner_through_the_bulk_action(org, customers):
    client = admin_client(org.lead)
    selected = [customers.of_rep.pk, customers.of_leaver.pk]

    confirm = client.post(CHANGELIST, {"action": "reassign_owner", "_selected_action": selected})
    assert confirm.status_code == 200
    assert "新负责人" in confirm.content.decode()

    done = client.post(
        CHANGELIST,
        {
            "action": "reassign_owner",
            "_selected_action": selected,
            "apply": "1",
            "to_staff": org.rep_b.pk,
            "reason": "territory",
        },
    )

    assert done.status_code == 302
    assert set(Customer.objects.filter(owner=org.rep_b).values_list("pk", flat=True)) == {
        customers.of_rep_b.pk,
        *selected,
    }
    history = OwnershipTransfer.objects.get(customer=customers.of_leaver)
    assert (history.from_owner, history.to_owner, history.actor, history.reason) == (
        org.rep_leaving,
        org.rep_b,
        org.lead,
        "territory",
    )


def test_rep_has_no_reassign_action(org, customers):
    response = admin_client(org.rep).get(CHANGELIST)

    assert response.context["action_form"] is None  # a rep's changelist offers no actions
    done = admin_client(org.rep).post(
        CHANGELIST,
        {
            "action": "reassign_owner",
            "_selected_action": [customers.of_rep.pk],
            "apply": "1",
            "to_staff": org.rep_b.pk,
            "reason": "x",
        },
    )
    assert done.status_code in (200, 302)
    customers.of_rep.refresh_from_db()
    assert customers.of_rep.owner == org.rep


def test_dashboard_counts_only_the_scope(org, customers):
    response = admin_client(org.lead).get(f"{CHANGELIST}dashboard/")

    assert response.status_code == 200
    assert response.context["total"] == 3
    owners = {row["label"]: row["n"] for row in response.context["per_owner"]}
    assert owners == {"rep": 1, "rep_b": 1, "rep_leaving": 1}
    assert sum(row["n"] for row in response.context["per_week"]) == 3
    assert b"weekly-chart" in response.content


def test_customers_cannot_be_deleted_in_the_admin(org, customers):
    response = admin_client(org.admin_user).post(
        f"{change_url(customers.of_rep).removesuffix('change/')}delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    assert Customer.objects.filter(pk=customers.of_rep.pk).exists()


# --- a rep's daily work (issue 11 item 4) ---------------------------------------------------


def test_the_owner_rep_sees_the_name_in_the_title_and_another_rep_the_mask(org, customers):
    share_customer(actor=org.lead, customer=customers.of_rep, with_staff=org.rep_b)
    name = customers.of_rep.name

    mine = admin_client(org.rep).get(change_url(customers.of_rep)).content.decode()
    theirs = admin_client(org.rep_b).get(change_url(customers.of_rep)).content.decode()

    assert f"{name} (#{customers.of_rep.pk}) |" in mine  # the page title
    assert name not in theirs  # a view share: masked everywhere on the page
    assert mask_name(name) in theirs


def test_rep_logs_a_follow_up_and_sees_it_listed(org, customers):
    client = admin_client(org.rep)
    url = f"{change_url(customers.of_rep).removesuffix('change/')}follow-up/"

    assert client.get(url).status_code == 200
    done = client.post(
        url, {"note": "电话回访，客户手机 13812345678", "due_at": "2020-01-02T10:30"}
    )

    assert done.status_code == 302 and done["Location"].endswith("#follow-ups")
    follow_up = FollowUp.objects.get(customer=customers.of_rep)
    assert (follow_up.staff, follow_up.done) == (org.rep, False)
    page = client.get(change_url(customers.of_rep)).content.decode()
    assert "电话回访" in page and "13812345678" not in page
    assert "已到期" in page  # the past due date is flagged
    assert LogEntry.objects.get_for_object(follow_up).exists()  # the change log has it


def test_rep_marks_an_own_follow_up_done_from_the_customer_page(org, customers):
    mine = add_follow_up(actor=org.rep, customer=customers.of_rep, note="周五回电确认报价")
    leads = add_follow_up(actor=org.lead, customer=customers.of_rep, note="主管跟进")
    client = admin_client(org.rep)
    page = client.get(change_url(customers.of_rep)).content.decode()
    done_url = f"{change_url(customers.of_rep).removesuffix('change/')}follow-up/{mine.pk}/done/"
    assert done_url in page  # the button on the own, open follow-up
    assert f"follow-up/{leads.pk}/done/" not in page  # none on a colleague's

    response = client.post(done_url)

    assert response.status_code == 302 and response["Location"].endswith("#follow-ups")
    mine.refresh_from_db()
    assert mine.done
    assert LogEntry.objects.get_for_object(mine).count() == 2  # logged, then marked done
    page = client.get(change_url(customers.of_rep)).content.decode()
    assert "跟进已标记为完成。" in page and done_url not in page


def test_nobody_marks_a_colleagues_follow_up_done(org, customers):
    """The lead may change the customer, but the follow-up is the rep's: refused, said why."""
    rep_note = add_follow_up(actor=org.rep, customer=customers.of_rep, note="客户要求下周再联系")
    url = f"{change_url(customers.of_rep).removesuffix('change/')}follow-up/{rep_note.pk}/done/"

    response = admin_client(org.lead).post(url, follow=True)

    rep_note.refresh_from_db()
    assert not rep_note.done
    assert "只有记录此跟进的同事可以修改它。" in response.content.decode()
    other = CustomerFactory(owner=org.rep_unrelated)
    stray = add_follow_up(actor=org.rep_unrelated, customer=other, note="别人的客户")
    wrong_customer = (
        f"{change_url(customers.of_rep).removesuffix('change/')}follow-up/{stray.pk}/done/"
    )
    assert admin_client(org.rep).post(wrong_customer).status_code == 404  # not this customer's


def test_follow_up_without_a_note_keeps_the_input_and_says_why_in_chinese(org, customers):
    url = f"{change_url(customers.of_rep).removesuffix('change/')}follow-up/"

    response = admin_client(org.rep).post(url, {"note": "  ", "due_at": "2026-12-31T14:30"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "请填写与客户沟通或约定的内容。" in body
    assert 'value="2026-12-31T14:30"' in body
    assert not FollowUp.objects.filter(customer=customers.of_rep).exists()


def test_transaction_is_logged_and_shown_in_yuan(org, customers):
    client = admin_client(org.rep)
    url = f"{change_url(customers.of_rep).removesuffix('change/')}transaction/"

    bad = client.post(url, {"date": "2026-11-30", "product": "会员积分系统", "amount": "-5"})
    assert bad.status_code == 200
    assert "金额必须大于零。" in bad.content.decode()
    assert 'value="会员积分系统"' in bad.content.decode()

    good = client.post(
        url, {"date": "2026-11-30", "product": "会员积分系统", "amount": "1234567.5"}
    )
    assert good.status_code == 302
    assert "¥1,234,567.50" in client.get(change_url(customers.of_rep)).content.decode()
    assert yuan(Decimal("12800")) == "¥12,800.00"


def test_a_rep_who_may_not_change_the_customer_cannot_log(org, customers):
    share_customer(actor=org.lead, customer=customers.of_rep, with_staff=org.rep_b)
    url = f"{change_url(customers.of_rep).removesuffix('change/')}follow-up/"

    response = admin_client(org.rep_b).post(url, {"note": "越权记录"})

    assert response.status_code == 403
    assert not FollowUp.objects.filter(customer=customers.of_rep).exists()
    assert AccessEvent.objects.filter(
        actor=org.rep_b, action=AccessAction.DENIED, query={"attempt": "follow_up"}
    ).exists()
    with pytest.raises(PermissionDenied):
        add_follow_up(actor=org.rep_b, customer=customers.of_rep, note="越权记录")
    with pytest.raises(PermissionDenied):
        add_transaction(
            actor=org.rep_b,
            customer=customers.of_rep,
            date=date(2026, 11, 30),
            product="x",
            amount=Decimal("1"),
        )


def test_reveal_buttons_are_in_plain_words_and_an_empty_reason_is_refused_in_chinese(
    org, customers
):
    client = admin_client(org.rep)
    page = client.get(change_url(customers.of_rep)).content.decode()

    assert "查看完整手机号" in page
    assert "查看完整姓名" not in page  # the owner already sees the name
    response = client.post(reveal_url(customers.of_rep), {"field": "mobile", "reason": ""})
    assert response.status_code == 400
    assert response.json()["detail"] == "请填写查看原因。"
