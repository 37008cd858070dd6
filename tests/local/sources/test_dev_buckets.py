"""Buckets through a real ``faasport dev``: events from a plain file write and removal, from
boto3's S3 calls (outside and inside a function) and from ``faasport bucket``, filtered by
prefix and suffix; a file written while ``faasport dev`` was down still gets its event."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from cli_output import one_error_line
from dev_process import Dev, wait_for
from faasport.cli.main import main

CONFIG = textwrap.dedent(
    """
    name = "buckets"

    [functions.thumbs]
    handler = "app:note"
    events = [
      { bucket = "uploads", on = "created", prefix = "in/", suffix = ".png" },
      { bucket = "uploads", on = "removed" },
    ]

    [functions.writer]
    handler = "app:write"
    timeout = 10
    """
)

APP = textwrap.dedent(
    """
    import json
    from pathlib import Path

    import boto3
    from faasport import events

    def note(event, context):
        [change] = events.records(event)
        with Path(__file__).with_name("seen.log").open("a") as out:
            out.write(json.dumps([change.change, change.key, change.size]) + "\\n")

    def write(event, context):
        s3 = boto3.client("s3")
        s3.put_object(Bucket="uploads", Key="in/inside.png", Body=b"12345")
        listed = s3.list_objects_v2(Bucket="uploads", Prefix="in/")
        return sorted(o["Key"] for o in listed["Contents"])
    """
)


def seen(root: Path) -> list[list[object]]:
    log = root / "seen.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_bucket_events_from_every_kind_of_write(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "app.py").write_text(APP)
    folder = tmp_path / ".faasport" / "buckets" / "uploads"
    folder.mkdir(parents=True)
    (folder / "in").mkdir()
    (folder / "in" / "offline.png").write_bytes(b"x" * 3)  # before faasport dev runs
    dev = Dev(tmp_path, "--no-reload")
    try:
        wait_for(lambda: ["created", "in/offline.png", 3] in seen(tmp_path), 20, "the offline file")
        # A plain file write, and one the filters leave out.
        (folder / "in" / "plain.png").write_bytes(b"y" * 7)
        (folder / "in" / "notes.txt").write_bytes(b"z")
        wait_for(lambda: ["created", "in/plain.png", 7] in seen(tmp_path), 20, "the plain write")
        # boto3 from outside.
        s3 = dev.client("s3")
        s3.put_object(Bucket="uploads", Key="in/boto.png", Body=b"abcd")
        assert s3.get_object(Bucket="uploads", Key="in/boto.png")["Body"].read() == b"abcd"
        s3.delete_object(Bucket="uploads", Key="in/notes.txt")
        wait_for(lambda: ["removed", "in/notes.txt", None] in seen(tmp_path), 20, "the removal")
        # boto3 from inside a function.
        result = dev.client("lambda").invoke(FunctionName="writer", Payload=b"{}")
        keys = json.loads(result["Payload"].read())
        assert keys == ["in/boto.png", "in/inside.png", "in/offline.png", "in/plain.png"]
        # The CLI.
        source = tmp_path / "local.png"
        source.write_bytes(b"12")
        runner = CliRunner()
        put = runner.invoke(
            main,
            ["bucket", "put", "uploads", "in/cli.png", str(source), "--project", str(tmp_path)],
        )
        assert put.exit_code == 0, put.output
        listed = runner.invoke(
            main, ["bucket", "ls", "uploads", "--prefix", "in/c", "--project", str(tmp_path)]
        )
        assert listed.output.split() == ["2", "in/cli.png"]
        wait_for(
            lambda: (
                ["created", "in/inside.png", 5] in seen(tmp_path)
                and ["created", "in/cli.png", 2] in seen(tmp_path)
            ),
            20,
            "the function's and the CLI's objects",
        )
        assert not [
            row for row in seen(tmp_path) if str(row[1]).endswith(".txt") and row[0] == "created"
        ]
        missing = runner.invoke(main, ["bucket", "rm", "nope", "k", "--project", str(tmp_path)])
        assert 'bucket "nope" does not exist' in one_error_line(missing)
        from botocore.exceptions import ClientError

        try:
            s3.get_object(Bucket="uploads", Key="in/none.png")
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "NoSuchKey"
        else:
            raise AssertionError("a missing key must be NoSuchKey")
    finally:
        dev.close()
    created = [row for row in seen(tmp_path) if row[0] == "created"]
    assert len(created) == len({tuple(row) for row in created})  # each write seen once
