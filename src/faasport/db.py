"""A SQLAlchemy engine tuned for serverless functions: ``faasport.db.engine(...)``.

An execution environment serves one request at a time, may be frozen between requests and
lives for minutes to hours, so the engine keeps at most one connection, checks it before
use (``pool_pre_ping``: a connection dropped while the environment was frozen is replaced,
not handed to the app), and replaces it after ``POOL_RECYCLE`` seconds: under the idle
timeouts of the NAT in front of most functions (Azure's outbound 4 minutes, AWS NAT
gateway's 350 s), which drop a connection without telling either end. Behind a pooler
(RDS Proxy, PgBouncer, the Cloud SQL connector) ``proxy=True`` keeps no connection at all.

Credentials come from :func:`faasport.secrets.get` when ``secret`` is given, and are read
again for every new connection, so a rotated password is picked up once the secret's cached
value expires. SQLAlchemy is imported on the first call.
"""

from __future__ import annotations

import threading

from faasport import secrets
from faasport.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sqlalchemy.engine import URL, Engine

#: Seconds a connection is used before it is replaced; see the module docstring.
POOL_RECYCLE = 240
#: Seconds to wait for the database to accept a connection.
CONNECT_TIMEOUT = 5
#: The SQLAlchemy driver for each ``engine`` of an RDS-format secret.
RDS_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "aurora-postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "aurora-mysql": "mysql+pymysql",
}
#: The connect argument that bounds connecting, by DBAPI driver.
_TIMEOUT_ARGUMENT = {
    "psycopg": "connect_timeout",
    "psycopg2": "connect_timeout",
    "pymysql": "connect_timeout",
    "mysqldb": "connect_timeout",
    "pg8000": "timeout",
}
_URL_PARTS = ("username", "password", "host", "port", "database")

_engines: dict[object, Engine] = {}
_lock = threading.Lock()


def engine(
    url: str | None = None,
    *,
    secret: str | None = None,
    proxy: bool = False,
    **overrides: Any,
) -> Engine:
    """The engine for these arguments, created on the first call and reused after.

    ``url`` is a SQLAlchemy database URL; ``secret`` names a secret holding either a URL or
    RDS-style JSON (``{"engine", "host", "port", "username", "password", "dbname"}``).
    With both, the parts the URL spells out (its driver always) win over the secret's:
    ``engine("postgresql+psycopg2://", secret="phoney/prod/db")``. ``proxy=True`` opens a
    connection per checkout and keeps none (``NullPool``), for a pooler in between.
    ``overrides`` are passed to :func:`sqlalchemy.create_engine` over the defaults;
    ``connect_args`` are merged with the default connect timeout.
    """
    if url is None and secret is None:
        raise ConfigError("faasport.db.engine: give a database url, or a secret that holds one")
    key = (url, secret, proxy, _frozen(overrides))
    with _lock:
        found = _engines.get(key)
        if found is None:
            found = _engines[key] = _create(url, secret, proxy, dict(overrides))
        return found


def _create(url: str | None, secret: str | None, proxy: bool, overrides: dict[str, Any]) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool, QueuePool

    target = _target(url, secret)
    options: dict[str, Any]
    if proxy:
        options = {"poolclass": NullPool}
    else:
        options = {
            "poolclass": QueuePool,
            "pool_size": 1,
            "max_overflow": 0,
            "pool_pre_ping": True,
            "pool_recycle": POOL_RECYCLE,
            "pool_use_lifo": True,
        }
    connect_args: dict[str, Any] = {}
    timeout_argument = _TIMEOUT_ARGUMENT.get(target.get_driver_name())
    if timeout_argument:
        connect_args[timeout_argument] = CONNECT_TIMEOUT
    connect_args.update(overrides.pop("connect_args", {}))
    options.update(overrides)
    created = create_engine(target, connect_args=connect_args, **options)
    if secret is not None:

        def current_credentials(
            dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]
        ) -> None:
            cparams.update(dialect.create_connect_args(_target(url, secret))[1])

        event.listen(created, "do_connect", current_credentials)
    return created


def _target(url: str | None, secret: str | None) -> URL:
    """The database URL from ``url`` and the current value of ``secret``."""
    from sqlalchemy.engine import make_url

    given = make_url(url) if url is not None else None
    if secret is None:
        assert given is not None
        return given
    found = _secret_url(secret, given.drivername if given is not None else None)
    if given is None:
        return found
    spelled = {part: getattr(given, part) for part in _URL_PARTS if getattr(given, part)}
    return found.set(drivername=given.drivername, **spelled).update_query_dict(given.query)


def _secret_url(secret: str, drivername: str | None) -> URL:
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    text = secrets.get(secret).strip()
    if not text.startswith("{"):
        try:
            return make_url(text)
        except ArgumentError:  # its message would repeat the value, password included
            raise ConfigError(
                f'secret "{secret}" is neither a database URL nor RDS-style JSON '
                '({"engine", "host", "port", "username", "password", "dbname"})'
            ) from None
    fields = secrets.get_json(secret)
    missing = [k for k in ("username", "password", "host") if not fields.get(k)]
    if drivername is None and not fields.get("engine"):
        missing.insert(0, "engine")
    if missing:
        raise ConfigError(f'secret "{secret}": database secret lacks {", ".join(missing)}')
    if drivername is None:
        drivername = RDS_DRIVERS.get(str(fields["engine"]).lower())
        if drivername is None:
            raise ConfigError(
                f'secret "{secret}": engine "{fields["engine"]}" has no default driver '
                f"(known: {', '.join(RDS_DRIVERS)}); pass a url naming one, such as "
                'engine("mssql+pyodbc://", secret=...)'
            )
    try:
        port = int(fields["port"]) if fields.get("port") not in (None, "") else None
    except (TypeError, ValueError):
        raise ConfigError(f'secret "{secret}": port must be a number') from None
    return URL.create(
        drivername,
        username=str(fields["username"]),
        password=str(fields["password"]),
        host=str(fields["host"]),
        port=port,
        database=str(fields["dbname"]) if fields.get("dbname") else None,
    )


def _frozen(value: Any) -> Any:
    """``value`` made hashable for the engine memo: dicts and lists become tuples."""
    if isinstance(value, dict):
        return tuple(sorted(((k, _frozen(v)) for k, v in value.items()), key=lambda kv: kv[0]))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, set):
        return frozenset(_frozen(v) for v in value)
    return value


def dispose() -> None:
    """Close the pooled connections of every engine made here. The engines stay usable and
    connect again on their next use (after a SnapStart restore, whose environment does not
    own the sockets of the snapshot's)."""
    with _lock:
        engines = list(_engines.values())
    for found in engines:
        found.dispose()
