"""``send``, ``close`` and ``info`` through API Gateway's ``@connections`` management API.

``POST``/``DELETE``/``GET {endpoint}/@connections/{id}``, SigV4-signed for ``execute-api``
with the function's own credentials. The endpoint is, in this order: the ``endpoint``
argument; ``AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`` (boto3's variable for this API,
which ``faasport dev`` sets so the same code reaches the local gateway); the API and stage
of the event being handled (``https://{domainName}/{stage}``, set by the router). One
keep-alive connection per endpoint and thread, so a broadcast pays one TLS handshake.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from urllib.parse import quote, urlsplit

from faasport.core.errors import ConfigError, FaasportError
from faasport.websocket.sigv4 import Credentials, sign

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    from typing import Any

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"
#: The endpoint of the event the router is handling (``https://{domainName}/{stage}``).
current_endpoint: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "faasport_websocket_endpoint", default=None
)
#: API Gateway's limit on one message (a frame of 32 KB, a message of 128 KB).
MAX_MESSAGE = 128 * 1024
_TIMEOUT = 10.0


class WebSocketError(FaasportError):
    """A ``@connections`` call failed; ``status`` is the API's HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, connection_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.connection_id = connection_id


class ConnectionGone(WebSocketError):
    """The connection is closed (``GoneException``, 410): forget it."""


class Forbidden(WebSocketError):
    """403: the function's role lacks ``execute-api:ManageConnections`` on this API."""


class Throttled(WebSocketError):
    """429 (``LimitExceededException``): too many calls; retry later."""


class PayloadTooLarge(WebSocketError):
    """413: the message is over API Gateway's 128 KB."""


_ERRORS: dict[int, type[WebSocketError]] = {
    410: ConnectionGone,
    403: Forbidden,
    429: Throttled,
    413: PayloadTooLarge,
}


def endpoint(explicit: str | None = None) -> str:
    """The management API's base URL (see the module's text for the order)."""
    found = explicit or os.environ.get(ENDPOINT_VARIABLE) or current_endpoint.get()
    if not found:
        raise ConfigError(
            "no @connections endpoint: call send/close/info while handling a WebSocket "
            f"event, pass endpoint='https://{{api-id}}.execute-api.{{region}}.amazonaws.com/"
            f"{{stage}}', or set {ENDPOINT_VARIABLE}"
        )
    return found.rstrip("/")


def _region(host: str) -> str:
    parts = host.split(".")
    if len(parts) >= 5 and parts[1] == "execute-api":
        return parts[2]
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


_local = threading.local()


def _connection(scheme: str, netloc: str) -> http.client.HTTPConnection:
    import http.client

    pool: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    found = pool.get((scheme, netloc))
    if found is None:
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        found = pool[(scheme, netloc)] = kind(netloc, timeout=_TIMEOUT)
    return found


def close_connections() -> None:
    """Close this thread's kept-alive connections to ``@connections`` endpoints."""
    pool = getattr(_local, "pool", {})
    for connection in pool.values():
        connection.close()
    pool.clear()


def _drop(scheme: str, netloc: str) -> None:
    pool = getattr(_local, "pool", {})
    found = pool.pop((scheme, netloc), None)
    if found is not None:
        found.close()


def call(
    method: str, connection_id: str, body: bytes = b"", *, endpoint_url: str | None = None
) -> tuple[int, bytes]:
    """One signed call; (status, body) of a 2xx answer, else the matching
    :class:`WebSocketError`."""
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError(f"connection_id must be a non-empty string, got {connection_id!r}")
    base = endpoint(endpoint_url)
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"@connections endpoint {base!r} is not an http(s) URL")
    path = f"{parts.path}/@connections/{quote(connection_id, safe='')}"
    credentials = Credentials.from_environ(os.environ)
    if credentials is None:
        raise ConfigError(
            "no AWS credentials to sign the @connections call: AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY are unset (Lambda sets them from the function's role)"
        )
    headers = {"content-type": "application/octet-stream"} if method == "POST" else {}
    signed = sign(
        method,
        parts.netloc,
        path,
        headers,
        body,
        credentials=credentials,
        region=_region(parts.hostname),
        service="execute-api",
        amz_date=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
    )
    status, answer = _send(parts.scheme, parts.netloc, method, path, body, signed)
    if 200 <= status < 300:
        return status, answer
    kind = _ERRORS.get(status, WebSocketError)
    raise kind(_message(method, connection_id, status, answer), status, connection_id)


def _send(
    scheme: str, netloc: str, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    for attempt in (1, 2):
        connection = _connection(scheme, netloc)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            # A kept-alive connection the server closed meanwhile: once more on a new one.
            _drop(scheme, netloc)
            if attempt == 2:
                raise WebSocketError(
                    f"@connections {method} {netloc}: {type(exc).__name__}: {exc}"
                ) from None
        except Exception:
            _drop(scheme, netloc)
            raise
    raise AssertionError("unreachable")


def _message(method: str, connection_id: str, status: int, body: bytes) -> str:
    import json

    detail = ""
    try:
        document = json.loads(body)
        if isinstance(document, dict):
            detail = str(document.get("message") or document.get("Message") or "")
    except ValueError:
        pass
    what = {
        410: "is gone (the client disconnected)",
        403: "is forbidden: the role needs execute-api:ManageConnections on the API",
        429: "was throttled (LimitExceededException); retry later",
        413: f"carries a message over {MAX_MESSAGE} bytes",
    }.get(status, f"failed with HTTP {status}")
    text = f"@connections {method} for connection {connection_id!r} {what}"
    return f"{text}: {detail}" if detail and status not in (410,) else text


def send(connection_id: str, data: str | bytes, *, endpoint: str | None = None) -> None:
    """Send ``data`` (text or binary) to the client of ``connection_id``.
    :class:`ConnectionGone` when it has disconnected."""
    if isinstance(data, str):
        payload = data.encode()
    elif isinstance(data, bytes | bytearray | memoryview):
        payload = bytes(data)
    else:
        raise TypeError(f"send() takes str or bytes, got {type(data).__name__}")
    if len(payload) > MAX_MESSAGE:
        raise PayloadTooLarge(
            f"message of {len(payload)} bytes for connection {connection_id!r} is over API "
            f"Gateway's {MAX_MESSAGE}",
            413,
            connection_id,
        )
    call("POST", connection_id, payload, endpoint_url=endpoint)


def close(connection_id: str, *, endpoint: str | None = None) -> None:
    """Disconnect the client of ``connection_id``; :class:`ConnectionGone` when it is gone."""
    call("DELETE", connection_id, endpoint_url=endpoint)


def info(connection_id: str, *, endpoint: str | None = None) -> dict[str, Any]:
    """``{"ConnectedAt", "LastActiveAt", "Identity": {"SourceIp", "UserAgent"}}`` of a
    connection (boto3's names; the times as ISO 8601 text); :class:`ConnectionGone` when it
    is gone."""
    import json

    _, body = call("GET", connection_id, endpoint_url=endpoint)
    try:
        document = json.loads(body)
    except ValueError:
        raise WebSocketError(
            f"@connections GET for connection {connection_id!r} answered no JSON", 200
        ) from None
    if not isinstance(document, dict):
        raise WebSocketError(f"@connections GET for {connection_id!r} answered no object", 200)
    identity = document.get("identity")
    identity = identity if isinstance(identity, dict) else {}
    # The wire has API Gateway's names (connectedAt, identity.sourceIp...).
    return {
        "ConnectedAt": document.get("connectedAt"),
        "LastActiveAt": document.get("lastActiveAt"),
        "Identity": {"SourceIp": identity.get("sourceIp"), "UserAgent": identity.get("userAgent")},
    }
