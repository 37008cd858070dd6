"""SQS operations on the local queues, in SQS's JSON protocol shapes (the query protocol is
translated to and from them in :mod:`faasport.local.aws_services.query`)."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Mapping
from typing import Any

from faasport.local.sources.consumer import ACCOUNT
from faasport.local.sources.queues import Outgoing, QueueError, Queues, Sent

Operation = Callable[[Queues, dict[str, Any], str], dict[str, Any]]


def queue_name(request: dict[str, Any]) -> str:
    url = request.get("QueueUrl")
    if not isinstance(url, str) or not url:
        raise QueueError("MissingParameter", "the request must contain the parameter QueueUrl")
    return url.rstrip("/").rpartition("/")[2]


def queue_url(base: str, name: str) -> str:
    return f"{base}/{ACCOUNT}/{name}"


def attributes_md5(attributes: Mapping[str, Mapping[str, str]]) -> str:
    """SQS's MD5OfMessageAttributes, which boto3 checks."""
    digest = hashlib.md5()
    for name in sorted(attributes):
        value = attributes[name]
        kind = value.get("DataType", "String")
        digest.update(struct.pack(">I", len(name.encode())) + name.encode())
        digest.update(struct.pack(">I", len(kind.encode())) + kind.encode())
        if "BinaryValue" in value:
            data = base64.b64decode(value["BinaryValue"])
            digest.update(b"\x02" + struct.pack(">I", len(data)) + data)
        else:
            text = value.get("StringValue", "").encode()
            digest.update(b"\x01" + struct.pack(">I", len(text)) + text)
    return digest.hexdigest()


def _attributes(request: dict[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    given = request.get("MessageAttributes")
    if not given:
        return out
    if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
        raise QueueError("InvalidParameterValue", "MessageAttributes must map names to values")
    for name, value in given.items():
        kind = value.get("DataType")
        if not kind:
            raise QueueError(
                "InvalidParameterValue", f"message attribute {name!r} must have a DataType"
            )
        entry = {"DataType": kind}
        if "BinaryValue" in value:
            binary = value["BinaryValue"]
            entry["BinaryValue"] = (
                base64.b64encode(binary).decode() if isinstance(binary, bytes) else str(binary)
            )
        elif "StringValue" in value:
            entry["StringValue"] = str(value["StringValue"])
        else:
            raise QueueError(
                "InvalidParameterValue", f"message attribute {name!r} must have a value"
            )
        out[name] = entry
    return out


def _outgoing(request: dict[str, Any]) -> Outgoing:
    body = request.get("MessageBody")
    if not isinstance(body, str):
        raise QueueError("MissingParameter", "the request must contain MessageBody")
    delay = request.get("DelaySeconds")
    return Outgoing(
        body,
        _attributes(request),
        request.get("MessageGroupId"),
        request.get("MessageDeduplicationId"),
        None if delay is None else int(delay),
    )


def _sent(message: Outgoing, sent: Sent, fifo: bool) -> dict[str, Any]:
    out = {"MessageId": sent.id, "MD5OfMessageBody": sent.md5}
    if message.attributes:
        out["MD5OfMessageAttributes"] = attributes_md5(message.attributes)
    if fifo:
        out["SequenceNumber"] = f"{sent.seq:020d}"
    return out


def send_message(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    message = _outgoing(request)
    [sent] = queues.send_batch(name, [message])
    if isinstance(sent, QueueError):
        raise sent
    return _sent(message, sent, queues.spec(name).fifo)


def send_message_batch(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    entries = request.get("Entries") or []
    if not entries:
        raise QueueError("AWS.SimpleQueueService.EmptyBatchRequest", "the batch has no entries")
    if len(entries) > 10:
        raise QueueError(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "at most 10 entries"
        )
    ids = [entry.get("Id") for entry in entries]
    if len(set(ids)) != len(ids):
        raise QueueError(
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "the entries' ids must differ"
        )
    messages = [_outgoing(entry) for entry in entries]
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    results = queues.send_batch(name, messages)
    fifo = queues.spec(name).fifo
    for id, message, sent in zip(ids, messages, results, strict=True):
        if isinstance(sent, QueueError):
            failed.append({"Id": id, "SenderFault": True, "Code": sent.code, "Message": str(sent)})
        else:
            ok.append({"Id": id, **_sent(message, sent, fifo)})
    return {"Successful": ok, "Failed": failed}


def receive_message(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    count = int(request.get("MaxNumberOfMessages") or 1)
    if not 1 <= count <= 10:
        raise QueueError("InvalidParameterValue", "MaxNumberOfMessages must be 1 to 10")
    visibility = request.get("VisibilityTimeout")
    wait = float(request.get("WaitTimeSeconds") or 0)
    import time

    deadline = time.monotonic() + min(wait, 20.0)
    while True:
        since = queues.version(name)
        batch = queues.receive(name, count, None if visibility is None else float(visibility))
        left = deadline - time.monotonic()
        if batch.more:
            queues.nudge(name)  # another consumer finds the rest
        if batch or left <= 0:
            break
        queues.wait(name, left, since)
    messages = []
    for message in batch:
        out: dict[str, Any] = {
            "MessageId": message.id,
            "ReceiptHandle": message.receipt,
            "MD5OfBody": hashlib.md5(message.body.encode()).hexdigest(),
            "Body": message.body,
            "Attributes": {
                "ApproximateReceiveCount": str(message.receives),
                "SentTimestamp": str(message.sent_ms),
                "ApproximateFirstReceiveTimestamp": str(message.first_ms),
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            },
        }
        if message.group is not None:
            out["Attributes"]["MessageGroupId"] = message.group
            out["Attributes"]["MessageDeduplicationId"] = message.dedup or ""
        if message.attributes:
            out["MessageAttributes"] = message.attributes
            out["MD5OfMessageAttributes"] = attributes_md5(message.attributes)
        messages.append(out)
    return {"Messages": messages} if messages else {}


def delete_message(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    receipt = request.get("ReceiptHandle")
    if not isinstance(receipt, str) or not receipt:
        raise QueueError("MissingParameter", "the request must contain ReceiptHandle")
    queues.delete(queue_name(request), [receipt])
    return {}


def delete_message_batch(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    entries = request.get("Entries") or []
    queues.delete(name, [entry["ReceiptHandle"] for entry in entries])
    return {"Successful": [{"Id": entry["Id"]} for entry in entries], "Failed": []}


def change_message_visibility(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    if not queues.change_visibility(
        queue_name(request),
        str(request.get("ReceiptHandle")),
        float(request.get("VisibilityTimeout") or 0),
    ):
        raise QueueError("ReceiptHandleIsInvalid", "the receipt handle is not in flight")
    return {}


def get_queue_url(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = str(request.get("QueueName") or "")
    queues.spec(name)
    return {"QueueUrl": queue_url(base, name)}


def list_queues(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    prefix = str(request.get("QueueNamePrefix") or "")
    return {"QueueUrls": [queue_url(base, n) for n in sorted(queues.specs) if n.startswith(prefix)]}


def purge_queue(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    queues.purge(queue_name(request))
    return {}


def get_queue_attributes(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    spec = queues.spec(name)
    counts = queues.counts(name)
    attributes = {
        "ApproximateNumberOfMessages": str(counts["visible"]),
        "ApproximateNumberOfMessagesNotVisible": str(counts["in_flight"]),
        "ApproximateNumberOfMessagesDelayed": str(counts["delayed"]),
        "VisibilityTimeout": str(int(spec.visibility_timeout)),
        "DelaySeconds": str(spec.delay),
        "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}",
        "FifoQueue": "true" if spec.fifo else "false",
    }
    return {"Attributes": attributes}


OPERATIONS: dict[str, Operation] = {
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
    "ChangeMessageVisibility": change_message_visibility,
    "GetQueueUrl": get_queue_url,
    "ListQueues": list_queues,
    "PurgeQueue": purge_queue,
    "GetQueueAttributes": get_queue_attributes,
}
