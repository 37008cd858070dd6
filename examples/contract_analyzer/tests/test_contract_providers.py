"""AI review against local servers speaking the OpenAI chat completions and Gemini
generateContent formats over real sockets: the requests each gets, the answer used, and
the fallback from one provider to the next and to the static analyzer on a 500, a 429, a
timeout, a body that is not JSON and an answer off the agreed shape."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_ai_servers import FakeApi, serve
from contract_analyzer import service
from contract_analyzer.settings import Settings

BANK = (Path(__file__).with_name("contracts") / "bank_vulnerable.sol").read_text()
AI_FINDING = {
    "type": "reentrancy",
    "severity": "critical",
    "line_number": 14,
    "description": "state updated after the external call",
    "recommendation": "use checks-effects-interactions",
}


@pytest.fixture
def openai() -> Iterator[FakeApi]:
    with serve(FakeApi("openai", findings=[AI_FINDING], model="gpt-test-2024")) as fake:
        yield fake


@pytest.fixture
def gemini() -> Iterator[FakeApi]:
    with serve(FakeApi("gemini", findings=[AI_FINDING], model="gemini-test-001")) as fake:
        yield fake


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_SECRETS", "env")
    monkeypatch.setenv("FAASPORT_SECRET_CONTRACT_ANALYZER_OPENAI_KEY", "sk-openai-test")
    monkeypatch.setenv("FAASPORT_SECRET_CONTRACT_ANALYZER_GEMINI_KEY", "gm-test")


def settings(tmp_path: Path, *apis: FakeApi, timeout: float = 5.0) -> Settings:
    return Settings(
        providers=tuple(api.api for api in apis),
        urls={api.api: api.url + ("/v1" if api.api == "openai" else "") for api in apis},
        models={"openai": "gpt-test", "gemini": "gemini-test"},
        timeout=timeout,
        state_url=f"sqlite:///{tmp_path}/state.db",
        reports_bucket="reports",
        max_code_bytes=256 * 1024,
    )


def test_openai_answers_in_its_format(tmp_path: Path, openai: FakeApi) -> None:
    report = service.analyze(BANK, "Bank", "security", settings(tmp_path, openai))
    assert (report["service_used"], report["model_used"]) == ("openai", "gpt-test-2024")
    assert report["findings"] == [AI_FINDING]
    assert report["overall_security_score"] == 70
    [seen] = openai.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-openai-test"
    assert seen.body["model"] == "gpt-test"
    assert [m["role"] for m in seen.body["messages"]] == ["system", "user"]
    assert "   14         msg.sender.call{value: amount}" in seen.body["messages"][1]["content"]
    assert seen.body["response_format"] == {"type": "json_object"}


def test_gemini_answers_in_its_format(tmp_path: Path, gemini: FakeApi) -> None:
    report = service.analyze(BANK, "Bank", "security", settings(tmp_path, gemini))
    assert (report["service_used"], report["model_used"]) == ("gemini", "gemini-test-001")
    assert report["findings"] == [AI_FINDING]
    [seen] = gemini.requests
    assert seen.path == "/v1beta/models/gemini-test:generateContent"
    assert seen.headers["x-goog-api-key"] == "gm-test"
    assert "authorization" not in seen.headers
    [content] = seen.body["contents"]
    assert content["role"] == "user" and "Contract Bank" in content["parts"][0]["text"]
    assert seen.body["generationConfig"]["responseMimeType"] == "application/json"
    assert "JSON" in seen.body["systemInstruction"]["parts"][0]["text"]


@pytest.mark.parametrize(
    ("behaviour", "outcome"),
    [
        ("500", "HTTP 500"),
        ("429", "rate limited (HTTP 429)"),
        ("slow", "timed out after 0.5 s"),
        ("not-json", "malformed response: not JSON"),
        ("no-choices", "malformed response: no choices[0].message.content"),
        ("bad-findings", "malformed answer: unknown severity"),
    ],
)
def test_a_failing_first_provider_falls_back_to_the_next(
    tmp_path: Path, openai: FakeApi, gemini: FakeApi, behaviour: str, outcome: str
) -> None:
    openai.behaviour = behaviour
    report = service.analyze(
        BANK, "Bank", "security", settings(tmp_path, openai, gemini, timeout=0.5)
    )
    assert report["service_used"] == "gemini"
    assert report["providers_tried"] == [
        {"service": "openai", "model": "gpt-test", "outcome": outcome},
        {"service": "gemini", "model": "gemini-test", "outcome": "answered"},
    ]
    assert len(openai.requests) == 1 and len(gemini.requests) == 1


def test_when_every_provider_fails_the_static_analyzer_answers(
    tmp_path: Path, openai: FakeApi, gemini: FakeApi
) -> None:
    openai.behaviour, gemini.behaviour = "429", "500"
    report = service.analyze(BANK, "Bank", "security", settings(tmp_path, openai, gemini))
    assert (report["service_used"], report["model_used"]) == (
        "static",
        "faasport-solidity-static-1",
    )
    found = {(f["type"], f["severity"], f["line_number"]) for f in report["findings"]}
    assert {("reentrancy", "critical", 14), ("unchecked_call", "high", 14)} <= found
    assert [a["outcome"] for a in report["providers_tried"]] == [
        "rate limited (HTTP 429)",
        "HTTP 500",
    ]


def test_an_unreachable_provider_and_one_without_a_key_are_skipped(
    tmp_path: Path, gemini: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAASPORT_SECRET_CONTRACT_ANALYZER_OPENAI_KEY")
    config = settings(tmp_path, FakeApi("openai"), gemini)
    report = service.analyze(BANK, "Bank", "security", config)
    assert report["service_used"] == "gemini"
    assert report["providers_tried"][0]["outcome"] == "no API key"
    monkeypatch.setenv("FAASPORT_SECRET_CONTRACT_ANALYZER_OPENAI_KEY", "k")
    closed = dataclasses.replace(
        config,
        urls={"openai": "http://127.0.0.1:9", "gemini": gemini.url},
        state_url=f"sqlite:///{tmp_path}/other.db",
    )
    report = service.analyze(BANK, "Bank", "security", closed)
    assert report["providers_tried"][0]["outcome"] == "unreachable"
    assert report["service_used"] == "gemini"


def test_a_report_is_cached_by_the_contracts_hash(tmp_path: Path, openai: FakeApi) -> None:
    config = settings(tmp_path, openai)
    first = service.analyze(BANK, "Bank", "security", config)
    second = service.analyze(BANK, "Bank", "security", config)
    assert len(openai.requests) == 1
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["findings"] == first["findings"]
    assert second["contract_hash"] == first["contract_hash"]
    assert second["request_id"] != first["request_id"]
    service.analyze(BANK + "\n// v2", "Bank", "security", config)
    assert len(openai.requests) == 2  # another contract, another analysis


def test_a_fallback_report_is_cached_briefly(
    tmp_path: Path, openai: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "FALLBACK_TTL", 1)
    openai.behaviour = "500"
    config = settings(tmp_path, openai)
    assert service.analyze(BANK, "Bank", "security", config)["service_used"] == "static"
    assert service.analyze(BANK, "Bank", "security", config)["cached"] is True
    openai.behaviour = "answer"
    time.sleep(1.2)
    report = service.analyze(BANK, "Bank", "security", config)
    assert (report["service_used"], report["cached"]) == ("openai", False)
