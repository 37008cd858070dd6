"""AI review through HTTP APIs: an OpenAI-compatible chat completions API and Google's Gemini
``generateContent``. Each provider turns the contract into one request and the answer into
findings, or raises :class:`ProviderError` with a short reason; :func:`first_answer` tries
them in order. Only the standard library (urllib): the function ships no HTTP client."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from contract_analyzer.findings import SEVERITIES, Finding

INSTRUCTIONS = (
    "You are a smart-contract security auditor. Review the Solidity contract the user sends "
    "for vulnerabilities (reentrancy, unchecked calls, access control, tx.origin, "
    "selfdestruct, delegatecall, arithmetic, timestamp dependence, pragma). Answer with one "
    'JSON object only: {"findings": [{"type": "snake_case_name", "severity": '
    '"critical|high|medium|low|info", "line_number": 1, "description": "...", '
    '"recommendation": "..."}]}. line_number is the 1-based line in the contract.'
)
#: Longest answer read from a provider.
MAX_ANSWER = 2 * 1024 * 1024


class ProviderError(Exception):
    """A provider gave no usable answer; ``reason`` is short and safe to show a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Review:
    service: str
    model: str
    findings: list[Finding]


@dataclass(frozen=True)
class Attempt:
    service: str
    model: str
    outcome: str  # "answered", or why not


class Provider(Protocol):
    @property
    def service(self) -> str: ...

    @property
    def model(self) -> str: ...

    def review(self, code: str, name: str, timeout: float) -> Review: ...


def user_prompt(code: str, name: str) -> str:
    numbered = "\n".join(f"{n:>5} {line}" for n, line in enumerate(code.splitlines(), 1))
    return f"Contract {name} (line numbers on the left):\n\n{numbered}"


@dataclass(frozen=True)
class OpenAICompatible:
    """``POST {base_url}/chat/completions`` with a bearer key: OpenAI's API and the many
    servers that speak it."""

    base_url: str
    model: str
    api_key: str
    service: str = "openai"

    def review(self, code: str, name: str, timeout: float) -> Review:
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": user_prompt(code, name)},
            ],
            "temperature": 0,
            "response_format": {"type": "json_object"},
        }
        answer = post_json(
            self.base_url.rstrip("/") + "/chat/completions",
            body,
            {"Authorization": f"Bearer {self.api_key}"},
            timeout,
        )
        try:
            choice = answer["choices"][0]
            content = choice["message"]["content"]
            model = answer.get("model") or self.model
        except (KeyError, IndexError, TypeError):
            raise ProviderError("malformed response: no choices[0].message.content") from None
        if choice.get("finish_reason") not in (None, "stop"):
            raise ProviderError(f"incomplete answer (finish_reason {choice['finish_reason']})")
        return Review(self.service, str(model), parse_findings(content, code))


@dataclass(frozen=True)
class Gemini:
    """``POST {base_url}/v1beta/models/{model}:generateContent`` with ``x-goog-api-key``."""

    base_url: str
    model: str
    api_key: str
    service: str = "gemini"

    def review(self, code: str, name: str, timeout: float) -> Review:
        body = {
            "systemInstruction": {"parts": [{"text": INSTRUCTIONS}]},
            "contents": [{"role": "user", "parts": [{"text": user_prompt(code, name)}]}],
            "generationConfig": {"temperature": 0, "responseMimeType": "application/json"},
        }
        answer = post_json(
            f"{self.base_url.rstrip('/')}/v1beta/models/{self.model}:generateContent",
            body,
            {"x-goog-api-key": self.api_key},
            timeout,
        )
        try:
            candidate = answer["candidates"][0]
            content = "".join(part.get("text", "") for part in candidate["content"]["parts"])
            model = answer.get("modelVersion") or self.model
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError("malformed response: no candidates[0].content.parts") from None
        if candidate.get("finishReason") not in (None, "STOP"):
            raise ProviderError(f"incomplete answer (finishReason {candidate['finishReason']})")
        return Review(self.service, str(model), parse_findings(content, code))


def post_json(url: str, body: Any, headers: dict[str, str], timeout: float) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 429:
            raise ProviderError("rate limited (HTTP 429)") from None
        raise ProviderError(f"HTTP {error.code}") from None
    except TimeoutError:
        raise ProviderError(f"timed out after {timeout:g} s") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise ProviderError(f"timed out after {timeout:g} s") from None
        raise ProviderError("unreachable") from None
    except OSError:
        raise ProviderError("connection failed") from None
    if len(raw) > MAX_ANSWER:
        raise ProviderError("answer too large")
    try:
        return json.loads(raw)
    except ValueError:
        raise ProviderError("malformed response: not JSON") from None


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_findings(content: Any, code: str) -> list[Finding]:
    """The model's JSON answer as findings; anything off the agreed shape is refused whole
    rather than passed on half-understood."""
    if not isinstance(content, str):
        raise ProviderError("malformed answer: content is not text")
    fenced = _FENCE.match(content)
    try:
        data = json.loads(fenced.group(1) if fenced else content)
    except ValueError:
        raise ProviderError("malformed answer: not JSON") from None
    items = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ProviderError('malformed answer: no "findings" list')
    lines = max(1, len(code.splitlines()))
    findings = []
    for item in items:
        if not isinstance(item, dict):
            raise ProviderError("malformed answer: a finding is not an object")
        kind, severity, line = item.get("type"), item.get("severity"), item.get("line_number")
        description, recommendation = item.get("description"), item.get("recommendation")
        if not (isinstance(kind, str) and kind and isinstance(description, str)):
            raise ProviderError("malformed answer: a finding lacks type or description")
        if not isinstance(severity, str) or severity.lower() not in SEVERITIES:
            raise ProviderError("malformed answer: unknown severity")
        if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= lines:
            raise ProviderError("malformed answer: line_number outside the contract")
        findings.append(
            Finding(
                kind[:80],
                severity.lower(),
                line,
                description[:2000],
                recommendation[:2000] if isinstance(recommendation, str) else "",
            )
        )
    return findings


def first_answer(
    providers: list[Provider], code: str, name: str, timeout: float
) -> tuple[Review | None, list[Attempt]]:
    """The review of the first provider that answers usably, and what each one tried did."""
    attempts = []
    for provider in providers:
        try:
            review = provider.review(code, name, timeout)
        except ProviderError as error:
            attempts.append(Attempt(provider.service, provider.model, error.reason))
            continue
        attempts.append(Attempt(provider.service, provider.model, "answered"))
        return review, attempts
    return None, attempts
