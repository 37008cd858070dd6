"""SQS's query protocol (form-encoded ``Action=...`` requests, XML answers), translated to and
from the JSON protocol's shapes so that one implementation serves both."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"
#: Flattened request lists (``Entry.1.Id``) -> the JSON protocol's member name.
_LISTS = {
    "SendMessageBatchRequestEntry": "Entries",
    "DeleteMessageBatchRequestEntry": "Entries",
    "ChangeMessageVisibilityBatchRequestEntry": "Entries",
    "AttributeName": "AttributeNames",
    "MessageAttributeName": "MessageAttributeNames",
}
#: Response lists: JSON member -> repeated XML element, per operation where they differ.
_RESULT_ITEMS = {
    "Messages": "Message",
    "Failed": "BatchResultErrorEntry",
    "QueueUrls": "QueueUrl",
}
_SUCCESSFUL = {
    "SendMessageBatch": "SendMessageBatchResultEntry",
    "DeleteMessageBatch": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibilityBatchResultEntry",
}
_INDEX = re.compile(r"\.(\d+)(?=\.|$)")


def parse(form: dict[str, str]) -> dict[str, Any]:
    """The JSON-protocol request of a query-protocol form."""
    tree: dict[str, Any] = {}
    for key, value in form.items():
        if key in ("Action", "Version"):
            continue
        node: Any = tree
        parts = key.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    shaped: dict[str, Any] = _shape(tree)
    return shaped


def _shape(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_shape(node[key]) for key in sorted(node, key=int)]
    out: dict[str, Any] = {}
    for key, value in node.items():
        shaped = _shape(value)
        if key in ("MessageAttribute", "Attribute") and isinstance(shaped, list):
            name = "MessageAttributes" if key == "MessageAttribute" else "Attributes"
            out[name] = {item["Name"]: item.get("Value") for item in shaped}
        elif key in _LISTS:
            out[_LISTS[key]] = shaped if isinstance(shaped, list) else [shaped]
        else:
            out[key] = shaped
    return out


def _xml(name: str, value: Any, action: str) -> str:
    if isinstance(value, list):
        item = _SUCCESSFUL.get(action, name) if name == "Successful" else _RESULT_ITEMS.get(name)
        return "".join(_xml(item or name, element, action) for element in value)
    if isinstance(value, dict):
        if name in ("Attributes", "MessageAttributes"):
            element = "Attribute" if name == "Attributes" else "MessageAttribute"
            return "".join(
                f"<{element}><Name>{escape(k)}</Name>{_xml('Value', v, action)}</{element}>"
                for k, v in value.items()
            )
        inner = "".join(_xml(k, v, action) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def response(action: str, result: dict[str, Any], request_id: str) -> bytes:
    inner = "".join(_xml(key, value, action) for key, value in result.items())
    return (
        f'<?xml version="1.0"?><{action}Response xmlns="{NAMESPACE}">'
        f"<{action}Result>{inner}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()


def error(code: str, message: str, request_id: str, namespace: str = NAMESPACE) -> bytes:
    kind = "Sender"
    return (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
