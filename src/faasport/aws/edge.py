"""Lambda@Edge (CloudFront) events: viewer and origin, request and response.

CloudFront sends one record, ``Records[0].cf``, with the viewer's request: the URI as the
client sent it (percent-encoded), the query string without ``?``, headers as lists of
``{key, value}`` under lower-case names, and the body only when the trigger includes it
(``body.data``, base64 or text; ``inputTruncated`` when it was cut at CloudFront's limit).
The app's response becomes a generated response: ``status`` as a string, headers in the
same list shape, ``body`` with ``bodyEncoding``. For response events it replaces
CloudFront's response; the origin's status and headers stay readable in
``scope["aws.event"]``.

CloudFront refuses a generated response over its size limit (40 KB for viewer triggers,
1 MB for origin triggers, headers included) and one that sets a header it controls; such
headers are left out, and an oversized response becomes a logged 502 rather than
CloudFront's unexplained one.
"""

from __future__ import annotations

from binascii import Error as Base64Error
from binascii import a2b_base64

from faasport.aws.codec import decoded, encode_body, event_body, grouped_headers
from faasport.core.errors import UnsupportedEventError
from faasport.core.forwarded import server_cached
from faasport.core.http import HttpRequest, HttpResponse, status_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.core.http import Headers
    from faasport.core.options import AppOptions

EVENT_TYPES = ("viewer-request", "origin-request", "viewer-response", "origin-response")

#: Size limits of a generated response, headers and body, per trigger.
VIEWER_LIMIT = 40 * 1024
ORIGIN_LIMIT = 1024 * 1024

#: Headers CloudFront does not let a function set (hop-by-hop ones, its own, and those it
#: computes itself).
_REFUSED = frozenset(
    {
        "connection",
        "content-length",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
_REFUSED_PREFIXES = ("x-accel-", "x-amz-cf-", "x-amzn-", "x-edge-")


def _cf(event: Event) -> dict[str, Any]:
    return event["Records"][0]["cf"]  # type: ignore[no-any-return]


def _event_type(event: Event) -> str:
    config = _cf(event).get("config")
    kind = config.get("eventType") if isinstance(config, dict) else None
    return kind if kind in EVENT_TYPES else "viewer-request"


def _header_key(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _request_headers(given: Any) -> Headers:
    if not isinstance(given, dict):
        raise UnsupportedEventError("Lambda@Edge event field 'request.headers' must be an object")
    headers: Headers = []
    for name, entries in given.items():
        if not isinstance(entries, list):
            raise UnsupportedEventError(
                f"Lambda@Edge event field 'request.headers.{name}' must be a list"
            )
        for entry in entries:
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str):
                raise UnsupportedEventError(
                    f"Lambda@Edge event field 'request.headers.{name}' must hold "
                    "{key, value} objects with string values"
                )
            headers.append((name.lower().encode("latin-1"), value.encode("utf-8")))
    return headers


def _request_body(body: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, dict):
        raise UnsupportedEventError("Lambda@Edge event field 'request.body' must be an object")
    if body.get("inputTruncated"):
        raise UnsupportedEventError(
            "the request body was truncated by CloudFront (inputTruncated): Lambda@Edge "
            "passes at most 40 KB to viewer and 1 MB to origin request triggers"
        )
    data = body.get("data") or ""
    if not isinstance(data, str):
        raise UnsupportedEventError("Lambda@Edge event field 'request.body.data' must be a string")
    if body.get("encoding") == "base64":
        try:
            return a2b_base64(data, strict_mode=True)
        except (Base64Error, ValueError):
            raise UnsupportedEventError(
                "Lambda@Edge event field 'request.body.data' is not valid base64"
            ) from None
    return data.encode("utf-8")


class Edge:
    name = "edge"

    def infer(self, event: Event) -> bool:
        records = event.get("Records")
        if not isinstance(records, list) or len(records) != 1:
            return False
        cf = records[0].get("cf") if isinstance(records[0], dict) else None
        return isinstance(cf, dict) and isinstance(cf.get("request"), dict)

    def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
        request = _cf(event)["request"]
        method = request.get("method")
        if not isinstance(method, str) or not method.isalpha():
            raise UnsupportedEventError("Lambda@Edge event field 'request.method' is missing")
        uri = request.get("uri") or "/"
        query = request.get("querystring") or ""
        if not isinstance(uri, str) or not isinstance(query, str):
            raise UnsupportedEventError(
                "Lambda@Edge event fields 'request.uri' and 'request.querystring' must be strings"
            )
        headers = _request_headers(request.get("headers", {}))
        host = proto = None
        for name, value in headers:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"cloudfront-forwarded-proto":
                proto = value.decode("latin-1")
        server, scheme = server_cached(host, None, proto)
        client_ip = request.get("clientIp")
        path = decoded(uri)
        base = options.base_path
        root = ""
        if base and (path == base or path.startswith(base + "/")):
            root, path = base, path[len(base) :] or "/"
        return HttpRequest(
            method=method.upper(),
            path=path,
            query_string=query.encode("utf-8"),
            headers=headers,
            body=_request_body(request.get("body")),
            scheme=scheme,
            server=server,
            client=(client_ip, 0) if isinstance(client_ip, str) and client_ip else None,
            root_path=root,
            raw_path=uri.encode("utf-8"),
            extras={"aws.event": event, "aws.context": context},
        )

    def encode(self, response: HttpResponse, event: Event, options: AppOptions) -> dict[str, Any]:
        grouped = grouped_headers(response)
        content_type = grouped.get("content-type", [None])[0]
        encoding = grouped.get("content-encoding", [None])[0]
        body, is_base64 = encode_body(response.body, content_type, encoding, options)
        headers: dict[str, list[dict[str, str]]] = {}
        size = len(body)
        for name, values in grouped.items():
            if name in _REFUSED or name.startswith(_REFUSED_PREFIXES):
                continue
            key = _header_key(name)
            headers[name] = [{"key": key, "value": value} for value in values]
            size += sum(len(key) + len(value) for value in values)
        kind = _event_type(event)
        limit = VIEWER_LIMIT if kind.startswith("viewer") else ORIGIN_LIMIT
        if size > limit:
            from faasport.core.logs import logger

            logger().error(
                "response of %d bytes exceeds Lambda@Edge's %d-byte limit for %s triggers; "
                "answering 502",
                size,
                limit,
                kind,
            )
            return self.encode(
                HttpResponse(502, [(b"content-type", b"text/plain")], b"Bad Gateway"),
                event,
                options,
            )
        result: dict[str, Any] = {
            "status": str(response.status),
            "statusDescription": status_line(response.status).partition(" ")[2],
            "headers": headers,
        }
        if body:
            result["body"] = body
            result["bodyEncoding"] = "base64" if is_base64 else "text"
        return result

    def build_event(self, request: HttpRequest, stage: str = "viewer-request") -> dict[str, Any]:
        """The event of a CloudFront trigger (``stage``: viewer-request, origin-request,
        viewer-response or origin-response) for ``request``."""
        from urllib.parse import quote

        if stage not in EVENT_TYPES:
            raise ValueError(f"Lambda@Edge event type must be one of {', '.join(EVENT_TYPES)}")
        headers: dict[str, list[dict[str, str]]] = {}
        for name, value in request.headers:
            key = name.decode("latin-1")
            headers.setdefault(key, []).append(
                {"key": _header_key(key), "value": value.decode("utf-8")}
            )
        client = request.client[0] if request.client else "203.0.113.178"
        cf_request: dict[str, Any] = {
            "clientIp": client,
            "headers": headers,
            "method": request.method,
            "querystring": request.query_string.decode("latin-1"),
            "uri": (request.raw_path or quote(request.path).encode()).decode("utf-8"),
        }
        if request.body:
            data, is_base64 = event_body(request.body, base64_always=True)
            cf_request["body"] = {
                "inputTruncated": False,
                "action": "read-only",
                "encoding": "base64" if is_base64 else "text",
                "data": data,
            }
        if stage == "origin-request":
            cf_request["origin"] = {
                "custom": {
                    "customHeaders": {},
                    "domainName": "origin.example.com",
                    "keepaliveTimeout": 5,
                    "path": "",
                    "port": 443,
                    "protocol": "https",
                    "readTimeout": 30,
                    "sslProtocols": ["TLSv1.2"],
                }
            }
        cf: dict[str, Any] = {
            "config": {
                "distributionDomainName": "d111111abcdef8.cloudfront.net",
                "distributionId": "EDFDVBD6EXAMPLE",
                "eventType": stage,
                "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
            },
            "request": cf_request,
        }
        if stage.endswith("response"):
            cf["response"] = {
                "status": "200",
                "statusDescription": "OK",
                "headers": {"content-type": [{"key": "Content-Type", "value": "text/html"}]},
            }
        return {"Records": [{"cf": cf}]}

    def parse_result(self, result: Any) -> HttpResponse:
        if not isinstance(result, dict) or not str(result.get("status", "")).isdigit():
            raise ValueError("a Lambda@Edge result must be a response with a numeric status")
        headers: Headers = []
        for name, entries in (result.get("headers") or {}).items():
            for entry in entries:
                headers.append((name.lower().encode("latin-1"), entry["value"].encode("latin-1")))
        body = result.get("body") or ""
        data = a2b_base64(body) if result.get("bodyEncoding") == "base64" else body.encode("utf-8")
        return HttpResponse(int(result["status"]), headers, data)


if TYPE_CHECKING:
    from faasport.aws.codec import Codec

    _conforms: Codec = Edge()
