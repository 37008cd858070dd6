"""S3 on the local buckets, in process: boto3 against the real endpoint and real buckets on
disk. Keys that are not plain file paths, listings, ranges, conditions, copies, and error
answers in S3's XML shape."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from faasport.config.load import load_project
from faasport.local.aws_services.server import MAX_OBJECT, Services
from faasport.local.sources.buckets import Buckets, notifications
from faasport.local.sources.queues import Queues, QueueSpec
from faasport.local.sources.store import Store

CONFIG = """
name = "s3"

[functions.thumbs]
handler = "app:note"
events = [{ bucket = "bkt", on = "created" }, { bucket = "other", on = "created" }]
"""


class Endpoint:
    def __init__(self, url: str, buckets: Buckets, queues: Queues) -> None:
        self.url = url
        self.buckets = buckets
        self.queues = queues
        self.s3: Any = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def events(self, bucket: str = "bkt") -> list[tuple[str, str]]:
        """``(event name, key)`` of every event sent to the function for ``bucket``."""
        queue = {"bkt": "_s3:bkt:thumbs:1", "other": "_s3:other:thumbs:2"}[bucket]
        records = [json.loads(body) for _, body, _ in self.queues.peek(queue)]
        return [(r["eventName"], r["s3"]["object"]["key"]) for r in records]


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Endpoint]:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    project = load_project(tmp_path)
    store = Store(tmp_path / "events.db").open()
    queues = Queues(store, {n.queue: QueueSpec(n.queue) for n in notifications(project)})
    buckets = Buckets(store, queues, project, interval=3600)
    buckets.start()
    services = Services(queues, buckets=buckets)
    url = services.start()
    endpoint = Endpoint(url, buckets, queues)
    try:
        yield endpoint
    finally:
        endpoint.s3.close()  # else its socket is left to the collector, in another test
        services.stop()
        buckets.stop()


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    error = exc.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]


KEYS = [
    "p",
    "p/q",
    "k" * 300,
    "x/../y.txt",
    "y.txt",
    "d//e",
    "d/e",
    "folder/",
    "/lead",
    "a.faasport-partial",
    ".faasport-keyed/z",
    "é" * 512,  # 1,024 bytes
]


def test_every_key_s3_allows_is_an_object_of_its_own(endpoint: Endpoint, tmp_path: Path) -> None:
    s3 = endpoint.s3
    for key in KEYS:
        s3.put_object(Bucket="bkt", Key=key, Body=key.encode())
    for key in KEYS:
        assert s3.get_object(Bucket="bkt", Key=key)["Body"].read() == key.encode(), key
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == sorted(KEYS)
    s3.put_object(Bucket="other", Key="nul\x00key", Body=b"0")
    assert s3.get_object(Bucket="other", Key="nul\x00key")["Body"].read() == b"0"
    # A key that is a plain relative path is the file of that path.
    folder = tmp_path / ".faasport" / "buckets" / "bkt"
    assert (folder / "y.txt").read_bytes() == b"y.txt"
    assert (folder / "d" / "e").read_bytes() == b"d/e"
    s3.delete_object(Bucket="bkt", Key="x/../y.txt")
    s3.delete_object(Bucket="bkt", Key="p/q")
    assert s3.get_object(Bucket="bkt", Key="y.txt")["Body"].read() == b"y.txt"
    assert s3.get_object(Bucket="bkt", Key="p")["Body"].read() == b"p"
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="bkt", Key="x/../y.txt")
    assert code(missing) == ("NoSuchKey", 404)
    from urllib.parse import unquote_plus

    created = [unquote_plus(key) for name, key in endpoint.events() if name.startswith("ObjectC")]
    assert sorted(created) == sorted(KEYS)
    assert endpoint.events("other") == [("ObjectCreated:Put", "nul%00key")]


def test_a_key_longer_than_1024_bytes_is_refused(endpoint: Endpoint) -> None:
    with pytest.raises(ClientError) as refused:
        endpoint.s3.put_object(Bucket="bkt", Key="é" * 512 + "k", Body=b"x")
    assert code(refused) == ("KeyTooLongError", 400)


SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request"}


def raw(endpoint: Endpoint, method: str, target: str) -> httpx.Response:
    """One request as a client that is not boto3 sends it (unsigned: faasport checks none)."""
    return httpx.request(method, endpoint.url + target, headers=SIGNED)


def test_listings_page_group_and_carry_any_key(endpoint: Endpoint) -> None:
    s3 = endpoint.s3
    keys = ["a/1", "a/2", "b", "c/1", "ctl\x01key", "d\rcr"]
    for key in keys:
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="bkt", PaginationConfig={"PageSize": 2}
    )
    assert [o["Key"] for page in pages for o in page["Contents"]] == keys
    grouped = s3.list_objects_v2(Bucket="bkt", Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "c/"]
    assert [o["Key"] for o in grouped["Contents"]] == ["b", "ctl\x01key", "d\rcr"]
    empty = s3.list_objects_v2(Bucket="bkt", MaxKeys=0)
    assert (empty["KeyCount"], empty["IsTruncated"], "Contents" in empty) == (0, False, False)
    # A client that asks for no encoding gets an error it can read, never broken XML.
    plain = raw(endpoint, "GET", "/bkt?list-type=2")
    assert plain.status_code == 400
    assert ET.fromstring(plain.content).findtext("Code") == "InvalidArgument"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_max_keys_that_is_not_a_count_is_invalid_argument(endpoint: Endpoint, value: str) -> None:
    answer = raw(endpoint, "GET", f"/bkt?list-type=2&max-keys={value}")
    assert answer.status_code == 400
    assert ET.fromstring(answer.content).findtext("Code") == "InvalidArgument"


def test_list_buckets_names_the_local_buckets(endpoint: Endpoint) -> None:
    endpoint.s3.create_bucket(Bucket="made")
    assert [b["Name"] for b in endpoint.s3.list_buckets()["Buckets"]] == ["bkt", "made", "other"]


def test_every_error_is_s3_xml(endpoint: Endpoint, tmp_path: Path) -> None:
    missing = raw(endpoint, "GET", "/bkt/nul%00key%01")
    assert missing.status_code == 404
    error = ET.fromstring(missing.content)
    assert [e.tag for e in error] == ["Code", "Message", "Resource", "RequestId"]
    assert error.findtext("Code") == "NoSuchKey"
    assert error.findtext("RequestId") == missing.headers["x-amz-request-id"]
    # The file system fails under the bucket: S3's InternalError, no Python in it.
    folder = tmp_path / ".faasport" / "buckets" / "other"
    folder.rmdir()
    folder.write_bytes(b"")
    broken = httpx.put(endpoint.url + "/other/k", content=b"x", headers=SIGNED)
    assert broken.status_code == 500
    error = ET.fromstring(broken.content)
    assert error.findtext("Code") == "InternalError"
    assert "Error" not in (error.findtext("Message") or "")


def test_copy_object_within_and_across_buckets(endpoint: Endpoint) -> None:
    s3 = endpoint.s3
    s3.put_object(Bucket="bkt", Key="f1.bin", Body=b"0123456789abcdef")
    copied = s3.copy_object(
        Bucket="bkt", Key="copy.bin", CopySource={"Bucket": "bkt", "Key": "f1.bin"}
    )["CopyObjectResult"]
    head = s3.head_object(Bucket="bkt", Key="copy.bin")
    assert (head["ContentLength"], head["ETag"]) == (16, copied["ETag"])
    assert copied["LastModified"].year >= 2024
    s3.copy_object(Bucket="other", Key="odd//key", CopySource="bkt/f1.bin")
    assert s3.get_object(Bucket="other", Key="odd//key")["Body"].read() == b"0123456789abcdef"
    assert ("ObjectCreated:Copy", "copy.bin") in endpoint.events()
    assert endpoint.events("other") == [("ObjectCreated:Copy", "odd//key")]
    with pytest.raises(ClientError) as missing:
        s3.copy_object(Bucket="bkt", Key="c2", CopySource={"Bucket": "bkt", "Key": "none"})
    assert code(missing) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as itself:
        s3.copy_object(Bucket="bkt", Key="f1.bin", CopySource={"Bucket": "bkt", "Key": "f1.bin"})
    assert code(itself) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as stale:
        s3.copy_object(Bucket="bkt", Key="c3", CopySource="bkt/f1.bin", CopySourceIfMatch='"other"')
    assert code(stale) == ("PreconditionFailed", 412)


def test_get_object_serves_ranges_and_conditions(endpoint: Endpoint) -> None:
    s3 = endpoint.s3
    etag = s3.put_object(Bucket="bkt", Key="f.bin", Body=b"0123456789abcdef")["ETag"]
    part = s3.get_object(Bucket="bkt", Key="f.bin", Range="bytes=0-9")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (part["ContentRange"], part["Body"].read()) == ("bytes 0-9/16", b"0123456789")
    tail = s3.get_object(Bucket="bkt", Key="f.bin", Range="bytes=-4")
    assert (tail["ContentRange"], tail["Body"].read()) == ("bytes 12-15/16", b"cdef")
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket="bkt", Key="f.bin", Range="bytes=16-20")
    assert code(beyond) == ("InvalidRange", 416)
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket="bkt", Key="f.bin", IfNoneMatch=etag)
    assert code(unchanged) == ("304", 304)
    with pytest.raises(ClientError) as changed:
        s3.get_object(Bucket="bkt", Key="f.bin", IfMatch='"0000"')
    assert code(changed) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket="bkt", Key="f.bin", IfMatch=etag)["Body"].read()[:2] == b"01"


def test_an_object_over_the_limit_is_refused_unread(endpoint: Endpoint) -> None:
    """S3's own error for a PUT past what the endpoint holds in memory, before the body is
    sent; nothing is stored."""
    endpoint.s3.create_bucket(Bucket="bkt")
    host, port = endpoint.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"PUT /bkt/huge.bin HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
            b"Authorization: AWS4-HMAC-SHA256 Credential=t/20261129/us-east-1/s3/aws4_request\r\n"
            b"Content-Length: %d\r\n\r\n" % (MAX_OBJECT + 1)
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in head
    assert ET.fromstring(body).findtext("Code") == "EntityTooLarge"
    assert "Contents" not in endpoint.s3.list_objects_v2(Bucket="bkt")
