"""S3 on the local buckets, in process: boto3 against the real endpoint and real buckets on
disk. Keys that are not plain file paths, listings, ranges, conditions, copies, and error
answers in S3's XML shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from faasport.config.load import load_project
from faasport.local.aws_services.server import Services
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
    try:
        yield Endpoint(url, buckets, queues)
    finally:
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
