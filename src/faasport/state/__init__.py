"""Serverless state: rate limits, values with TTL, compare-and-set and idempotency records
in a store chosen by URL: ``faasport.state.open(url)``.

=========================================== ==========================================
``sqlite:///.faasport/state.db``            embedded (standard library), the default
``redis://host:6379/0``, ``rediss://``      Redis (``pip install faasport[state]``)
``postgresql://user:pw@host/db``            PostgreSQL through psycopg 3
``dynamodb://TABLE?region=...``             DynamoDB through boto3 (``endpoint_url=``)
``memory://``                               this process only: tests, single process
=========================================== ==========================================

Each scheme maps to a store class in :data:`SCHEMES`; the class's module, and its driver,
are imported only when a store of that kind is opened. Every operation is atomic in its
store, and every driver failure is raised as :class:`StateError`.
"""

from __future__ import annotations

from faasport.core.errors import ConfigError
from faasport.state.base import (
    COMPLETED,
    IN_PROGRESS,
    STARTED,
    Decision,
    Idempotency,
    StateError,
    Store,
)

__all__ = [
    "COMPLETED",
    "IN_PROGRESS",
    "SCHEMES",
    "STARTED",
    "Decision",
    "Idempotency",
    "StateError",
    "Store",
    "open",
]

#: URL scheme -> "module:class" of its store; the module is imported on first use.
SCHEMES = {
    "sqlite": "faasport.state.sqlite:SqliteStore",
    "memory": "faasport.state.memory:MemoryStore",
    "redis": "faasport.state.redis:RedisStore",
    "rediss": "faasport.state.redis:RedisStore",
    "unix": "faasport.state.redis:RedisStore",
    "postgresql": "faasport.state.postgres:PostgresStore",
    "postgres": "faasport.state.postgres:PostgresStore",
    "dynamodb": "faasport.state.dynamodb:DynamoStore",
}
#: Where each scheme's driver comes from, for the message when it is missing.
_PACKAGES = {"redis": "redis", "psycopg": "psycopg[binary]", "boto3": "boto3"}
_WITH_PASSWORD = {"redis", "rediss", "unix", "postgresql", "postgres"}


def open(url: str) -> Store:
    """The store for ``url`` (see the table above). Connects, and creates the SQL table
    when missing; raises :class:`~faasport.core.errors.ConfigError` for a URL no store
    serves or a driver that is not installed, :class:`StateError` when the store fails."""
    from importlib import import_module

    scheme = url.partition("://")[0].lower()
    target = SCHEMES.get(scheme) if "://" in url else None
    if target is None:
        schemes = ", ".join(f"{s}://" for s in SCHEMES)
        raise ConfigError(f"state URL {_safe(url)!r}: unknown scheme, use one of {schemes}")
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:
        package = _PACKAGES.get((exc.name or "").split(".")[0])
        if package is None:
            raise
        raise ConfigError(
            f"state URL {_safe(url)!r} needs the {package!r} package: pip install '{package}'"
        ) from None
    kind = getattr(module, class_name)
    try:
        if scheme in _WITH_PASSWORD:
            store: Store = kind(url, _safe(url))
        else:
            store = kind(url)
    except ValueError as exc:
        raise ConfigError(f"state URL {_safe(url)!r}: {_safe(str(exc))}") from None
    return store


def _safe(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages."""
    from faasport.state.base import redact

    return redact(url)
