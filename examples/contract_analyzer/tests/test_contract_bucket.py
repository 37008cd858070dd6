"""The bucket trigger in-process, with boto3 against moto's standalone S3 server: a .sol put
in ``contracts`` gets its report in ``reports``; a file that is not text gets a report saying
so instead of endless retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from contract_analyzer import bucket

from faasport.testing import LambdaClient, s3_event
from servers import moto_server

BANK = (Path(__file__).with_name("contracts") / "bank_vulnerable.sol").read_bytes()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ENDPOINT_URL_S3": moto_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STATE_URL": f"sqlite:///{tmp_path}/state.db",
        "AI_PROVIDERS": "",
        "MAX_CONTRACT_BYTES": "4096",
    }.items():
        monkeypatch.setenv(name, value)
    bucket._clients.clear()
    client = boto3.client("s3")
    for name in ("contracts", "reports"):
        client.create_bucket(Bucket=name)
    yield client
    client.close()
    bucket._clients.clear()


def put_and_handle(s3: Any, key: str, body: bytes) -> Any:
    s3.put_object(Bucket="contracts", Key=key, Body=body)
    event = s3_event(key, bucket="contracts", size=len(body))
    return LambdaClient(bucket.handle).invoke(event)


def report(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket="reports", Key=key)["Body"].read())


def test_a_contract_put_in_the_bucket_gets_a_report(s3: Any) -> None:
    assert put_and_handle(s3, "team/bank.sol", BANK) == {"reports": ["team/bank.json"]}
    written = report(s3, "team/bank.json")
    assert written["source_key"] == "team/bank.sol"
    assert written["contract_name"] == "bank"
    assert written["service_used"] == "static"
    assert {("reentrancy", 14), ("unchecked_call", 14)} <= {
        (f["type"], f["line_number"]) for f in written["findings"]
    }


def test_a_file_that_is_not_text_or_too_large_gets_a_report_saying_so(s3: Any) -> None:
    put_and_handle(s3, "binary.sol", b"\xff\xfe\x00garbage")
    assert report(s3, "binary.json")["error"] == "the file is not UTF-8 text"
    put_and_handle(s3, "huge.sol", b"//" + b"x" * 5000)
    assert report(s3, "huge.json")["error"] == "the file is 5002 bytes; the limit is 4096"


def test_objects_that_are_not_contracts_are_left_alone(s3: Any) -> None:
    # Google Cloud's bucket triggers cannot filter by suffix: the handler does.
    assert put_and_handle(s3, "notes.txt", b"hello") == {"reports": []}
    assert "Contents" not in s3.list_objects_v2(Bucket="reports", Prefix="notes")
