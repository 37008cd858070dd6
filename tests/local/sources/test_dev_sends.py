"""``sends`` under a real ``faasport dev``: the function finds each target's address where
the deployed function does (``FAASPORT_TOPIC_*`` ARN, ``FAASPORT_STREAM_*`` name,
``FAASPORT_QUEUE_*`` URL) and reaches it with plain boto3; a function that declares nothing
gets no variable."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from dev_process import Dev, wait_for

CONFIG = textwrap.dedent(
    """
    name = "shop"

    [queues.jobs]

    [queues.paid]

    [topics.order-paid]
    queues = [{ queue = "paid", raw = true }]

    [functions.reader]
    handler = "app:read"
    events = [{ stream = "clicks", start = "TRIM_HORIZON" }]

    [functions.api]
    handler = "app:send"
    sends = ["topic:order-paid", "stream:clicks", "queue:jobs"]
    """
)

APP = textwrap.dedent(
    """
    import os
    from pathlib import Path

    import boto3

    def send(event, context):
        found = {k: v for k, v in os.environ.items() if k.startswith("FAASPORT_") and
                 k.split("_")[1] in ("TOPIC", "STREAM", "QUEUE")}
        boto3.client("sns").publish(TopicArn=found["FAASPORT_TOPIC_ORDER_PAID"], Message="7")
        boto3.client("kinesis").put_record(
            StreamName=found["FAASPORT_STREAM_CLICKS"], Data=b"click", PartitionKey="u"
        )
        boto3.client("sqs").send_message(QueueUrl=found["FAASPORT_QUEUE_JOBS"], MessageBody="j")
        return found

    def read(event, context):
        (Path(__file__).parent / "read.log").write_text(
            "".join(r["kinesis"]["data"] + "\\n" for r in event["Records"])
        )
        return {"variables": [k for k in os.environ if k.startswith("FAASPORT_STREAM")]}
    """
)


def test_a_function_reaches_what_it_sends_to_through_its_variables(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "app.py").write_text(APP)
    dev = Dev(tmp_path, "--no-reload")
    try:
        result = dev.client("lambda").invoke(FunctionName="api", Payload=b"{}")
        assert "FunctionError" not in result, result["Payload"].read()
        found = json.loads(result["Payload"].read())
        assert found == {
            "FAASPORT_TOPIC_ORDER_PAID": "arn:aws:sns:us-east-1:123456789012:order-paid",
            "FAASPORT_STREAM_CLICKS": "clicks",
            "FAASPORT_QUEUE_JOBS": f"{dev.services}/123456789012/jobs",
        }
        sqs = dev.client("sqs")
        bodies: list[str] = []

        def received(queue: str) -> bool:
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            bodies.extend(m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", []))
            return bool(bodies)

        wait_for(lambda: received("paid"), 20, "the topic's message in its queue")
        assert bodies == ["7"]
        bodies.clear()
        wait_for(lambda: received("jobs"), 20, "the message sent to jobs")
        assert bodies == ["j"]
        log = tmp_path / "read.log"
        wait_for(log.exists, 20, "the stream record")
        reader = dev.client("lambda").invoke(
            FunctionName="reader", Payload=json.dumps({"Records": []}).encode()
        )
        assert json.loads(reader["Payload"].read()) == {"variables": []}
    finally:
        dev.close()
