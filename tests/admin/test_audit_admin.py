"""Audit rows are readable by the audit roles and editable by nobody, superusers included."""

import csv
import io

from auditlog.models import LogEntry
from django.test import Client

from scrm.audit.models import AccessAction, AccessEvent
from scrm.audit.services import record_access
from tests.signin import verified_login


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def an_event(actor, customer) -> AccessEvent:
    return record_access(
        actor=actor,
        action=AccessAction.VIEW,
        model="customers.customer",
        object_ids=[customer.pk],
        channel="api",
    )


def test_auditor_and_security_read_events_but_sales_cannot(org, customers):
    an_event(org.rep, customers.of_rep)

    for user in (org.auditor, org.security, org.admin_user):
        assert admin_client(user).get("/admin/audit/accessevent/").status_code == 200
    for user in (org.rep, org.lead, org.manager, org.hr, org.legal):
        assert admin_client(user).get("/admin/audit/accessevent/").status_code == 403


def test_superuser_cannot_edit_or_delete_an_access_event(org, customers):
    event = an_event(org.rep, customers.of_rep)
    client = admin_client(org.admin_user)

    page = client.get(f"/admin/audit/accessevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        client.post(f"/admin/audit/accessevent/{event.pk}/change/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/audit/accessevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/audit/accessevent/add/").status_code == 403
    assert AccessEvent.objects.filter(pk=event.pk, reason="").exists()


def test_superuser_cannot_delete_change_log_entries(org, customers):
    customers.of_rep.company = "Changed"
    customers.of_rep.save()
    entry = LogEntry.objects.get_for_object(customers.of_rep).first()

    response = admin_client(org.admin_user).post(
        f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_access_events_export_to_csv_with_filters(org, customers):
    an_event(org.rep, customers.of_rep)
    an_event(org.lead, customers.of_rep_b)

    response = admin_client(org.auditor).get(
        "/admin/audit/accessevent/export/", {"action__exact": "view"}
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:5] == ["id", "at", "actor", "channel", "action"]
    assert {row[2] for row in rows[1:]} == {"rep", "lead"}
    assert admin_client(org.rep).get("/admin/audit/accessevent/export/").status_code == 403


def test_access_events_export_opens_in_excel_and_runs_no_formula(org, customers):
    # given: a reason someone typed as a spreadsheet formula
    record_access(
        actor=org.legal,
        action=AccessAction.REVEAL,
        model="customers.customer",
        object_ids=[customers.of_rep.pk],
        channel="api",
        reason='=HYPERLINK("http://evil.example","open")',
    )

    # when
    response = admin_client(org.auditor).get("/admin/audit/accessevent/export/")
    body = b"".join(response.streaming_content).decode("utf-8")

    # then: a BOM for Excel's UTF-8, and the formula kept as text
    assert body.startswith("\ufeffid,")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    reveals = [row for row in rows if row["action"] == AccessAction.REVEAL]
    assert [row["reason"] for row in reveals] == ['\'=HYPERLINK("http://evil.example","open")']
