"""``faasport invoke``: the function's boto3 calls reach the local AWS-compatible endpoint,
of a running ``faasport dev`` or one started for the invocation, never the cloud."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from dev_process import Dev, wait_for

CONFIG = """
name = "shop"

[queues.orders]

[functions.checkout]
handler = "shop:checkout"

[functions.fulfil]
handler = "shop:fulfil"
events = [{ queue = "orders" }]
"""

SHOP = """
import json
import os

import boto3


def checkout(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"order": event["order"]}))
    return {"queued": event["order"], "endpoint": os.environ["AWS_ENDPOINT_URL_SQS"]}


def fulfil(event, context):
    for record in event["Records"]:
        print("fulfilling", json.loads(record["body"])["order"])
"""


def invoke(project: Path, event: dict[str, int]) -> dict[str, object]:
    # No credentials of this machine reach the function: a real account must be out of reach.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "invoke", "checkout", "--event", "-"],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_a_message_sent_without_dev_waits_for_it_and_with_dev_reaches_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "faasport.toml").write_text(textwrap.dedent(CONFIG))
    (tmp_path / "shop.py").write_text(textwrap.dedent(SHOP))
    alone = invoke(tmp_path, {"order": 1})
    assert alone["queued"] == 1
    assert str(alone["endpoint"]).startswith("http://127.0.0.1:")
    assert not (tmp_path / ".faasport" / "dev.json").exists()  # the endpoint is gone
    dev = Dev(tmp_path)
    try:
        # The message kept in the local queue is delivered once faasport dev runs.
        wait_for(lambda: any("fulfilling 1" in line for line in dev.lines), 20, "order 1")
        served = invoke(tmp_path, {"order": 2})
        assert served["endpoint"] == dev.services
        wait_for(lambda: any("fulfilling 2" in line for line in dev.lines), 20, "order 2")
    finally:
        dev.close()
