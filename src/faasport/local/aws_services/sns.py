"""SNS's query protocol on the local topics: Publish, CreateTopic (of a configured topic, to
learn its ARN) and ListTopics."""

from __future__ import annotations

import json
from collections.abc import Mapping
from xml.sax.saxutils import escape

from faasport.local.sources.queues import QueueError
from faasport.local.sources.topics import Topics

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"


def _attributes(form: dict[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    index = 1
    while f"MessageAttributes.entry.{index}.Name" in form:
        prefix = f"MessageAttributes.entry.{index}."
        value = {
            key: form[prefix + "Value." + key]
            for key in ("DataType", "StringValue", "BinaryValue")
            if prefix + "Value." + key in form
        }
        out[form[prefix + "Name"]] = value
        index += 1
    return out


def _message(form: dict[str, str]) -> str | Mapping[str, str]:
    """The message, or with ``MessageStructure=json`` its message per protocol."""
    message = form.get("Message", "")
    structure = form.get("MessageStructure")
    if structure is None:
        return message
    if structure != "json":
        raise QueueError("InvalidParameter", "Invalid parameter: MessageStructure must be json")
    try:
        per_protocol = json.loads(message)
    except ValueError:
        per_protocol = None
    if not isinstance(per_protocol, dict):
        raise QueueError(
            "InvalidParameter",
            "Invalid parameter: Message Structure - JSON message body failed to parse",
        )
    if not isinstance(per_protocol.get("default"), str):
        raise QueueError(
            "InvalidParameter",
            "Invalid parameter: Message Structure - No default entry in JSON message body",
        )
    if not all(isinstance(value, str) for value in per_protocol.values()):
        raise QueueError(
            "InvalidParameter",
            "Invalid parameter: Message Structure - each protocol's message must be a string",
        )
    return per_protocol


def call(topics: Topics, action: str, form: dict[str, str]) -> str:
    """The result's inner XML."""
    if action == "Publish":
        arn = form.get("TopicArn") or form.get("TargetArn") or ""
        topic = topics.known(arn.rpartition(":")[2])
        id = topics.publish(topic, _message(form), _attributes(form), form.get("Subject", ""))
        return f"<MessageId>{id}</MessageId>"
    if action == "CreateTopic":
        topic = topics.known(form.get("Name", ""))
        return f"<TopicArn>{escape(topics.arn(topic))}</TopicArn>"
    if action == "ListTopics":
        members = "".join(
            f"<member><TopicArn>{escape(topics.arn(name))}</TopicArn></member>"
            for name in sorted(topics.subscriptions)
        )
        return f"<Topics>{members}</Topics>"
    raise QueueError(
        "InvalidAction", f"faasport dev does not emulate the SNS operation {action or '(none)'}"
    )


def response(action: str, inner: str, request_id: str) -> bytes:
    return (
        f'<?xml version="1.0"?><{action}Response xmlns="{NAMESPACE}">'
        f"<{action}Result>{inner}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()
