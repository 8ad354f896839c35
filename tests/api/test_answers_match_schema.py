"""What the API sends matches what the schema says, body for body: each answer below is
validated against its operation's documented response (status and JSON schema, OpenAPI 3.0
`nullable` included) -- the check schemathesis makes, on the real database."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator, validate

from chats.ingest import ingest_records
from tests.chats.wecom_records import text_record
from tests.factories import CustomerFactory, StaffFactory


@pytest.fixture(scope="module")
def schema():
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def conforms(schema):
    def check(response, template: str, method: str):
        operation = schema["paths"][template][method]
        status = str(response.status_code)
        where = f"{method.upper()} {template} -> {status}"
        assert status in operation["responses"], f"{where} is not documented"
        documented = operation["responses"][status]
        if "content" not in documented:
            assert not response.content, where
            return None
        body = response.json()
        spec = documented["content"]["application/json"]["schema"]
        validate(body, {**spec, "components": schema["components"]}, cls=OAS30Validator)
        return body

    return check


@pytest.fixture
def chats(org, customers):
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    org.rep.wecom_userid = "rep"
    org.rep.save()
    customers.of_rep.wecom_external_userid = "wm-of-rep"
    customers.of_rep.save()
    ingest_records(
        records=[
            text_record("rep", "wm-of-rep", "您好，报价已发送"),
            text_record("wm-of-rep", "rep", "收到报价，我的手机号是13912345678"),
        ],
        actor=sync,
    )
    return sync


def test_a_reps_answers_match_the_schema(org, customers, chats, conforms, api_client_for):
    rep = api_client_for(org.rep)
    mine = customers.of_rep.pk

    listed = conforms(rep.get("/api/v1/customers/?stage=lead"), "/api/v1/customers/", "get")
    conforms(rep.get("/api/v1/customers/?page_size=1"), "/api/v1/customers/", "get")
    created = conforms(
        rep.post("/api/v1/customers/", {"name": "新客户", "stage": "lead"}),
        "/api/v1/customers/",
        "post",
    )
    assert listed is not None and created["owner_name"] == org.rep.username
    detail = "/api/v1/customers/{id}/"
    conforms(rep.get(f"/api/v1/customers/{mine}/"), detail, "get")
    conforms(rep.patch(f"/api/v1/customers/{mine}/", {"company": "新公司"}), detail, "patch")
    conforms(
        rep.post(f"/api/v1/customers/{mine}/reveal/", {"field": "mobile", "reason": "回电"}),
        "/api/v1/customers/{id}/reveal/",
        "post",
    )
    shares = "/api/v1/customers/{id}/shares/"
    conforms(rep.get(f"/api/v1/customers/{mine}/shares/"), shares, "get")
    conforms(
        rep.post(f"/api/v1/customers/{mine}/shares/", {"staff_id": org.rep_b.pk}), shares, "post"
    )
    conforms(
        rep.get(f"/api/v1/customers/{mine}/timeline/"), "/api/v1/customers/{id}/timeline/", "get"
    )
    found = conforms(rep.get("/api/v1/chats/search/?q=报价"), "/api/v1/chats/search/", "get")
    assert found["count"] == 2
    messages = conforms(rep.get("/api/v1/chats/messages/"), "/api/v1/chats/messages/", "get")
    message = messages["results"][0]["id"]
    conforms(rep.get(f"/api/v1/chats/messages/{message}/"), "/api/v1/chats/messages/{id}/", "get")
    conversations = conforms(
        rep.get("/api/v1/chats/conversations/"), "/api/v1/chats/conversations/", "get"
    )
    conversation = conversations["results"][0]["id"]
    conforms(
        rep.get(f"/api/v1/chats/conversations/{conversation}/"),
        "/api/v1/chats/conversations/{id}/",
        "get",
    )
    conforms(rep.get("/api/v1/me/"), "/api/v1/me/", "get")
    conforms(rep.get("/api/v1/staff/"), "/api/v1/staff/", "get")
    conforms(rep.get(f"/api/v1/staff/{org.hr.pk}/"), "/api/v1/staff/{id}/", "get")


def test_nulls_and_other_roles_answers_match_the_schema(org, customers, conforms, api_client_for):
    ownerless_team = api_client_for(org.hr)
    # HR has no team nor, here, a department: null names in the directory and in me/.
    me = conforms(ownerless_team.get("/api/v1/me/"), "/api/v1/me/", "get")
    assert me["team"] is None
    staff = conforms(ownerless_team.get("/api/v1/staff/?page_size=200"), "/api/v1/staff/", "get")
    assert None in {row["team"] for row in staff["results"]}
    manager = api_client_for(org.manager)
    conforms(
        manager.post(
            "/api/v1/customers/transfer/",
            {"customers": [customers.of_rep.pk], "to_staff": org.rep_b.pk, "reason": "调岗"},
        ),
        "/api/v1/customers/transfer/",
        "post",
    )
    auditor = api_client_for(org.auditor)
    conforms(auditor.get("/api/v1/audit/events/"), "/api/v1/audit/events/", "get")
    conforms(auditor.get("/api/v1/audit/changes/"), "/api/v1/audit/changes/", "get")


def test_the_sync_accounts_batch_answer_matches_the_schema(org, chats, conforms, api_client_for):
    answer = conforms(
        api_client_for(chats).post(
            "/api/v1/chats/messages/batch/",
            {"messages": [text_record("rep", "wm-of-rep", "明天见"), {"msgid": "x"}]},
        ),
        "/api/v1/chats/messages/batch/",
        "post",
    )
    assert [r["status"] for r in answer["results"]] == ["created", "error"]


def test_error_answers_match_the_envelope(org, customers, conforms, api_client_for, anon_client):
    rep = api_client_for(org.rep)
    other = CustomerFactory(owner=org.rep_unrelated).pk
    detail = "/api/v1/customers/{id}/"
    assert conforms(rep.get(f"/api/v1/customers/{other}/"), detail, "get")["code"] == "not_found"
    assert conforms(anon_client.get("/api/v1/customers/"), "/api/v1/customers/", "get")["code"] == (
        "not_authenticated"
    )
    refused = conforms(
        api_client_for(org.security).get("/api/v1/customers/"), "/api/v1/customers/", "get"
    )
    assert refused["code"] == "permission_denied"
    invalid = conforms(
        rep.post("/api/v1/customers/", {"name": "", "tags": [["x"]]}), "/api/v1/customers/", "post"
    )
    assert set(invalid["errors"]) == {"name", "tags.0"}
    page = conforms(rep.get("/api/v1/customers/?page=99"), "/api/v1/customers/", "get")
    assert page["code"] == "not_found"
    token = "/api/v1/auth/token/"
    assert conforms(anon_client.post(token, {}), token, "post")["code"] == "invalid"
    wrong = conforms(anon_client.post(token, {"username": "rep", "password": "x"}), token, "post")
    assert wrong["code"] == "invalid_credentials"
