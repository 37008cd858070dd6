"""phoney's HTTP API: ``POST /template`` fills a template with fake data, ``GET /generators``
lists what a template can name. The gateway checks the JWT before a request gets here."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterator
from random import Random
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from faasport import gateway, metrics
from faasport.core import jsonlog
from phoney.formats import MEDIA_TYPES, chunks
from phoney.generators import GENERATORS
from phoney.locale_data import UnknownLocaleError, locale_data
from phoney.settings import settings
from phoney.template import Template, TemplateError, compile_template

log = jsonlog.configure(logging.getLogger("phoney"))
app = FastAPI(title="phoney")
# Faker reads a locale's providers in about a second: once per environment, when the app is
# imported, rather than inside the first request's generation time.
locale_data(settings().default_locale)


class TemplateRequest(BaseModel):
    template: dict[str, Any]
    count: int = Field(1, ge=0)
    locale: str | None = None
    seed: int | None = None
    format: Literal["json", "ndjson", "csv"] = "json"


@app.get("/generators")
async def list_generators() -> dict[str, Any]:
    return {
        "generators": [
            {"name": g.name, "description": g.description, "example": g.example}
            for g in GENERATORS.values()
        ]
    }


@app.post("/template", response_model=None)
@app.post("/stream/template", response_model=None)
async def fill_template(request: Request) -> Response:
    # Parsed here rather than by FastAPI so that a body sent without a JSON content type
    # (curl -d) is read as JSON too.
    try:
        body = TemplateRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False, include_input=False))
        return JSONResponse({"detail": errors}, status_code=422)
    config = settings()
    streamed = config.streaming and body.format != "json"
    limit = config.max_stream_count if streamed else config.max_count
    if body.count > limit:
        hint = "" if streamed else '; larger counts stream: format "ndjson" or "csv", streamed'
        return _error(422, f"count {body.count} is over the limit of {limit} records{hint}")
    locale = body.locale or config.default_locale
    try:
        template = compile_template(
            body.template, locale_data(locale), max_fields=config.max_fields
        )
    except UnknownLocaleError as exc:
        return _error(422, f'unknown locale "{exc.locale}"', suggestions=exc.suggestions)
    except TemplateError as exc:
        return JSONResponse({"detail": exc.detail}, status_code=422)
    seed = body.seed if body.seed is not None else secrets.randbits(64)
    subject = _subject(request)
    generated = _generate(template, seed, body.count, body.format)
    headers = {"phoney-seed": str(seed)}
    media_type = MEDIA_TYPES[body.format]
    if streamed:
        return StreamingResponse(
            _measured(generated, body.count, body.format, subject),
            media_type=media_type,
            headers=headers,
        )
    started = time.perf_counter()
    parts: list[bytes] = []
    size = 0
    for part in generated:
        size += len(part)
        if size > config.max_response_bytes:
            log.warning("refused %d records as %s: over %d bytes", body.count, body.format, size)
            return _too_large(config.max_response_bytes)
        parts.append(part)
    _record(body.count, body.format, started, subject)
    return Response(b"".join(parts), media_type=media_type, headers=headers)


def _generate(template: Template, seed: int, count: int, fmt: str) -> Iterator[bytes]:
    # One Random per request, seeded: the same seed gives the same records in every format.
    return chunks(fmt, template.records(Random(seed), count), template.fields)


def _measured(generated: Iterator[bytes], count: int, fmt: str, subject: str) -> Iterator[bytes]:
    started = time.perf_counter()
    yield from generated
    _record(count, fmt, started, subject)


def _record(count: int, fmt: str, started: float, subject: str) -> None:
    elapsed = (time.perf_counter() - started) * 1000
    metrics.count("RecordsGenerated", count, format=fmt)
    metrics.timing("GenerationTime", elapsed, format=fmt)
    log.info("generated %d records as %s in %.1f ms for %s", count, fmt, elapsed, subject)


def _subject(request: Request) -> str:
    found = gateway.authorizer(dict(request.scope)) or {}
    claims = found.get("jwt", {}).get("claims", {})
    return str(claims.get("sub", "anonymous"))


def _too_large(limit: int) -> Response:
    return _error(
        413,
        f"the response is over {limit} bytes, Lambda's limit for a buffered response: ask for "
        'fewer records, or for format "ndjson" or "csv" from the streaming function '
        "(POST /stream/template), which streams any size",
        limit=limit,
    )


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": {"message": message, **extra}}, status_code=status)
