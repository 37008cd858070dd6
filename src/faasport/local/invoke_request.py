"""What an Invoke API request names and carries, read as Lambda reads it: the function
(``FunctionName`` in the path, ``Qualifier`` in the query), the payload and the client
context. Each reader answers the value or the refusal (status, error type, message)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.local.emulator import Emulator

#: What the service answers a request it refuses: status, error type, message.
Refusal = tuple[int, str, str]

#: Lambda's ``FunctionName``: a name, ``name:qualifier``, a partial ARN
#: (``ACCOUNT:function:name``) or an ARN, each with an optional qualifier.
_NAME = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-gov)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?"
)
#: Lambda's limit on ``ClientContext`` (its base64 text).
MAX_CLIENT_CONTEXT = 3583


def function(runtime: Emulator, raw: str, query: str) -> str | Refusal:
    """The local function ``raw`` (the path's percent-encoded ``FunctionName``) and the
    query's ``Qualifier`` name. An ARN is matched by its name (``faasport dev`` has no
    account); a qualifier must be ``$LATEST`` or the alias the function's deployment
    publishes (``live``), else the function is not found, as Lambda answers."""
    text = unquote(raw)
    found = _NAME.fullmatch(text) if len(text) <= 170 else None
    if found is None:
        return (
            400,
            "ValidationException",
            f"1 validation error detected: Value '{text[:170]}' at 'functionName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: a function "
            "name, name:qualifier or a Lambda function ARN",
        )
    qualifier = found["qualifier"]
    asked = parse_qs(query).get("Qualifier")
    if asked:
        if qualifier is not None and asked[0] != qualifier:
            return (
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        qualifier = asked[0]
    name = runtime.aliases.get(found["name"], found["name"])
    spec = runtime.specs.get(name)
    if spec is None or qualifier not in (None, "$LATEST", spec.alias):
        arn = spec.arn if spec is not None else _arn(found["name"])
        return (
            404,
            "ResourceNotFoundException",
            f"Function not found: {arn}" + (f":{qualifier}" if qualifier else ""),
        )
    return name


def _arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def payload_refusal(payload: bytes) -> Refusal | None:
    """Why ``payload`` is not a JSON document Lambda would take, or None."""
    import json

    try:
        json.loads(payload, parse_constant=_not_json)
    except RecursionError:
        return (
            400,
            "InvalidRequestContentException",
            ("Could not parse request body into json: nested too deeply"),
        )
    except ValueError as exc:
        return (
            400,
            "InvalidRequestContentException",
            (f"Could not parse request body into json: {exc}"),
        )
    return None


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not a JSON value")


def client_context(header: str | None) -> str | Refusal | None:
    """The JSON text of an ``X-Amz-Client-Context`` header (base64), or None without one."""
    if not header:
        return None
    import base64
    import binascii
    import json

    refusal = (
        400,
        "InvalidRequestContentException",
        "Client context must be a valid Base64-encoded JSON object.",
    )
    if len(header) > MAX_CLIENT_CONTEXT:
        return (
            400,
            "InvalidParameterValueException",
            f"Client context must be at most {MAX_CLIENT_CONTEXT} bytes of base64.",
        )
    try:
        text = base64.b64decode(header, validate=True).decode()
        document = json.loads(text, parse_constant=_not_json)
    except (binascii.Error, ValueError, RecursionError):
        return refusal
    return text if isinstance(document, dict) else refusal
