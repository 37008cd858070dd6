"""``function_app.tf``: the Flex Consumption Function App that runs every function, its
settings (environment, Key Vault references), and the roles of its managed identity."""

from __future__ import annotations

from faasport.deploy.azure import names
from faasport.deploy.azure.base import RG, STORAGE, VAULT, placed
from faasport.deploy.azure.model import Model, is_http
from faasport.deploy.hcl import Block, Call, Ref, Value, template
from faasport.secrets.names import azure_name, env_name

APP = "azurerm_function_app_flex_consumption.main"
IDENTITY = Ref(f"{APP}.identity[0].principal_id")
#: Requests an HTTP instance serves at once: one, as on Lambda.
HTTP_CONCURRENCY = 1


def blocks(model: Model) -> list[Block]:
    project = model.project
    settings: dict[str, Value] = dict(model.environment)
    secrets = sorted(
        {(env_name(s), azure_name(s)) for f in project.functions.values() for s in f.secrets}
    )
    for variable, secret in secrets:
        settings[variable] = template(
            "@Microsoft.KeyVault(SecretUri=", Ref(f"{VAULT}.vault_uri"), f"secrets/{secret}/)"
        )
    settings["FAASPORT_KEY_VAULT_URL"] = Ref(f"{VAULT}.vault_uri")
    settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=AAD"
    app: dict[str, Value | Block | list[Block]] = {
        "name": template(names.function_app_prefix(project), Ref("local.suffix")),
        **placed(),
        "service_plan_id": Ref("azurerm_service_plan.main.id"),
        "storage_container_type": "blobContainer",
        "storage_container_endpoint": template(
            Ref(f"{STORAGE}.primary_blob_endpoint"), Ref("azurerm_storage_container.package.name")
        ),
        "storage_authentication_type": "StorageAccountConnectionString",
        "storage_access_key": Ref(f"{STORAGE}.primary_access_key"),
        "runtime_name": "python",
        "runtime_version": project.python,
        "instance_memory_in_mb": model.instance_memory,
        "maximum_instance_count": model.maximum_instances,
        "https_only": True,
        "public_network_access_enabled": True,
        "webdeploy_publish_basic_authentication_enabled": False,
        "app_settings": settings,
        "identity": Block("identity", body={"type": "SystemAssigned"}),
        "site_config": Block(
            "site_config",
            body={
                "application_insights_connection_string": Ref(
                    "azurerm_application_insights.main.connection_string"
                ),
                "minimum_tls_version": "1.2",
                "http2_enabled": True,
            },
        ),
    }
    if any(is_http(f) for f in project.functions.values()):
        app["http_concurrency"] = HTTP_CONCURRENCY
    if model.always_ready:
        app["always_ready"] = [
            Block("always_ready", body={"name": name, "instance_count": count})
            for name, count in model.always_ready.items()
        ]
    out = [
        Block(
            "resource",
            ("azurerm_service_plan", "main"),
            {
                "name": names.lower("plan", project.name, limit=60),
                **placed(),
                "os_type": "Linux",
                "sku_name": "FC1",
            },
            comments=(
                "checkov:skip=CKV_AZURE_212:a Flex Consumption plan scales from zero on demand; "
                "instances kept running come from the app's always_ready (warm)",
                "checkov:skip=CKV_AZURE_225:a Flex Consumption plan has no standing instances "
                "to spread over availability zones",
            ),
        ),
        Block("resource", ("azurerm_function_app_flex_consumption", "main"), app),
        _role("telemetry", "azurerm_application_insights.main", "Monitoring Metrics Publisher"),
    ]
    if secrets:
        out.append(_role("secrets", VAULT, "Key Vault Secrets User"))
    out.append(_code())
    return out


def _code() -> Block:
    """The bundle, deployed with a remote build (the platform installs requirements.txt)
    whenever it changes. azurerm cannot: its zip deploy does not work on Flex Consumption
    (terraform-provider-azurerm#29630), and a blob put in place is never built."""
    command = template(
        "az functionapp deployment source config-zip --resource-group ",
        Ref(f"{RG}.name"),
        " --name ",
        Ref(f"{APP}.name"),
        " --src ",
        Ref("local.package"),
        " --build-remote true",
    )
    return Block(
        "resource",
        ("terraform_data", "code"),
        {
            "triggers_replace": [Call("filemd5", (Ref("local.package"),)), Ref(f"{APP}.id")],
            "provisioner": Block("provisioner", ("local-exec",), {"command": command}),
        },
    )


def _role(label: str, scope: str, role: str) -> Block:
    """``role`` on ``scope`` (a resource address) for the app's managed identity."""
    return Block(
        "resource",
        ("azurerm_role_assignment", label),
        {
            "scope": Ref(f"{scope}.id"),
            "role_definition_name": role,
            "principal_id": IDENTITY,
            "principal_type": "ServicePrincipal",
        },
    )
