"""Secrets at runtime: ``faasport.secrets.get(name)``.

A name is what ``faasport.toml`` lists in a function's ``secrets``: ``"phoney/prod/jwt"``
(AWS Secrets Manager) or ``"ssm:/phoney/prod/db"`` (SSM Parameter Store). Lookup order:

1. The environment variable :func:`~faasport.secrets.names.env_name` of the name
   (``FAASPORT_SECRET_PHONEY_PROD_JWT``), read on every call. ``faasport dev`` sets it from
   ``secrets.local.toml``; on GCP and Azure the generated deployment sets it from Secret
   Manager and Key Vault references.
2. The secret store of the cloud the code runs on (:mod:`faasport.secrets.stores`), asked
   at most once per ``max_age`` seconds per name.

Only the standard library is imported here; boto3 or urllib come with the first fetch.
"""

from __future__ import annotations

import os

from faasport.core.errors import ConfigError
from faasport.secrets import stores
from faasport.secrets.cache import SecretCache
from faasport.secrets.errors import SecretAccessDeniedError, SecretError, SecretNotFoundError
from faasport.secrets.names import env_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "SecretAccessDeniedError",
    "SecretError",
    "SecretNotFoundError",
    "clear",
    "env_name",
    "get",
    "get_json",
]

DEFAULT_MAX_AGE = 300.0
#: What Azure leaves in an app setting whose Key Vault reference it could not resolve.
_UNRESOLVED_REFERENCE = "@Microsoft.KeyVault("

_cache = SecretCache()


def get(name: str, *, max_age: float = DEFAULT_MAX_AGE) -> str:
    """The secret's value as text (binary secrets must be UTF-8).

    A value from the secret store is reused for ``max_age`` seconds; after that the store
    is asked again, and if that fails the error is raised (the old value is not served).
    Raises :class:`SecretNotFoundError` when the secret exists nowhere,
    :class:`SecretAccessDeniedError` when the store refuses, :class:`SecretError` otherwise.
    """
    if not name:
        raise ConfigError("faasport.secrets.get: the secret name is empty")
    if not max_age >= 0:
        raise ConfigError(f"faasport.secrets.get: max_age must be >= 0 seconds, got {max_age}")
    variable = env_name(name)
    value = os.environ.get(variable)
    if value is not None:
        if value.startswith(_UNRESOLVED_REFERENCE):
            raise SecretError(
                name,
                f'secret "{name}": Azure could not resolve the Key Vault reference in app '
                f"setting {variable}; grant the function app's managed identity the "
                '"Key Vault Secrets User" role on the vault and check the reference',
            )
        return value
    store = stores.current()
    return _cache.get((store.kind, name), max_age, lambda: store.fetch(name))


def get_json(name: str, *, max_age: float = DEFAULT_MAX_AGE) -> dict[str, Any]:
    """The secret parsed as a JSON object (as RDS stores database credentials)."""
    import json

    text = get(name, max_age=max_age)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's message gives a position only; the value never enters the error.
        raise SecretError(
            name, f'secret "{name}" is not valid JSON ({exc.msg} at character {exc.pos})'
        ) from None
    if not isinstance(value, dict):
        raise SecretError(
            name, f'secret "{name}" is JSON but not an object (got {type(value).__name__})'
        )
    return value


def clear() -> None:
    """Forget cached values, clients and access tokens: the next :func:`get` of each
    secret asks its store again (after rotating a secret, for instance)."""
    _cache.clear()
    stores.reset()
