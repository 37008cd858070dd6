"""``gcp.event_handler``: Pub/Sub and Cloud Storage CloudEvents as typed records.

Over HTTP the real functions-framework server runs it with either signature type; in
process it gets ``CloudEvent`` objects and requests built by Werkzeug.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from cloudevents.http import CloudEvent
from werkzeug.test import EnvironBuilder

from faasport import events, gcp
from faasport.core.errors import UnsupportedEventError

TOPIC = "//pubsub.googleapis.com/projects/demo/topics/jobs"
PUBSUB = "google.cloud.pubsub.topic.v1.messagePublished"


def pubsub_data(body: bytes, **attributes: str) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(body).decode(),
            "attributes": attributes,
            "messageId": "m-1",
            "publishTime": "2026-11-22T10:00:00.000Z",
        },
        "subscription": "projects/demo/subscriptions/jobs-sub",
    }


def storage_data(name: str) -> dict[str, Any]:
    return {
        "bucket": "uploads",
        "name": name,
        "size": "1234",
        "etag": "CJ3x",
        "timeCreated": "2026-11-22T10:00:00Z",
        "updated": "2026-11-22T10:05:00Z",
    }


def attributes(kind: str, source: str = TOPIC, id: str = "e-1") -> dict[str, str]:
    return {"id": id, "source": source, "type": kind, "specversion": "1.0"}


# -- through the real server ---------------------------------------------------------------


def read_records(server: Any) -> list[dict[str, Any]]:
    if not server.records.exists():
        return []
    return [json.loads(line) for line in server.records.read_text().splitlines()]


def test_binary_mode_pubsub_message(event_server: Any) -> None:
    before = len(read_records(event_server))
    headers = {f"ce-{k}": v for k, v in attributes(PUBSUB, id="bin-1").items()}
    response = httpx.post(
        event_server.url, json=pubsub_data(b"hello \xc3\xa9", kind="greeting"), headers=headers
    )
    assert response.status_code in (200, 204), response.text
    [record] = read_records(event_server)[before:]
    assert record["type"] == "Message"
    assert record["body"] == "hello é"
    assert record["channel"] == "jobs"
    assert record["attributes"] == {"kind": "greeting"}
    assert record["source"] == "gcp.pubsub"
    assert record["context"] == PUBSUB


def test_structured_mode_storage_event(event_server: Any) -> None:
    before = len(read_records(event_server))
    envelope = {
        **attributes(
            "google.cloud.storage.object.v1.finalized",
            source="//storage.googleapis.com/projects/_/buckets/uploads",
            id="str-1",
        ),
        "data": storage_data("in/photo 1.jpg"),
    }
    response = httpx.post(
        event_server.url,
        content=json.dumps(envelope),
        headers={"content-type": "application/cloudevents+json"},
    )
    assert response.status_code in (200, 204), response.text
    [record] = read_records(event_server)[before:]
    assert record["type"] == "ObjectChange"
    assert (record["bucket"], record["key"], record["change"]) == (
        "uploads",
        "in/photo 1.jpg",
        "created",
    )
    assert record["size"] == 1234


def test_a_failing_handler_is_a_500_so_the_message_is_redelivered(event_server: Any) -> None:
    headers = {f"ce-{k}": v for k, v in attributes(PUBSUB, id="fail-1").items()}
    response = httpx.post(event_server.url, json=pubsub_data(b"x", fail="yes"), headers=headers)
    assert response.status_code == 500


def test_a_request_without_a_cloudevent_is_refused(event_server: Any) -> None:
    response = httpx.post(event_server.url, json={"not": "an event"})
    assert 400 <= response.status_code < 500


# -- in process ------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[list[events.Record], Any]] = []

    def __call__(self, event: Any, context: Any) -> None:
        self.calls.append((events.records(event), context))


def flask_request(**kwargs: Any) -> Any:
    from flask import Request

    return Request(EnvironBuilder(method="POST", **kwargs).get_environ())


def test_cloud_event_object_pubsub() -> None:
    recorder = Recorder()
    function = gcp.event_handler(recorder)
    assert function(CloudEvent(attributes(PUBSUB), pubsub_data(b'{"n": 1}', a="b"))) is None
    [(records, context)] = recorder.calls
    assert records == [
        events.Message(
            "m-1",
            b'{"n": 1}',
            source="gcp.pubsub",
            channel="jobs",
            attributes={"a": "b"},
            time="2026-11-22T10:00:00.000Z",
        )
    ]
    assert records[0].json() == {"n": 1}
    assert (context.id, context.type) == ("e-1", PUBSUB)


def test_storage_deleted_is_a_removal() -> None:
    recorder = Recorder()
    gcp.event_handler(recorder)(
        CloudEvent(
            attributes("google.cloud.storage.object.v1.deleted", source="//storage/x"),
            storage_data("old.txt"),
        )
    )
    [(records, _)] = recorder.calls
    assert records == [
        events.ObjectChange(
            "uploads",
            "old.txt",
            "removed",
            source="gcp.storage",
            size=1234,
            etag="CJ3x",
            time="2026-11-22T10:05:00Z",
        )
    ]


def test_structured_mode_with_base64_data() -> None:
    recorder = Recorder()
    envelope = {
        **attributes(PUBSUB),
        "data_base64": base64.b64encode(json.dumps(pubsub_data(b"z")).encode()).decode(),
    }
    request = flask_request(data=json.dumps(envelope), content_type="application/cloudevents+json")
    # The data is JSON bytes: the handler is given what it can read, or a clear 400.
    response = gcp.event_handler(recorder)(request)
    assert response.status_code == 400
    assert b"malformed" in response.get_data()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": b"{}", "content_type": "application/json"}, "no CloudEvent"),
        ({"data": b"{nope", "content_type": "application/cloudevents+json"}, "not valid JSON"),
        (
            {"data": b"{}", "content_type": "application/json", "headers": {"ce-id": "1"}},
            "lacks required attributes: source, type, specversion",
        ),
        (
            {
                "data": b"{}",
                "content_type": "application/json",
                "headers": {f"ce-{k}": v for k, v in attributes("com.example.other").items()},
            },
            "not com.example.other",
        ),
        (
            {
                "data": b'{"message": {}}',
                "content_type": "application/json",
                "headers": {f"ce-{k}": v for k, v in attributes(PUBSUB).items()},
            },
            "malformed",
        ),
    ],
)
def test_unreadable_events_get_a_400_naming_the_problem(
    kwargs: dict[str, Any], message: str
) -> None:
    recorder = Recorder()
    response = gcp.event_handler(recorder)(flask_request(**kwargs))
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    assert recorder.calls == []


def test_unreadable_cloud_event_object_raises() -> None:
    with pytest.raises(UnsupportedEventError, match=r"not com\.example\.other"):
        gcp.event_handler(Recorder())(CloudEvent(attributes("com.example.other"), {}))


def test_the_handler_is_imported_lazily_from_a_string() -> None:
    function = gcp.event_handler("json:loads")
    assert function.faasport.runner.kind is None  # type: ignore[attr-defined]


def test_a_scheduled_message_is_a_tick() -> None:
    recorder = Recorder()
    data = pubsub_data(b"", **{"faasport-schedule": "rate(5 minutes)"})
    source = "//pubsub.googleapis.com/projects/demo/topics/worker-schedule1"
    gcp.event_handler(recorder)(CloudEvent(attributes(PUBSUB, source=source), data))
    [(records, _)] = recorder.calls
    assert records == [
        events.Tick("2026-11-22T10:00:00.000Z", source="gcp.scheduler", name="worker-schedule1")
    ]


@pytest.mark.parametrize(
    ("kind", "name", "delivered"),
    [
        ("finalized", "in/photo.jpg", True),
        ("finalized", "in/notes.txt", False),  # suffix
        ("finalized", "out/photo.jpg", False),  # prefix
        ("deleted", "in/photo.jpg", True),  # every removal is wanted
        ("deleted", "trash/x", True),
    ],
)
def test_object_filters_apply_prefix_suffix_and_change(
    kind: str, name: str, delivered: bool
) -> None:
    recorder = Recorder()
    function = gcp.event_handler(
        recorder,
        object_filters=[("uploads", "created", "in/", ".jpg"), ("uploads", "removed", "", "")],
    )
    event = CloudEvent(
        attributes(f"google.cloud.storage.object.v1.{kind}", source="//storage/uploads"),
        storage_data(name),
    )
    function(event)
    assert len(recorder.calls) == (1 if delivered else 0)
    headers = {
        f"ce-{k}": v
        for k, v in attributes(f"google.cloud.storage.object.v1.{kind}", source="//s").items()
    }
    request = flask_request(
        data=json.dumps(storage_data(name)), content_type="application/json", headers=headers
    )
    # Skipped events are acknowledged (204), so the platform does not redeliver them.
    assert function(request).status_code == 204
