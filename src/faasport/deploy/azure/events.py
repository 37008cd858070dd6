"""``events.tf``: the Storage queues, the blob containers, and Event Grid.

Queue events need nothing but the queue: the Functions host polls it, retries a failing
message and moves it to ``<queue>-poison`` after host.json's ``maxDequeueCount``. Schedules
live in ``function_app.py`` (timer triggers). Bucket and topic events go through Event
Grid into a Storage queue of their own, which a queue trigger reads: Event Grid filters
blob events by prefix and suffix, and delivers created and deleted blobs alike, where Flex
Consumption has no polling blob trigger. Topics are Event Grid topics the app publishes to
with its identity.
"""

from __future__ import annotations

from faasport.config.model import BucketEvent
from faasport.deploy.azure import names
from faasport.deploy.azure.base import BLOB_LOGGING, RG, STORAGE, placed
from faasport.deploy.azure.function_app import IDENTITY
from faasport.deploy.azure.model import Event, Model
from faasport.deploy.hcl import Block, Ref, Value, template

BLOB_EVENTS = {
    "created": "Microsoft.Storage.BlobCreated",
    "removed": "Microsoft.Storage.BlobDeleted",
}
#: Event Grid retries a delivery this long (minutes) before dropping it.
EVENT_TTL = 1440
SYSTEM_TOPIC = "azurerm_eventgrid_system_topic.storage"


def blocks(model: Model) -> list[Block]:
    out = [
        Block(
            "resource",
            ("azurerm_storage_queue", names.label("queue", name)),
            {"name": name, "storage_account_id": Ref(f"{STORAGE}.id")},
        )
        for name in model.queues
    ]
    out += [
        Block(
            "resource",
            ("azurerm_storage_container", names.label("bucket", name)),
            {
                "name": name,
                "storage_account_id": Ref(f"{STORAGE}.id"),
                "container_access_type": "private",
            },
            comments=(BLOB_LOGGING,),
        )
        for name in model.containers
    ]
    if model.containers:
        out.append(
            Block(
                "resource",
                ("azurerm_eventgrid_system_topic", "storage"),
                {
                    "name": names.lower("evgt", model.project.name, "storage", limit=128),
                    **placed(),
                    "source_resource_id": Ref(f"{STORAGE}.id"),
                    "topic_type": "Microsoft.Storage.StorageAccounts",
                },
            )
        )
    for topic in model.topics:
        out += _topic(model, topic)
    out += [_subscription(model, event) for event in model.events]
    return out


def _topic(model: Model, topic: str) -> list[Block]:
    label = names.label("topic", topic)
    prefix = names.lower("evgt", model.project.name, topic, limit=50 - names.SUFFIX - 1)
    return [
        Block(
            "resource",
            ("azurerm_eventgrid_topic", label),
            {
                "name": template(f"{prefix}-", Ref("local.suffix")),
                **placed(),
                "input_schema": "EventGridSchema",
                "identity": Block("identity", body={"type": "SystemAssigned"}),
                # Publishers sign in with Microsoft Entra ID: the app with its identity.
                "local_auth_enabled": False,
                "public_network_access_enabled": True,
            },
            comments=(
                "checkov:skip=CKV_AZURE_193:the Function App publishes from public addresses; "
                "it has no virtual network to publish from",
            ),
        ),
        Block(
            "resource",
            ("azurerm_role_assignment", label),
            {
                "scope": Ref(f"azurerm_eventgrid_topic.{label}.id"),
                "role_definition_name": "EventGrid Data Sender",
                "principal_id": IDENTITY,
                "principal_type": "ServicePrincipal",
            },
        ),
    ]


def _subscription(model: Model, event: Event) -> Block:
    label = names.event_label(event.function, event.index)
    name = names.lower(label, limit=64)
    body: dict[str, Value | Block] = {
        "event_delivery_schema": "EventGridSchema",
        "storage_queue_endpoint": Block(
            "storage_queue_endpoint",
            body={
                "storage_account_id": Ref(f"{STORAGE}.id"),
                "queue_name": Ref(
                    f"azurerm_storage_queue.{names.label('queue', event.queue)}.name"
                ),
            },
        ),
        "retry_policy": Block(
            "retry_policy", body={"max_delivery_attempts": 30, "event_time_to_live": EVENT_TTL}
        ),
    }
    source = event.source
    if isinstance(source, BucketEvent):
        container = f"azurerm_storage_container.{names.label('bucket', source.bucket)}"
        subject: dict[str, Value] = {
            "subject_begins_with": template(
                "/blobServices/default/containers/",
                Ref(f"{container}.name"),
                f"/blobs/{source.prefix}",
            ),
            "case_sensitive": True,
        }
        if source.suffix:
            subject["subject_ends_with"] = source.suffix
        return Block(
            "resource",
            ("azurerm_eventgrid_system_topic_event_subscription", label),
            {
                "name": name,
                "system_topic": Ref(f"{SYSTEM_TOPIC}.name"),
                "resource_group_name": Ref(f"{RG}.name"),
                "included_event_types": [BLOB_EVENTS[source.on]],
                "subject_filter": Block("subject_filter", body=subject),
                **body,
            },
        )
    return Block(
        "resource",
        ("azurerm_eventgrid_event_subscription", label),
        {
            "name": name,
            "scope": Ref(f"azurerm_eventgrid_topic.{names.label('topic', source.topic)}.id"),
            **body,
        },
    )
