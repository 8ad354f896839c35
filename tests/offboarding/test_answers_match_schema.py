"""Offboarding's answers match the schema body for body (as tests/api/test_answers_match_schema.py
does for the rest): a case, its preview, its report after a run, the transfers, the revoked
shares, the CSV import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator, validate

from tests.offboarding.cases import open_case, run_to_completion

CASES = "/api/v1/offboarding/cases/"


@pytest.fixture(scope="module")
def schema():
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


def conforms(schema, response, template: str, method: str):
    operation = schema["paths"][template][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {template} -> {status}"
    spec = operation["responses"][status]["content"]["application/json"]["schema"]
    body = response.json()
    validate(body, {**spec, "components": schema["components"]}, cls=OAS30Validator)
    return body


def test_a_case_its_preview_and_its_report_match_the_schema(
    org, leaver, book, schema, api_client_for
):
    hr = api_client_for(org.hr)
    draft = open_case(org, leaver)
    conforms(schema, hr.get(CASES), CASES, "get")
    conforms(schema, hr.get(f"{CASES}{draft.pk}/"), f"{CASES}{{id}}/", "get")
    preview = conforms(
        schema, hr.get(f"{CASES}{draft.pk}/preview/"), f"{CASES}{{id}}/preview/", "get"
    )
    assert preview["customers"] == 6
    draft.delete()

    done = run_to_completion(org, leaver)
    report = conforms(schema, hr.get(f"{CASES}{done.pk}/report/"), f"{CASES}{{id}}/report/", "get")
    assert report["customers"] == 6 and report["steps"]
    conforms(
        schema,
        hr.get(f"/api/v1/offboarding/transfers/?case={done.pk}"),
        "/api/v1/offboarding/transfers/",
        "get",
    )
    conforms(
        schema,
        hr.get(f"/api/v1/offboarding/revoked-shares/?case={done.pk}"),
        "/api/v1/offboarding/revoked-shares/",
        "get",
    )


def test_the_csv_import_answer_matches_the_schema(org, schema, api_client_for):
    content = b"username,notice_date,last_working_date\nnobody,2026-12-01,2026-12-31\n"
    response = api_client_for(org.hr).post(
        f"{CASES}import/",
        {"file": SimpleUploadedFile("leavers.csv", content, "text/csv")},
        format="multipart",
    )

    body = conforms(schema, response, f"{CASES}import/", "post")
    assert body["created"] == [] and body["errors"][0]["line"] == 2
