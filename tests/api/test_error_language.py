"""API error texts follow the caller's language: zh-hans by default, English with
Accept-Language: en. The machine-readable codes (`code`, field names) never change."""

import pytest

from tests.signin import api_client

pytestmark = pytest.mark.django_db

BAD_CUSTOMER = {"name": "张三", "mobile": "12345", "id_number": "110105194912310021"}


def _post_bad_customer(user, **headers):
    return api_client(user).post("/api/v1/customers/", BAD_CUSTOMER, format="json", **headers)


def test_a_400_with_field_errors_answers_in_chinese_by_default(rep):
    body = _post_bad_customer(rep).json()
    assert body["code"] == "invalid"
    assert body["detail"] == "输入有误。"
    assert body["errors"]["mobile"] == ["请输入有效的中国大陆手机号（11 位，以 13–19 开头）。"]
    assert body["errors"]["id_number"] == ["请输入有效的 18 位居民身份证号（校验位不正确）。"]


def test_the_same_400_in_english(rep):
    body = _post_bad_customer(rep, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["code"] == "invalid"
    assert body["detail"] == "Invalid input."
    assert body["errors"]["mobile"] == [
        "Enter a valid mainland China mobile number (11 digits, 1[3-9]...)."
    ]


@pytest.mark.parametrize(
    "language,detail",
    [
        (None, "此操作需要使用第二因素（双因素验证码）登录。"),
        ("en", "This action needs a sign-in with a second factor (two-factor code)."),
    ],
)
def test_mfa_required_speaks_the_callers_language_and_keeps_its_code(auditor, language, detail):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = api_client(auditor, second_factor=False).get("/api/v1/audit/events/", **headers)
    assert response.status_code == 403
    assert response.json() == {"code": "mfa_required", "detail": detail}


def test_unknown_fields_are_refused_in_chinese(rep):
    response = api_client(rep).post(
        "/api/v1/customers/", {"name": "张三", "colour": "red"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["colour"] == ["未知字段。"]
