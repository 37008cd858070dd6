"""faasport.toml / [tool.faasport]: parsed once into frozen objects; every mistake is one
line naming the file, the key and what was expected."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from config_text import config_error, load_config, write_config
from faasport.config import (
    Api,
    BucketEvent,
    Cors,
    QueueEvent,
    ScheduleEvent,
    Throttle,
    TopicEvent,
    load_project,
)
from faasport.core.errors import ConfigError

FULL = """
name = "phoney"
python = "3.12"
region = "eu-west-1"

[functions.api]
app = "phoney.main:app"
memory = 1024
architecture = "arm64"
timeout = 20
concurrency = 5
warm = 1
health = "/health"
routes = ["ANY /{proxy+}", "GET /items/{id}"]
auth = "jwt"
throttle = { rate = 2000, burst = 5000 }
environment = { LOG_LEVEL = "INFO" }
secrets = ["phoney/prod/jwt"]

[functions.worker]
handler = "phoney.jobs:handle"
events = [
  { queue = "jobs", batch = 5 },
  { schedule = "rate(5 minutes)" },
  { schedule = "cron(0 12 * * ? *)" },
  { bucket = "uploads", on = "created", prefix = "in/" },
  { topic = "alerts" },
]

[queues.jobs]
visibility_timeout = 60
max_receive = 3
dlq = "jobs-dlq"

[auth.jwt]
issuer = "https://issuer.example.com/"
audience = ["phoney"]
jwks = "keys/jwks.json"

[state]
url = "redis://localhost:6379/0"
"""

MINIMAL_API = """
[functions.api]
app = "phoney.main:app"
"""

WORKER = '[queues.jobs]\n[functions.w]\nhandler = "a:b"\n'


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages show the file relative to the working directory: "faasport.toml: ...".
    monkeypatch.chdir(tmp_path)


# -- good configurations ---------------------------------------------------------------------


def test_full_config_round_trip(tmp_path: Path) -> None:
    project = load_config(tmp_path, FULL)
    assert (project.name, project.python, project.region) == ("phoney", "3.12", "eu-west-1")
    assert project.root == tmp_path.resolve()
    assert project.source == (tmp_path / "faasport.toml").resolve()
    assert project.state.url == "redis://localhost:6379/0"

    api = project.functions["api"]
    assert (api.app, api.handler, api.target) == ("phoney.main:app", None, "phoney.main:app")
    assert (api.memory, api.timeout, api.concurrency, api.warm) == (1024, 20, 5, 1)
    assert api.architecture == "arm64"
    assert project.functions["worker"].architecture == "x86_64"
    assert api.health == "/health"
    assert [route.key for route in api.routes] == ["ANY /{proxy+}", "GET /items/{id}"]
    assert api.auth == "jwt"
    assert api.throttle == Throttle(rate=2000.0, burst=5000)
    assert dict(api.environment) == {"LOG_LEVEL": "INFO"}
    assert api.secrets == ("phoney/prod/jwt",)

    worker = project.functions["worker"]
    assert worker.target == "phoney.jobs:handle"
    assert worker.routes == ()
    assert worker.events == (
        QueueEvent(queue="jobs", batch=5),
        ScheduleEvent(schedule="rate(5 minutes)"),
        ScheduleEvent(schedule="cron(0 12 * * ? *)"),
        BucketEvent(bucket="uploads", on="created", prefix="in/"),
        TopicEvent(topic="alerts"),
    )
    jobs = project.queues["jobs"]
    assert (jobs.visibility_timeout, jobs.max_receive, jobs.dlq) == (60, 3, "jobs-dlq")
    jwt = project.auth["jwt"]
    assert (jwt.issuer, jwt.audience, jwt.jwks, jwt.identity) == (
        "https://issuer.example.com/",
        ("phoney",),
        "keys/jwks.json",
        "$request.header.Authorization",
    )


def test_every_key_has_a_default(tmp_path: Path) -> None:
    project = load_config(tmp_path, MINIMAL_API)
    assert project.name == tmp_path.name.replace("_", "-")  # the directory name
    assert (project.python, project.region) == ("3.12", "us-east-1")
    assert project.state.url == "sqlite:///.faasport/state.db"
    api = project.functions["api"]
    assert (api.memory, api.timeout, api.concurrency, api.warm) == (512, 30, 10, 0)
    assert [route.key for route in api.routes] == ["ANY /{proxy+}"]
    assert (api.health, api.auth, api.throttle) == (None, "none", None)
    assert (dict(api.environment), api.secrets, api.events) == ({}, (), ())


def test_parsed_config_is_frozen(tmp_path: Path) -> None:
    project = load_config(tmp_path, MINIMAL_API)
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.functions["api"].memory = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        project.functions["other"] = project.functions["api"]  # type: ignore[index]


def test_pyproject_tool_table_is_the_fallback(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
        [project]
        name = "phoney"

        [tool.faasport]
        name = "from-pyproject"

        [tool.faasport.functions.api]
        app = "phoney.main:app"
        memory = 256
        """,
        name="pyproject.toml",
    )
    project = load_project(tmp_path)
    assert project.name == "from-pyproject"
    assert project.source.name == "pyproject.toml"
    assert project.functions["api"].memory == 256


def test_faasport_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write_config(tmp_path, '[tool.faasport]\nname = "from-pyproject"\n', name="pyproject.toml")
    write_config(tmp_path, 'name = "from-faasport-toml"\n')
    assert load_project(tmp_path).name == "from-faasport-toml"


def test_errors_in_pyproject_name_the_tool_key_path(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        '[tool.faasport.functions.api]\napp = "a:b"\nmemory = 1\n',
        name="pyproject.toml",
    )
    assert message.startswith("pyproject.toml: tool.faasport.functions.api.memory: ")


def test_no_configuration_says_which_files_were_looked_for(tmp_path: Path) -> None:
    write_config(tmp_path, '[project]\nname = "x"\n', name="pyproject.toml")
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    message = str(info.value)
    assert "faasport.toml" in message and "[tool.faasport]" in message
    assert "pyproject.toml" in message and "\n" not in message


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "name = \n")
    assert message.startswith("faasport.toml: invalid TOML: ")


# -- one test per kind of mistake ---------------------------------------------------------


def test_the_message_format(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL_API + "memory = 99999\n")
    assert message == (
        "faasport.toml: functions.api.memory: must be an integer from 128 to 10240, got 99999"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'nmae = "phoney"\n')
    assert message == 'faasport.toml: nmae: unknown key; did you mean "name"?'


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (MINIMAL_API + "memroy = 512\n", "functions.api.memroy"),
        (MINIMAL_API + "throttle = { rate = 1, brust = 2 }\n", "functions.api.throttle.brust"),
        ("[queues.jobs]\nvisibility = 30\n", "queues.jobs.visibility"),
        (
            WORKER + 'events = [{ queue = "jobs", size = 1 }]\n',
            "functions.w.events[0].size",
        ),
        ('[state]\nuri = "sqlite://"\n', "state.uri"),
    ],
)
def test_unknown_nested_key(tmp_path: Path, text: str, key: str) -> None:
    message = config_error(tmp_path, text)
    assert message.startswith(f"faasport.toml: {key}: unknown key; ")


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (MINIMAL_API + 'memory = "512"\n', "functions.api.memory", 'got "512"'),
        (MINIMAL_API + "memory = true\n", "functions.api.memory", "got true"),
        (MINIMAL_API + "timeout = 1.5\n", "functions.api.timeout", "got 1.5"),
        (MINIMAL_API + 'routes = "GET /"\n', "functions.api.routes", "must be an array"),
        (
            MINIMAL_API + "environment = { PORT = 8080 }\n",
            "functions.api.environment.PORT",
            'must be a string, got 8080 (quote it: "8080")',
        ),
        ('functions = "api"\n', "functions", "must be a table"),
        ("region = 1\n", "region", 'must be a region like "us-east-1", got 1'),
    ],
)
def test_wrong_type(tmp_path: Path, text: str, key: str, expected: str) -> None:
    message = config_error(tmp_path, text)
    assert message.startswith(f"faasport.toml: {key}: ")
    assert expected in message


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("memory = 127", "memory", "must be an integer from 128 to 10240, got 127"),
        ("timeout = 901", "timeout", "must be an integer from 1 to 900, got 901"),
        ("timeout = 0", "timeout", "must be an integer from 1 to 900, got 0"),
        ("concurrency = 0", "concurrency", "must be an integer of at least 1, got 0"),
        ("warm = -1", "warm", "must be an integer of at least 0, got -1"),
        ('architecture = "arm"', "architecture", 'must be "x86_64" or "arm64", got "arm"'),
    ],
)
def test_value_out_of_range(tmp_path: Path, line: str, key: str, expected: str) -> None:
    message = config_error(tmp_path, MINIMAL_API + line + "\n")
    assert message == f"faasport.toml: functions.api.{key}: {expected}"


def test_warm_above_concurrency(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL_API + "concurrency = 2\nwarm = 3\n")
    assert message == "faasport.toml: functions.api.warm: must be at most concurrency (2), got 3"


def test_queue_referenced_but_not_defined(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        """
        [queues.jobs]

        [functions.worker]
        handler = "phoney.jobs:handle"
        events = [{ schedule = "rate(1 hour)" }, { queue = "mail" }]
        """,
    )
    assert message.startswith("faasport.toml: functions.worker.events[1].queue: ")
    assert 'queue "mail" is not defined' in message and "[queues.mail]" in message


@pytest.mark.parametrize("target", ["nowhere", "worker"])
def test_on_failure_names_another_function_or_a_queue(tmp_path: Path, target: str) -> None:
    message = config_error(
        tmp_path,
        f"""
        [queues.jobs]

        [functions.sink]
        handler = "phoney.jobs:handle"

        [functions.worker]
        handler = "phoney.jobs:handle"
        on_failure = "{target}"
        """,
    )
    assert message == (
        f'faasport.toml: functions.worker.on_failure: "{target}" is neither another function '
        "nor a queue (defined: jobs, sink)"
    )


def test_on_failure_destinations_are_kept(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(
        textwrap.dedent(
            """
            name = "x"
            [queues.dead]
            [functions.sink]
            handler = "a:b"
            [functions.worker]
            handler = "a:b"
            on_failure = "sink"
            [functions.other]
            handler = "a:b"
            on_failure = "dead"
            """
        )
    )
    functions = load_project(tmp_path).functions
    assert (functions["worker"].on_failure, functions["other"].on_failure) == ("sink", "dead")
    assert functions["sink"].on_failure is None


def test_queue_visibility_timeout_must_cover_the_function_timeout(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        """
        [queues.jobs]
        visibility_timeout = 30

        [functions.worker]
        handler = "phoney.jobs:handle"
        timeout = 60
        events = [{ queue = "jobs" }]
        """,
    )
    assert message.startswith("faasport.toml: functions.worker.events[0].queue: ")
    assert "visibility_timeout 30" in message and "timeout 60" in message


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ('[{ queue = "jobs", topic = "t" }]', "exactly one of queue, schedule, bucket, topic"),
        ("[{ batch = 10 }]", "got none"),
        ('["jobs"]', "must be a table"),
        ('[{ schedule = "rate(1 minutes)" }]', "singular unit"),
        ('[{ schedule = "rate(5 minute)" }]', "plural unit"),
        ('[{ schedule = "cron(0 12 * * *)" }]', "6 fields"),
        ('[{ schedule = "cron(0 12 * * 1 *)" }]', "'?'"),
        ('[{ schedule = "every 5 minutes" }]', "rate(N unit)"),
        ('[{ bucket = "Uploads" }]', "S3 bucket name"),
        ('[{ bucket = "uploads", on = "changed" }]', '"created" or "removed"'),
    ],
)
def test_bad_event_source(tmp_path: Path, events: str, expected: str) -> None:
    message = config_error(tmp_path, f"{WORKER}events = {events}\n")
    assert message.startswith("faasport.toml: functions.w.events[0")
    assert expected in message


def test_route_clash_names_both_functions(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        """
        [functions.api]
        app = "phoney.main:app"
        routes = ["GET /items/{id}"]

        [functions.admin]
        app = "phoney.admin:app"
        routes = ["POST /items/{id}", "GET /items/{key}"]
        """,
    )
    assert message.startswith("faasport.toml: functions.admin.routes[1]: ")
    assert 'function "admin"' in message and 'function "api"' in message


def test_same_route_twice_in_one_function(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL_API + 'routes = ["GET /a", "GET /a"]\n')
    assert message.startswith("faasport.toml: functions.api.routes[1]: ")
    assert "listed twice" in message


def test_a_method_and_any_on_one_path_do_not_clash(tmp_path: Path) -> None:
    project = load_config(tmp_path, MINIMAL_API + 'routes = ["GET /a", "ANY /a", "GET /{p+}"]\n')
    assert len(project.functions["api"].routes) == 3


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("get /items", "method must be one of GET, POST"),
        ("FETCH /items", "method must be one of"),
        ("GET items", "starting with '/'"),
        ("GET", "starting with '/'"),
        ("GET /a//b", "empty segment"),
        ("GET /a/", "empty segment"),
        ("GET /{proxy+}/more", "must be the last segment"),
        ("GET /items/{id}.json", "whole {name} parameter"),
        ("GET /a/{id}/b/{id}", "appears twice"),
        ("GET /a b", "not allowed"),
    ],
)
def test_bad_route_syntax(tmp_path: Path, route: str, expected: str) -> None:
    message = config_error(tmp_path, MINIMAL_API + f'routes = ["GET /ok", "{route}"]\n')
    assert message.startswith("faasport.toml: functions.api.routes[1]: bad route ")
    assert expected in message


def test_app_or_handler_is_required(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[functions.api]\nmemory = 256\n")
    assert message.startswith("faasport.toml: functions.api: set app (an ASGI/WSGI app)")
    assert message.endswith("got neither")


def test_app_and_handler_split_http_and_events(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(
        '[functions.api]\napp = "a:app"\nhandler = "a:handle"\nevents = [{ queue = "jobs" }]\n'
        "[queues.jobs]\n"
    )
    function = load_project(tmp_path).functions["api"]
    assert (function.app, function.handler, function.target) == ("a:app", "a:handle", "a:app")
    assert [getattr(event, "queue", None) for event in function.events] == ["jobs"]


def test_app_with_events_needs_a_handler(tmp_path: Path) -> None:
    message = config_error(
        tmp_path, '[functions.api]\napp = "a:app"\nevents = [{ queue = "jobs" }]\n[queues.jobs]\n'
    )
    assert message.startswith("faasport.toml: functions.api.events: an HTTP function (app) needs")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[functions.api]\napp = "phoney.main"\n', "functions.api.app"),
        ('[functions.my-api]\napp = "a:b"\n', "functions.my-api"),
        ('[functions."my.api"]\napp = "a:b"\n', 'functions."my.api"'),
        (MINIMAL_API + 'auth = "jwt"\n', "functions.api.auth"),
        (MINIMAL_API + 'health = "health"\n', "functions.api.health"),
        ('[auth.jwt]\naudience = ["x"]\n', "auth.jwt.issuer"),
        (
            '[auth.jwt]\nissuer = "https://i.example/"\nidentity = "$request.cookie.t"\n',
            "auth.jwt.identity",
        ),
        ('[state]\nurl = "mysql://db"\n', "state.url"),
        ('python = "3.8"\n', "python"),
        ('name = "my app"\n', "name"),
    ],
)
def test_other_bad_values_name_their_key(tmp_path: Path, text: str, key: str) -> None:
    assert config_error(tmp_path, text).startswith(f"faasport.toml: {key}: ")


# -- [api] -------------------------------------------------------------------------------------


def test_api_defaults_to_an_http_api_without_cors(tmp_path: Path) -> None:
    assert load_config(tmp_path, MINIMAL_API).api == Api(type="http", cors=None)


def test_api_type_and_cors(tmp_path: Path) -> None:
    text = """
    [api]
    type = "rest"
    cors = { origins = ["https://app.example.com", "*"], methods = ["GET"], max_age = 600 }
    """
    assert load_config(tmp_path, text).api == Api(
        type="rest",
        cors=Cors(
            origins=("https://app.example.com", "*"),
            methods=("GET",),
            headers=("*",),
            max_age=600,
        ),
    )


@pytest.mark.parametrize(
    ("cors", "key", "expected"),
    [
        ("{}", "api.cors.origins", "must list the allowed origins"),
        ('{ origins = ["https://a.example.com/app"] }', "api.cors.origins[0]", "without a path"),
        ('{ origins = ["*"], methods = ["ANY"] }', "api.cors.methods[0]", "GET, POST"),
        ('{ origins = ["*"], headers = ["a b"] }', "api.cors.headers[0]", "a header name"),
        ('{ origins = ["*"], max_age = -1 }', "api.cors.max_age", "from 0 to 86400"),
        ('{ origins = ["*"], credentials = true }', "api.cors.credentials", "unknown key"),
    ],
)
def test_bad_cors_names_its_key(tmp_path: Path, cors: str, key: str, expected: str) -> None:
    message = config_error(tmp_path, f"[api]\ncors = {cors}\n")
    assert message.startswith(f"faasport.toml: {key}: ")
    assert expected in message


def test_bad_api_type(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[api]\ntype = "websocket"\n')
    assert message == 'faasport.toml: api.type: must be "http" or "rest", got "websocket"'
