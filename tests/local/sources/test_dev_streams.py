"""Kinesis streams through a real ``faasport dev``: order per shard, a partial failure retried
from the failed sequence number, a poison record bisected, retried, then given up with a note
on the on-failure queue; records put with boto3 and ``faasport stream put``."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from dev_process import wait_for
from faasport.cli.main import main
from notes import lines, on_failure_note, serve

CONFIG = textwrap.dedent(
    """
    name = "streams"

    [queues.failures]

    [functions.clicks]
    handler = "app:partial"
    events = [{ stream = "clicks", batch = 10, start = "TRIM_HORIZON" }]

    [functions.producer]
    handler = "app:produce"
    timeout = 10

    [functions.poison]
    handler = "app:strict"
    events = [{ stream = "poison", batch = 4, bisect = true, retries = 1, on_failure = "failures" }]
    """
)

APP = textwrap.dedent(
    """
    from faasport import events

    def once(record):
        marker = HERE / f"failed-{record.text}"
        note("clicks.log", "start " + record.text)
        if record.text == "bad" and not marker.exists():
            marker.write_text("")
            raise ValueError("bad, once")
        note("clicks.log", "done " + record.text)

    def partial(event, context):
        return events.process(event, once)

    def produce(event, context):
        import boto3

        put = boto3.client("kinesis").put_record(StreamName="clicks", Data=b"e", PartitionKey="u")
        return put["SequenceNumber"]

    def strict(event, context):
        texts = [r.text for r in events.records(event)]
        note("poison.log", " ".join(texts))
        if "bad" in texts:
            raise ValueError("poison")
    """
)


def test_streams(tmp_path: Path) -> None:
    dev = serve(tmp_path, CONFIG, APP)
    try:
        kinesis = dev.client("kinesis")
        put = kinesis.put_records(
            StreamName="clicks",
            Records=[
                {"Data": text.encode(), "PartitionKey": "u1"} for text in ["a", "b", "bad", "c"]
            ],
        )
        assert put["FailedRecordCount"] == 0
        numbers = [r["SequenceNumber"] for r in put["Records"]]
        assert numbers == sorted(numbers)
        code = CliRunner().invoke(main, ["stream", "put", "clicks", "d", "-p", str(tmp_path)])
        assert code.exit_code == 0, code.output

        def done() -> list[str]:
            return [line[5:] for line in lines(tmp_path, "clicks.log") if line.startswith("done")]

        wait_for(lambda: done() == ["a", "b", "bad", "c", "d"], 20, "every click once, in order")
        starts = [line[6:] for line in lines(tmp_path, "clicks.log") if line.startswith("start")]
        assert starts[: starts.index("bad") + 2] == ["a", "b", "bad", "bad"]  # retried from bad
        result = dev.client("lambda").invoke(FunctionName="producer", Payload=b"{}")
        assert "FunctionError" not in result, result["Payload"].read()
        wait_for(lambda: done()[-1:] == ["e"], 20, "the record put from inside a function")

        kinesis.put_records(
            StreamName="poison",
            Records=[{"Data": t.encode(), "PartitionKey": "k"} for t in ["p1", "p2", "bad", "p4"]],
        )
        info = on_failure_note(dev)["KinesisBatchInfo"]
        assert info["streamArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/poison"
        attempts = lines(tmp_path, "poison.log")
        assert attempts[0] == "p1 p2 bad p4"
        assert "p1 p2" in attempts  # bisected: the good half ran alone
        kinesis.put_record(StreamName="poison", Data=b"after", PartitionKey="k")
        wait_for(lambda: "after" in lines(tmp_path, "poison.log")[-1], 20, "the stream moving on")
    finally:
        dev.close()
