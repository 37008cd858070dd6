"""The project's API keys for ``faasport dev``: each key's value, from its secret (the
secrets file, ``secrets.local.toml``, or a ``FAASPORT_SECRET_*`` variable, as functions get
theirs) or generated once and kept in ``.faasport/api-keys.json``, so a key stays the same
from one run to the next. The gateway's store gets only their hashes."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from faasport.core.errors import ConfigError
from faasport.secrets.errors import LOCAL_FILE
from faasport.secrets.local import local_environment
from faasport.secrets.names import env_name

if TYPE_CHECKING:
    from faasport.config.model import Project
    from faasport.gateway.api_keys import ApiKeys

GENERATED = Path(".faasport", "api-keys.json")
#: API Gateway's shortest API key value.
MIN_LENGTH = 20


def key_values(project: Project) -> dict[str, str]:
    """``{key name: value}`` for every ``[api_keys.NAME]``; generates the missing ones."""
    values = generated_keys(project)
    for key in project.api_keys.values():
        if key.secret is None:
            continue
        found = local_environment(project.root, os.environ, [key.secret]).get(env_name(key.secret))
        where = f"{project.source.name}: api_keys.{key.name}.secret"
        if found is None:
            raise ConfigError(
                f'{where}: secret "{key.secret}" has no local value; add "{key.secret}" = "..." '
                f"to {LOCAL_FILE} or set {env_name(key.secret)}"
            )
        if len(found) < MIN_LENGTH:
            raise ConfigError(
                f'{where}: the value of secret "{key.secret}" is {len(found)} characters; '
                f"API keys have at least {MIN_LENGTH}"
            )
        values[key.name] = found
    return values


def generated_keys(project: Project) -> dict[str, str]:
    """The values of the keys without a secret, generated on first use and kept (also what
    ``faasport dev`` shows when it starts)."""
    wanted = [key.name for key in project.api_keys.values() if key.secret is None]
    if not wanted:
        return {}
    path = project.root / GENERATED
    generated = _read_generated(path)
    missing = [name for name in wanted if name not in generated]
    for name in missing:
        generated[name] = secrets.token_urlsafe(30)
    if missing:
        _write_generated(path, generated)
    return {name: generated[name] for name in wanted}


def api_keys_policy(project: Project, store: str) -> ApiKeys:
    """The policy in front of functions with ``api_key_required``, its keys registered in
    the store on first use."""
    from faasport.gateway.api_keys import ApiKeys, Plan

    plans: dict[str, Plan] = {}
    plan_of: dict[str, str] = {}
    for plan in project.usage_plans.values():
        plans[plan.name] = Plan(
            name=plan.name,
            rate=plan.throttle.rate if plan.throttle else None,
            burst=plan.throttle.burst if plan.throttle else 1,
            quota=plan.quota.limit if plan.quota else None,
            period=plan.quota.period if plan.quota else "DAY",
        )
        plan_of.update((key, plan.name) for key in plan.keys)
    values = key_values(project)
    keys = {
        values[key.name]: (key.name, plan_of.get(key.name), key.enabled)
        for key in project.api_keys.values()
    }
    return ApiKeys(store, plans, keys=keys)


def _read_generated(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: cannot read the generated API keys ({exc}); delete it"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{path}: not a JSON object of key values; delete it")
    return data


def _write_generated(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump(values, file, indent=2)
    os.replace(temporary, path)
