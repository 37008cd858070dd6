"""The HTTP API: ``POST /analyze``."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract_analyzer import service
from contract_analyzer.settings import Settings

logging.basicConfig(level=logging.INFO)
app = FastAPI(title="contract-analyzer")

#: Longest request body read, whatever the contract limit: JSON escapes can double it.
MAX_BODY = 4 * 1024 * 1024


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contract_code: str = Field(min_length=1)
    contract_name: str = Field(min_length=1, max_length=200)
    analysis_type: Literal["security"] = "security"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environment()


def _problem(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


@app.post("/analyze")
async def analyze(request: Request) -> JSONResponse:
    limit = settings().max_code_bytes
    body = await request.body()
    if len(body) > MAX_BODY:
        return _problem(413, f"request body over {MAX_BODY} bytes")
    try:
        parsed = AnalyzeRequest.model_validate_json(body)
    except ValidationError as error:
        details = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]
        return _problem(422, "invalid request", detail=details)
    if not parsed.contract_code.strip():
        detail = [{"loc": ["contract_code"], "msg": "is blank", "type": "value_error"}]
        return _problem(422, "invalid request", detail=detail)
    size = len(parsed.contract_code.encode())
    if size > limit:
        return _problem(413, f"contract_code is {size} bytes; the limit is {limit}")
    report = await run_in_threadpool(
        service.analyze,
        parsed.contract_code,
        parsed.contract_name,
        parsed.analysis_type,
        settings(),
        request_id=_request_id(request),
    )
    return JSONResponse(report)


def _request_id(request: Request) -> str | None:
    """The invocation's request id when the function runs on Lambda, so the answer and the
    logs name the same one."""
    context = request.scope.get("aws.context")
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) else None
