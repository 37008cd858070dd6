"""The ASGI scope of an HTTP request, made from its parts: stdlib only and cheap to import,
so provider codecs can build scopes without importing the event loop."""

from __future__ import annotations

from faasport.core.http import header_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.core.http import TextHeaders
    from faasport.core.types import Scope

#: ASGI 2.4: servers report disconnects by raising OSError from send, so frameworks do not
#: need to poll receive() concurrently for ``http.disconnect`` while they stream.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


def path_text(text: str) -> str:
    """A decoded path as ASGI servers give it: a byte that was not UTF-8 (which the codecs
    keep as a surrogate, so WSGI gets the bytes sent) becomes U+FFFD, so the app can
    encode it."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def make_scope(
    method: str,
    root: str,
    path: str,
    raw_path: bytes,
    query: bytes,
    scheme: str,
    server: tuple[str, int | None] | None,
    client: str | None,
    text: TextHeaders,
    cookie: str | None = None,
) -> Scope:
    """The scope of a request, from its parts: what :func:`faasport.core.asgi.build_scope`
    makes of a canonical request, and what a provider codec makes of its event directly
    when the app is an ASGI app (no canonical request in between: its every field would be
    set and read once more per invocation). ``path`` and ``root`` are decoded text, ``text`` the
    request's text headers as :class:`~faasport.core.http.HttpRequest` takes them,
    ``cookie`` a Cookie header to add after them (HTTP API events carry cookies apart)."""
    headers = header_bytes(text)
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path_text(root + path if root else path),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": path_text(root),
        "headers": headers,
        "client": (client, 0) if client else None,
        "server": server,
    }
