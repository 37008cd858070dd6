"""faasport deploy azure: what each configuration key becomes on Azure Functions (one Flex
Consumption app), and the errors for what Azure cannot run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from faasport.config import load_project
from faasport.core.errors import ConfigError
from faasport.deploy.azure import names, plan
from iac import resources
from projects import PHONEY, write_project

EVERY_KEY = """
name = "Shop-API"
python = "3.13"

[functions.api]
app = "shop.main:app"
memory = 1536
concurrency = 20
warm = 2
auth = "users"
environment = { LOG_LEVEL = "DEBUG", FEATURE = "on" }
secrets = ["shop/prod/jwt", "ssm:/shop/prod/db"]

[functions.admin]
app = "shop.admin:app"
memory = 3072
routes = ["ANY /admin/{proxy+}"]
warm = 1
environment = { LOG_LEVEL = "DEBUG" }

[functions.send_mail]
handler = "shop.jobs:handle"
concurrency = 5
warm = 1
secrets = ["shop/prod/jwt"]
events = [
  { queue = "jobs" },
  { schedule = "rate(5 minutes)" },
  { bucket = "shop-uploads", on = "created", prefix = "in/", suffix = ".csv" },
  { bucket = "shop-uploads", on = "removed" },
  { topic = "alerts" },
]

[queues.jobs]
visibility_timeout = 180
max_receive = 12
dlq = "jobs-dlq"

[queues.audit]

[auth.users]
issuer = "https://issuer.example.com/"
"""


@pytest.fixture(scope="module")
def every_key(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = write_project(tmp_path_factory.mktemp("shop"), EVERY_KEY)
    return resources(plan(load_project(directory)).files)


def test_one_flex_consumption_app_sized_for_every_function(
    every_key: dict[str, dict[str, Any]],
) -> None:
    assert every_key["azurerm_service_plan"]["main"]["sku_name"] == "FC1"
    app = every_key["azurerm_function_app_flex_consumption"]["main"]
    assert app["name"] == "func-shop-api-${local.suffix}"
    assert (app["runtime_name"], app["runtime_version"]) == ("python", "3.13")
    assert app["instance_memory_in_mb"] == 4096  # admin's 3072 MB, rounded up to a size
    assert app["maximum_instance_count"] == 20 + 10 + 5
    assert app["http_concurrency"] == 1
    assert app["always_ready"] == [
        {"name": "http", "instance_count": 3},
        {"name": "function:send_mail", "instance_count": 1},
    ]
    assert (app["https_only"], app["identity"]) == (True, [{"type": "SystemAssigned"}])
    assert app["storage_container_endpoint"] == (
        "${azurerm_storage_account.main.primary_blob_endpoint}"
        "${azurerm_storage_container.package.name}"
    )
    # The bundle is deployed again, with a remote build, whenever it changes.
    code = every_key["terraform_data"]["code"]
    assert code["triggers_replace"] == [
        "${filemd5(local.package)}",
        "${azurerm_function_app_flex_consumption.main.id}",
    ]
    command = code["provisioner"][0]["local-exec"]["command"]
    assert command == (
        "az functionapp deployment source config-zip"
        " --resource-group ${azurerm_resource_group.main.name}"
        " --name ${azurerm_function_app_flex_consumption.main.name}"
        " --src ${local.package} --build-remote true"
    )


def test_settings_hold_the_environment_and_key_vault_references(
    every_key: dict[str, dict[str, Any]],
) -> None:
    settings = every_key["azurerm_function_app_flex_consumption"]["main"]["app_settings"]
    vault = "${azurerm_key_vault.main.vault_uri}"
    assert settings == {
        "FEATURE": "on",
        "LOG_LEVEL": "DEBUG",
        "FAASPORT_SECRET_SHOP_PROD_DB": (
            f"@Microsoft.KeyVault(SecretUri={vault}secrets/shop-prod-db/)"
        ),
        "FAASPORT_SECRET_SHOP_PROD_JWT": (
            f"@Microsoft.KeyVault(SecretUri={vault}secrets/shop-prod-jwt/)"
        ),
        "FAASPORT_KEY_VAULT_URL": vault,
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD",
    }
    roles = {
        label: (body["role_definition_name"], body["scope"], body["principal_id"])
        for label, body in every_key["azurerm_role_assignment"].items()
    }
    identity = "${azurerm_function_app_flex_consumption.main.identity[0].principal_id}"
    assert roles == {
        "deployer-secrets": (
            "Key Vault Secrets Officer",
            "${azurerm_key_vault.main.id}",
            "${data.azurerm_client_config.current.object_id}",
        ),
        "secrets": ("Key Vault Secrets User", "${azurerm_key_vault.main.id}", identity),
        "telemetry": (
            "Monitoring Metrics Publisher",
            "${azurerm_application_insights.main.id}",
            identity,
        ),
        "topic-alerts": (
            "EventGrid Data Sender",
            "${azurerm_eventgrid_topic.topic-alerts.id}",
            identity,
        ),
    }
    vault_body = every_key["azurerm_key_vault"]["main"]
    assert vault_body["rbac_authorization_enabled"] is True
    assert vault_body["purge_protection_enabled"] is True


def test_storage_is_private_and_logged(every_key: dict[str, dict[str, Any]]) -> None:
    account = every_key["azurerm_storage_account"]["main"]
    assert account["min_tls_version"] == "TLS1_2"
    assert account["https_traffic_only_enabled"] is True
    assert account["allow_nested_items_to_be_public"] is False
    assert account["name"] == "stshopapi${local.suffix}"
    diagnostics = every_key["azurerm_monitor_diagnostic_setting"]
    assert {body["target_resource_id"] for body in diagnostics.values()} == {
        "${azurerm_storage_account.main.id}/blobServices/default",
        "${azurerm_storage_account.main.id}/queueServices/default",
        "${azurerm_key_vault.main.id}",
    }
    workspace = every_key["azurerm_log_analytics_workspace"]["main"]
    assert workspace["retention_in_days"] == 30


def test_queues_containers_and_event_grid_deliveries(
    every_key: dict[str, dict[str, Any]],
) -> None:
    queues = [body["name"] for body in every_key["azurerm_storage_queue"].values()]
    assert queues == ["audit", "jobs", "send-mail-bucket2", "send-mail-bucket3", "send-mail-topic4"]
    containers = [body["name"] for body in every_key["azurerm_storage_container"].values()]
    assert containers == ["app-package", "shop-uploads"]
    blob_events = every_key["azurerm_eventgrid_system_topic_event_subscription"]
    summary = {
        label: (
            body["included_event_types"],
            body["subject_filter"][0],
            body["storage_queue_endpoint"][0]["queue_name"],
        )
        for label, body in blob_events.items()
    }
    begins = (
        "/blobServices/default/containers/"
        "${azurerm_storage_container.bucket-shop-uploads.name}/blobs/"
    )
    assert summary == {
        "send_mail_bucket2": (
            ["Microsoft.Storage.BlobCreated"],
            {
                "subject_begins_with": begins + "in/",
                "case_sensitive": True,
                "subject_ends_with": ".csv",
            },
            "${azurerm_storage_queue.queue-send-mail-bucket2.name}",
        ),
        "send_mail_bucket3": (
            ["Microsoft.Storage.BlobDeleted"],
            {"subject_begins_with": begins, "case_sensitive": True},
            "${azurerm_storage_queue.queue-send-mail-bucket3.name}",
        ),
    }
    topic = every_key["azurerm_eventgrid_topic"]["topic-alerts"]
    assert topic["local_auth_enabled"] is False
    (subscription,) = every_key["azurerm_eventgrid_event_subscription"].values()
    assert subscription["scope"] == "${azurerm_eventgrid_topic.topic-alerts.id}"
    assert subscription["storage_queue_endpoint"][0]["queue_name"] == (
        "${azurerm_storage_queue.queue-send-mail-topic4.name}"
    )


def test_long_names_are_cut_with_a_hash_that_keeps_them_apart() -> None:
    first = names.lower("Send_Mail", "x" * 80, limit=63)
    second = names.lower("Send_Mail", "x" * 81, limit=63)
    assert len(first) == len(second) == 63
    assert first.startswith("send-mail-xxx")
    assert first != second


def test_the_example_needs_no_vault_roles_and_no_warm_instances() -> None:
    found = resources(plan(load_project(PHONEY)).files)
    app = found["azurerm_function_app_flex_consumption"]["main"]
    assert "always_ready" not in app
    assert app["instance_memory_in_mb"] == 512
    assert set(found["azurerm_role_assignment"]) == {"telemetry"}
    assert [body["name"] for body in found["azurerm_storage_queue"].values()] == ["jobs"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            'python = "3.14"\n[functions.api]\napp = "a:app"',
            "faasport.toml: python: Azure Functions (Flex Consumption) runs Python 3.11, 3.12, "
            "3.13, not 3.14",
        ),
        (
            '[functions.api]\napp = "a:app"\nmemory = 8192',
            "faasport.toml: functions.api.memory: Flex Consumption instances have at most "
            "4096 MB, got 8192",
        ),
        (
            "[queues.Jobs]",
            'faasport.toml: queues.Jobs: "Jobs" cannot name an Azure Storage queue',
        ),
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ bucket = "my.files" }]',
            'faasport.toml: functions.w.events[0].bucket: "my.files" cannot name an Azure blob '
            "container",
        ),
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ bucket = "files" }]\n[queues.w-bucket0]',
            "faasport.toml: functions.w.events[0].bucket: Event Grid delivers this event into "
            'the Storage queue "w-bucket0", which another queue or event already uses',
        ),
        (
            '[functions.a]\napp = "a:app"\nenvironment = { MODE = "x" }\n'
            '[functions.b]\nhandler = "b:h"\nenvironment = { MODE = "y" }',
            "faasport.toml: functions.b.environment.MODE: is 'y' but function a sets 'x'",
        ),
        (
            '[functions.api]\napp = "a:app"\nhandler = "a:handle"\nevents = [{ topic = "alerts" }]',
            "faasport.toml: functions.api.events: an HTTP function (app) takes no events",
        ),
        (
            '[functions.api]\napp = "a:app"\nsnapstart = true',
            "faasport.toml: functions.api.snapstart: SnapStart is AWS Lambda's; Azure has none",
        ),
    ],
)
def test_what_azure_cannot_run_is_a_config_error(tmp_path: Path, config: str, message: str) -> None:
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    with pytest.raises(ConfigError) as raised:
        plan(load_project(directory))
    assert message in str(raised.value)
