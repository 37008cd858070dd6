"""SNS's query protocol on the local topics: Publish, CreateTopic (of a configured topic, to
learn its ARN) and ListTopics."""

from __future__ import annotations

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


def call(topics: Topics, action: str, form: dict[str, str]) -> str:
    """The result's inner XML."""
    if action == "Publish":
        arn = form.get("TopicArn") or form.get("TargetArn") or ""
        topic = topics.known(arn.rpartition(":")[2])
        id = topics.publish(
            topic, form.get("Message", ""), _attributes(form), form.get("Subject", "")
        )
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
