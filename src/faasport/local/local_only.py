"""What the development endpoints answer only to this machine: the dashboard (its events
hold the requests' ``Authorization`` headers and cookies), the Lambda Invoke API and the
AWS services endpoint. A web page the developer happens to open must not drive them.

- ``Host``: a request must name this machine (``localhost``, ``*.localhost``, a loopback
  address). A page that rebinds its own DNS name to 127.0.0.1 (DNS rebinding) sends its own
  name, so it reads nothing. Bound to another address (``--host 0.0.0.0``), any name goes:
  the developer opened the port to the network.
- ``Origin``: a browser sends it with every cross-origin request, including the "simple"
  POSTs it sends without asking first. A request from a page must come from this machine's
  pages or from the endpoint's own origin (the dashboard's). boto3, the AWS CLI and curl
  send no ``Origin``.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def _local(name: str | None) -> bool:
    if not name:
        return False
    name = name.lower().rstrip(".")
    return (
        name in ("localhost", "::1")
        or name.endswith(".localhost")
        or (name.startswith("127.") and name.replace(".", "").isdigit())
    )


def _name(authority: str) -> str | None:
    """The host name of a ``Host`` value (``name:port``, ``[::1]:port``)."""
    try:
        return urlsplit("//" + authority).hostname
    except ValueError:
        return None


def loopback(address: str) -> bool:
    """Whether a server bound to ``address`` is reachable from this machine only."""
    return _local(address)


def refusal(host: str | None, origin: str | None, bound: str) -> str | None:
    """Why a request with these ``Host`` and ``Origin`` headers, to a server bound to
    ``bound``, is refused; None when it is not."""
    if host is not None and loopback(bound) and not _local(_name(host)):
        return f"Host {host!r} is not this machine: this endpoint answers localhost only"
    if origin is not None:
        try:
            parts = urlsplit(origin)
        except ValueError:
            parts = None
        same = parts is not None and host is not None and parts.netloc.lower() == host.lower()
        if not same and (parts is None or not _local(parts.hostname)):
            return f"requests from the web page at {origin!r} are refused"
    return None
