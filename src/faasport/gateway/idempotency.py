"""Idempotent requests: a repeat of a request gets the first one's stored response instead
of running again; a repeat that arrives while the first still runs gets 409.

A request is identified by its ``Idempotency-Key`` header, scoped to its method, path and
caller (the authorizer's subject, else the ``Authorization`` or ``X-Api-Key`` credential):
one caller's key never replays another's response. A repeat whose query or body differs
from the first request's gets 422, as the IETF Idempotency-Key draft answers. With
``payload_hash=True`` a request without the header is identified by a hash of its method,
path, query and body. Only ``methods`` (by default those that change things) take
part. A response is stored when the app answered below 500; after a 5xx or an exception the
key is released, so a retry runs again. The response replayed carries
``Idempotency-Replayed: true``. A response whose body is streamed after the policies finish
(``Response.streamed``) is stored once its stream has ended whole. A response larger than
one record of the store holds (DynamoDB: 400 KB an item) is stored in parts, each a value of
its own that outlives the record; a replay that finds a part gone (the store evicted it)
counts the key as unused, as when the store loses the record itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from contextlib import suppress

from faasport.core.errors import ConfigError
from faasport.core.logs import logger
from faasport.gateway.request import LazyStore, Policy, Request, Response
from faasport.state.base import StateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from faasport.state import Store

_KEY = "idempotency:key"
#: Seconds a first request holds its key where its deadline is unknown.
IN_FLIGHT = 60.0
#: Past the invocation's deadline, the seconds its answer may still take to be recorded.
DEADLINE_MARGIN = 1.0
#: Seconds the parts of a response stored in parts outlive its record.
PARTS_MARGIN = 60.0


class Idempotency(Policy):
    def __init__(
        self,
        store: Store | str,
        *,
        ttl: float = 3600.0,
        in_flight: float | None = None,
        header: str = "idempotency-key",
        payload_hash: bool = False,
        methods: Sequence[str] = ("POST", "PUT", "PATCH", "DELETE"),
    ) -> None:
        for name, seconds in (("ttl", ttl), ("in_flight", in_flight)):
            if seconds is not None and not 0 < seconds < math.inf:
                raise ConfigError(f"idempotency.{name} must be a positive number of seconds")
        self.store = LazyStore(store)
        #: Seconds a stored response is replayed.
        self.ttl = ttl
        #: Seconds a first request may run before a repeat may run again (its timeout).
        #: None: until the invocation's deadline where the platform tells it (Lambda), else
        #: :data:`IN_FLIGHT`.
        self.in_flight = in_flight
        self.header = header.lower()
        self.payload_hash = payload_hash
        self.methods = {m.upper() for m in methods}

    def key(self, request: Request) -> str | None:
        if request.method not in self.methods:
            return None
        given = request.headers.get(self.header)
        digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
        digest.update(_caller(request).encode() + b"\n")
        if given:
            digest.update(b"key\n" + given.encode())
        elif self.payload_hash:
            digest.update(b"payload\n" + request.query.encode() + b"\n" + request.body)
        else:
            return None
        return "idempotency:" + digest.hexdigest()

    def check(self, request: Request) -> Response | None:
        from faasport import state

        key = self.key(request)
        if key is None:
            return None
        store = self.store()
        for _ in range(2):
            record = store.begin(key, ttl=self._in_flight(request))
            if record.status == state.STARTED:
                request.context[_KEY] = key
                return None
            if record.status == state.IN_PROGRESS:
                return Response.message(409, "Conflict: a request with this key is in progress")
            stored = _load(record.result or b"")
            fingerprint = stored.get("request")
            if fingerprint is not None and fingerprint != _fingerprint(request):
                return Response.message(
                    422, "Unprocessable: this idempotency key was used with another request"
                )
            if "parts" in stored:
                whole = _joined(store, key, stored)
                if whole is None:
                    logger().error(
                        "idempotency record of %s lost a part in %s: the request runs again",
                        request.path,
                        store.name,
                    )
                    store.abandon(key)
                    continue
                stored = _load(whole)
            return _response(stored)
        raise StateError(store.name, "idempotency record keeps losing its parts")

    def _in_flight(self, request: Request) -> float:
        if self.in_flight is not None:
            return self.in_flight
        deadline = request.context.get("deadline")
        if isinstance(deadline, float):
            import time

            return max(deadline - time.time(), 0.0) + DEADLINE_MARGIN
        return IN_FLIGHT

    def finish(self, request: Request, response: Response) -> None:
        key = request.context.pop(_KEY, None)
        if key is None:
            return
        fingerprint = _fingerprint(request)
        if response.status >= 500:
            self.store().abandon(key)
        elif response.streamed is not None:
            # The body is streamed after this: the response is stored once the stream has
            # ended whole (a repeat meanwhile gets 409, as while the app runs), and the key
            # is given up when it ended otherwise, so that a repeat runs again.
            status, headers = response.status, list(response.headers)

            def ended(body: bytes | None) -> None:
                if body is None:
                    self.store().abandon(key)
                else:
                    self._complete(key, Response(status, headers, body), fingerprint)

            response.streamed.on_end(ended)
        else:
            self._complete(key, response, fingerprint)

    def _complete(self, key: str, response: Response, fingerprint: str) -> None:
        """Records the response for repeats, in parts when one record cannot hold it. The
        work is done: a record the store refuses (the store failing) does not keep the
        response from the client, which a 503 would send to repeat the work; the key is
        released and the log says a repeat will run again."""
        store = self.store()
        stored = _encode(response, fingerprint)
        try:
            limit = store.max_value
            if limit is not None and len(stored) > limit:
                stored = _store_parts(store, key, stored, fingerprint, self.ttl + PARTS_MARGIN)
            store.complete(key, stored, ttl=self.ttl)
        except StateError as exc:
            logger().error("idempotency record not stored, a repeat will run again: %s", exc)
            with suppress(StateError):
                store.abandon(key)

    def fail(self, request: Request) -> None:
        key = request.context.pop(_KEY, None)
        if key is not None:
            self.store().abandon(key)


def _caller(request: Request) -> str:
    """Who sent ``request``: the subject its authorizer found, else its credential."""
    found = request.context.get("authorizer")
    if isinstance(found, dict):
        jwt = found.get("jwt")
        if isinstance(jwt, dict) and isinstance(jwt.get("claims"), dict):
            claims = jwt["claims"]
            return f"jwt {claims.get('iss')} {claims.get('sub')}"
        return "authorizer " + json.dumps(found, sort_keys=True, default=str)
    headers = request.headers
    return "credential " + (headers.get("authorization") or headers.get("x-api-key") or "")


def _fingerprint(request: Request) -> str:
    """The request a key was first used with: its query and body."""
    digest = hashlib.sha256(request.query.encode() + b"\n" + request.body)
    return digest.hexdigest()


def _encode(response: Response, fingerprint: str) -> bytes:
    return json.dumps(
        {
            "status": response.status,
            "headers": [[k, v] for k, v in response.headers if k != "set-cookie"],
            "body": base64.b64encode(response.body).decode(),
            "request": fingerprint,
        }
    ).encode()


def _load(stored: bytes) -> dict[str, Any]:
    """A stored record: a response and the fingerprint of the request it answered (none in
    one stored before fingerprints were), or the list of the parts that hold them."""
    record: dict[str, Any] = json.loads(stored)
    return record


def _response(record: dict[str, Any]) -> Response:
    headers = [(k, v) for k, v in record["headers"]]
    headers.append(("idempotency-replayed", "true"))
    return Response(record["status"], headers, base64.b64decode(record["body"]))


def _part(key: str, digest: str, index: int) -> str:
    # The record's digest in each part's name: parts of two records never mix.
    return f"{key}:part:{digest}:{index}"


def _store_parts(store: Store, key: str, stored: bytes, fingerprint: str, ttl: float) -> bytes:
    """Store ``stored`` as values of at most ``store.max_value`` bytes; the record that
    lists them."""
    size = store.max_value
    assert size is not None
    digest = hashlib.sha256(stored).hexdigest()
    count = -(-len(stored) // size)
    for index in range(count):
        store.set(_part(key, digest, index), stored[index * size : (index + 1) * size], ttl=ttl)
    return json.dumps({"parts": count, "digest": digest, "request": fingerprint}).encode()


def _joined(store: Store, key: str, record: dict[str, Any]) -> bytes | None:
    """The response record stored in the parts ``record`` lists; None if one is gone."""
    digest = record["digest"]
    parts = []
    for index in range(record["parts"]):
        part = store.get(_part(key, digest, index))
        if part is None:
            return None
        parts.append(part)
    whole = b"".join(parts)
    return whole if hashlib.sha256(whole).hexdigest() == digest else None
