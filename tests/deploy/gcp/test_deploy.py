"""faasport deploy gcp: what each configuration key becomes on Google Cloud, the errors for
what Google Cloud cannot run, and a Pub/Sub push delivery, as the generated subscription
sends it, reaching the handler through the real functions-framework."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from faasport.config import load_project
from faasport.core.errors import ConfigError
from faasport.deploy.gcp import plan
from iac import resources
from projects import GCP_AZURE_EVERY_KEY, PHONEY, write_project
from servers import functions_framework


@pytest.fixture(scope="module")
def every_key(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = write_project(tmp_path_factory.mktemp("shop"), GCP_AZURE_EVERY_KEY)
    return resources(plan(load_project(directory)).files)


def test_each_function_runs_with_its_limits_and_environment(
    every_key: dict[str, dict[str, Any]],
) -> None:
    functions = every_key["google_cloudfunctions2_function"]
    assert list(functions) == ["api", "admin", "worker", "mailer"]
    api = functions["api"]
    assert api["name"] == "shop-api-api"
    (build,) = api["build_config"]
    assert (build["runtime"], build["entry_point"]) == ("python313", "api")
    (storage,) = build["source"][0]["storage_source"]
    assert storage["object"] == "${google_storage_bucket_object.source.name}"
    (service,) = api["service_config"]
    assert service["available_memory"] == "1536Mi"
    assert (service["available_cpu"], service["timeout_seconds"]) == ("1", 60)
    assert (service["min_instance_count"], service["max_instance_count"]) == (2, 20)
    assert service["max_instance_request_concurrency"] == 1
    assert service["ingress_settings"] == "ALLOW_ALL"
    assert service["service_account_email"] == "${google_service_account.api.email}"
    assert service["environment_variables"] == {
        "LOG_LEVEL": "DEBUG",
        "FEATURE": "on",
        "FAASPORT_GCP_PROJECT": "${var.project}",
    }
    assert [
        (s["key"], s["secret"], s["version"]) for s in service["secret_environment_variables"]
    ] == [
        ("FAASPORT_SECRET_SHOP_PROD_DB", "shop-prod-db", "latest"),
        ("FAASPORT_SECRET_SHOP_PROD_JWT", "shop-prod-jwt", "latest"),
    ]
    admin = functions["admin"]["service_config"][0]
    assert (admin["available_memory"], admin["available_cpu"]) == ("3072Mi", "2")
    worker = functions["worker"]["service_config"][0]
    assert worker["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    assert worker["environment_variables"]["FUNCTION_SIGNATURE_TYPE"] == "cloudevent"
    assert (worker["min_instance_count"], worker["max_instance_count"]) == (1, 5)


def test_each_function_has_its_own_account_reading_only_its_secrets(
    every_key: dict[str, dict[str, Any]],
) -> None:
    accounts = every_key["google_service_account"]
    ids = {label: body["account_id"] for label, body in accounts.items()}
    assert ids == {
        "faasport-build": "shop-api-build",
        "faasport-events": "shop-api-events",
        "api": "shop-api-fn-api",
        "admin": "shop-api-fn-admin",
        "worker": "shop-api-fn-worker",
        "mailer": "shop-api-fn-mailer",
    }
    grants = {
        (body["member"], body["secret_id"], body["role"])
        for body in every_key["google_secret_manager_secret_iam_member"].values()
    }
    accessor = "roles/secretmanager.secretAccessor"

    def grant(function: str, secret: str) -> tuple[str, str, str]:
        member = f"serviceAccount:${{google_service_account.{function}.email}}"
        ref = f"${{data.google_secret_manager_secret.secret-{secret}.secret_id}}"
        return member, ref, accessor

    assert grants == {
        grant("api", "shop-prod-db"),
        grant("api", "shop-prod-jwt"),
        grant("admin", "shop-prod-db-url"),
        grant("worker", "shop-prod-jwt"),
    }
    # A function starts only once it may read its secrets.
    depends = every_key["google_cloudfunctions2_function"]["admin"]["depends_on"]
    assert "${google_secret_manager_secret_iam_member.admin-shop-prod-db-url}" in depends


def test_only_auth_none_http_functions_are_public(every_key: dict[str, dict[str, Any]]) -> None:
    bindings = every_key["google_cloud_run_v2_service_iam_member"]
    members = {label: (body["name"], body["member"]) for label, body in bindings.items()}
    events = "serviceAccount:${google_service_account.faasport-events.email}"
    assert members == {
        "api_invokers": ("${google_cloudfunctions2_function.api.name}", "${each.value}"),
        "admin_public": ("${google_cloudfunctions2_function.admin.name}", "allUsers"),
        "worker_events": ("${google_cloudfunctions2_function.worker.name}", events),
        "mailer_events": ("${google_cloudfunctions2_function.mailer.name}", events),
    }
    assert bindings["api_invokers"]["for_each"] == "${toset(var.invokers)}"
    assert {body["role"] for body in bindings.values()} == {"roles/run.invoker"}


def test_queues_push_to_their_function_and_dead_letter(
    every_key: dict[str, dict[str, Any]],
) -> None:
    topics = {label: body["name"] for label, body in every_key["google_pubsub_topic"].items()}
    assert topics == {
        "queue-audit": "audit",
        "queue-audit-dlq": "audit-dlq",  # every queue has one unless dlq = false
        "queue-jobs": "jobs",
        "queue-jobs-dlq": "jobs-dlq",
        "queue-mail": "mail",
        "topic-alerts": "alerts",
        "worker_schedule1": "shop-api-worker-schedule1",
        "worker_schedule2": "shop-api-worker-schedule2",
    }
    subscriptions = every_key["google_pubsub_subscription"]
    # Queues nobody consumes keep their messages in a pull subscription.
    assert subscriptions["queue-audit"]["topic"] == "${google_pubsub_topic.queue-audit.id}"
    assert "push_config" not in subscriptions["queue-jobs-dlq"]
    jobs = subscriptions["worker_queue0"]
    assert jobs["topic"] == "${google_pubsub_topic.queue-jobs.id}"
    assert jobs["ack_deadline_seconds"] == 180
    assert jobs["dead_letter_policy"] == [
        {
            "dead_letter_topic": "${google_pubsub_topic.queue-jobs-dlq.id}",
            "max_delivery_attempts": 12,
        }
    ]
    assert jobs["expiration_policy"] == [{"ttl": ""}]
    (push,) = jobs["push_config"]
    uri = "${google_cloudfunctions2_function.worker.service_config[0].uri}"
    assert push["push_endpoint"] == (
        f"{uri}/projects/${{var.project}}/topics/${{google_pubsub_topic.queue-jobs.name}}"
    )
    assert push["oidc_token"][0]["audience"] == uri
    mail = subscriptions["mailer_queue0"]
    assert "dead_letter_policy" not in mail
    assert mail["ack_deadline_seconds"] == 60
    # Pub/Sub moves dead letters itself, with the rights to do so.
    agent = "${local.pubsub_agent}"
    assert every_key["google_pubsub_topic_iam_member"]["worker_queue0"]["member"] == agent
    assert every_key["google_pubsub_subscription_iam_member"]["worker_queue0"]["subscription"] == (
        "${google_pubsub_subscription.worker_queue0.id}"
    )
    # A topic reaches each of its subscribers.
    alerts = sorted(
        label
        for label, body in subscriptions.items()
        if body["topic"] == "${google_pubsub_topic.topic-alerts.id}"
    )
    assert alerts == ["mailer_topic1", "worker_topic5"]


def test_schedules_publish_unix_cron_to_a_topic_of_their_own(
    every_key: dict[str, dict[str, Any]],
) -> None:
    jobs = every_key["google_cloud_scheduler_job"]
    summary = {
        label: (job["schedule"], job["time_zone"], job["pubsub_target"][0]["topic_name"])
        for label, job in jobs.items()
    }
    assert summary == {
        "worker_schedule1": (
            "*/5 * * * *",
            "Etc/UTC",
            "${google_pubsub_topic.worker_schedule1.id}",
        ),
        "worker_schedule2": (
            "0 12 * * 1-5",
            "Etc/UTC",
            "${google_pubsub_topic.worker_schedule2.id}",
        ),
    }
    target = jobs["worker_schedule2"]["pubsub_target"][0]
    assert target["attributes"] == {"faasport-schedule": "cron(0 12 ? * MON-FRI *)"}
    pushed = every_key["google_pubsub_subscription"]["worker_schedule2"]
    assert pushed["topic"] == "${google_pubsub_topic.worker_schedule2.id}"


def test_bucket_events_are_eventarc_storage_triggers(
    every_key: dict[str, dict[str, Any]],
) -> None:
    bucket = every_key["google_storage_bucket"]["bucket-shop-uploads"]
    assert bucket["name"] == "shop-uploads"
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["versioning"] == [{"enabled": True}]
    triggers = every_key["google_eventarc_trigger"]
    kinds = {
        label: {c["attribute"]: c["value"] for c in body["matching_criteria"]}
        for label, body in triggers.items()
    }
    name = "${google_storage_bucket.bucket-shop-uploads.name}"
    assert kinds == {
        "worker_bucket3": {"type": "google.cloud.storage.object.v1.finalized", "bucket": name},
        "worker_bucket4": {"type": "google.cloud.storage.object.v1.deleted", "bucket": name},
    }
    destination = triggers["worker_bucket3"]["destination"][0]["cloud_run_service"][0]
    assert destination["service"] == "${google_cloudfunctions2_function.worker.name}"


def test_a_max_receive_below_pubsubs_range_is_raised_and_said() -> None:
    files = plan(load_project(PHONEY)).files
    jobs = resources(files, comments=True)["google_pubsub_subscription"]["worker_queue0"]
    assert jobs["dead_letter_policy"][0]["max_delivery_attempts"] == 5
    assert jobs["__comments__"] == [
        {
            "value": "queues.jobs.max_receive = 3 is outside the 5 to 100 delivery attempts "
            "Pub/Sub allows: 5 are made"
        }
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            'python = "3.14"\n[functions.api]\napp = "a:app"',
            "faasport.toml: python: Cloud Functions runs Python 3.11, 3.12, 3.13, not 3.14",
        ),
        (
            '[functions.w]\nhandler = "a:h"\ntimeout = 900',
            "faasport.toml: functions.w.timeout: event functions run at most 600 seconds",
        ),
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ schedule = "rate(7 minutes)" }]',
            "faasport.toml: functions.w.events[0].schedule: cannot run on Cloud Scheduler: "
            "rate(7 minutes) does not divide an hour or a day evenly",
        ),
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ schedule = "cron(0 12 L * ? *)" }]',
            "faasport.toml: functions.w.events[0].schedule: cannot run on Cloud Scheduler: "
            "cron(0 12 L * ? *) uses L (last)",
        ),
        (
            '[functions.a]\nhandler = "a:h"\nevents = [{ queue = "jobs" }]\n'
            '[functions.b]\nhandler = "b:h"\nevents = [{ queue = "jobs" }]\n[queues.jobs]',
            'faasport.toml: functions.b.events[0].queue: queue "jobs" is already consumed by '
            'function "a"',
        ),
        (
            '[functions.a]\nhandler = "a:h"\nevents = [{ topic = "jobs" }]\n[queues.jobs]',
            'faasport.toml: functions.a.events[0].topic: "jobs" is also a queue',
        ),
        (
            "[queues.q1]",
            'faasport.toml: queues.q1: "q1" cannot name a Pub/Sub topic',
        ),
        (
            '[queues.jobs]\ndlq = "9dead"',
            'faasport.toml: queues.jobs.dlq: "9dead" cannot name a Pub/Sub topic',
        ),
        (
            '[functions.api]\napp = "a:app"\nhandler = "a:handle"\nevents = [{ topic = "alerts" }]',
            "faasport.toml: functions.api.events: an HTTP function (app) takes no events",
        ),
        (
            '[functions.api]\napp = "a:app"\nsnapstart = true',
            "faasport.toml: functions.api.snapstart: SnapStart is AWS Lambda's; Google Cloud "
            "has none",
        ),
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ bucket = "my-google-files" }]',
            "faasport.toml: functions.w.events[0].bucket: Cloud Storage bucket names cannot",
        ),
    ],
)
def test_what_google_cloud_cannot_run_is_a_config_error(
    tmp_path: Path, config: str, message: str
) -> None:
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    with pytest.raises(ConfigError) as raised:
        plan(load_project(directory))
    assert message in str(raised.value)


# -- a push delivery through functions-framework ---------------------------------------------

RECORDER = """
import json, os

from faasport import gcp


def handle(records, context):
    with open(os.environ["RECORDS"], "a") as out:
        for record in records:
            if hasattr(record, "channel"):
                line = {"channel": record.channel, "body": record.text}
                line["attributes"] = record.attributes
            else:
                line = {"tick": record.name}
            out.write(json.dumps(line) + "\\n")


worker = gcp.event_handler(handle)
"""


def test_a_push_delivery_reaches_the_handler_with_its_queue(
    every_key: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """What Pub/Sub sends to the generated push endpoint, with the generated environment,
    reaches the handler as a message of the right queue (or schedule)."""
    source = tmp_path / "main.py"
    source.write_text(RECORDER)
    records = tmp_path / "records.jsonl"
    service = every_key["google_cloudfunctions2_function"]["worker"]["service_config"][0]
    environment = {
        key: value
        for key, value in service["environment_variables"].items()
        if not value.startswith("${")
    }
    topics = every_key["google_pubsub_topic"]
    subscriptions = every_key["google_pubsub_subscription"]

    def path_of(label: str) -> str:
        endpoint = subscriptions[label]["push_config"][0]["push_endpoint"]
        uri = "${google_cloudfunctions2_function.worker.service_config[0].uri}"
        topic = endpoint.rpartition("${google_pubsub_topic.")[2].partition(".name}")[0]
        return (
            endpoint.replace(uri, "")
            .replace("${var.project}", "my-project")
            .replace(f"${{google_pubsub_topic.{topic}.name}}", topics[topic]["name"])
        )

    def push(url: str, label: str, data: bytes, attributes: dict[str, str]) -> httpx.Response:
        body = {
            "message": {
                "data": base64.b64encode(data).decode(),
                "messageId": f"id-{label}",
                "attributes": attributes,
            },
            "subscription": f"projects/my-project/subscriptions/{label}",
        }
        return httpx.post(url + path_of(label), json=body, timeout=10)

    schedule = every_key["google_cloud_scheduler_job"]["worker_schedule1"]["pubsub_target"][0]
    with functions_framework(source, "worker", {**environment, "RECORDS": str(records)}) as url:
        queued = push(url, "worker_queue0", b"job 1", {})
        ticked = push(url, "worker_schedule1", b"{}", schedule["attributes"])
    assert (queued.status_code, ticked.status_code) == (200, 200), queued.text + ticked.text
    delivered = [json.loads(line) for line in records.read_text().splitlines()]
    assert delivered == [
        {"channel": "jobs", "body": "job 1", "attributes": {}},
        {"tick": "shop-api-worker-schedule1"},
    ]
