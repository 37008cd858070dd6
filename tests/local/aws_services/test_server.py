"""The AWS-compatible endpoint in process: boto3 (SQS's JSON protocol), SQS's query protocol
as AWS documents its requests, error shapes, and requests it must refuse without dropping the
connection."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from tests.local.aws_services.conftest import NS

from dev_process import wait_for
from faasport.local.aws_services.server import LIMITS, Services
from faasport.local.connections import Limits
from faasport.local.sources.queues import Queues, QueueSpec
from faasport.local.sources.store import Store
from faasport.local.sources.streams import Streams


def client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_boto3_round_trip_with_attributes(endpoint: str) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    attributes = {
        "kind": {"DataType": "String", "StringValue": "report"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "n": {"DataType": "Number", "StringValue": "42"},
    }
    # boto3 checks MD5OfMessageBody and MD5OfMessageAttributes on both calls.
    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes=attributes)
    [message] = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]
    assert message["Body"] == "hello"
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_batch_entries_fail_one_by_one(endpoint: str) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    answer = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "ok"},
            {"Id": "b", "MessageBody": "late", "DelaySeconds": 901},
        ],
    )
    assert [e["Id"] for e in answer["Successful"]] == ["a"]
    assert [(e["Id"], e["Code"]) for e in answer["Failed"]] == [("b", "InvalidParameterValue")]
    with pytest.raises(ClientError, match="BatchEntryIdsNotDistinct"):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}],
        )


def test_query_protocol_as_documented(endpoint: str) -> None:
    url = f"{endpoint}/123456789012/jobs"
    sent = httpx.post(
        endpoint,
        data={
            "Action": "SendMessage",
            "Version": "2012-11-05",
            "QueueUrl": url,
            "MessageBody": "This is my message text.",
            "MessageAttribute.1.Name": "my_attribute_name_1",
            "MessageAttribute.1.Value.StringValue": "my_attribute_value_1",
            "MessageAttribute.1.Value.DataType": "String",
        },
    )
    assert sent.status_code == 200
    result = ET.fromstring(sent.content).find("q:SendMessageResult", NS)
    assert result is not None
    md5 = hashlib.md5(b"This is my message text.").hexdigest()
    assert result.findtext("q:MD5OfMessageBody", namespaces=NS) == md5
    received = httpx.post(
        endpoint,
        data={"Action": "ReceiveMessage", "QueueUrl": url, "MaxNumberOfMessages": "10"},
    )
    message = ET.fromstring(received.content).find("q:ReceiveMessageResult/q:Message", NS)
    assert message is not None
    assert message.findtext("q:Body", namespaces=NS) == "This is my message text."
    names = [a.findtext("q:Name", namespaces=NS) for a in message.findall("q:MessageAttribute", NS)]
    assert names == ["my_attribute_name_1"]
    receipt = message.findtext("q:ReceiptHandle", namespaces=NS)
    deleted = httpx.post(
        endpoint, data={"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": receipt}
    )
    assert deleted.status_code == 200


def test_query_errors_are_sqs_error_responses(endpoint: str) -> None:
    for form, code in [
        ({"Action": "SendMessage", "QueueUrl": "http://h/1/nope", "MessageBody": "x"},
         "AWS.SimpleQueueService.NonExistentQueue"),
        ({"Action": "TagQueue", "QueueUrl": "http://h/1/jobs"},
         "AWS.SimpleQueueService.UnsupportedOperation"),
    ]:  # fmt: skip
        answer = httpx.post(endpoint, data=form)
        assert answer.status_code == 400
        error = ET.fromstring(answer.content).find("q:Error", NS)
        assert error is not None and error.findtext("q:Code", namespaces=NS) == code


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "com.amazonaws.sqs#InvalidParameterValue"),
        (b"[1]", "the request body must be an object"),
        (
            json.dumps({"QueueUrl": "h/jobs", "MessageBody": "x", "MessageAttributes": [1]}),
            "MessageAttributes must map names to values",
        ),
    ],
)
def test_bad_json_requests_get_400s(endpoint: str, body: Any, message: str) -> None:
    answer = httpx.post(
        endpoint,
        content=body,
        headers={
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert answer.status_code == 400
    assert message in answer.text
    assert "Traceback" not in answer.text


def test_services_without_local_sources_name_the_operation(endpoint: str) -> None:
    with pytest.raises(ClientError, match="does not emulate the kinesis operation PutRecord"):
        client(endpoint, "kinesis").put_record(StreamName="s", Data=b"x", PartitionKey="k")
    with pytest.raises(ClientError, match="NotImplemented"):
        client(endpoint, "s3").put_object(Bucket="b", Key="k", Body=b"x")


def exchange(url: str, request: bytes) -> bytes:
    """``request`` as raw bytes over one connection; everything the endpoint answers."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", b"431"),
        (b"POST / HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", b"400"),
    ],
)
def test_malformed_requests_are_refused_and_the_connection_closed(
    endpoint: str, request_bytes: bytes, status: bytes
) -> None:
    answer = exchange(endpoint, request_bytes)
    assert answer.split(b" ", 2)[1] == status
    assert b"Traceback" not in answer


def test_keep_alive_answers_each_request_whole_and_in_order(endpoint: str) -> None:
    one = json.dumps({"QueueName": "jobs"}).encode()
    request = (
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"x-amz-target: AmazonSQS.GetQueueUrl\r\nContent-Length: %d\r\n\r\n%s" % (len(one), one)
    )
    closing = request.replace(b"Host: localhost\r\n", b"Host: localhost\r\nConnection: close\r\n")
    answer = exchange(endpoint, request + request + closing)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert answer.count(b'{"QueueUrl": "') == 3


def test_expect_100_continue_is_answered_before_the_body(endpoint: str) -> None:
    import socket

    body = json.dumps({"QueueName": "jobs"}).encode()
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nConnection: close\r\n"
            b"X-Amz-Target: AmazonSQS.GetQueueUrl\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        rest = sock.recv(65536)
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n") and b"/jobs" in rest


@pytest.mark.parametrize("length", [b"-1", b"abc", b"1e3", b"\xd9\xa3"])
def test_a_content_length_that_is_not_a_length_is_a_400(endpoint: str, length: bytes) -> None:
    answer = exchange(
        endpoint,
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + length + b"\r\n\r\nAction=",
    )
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_a_form_body_that_is_not_utf8_is_a_400(endpoint: str) -> None:
    answer = httpx.post(
        endpoint,
        content=b"Action=SendMessage&QueueUrl=h/jobs&MessageBody=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400
    error = ET.fromstring(answer.content).find("q:Error", NS)
    assert error is not None and error.findtext("q:Code", namespaces=NS) == "MalformedQueryString"


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


GET_QUEUE_URL = (
    b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AmazonSQS.GetQueueUrl\r\n"
    b'Content-Length: 20\r\n\r\n{"QueueName":"jobs"}'
)


def test_a_client_resetting_its_connection_is_not_an_error(
    endpoint: str, capfd: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        sock = connect(endpoint)
        sock.sendall(GET_QUEUE_URL)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    time.sleep(0.5)
    assert "Exception" not in capfd.readouterr().err


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[str]:
    queues = Queues(Store(tmp_path / "events.db").open(), {"jobs": QueueSpec("jobs")})
    limits = Limits(max_connections=20, read_timeout=1.0, keep_alive_timeout=0.5)
    services = Services(queues, limits=limits)
    url = services.start()
    try:
        yield url
    finally:
        services.stop()


def test_idle_keep_alive_connections_are_closed(limited: str) -> None:
    before = threading.active_count()
    sockets = [connect(limited) for _ in range(20)]
    sockets[0].sendall(GET_QUEUE_URL)
    assert sockets[0].recv(65536).startswith(b"HTTP/1.1 200 OK")
    wait_for(lambda: threading.active_count() >= before + 20, 5, "a thread per connection")
    for sock in sockets:  # each closed by the server: the read ends
        assert sock.recv(1) == b""
        sock.close()
    wait_for(lambda: threading.active_count() == before, 5, "the threads to end")


def test_connections_over_the_cap_are_answered_503(limited: str) -> None:
    sockets = [connect(limited) for _ in range(20)]
    with connect(limited) as over:
        answer = over.recv(65536)
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Connection: close" in answer
    for sock in sockets:
        sock.close()


def test_a_request_head_sent_too_slowly_is_cut_off(limited: str) -> None:
    """Each byte comes well within the idle timeout, but the whole head not within the
    read timeout: the server closes the connection without answering."""
    started = time.monotonic()
    with connect(limited) as sock:
        try:
            for byte in GET_QUEUE_URL:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:  # the server closed it
            pass
        sock.settimeout(5)
        assert sock.recv(65536) == b""
    assert time.monotonic() - started < 3


def test_kinesis_records_over_its_limits_are_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "events.db").open()
    streams = Streams(store, {"clicks"})
    streams.open()
    services = Services(Queues(store, {}), streams=streams)
    kinesis = client(services.start(), "kinesis")
    try:
        mib = 1024 * 1024
        with pytest.raises(ClientError, match="less than or equal to 1048576") as info:
            kinesis.put_record(StreamName="clicks", Data=b"x" * mib, PartitionKey="k")
        assert info.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(ClientError, match="partition key of 1 to 256"):
            kinesis.put_record(StreamName="clicks", Data=b"x", PartitionKey="k" * 257)
        records = [{"Data": b"x" * (mib - 1), "PartitionKey": "k"} for _ in range(6)]
        with pytest.raises(ClientError, match="exceeds 5 MB") as info:
            kinesis.put_records(StreamName="clicks", Records=records)
        assert info.value.response["Error"]["Code"] == "InvalidArgumentException"
        assert streams.read("clicks", 0, 10) == []
        kinesis.put_record(StreamName="clicks", Data=b"x" * (mib - 1), PartitionKey="k")
    finally:
        kinesis.close()
        services.stop()


def test_a_body_over_the_limit_is_refused_unread(endpoint: str) -> None:
    """A Content-Length past the endpoint's limit is answered 413 before any of the body is
    sent, and the connection is closed; one within it on a new connection is served."""
    with connect(endpoint) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AmazonSQS.SendMessage\r\n"
            b"Content-Length: %d\r\n\r\n" % (LIMITS.max_body + 1)
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head
    assert json.loads(body)["__type"] == "RequestEntityTooLarge"
    with connect(endpoint) as sock:
        sock.sendall(GET_QUEUE_URL)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
