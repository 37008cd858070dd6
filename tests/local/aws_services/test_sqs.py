"""SQS's request checks on the endpoint in process, through boto3 (the JSON protocol) and the
query protocol: parameter ranges, receipt handles, batch rules and message contents, each
refused with SQS's own error code rather than accepted, dropped or answered with a 500."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from tests.local.aws_services.conftest import NS


@pytest.fixture
def sqs(endpoint: str) -> Iterator[Any]:
    client = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        yield client
    finally:
        client.close()


def url(endpoint: str) -> str:
    return f"{endpoint}/123456789012/jobs"


def code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def query_error(endpoint: str, form: dict[str, str]) -> tuple[str, str]:
    """A query-protocol request that must be refused: its error's code and message."""
    answer = httpx.post(endpoint, data=form)
    assert answer.status_code == 400
    error = ET.fromstring(answer.content).find("q:Error", NS)
    assert error is not None
    return error.findtext("q:Code", "", NS), error.findtext("q:Message", "", NS)


def json_call(endpoint: str, operation: str, request: bytes) -> httpx.Response:
    return httpx.post(
        endpoint,
        content=request,
        headers={
            "X-Amz-Target": f"AmazonSQS.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )


# -- parameter ranges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"VisibilityTimeout": -5},
        {"VisibilityTimeout": 43_201},
        {"WaitTimeSeconds": 25},
        {"WaitTimeSeconds": -5},
        {"MaxNumberOfMessages": 0},
        {"MaxNumberOfMessages": 11},
    ],
)
def test_receive_refuses_out_of_range_parameters(
    endpoint: str, sqs: Any, options: dict[str, int]
) -> None:
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="once")
    with pytest.raises(ClientError, match=f"parameter {next(iter(options))} is invalid") as info:
        sqs.receive_message(QueueUrl=url(endpoint), **options)
    assert code(info) == "InvalidParameterValue"
    # Nothing was received: the message is there for the next consumer, once.
    [message] = sqs.receive_message(QueueUrl=url(endpoint), VisibilityTimeout=30)["Messages"]
    assert message["Body"] == "once"
    assert "Messages" not in sqs.receive_message(QueueUrl=url(endpoint))


def test_a_visibility_timeout_that_is_not_a_number_is_refused_in_json(endpoint: str) -> None:
    request = b'{"QueueUrl": "%s", "VisibilityTimeout": NaN}' % url(endpoint).encode()
    answer = json_call(endpoint, "ReceiveMessage", request)
    assert answer.status_code == 400
    assert answer.json()["__type"] == "com.amazonaws.sqs#InvalidParameterValue"
    assert "parameter VisibilityTimeout is invalid" in answer.json()["message"]


@pytest.mark.parametrize("value", ["inf", "1e9", "1000000000", "2.5", "-5", ""])
def test_query_protocol_visibility_timeouts_out_of_range_are_refused(
    endpoint: str, value: str
) -> None:
    form = {"Action": "ReceiveMessage", "QueueUrl": url(endpoint), "VisibilityTimeout": value}
    error, message = query_error(endpoint, form)
    assert error == "InvalidParameterValue"
    assert message.startswith(f"Value {value} for parameter VisibilityTimeout is invalid.")


@pytest.mark.parametrize("seconds", [-1, 43_201])
def test_change_visibility_refuses_out_of_range_timeouts(
    endpoint: str, sqs: Any, seconds: int
) -> None:
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=url(endpoint))["Messages"]
    with pytest.raises(ClientError, match="parameter VisibilityTimeout is invalid"):
        sqs.change_message_visibility(
            QueueUrl=url(endpoint),
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=seconds,
        )
    answer = sqs.change_message_visibility_batch(
        QueueUrl=url(endpoint),
        Entries=[
            {"Id": "a", "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": seconds}
        ],
    )
    assert [(f["Id"], f["Code"]) for f in answer["Failed"]] == [("a", "InvalidParameterValue")]


@pytest.mark.parametrize("value", ["901", "-1", "inf", "1e9"])
def test_send_refuses_delays_out_of_range(endpoint: str, value: str) -> None:
    form = {
        "Action": "SendMessage",
        "QueueUrl": url(endpoint),
        "MessageBody": "x",
        "DelaySeconds": value,
    }
    error, message = query_error(endpoint, form)
    assert (error, message.split(" is invalid")[0]) == (
        "InvalidParameterValue",
        f"Value {value} for parameter DelaySeconds",
    )


def test_change_visibility_batch_changes_each_entry(endpoint: str, sqs: Any) -> None:
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="again")
    [message] = sqs.receive_message(QueueUrl=url(endpoint))["Messages"]
    answer = sqs.change_message_visibility_batch(
        QueueUrl=url(endpoint),
        Entries=[{"Id": "a", "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}],
    )
    assert [e["Id"] for e in answer["Successful"]] == ["a"]
    [again] = sqs.receive_message(QueueUrl=url(endpoint))["Messages"]
    assert again["Body"] == "again"


# -- receipt handles and batches -----------------------------------------------------------


def test_a_garbage_receipt_handle_is_invalid(endpoint: str, sqs: Any) -> None:
    with pytest.raises(ClientError, match="not a valid receipt handle") as info:
        sqs.delete_message(QueueUrl=url(endpoint), ReceiptHandle="garbage")
    assert code(info) == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError, match="not a valid receipt handle"):
        sqs.change_message_visibility(
            QueueUrl=url(endpoint), ReceiptHandle="garbage", VisibilityTimeout=5
        )


def test_the_receipt_of_a_deleted_message_still_deletes_successfully(
    endpoint: str, sqs: Any
) -> None:
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=url(endpoint))["Messages"]
    receipt = message["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url(endpoint), ReceiptHandle=receipt)
    sqs.delete_message(QueueUrl=url(endpoint), ReceiptHandle=receipt)
    answer = sqs.delete_message_batch(
        QueueUrl=url(endpoint),
        Entries=[{"Id": "gone", "ReceiptHandle": receipt}, {"Id": "bad", "ReceiptHandle": "x"}],
    )
    assert [e["Id"] for e in answer["Successful"]] == ["gone"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in answer["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]


def entries(operation: str, ids: list[str]) -> list[dict[str, Any]]:
    fields: dict[str, dict[str, Any]] = {
        "send_message_batch": {"MessageBody": "x"},
        "delete_message_batch": {"ReceiptHandle": "1:" + "0" * 32},
        "change_message_visibility_batch": {
            "ReceiptHandle": "1:" + "0" * 32,
            "VisibilityTimeout": 5,
        },
    }
    return [{"Id": id, **fields[operation]} for id in ids]


@pytest.mark.parametrize(
    "operation", ["send_message_batch", "delete_message_batch", "change_message_visibility_batch"]
)
@pytest.mark.parametrize(
    ("ids", "error"),
    [
        ([], "EmptyBatchRequest"),
        ([str(n) for n in range(11)], "TooManyEntriesInBatchRequest"),
        (["a b"], "InvalidBatchEntryId"),
        (["a" * 81], "InvalidBatchEntryId"),
        (["ok", "caf\u00e9"], "InvalidBatchEntryId"),
        (["x", "y", "x"], "BatchEntryIdsNotDistinct"),
    ],
)
def test_batches_follow_sqs_rules(
    endpoint: str, sqs: Any, operation: str, ids: list[str], error: str
) -> None:
    with pytest.raises(ClientError) as info:
        getattr(sqs, operation)(QueueUrl=url(endpoint), Entries=entries(operation, ids))
    assert code(info) == f"AWS.SimpleQueueService.{error}"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Ids of 80 letters, digits, hyphens and underscores are fine.
    fine = ["A-z_9" * 16, "b"]
    getattr(sqs, operation)(QueueUrl=url(endpoint), Entries=entries(operation, fine))


def test_a_batch_over_the_size_limit_is_too_long(endpoint: str, sqs: Any) -> None:
    body = "x" * 100_000
    with pytest.raises(ClientError, match="cannot be longer than 262144 bytes") as info:
        sqs.send_message_batch(
            QueueUrl=url(endpoint),
            Entries=[{"Id": str(n), "MessageBody": body} for n in range(3)],
        )
    assert code(info) == "AWS.SimpleQueueService.BatchRequestTooLong"
    assert (
        sqs.get_queue_attributes(QueueUrl=url(endpoint))["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )


@pytest.mark.parametrize("entries", [b"[1]", b'["x"]', b"[null]", b'{"Id": "a"}'])
def test_batch_entries_that_are_not_objects_are_a_400(endpoint: str, entries: bytes) -> None:
    request = b'{"QueueUrl": "%s", "Entries": %s}' % (url(endpoint).encode(), entries)
    answer = json_call(endpoint, "SendMessageBatch", request)
    assert answer.status_code == 400
    assert answer.json()["__type"] == "com.amazonaws.sqs#InvalidParameterValue"
    assert "Entries" in answer.json()["message"]


def test_query_protocol_batches_answer_in_xml(endpoint: str, sqs: Any) -> None:
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=url(endpoint))["Messages"]
    answer = httpx.post(
        endpoint,
        data={
            "Action": "ChangeMessageVisibilityBatch",
            "QueueUrl": url(endpoint),
            "ChangeMessageVisibilityBatchRequestEntry.1.Id": "ok",
            "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": message["ReceiptHandle"],
            "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "60",
            "ChangeMessageVisibilityBatchRequestEntry.2.Id": "bad",
            "ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle": "garbage",
            "ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout": "60",
        },
    )
    assert answer.status_code == 200
    result = ET.fromstring(answer.content).find("q:ChangeMessageVisibilityBatchResult", NS)
    assert result is not None
    ok = result.findall("q:ChangeMessageVisibilityBatchResultEntry", NS)
    assert [e.findtext("q:Id", namespaces=NS) for e in ok] == ["ok"]
    [failed] = result.findall("q:BatchResultErrorEntry", NS)
    assert failed.findtext("q:Code", namespaces=NS) == "ReceiptHandleIsInvalid"
    form = {"Action": "DeleteMessageBatch", "QueueUrl": url(endpoint)}
    assert query_error(endpoint, form)[0] == "AWS.SimpleQueueService.EmptyBatchRequest"


# -- message contents ----------------------------------------------------------------------


def test_bodies_xml_cannot_carry_are_refused(endpoint: str, sqs: Any) -> None:
    with pytest.raises(ClientError, match="#x0") as info:
        sqs.send_message(QueueUrl=url(endpoint), MessageBody="a\x00b\x01")
    assert code(info) == "InvalidMessageContents"
    form = {"Action": "SendMessage", "QueueUrl": url(endpoint), "MessageBody": "a\ufffeb"}
    assert query_error(endpoint, form)[0] == "InvalidMessageContents"
    # What XML does carry goes through, and a query-protocol receive answers well-formed XML.
    text = "tab\there \U0001f600 \ud7ff\ue000"
    sqs.send_message(QueueUrl=url(endpoint), MessageBody=text)
    received = httpx.post(endpoint, data={"Action": "ReceiveMessage", "QueueUrl": url(endpoint)})
    body = ET.fromstring(received.content).findtext(
        "q:ReceiveMessageResult/q:Message/q:Body", namespaces=NS
    )
    assert body == text


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ({"DataType": "Strin", "StringValue": "x"}, "invalid message attribute type"),
        ({"DataType": "Number", "StringValue": "abc"}, "to a number"),
        ({"DataType": "Number", "StringValue": "1_000"}, "to a number"),
        ({"DataType": "String", "StringValue": "a\x00"}, "#x0"),
        ({"DataType": "Binary", "StringValue": "x"}, "must use field 'Binary'"),
    ],
)
def test_attributes_sqs_refuses(
    endpoint: str, sqs: Any, attribute: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError, match=message):
        sqs.send_message(
            QueueUrl=url(endpoint), MessageBody="x", MessageAttributes={"a": attribute}
        )


def test_custom_attribute_types_and_numbers_are_accepted(endpoint: str, sqs: Any) -> None:
    attributes = {
        "id": {"DataType": "String.uuid", "StringValue": "0d9c"},
        "n": {"DataType": "Number.int", "StringValue": "-1.5e3"},
        "b": {"DataType": "Binary.gz", "BinaryValue": b"\x1f\x8b"},
    }
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="x", MessageAttributes=attributes)
    [message] = sqs.receive_message(QueueUrl=url(endpoint), MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert message["MessageAttributes"]["id"]["DataType"] == "String.uuid"


def test_a_binary_value_must_be_base64_in_the_query_protocol(endpoint: str) -> None:
    form = {
        "Action": "SendMessage",
        "QueueUrl": url(endpoint),
        "MessageBody": "x",
        "MessageAttribute.1.Name": "b",
        "MessageAttribute.1.Value.DataType": "Binary",
        "MessageAttribute.1.Value.BinaryValue": "not base64!",
    }
    assert query_error(endpoint, form) == (
        "InvalidParameterValue",
        "The message attribute 'b' has a BinaryValue that is not base64.",
    )


def test_attributes_count_toward_the_message_size(endpoint: str, sqs: Any) -> None:
    name, kind, value = "name", "String", "v" * 100
    attributes = {name: {"DataType": kind, "StringValue": value}}
    room = 262_144 - len(name) - len(kind) - len(value)
    sqs.send_message(QueueUrl=url(endpoint), MessageBody="x" * room, MessageAttributes=attributes)
    with pytest.raises(ClientError, match="at most 262144 bytes") as info:
        sqs.send_message(
            QueueUrl=url(endpoint), MessageBody="x" * (room + 1), MessageAttributes=attributes
        )
    assert code(info) == "InvalidParameterValue"
    with pytest.raises(ClientError, match="You have sent 262145 bytes"):
        sqs.send_message_batch(
            QueueUrl=url(endpoint),
            Entries=[{"Id": "a", "MessageBody": "x" * (room + 1), "MessageAttributes": attributes}],
        )


def test_errors_name_their_json_type_without_the_query_prefix(endpoint: str) -> None:
    request = json.dumps({"QueueUrl": url(endpoint), "Entries": []}).encode()
    answer = json_call(endpoint, "DeleteMessageBatch", request)
    assert answer.status_code == 400
    assert answer.json()["__type"] == "com.amazonaws.sqs#EmptyBatchRequest"
    assert answer.headers["x-amzn-query-error"] == (
        "AWS.SimpleQueueService.EmptyBatchRequest;Sender"
    )
