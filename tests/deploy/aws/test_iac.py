"""faasport deploy aws: the generated SAM template and Terraform, checked by the real tools
(cfn-lint, checkov, python-hcl2) for the example project, a configuration using every key
and a REST API project; and the two describe the same infrastructure."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.aws.skip_reasons import REASONS
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import (
    blocks,
    parse_tf,
    run_checkov,
    same_output_in_two_processes,
    unquote,
    write_files,
)
from projects import AWS_EVENTS, AWS_EVERY_KEY, AWS_REST, PHONEY, project_dir

CONFIGS = {"every-key": AWS_EVERY_KEY, "rest": AWS_REST, "events": AWS_EVENTS}
PROJECTS = ("phoney", "every-key", "rest", "events")
REGIONS = {
    "phoney": "us-east-1",
    "every-key": "eu-west-1",
    "rest": "us-east-1",
    "events": "us-east-1",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Mapping[str, Plan]]:
    """Per project, the SAM and Terraform plans; written under one folder for the scanners."""
    tmp = tmp_path_factory.mktemp("projects")
    plans = {}
    for name in PROJECTS:
        project = load_project(project_dir(name, CONFIGS, tmp))
        plans[name] = {iac: plan(project, Options(iac=iac)) for iac in ("sam", "terraform")}
    return plans


@pytest.fixture(scope="module")
def scanned_dir(
    generated: Mapping[str, Mapping[str, Plan]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("iac")
    for name, plans in generated.items():
        for iac, plan_ in plans.items():
            write_files(plan_.files, out / name / iac)
    return out


@pytest.fixture(scope="module")
def checkov_reports(scanned_dir: Path) -> dict[str, Any]:
    """One offline checkov run over every generated template and configuration."""
    reports = run_checkov(scanned_dir, "--framework", "cloudformation", "terraform")
    by_type = {report["check_type"]: report for report in reports}
    print({k: r["summary"] for k, r in by_type.items()})
    return by_type


# -- cfn-lint ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROJECTS)
def test_sam_template_passes_cfn_lint_without_errors_warnings_or_notes(
    generated: Mapping[str, Mapping[str, Plan]], name: str
) -> None:
    template = generated[name]["sam"].files["template.yaml"]
    matches = lint(template, config=ManualArgs(regions=["eu-west-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_cfn_lint_does_catch_a_broken_template(
    generated: Mapping[str, Mapping[str, Plan]],
) -> None:
    template = generated["every-key"]["sam"].files["template.yaml"]
    broken = template.replace("MemorySize: 1024", "MemorySize: 99999", 1)
    assert broken != template
    assert any("E3034" in str(match) for match in lint(broken))


# -- checkov -----------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", ["cloudformation", "terraform"])
def test_checkov_finds_no_failed_check(
    checkov_reports: dict[str, Any], framework: str, generated: Mapping[str, Any]
) -> None:
    report = checkov_reports[framework]
    summary = report["summary"]
    failed = [
        (check["check_id"], check["resource"], check["check_name"])
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 50
    files = {check["file_path"] for check in report["results"]["passed_checks"]}
    for name in PROJECTS:  # every project was scanned, not only some
        assert any(path.startswith(f"/{name}/") for path in files), name


def test_every_skipped_check_carries_its_reason(checkov_reports: dict[str, Any]) -> None:
    skipped = [
        check
        for report in checkov_reports.values()
        for check in report["results"]["skipped_checks"]
    ]
    assert skipped
    for check in skipped:
        assert check["check_result"]["suppress_comment"] == REASONS[check["check_id"]], check[
            "check_id"
        ]


# -- Terraform -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROJECTS)
def test_terraform_modules_are_wired(
    generated: Mapping[str, Mapping[str, Plan]], name: str
) -> None:
    files = generated[name]["terraform"].files
    root = parse_tf(files, "")
    calls = blocks(root, "module")
    assert calls
    root_text = "\n".join(text for path, text in files.items() if "/" not in path)
    for call, inputs in calls.items():
        folder = inputs["source"].removeprefix("./")
        module = parse_tf(files, folder)
        declared = set(blocks(module, "variable"))
        given = set(inputs) - {"source"}
        assert given == declared, (call, given ^ declared)
        outputs = set(blocks(module, "output"))
        used = set(re.findall(rf"module\.{call}\.(\w+)", root_text))
        assert used <= outputs, (call, used - outputs)
        module_text = "\n".join(t for p, t in files.items() if p.startswith(folder + "/"))
        assert set(re.findall(r"\bvar\.(\w+)", module_text)) <= declared, folder
    referenced = set(re.findall(r"\bmodule\.(\w+)\.", root_text))
    assert referenced <= set(calls)


def test_terraform_points_at_the_package_with_its_hash(
    generated: Mapping[str, Mapping[str, Plan]],
) -> None:
    root = parse_tf(generated["phoney"]["terraform"].files, "")
    (locals_,) = root["locals"]
    assert locals_["package"] == "${path.root}/../../dist/aws/phoney.zip"
    assert locals_["package_hash"] == "${filebase64sha256(local.package)}"
    api = blocks(root, "module")["function_api"]
    assert api["filename"] == "${local.package}"
    assert api["source_code_hash"] == "${local.package_hash}"


# -- SAM and Terraform agree -------------------------------------------------------------------


def _sam_summary(template: str, region: str) -> dict[str, Any]:
    resources = yaml.safe_load(template)["Resources"]

    def of(kind: str) -> dict[str, Any]:
        return {k: v["Properties"] for k, v in resources.items() if v["Type"] == kind}

    queue_names = {k: p["QueueName"] for k, p in of("AWS::SQS::Queue").items()}
    functions = {}
    for props in of("AWS::Serverless::Function").values():
        role = resources[props["Role"]["Fn::GetAtt"][0]]["Properties"]
        events = props.get("Events", {}).values()
        functions[props["FunctionName"]] = {
            "handler": props["Handler"],
            "runtime": props["Runtime"],
            "memory": props["MemorySize"],
            "timeout": props["Timeout"],
            "architecture": props["Architectures"][0],
            "reserved": props.get("ReservedConcurrentExecutions"),
            "provisioned": props.get("ProvisionedConcurrencyConfig", {}).get(
                "ProvisionedConcurrentExecutions", 0
            ),
            "snapstart": props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}
            and props.get("AutoPublishAlias") == "live",
            "environment": props.get("Environment", {}).get("Variables", {}),
            "dead_letter": queue_names.get(
                props.get("DeadLetterQueue", {}).get("TargetArn", {}).get("Fn::GetAtt", [""])[0]
            ),
            "queues": sorted(
                (
                    queue_names[e["Properties"]["Queue"]["Fn::GetAtt"][0]],
                    e["Properties"]["BatchSize"],
                )
                for e in events
                if e["Type"] == "SQS"
            ),
            "schedules": sorted(
                (e["Properties"]["Name"], e["Properties"]["Schedule"])
                for e in events
                if e["Type"] == "Schedule"
            ),
            "policy": _sam_policy(
                role["Policies"][0]["PolicyDocument"]["Statement"], queue_names, region
            ),
        }
    return {
        "functions": functions,
        "queues": {
            p["QueueName"]: (
                p["VisibilityTimeout"],
                p["MessageRetentionPeriod"],
                queue_names[p["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]]
                if "RedrivePolicy" in p
                else None,
                p.get("RedrivePolicy", {}).get("maxReceiveCount", 0),
            )
            for p in of("AWS::SQS::Queue").values()
        },
        "topics": sorted(p["TopicName"] for p in of("AWS::SNS::Topic").values()),
        "buckets": sorted(p["BucketName"] for p in of("AWS::S3::Bucket").values()),
        "tables": sorted(p["TableName"] for p in of("AWS::DynamoDB::Table").values()),
        "alarms": sorted(
            (p["AlarmName"], p["MetricName"], p["Threshold"])
            for p in of("AWS::CloudWatch::Alarm").values()
        ),
    }


def _sam_policy(statements: list[Any], queue_names: Mapping[str, str], region: str) -> list[Any]:
    def arn(resource: Any) -> str:
        if "Fn::GetAtt" in resource:
            logical_id, attribute = resource["Fn::GetAtt"]
            if logical_id.endswith("Table") and logical_id != "StateTable":
                table = logical_id.removesuffix("Table").lower()
                return f"table-stream:{table}" if attribute == "StreamArn" else f"table:{table}"
            if logical_id.endswith("Stream"):  # the test projects' streams are one word
                return f"stream:{logical_id.removesuffix('Stream').lower()}"
            return f"queue:{queue_names[logical_id]}" if logical_id in queue_names else "table"
        text = resource["Fn::Sub"]
        for name, placeholder in (
            ("AWS::Partition", "PARTITION"),
            ("AWS::Region", region),
            ("AWS::AccountId", "ACCOUNT"),
        ):
            text = text.replace(f"${{{name}}}", placeholder)
        return text

    return [(s["Sid"], s["Action"], [arn(r) for r in s["Resource"]]) for s in statements]


def _tf_summary(files: Mapping[str, str]) -> dict[str, Any]:
    root = parse_tf(files, "")
    calls = blocks(root, "module")
    queue_names = {
        f"${{module.{k}.arn}}": v["name"] for k, v in calls.items() if k.startswith("queue_")
    }
    functions = {}
    for call in calls.values():
        if call["source"] != "./modules/function":
            continue
        functions[call["name"]] = {
            "handler": call["handler"],
            "runtime": call["runtime"],
            "memory": call["memory_size"],
            "timeout": call["timeout"],
            "architecture": call["architecture"],
            "reserved": call["reserved_concurrency"],
            "provisioned": call["provisioned_concurrency"],
            "snapstart": call["snap_start"],
            "environment": call["environment"],
            "dead_letter": queue_names.get(call["dead_letter_arn"]),
            "queues": sorted(
                (queue_names[source["arn"]], source["batch_size"])
                for source in call["queue_sources"].values()
            ),
            "schedules": sorted(call["schedules"].items()),
            "policy": _tf_policy(call["policy"], queue_names),
        }
    alarm_functions = [c for c in calls.values() if c["source"] == "./modules/function"]
    return {
        "functions": functions,
        "queues": {
            c["name"]: (
                c["visibility_timeout"],
                c["retention_seconds"],
                queue_names.get(c["dead_letter_arn"]),
                c["max_receive_count"],
            )
            for c in calls.values()
            if c["source"] == "./modules/queue"
        },
        "topics": sorted(
            [c["name"] for c in calls.values() if c["source"] == "./modules/topic"]
            + [blocks(root, "resource")["aws_sns_topic"]["alarms"]["name"]]
        ),
        "buckets": sorted(c["name"] for c in calls.values() if c["source"] == "./modules/bucket"),
        "tables": sorted(
            [c["name"] for c in calls.values() if c["source"] == "./modules/table"]
            + [t["name"] for t in blocks(root, "resource").get("aws_dynamodb_table", {}).values()]
        ),
        "alarms": sorted(
            [
                (f"{c['name']}-{suffix}", alarm["metric"], alarm["threshold"])
                for c in alarm_functions
                for suffix, alarm in c["alarms"].items()
            ]
            + [
                (f"{c['name']}-depth", "ApproximateNumberOfMessagesVisible", 1)
                for c in calls.values()
                if c["source"] == "./modules/queue" and c["depth_alarm"]
            ]
        ),
    }


def _tf_policy(expression: str, queue_names: Mapping[str, str]) -> list[Any]:
    inner = expression.removeprefix("${jsonencode(").removesuffix(")}")
    document = unquote(hcl2.loads(f"policy = {inner}\n"))["policy"]

    def arn(resource: str) -> str:
        if resource in queue_names:
            return f"queue:{queue_names[resource]}"
        if resource == "${module.state_table.arn}":
            return "table"
        if resource.startswith("${aws_kinesis_stream.stream_"):
            return f"stream:{resource.removeprefix('${aws_kinesis_stream.stream_')[:-5]}"
        if resource.startswith("${aws_dynamodb_table.table_"):
            table, _, attribute = resource[len("${aws_dynamodb_table.table_") : -1].partition(".")
            return f"table-stream:{table}" if attribute == "stream_arn" else f"table:{table}"
        return resource.replace("${local.partition}", "PARTITION").replace(
            "${local.account_id}", "ACCOUNT"
        )

    return [(s["Sid"], s["Action"], [arn(r) for r in s["Resource"]]) for s in document["Statement"]]


@pytest.mark.parametrize("name", PROJECTS)
def test_sam_and_terraform_describe_the_same_infrastructure(
    generated: Mapping[str, Mapping[str, Plan]], name: str
) -> None:
    sam = _sam_summary(generated[name]["sam"].files["template.yaml"], REGIONS[name])
    terraform = _tf_summary(generated[name]["terraform"].files)
    assert sam == terraform
    assert sam["functions"]


def test_every_key_reaches_the_infrastructure(
    generated: Mapping[str, Mapping[str, Plan]],
) -> None:
    summary = _sam_summary(generated["every-key"]["sam"].files["template.yaml"], "eu-west-1")
    api, worker = summary["functions"]["shop-api"], summary["functions"]["shop-worker"]
    assert (api["memory"], api["timeout"], api["architecture"]) == (1024, 20, "arm64")
    assert (api["reserved"], api["provisioned"], api["runtime"]) == (5, 2, "python3.12")
    assert worker["reserved"] is None  # nothing reserved unless asked
    assert summary["functions"]["shop-public"]["snapstart"]
    assert not api["snapstart"] and not worker["snapstart"]
    assert api["environment"] == {
        "LOG_LEVEL": "INFO",
        "STAGE": "prod",
        # [state] url is the table the deployment creates: the functions find it there.
        "FAASPORT_STATE_URL": "dynamodb://shop-state?region=eu-west-1",
    }
    assert api["policy"] == [
        (
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["arn:PARTITION:logs:eu-west-1:ACCOUNT:log-group:/aws/lambda/shop-api:*"],
        ),
        (
            "ReadSecrets",
            ["secretsmanager:GetSecretValue"],
            ["arn:PARTITION:secretsmanager:eu-west-1:ACCOUNT:secret:shop/prod/jwt-??????"],
        ),
        (
            "ReadParameters",
            ["ssm:GetParameter"],
            ["arn:PARTITION:ssm:eu-west-1:ACCOUNT:parameter/shop/prod/db-url"],
        ),
        (
            "UseStateTable",
            [
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            ["table"],
        ),
    ]
    assert worker["queues"] == [("shop-jobs", 50)]
    assert worker["dead_letter"] == "shop-worker-failures"
    assert worker["schedules"] == [
        ("shop-worker-schedule0", "rate(5 minutes)"),
        ("shop-worker-schedule1", "cron(0 12 * * ? *)"),
    ]
    assert summary["queues"] == {
        "shop-jobs": (120, 345600, "shop-jobs-dlq", 5),
        "shop-jobs-dlq": (30, 1209600, None, 0),
        "shop-audit": (30, 345600, None, 0),
        "shop-mail": (60, 345600, "shop-mail-dlq", 3),
        "shop-mail-dlq": (30, 1209600, None, 0),
        "shop-worker-failures": (30, 1209600, None, 0),
    }
    assert summary["topics"] == ["shop-alarms", "shop-alerts"]
    assert summary["buckets"] == ["shop-archive-example", "shop-uploads-example"]
    assert summary["tables"] == ["shop-state"]
    assert ("shop-api-duration", "Duration", 18000) in summary["alarms"]
    depth = [alarm for alarm in summary["alarms"] if alarm[0].endswith("-depth")]
    assert depth == [  # the dead-letter queues, not the queue they keep failures of
        ("shop-jobs-dlq-depth", "ApproximateNumberOfMessagesVisible", 1),
        ("shop-mail-dlq-depth", "ApproximateNumberOfMessagesVisible", 1),
        ("shop-worker-failures-depth", "ApproximateNumberOfMessagesVisible", 1),
    ]
    assert len(summary["alarms"]) == 3 * 3 + 3


def test_every_key_http_api_in_both_forms(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    template = yaml.safe_load(generated["every-key"]["sam"].files["template.yaml"])
    resources = template["Resources"]
    api = resources["HttpApi"]["Properties"]
    assert api["Auth"]["Authorizers"]["UsersAuthorizer"]["JwtConfiguration"] == {
        "issuer": "https://issuer.example.com/",
        "audience": ["shop-api"],
    }
    assert api["Auth"]["Authorizers"]["UsersAuthorizer"]["IdentitySource"] == (
        "$request.querystring.token"
    )
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://shop.example.com"]
    events = resources["ApiFunction"]["Properties"]["Events"]
    sam_routes = sorted(
        (
            f"{e['Properties']['Method']} {e['Properties']['Path']}",
            e["Properties"].get("Auth", {}).get("Authorizer"),
            e["Properties"].get("RouteSettings", {}).get("ThrottlingBurstLimit"),
        )
        for e in events.values()
        if e["Type"] == "HttpApi"
    )
    assert sam_routes == [
        ("ANY /", "UsersAuthorizer", 400),
        ("ANY /{proxy+}", "UsersAuthorizer", 400),
        ("GET /items/{id}", "UsersAuthorizer", 400),
    ]
    public = resources["PublicFunction"]["Properties"]["Events"]["Route0"]["Properties"]
    assert (public["Path"], "Auth" in public) == ("/status", False)
    worker_events = resources["WorkerFunction"]["Properties"]["Events"]
    assert worker_events["Bucket3"]["Properties"]["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": "in/"},
        {"Name": "suffix", "Value": ".csv"},
    ]
    assert worker_events["Bucket4"]["Properties"]["Events"] == "s3:ObjectRemoved:*"
    assert worker_events["Queue0"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"
    ]
    assert resources["StateTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True

    root = parse_tf(generated["every-key"]["terraform"].files, "")
    http = blocks(root, "module")["http_api"]
    assert {key: (r["authorizer"], r["throttle_burst"]) for key, r in http["routes"].items()} == {
        "ANY /{proxy+}": ("users", 400),
        "ANY /": ("users", 400),
        "GET /items/{id}": ("users", 400),
        "GET /status": (None, None),
    }
    assert http["authorizers"] == {
        "users": {
            "issuer": "https://issuer.example.com/",
            "audience": ["shop-api"],
            "identity": "$request.querystring.token",
        }
    }
    bucket = blocks(root, "module")["bucket_shop_uploads_example"]
    assert [(n["events"], n["prefix"], n["suffix"]) for n in bucket["notifications"]] == [
        (["s3:ObjectCreated:*"], "in/", ".csv"),
        (["s3:ObjectRemoved:*"], "in/", ""),
    ]


# -- determinism -------------------------------------------------------------------------------

_DUMP = """
import hashlib, sys
from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
for iac in ("sam", "terraform"):
    files = plan(load_project(sys.argv[1]), Options(iac=iac)).files
    for name in sorted(files):
        print(iac, name, hashlib.sha256(files[name].encode()).hexdigest())
"""


def test_generation_is_deterministic_across_processes(tmp_path: Path) -> None:
    output = same_output_in_two_processes(_DUMP, project_dir("every-key", CONFIGS, tmp_path))
    assert output.count("\n") > 10


def test_the_same_project_elsewhere_gives_the_same_bytes(tmp_path: Path) -> None:
    for place in ("a", "b"):
        shutil.copytree(PHONEY, tmp_path / place)
    for iac in ("sam", "terraform"):
        first = plan(load_project(tmp_path / "a"), Options(iac=iac)).files
        second = plan(load_project(tmp_path / "b"), Options(iac=iac)).files
        assert dict(first) == dict(second)
