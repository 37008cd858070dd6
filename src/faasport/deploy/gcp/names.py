"""Names of the Google Cloud resources, and of the Terraform blocks that declare them.

Queues, topics and buckets keep their configured names, so the app and ``faasport dev`` use
the same ones. Everything else is named ``<project>-<function>-...`` in lowercase, cut and
ended by a short hash when a resource type's limit is reached.
"""

from __future__ import annotations

import hashlib
import re

from faasport.config.model import Function, Project

#: Where ``faasport package --target gcp`` writes the source bundle, from ``deploy/gcp/``.
PACKAGE_DIR = "../../dist/gcp"

_NOT_LOWER_ALNUM = re.compile(r"[^a-z0-9]+")


def package_path(project: Project) -> str:
    return f"{PACKAGE_DIR}/{project.name}.zip"


def lower(*parts: str, limit: int) -> str:
    """``parts`` in lowercase joined by ``-`` (letters, digits and ``-`` only); when longer
    than ``limit``, cut and ended by a hash of the whole, so names stay unique and stable."""
    name = "-".join(_NOT_LOWER_ALNUM.sub("-", part.lower()).strip("-") for part in parts)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def function_name(project: Project, function: Function) -> str:
    return lower(project.name, function.name, limit=63)


def account_id(project: Project, role: str) -> str:
    """A service account id (6 to 30 characters): ``role`` is ``fn-NAME``, ``events`` or
    ``build``."""
    return lower(project.name, role, limit=30)


def source_prefix(project: Project) -> str:
    """Bucket names are global: the GCP project id, then this, then ``-source``/``-logs``."""
    return lower(project.name, limit=20)


def event_name(project: Project, function: Function, kind: str, index: int, limit: int) -> str:
    """The subscription, trigger, job or topic of event ``index`` of ``function``."""
    return lower(project.name, function.name, f"{kind}{index}", limit=limit)


def label(kind: str, name: str) -> str:
    """The Terraform label of a resource named in the configuration: ``("queue", "jobs")``
    -> ``queue-jobs``. The ``-`` keeps it apart from function labels, which have none."""
    return f"{kind}-{name.replace('.', '_')}"


def event_label(function: Function, kind: str, index: int) -> str:
    """The label of what delivers event ``index`` of ``function``: ``worker_queue0``."""
    return f"{function.name}_{kind}{index}"
