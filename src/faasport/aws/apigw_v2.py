"""API Gateway HTTP API events (payload format 2.0).

HTTP APIs deliver ``rawPath`` already percent-decoded, with the stage in front of it when
the stage is not ``$default``; cookies arrive in their own array; the response carries
``Set-Cookie`` values in ``cookies`` and joins other repeated headers with commas.
"""

from __future__ import annotations

import sys
from io import BytesIO

from faasport.aws.apigw_build import request_id, request_time, text_pairs
from faasport.aws.codec import (
    body_from_result,
    decode_body,
    decoded,
    encode_body,
    event_body,
    find_header,
    header_text,
    is_text_cached,
    is_text_map,
    joined_headers,
    malformed,
    optional_object,
    path_safe,
    request_raw_path,
    route_path,
    split_root,
)
from faasport.aws.direct import ENVIRON_KEYS, DirectApp, ascii_names, environ_keys
from faasport.core.forwarded import server_cached
from faasport.core.http import HttpRequest, HttpResponse
from faasport.core.scope import ASGI_VERSION
from faasport.core.wsgi import server_vars

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.aws.direct import Parts
    from faasport.core.options import AppOptions
    from faasport.core.types import Scope

#: Header names as text (any case, ASCII, checked) -> lower-case bytes, for ASGI scopes.
_NAMES: dict[str, bytes] = {}

#: The scope :meth:`ApiGatewayV2.asgi_scope` copies, its keys in the order it fills them.
_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": ASGI_VERSION,
    "http_version": "1.1",
    "method": "GET",
    "scheme": "https",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [],
    "client": None,
    "server": None,
    "aws.event": None,
    "aws.context": None,
}

#: The environ :meth:`ApiGatewayV2.wsgi_environ` copies, its keys in the order
#: :func:`faasport.core.wsgi.make_environ` fills them.
_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "",
    "SERVER_PORT": "",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "https",
    "wsgi.input": None,
    "wsgi.errors": None,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "REMOTE_ADDR": "",
    "REMOTE_PORT": "0",
}


def _usual(
    event: Event, options: AppOptions
) -> tuple[str, str, str, str, str | None, dict[str, Any]] | None:
    """Method, source IP, raw path, query, stage and headers of the usual event (every field
    present and of its type, no body, no route or base path to cut the path by), which the
    one-pass builders take; None for anything else, which goes the checking way."""
    ctx = event["requestContext"]
    http = ctx["http"]
    try:
        # Subscripts, cheaper than get(): the usual event has every one of these.
        given, raw_path = event["headers"], event["rawPath"]
        route_key, query = event["routeKey"], event["rawQueryString"]
        flag, stage = event["isBase64Encoded"], ctx["stage"]
        source_ip, method = http["sourceIp"], http["method"]
    except (KeyError, TypeError):
        return None
    body = event.get("body")
    if (
        type(http) is dict
        and type(method) is str
        and type(source_ip) is str
        and type(given) is dict
        and type(raw_path) is str
        and raw_path
        and type(route_key) is str
        and " " not in route_key
        and (stage is None or type(stage) is str)
        and type(query) is str
        and (body is None or body == "")
        and (flag is None or flag is True or flag is False)
        and not options.base_path
    ):
        return method, source_ip, raw_path, query, stage, given
    return None


def _server_and_cookie(
    event: Event, given: dict[str, Any]
) -> tuple[tuple[str, int | None], str, str | None]:
    """Server and scheme from the usual event's forwarded headers, and the Cookie header its
    ``cookies`` make (None without any): KeyError without those headers, TypeError unless
    ``cookies`` is a list of strings."""
    server, scheme = server_cached(
        given["host"], given["x-forwarded-port"], given["x-forwarded-proto"]
    )
    cookies = event.get("cookies")
    if cookies:
        if type(cookies) is not list:
            raise TypeError
        return server, scheme, "; ".join(cookies)
    if cookies is not None and cookies != []:
        raise TypeError
    return server, scheme, None


class ApiGatewayV2(DirectApp):
    name = "apigw-v2"
    #: Function URLs send the same format from a ``*.lambda-url.*`` domain, and leave the
    #: path percent-encoded where HTTP APIs decode it.
    function_url = False

    def infer(self, event: Event) -> bool:
        ctx = event.get("requestContext")
        if event.get("version") != "2.0" or type(ctx) is not dict or "http" not in ctx:
            return False
        domain = ctx.get("domainName")
        return (type(domain) is str and ".lambda-url." in domain) is self.function_url

    def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
        method, path, root, raw, query, body, scheme, server, source_ip, headers, cookie = (
            self._parts(event, options)
        )
        if cookie is not None:
            if type(headers) is dict and "cookie" not in headers and cookie.isascii():
                headers = {**headers, "cookie": cookie}  # never into the event's own object
            else:
                pairs = headers.items() if type(headers) is dict else headers
                headers = [*pairs, ("cookie", cookie)]
        return HttpRequest(
            method,
            path,
            query.encode("utf-8") if query else b"",
            None,
            body,
            scheme,
            server,
            (source_ip, 0) if source_ip else None,
            root,
            request_raw_path(root, path, raw),
            "1.1",
            {"aws.event": event, "aws.context": context},
            headers,
        )

    def asgi_scope(self, event: Event, context: Any, options: AppOptions) -> tuple[Scope, bytes]:
        """The ASGI scope and body of the request ``decode`` reads: the usual event (every
        field of the expected type, header names seen before, no body, no route or base
        path to cut the path by) in one pass, each field's type checked as far as the
        scope needs it; anything else the checking way (:meth:`DirectApp.asgi_scope`),
        which answers a malformed event with the 400 naming its field."""
        usual = _usual(event, options)
        if usual is None:
            return DirectApp.asgi_scope(self, event, context, options)
        method, source_ip, raw_path, query, stage, given = usual
        try:
            # KeyError for a name not seen yet, AttributeError or UnicodeEncodeError for a
            # value that is not text: the checking way says which.
            headers = [(_NAMES[name], value.encode()) for name, value in given.items()]
            server, scheme, cookie = _server_and_cookie(event, given)
            if cookie is not None:
                headers.append((b"cookie", cookie.encode()))
        except (KeyError, TypeError, AttributeError, UnicodeEncodeError):
            ascii_names(given, _NAMES)
            return DirectApp.asgi_scope(self, event, context, options)
        root = ""
        full = decoded(raw_path) if self.function_url else raw_path
        if stage and stage != "$default":
            prefix = "/" + stage
            if full.startswith(prefix + "/"):
                root = prefix
            elif full == prefix:
                root, full = prefix, prefix + "/"  # root path /prod, path /
        if self.function_url:
            raw = raw_path.encode()
        elif path_safe(full):
            raw = full.encode("ascii")
        else:
            raw = request_raw_path(full, "", None)
        # A copy of a scope with every key in place costs less than a dict display.
        scope = _SCOPE.copy()
        scope["method"] = method
        scope["scheme"] = scheme
        scope["path"] = full
        scope["raw_path"] = raw
        scope["query_string"] = query.encode() if query else b""
        scope["root_path"] = root
        scope["headers"] = headers
        scope["client"] = (source_ip, 0) if source_ip else None
        scope["server"] = server
        scope["aws.event"] = event
        scope["aws.context"] = context
        return scope, b""

    def wsgi_environ(self, event: Event, context: Any, options: AppOptions) -> dict[str, Any]:
        """The WSGI environ of the request ``decode`` reads: the usual event (as
        :meth:`asgi_scope` takes it, with a source IP and ASCII path, query, header values and
        cookies) in one pass; anything else the checking way
        (:meth:`DirectApp.wsgi_environ`), which answers a malformed event with its 400."""
        usual = _usual(event, options)
        if usual is None or not usual[1] or not usual[3].isascii():
            return DirectApp.wsgi_environ(self, event, context, options)
        method, source_ip, raw_path, query, stage, given = usual
        path = decoded(raw_path) if self.function_url else raw_path
        if not path.isascii():  # native strings to make: the checking way does
            return DirectApp.wsgi_environ(self, event, context, options)
        root = ""
        if stage and stage != "$default":
            prefix = "/" + stage
            if path.startswith(prefix + "/") or path == prefix:
                root, path = prefix, path[len(prefix) :] or "/"
        environ = _ENVIRON.copy()
        environ["REQUEST_METHOD"] = method
        environ["SCRIPT_NAME"] = root
        environ["PATH_INFO"] = path
        environ["QUERY_STRING"] = query
        environ["wsgi.input"] = BytesIO(b"")
        environ["wsgi.errors"] = sys.stderr
        environ["REMOTE_ADDR"] = source_ip
        size = len(environ) + len(given)
        try:
            # KeyError for a name not seen yet (or two spellings of one name), TypeError or
            # AttributeError for a value that is not ASCII text: the checking way says which.
            keys = ENVIRON_KEYS
            for name, value in given.items():
                if not value.isascii():
                    raise TypeError
                environ[keys[name]] = value
            if len(environ) != size:
                raise KeyError
            server, scheme, cookie = _server_and_cookie(event, given)
            if cookie is not None:
                if not cookie.isascii():
                    raise TypeError
                found = environ.get("HTTP_COOKIE")
                environ["HTTP_COOKIE"] = cookie if found is None else found + "; " + cookie
        except (KeyError, TypeError, AttributeError):
            environ_keys(given)
            return DirectApp.wsgi_environ(self, event, context, options)
        environ["SERVER_NAME"], environ["SERVER_PORT"] = server_vars(server, scheme)
        environ["wsgi.url_scheme"] = scheme
        environ["faasport.event"] = event
        environ["faasport.context"] = context
        return environ

    def _parts(self, event: Event, options: AppOptions) -> Parts:
        """Every field of the request, checked: method, path, root path, the raw path when
        the event keeps it encoded (Function URLs), query, body, scheme, server, source IP,
        text headers and the cookies (the header they make, or None)."""
        # The hot path of every HTTP API request: type checks inline, no helper per field.
        name = self.name
        ctx = event["requestContext"]
        http = ctx["http"]
        if type(http) is not dict:
            raise malformed(name, "requestContext.http", "an object")
        method = http.get("method")
        if type(method) is not str:
            raise malformed(name, "requestContext.http.method", "a string")
        # AWS sends lower-case names; sam local and hand-written events may not.
        given = event.get("headers")
        headers = header_text(given, name)
        cookies = event.get("cookies")
        if cookies:
            try:
                if type(cookies) is not list:
                    raise TypeError
                cookie = "; ".join(cookies)
                if not cookie.isascii():
                    cookie.encode("utf-8")
            except TypeError:
                raise malformed(name, "cookies", "a list of strings or null") from None
            except UnicodeEncodeError:
                raise malformed(name, "cookies", "a list of valid Unicode text") from None
        elif cookies is not None and cookies != []:
            raise malformed(name, "cookies", "a list of strings or null")
        else:
            cookie = None
        if given:
            get = given.get
            host, port, proto = get("host"), get("x-forwarded-port"), get("x-forwarded-proto")
            if host is None or port is None or proto is None:
                # Names not lower-case: the last value of each, as a server reads them.
                host = find_header(headers, "host")
                port = find_header(headers, "x-forwarded-port")
                proto = find_header(headers, "x-forwarded-proto")
            server, scheme = server_cached(host, port, proto)
        else:
            server, scheme = server_cached(None, None, None)
        raw_path = event.get("rawPath")
        if type(raw_path) is not str:
            if raw_path is not None:
                raise malformed(name, "rawPath", "a string or null")
            raw_path = http.get("path") or "/"
            if type(raw_path) is not str:
                raise malformed(name, "requestContext.http.path", "a string or null")
        raw_path = raw_path or "/"
        full = decoded(raw_path) if self.function_url else raw_path
        route_key = event.get("routeKey")
        if type(route_key) is not str:
            if route_key is not None:
                raise malformed(name, "routeKey", "a string or null")
            route_key = ""
        if " " in route_key or options.base_path:
            params = optional_object(event.get("pathParameters"), name, "pathParameters")
            if params and not is_text_map(params):
                raise malformed(name, "pathParameters", "an object of strings or null")
            route = route_path(route_key.partition(" ")[2], params)
            root, path = split_root(full, route, options)
        else:
            root, path = "", full
        stage = ctx.get("stage")
        if stage is not None and type(stage) is not str:
            raise malformed(name, "requestContext.stage", "a string or null")
        if stage and stage != "$default" and not root and not options.base_path:
            prefix = "/" + stage
            if full.startswith(prefix + "/") or full == prefix:
                root, path = prefix, full[len(prefix) :] or "/"
        source_ip = http.get("sourceIp")
        if source_ip is not None and type(source_ip) is not str:
            raise malformed(name, "requestContext.http.sourceIp", "a string or null")
        query = event.get("rawQueryString")
        if query is None:
            query = ""
        elif type(query) is not str:
            raise malformed(name, "rawQueryString", "a string or null")
        return (
            method,
            path,
            root,
            raw_path if self.function_url else None,
            query,
            decode_body(event, name),
            scheme,
            server,
            source_ip or None,
            headers,
            cookie,
        )

    def encode(self, response: HttpResponse, event: Event, options: AppOptions) -> dict[str, Any]:
        headers, cookies = joined_headers(response)
        body, is_base64 = encode_body(
            response.body, headers.get("content-type"), headers.get("content-encoding"), options
        )
        result: dict[str, Any] = {
            "statusCode": response.status,
            "headers": headers,
            "body": body,
            "isBase64Encoded": is_base64,
        }
        if cookies:
            result["cookies"] = cookies
        return result

    def build_event(self, request: HttpRequest, stage: str = "$default") -> dict[str, Any]:
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for key, text in text_pairs(request):
            if key == "cookie":
                cookies.extend(c.strip() for c in text.split(";") if c.strip())
            elif key in headers:
                headers[key] += "," + text
            else:
                headers[key] = text
        raw_path = request.path
        if self.function_url:  # the path as the client sent it
            raw = request.raw_path
            if raw:
                raw_path = raw.decode("utf-8")
            else:
                from urllib.parse import quote

                raw_path = quote(raw_path)
        if stage != "$default":
            raw_path = "/" + stage + raw_path
        body: str | None = None
        is_base64 = False
        if request.body:
            content_type = headers.get("content-type", "")
            body, is_base64 = event_body(request.body, not is_text_cached(content_type, ()))
        time_text, epoch_ms = request_time()
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": raw_path,
            "rawQueryString": request.query_string.decode("latin-1"),
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": headers.get("host", "localhost"),
                "domainPrefix": "local",
                "http": {
                    "method": request.method,
                    "path": raw_path,
                    "protocol": "HTTP/" + request.http_version,
                    "sourceIp": request.client[0] if request.client else "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": request_id(),
                "routeKey": "$default",
                "stage": stage,
                "time": time_text,
                "timeEpoch": epoch_ms,
            },
            "isBase64Encoded": is_base64,
        }
        if cookies:
            event["cookies"] = cookies
        if request.query_string:
            from urllib.parse import parse_qsl

            # As HTTP APIs send them: decoded, a repeated name's values joined by commas.
            params: dict[str, str] = {}
            query = event["rawQueryString"]
            for param, given in parse_qsl(query, keep_blank_values=True):
                params[param] = f"{params[param]},{given}" if param in params else given
            event["queryStringParameters"] = params
        if body is not None:
            event["body"] = body
        return event

    def parse_result(self, result: Any) -> HttpResponse:
        if not isinstance(result, dict) or "statusCode" not in result:
            # HTTP APIs treat any other return value as a JSON body with status 200.
            import json

            body = result if isinstance(result, str) else json.dumps(result)
            return HttpResponse(200, [(b"content-type", b"application/json")], body.encode())
        status = result["statusCode"]
        if not isinstance(status, int):
            raise ValueError("statusCode must be an integer")
        headers = [
            (name.lower().encode("latin-1"), str(value).encode("latin-1"))
            for name, value in (result.get("headers") or {}).items()
        ]
        cookies = result.get("cookies")
        if cookies:
            headers += [(b"set-cookie", c.encode("latin-1")) for c in cookies]
        return HttpResponse(status, headers, body_from_result(result))
