"""SQS operations on the local queues, in SQS's JSON protocol shapes (the query protocol is
translated to and from them in :mod:`faasport.local.aws_services.query`)."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any

from faasport.local.sources.consumer import ACCOUNT
from faasport.local.sources.queues import (
    MAX_DELAY,
    MAX_SIZE,
    Outgoing,
    QueueError,
    Queues,
    Sent,
    message_size,
    valid_receipt,
)

Operation = Callable[[Queues, dict[str, Any], str], dict[str, Any]]

#: SQS's limits on requests (a message's own are in :mod:`faasport.local.sources.queues`).
MAX_VISIBILITY = 43_200
MAX_WAIT = 20
MAX_RECEIVE = 10
MAX_ENTRIES = 10
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_INTEGER = re.compile(r"[-+]?\d{1,15}")


def queue_name(request: dict[str, Any]) -> str:
    url = request.get("QueueUrl")
    if not isinstance(url, str) or not url:
        raise QueueError("MissingParameter", "the request must contain the parameter QueueUrl")
    return url.rstrip("/").rpartition("/")[2]


def queue_url(base: str, name: str) -> str:
    return f"{base}/{ACCOUNT}/{name}"


def _integer(request: dict[str, Any], name: str, low: int, high: int) -> int | None:
    """``request[name]``, an integer from ``low`` to ``high``; None when it is absent."""
    value = request.get(name)
    if value is None:
        return None
    if type(value) is int:
        number: int | None = value
    else:
        number = int(value) if isinstance(value, str) and _INTEGER.fullmatch(value) else None
    if number is None or not low <= number <= high:
        raise QueueError(
            "InvalidParameterValue",
            f"Value {value} for parameter {name} is invalid. Reason: must be an integer"
            f" from {low} to {high}.",
        )
    return number


def _entries(request: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The ``Entries`` of a batch request, refused as SQS refuses them; ``kind`` is what
    SQS calls one (``SendMessageBatchRequestEntry``)."""
    entries = request.get("Entries") or []
    if not isinstance(entries, list):
        raise QueueError("InvalidParameterValue", f"Entries must be a list of {kind}")
    if not entries:
        raise QueueError(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            f"There should be at least one {kind} in the request.",
        )
    if len(entries) > MAX_ENTRIES:
        raise QueueError(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_ENTRIES}."
            f" You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise QueueError(
                "InvalidParameterValue",
                f"Entries.{index} must be a {kind} (an object), not {entry!r}",
            )
        id = entry.get("Id")
        if not isinstance(id, str) or _ENTRY_ID.fullmatch(id) is None:
            raise QueueError(
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                f"Entries.{index}: a batch entry id can only contain alphanumeric characters,"
                " hyphens and underscores. It can be at most 80 letters long.",
            )
        if id in seen:
            raise QueueError(
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", f"Id {id} repeated."
            )
        seen.add(id)
    return entries


def _failure(id: str, exc: QueueError) -> dict[str, Any]:
    return {"Id": id, "SenderFault": True, "Code": exc.code, "Message": str(exc)}


def _receipt(request: dict[str, Any]) -> str:
    receipt = request.get("ReceiptHandle")
    if not isinstance(receipt, str) or not receipt:
        raise QueueError("MissingParameter", "the request must contain ReceiptHandle")
    if not valid_receipt(receipt):
        raise QueueError(
            "ReceiptHandleIsInvalid",
            f'The input receipt handle "{receipt}" is not a valid receipt handle.',
        )
    return receipt


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
    """The request's message attributes, binary values as base64 (the queue checks them)."""
    given = request.get("MessageAttributes")
    if not given:
        return {}
    if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
        raise QueueError("InvalidParameterValue", "MessageAttributes must map names to values")
    out: dict[str, dict[str, str]] = {}
    for name, value in given.items():
        entry = {"DataType": str(value.get("DataType", ""))}
        binary = value.get("BinaryValue")
        if isinstance(binary, bytes):
            entry["BinaryValue"] = base64.b64encode(binary).decode()
        elif binary is not None:
            entry["BinaryValue"] = str(binary)
        elif "StringValue" in value:
            entry["StringValue"] = str(value["StringValue"])
        out[name] = entry
    return out


def _outgoing(request: dict[str, Any]) -> Outgoing:
    body = request.get("MessageBody")
    if not isinstance(body, str):
        raise QueueError("MissingParameter", "the request must contain MessageBody")
    return Outgoing(
        body,
        _attributes(request),
        request.get("MessageGroupId"),
        request.get("MessageDeduplicationId"),
        _integer(request, "DelaySeconds", 0, MAX_DELAY),
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
    entries = _entries(request, "SendMessageBatchRequestEntry")
    fifo = queues.spec(name).fifo
    messages: dict[str, Outgoing] = {}
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            messages[entry["Id"]] = _outgoing(entry)
        except QueueError as exc:
            failed.append(_failure(entry["Id"], exc))
    size = sum(message_size(message) for message in messages.values())
    if size > MAX_SIZE:
        raise QueueError(
            "AWS.SimpleQueueService.BatchRequestTooLong",
            f"Batch requests cannot be longer than {MAX_SIZE} bytes. You have sent {size} bytes.",
        )
    ok: list[dict[str, Any]] = []
    results = queues.send_batch(name, list(messages.values()))
    for (id, message), sent in zip(messages.items(), results, strict=True):
        if isinstance(sent, QueueError):
            failed.append(_failure(id, sent))
        else:
            ok.append({"Id": id, **_sent(message, sent, fifo)})
    return {"Successful": ok, "Failed": failed}


def receive_message(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    count = _integer(request, "MaxNumberOfMessages", 1, MAX_RECEIVE) or 1
    visibility = _integer(request, "VisibilityTimeout", 0, MAX_VISIBILITY)
    wait = _integer(request, "WaitTimeSeconds", 0, MAX_WAIT) or 0
    deadline = time.monotonic() + wait
    while True:
        since = queues.version(name)
        batch = queues.receive(name, count, visibility)
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
    # A receipt of a message already deleted deletes nothing, and that is a success (as SQS).
    queues.delete(queue_name(request), [_receipt(request)])
    return {}


def delete_message_batch(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    name = queue_name(request)
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    receipts: list[str] = []
    for entry in _entries(request, "DeleteMessageBatchRequestEntry"):
        try:
            receipts.append(_receipt(entry))
        except QueueError as exc:
            failed.append(_failure(entry["Id"], exc))
        else:
            ok.append({"Id": entry["Id"]})
    queues.delete(name, receipts)
    return {"Successful": ok, "Failed": failed}


def _change_visibility(queues: Queues, name: str, request: dict[str, Any]) -> None:
    receipt = _receipt(request)
    seconds = _integer(request, "VisibilityTimeout", 0, MAX_VISIBILITY)
    if seconds is None:
        raise QueueError("MissingParameter", "the request must contain VisibilityTimeout")
    if not queues.change_visibility(name, receipt, seconds):
        raise QueueError(
            "InvalidParameterValue",
            f"Value {receipt} for parameter ReceiptHandle is invalid. Reason: Message does not"
            " exist or is not available for visibility timeout change.",
        )


def change_message_visibility(queues: Queues, request: dict[str, Any], base: str) -> dict[str, Any]:
    _change_visibility(queues, queue_name(request), request)
    return {}


def change_message_visibility_batch(
    queues: Queues, request: dict[str, Any], base: str
) -> dict[str, Any]:
    name = queue_name(request)
    queues.spec(name)
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in _entries(request, "ChangeMessageVisibilityBatchRequestEntry"):
        try:
            _change_visibility(queues, name, entry)
        except QueueError as exc:
            failed.append(_failure(entry["Id"], exc))
        else:
            ok.append({"Id": entry["Id"]})
    return {"Successful": ok, "Failed": failed}


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
    "ChangeMessageVisibilityBatch": change_message_visibility_batch,
    "GetQueueUrl": get_queue_url,
    "ListQueues": list_queues,
    "PurgeQueue": purge_queue,
    "GetQueueAttributes": get_queue_attributes,
}
