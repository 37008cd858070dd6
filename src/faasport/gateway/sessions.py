"""Server-side sessions: an opaque, signed session id in a cookie, the data (JSON) in a
state store with a time to live.

The cookie holds ``<id>.<signature>``: 32 random bytes and their HMAC-SHA256 under
``secret``, so a forged or altered id is ignored without asking the store. The app reads
and changes ``request.context["session"]`` (a dict; through the middleware:
:func:`faasport.gateway.session`); a changed session is stored and its cookie sent, an
emptied one deleted and its cookie expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from faasport.core.errors import ConfigError
from faasport.gateway.request import LazyStore, Policy, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.state import Store


class Session(dict):  # type: ignore[type-arg]
    """The session's data; ``new`` until the client has presented its cookie. ``stored`` is
    the store's value it was read from (None for a new session)."""

    def __init__(
        self, session_id: str | None, data: dict[str, Any], stored: bytes | None = None
    ) -> None:
        super().__init__(data)
        self.id = session_id
        self.new = session_id is None
        self.stored = stored
        self._saved = _snapshot(data)

    @property
    def modified(self) -> bool:
        """Whether it differs from what the store holds, a change inside a value too
        (``session["cart"].append(...)``)."""
        return _snapshot(self) != self._saved

    def saved(self, stored: bytes | None = None) -> None:
        """What the session holds now is what the store holds (``stored``)."""
        self._saved = _snapshot(self)
        self.stored = stored

    def changes(self) -> tuple[dict[str, Any], set[str]]:
        """The keys this request set (to values unlike the stored ones), and those it
        removed."""
        import json

        before: dict[str, Any] = json.loads(self._saved)
        changed = {
            k: v for k, v in self.items() if k not in before or _snapshot(v) != _snapshot(before[k])
        }
        return changed, set(before) - set(self)


#: Saves tried against other requests' saves before this one's simply overwrites.
_SAVE_ATTEMPTS = 5


def _object(stored: bytes) -> dict[str, Any]:
    import json

    data = json.loads(stored)
    return data if isinstance(data, dict) else {}


def _snapshot(data: Any) -> str:
    import json

    return json.dumps(data, sort_keys=True, default=repr)


class Sessions(Policy):
    def __init__(
        self,
        store: Store | str,
        *,
        secret: str | bytes,
        cookie: str = "session",
        ttl: float = 86400.0,
        secure: bool = True,
        same_site: str = "Lax",
        path: str = "/",
    ) -> None:
        if len(secret) < 32:
            raise ConfigError("sessions.secret must be at least 32 characters (random)")
        if same_site not in ("Strict", "Lax", "None"):
            raise ConfigError(f"sessions.same_site must be Strict, Lax or None, got {same_site!r}")
        self.store = LazyStore(store)
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.cookie = cookie
        self.ttl = ttl
        self.attributes = f"Path={path}; HttpOnly; SameSite={same_site}" + (
            "; Secure" if secure else ""
        )

    def _sign(self, session_id: str) -> str:
        digest = hmac.new(self.secret, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _id_from(self, request: Request) -> str | None:
        # The session's own pair, as browsers send pairs: a cookie of another name that a
        # strict parser refuses (a JSON value, a space) must not lose the session.
        value = None
        for pair in request.headers.get("cookie", "").split(";"):
            name, sep, found = pair.partition("=")
            if sep and name.strip() == self.cookie:
                value = found.strip().strip('"')
                break
        if value is None:
            return None
        session_id, _, signature = value.partition(".")
        if session_id and hmac.compare_digest(signature, self._sign(session_id)):
            return session_id
        return None

    def check(self, request: Request) -> Response | None:
        session_id = self._id_from(request)
        data: dict[str, Any] = {}
        stored = None
        if session_id is not None:
            stored = self.store().get("session:" + session_id)
            if stored is None:
                session_id = None  # expired or deleted: start afresh
            else:
                data = _object(stored)
        request.context["session"] = Session(session_id, data, stored)
        return None

    def finish(self, request: Request, response: Response) -> None:
        session: Session | None = request.context.get("session")
        if session is None:
            return
        if response.streamed is not None:
            # The app may change the session while its body streams: stored at the end.
            response.streamed.on_end(lambda _: self._store_late(session), body=False)
        if not session.modified:
            return
        if not session and session.id is not None:
            self.store().delete("session:" + session.id)
            response.headers.append(("set-cookie", f"{self.cookie}=; Max-Age=0; {self.attributes}"))
            session.id = None
            session.saved()
            return
        if not session:
            return
        if session.id is None:
            session.id = secrets.token_urlsafe(32)
        self._store(session)
        cookie = f"{session.id}.{self._sign(session.id)}"
        response.headers.append(
            ("set-cookie", f"{self.cookie}={cookie}; Max-Age={int(self.ttl)}; {self.attributes}")
        )

    def _store(self, session: Session) -> None:
        """Saves what this request changed. Another request of the same session may have
        saved since this one read it (a browser sends several at once): then this one's
        changes are laid over what that one stored, key by key, and saved in turn, so
        neither loses the keys it set; for one key both set, the later save wins."""
        import json

        assert session.id is not None
        key = "session:" + session.id
        store = self.store()
        expected, data = session.stored, dict(session)
        changed, removed = session.changes()
        for _ in range(_SAVE_ATTEMPTS):
            value = json.dumps(data, separators=(",", ":")).encode()
            if store.compare_and_set(key, expected, value, ttl=self.ttl):
                session.saved(value)
                return
            expected = store.get(key)
            data = {} if expected is None else _object(expected)
            for name in removed:
                data.pop(name, None)
            data.update(changed)
        from faasport.core.logs import logger

        logger().warning("session changed by other requests all along: saved over them")
        value = json.dumps(data, separators=(",", ":")).encode()
        store.set(key, value, ttl=self.ttl)
        session.saved(value)

    def _store_late(self, session: Session) -> None:
        """After a streamed body: changes the app made meanwhile are stored under the
        session's id; a session that had none then gets no cookie, so they are lost, and
        the log says so."""
        if not session.modified:
            return
        if session.id is None:
            if session:
                from faasport.core.logs import logger

                logger().warning(
                    "session data set after the response began streaming is not kept: a new "
                    "session's cookie goes out with the response head; set it before"
                )
            return
        if session:
            self._store(session)
        else:
            self.store().delete("session:" + session.id)
            session.saved()
