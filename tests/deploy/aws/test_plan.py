"""faasport deploy aws: what the plan decides (routes, names, commands) and the configuration
mistakes it refuses with one line naming the file and key."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import hcl2
import pytest
import yaml

from faasport.config import Project, load_project
from faasport.core.errors import ConfigError, FaasportError
from faasport.deploy.aws import model, naming, plan
from faasport.deploy.aws.yaml_text import dump
from faasport.deploy.hcl import Block, Call, Ref, render, template
from faasport.deploy.options import Options

TERRAFORM = Options(iac="terraform")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name "faasport.toml", relative to here


def project(tmp_path: Path, text: str) -> Project:
    (tmp_path / "faasport.toml").write_text(textwrap.dedent(text))
    return load_project(tmp_path)


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        plan(project(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    return message


# -- routes --------------------------------------------------------------------------------


def routes(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    return [(r.function.name, r.key) for r in model.build(project(tmp_path, text)).routes]


def test_a_catch_all_route_is_paired_with_the_root(tmp_path: Path) -> None:
    assert routes(tmp_path, '[functions.api]\napp = "a:b"\n') == [
        ("api", "ANY /{proxy+}"),
        ("api", "ANY /"),
    ]


def test_the_root_is_not_added_twice_nor_for_nested_catch_alls(tmp_path: Path) -> None:
    text = """
    [functions.api]
    app = "a:b"
    routes = ["GET /{proxy+}", "ANY /files/{path+}"]
    [functions.home]
    app = "c:d"
    routes = ["GET /"]
    """
    assert routes(tmp_path, text) == [
        ("api", "GET /{proxy+}"),
        ("api", "ANY /files/{path+}"),
        ("home", "GET /"),
    ]


def test_a_project_without_http_functions_has_no_api(tmp_path: Path) -> None:
    text = '[functions.worker]\nhandler = "a:b"\nevents = [{ schedule = "rate(1 hour)" }]\n'
    p = project(tmp_path, text)
    template_text = plan(p).files["template.yaml"]
    document = yaml.safe_load(template_text)
    assert "HttpApi" not in document["Resources"]
    assert list(document["Outputs"]) == ["AlarmTopicArn"]
    files = plan(p, TERRAFORM).files
    assert not any(name.startswith("modules/http_api") for name in files)
    assert "api_url" not in files["outputs.tf"]


# -- commands and options --------------------------------------------------------------------


def test_sam_plan_packages_then_deploys_the_stack(tmp_path: Path) -> None:
    result = plan(project(tmp_path, 'name = "shop"\nregion = "eu-west-1"\n'))
    assert list(result.files) == ["template.yaml"]
    assert result.commands == (
        ("faasport", "package", "--target", "aws", "--project", "../.."),
        (
            "sam",
            "deploy",
            "--template-file",
            "template.yaml",
            "--stack-name",
            "shop",
            "--region",
            "eu-west-1",
            "--resolve-s3",
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-fail-on-empty-changeset",
        ),
    )
    assert "aws-sam-cli" in result.install_hint


def test_terraform_plan_packages_then_applies(tmp_path: Path) -> None:
    result = plan(project(tmp_path, 'name = "shop"\n'), TERRAFORM)
    assert [command[0] for command in result.commands] == ["faasport", "terraform", "terraform"]
    assert result.commands[1:] == (
        ("terraform", "init", "-input=false"),
        ("terraform", "apply", "-input=false"),
    )
    assert {"versions.tf", "main.tf", "outputs.tf"} <= set(result.files)


# -- names -----------------------------------------------------------------------------------


def test_long_names_are_cut_with_a_stable_hash() -> None:
    long = naming.physical("p" * 40, "f" * 40, limit=64)
    assert len(long) == 64
    assert long == naming.physical("p" * 40, "f" * 40, limit=64)
    assert long != naming.physical("p" * 40, "f" * 39 + "g", limit=64)
    assert naming.physical("shop", "api", limit=64) == "shop-api"


def test_names_that_collide_as_resource_ids_are_refused(tmp_path: Path) -> None:
    text = """
    [queues.my-jobs]
    [queues.my_jobs]
    """
    with pytest.raises(FaasportError, match="both be named MyJobsQueue"):
        plan(project(tmp_path, text))
    with pytest.raises(FaasportError, match=r"both be named module\.queue_my_jobs"):
        plan(project(tmp_path, text), TERRAFORM)


# -- configuration AWS refuses -----------------------------------------------------------------

JWT = """
[auth.users]
issuer = "https://issuer.example.com/"
{audience}
[functions.api]
app = "a:b"
auth = "users"
"""


def test_rest_apis_refuse_jwt_auth(tmp_path: Path) -> None:
    text = '[api]\ntype = "rest"\n' + JWT.format(audience='audience = ["x"]')
    message = refused(tmp_path, text)
    assert message.startswith("faasport.toml: functions.api.auth: ")
    assert "REST APIs have no JWT authorizer" in message


def test_rest_apis_refuse_cors(tmp_path: Path) -> None:
    text = '[api]\ntype = "rest"\ncors = { origins = ["*"] }\n[functions.api]\napp = "a:b"\n'
    assert refused(tmp_path, text).startswith("faasport.toml: api.cors: ")


def test_jwt_authorizers_need_an_audience(tmp_path: Path) -> None:
    message = refused(tmp_path, JWT.format(audience=""))
    assert message == (
        "faasport.toml: auth.users.audience: API Gateway JWT authorizers need at least one audience"
    )


@pytest.mark.parametrize("secret", ["bad name", "ssm:no spaces/here", "ssm:"])
def test_secret_names_must_be_valid_aws_names(tmp_path: Path, secret: str) -> None:
    text = f'[functions.api]\napp = "a:b"\nsecrets = ["{secret}"]\n'
    assert refused(tmp_path, text).startswith("faasport.toml: functions.api.secrets: ")


def test_snapstart_needs_python_3_12_and_no_provisioned_concurrency(tmp_path: Path) -> None:
    function = '[functions.api]\napp = "a:b"\nsnapstart = true\n'
    assert refused(tmp_path, 'python = "3.11"\n' + function) == (
        "faasport.toml: functions.api.snapstart: Lambda SnapStart runs Python 3.12 and later, "
        'not python = "3.11"'
    )
    assert refused(tmp_path, function + "warm = 1\n") == (
        "faasport.toml: functions.api.snapstart: Lambda SnapStart cannot be combined with "
        "provisioned concurrency (warm = 1); set warm = 0 or snapstart = false"
    )
    for options in (Options(), TERRAFORM):
        plan(project(tmp_path, 'python = "3.13"\n' + function), options)


def test_snapstart_must_be_true_or_false(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        project(tmp_path, '[functions.api]\napp = "a:b"\nsnapstart = "yes"\n')
    assert str(info.value) == (
        'faasport.toml: functions.api.snapstart: must be true or false, got "yes"'
    )


def test_dynamodb_state_needs_a_table_name(tmp_path: Path) -> None:
    message = refused(tmp_path, '[state]\nurl = "dynamodb://"\n')
    assert message.startswith("faasport.toml: state.url: must be dynamodb://TABLE")


def test_a_queue_may_not_take_the_name_of_a_failure_queue(tmp_path: Path) -> None:
    text = """
    [queues.worker-failures]
    [functions.worker]
    handler = "a:b"
    events = [{ topic = "alerts" }]
    """
    assert refused(tmp_path, text).startswith("faasport.toml: queues.worker-failures: ")


def test_overlapping_bucket_notifications_are_refused(tmp_path: Path) -> None:
    text = """
    [functions.a]
    handler = "a:b"
    events = [{ bucket = "files-example", prefix = "in/" }]
    [functions.b]
    handler = "c:d"
    events = [{ bucket = "files-example", prefix = "in/csv/" }]
    """
    message = refused(tmp_path, text)
    assert message.startswith("faasport.toml: functions.b.events: ")
    assert "overlapping keys" in message


def test_distinct_bucket_filters_are_accepted(tmp_path: Path) -> None:
    text = """
    [functions.a]
    handler = "a:b"
    events = [
      { bucket = "files-example", prefix = "in/" },
      { bucket = "files-example", on = "removed" },
    ]
    [functions.b]
    handler = "c:d"
    events = [{ bucket = "files-example", prefix = "out/" }]
    """
    assert plan(project(tmp_path, text)).files["template.yaml"]


# -- writers ---------------------------------------------------------------------------------


def test_yaml_text_reads_back_as_the_same_data() -> None:
    tricky = [
        "yes", "No", "null", "on", "1.0", "0x1F", "2010-09-09", "$default", "a: b", "#x", "",
        "-x", "rate(5 minutes)", "arn:aws:s3:::b/in/*", "ünïcode", "two\nlines", "end:",
        "*", "&a", "!Ref", "@x", "%x", "`x`", "{x}", "[x]", "x,y", "'q'", '"dq"', " lead",
    ]  # fmt: skip
    data = {
        "strings": tricky,
        "numbers": [0, -1, 2.5, 200.0, 1e21, 1.5e-07],
        "flags": [True, False],
        "empty": {"list": [], "map": {}},
        "nested": [{"a": [{"b": 1}], "c": {"d": ["e"]}}, [1, [2]]],
        "Fn::GetAtt": ["X", "Arn"],
    }
    assert yaml.safe_load(dump(data)) == data


def test_hcl_templates_and_calls_parse_as_written() -> None:
    text = render(
        [
            Block(
                "locals",
                (),
                {
                    "arn": template("arn:", Ref("local.partition"), ":s3:::b/${literal}/*"),
                    "doc": Call("jsonencode", ({"Resource": [Ref("var.x"), "y"]},)),
                },
            )
        ]
    )
    (parsed,) = hcl2.loads(text)["locals"]
    assert parsed["arn"] == '"arn:${local.partition}:s3:::b/$${literal}/*"'
    assert parsed["doc"] == '${jsonencode({Resource = [var.x, "y"]})}'


def test_the_alarm_topic_name_is_reserved(tmp_path: Path) -> None:
    text = 'name = "shop"\n[functions.w]\nhandler = "a:b"\nevents = [{ topic = "alarms" }]\n'
    assert "shop-alarms, which receives the functions' alarms" in refused(tmp_path, text)


def test_a_secret_or_queue_listed_twice_is_granted_once(tmp_path: Path) -> None:
    from faasport.deploy.aws import policy

    text = """
    [queues.jobs]
    [functions.w]
    handler = "a:b"
    secrets = ["s", "s", "ssm:/p", "ssm:p"]
    events = [{ queue = "jobs" }, { queue = "jobs", batch = 5 }]
    """
    p = project(tmp_path, text)
    infrastructure = model.build(p)
    grants = {s.sid: s.resources for s in policy.statements(infrastructure, p.functions["w"])}
    assert grants["ReadSecrets"] == (policy.Pattern("secretsmanager", "secret:s-??????"),)
    assert grants["ReadParameters"] == (policy.Pattern("ssm", "parameter/p"),)
    assert grants["ConsumeQueues"] == (policy.Output("queue", "jobs"),)


def test_the_infrastructure_is_decided_once_and_frozen(tmp_path: Path) -> None:
    text = """
    name = "shop"
    [queues.jobs]
    [functions.w]
    handler = "a:b"
    events = [{ queue = "jobs" }, { schedule = "rate(1 hour)" }, { bucket = "shop-in" }]
    [functions.api]
    app = "a:app"
    """
    infrastructure = model.build(project(tmp_path, text))
    assert [queue.name for queue in infrastructure.queues] == [
        "shop-jobs",
        "shop-jobs-dlq",
        "shop-w-failures",
    ]
    assert [route.key for route in infrastructure.routes] == ["ANY /{proxy+}", "ANY /"]
    assert infrastructure.schedules == {"w": (("shop-w-schedule0", "rate(1 hour)"),), "api": ()}
    assert list(infrastructure.notifications) == ["shop-in"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        infrastructure.routes = ()  # type: ignore[misc]
