"""Names of the Azure resources, and of the Terraform blocks that declare them.

Queues and blob containers keep their configured names (``function_app.py`` triggers on
them by name). Names that must be unique across Azure (storage account, Key Vault, Function
App, Event Grid topics) end with ``local.suffix``, a hash of the subscription id and the
project name, so the same project in the same subscription always gets the same names.
"""

from __future__ import annotations

import hashlib
import re

from faasport.config.model import EventSource, Function, Project, TopicEvent

#: Where ``faasport package --target azure`` writes the bundle, from ``deploy/azure/``.
PACKAGE_DIR = "../../dist/azure"
#: Length of ``local.suffix``.
SUFFIX = 8

_NOT_LOWER_ALNUM = re.compile(r"[^a-z0-9]+")


def package_path(project: Project) -> str:
    return f"{PACKAGE_DIR}/{project.name}.zip"


def lower(*parts: str, limit: int) -> str:
    """``parts`` in lowercase joined by ``-`` (letters, digits and single ``-`` only); when
    longer than ``limit``, cut and ended by a hash of the whole, so names stay unique."""
    name = "-".join(_NOT_LOWER_ALNUM.sub("-", part.lower()).strip("-") for part in parts)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def resource_group(project: Project) -> str:
    return lower("rg", project.name, limit=90)


def storage_account_prefix(project: Project) -> str:
    """``st`` and the project's letters and digits: ``local.suffix`` completes the 24."""
    return ("st" + _NOT_LOWER_ALNUM.sub("", project.name.lower()))[: 24 - SUFFIX]


def key_vault_prefix(project: Project) -> str:
    return lower("kv", project.name, limit=24 - SUFFIX - 1).rstrip("-") + "-"


def function_app_prefix(project: Project) -> str:
    # The host id is the first 32 characters of the app name: keep the suffix in them.
    return lower("func", project.name, limit=32 - SUFFIX - 1).rstrip("-") + "-"


def event_kind(source: EventSource) -> str:
    return "topic" if isinstance(source, TopicEvent) else "bucket"


def event_queue(function: Function, index: int) -> str:
    """The Storage queue that Event Grid fills with the events of bucket or topic event
    ``index`` of ``function``; ``function_app.py`` triggers on it."""
    kind = event_kind(function.events[index])
    return lower(function.name, f"{kind}{index}", limit=63)


def label(kind: str, name: str) -> str:
    """The Terraform label of a resource named in the configuration: ``("queue", "jobs")``
    -> ``queue-jobs``. The ``-`` keeps it apart from function labels, which have none."""
    return f"{kind}-{name.replace('.', '_')}"


def event_label(function: Function, index: int) -> str:
    """The label of what delivers event ``index`` of ``function``: ``worker_bucket2``."""
    return f"{function.name}_{event_kind(function.events[index])}{index}"
