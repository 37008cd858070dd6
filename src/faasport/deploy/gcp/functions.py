"""``functions.tf``: each function as a Cloud Functions (2nd gen) function with a service
account of its own, the secrets it reads, the buckets it writes to, and who may call it.

HTTP functions serve the app to the internet: anyone may call them when ``auth = "none"``;
otherwise only the IAM members in ``var.invokers`` (an API Gateway's service account, say).
Event functions accept internal traffic only, from the event-delivery service account.
"""

from __future__ import annotations

from faasport.config.model import Function
from faasport.deploy.gcp import names
from faasport.deploy.gcp.base import APIS_REF, BUILD, EVENTS
from faasport.deploy.gcp.model import Model, is_http
from faasport.deploy.hcl import Block, Ref, Value, template
from faasport.secrets.names import env_name, gcp_name

#: The vCPUs Cloud Functions gives each memory size by default, set explicitly so that any
#: configured size gets a valid pair (above 4 GiB needs 2 vCPUs, above 8 GiB 4).
CPU_BY_MEMORY = (
    (128, "0.083"),
    (256, "0.167"),
    (512, "0.333"),
    (1024, "0.583"),
    (2048, "1"),
    (8192, "2"),
    (16384, "4"),
)
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
INVOKER = "roles/run.invoker"
OBJECT_CREATOR = "roles/storage.objectCreator"


def blocks(model: Model) -> list[Block]:
    out: list[Block] = []
    secrets = sorted({gcp_name(s) for f in model.project.functions.values() for s in f.secrets})
    out += [
        Block("data", ("google_secret_manager_secret", secret_label(secret)), {"secret_id": secret})
        for secret in secrets
    ]
    for function in model.project.functions.values():
        out += _function(model, function)
    return out


def secret_label(secret: str) -> str:
    return f"secret-{secret}"


def ref(function: Function, attribute: str) -> Ref:
    return Ref(f"google_cloudfunctions2_function.{function.name}.{attribute}")


def cpu(memory: int) -> str:
    return next(cpu for limit, cpu in CPU_BY_MEMORY if memory <= limit)


def _function(model: Model, function: Function) -> list[Block]:
    project = model.project
    account = f"google_service_account.{function.name}"
    member = template("serviceAccount:", Ref(f"{account}.email"))
    out = [
        Block(
            "resource",
            ("google_service_account", function.name),
            {
                "account_id": names.account_id(project, f"fn-{function.name}"),
                "display_name": f"faasport {project.name}: function {function.name}",
            },
        )
    ]
    grants: list[Value] = []
    secrets: list[Block] = []
    for secret in sorted({(env_name(s), gcp_name(s)) for s in function.secrets}):
        variable, secret_id = secret
        grant = f"{function.name}-{secret_id}"
        out.append(
            Block(
                "resource",
                ("google_secret_manager_secret_iam_member", grant),
                {
                    "project": Ref("var.project"),
                    "secret_id": Ref(
                        f"data.google_secret_manager_secret.{secret_label(secret_id)}.secret_id"
                    ),
                    "role": SECRET_ACCESSOR,
                    "member": member,
                },
            )
        )
        grants.append(Ref(f"google_secret_manager_secret_iam_member.{grant}"))
        secrets.append(
            Block(
                "secret_environment_variables",
                body={
                    "key": variable,
                    "project_id": Ref("var.project"),
                    "secret": secret_id,
                    "version": "latest",
                },
            )
        )
    for bucket in function.writes:  # objects its own code puts (``writes``)
        out.append(
            Block(
                "resource",
                (
                    "google_storage_bucket_iam_member",
                    f"{function.name}-writes-{bucket.replace('.', '_')}",
                ),
                {
                    "bucket": Ref(f"google_storage_bucket.{names.label('bucket', bucket)}.name"),
                    "role": OBJECT_CREATOR,
                    "member": member,
                },
            )
        )
    http = is_http(function)
    environment: dict[str, Value] = dict(function.environment)
    environment["FAASPORT_GCP_PROJECT"] = Ref("var.project")
    if not http:
        # Pub/Sub push requests are not CloudEvents: functions-framework converts them
        # only for a function of this signature type.
        environment["FUNCTION_SIGNATURE_TYPE"] = "cloudevent"
    service: dict[str, Value | Block | list[Block]] = {
        "available_memory": f"{function.memory}Mi",
        "available_cpu": cpu(function.memory),
        "timeout_seconds": function.timeout,
        "min_instance_count": function.warm,
        "max_instance_count": function.concurrency,
        # One request at a time per instance, as on Lambda; fractional vCPUs require it.
        "max_instance_request_concurrency": 1,
        "ingress_settings": "ALLOW_ALL" if http else "ALLOW_INTERNAL_ONLY",
        "all_traffic_on_latest_revision": True,
        "service_account_email": Ref(f"{account}.email"),
        "environment_variables": environment,
    }
    if secrets:
        service["secret_environment_variables"] = secrets
    comments: tuple[str, ...] = ()
    if http:
        comments = (
            f"checkov:skip=CKV_GCP_124:function {function.name} serves HTTP to the internet; "
            "IAM decides who may call it",
        )
    out.append(
        Block(
            "resource",
            ("google_cloudfunctions2_function", function.name),
            {
                "name": names.function_name(project, function),
                "location": Ref("var.region"),
                "description": f"faasport {project.name}: {function.target}",
                "build_config": Block(
                    "build_config",
                    body={
                        "runtime": f"python{project.python.replace('.', '')}",
                        "entry_point": function.name,
                        "service_account": Ref(f"google_service_account.{BUILD}.id"),
                        "source": Block(
                            "source",
                            body={
                                "storage_source": Block(
                                    "storage_source",
                                    body={
                                        "bucket": Ref("google_storage_bucket.source.name"),
                                        "object": Ref("google_storage_bucket_object.source.name"),
                                    },
                                )
                            },
                        ),
                    },
                ),
                "service_config": Block("service_config", body=service),
                # The secrets must be readable before the first instance starts.
                "depends_on": [APIS_REF, *grants],
            },
            comments=comments,
        )
    )
    out += _callers(model, function)
    return out


def _callers(model: Model, function: Function) -> list[Block]:
    """Who may call the function: IAM bindings on its Cloud Run service."""
    target: dict[str, Value] = {
        "project": Ref("var.project"),
        "location": Ref("var.region"),
        "name": ref(function, "name"),
        "role": INVOKER,
    }
    label = function.name
    if not is_http(function):
        if not function.events:
            return []
        member = template("serviceAccount:", Ref(f"google_service_account.{EVENTS}.email"))
        return [
            Block(
                "resource",
                ("google_cloud_run_v2_service_iam_member", f"{label}_events"),
                {**target, "member": member},
            )
        ]
    if function.auth == "none":
        return [
            Block(
                "resource",
                ("google_cloud_run_v2_service_iam_member", f"{label}_public"),
                {**target, "member": "allUsers"},
            )
        ]
    return [
        Block(
            "resource",
            ("google_cloud_run_v2_service_iam_member", f"{label}_invokers"),
            {"for_each": Ref("toset(var.invokers)"), **target, "member": Ref("each.value")},
        )
    ]
