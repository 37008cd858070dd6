"""``main.tf``: the provider and variables, the APIs the deployment uses, the buckets that
hold the source bundle and the access logs, and the identities shared by all functions."""

from __future__ import annotations

from faasport.deploy.gcp import names
from faasport.deploy.gcp.model import Model, is_http
from faasport.deploy.hcl import Block, Call, Ref, Value, template
from faasport.deploy.terraform import terraform_settings

GOOGLE_PROVIDER = "~> 6.0"
DEFAULT_REGION = "us-central1"
#: The Cloud Storage service account that writes usage logs into the log bucket.
STORAGE_ANALYTICS = "group:cloud-storage-analytics@google.com"
LOG_DAYS = 365
#: What Cloud Build needs to build a function: write its logs and push its image (to the
#: gcf-artifacts repository Cloud Functions creates). It reads the source bucket too.
BUILD_ROLES = ("roles/logging.logWriter", "roles/artifactregistry.writer")
APIS = ("artifactregistry", "cloudbuild", "cloudfunctions", "iam", "run", "storage")
#: Labels of the shared identities; the ``-`` keeps them apart from function labels.
BUILD = "faasport-build"
EVENTS = "faasport-events"

APIS_REF = Ref("google_project_service.apis")
PUBSUB_AGENT = Ref("local.pubsub_agent")


def blocks(model: Model) -> list[Block]:
    project = model.project
    out = [
        terraform_settings("google", GOOGLE_PROVIDER),
        Block(
            "provider", ("google",), {"project": Ref("var.project"), "region": Ref("var.region")}
        ),
        _variable("project", "The id of the Google Cloud project to deploy into."),
        _variable("region", "The region of the functions, buckets and triggers.", DEFAULT_REGION),
    ]
    if any(is_http(f) and f.auth != "none" for f in project.functions.values()):
        out.append(
            Block(
                "variable",
                ("invokers",),
                {
                    "type": Ref("list(string)"),
                    "default": [],
                    "description": "IAM members (like serviceAccount:gateway@PROJECT.iam."
                    "gserviceaccount.com) allowed to call the HTTP functions whose auth is "
                    'not "none".',
                },
            )
        )
    out.append(Block("locals", body=_locals(model)))
    out.append(
        Block(
            "resource",
            ("google_project_service", "apis"),
            {
                "for_each": Call("toset", (_apis(model),)),
                "service": Ref("each.value"),
                "disable_on_destroy": False,
            },
        )
    )
    if model.pushes:
        out.append(Block("data", ("google_project", "this")))
    out += _buckets(model)
    out += _identities(model)
    return out


def _variable(name: str, description: str, default: str | None = None) -> Block:
    body: dict[str, Value] = {"type": Ref("string"), "description": description}
    if default is not None:
        body["default"] = default
    return Block("variable", (name,), body)


def _locals(model: Model) -> dict[str, Value]:
    body: dict[str, Value] = {
        "package": template(Ref("path.module"), "/", names.package_path(model.project))
    }
    if model.pushes:
        body["pubsub_agent"] = template(
            "serviceAccount:service-",
            Ref("data.google_project.this.number"),
            "@gcp-sa-pubsub.iam.gserviceaccount.com",
        )
    return body


def _apis(model: Model) -> list[Value]:
    apis = set(APIS)
    if model.queues or model.topics or model.crons:
        apis.add("pubsub")
    if model.crons:
        apis.add("cloudscheduler")
    if model.buckets:
        apis.add("eventarc")
    if any(f.secrets for f in model.project.functions.values()):
        apis.add("secretmanager")
    return [f"{api}.googleapis.com" for api in sorted(apis)]


def bucket(name: Value, *, logged: bool = True) -> dict[str, Value | Block]:
    """The body of a private, versioned bucket in the deployment's region."""
    body: dict[str, Value | Block] = {
        "name": name,
        "location": Ref("var.region"),
        "uniform_bucket_level_access": True,
        "public_access_prevention": "enforced",
        "force_destroy": False,
        "versioning": Block("versioning", body={"enabled": True}),
    }
    if logged:
        body["logging"] = Block(
            "logging", body={"log_bucket": Ref("google_storage_bucket.logs.name")}
        )
    return body


def _buckets(model: Model) -> list[Block]:
    prefix = names.source_prefix(model.project)
    logs = bucket(template(Ref("var.project"), f"-{prefix}-logs"), logged=False)
    logs["lifecycle_rule"] = Block(
        "lifecycle_rule",
        body={
            "condition": Block("condition", body={"age": LOG_DAYS}),
            "action": Block("action", body={"type": "Delete"}),
        },
    )
    return [
        Block(
            "resource",
            ("google_storage_bucket", "logs"),
            logs,
            comments=(
                "checkov:skip=CKV_GCP_62:this is the access-log bucket the other buckets log "
                "to; logging it into itself would log its own log writes",
            ),
        ),
        Block(
            "resource",
            ("google_storage_bucket_iam_member", "logs"),
            {
                "bucket": Ref("google_storage_bucket.logs.name"),
                "role": "roles/storage.objectCreator",
                "member": STORAGE_ANALYTICS,
            },
        ),
        Block(
            "resource",
            ("google_storage_bucket", "source"),
            bucket(template(Ref("var.project"), f"-{prefix}-source")),
        ),
        Block(
            "resource",
            ("google_storage_bucket_object", "source"),
            {
                # A new name per bundle content makes Cloud Functions rebuild on change.
                "name": template(f"{model.project.name}-", Ref("filemd5(local.package)"), ".zip"),
                "bucket": Ref("google_storage_bucket.source.name"),
                "source": Ref("local.package"),
            },
        ),
    ]


def _identities(model: Model) -> list[Block]:
    project = model.project
    build_member = template("serviceAccount:", Ref(f"google_service_account.{BUILD}.email"))
    out = [
        Block(
            "resource",
            ("google_service_account", BUILD),
            {
                "account_id": names.account_id(project, "build"),
                "display_name": f"faasport {project.name}: builds the functions",
            },
        ),
        *(
            Block(
                "resource",
                ("google_project_iam_member", f"{BUILD}-{role.rpartition('.')[2]}"),
                {"project": Ref("var.project"), "role": role, "member": build_member},
            )
            for role in BUILD_ROLES
        ),
        Block(
            "resource",
            ("google_storage_bucket_iam_member", BUILD),
            {
                "bucket": Ref("google_storage_bucket.source.name"),
                "role": "roles/storage.objectViewer",
                "member": build_member,
            },
        ),
    ]
    if not model.events:
        return out
    events_member = template("serviceAccount:", Ref(f"google_service_account.{EVENTS}.email"))
    out.append(
        Block(
            "resource",
            ("google_service_account", EVENTS),
            {
                "account_id": names.account_id(project, "events"),
                "display_name": f"faasport {project.name}: delivers events to the functions",
            },
        )
    )
    if model.pushes:
        # Pub/Sub signs the push requests' OIDC tokens as this account.
        out.append(
            Block(
                "resource",
                ("google_service_account_iam_member", EVENTS),
                {
                    "service_account_id": Ref(f"google_service_account.{EVENTS}.name"),
                    "role": "roles/iam.serviceAccountTokenCreator",
                    "member": PUBSUB_AGENT,
                },
            )
        )
    if model.buckets:
        out += [
            Block(
                "resource",
                ("google_project_iam_member", EVENTS),
                {
                    "project": Ref("var.project"),
                    "role": "roles/eventarc.eventReceiver",
                    "member": events_member,
                },
            ),
            Block("data", ("google_storage_project_service_account", "this")),
            Block(
                "resource",
                ("google_project_iam_member", "storage-events"),
                {
                    "project": Ref("var.project"),
                    "role": "roles/pubsub.publisher",
                    "member": template(
                        "serviceAccount:",
                        Ref("data.google_storage_project_service_account.this.email_address"),
                    ),
                },
            ),
        ]
    return out
