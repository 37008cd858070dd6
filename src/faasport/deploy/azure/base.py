"""``main.tf``: the provider and variables, the resource group, logging (Log Analytics and
Application Insights), the storage account the Function App runs on, and the Key Vault."""

from __future__ import annotations

from faasport.deploy.azure import names
from faasport.deploy.azure.model import Model
from faasport.deploy.hcl import Block, Call, Ref, Value, template
from faasport.deploy.terraform import terraform_settings

AZURERM_PROVIDER = "~> 4.50"
DEFAULT_LOCATION = "eastus"
LOG_RETENTION_DAYS = 30
SOFT_DELETE_DAYS = 7
#: The longest a shared access signature the account signs may be valid.
SAS_EXPIRATION = "01.00:00:00"

BLOB_LOGGING = (
    "checkov:skip=CKV2_AZURE_21:blob requests are logged to Log Analytics by "
    "azurerm_monitor_diagnostic_setting.blobs; the check looks for the older Storage Analytics "
    "ingestion (azurerm_log_analytics_storage_insights)"
)
NO_PRIVATE_ENDPOINT = (
    "a private endpoint needs a virtual network, which this serverless deployment does not have"
)
RG = "azurerm_resource_group.main"
STORAGE = "azurerm_storage_account.main"
VAULT = "azurerm_key_vault.main"
WORKSPACE = "azurerm_log_analytics_workspace.main"
CLIENT = "data.azurerm_client_config.current"


def placed() -> dict[str, Value]:
    """The resource group and location every resource shares."""
    return {"resource_group_name": Ref(f"{RG}.name"), "location": Ref(f"{RG}.location")}


def blocks(model: Model) -> list[Block]:
    project = model.project
    return [
        terraform_settings("azurerm", AZURERM_PROVIDER),
        Block(
            "provider",
            ("azurerm",),
            {"subscription_id": Ref("var.subscription_id"), "features": Block("features")},
        ),
        Block(
            "variable",
            ("location",),
            {
                "type": Ref("string"),
                "description": "The Azure region of every resource.",
                "default": DEFAULT_LOCATION,
            },
        ),
        Block(
            "variable",
            ("subscription_id",),
            {
                "type": Ref("string"),
                "description": "The subscription to deploy into; null: the Azure CLI's "
                "current one (or ARM_SUBSCRIPTION_ID).",
                "default": None,
            },
        ),
        Block("data", ("azurerm_client_config", "current")),
        Block(
            "locals",
            body={
                "package": template(Ref("path.module"), "/", names.package_path(project)),
                # Globally unique names end with this, the same for the same subscription.
                "suffix": Call(
                    "substr",
                    (
                        Call(
                            "sha1",
                            (template(Ref(f"{CLIENT}.subscription_id"), f"/{project.name}"),),
                        ),
                        0,
                        names.SUFFIX,
                    ),
                ),
            },
        ),
        Block(
            "resource",
            ("azurerm_resource_group", "main"),
            {"name": names.resource_group(project), "location": Ref("var.location")},
        ),
        Block(
            "resource",
            ("azurerm_log_analytics_workspace", "main"),
            {
                "name": names.lower("log", project.name, limit=63),
                **placed(),
                "sku": "PerGB2018",
                "retention_in_days": LOG_RETENTION_DAYS,
            },
        ),
        Block(
            "resource",
            ("azurerm_application_insights", "main"),
            {
                "name": names.lower("appi", project.name, limit=255),
                **placed(),
                "workspace_id": Ref(f"{WORKSPACE}.id"),
                "application_type": "other",
                # Telemetry is sent with the app's identity (Monitoring Metrics Publisher).
                "local_authentication_disabled": True,
            },
        ),
        *_storage(model),
        *_vault(model),
    ]


def _storage(model: Model) -> list[Block]:
    retention = {"days": SOFT_DELETE_DAYS}
    account = Block(
        "resource",
        ("azurerm_storage_account", "main"),
        {
            "name": template(names.storage_account_prefix(model.project), Ref("local.suffix")),
            **placed(),
            "account_tier": "Standard",
            "account_replication_type": "GRS",
            "min_tls_version": "TLS1_2",
            "https_traffic_only_enabled": True,
            "allow_nested_items_to_be_public": False,
            "cross_tenant_replication_enabled": False,
            "local_user_enabled": False,
            "shared_access_key_enabled": True,
            "public_network_access_enabled": True,
            "sas_policy": Block("sas_policy", body={"expiration_period": SAS_EXPIRATION}),
            "blob_properties": Block(
                "blob_properties",
                body={
                    "delete_retention_policy": Block("delete_retention_policy", body=retention),
                    "container_delete_retention_policy": Block(
                        "container_delete_retention_policy", body=retention
                    ),
                },
            ),
        },
        comments=(
            "checkov:skip=CKV_AZURE_43:the name ends with local.suffix, which checkov cannot "
            "evaluate: st, the project's letters and digits, 8 hex digits; 24 at most",
            "checkov:skip=CKV2_AZURE_40:the Function App reaches its storage with the account "
            "key: azurerm's Flex Consumption app writes a key-based AzureWebJobsStorage even "
            "with a managed identity (terraform-provider-azurerm#29693)",
            "checkov:skip=CKV_AZURE_59:a Flex Consumption app without a virtual network reaches "
            "its storage over the public endpoint",
            "checkov:skip=CKV_AZURE_35:network rules would shut out the Flex Consumption app, "
            "which has no virtual network to allow",
            f"checkov:skip=CKV2_AZURE_33:{NO_PRIVATE_ENDPOINT}",
            "checkov:skip=CKV2_AZURE_1:Microsoft-managed keys; a customer-managed key needs a "
            "Key Vault key this deployment does not manage",
            "checkov:skip=CKV_AZURE_33:queue requests are logged to Log Analytics by "
            "azurerm_monitor_diagnostic_setting.queues, which supersedes Storage Analytics",
        ),
    )
    return [
        account,
        *(
            Block(
                "resource",
                ("azurerm_monitor_diagnostic_setting", service),
                {
                    "name": "faasport",
                    "target_resource_id": template(
                        Ref(f"{STORAGE}.id"), f"/{service[:-1]}Services/default"
                    ),
                    "log_analytics_workspace_id": Ref(f"{WORKSPACE}.id"),
                    "enabled_log": Block("enabled_log", body={"category_group": "allLogs"}),
                },
            )
            for service in ("blobs", "queues")
        ),
        Block(
            "resource",
            ("azurerm_storage_container", "package"),
            {
                "name": "app-package",
                "storage_account_id": Ref(f"{STORAGE}.id"),
                "container_access_type": "private",
            },
            comments=(BLOB_LOGGING,),
        ),
    ]


def _vault(model: Model) -> list[Block]:
    out = [
        Block(
            "resource",
            ("azurerm_key_vault", "main"),
            {
                "name": template(names.key_vault_prefix(model.project), Ref("local.suffix")),
                **placed(),
                "tenant_id": Ref(f"{CLIENT}.tenant_id"),
                "sku_name": "standard",
                "rbac_authorization_enabled": True,
                "purge_protection_enabled": True,
                "soft_delete_retention_days": 90,
                "public_network_access_enabled": True,
                "network_acls": Block(
                    "network_acls", body={"default_action": "Allow", "bypass": "AzureServices"}
                ),
            },
            comments=(
                "checkov:skip=CKV_AZURE_109:the Function App resolves Key Vault references from "
                "public addresses; a firewalled vault needs a virtual network it does not have",
                "checkov:skip=CKV_AZURE_189:the Function App resolves Key Vault references "
                "over the vault's public endpoint; it has no virtual network",
                f"checkov:skip=CKV2_AZURE_32:{NO_PRIVATE_ENDPOINT}",
            ),
        ),
        Block(
            "resource",
            ("azurerm_monitor_diagnostic_setting", "vault"),
            {
                "name": "faasport",
                "target_resource_id": Ref(f"{VAULT}.id"),
                "log_analytics_workspace_id": Ref(f"{WORKSPACE}.id"),
                "enabled_log": Block("enabled_log", body={"category_group": "audit"}),
            },
        ),
    ]
    if any(f.secrets for f in model.project.functions.values()):
        # Whoever deploys sets the secrets' values (az keyvault secret set).
        out.append(
            Block(
                "resource",
                ("azurerm_role_assignment", "deployer-secrets"),
                {
                    "scope": Ref(f"{VAULT}.id"),
                    "role_definition_name": "Key Vault Secrets Officer",
                    "principal_id": Ref(f"{CLIENT}.object_id"),
                },
            )
        )
    return out
