"""One function answering HTTP and consuming a queue through a real ``faasport dev``: the
app serves requests, ``handler`` receives the queue's batches, partial failures are honoured."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx

from dev_process import Dev, wait_for

CONFIG = textwrap.dedent(
    """
    name = "shop"

    [queues.orders]
    visibility_timeout = 2
    max_receive = 2
    dlq = "orders-dlq"

    [functions.api]
    app = "shop:app"
    handler = "shop:on_event"
    timeout = 2
    concurrency = 2
    events = [{ queue = "orders", batch = 10 }]
    """
)

SHOP = textwrap.dedent(
    """
    import json
    from pathlib import Path

    from faasport import events

    LOG = Path(__file__).with_name("orders.log")

    def take(record):
        with LOG.open("a") as out:
            out.write(json.dumps([record.text, record.deliveries]) + "\\n")
        if record.text.startswith("bad"):
            raise ValueError("cannot take it")

    def on_event(event, context):
        return events.process(event, take)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        rows = LOG.read_text().splitlines() if LOG.exists() else []
        body = json.dumps([json.loads(row) for row in rows]).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
    """
)


def test_an_http_function_consumes_its_queue_with_partial_failures(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "shop.py").write_text(SHOP)
    dev = Dev(tmp_path, "--no-reload")
    try:
        sqs = dev.client("sqs")
        url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(["o-1", "bad-2", "o-3"])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        dlq = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]

        def dead() -> list[str]:
            found = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            return [m["Body"] for m in found.get("Messages", [])]

        wait_for(lambda: dead() == ["bad-2"], 30, "bad-2 in the dead-letter queue")
        with httpx.Client(base_url=dev.url) as http:
            taken = http.get("/anything")
        assert taken.status_code == 200
        rows = taken.json()
        # Only the failed message came back, once per allowed receive; the others once.
        assert sorted(map(tuple, rows)) == [("bad-2", 1), ("bad-2", 2), ("o-1", 1), ("o-3", 1)]
    finally:
        dev.close()
