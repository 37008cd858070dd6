"""Names of the AWS resources: the physical names AWS sees, the CloudFormation logical ids and
the Terraform identifiers. SAM and Terraform take every physical name from here, so the two
describe the same resources."""

from __future__ import annotations

import hashlib
import re

from faasport.config.model import Function, Project

#: Where ``faasport package --target aws`` writes the artifact, relative to ``deploy/aws/``.
PACKAGE_DIR = "../../dist/aws"

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def header(project: Project) -> str:
    """The first line of every generated file: where it comes from."""
    return (
        f"Written by `faasport deploy aws` from {project.source.name}; "
        "edit the configuration, not this file."
    )


def package_path(project: Project) -> str:
    return f"{PACKAGE_DIR}/{project.name}.zip"


def physical(*parts: str, limit: int) -> str:
    """``parts`` joined by ``-``; when longer than ``limit``, cut and ended by a short hash of
    the whole, so long names stay unique and stable."""
    name = "-".join(parts)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{digest}"


def function_name(project: Project, function: Function) -> str:
    return physical(project.name, function.name, limit=64)


def queue_name(project: Project, queue: str) -> str:
    """A FIFO queue's name keeps its ``.fifo`` suffix, which SQS requires, however cut."""
    if queue.endswith(".fifo"):
        return physical(project.name, queue.removesuffix(".fifo"), limit=75) + ".fifo"
    return physical(project.name, queue, limit=80)


def stream_name(project: Project, stream: str) -> str:
    return physical(project.name, stream, limit=128)


def table_name(project: Project, table: str) -> str:
    return physical(project.name, table, limit=255)


def bus_name(project: Project, bus: str) -> str:
    """``default`` is the account's own bus; any other is created for the project."""
    return bus if bus == "default" else physical(project.name, bus, limit=256)


def topic_name(project: Project, topic: str) -> str:
    return physical(project.name, topic, limit=256)


def log_group(function_physical_name: str) -> str:
    """The log group Lambda writes a function's output to."""
    return f"/aws/lambda/{function_physical_name}"


def logical_id(name: str, kind: str) -> str:
    """A CloudFormation logical id: ``("jobs-dlq", "Queue")`` -> ``JobsDlqQueue``."""
    words = _NOT_ALNUM.split(name)
    return "".join(word[:1].upper() + word[1:] for word in words) + kind


def tf_id(kind: str, name: str) -> str:
    """A Terraform identifier: ``("queue", "jobs-dlq")`` -> ``queue_jobs_dlq``."""
    return f"{kind}_{_NOT_IDENTIFIER.sub('_', name)}"


def statement_id(*parts: str) -> str:
    """A Lambda permission's statement id (letters, digits, '-' and '_', 100 at most); unique
    among one function's permissions as long as ``parts`` are."""
    return physical(*(_NOT_IDENTIFIER.sub("-", part) for part in parts), limit=100)


def api_log_group(project: Project) -> str:
    """The log group of the API's access logs."""
    return f"/aws/apigateway/{project.name}"


def websocket_api_name(project: Project, function: Function) -> str:
    return physical(project.name, function.name, "ws", limit=128)


def websocket_log_group(project: Project, function: Function) -> str:
    """The log group of a function's WebSocket API's access logs."""
    return f"/aws/apigateway/{websocket_api_name(project, function)}"


def alarm_topic(project: Project) -> str:
    return physical(project.name, "alarms", limit=256)
