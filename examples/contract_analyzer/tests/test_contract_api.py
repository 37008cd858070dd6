"""POST /analyze through faasport's AWS handler with real API Gateway events
(``faasport.testing``): the report's fields, validation errors as 422, size limits as 413,
the cache, and the health check answered without importing the app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_analyzer import main

from faasport import aws
from faasport.testing import LambdaClient

CONTRACTS = Path(__file__).with_name("contracts")
BANK = (CONTRACTS / "bank_vulnerable.sol").read_text()


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaClient]:
    monkeypatch.setenv("STATE_URL", f"sqlite:///{tmp_path}/state.db")
    monkeypatch.setenv("AI_PROVIDERS", "")
    monkeypatch.setenv("MAX_CONTRACT_BYTES", "4096")
    main.settings.cache_clear()
    yield LambdaClient(aws.handler(main.app, health_path="/health"), source="apigw-v2")
    main.settings.cache_clear()


def test_the_vulnerable_bank_gets_its_report(client: LambdaClient) -> None:
    response = client.post(
        "/analyze",
        json_body={"contract_code": BANK, "contract_name": "Bank", "analysis_type": "security"},
    )
    assert response.status == 200, response.text()
    report = response.json()
    assert set(report) >= {
        "request_id",
        "findings",
        "overall_security_score",
        "service_used",
        "model_used",
        "processing_time",
    }
    uuid.UUID(report["request_id"])  # the invocation's request id
    assert report["contract_name"] == "Bank"
    assert report["service_used"] == "static"
    assert report["model_used"] == "faasport-solidity-static-1"
    assert report["findings"][:2] == [
        {
            "type": "reentrancy",
            "severity": "critical",
            "line_number": 14,
            "description": report["findings"][0]["description"],
            "recommendation": report["findings"][0]["recommendation"],
        },
        {
            "type": "unchecked_call",
            "severity": "high",
            "line_number": 14,
            "description": report["findings"][1]["description"],
            "recommendation": report["findings"][1]["recommendation"],
        },
    ]
    assert report["overall_security_score"] == 53
    assert 0 <= report["processing_time"] < 5
    assert report["cached"] is False


def test_the_same_contract_again_comes_from_the_cache(client: LambdaClient) -> None:
    body = {"contract_code": BANK, "contract_name": "Bank"}
    first = client.post("/analyze", json_body=body).json()
    second = client.post("/analyze", json_body=body).json()
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["findings"] == first["findings"]
    assert second["request_id"] != first["request_id"]


def test_a_safe_contract_scores_100(client: LambdaClient) -> None:
    code = (CONTRACTS / "bank_safe.sol").read_text()
    report = client.post("/analyze", json_body={"contract_code": code, "contract_name": "S"})
    assert report.json()["findings"] == []
    assert report.json()["overall_security_score"] == 100


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"contract_name": "A"}, ["contract_code"], "missing"),
        ({"contract_code": "contract A {}"}, ["contract_name"], "missing"),
        ({"contract_code": "", "contract_name": "A"}, ["contract_code"], "string_too_short"),
        ({"contract_code": "  \n ", "contract_name": "A"}, ["contract_code"], "value_error"),
        ({"contract_code": 42, "contract_name": "A"}, ["contract_code"], "string_type"),
        (
            {"contract_code": "contract A {}", "contract_name": "A", "analysis_type": "gas"},
            ["analysis_type"],
            "literal_error",
        ),
        (
            {"contract_code": "contract A {}", "contract_name": "A", "extra": 1},
            ["extra"],
            "extra_forbidden",
        ),
        ([1, 2], [], "model_type"),
    ],
)
def test_invalid_requests_get_422_naming_the_field(
    client: LambdaClient, body: object, loc: list[str], kind: str
) -> None:
    response = client.post("/analyze", json_body=body)
    assert response.status == 422
    answer = response.json()
    assert answer["message"] == "invalid request"
    assert [(d["loc"], d["type"]) for d in answer["detail"]] == [(loc, kind)]
    assert "input" not in answer["detail"][0]  # what was sent is not echoed back


def test_a_body_that_is_not_json_gets_422(client: LambdaClient) -> None:
    response = client.post(
        "/analyze", body="{not json", headers={"content-type": "application/json"}
    )
    assert response.status == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_a_contract_over_the_limit_gets_413(client: LambdaClient) -> None:
    code = "contract A {}\n" + "// padding\n" * 400  # over the 4096 bytes set above
    response = client.post("/analyze", json_body={"contract_code": code, "contract_name": "A"})
    assert response.status == 413
    assert response.json()["message"] == f"contract_code is {len(code)} bytes; the limit is 4096"
    body_limit = client.post("/analyze", body="x" * (main.MAX_BODY + 1))
    assert body_limit.status == 413


def test_other_methods_and_paths_are_refused(client: LambdaClient) -> None:
    assert client.get("/analyze").status == 405
    assert client.post("/other", json_body={}).status == 404


def test_the_health_check_does_not_need_the_app() -> None:
    handler = aws.handler("contract_analyzer.not_a_module:app", health_path="/health")
    response = LambdaClient(handler).get("/health")
    assert (response.status, response.json()) == (200, {"status": "ok"})
