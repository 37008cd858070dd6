"""The gateway's settings, read once from the environment (faasport.toml's ``environment``
locally, the function's environment in the cloud)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: ``UPSTREAM_USERS=http://...`` routes ``/users/...`` to that URL.
PREFIX = "UPSTREAM_"
_NAME = re.compile(r"[a-z][a-z0-9-]*")
#: The secret (``secrets = [...]`` in faasport.toml) that signs session cookies.
SESSION_SECRET = "gateway/session"
#: Where the JWKS file ships: inside the package, so the build context carries it.
DEFAULT_JWKS = str(Path(__file__).with_name("jwks.json"))


class SettingsError(ValueError):
    """A setting with a value the gateway cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    #: Upstream base URLs by the first path segment they serve (``users`` -> URL).
    upstreams: Mapping[str, str]
    #: ``sqlite:///...``, ``redis://...``, ``postgresql://...``, ``dynamodb://TABLE``.
    state_url: str
    session_secret: str
    jwt_issuer: str
    jwt_audience: tuple[str, ...]
    jwks: str = DEFAULT_JWKS
    #: Seconds an upstream has to answer before the client gets 504.
    timeout: float = 10.0
    #: Seconds the readiness check waits for each upstream's /health.
    ready_timeout: float = 2.0
    #: Per client (JWT subject): requests per minute.
    client_rate: int = 60
    #: Everyone together: a token bucket.
    throttle_rate: float = 100.0
    throttle_burst: int = 200
    cors_origins: tuple[str, ...] = ()
    #: Session cookies over HTTPS only (turn off for plain-HTTP local browsers).
    secure_cookies: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        upstreams = {}
        for key, value in sorted(env.items()):
            if key.startswith(PREFIX) and key != "UPSTREAM_TIMEOUT":
                name = key[len(PREFIX) :].lower().replace("_", "-")
                if not _NAME.fullmatch(name) or not value.startswith(("http://", "https://")):
                    raise SettingsError(f"{key} must be an http(s) URL, got {value!r}")
                upstreams[name] = value.rstrip("/")
        return cls(
            upstreams=upstreams,
            state_url=_required(env, "FAASPORT_STATE_URL"),
            session_secret=_secret(environ, SESSION_SECRET),
            jwt_issuer=_required(env, "JWT_ISSUER"),
            jwt_audience=tuple(_required(env, "JWT_AUDIENCE").split(",")),
            jwks=env.get("JWT_JWKS") or DEFAULT_JWKS,
            timeout=_number(env, "UPSTREAM_TIMEOUT", 10.0),
            ready_timeout=_number(env, "READY_TIMEOUT", 2.0),
            client_rate=int(_number(env, "CLIENT_RATE_PER_MINUTE", 60)),
            throttle_rate=_number(env, "THROTTLE_RATE", 100.0),
            throttle_burst=int(_number(env, "THROTTLE_BURST", 200)),
            cors_origins=tuple(o for o in env.get("CORS_ORIGINS", "").split(",") if o),
            secure_cookies=env.get("SECURE_COOKIES", "true").lower() != "false",
        )


def _secret(environ: Mapping[str, str] | None, name: str) -> str:
    """A secret through faasport's secrets helper (``FAASPORT_SECRET_*`` locally, the
    cloud's secret store when deployed); from ``environ`` alone when one is given."""
    from faasport import secrets

    if environ is None:
        return secrets.get(name)
    return _required(environ, secrets.env_name(name))


def _required(env: Mapping[str, str], key: str) -> str:
    value = env.get(key, "")
    if not value:
        raise SettingsError(f"{key} is not set")
    return value


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{key} must be positive, got {raw!r}")
    return value
