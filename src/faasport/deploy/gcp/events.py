"""``events.tf``: what feeds the event functions.

Queues, topics and schedules are Pub/Sub topics, each delivered to its function by a push
subscription of its own (one delivery path for all three). A push subscription, unlike the
one Eventarc creates for a function's own trigger, takes a dead-letter policy, and a
function can have many of them. The push URL ends in ``/projects/P/topics/T``, from which
functions-framework fills in the CloudEvent's source, so the handler learns the queue.
A schedule is a Cloud Scheduler job publishing to a topic of its own. Bucket events are
Eventarc Cloud Storage triggers; Eventarc cannot filter object names, so a prefix or suffix
is not applied in the cloud: the function receives every object event of the bucket.
"""

from __future__ import annotations

import json

from faasport.config.model import BucketEvent, QueueEvent, ScheduleEvent, TopicEvent
from faasport.deploy.gcp import names
from faasport.deploy.gcp.base import APIS_REF, EVENTS, PUBSUB_AGENT, bucket
from faasport.deploy.gcp.filters import pubsub_filter
from faasport.deploy.gcp.functions import ref
from faasport.deploy.gcp.model import Event, Model, ack_deadline, delivery_attempts
from faasport.deploy.hcl import Block, Call, Ref, Value, template

STORAGE_EVENTS = {
    "created": "google.cloud.storage.object.v1.finalized",
    "removed": "google.cloud.storage.object.v1.deleted",
}
#: Messages nobody has acknowledged are kept 7 days.
RETENTION = "604800s"
#: The Pub/Sub attribute that marks a scheduled message, with the configured expression.
SCHEDULE_ATTRIBUTE = "faasport-schedule"
TIME_ZONE = "Etc/UTC"
RETRY = {"minimum_backoff": "10s", "maximum_backoff": "600s"}


def blocks(model: Model) -> list[Block]:
    out: list[Block] = []
    for name in model.queues:
        out.append(_topic(names.label("queue", name), name))
    for name in model.topics:
        out.append(_topic(names.label("topic", name), name))
    for name in model.held:
        out.append(_held(name))
    for name in model.buckets:
        out.append(
            Block(
                "resource",
                ("google_storage_bucket", names.label("bucket", name)),
                bucket(name),
            )
        )
    for event in model.events:
        out += _delivery(model, event)
    return out


def _topic_ref(kind: str, name: str) -> str:
    """The address of the Pub/Sub topic of a queue (``kind`` "queue") or topic."""
    return f"google_pubsub_topic.{names.label(kind, name)}"


def _topic(label: str, name: str) -> Block:
    return Block(
        "resource",
        ("google_pubsub_topic", label),
        {"name": name, "depends_on": [APIS_REF]},
        comments=(
            "checkov:skip=CKV_GCP_83:Google-managed encryption; a customer-managed key would "
            "need a Cloud KMS key ring this deployment does not manage",
        ),
    )


def _held(name: str) -> Block:
    """A pull subscription that keeps the messages of a queue no function consumes."""
    return Block(
        "resource",
        ("google_pubsub_subscription", names.label("queue", name)),
        {
            "name": name,
            "topic": Ref(f"{_topic_ref('queue', name)}.id"),
            "message_retention_duration": RETENTION,
            "expiration_policy": Block("expiration_policy", body={"ttl": ""}),
        },
    )


def _delivery(model: Model, event: Event) -> list[Block]:
    source = event.source
    if isinstance(source, QueueEvent):
        return _queue(model, event, source)
    if isinstance(source, TopicEvent):
        extra: dict[str, Value | Block] = {}
        if source.filter:
            # Checked by the model: only policies with a Pub/Sub counterpart get here.
            extra["filter"] = pubsub_filter(source.filter)
        return [_push(model, event, _topic_ref("topic", source.topic), extra)]
    if isinstance(source, ScheduleEvent):
        return _schedule(model, event, source)
    assert isinstance(source, BucketEvent)
    return [_storage_trigger(model, event, source)]


def _push(
    model: Model,
    event: Event,
    topic: str,
    extra: dict[str, Value | Block] | None = None,
    comments: tuple[str, ...] = (),
) -> Block:
    """A push subscription from ``topic`` (a resource address) to the event's function."""
    function = event.function
    uri = ref(function, "service_config[0].uri")
    body: dict[str, Value | Block] = {
        "name": names.event_name(model.project, function, event.kind, event.index, 255),
        "topic": Ref(f"{topic}.id"),
        "ack_deadline_seconds": ack_deadline(function.timeout),
        "message_retention_duration": RETENTION,
        "expiration_policy": Block("expiration_policy", body={"ttl": ""}),
        "retry_policy": Block("retry_policy", body=dict(RETRY)),
        "push_config": Block(
            "push_config",
            body={
                "push_endpoint": template(
                    uri, "/projects/", Ref("var.project"), "/topics/", Ref(f"{topic}.name")
                ),
                "oidc_token": Block(
                    "oidc_token",
                    body={
                        "service_account_email": Ref(f"google_service_account.{EVENTS}.email"),
                        "audience": uri,
                    },
                ),
            },
        ),
    }
    body.update(extra or {})
    return Block(
        "resource",
        ("google_pubsub_subscription", names.event_label(function, event.kind, event.index)),
        body,
        comments=comments,
    )


def _queue(model: Model, event: Event, source: QueueEvent) -> list[Block]:
    queue = model.project.queues[source.queue]
    topic = _topic_ref("queue", source.queue)
    # The visibility timeout is how long a delivery may take before it is retried.
    extra: dict[str, Value | Block] = {
        "ack_deadline_seconds": ack_deadline(queue.visibility_timeout)
    }
    if queue.dlq is None:
        return [_push(model, event, topic, extra)]
    attempts = delivery_attempts(queue.max_receive)
    dead_letter = Ref(f"{_topic_ref('queue', queue.dlq)}.id")
    extra["dead_letter_policy"] = Block(
        "dead_letter_policy",
        body={"dead_letter_topic": dead_letter, "max_delivery_attempts": attempts},
    )
    comments: tuple[str, ...] = ()
    if attempts != queue.max_receive:
        comments = (
            f" queues.{queue.name}.max_receive = {queue.max_receive} is outside the 5 to 100 "
            f"delivery attempts Pub/Sub allows: {attempts} are made",
        )
    subscription = _push(model, event, topic, extra, comments)
    label = subscription.labels[1]
    # Pub/Sub moves failed messages itself: it publishes them to the dead-letter topic and
    # acknowledges them on this subscription.
    return [
        subscription,
        Block(
            "resource",
            ("google_pubsub_topic_iam_member", label),
            {"topic": dead_letter, "role": "roles/pubsub.publisher", "member": PUBSUB_AGENT},
        ),
        Block(
            "resource",
            ("google_pubsub_subscription_iam_member", label),
            {
                "subscription": Ref(f"google_pubsub_subscription.{label}.id"),
                "role": "roles/pubsub.subscriber",
                "member": PUBSUB_AGENT,
            },
        ),
    ]


def _schedule(model: Model, event: Event, source: ScheduleEvent) -> list[Block]:
    function = event.function
    label = names.event_label(function, event.kind, event.index)
    name = names.event_name(model.project, function, event.kind, event.index, 255)
    payload = json.dumps({"schedule": source.schedule, "function": function.name})
    return [
        _topic(label, name),
        Block(
            "resource",
            ("google_cloud_scheduler_job", label),
            {
                "name": name,
                "region": Ref("var.region"),
                "description": f"{source.schedule} for function {function.name}",
                "schedule": model.crons[(function.name, event.index)],
                "time_zone": source.timezone or TIME_ZONE,
                "pubsub_target": Block(
                    "pubsub_target",
                    body={
                        "topic_name": Ref(f"google_pubsub_topic.{label}.id"),
                        "data": Call("base64encode", (payload,)),
                        "attributes": {SCHEDULE_ATTRIBUTE: source.schedule},
                    },
                ),
                "depends_on": [APIS_REF],
            },
        ),
        _push(model, event, f"google_pubsub_topic.{label}"),
    ]


def _storage_trigger(model: Model, event: Event, source: BucketEvent) -> Block:
    function = event.function
    return Block(
        "resource",
        ("google_eventarc_trigger", names.event_label(function, event.kind, event.index)),
        {
            "name": names.event_name(model.project, function, event.kind, event.index, 63),
            "location": Ref("var.region"),
            "service_account": Ref(f"google_service_account.{EVENTS}.email"),
            "criteria": [
                Block(
                    "matching_criteria",
                    body={"attribute": "type", "value": STORAGE_EVENTS[source.on]},
                ),
                Block(
                    "matching_criteria",
                    body={
                        "attribute": "bucket",
                        "value": Ref(
                            f"google_storage_bucket.{names.label('bucket', source.bucket)}.name"
                        ),
                    },
                ),
            ],
            "destination": Block(
                "destination",
                body={
                    "cloud_run_service": Block(
                        "cloud_run_service",
                        body={"service": ref(function, "name"), "region": Ref("var.region")},
                    )
                },
            ),
            "depends_on": [
                APIS_REF,
                Ref(f"google_project_iam_member.{EVENTS}"),
                Ref("google_project_iam_member.storage-events"),
            ],
        },
    )
