"""Where a request really came from and went to, behind a cloud's front end: ASGI
``server``, ``scheme`` and ``client`` from Host, X-Forwarded-Proto/-Port/-For."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.core.http import Headers


def server_and_scheme(headers: Headers) -> tuple[tuple[str, int | None], str]:
    host = port = proto = None
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"x-forwarded-port":
            port = value.decode("latin-1")
        elif name == b"x-forwarded-proto":
            proto = value.decode("latin-1")
    return server_cached(host, port, proto)


_servers: dict[tuple[str | None, str | None, str | None], tuple[tuple[str, int | None], str]] = {}
#: Host, port, proto and server of the last call (first: a host equal to no string).
_last: list[tuple[Any, ...]] = [(object(), None, None, None)]


def server_cached(
    host: str | None, port: str | None, proto: str | None
) -> tuple[tuple[str, int | None], str]:
    """:func:`server_from`, remembered: a function sees the same few hosts over and over,
    most often the one it saw last (compared as it is, with no key to make and hash)."""
    last = _last[0]  # one tuple, read once: threads may call in at the same time
    if host == last[0] and port == last[1] and proto == last[2]:
        return last[3]  # type: ignore[no-any-return]
    key = (host, port, proto)
    found = _servers.get(key)
    if found is None:
        found = server_from(host, port, proto)
        if len(_servers) < 256:
            _servers[key] = found
    _last[0] = (host, port, proto, found)
    return found


def server_from(
    host: str | None, port: str | None, proto: str | None
) -> tuple[tuple[str, int | None], str]:
    """ASGI ``server`` and ``scheme`` from the Host and X-Forwarded-Port/-Proto values. Of
    several protocols the last counts (the one the provider's front end appended, as for
    X-Forwarded-For); one that is not http or https is not a scheme: https, as without one."""
    scheme = proto.rpartition(",")[2].strip().lower() if proto else "https"
    if scheme not in ("http", "https"):
        scheme = "https"
    host = host or "localhost"
    if ":" in host:
        bare, _, host_port = host.rpartition(":")
        if host_port.isdigit() and "]" not in host_port:
            host, port = bare, port or host_port
    if port and port.isdigit():
        return (host, int(port)), scheme
    return (host, 443 if scheme == "https" else 80), scheme


def client_from(forwarded_for: str | None, fallback: str | None) -> tuple[str, int] | None:
    """The client address: the last X-Forwarded-For entry, the one the provider's own front
    end appended (earlier entries are whatever the client claimed), without a port."""
    address = forwarded_for.rpartition(",")[2].strip() if forwarded_for else ""
    if address:
        if address.startswith("["):  # "[2001:db8::1]:443"
            address = address[1:].partition("]")[0]
        elif address.count(":") == 1:  # "203.0.113.7:51234"
            address = address.partition(":")[0]
        return (address, 0)
    return (fallback, 0) if fallback else None
