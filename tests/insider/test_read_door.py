"""§3 The read door is enforced, not a convention: attacks through Django's own admin pages, the
answer of an update, the audit trail itself, and a view that forgot to declare its scope."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.admin import AdminSite
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, override_settings
from django.urls import path

from customers.admin import CustomerAdmin
from customers.models import Customer
from scrm.access.door import admin_pages, check_read_door
from scrm.audit.models import AccessAction, AccessEvent, Channel
from scrm.audit.services import raise_alert, record_access
from tests.insider import throwaway_urls
from tests.offboarding.cases import open_case, supervised_by_lead
from tests.signin import verified_login


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(since: int) -> list[AccessEvent]:
    # The test clients' sign-ins are access events too (tests/identity covers them).
    return list(
        AccessEvent.objects.filter(pk__gt=since).exclude(action=AccessAction.LOGIN).order_by("id")
    )


def browser(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


# --- Django's built-in admin pages --------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        # Customers, listed through a foreign key to them, by an exact mobile and by name.
        {"app_label": "customers", "model_name": "followup", "field_name": "customer"},
        {"app_label": "chats", "model_name": "conversation", "field_name": "customer"},
        {"app_label": "customers", "model_name": "customer", "field_name": "owner"},
    ],
    ids=["followup.customer", "conversation.customer", "customer.owner"],
)
@pytest.mark.parametrize("term", ["mobile", "name", ""])
def test_rep_cannot_read_customers_through_admin_autocomplete(params, term, org, customers):
    target = customers.of_rep
    typed = {"mobile": target.mobile, "name": target.name[:1], "": ""}[term]
    since = last_event_id()

    response = browser(org.rep).get("/admin/autocomplete/", {**params, "term": typed})

    assert response.status_code == 404
    body = response.content.decode()
    assert "json" not in response["Content-Type"] and '"results"' not in body
    assert target.name not in body and target.mobile[-4:] not in body
    assert org.rep.username not in body
    assert events_since(since) == []  # nothing was read, so nothing to record


@pytest.mark.parametrize("term", ["mobile", "name"])
def test_unfolds_model_search_is_switched_off_for_everyone(term, org, customers):
    """django-unfold's /admin/search/ runs every admin's search_fields with no access event:
    a superuser typing a mobile would get its customer. It answers 404 like autocomplete."""
    target = customers.of_rep
    typed = {"mobile": target.mobile, "name": target.name}[term]
    since = last_event_id()

    for user in (org.rep, org.admin_user):
        response = browser(user).get("/admin/search/", {"s": typed, "extended": "1"})

        assert response.status_code == 404
        assert target.name not in response.content.decode()
    assert events_since(since) == []


def test_view_on_site_cannot_look_objects_up_outside_the_scope(org, customers):
    content_type = ContentType.objects.get_for_model(Customer)

    response = browser(org.rep).get(f"/admin/r/{content_type.pk}/{customers.of_unrelated.pk}/")

    assert response.status_code == 404


def test_history_of_an_out_of_scope_customer_is_refused_and_recorded(org, customers):
    target = customers.of_unrelated
    since = last_event_id()

    response = browser(org.rep).get(f"/admin/customers/customer/{target.pk}/history/")

    assert response.status_code == 302  # to the admin index, like an unknown id
    [event] = events_since(since)  # (the index's own panels record their reads too)
    assert target.name not in browser(org.rep).get(response.url).content.decode()
    assert (event.actor, event.action, event.allowed, event.object_ids, event.query) == (
        org.rep,
        AccessAction.DENIED,
        False,
        [target.pk],
        {"attempt": "history"},
    )


def test_history_of_an_in_scope_customer_is_recorded(org, customers):
    target = customers.of_rep
    client = browser(org.rep)
    client.post(  # an admin edit, so the history has a row to show
        f"/admin/customers/customer/{target.pk}/change/",
        {"name": target.name, "stage": "contacted", "source_channel": target.source_channel},
    )
    since = last_event_id()

    response = client.get(f"/admin/customers/customer/{target.pk}/history/")

    assert response.status_code == 200
    [event] = events_since(since)
    assert (event.actor, event.action, event.model, event.object_ids, event.channel) == (
        org.rep,
        AccessAction.VIEW,
        "customers.customer",
        [target.pk],
        Channel.ADMIN,
    )
    assert event.query == {"view": "history"}


def test_history_is_refused_to_roles_without_the_model_permission(org, customers):
    since = last_event_id()

    response = browser(org.security).get(
        f"/admin/customers/customer/{customers.of_rep.pk}/history/"
    )

    assert response.status_code == 403
    assert events_since(since) == []


def test_a_raw_id_popup_is_the_scoped_recorded_changelist(org, customers):
    since = last_event_id()

    response = browser(org.rep).get(
        "/admin/customers/customer/", {"_popup": "1", "_to_field": "id"}
    )

    assert response.status_code == 200
    shown = {c.pk for c in response.context["cl"].result_list}
    assert shown == {customers.of_rep.pk}
    [event] = events_since(since)
    assert (event.action, set(event.object_ids)) == (AccessAction.LIST, shown)
    assert event.query["_popup"] == "1"


@pytest.mark.parametrize("role", ["rep", "admin_user"])
def test_delete_confirmation_is_off_where_delete_is_not_allowed(role, org, customers):
    since = last_event_id()

    response = browser(getattr(org, role)).get(
        f"/admin/customers/customer/{customers.of_rep.pk}/delete/"
    )

    assert response.status_code == 403
    assert customers.of_rep.name not in response.content.decode()
    assert events_since(since) == []


# --- the answer of an update is a read ----------------------------------------------------


def test_an_empty_patch_returns_the_record_and_is_recorded(org, customers, api_client_for):
    target = customers.of_rep
    since = last_event_id()

    response = api_client_for(org.rep).patch(f"/api/v1/customers/{target.pk}/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == target.pk
    [event] = events_since(since)
    assert (event.actor, event.action, event.object_ids, event.query) == (
        org.rep,
        AccessAction.VIEW,
        [target.pk],
        {"view": "partial_update"},
    )


def test_a_put_is_recorded_with_the_id(org, customers, jwt_client_for):
    target = customers.of_rep
    since = last_event_id()

    response = jwt_client_for(org.rep).put(
        f"/api/v1/customers/{target.pk}/", {"name": "王小明", "stage": "contacted"}, format="json"
    )

    assert response.status_code == 200, response.content
    [event] = events_since(since)
    assert (event.actor, event.action, event.object_ids, event.query) == (
        org.rep,
        AccessAction.VIEW,
        [target.pk],
        {"view": "update"},
    )


def test_an_out_of_scope_patch_is_denied_and_recorded_once(org, customers, api_client_for):
    target = customers.of_unrelated
    since = last_event_id()

    response = api_client_for(org.rep).patch(f"/api/v1/customers/{target.pk}/", {}, format="json")

    assert response.status_code == 404
    [event] = events_since(since)
    assert (event.action, event.allowed, event.object_ids) == (
        AccessAction.DENIED,
        False,
        [target.pk],
    )


# --- who read who read what ----------------------------------------------------------------


@pytest.fixture
def trail(org, customers):
    """Events of a rep's reads and one security alert."""
    events = [
        record_access(
            actor=org.rep,
            action=AccessAction.VIEW,
            model=Customer,
            object_ids=[customers.of_rep.pk],
            channel=Channel.API,
        )
        for _ in range(2)
    ]
    alert = raise_alert(kind="reveal_limit", message="rep revealed too much", actor=org.rep)
    return events, alert


def test_an_auditor_listing_audit_events_is_recorded(org, trail, api_client_for):
    since = last_event_id()

    response = api_client_for(org.auditor).get("/api/v1/audit/events/")

    assert response.status_code == 200
    shown = [row["id"] for row in response.json()["results"]]
    assert {e.pk for e in trail[0]} <= set(shown)
    [event] = events_since(since)
    assert (event.actor, event.action, event.model, event.object_ids) == (
        org.auditor,
        AccessAction.LIST,
        "audit.accessevent",
        shown,
    )
    # ... and the next reader sees that the auditor read the trail.
    again = api_client_for(org.security).get("/api/v1/audit/events/?model=audit.accessevent")
    assert event.pk in [row["id"] for row in again.json()["results"]]


def test_an_auditor_opening_one_audit_event_is_recorded(org, trail, api_client_for):
    target = trail[0][0]
    since = last_event_id()

    response = api_client_for(org.auditor).get(f"/api/v1/audit/events/{target.pk}/")

    assert response.status_code == 200
    [event] = events_since(since)
    assert (event.action, event.model, event.object_ids) == (
        AccessAction.VIEW,
        "audit.accessevent",
        [target.pk],
    )


@pytest.mark.parametrize("channel", ["api", "admin"])
def test_an_audit_csv_export_is_recorded_and_does_not_hold_itself(channel, org, trail):
    since = last_event_id()
    url = "/api/v1/audit/events/export/" if channel == "api" else "/admin/audit/accessevent/export/"

    response = browser(org.auditor).get(url)

    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    [event] = events_since(since)
    assert (event.actor, event.action, event.model) == (
        org.auditor,
        AccessAction.EXPORT,
        "audit.accessevent",
    )
    assert event.query["row_count"] == len(rows) >= 2
    assert str(event.pk) not in {row["id"] for row in rows}


def test_a_security_officer_listing_alerts_is_recorded(org, trail, api_client_for):
    alert = trail[1]
    client = api_client_for(org.security)
    since = last_event_id()

    listed = client.get("/api/v1/alerts/")
    opened = client.get(f"/api/v1/alerts/{alert.pk}/")

    assert (listed.status_code, opened.status_code) == (200, 200)
    assert [(e.action, e.model, e.object_ids) for e in events_since(since)] == [
        (AccessAction.LIST, "audit.securityalert", [alert.pk]),
        (AccessAction.VIEW, "audit.securityalert", [alert.pk]),
    ]


@pytest.mark.parametrize(
    ("role", "url", "model"),
    [
        ("auditor", "/admin/audit/accessevent/", "audit.accessevent"),
        ("security", "/admin/audit/securityalert/", "audit.securityalert"),
        ("auditor", "/admin/auditlog/logentry/", "auditlog.logentry"),
    ],
    ids=["access events", "security alerts", "change log"],
)
def test_reading_the_audit_trail_in_the_admin_is_recorded(role, url, model, org, trail):
    user = getattr(org, role)
    client = browser(user)
    since = last_event_id()

    response = client.get(url)

    assert response.status_code == 200
    shown = [o.pk for o in response.context["cl"].result_list]
    assert shown
    [listed] = events_since(since)
    assert (listed.actor, listed.action, listed.model, listed.object_ids) == (
        user,
        AccessAction.LIST,
        model,
        shown,
    )
    since = last_event_id()
    assert client.get(f"{url}{shown[-1]}/change/").status_code == 200
    [opened] = events_since(since)
    assert (opened.action, opened.model, opened.object_ids) == (
        AccessAction.VIEW,
        model,
        [shown[-1]],
    )


def test_the_change_log_history_page_is_recorded_too(org, customers):
    entry = LogEntry.objects.order_by("id").first()
    since = last_event_id()

    response = browser(org.auditor).get(f"/admin/auditlog/logentry/{entry.pk}/history/")

    assert response.status_code == 200
    [event] = events_since(since)
    assert (event.action, event.model, event.object_ids) == (
        AccessAction.VIEW,
        "auditlog.logentry",
        [entry.pk],
    )


# --- a view that forgot to declare its scope ---------------------------------------------


@override_settings(ROOT_URLCONF="tests.insider.throwaway_urls")
def test_an_undeclared_viewset_action_answers_403(org, customers, api_client_for):
    target = customers.of_unrelated

    response = api_client_for(org.rep).get(f"/api/v1/peek/{target.pk}/peek/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "未声明数据范围" in response.json()["detail"]
    assert target.name not in response.content.decode()
    # The declared action next to it still answers, through the scope.
    listed = api_client_for(org.rep).get("/api/v1/peek/")
    assert [row["id"] for row in listed.json()["results"]] == [customers.of_rep.pk]


def test_the_system_check_reports_an_undeclared_action_and_a_view_off_the_base():
    errors = check_read_door(patterns=throwaway_urls.urlpatterns)

    found = {(e.id, e.obj.__name__) for e in errors}
    assert found == {("scrm.E001", "PeekViewSet"), ("scrm.E002", "OffTheBaseView")}
    assert any("PeekViewSet.peek" in e.msg for e in errors)


def test_the_projects_own_urls_pass_the_check():
    assert check_read_door() == []


@override_settings(ROOT_URLCONF="tests.insider.throwaway_urls")
def test_manage_py_check_fails_on_an_undeclared_action():
    with pytest.raises(SystemCheckError, match="scrm.E001"):
        call_command("check")


def test_an_undeclared_custom_admin_page_is_refused_and_reported(rf, org):
    class PeekAdmin(CustomerAdmin):
        def get_urls(self):
            peek = path("peek/", self.admin_site.admin_view(self.peek), name="customers_peek")
            return [peek, *super().get_urls()]

        def peek(self, request):  # pragma: no cover - refused before it runs
            raise AssertionError("an undeclared page ran")

    site = AdminSite(name="throwaway")
    site.register(Customer, PeekAdmin)
    [pattern] = [p for p in site._registry[Customer].urls if p.name == "customers_peek"]
    request = rf.get("/admin/customers/customer/peek/")
    request.user = org.admin_user

    with pytest.raises(PermissionDenied, match="未声明数据范围"):
        pattern.callback(request)
    assert admin_pages(site)["customers_peek"] is None


def test_an_admin_with_autocomplete_fields_fails_the_check(monkeypatch):
    from django.contrib import admin

    monkeypatch.setattr(admin.site._registry[Customer], "autocomplete_fields", ["owner"])

    assert "scrm.E004" in {e.id for e in check_read_door()}


# --- DRF's own pages -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/chats/conversations/", "/api/v1/chats/messages/"])
def test_the_browsable_api_does_not_list_customers_in_its_filter_forms(
    url, org, customers, api_client_for
):
    """Regression: the HTML page's filter form listed every customer a foreign-key filter names
    (`张** (#5)` of another department), outside the scope and unrecorded. The browsable API
    is back (scrm.api.renderers.SafeBrowsableAPIRenderer) without those forms; more in
    tests/api/test_browsable_api.py."""
    client = api_client_for(org.rep)

    page = client.get(url, HTTP_ACCEPT="text/html")
    suffixed = client.get(f"{url}?format=api")

    for response in (page, suffixed):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert "<select" not in response.content.decode()
        assert str(customers.of_unrelated) not in response.content.decode()


def test_options_describes_the_endpoint_without_reading_the_record(org, customers, api_client_for):
    since = last_event_id()

    response = api_client_for(org.rep).options(f"/api/v1/customers/{customers.of_unrelated.pk}/")

    assert response.status_code == 200
    assert "actions" not in response.json()
    assert events_since(since) == []


# --- offboarding cases name the leaver, the reason and the successors: reads recorded -------


def test_reading_offboarding_cases_is_recorded(org, api_client_for):
    case = open_case(org, supervised_by_lead(org, org.rep_leaving))
    client = api_client_for(org.hr)
    since = last_event_id()

    listed = client.get("/api/v1/offboarding/cases/")
    opened = client.get(f"/api/v1/offboarding/cases/{case.pk}/")

    assert (listed.status_code, opened.status_code) == (200, 200)
    assert [(e.action, e.model, e.object_ids) for e in events_since(since)] == [
        (AccessAction.LIST, "offboarding.offboardingcase", [case.pk]),
        (AccessAction.VIEW, "offboarding.offboardingcase", [case.pk]),
    ]


def test_an_out_of_scope_case_is_denied_and_recorded(org, api_client_for):
    case = open_case(org, supervised_by_lead(org, org.rep_leaving))
    since = last_event_id()

    response = api_client_for(org.manager_other).get(f"/api/v1/offboarding/cases/{case.pk}/")

    assert response.status_code == 404
    [event] = events_since(since)
    assert (event.action, event.allowed, event.object_ids) == (
        AccessAction.DENIED,
        False,
        [case.pk],
    )
