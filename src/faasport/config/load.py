"""Find and parse a project's configuration.

Lookup order: ``faasport.toml`` in the project root, then the ``[tool.faasport]`` table of
``pyproject.toml``. Both hold the same keys. The result is a frozen :class:`Project`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from faasport.config.access import (
    JWT_IDENTITY,
    check_access,
    parse_api_keys,
    parse_lambda_auth,
    parse_usage_plans,
)
from faasport.config.api import parse_api
from faasport.config.ci import parse_ci
from faasport.config.fields import Source, Table, describe
from faasport.config.functions import (
    check_on_failure,
    check_routes,
    check_sends,
    check_writes,
    parse_function,
)
from faasport.config.model import (
    DEFAULT_STATE_URL,
    Auth,
    DynamoTable,
    Function,
    JwtAuth,
    Project,
    Queue,
    State,
    Topic,
    TopicQueue,
    Traffic,
)
from faasport.config.proxy import parse_proxies
from faasport.config.stages import STAGES, apply_stage, stage_names
from faasport.core.errors import ConfigError

CONFIG_FILE = "faasport.toml"
PYPROJECT = "pyproject.toml"

_PROJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
_PYTHON = re.compile(r"3\.(1[1-9]|[2-9][0-9])")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}(\.fifo)?")
_AUTH_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_URL = re.compile(r"https?://\S+")
_STATE_URL = re.compile(r"(sqlite|redis|rediss|postgresql|dynamodb)://\S*")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display_path(path)}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{display_path(path)}: cannot read: {exc.strerror}") from None


def load_project(path: str | os.PathLike[str] = ".", *, stage: str | None = None) -> Project:
    """The configuration of the project at ``path`` (a directory, or a config file), with
    the overrides of ``[stages.STAGE]`` when ``stage`` is given."""
    given = Path(path)
    if given.is_file():
        root, candidates = given.parent, [given]
    else:
        root, candidates = given, [given / CONFIG_FILE, given / PYPROJECT]
    root = root.resolve()
    for candidate in candidates:
        if not candidate.is_file():
            continue
        data = _read_toml(candidate)
        if candidate.name != PYPROJECT:
            return parse_project(data, root=root, source=candidate.resolve(), stage=stage)
        tool = data.get("tool")
        section = tool.get("faasport") if isinstance(tool, dict) else None
        if isinstance(section, dict):
            return parse_project(
                section, root=root, source=candidate.resolve(), prefix="tool.faasport", stage=stage
            )
        if section is not None:
            where = display_path(candidate)
            raise ConfigError(f"{where}: tool.faasport: must be a table, got {describe(section)}")
    if not given.is_dir() and not given.is_file():
        raise ConfigError(f"{display_path(given)}: no such project directory")
    raise ConfigError(
        f"{display_path(given)}: no configuration found: looked for {CONFIG_FILE} and a "
        f"[tool.faasport] table in {PYPROJECT}; create {CONFIG_FILE} there"
    )


def parse_project(
    data: dict[str, Any],
    *,
    root: Path,
    source: Path,
    prefix: str = "",
    stage: str | None = None,
) -> Project:
    """Build the project from an already-read TOML table (``prefix`` is its key path), with
    stage ``stage``'s overrides merged in (see :mod:`faasport.config.stages`)."""
    display = display_path(source)
    reader = Source(display)
    stages = stage_names(data, reader, prefix)
    if stage is None:
        data = {key: value for key, value in data.items() if key != STAGES}
    else:
        data, reader = apply_stage(data, stage, display, prefix)
    top = Table(reader, prefix, data)
    try:
        project = _parse(top, root, source)
    except ConfigError:
        # A misspelled table ([queuess.jobs]) first shows as what it defines being missing
        # ("queue jobs is not defined"): the typo is the cause to report.
        top.misspelled(*top.known)
        raise
    if stage is None:
        return replace(project, stages=stages)
    # Every resource name starts with the project's name: the stage's are its own.
    return replace(project, name=f"{project.name}-{stage}", stage=stage, stages=stages)


def _parse(top: Table, root: Path, source: Path) -> Project:
    default_name = re.sub(r"[^A-Za-z0-9-]+", "-", root.name).strip("-") or "app"
    if not default_name[0].isalpha():
        default_name = "app-" + default_name
    name = top.string(
        "name",
        default_name[:64],
        pattern=_PROJECT_NAME,
        expected="a name of letters, digits and '-' starting with a letter (at most 64)",
    )
    python = top.string(
        "python", "3.12", pattern=_PYTHON, expected='a Python version from 3.11, like "3.12"'
    )
    region = top.string(
        "region", "us-east-1", pattern=_REGION, expected='a region like "us-east-1"'
    )
    queues = _queues(top)
    topics = _topics(top, queues)
    tables = _tables(top)
    auth = _auth(top)
    state = _state(top)
    api = parse_api(top)
    functions = {
        fn_name: parse_function(fn_name, table, queues=queues, auth=auth)
        for fn_name, table in top.tables("functions")
    }
    check_routes(top, functions)
    check_on_failure(top, functions, queues)
    check_sends(top, functions, topics, queues)
    check_writes(top, functions)
    _check_table_events(top, functions, tables)
    proxies = parse_proxies(top, functions, rest=api.type == "rest")
    api_keys = parse_api_keys(top)
    usage_plans = parse_usage_plans(top, api_keys)
    check_access(top, api, auth, functions, api_keys)
    exclude = top.strings("exclude", 'glob patterns like "docs/*" or "*.md"') or ()
    strip = top.boolean("strip", False)
    traffic = _traffic(top, functions)
    ci = parse_ci(top)
    top.has(STAGES)  # read before the parse: known, so that "[stage.prod]" gets a suggestion
    top.finish()
    return Project(
        root=root,
        source=source,
        name=name,
        python=python,
        python_given=top.has("python"),
        region=region,
        functions=MappingProxyType(functions),
        queues=MappingProxyType(queues),
        topics=MappingProxyType(topics),
        tables=MappingProxyType(tables),
        auth=MappingProxyType(auth),
        api_keys=MappingProxyType(api_keys),
        usage_plans=MappingProxyType(usage_plans),
        state=state,
        api=api,
        exclude=exclude,
        strip=strip,
        traffic=MappingProxyType(traffic),
        proxies=proxies,
        ci=ci,
    )


def _traffic(top: Table, functions: Mapping[str, Function]) -> dict[str, Traffic]:
    """``[traffic]``: ``api = 3_000_000`` (requests a month) or ``api = { requests = 3_000_000,
    duration_ms = 120 }``, one entry per function."""
    table = top.table("traffic")
    if table is None:
        return {}
    found: dict[str, Traffic] = {}
    for name in list(table.data):
        if name not in functions:
            defined = ", ".join(functions) or "none"
            table.fail(name, f"is not a function (the functions are: {defined})")
        entry = table.raw(name)
        if isinstance(entry, dict):
            inner = table.table(name)
            assert inner is not None
            requests = inner.integer("requests", -1, 0)
            if requests < 0:
                inner.fail("requests", "is required: the requests (or events) a month")
            duration = inner.number("duration_ms", 0.0) if inner.has("duration_ms") else None
            inner.finish()
            found[name] = Traffic(requests, duration)
        else:
            found[name] = Traffic(table.integer(name, 0, 0))
    table.finish()
    return found


def _queues(top: Table) -> dict[str, Queue]:
    """Every queue gets a dead-letter queue ``NAME-dlq`` unless it sets ``dlq`` (a name, or
    false for none) or is itself another queue's dead-letter queue."""
    queues: dict[str, Queue] = {}
    defaulted: list[str] = []
    for name, table in top.tables("queues"):
        if not _QUEUE_NAME.fullmatch(name):
            top.source.fail(
                table.path,
                "queue names are 1 to 75 letters, digits, '-' or '_', then '.fifo' for a FIFO "
                "queue",
            )
        fifo = name.endswith(".fifo")
        value = table.raw("dlq")
        dlq: str | None = None
        if value is True or not table.has("dlq"):
            defaulted.append(name)
        elif value is not False:
            dlq = table.string(
                "dlq",
                None,
                pattern=_QUEUE_NAME,
                expected="a queue name (letters, digits, '-', '_') or false",
            )
            if dlq is not None and dlq.endswith(".fifo") != fifo:
                kind = "FIFO" if fifo else "standard"
                table.fail(
                    "dlq", f'the dead-letter queue of a {kind} queue is {kind} too, got "{dlq}"'
                )
        content_dedup = table.boolean("content_dedup", False)
        if content_dedup and not fifo:
            table.fail("content_dedup", 'is for FIFO queues (named "NAME.fifo")')
        queues[name] = Queue(
            name=name,
            visibility_timeout=table.integer("visibility_timeout", 30, 0, 43200),
            max_receive=table.integer("max_receive", 3, 1, 1000),
            dlq=dlq,
            delay=table.integer("delay", 0, 0, 900),
            content_dedup=content_dedup,
        )
        table.finish()
    targets = {queue.dlq for queue in queues.values() if queue.dlq}
    targets |= {default_dlq(name) for name in defaulted}
    for name in defaulted:
        if name not in targets:
            queues[name] = replace(queues[name], dlq=default_dlq(name))
    return queues


def default_dlq(queue: str) -> str:
    """``NAME-dlq``; a FIFO queue's is FIFO too: ``NAME-dlq.fifo``."""
    if queue.endswith(".fifo"):
        return f"{queue.removesuffix('.fifo')}-dlq.fifo"
    return f"{queue}-dlq"


def _topics(top: Table, queues: dict[str, Queue]) -> dict[str, Topic]:
    from faasport.config.functions import json_table

    topics: dict[str, Topic] = {}
    for name, table in top.tables("topics"):
        if not _QUEUE_NAME.fullmatch(name):
            top.source.fail(table.path, "topic names are letters, digits, '-' or '_'")

        def subscription(value: Any, key: str) -> TopicQueue:
            if not isinstance(value, dict):
                top.source.fail(
                    key, f'must be a table like {{ queue = "jobs" }}, got {describe(value)}'
                )
            sub = Table(top.source, key, value)
            queue = sub.string("queue", "", expected="a queue name")
            if queue not in queues:
                defined = ", ".join(queues) or "none"
                sub.fail("queue", f'queue "{queue}" is not defined (defined: {defined})')
            subscribed = TopicQueue(
                queue=queue, raw=sub.boolean("raw", False), filter=json_table(sub, "filter")
            )
            sub.finish()
            return subscribed

        subscribed = table.array("queues", subscription, "subscription tables") or []
        topics[name] = Topic(name=name, queues=tuple(subscribed))
        table.finish()
    return topics


_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_KEY_TYPE = re.compile("S|N|B")
_VIEW = re.compile("KEYS_ONLY|NEW_IMAGE|OLD_IMAGE|NEW_AND_OLD_IMAGES")


def _tables(top: Table) -> dict[str, DynamoTable]:
    """``[tables.NAME]``: ``key = "id"`` (and ``key_type``, ``sort_key``, ``sort_type``,
    ``stream``, the stream view type)."""
    tables: dict[str, DynamoTable] = {}
    for name, table in top.tables("tables"):
        if not _TABLE_NAME.fullmatch(name):
            top.source.fail(table.path, "table names are 3 to 255 letters, digits, '_', '-' or '.'")
        expected_type = '"S" (string), "N" (number) or "B" (binary)'
        key = table.string("key", None, expected="the partition key's attribute name")
        if not key:
            table.fail("key", 'is required: the partition key\'s attribute name, like "id"')
        tables[name] = DynamoTable(
            name=name,
            key=key,
            key_type=table.string("key_type", "S", pattern=_KEY_TYPE, expected=expected_type),  # type: ignore[arg-type]
            sort_key=table.string("sort_key", None, expected="the sort key's attribute name"),
            sort_type=table.string("sort_type", "S", pattern=_KEY_TYPE, expected=expected_type),  # type: ignore[arg-type]
            stream=table.string(  # type: ignore[arg-type]
                "stream",
                "NEW_AND_OLD_IMAGES",
                pattern=_VIEW,
                expected="KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES",
            ),
        )
        table.finish()
    return tables


def _check_table_events(
    top: Table, functions: Mapping[str, Function], tables: Mapping[str, DynamoTable]
) -> None:
    for function in functions.values():
        for event in function.streams:
            if event.source == "dynamodb" and event.stream not in tables:
                defined = ", ".join(tables) or "none"
                top.source.fail(
                    f"functions.{function.name}.events",
                    f'table "{event.stream}" is not defined (defined: {defined}); '
                    f"add [tables.{event.stream}] with its key",
                )


def _auth(top: Table) -> dict[str, Auth]:
    entries: dict[str, Auth] = {}
    for name, table in top.tables("auth"):
        if not _AUTH_NAME.fullmatch(name) or name == "none":
            top.source.fail(table.path, "auth names are letters, digits, '-' or '_', not 'none'")
        kind = table.string(
            "type", "jwt", pattern=re.compile("jwt|lambda"), expected='"jwt" or "lambda"'
        )
        if kind == "lambda":
            entries[name] = parse_lambda_auth(name, table)
            continue
        issuer = table.string("issuer", None, pattern=_URL, expected="an http(s) URL")
        if issuer is None:
            table.misspelled("issuer")
            table.fail("issuer", "is required: the token issuer URL (the JWT 'iss' claim)")
        audience_value = table.raw("audience")
        if isinstance(audience_value, str):
            audience: tuple[str, ...] | None = (audience_value,)
        else:
            audience = table.strings("audience")
        jwks = table.string("jwks", None, expected="a file path or an https URL")
        if jwks == "":
            table.fail("jwks", "must be a file path or an https URL, got an empty string")
        identity = table.string(
            "identity",
            JwtAuth.identity,
            pattern=JWT_IDENTITY,
            expected='"$request.header.NAME" or "$request.querystring.NAME"',
        )
        entries[name] = JwtAuth(
            name=name, issuer=issuer, audience=audience or (), jwks=jwks, identity=identity
        )
        table.finish()
    return entries


def _state(top: Table) -> State:
    table = top.table("state")
    if table is None:
        return State()
    url = table.string(
        "url",
        DEFAULT_STATE_URL,
        pattern=_STATE_URL,
        expected="a URL starting sqlite://, redis://, rediss://, postgresql:// or dynamodb://",
    )
    table.finish()
    return State(url=url)
