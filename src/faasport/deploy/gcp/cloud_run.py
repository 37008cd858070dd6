"""``faasport deploy gcp --package container``: the HTTP functions as Cloud Run services that
all run one image, ``faasport package --target container``'s (its entrypoint serves the
function named by the container's argument on ``$PORT``).

As on AWS, the repository must exist before the image is pushed and the services need the
image: ``terraform apply -target`` creates the Artifact Registry repository, ``push-image.sh``
builds and pushes the image and records it pinned by digest in ``image.auto.tfvars.json``,
then ``terraform apply`` creates the services. Event functions (queues, topics, buckets,
schedules) are deployed from the source bundle: ``--package zip``.
"""

from __future__ import annotations

from faasport.config.model import Function, Project
from faasport.deploy.errors import config_error
from faasport.deploy.gcp import names
from faasport.deploy.gcp.base import DEFAULT_REGION, GOOGLE_PROVIDER
from faasport.deploy.gcp.functions import INVOKER, SECRET_ACCESSOR, cpu, secret_label
from faasport.deploy.gcp.model import is_http
from faasport.deploy.hcl import Block, Call, Ref, Value, template
from faasport.deploy.package.container import DOCKERFILE
from faasport.deploy.plan import Plan
from faasport.deploy.terraform import terraform_plan, terraform_settings
from faasport.local.entry import MODULE
from faasport.secrets.names import env_name, gcp_name

REPOSITORY = "google_artifact_registry_repository.images"
SCRIPT = "push-image.sh"
TF_VARS = "image.auto.tfvars.json"
CONTEXT = "../../dist/container"
APIS = ("artifactregistry", "iam", "run")
_DIGEST = "^[a-z0-9-]+-docker\\\\.pkg\\\\.dev/[^@]+@sha256:[0-9a-f]{64}$"


def plan(project: Project, install_hint: str) -> Plan:
    functions = _functions(project)
    files = {
        "main.tf": _main(project),
        "services.tf": [block for f in functions for block in _service(project, f)],
        "outputs.tf": _outputs(functions),
    }
    base = terraform_plan("gcp", project, files, install_hint)
    init, apply = base.commands[-2:]
    return Plan(
        provider="gcp",
        files={**base.files, SCRIPT: _script(project)},
        commands=(
            ("faasport", "package", "--target", "container", "--project", "../.."),
            init,
            (*apply, f"-target={REPOSITORY}"),
            ("sh", SCRIPT),
            apply,
        ),
        install_hint=install_hint,
    )


def _functions(project: Project) -> list[Function]:
    for function in project.functions.values():
        if not is_http(function):
            raise config_error(
                project,
                ("functions", function.name),
                "deploy gcp --package container serves HTTP functions as Cloud Run services; "
                "deploy event functions with --package zip",
            )
    return list(project.functions.values())


def _main(project: Project) -> list[Block]:
    apis = set(APIS)
    if any(function.secrets for function in project.functions.values()):
        apis.add("secretmanager")
    out = [
        terraform_settings("google", GOOGLE_PROVIDER),
        Block(
            "provider", ("google",), {"project": Ref("var.project"), "region": Ref("var.region")}
        ),
        _variable("project", "The id of the Google Cloud project to deploy into."),
        _variable("region", "The region of the services and the image repository.", DEFAULT_REGION),
        Block(
            "variable",
            ("image",),
            {
                "type": Ref("string"),
                "description": "The services' image, pinned by digest: "
                f"REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE@sha256:DIGEST ({SCRIPT} writes "
                f"it to {TF_VARS}); null only while the repository alone is applied",
                "default": None,
                "validation": Block(
                    "validation",
                    (),
                    {
                        "condition": Ref(
                            f'var.image == null || can(regex("{_DIGEST}", var.image))'
                        ),
                        "error_message": "image must be an Artifact Registry image pinned by "
                        "digest: REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE@sha256:DIGEST.",
                    },
                ),
            },
        ),
    ]
    if any(function.auth != "none" for function in project.functions.values()):
        out.append(
            Block(
                "variable",
                ("invokers",),
                {
                    "type": Ref("list(string)"),
                    "default": [],
                    "description": "IAM members allowed to call the services whose auth is "
                    'not "none".',
                },
            )
        )
    out += [
        Block(
            "resource",
            ("google_project_service", "apis"),
            {
                "for_each": Call("toset", ([f"{api}.googleapis.com" for api in sorted(apis)],)),
                "service": Ref("each.value"),
                "disable_on_destroy": False,
            },
        ),
        Block(
            "resource",
            tuple(REPOSITORY.split(".")),
            {
                "location": Ref("var.region"),
                "repository_id": project.name.lower(),
                "format": "DOCKER",
                "description": f"faasport {project.name}: the functions' image",
                "depends_on": [Ref("google_project_service.apis")],
            },
            comments=(
                "checkov:skip=CKV_GCP_84:encrypted with Google's key; a customer key would add "
                "a key ring and its IAM to manage for an image of public code and libraries",
            ),
        ),
    ]
    return out


def _variable(name: str, description: str, default: str | None = None) -> Block:
    body: dict[str, Value] = {"type": Ref("string"), "description": description}
    if default is not None:
        body["default"] = default
    return Block("variable", (name,), body)


def _service(project: Project, function: Function) -> list[Block]:
    label = function.name
    account = f"google_service_account.{label}"
    out: list[Block] = []
    grants: list[Value] = []
    environment: list[Block] = [
        Block("env", body={"name": key, "value": value})
        for key, value in sorted(function.environment.items())
    ]
    environment.append(
        Block("env", body={"name": "FAASPORT_GCP_PROJECT", "value": Ref("var.project")})
    )
    for variable, secret_id in sorted({(env_name(s), gcp_name(s)) for s in function.secrets}):
        grant = f"{label}-{secret_id}"
        out += [
            Block(
                "data",
                ("google_secret_manager_secret", secret_label(secret_id)),
                {"secret_id": secret_id},
            ),
            Block(
                "resource",
                ("google_secret_manager_secret_iam_member", grant),
                {
                    "secret_id": Ref(
                        f"data.google_secret_manager_secret.{secret_label(secret_id)}.secret_id"
                    ),
                    "role": SECRET_ACCESSOR,
                    "member": template("serviceAccount:", Ref(f"{account}.email")),
                },
            ),
        ]
        grants.append(Ref(f"google_secret_manager_secret_iam_member.{grant}"))
        environment.append(
            Block(
                "env",
                body={
                    "name": variable,
                    "value_source": Block(
                        "value_source",
                        body={
                            "secret_key_ref": Block(
                                "secret_key_ref", body={"secret": secret_id, "version": "latest"}
                            )
                        },
                    ),
                },
            )
        )
    container = Block(
        "containers",
        body={
            "image": Ref("var.image"),
            # The image's entrypoint serves the function its first argument names.
            "args": [f"{MODULE}.{function.name}"],
            "resources": Block(
                "resources",
                body={"limits": {"memory": f"{function.memory}Mi", "cpu": _cpu(function)}},
            ),
            "env": environment,
        },
    )
    template_body: dict[str, Value | Block | list[Block]] = {
        "service_account": Ref(f"{account}.email"),
        "timeout": f"{function.timeout}s",
        # One request at a time per instance, as on Lambda.
        "max_instance_request_concurrency": 1,
        "scaling": Block(
            "scaling",
            body={
                "min_instance_count": function.warm,
                "max_instance_count": function.concurrency,
            },
        ),
        "containers": container,
    }
    out += [
        Block(
            "resource",
            ("google_service_account", label),
            {
                "account_id": names.account_id(project, f"run-{function.name}"),
                "display_name": f"faasport: Cloud Run service {function.name}",
            },
        ),
        Block(
            "resource",
            ("google_cloud_run_v2_service", label),
            {
                "name": names.function_name(project, function),
                "location": Ref("var.region"),
                "ingress": "INGRESS_TRAFFIC_ALL",
                "deletion_protection": False,
                "template": Block("template", body=template_body),
                "depends_on": [Ref("google_project_service.apis"), *grants],
            },
            comments=(
                f"checkov:skip=CKV_GCP_102:service {function.name} serves HTTP to the internet; "
                "IAM decides who may call it",
            ),
        ),
        _invokers(function),
    ]
    return out


def _cpu(function: Function) -> str:
    """Cloud Run's smallest CPU limit is 1 with one request at a time; more with memory."""
    value = cpu(function.memory)
    return value if float(value) >= 1 else "1"


def _invokers(function: Function) -> Block:
    target: dict[str, Value] = {
        "location": Ref("var.region"),
        "name": Ref(f"google_cloud_run_v2_service.{function.name}.name"),
        "role": INVOKER,
    }
    if function.auth == "none":
        return Block(
            "resource",
            ("google_cloud_run_v2_service_iam_member", f"{function.name}_public"),
            {**target, "member": "allUsers"},
        )
    return Block(
        "resource",
        ("google_cloud_run_v2_service_iam_member", f"{function.name}_invokers"),
        {"for_each": Ref("toset(var.invokers)"), **target, "member": Ref("each.value")},
    )


def _outputs(functions: list[Function]) -> list[Block]:
    out = [
        Block(
            "output",
            ("image_repository",),
            {
                "description": f"Where {SCRIPT} pushes the services' image",
                "value": template(
                    Ref("var.region"),
                    "-docker.pkg.dev/",
                    Ref("var.project"),
                    "/",
                    Ref(f"{REPOSITORY}.repository_id"),
                ),
            },
        )
    ]
    out += [
        Block(
            "output",
            (f"{function.name}_url",),
            {
                "description": f"The URL of function {function.name}.",
                "value": Ref(f"google_cloud_run_v2_service.{function.name}.uri"),
            },
        )
        for function in functions
    ]
    return out


def _script(project: Project) -> str:
    return f"""\
#!/bin/sh
# Written by `faasport deploy gcp --package container` from {project.source.name}; edit the
# configuration, not this file. Builds {CONTEXT}/{DOCKERFILE}, pushes it to Artifact
# Registry and records it pinned by digest in {TF_VARS} for the services.
set -eu
if ! command -v docker >/dev/null 2>&1; then
  echo "{SCRIPT}: docker is needed to build the image: install Docker, or build and push" \\
    "{CONTEXT} yourself and set the image variable to IMAGE@sha256:DIGEST" >&2
  exit 1
fi
repository="$(terraform output -raw image_repository)"
image="$repository/{project.name.lower()}"
tag="$(date -u +%Y%m%d%H%M%S)"
gcloud auth configure-docker "${{repository%%/*}}" --quiet
docker build --platform linux/amd64 --tag "$image:$tag" {CONTEXT}
docker push "$image:$tag"
digest="$(docker inspect --format '{{{{index .RepoDigests 0}}}}' "$image:$tag")"
pinned="$image@${{digest##*@}}"
printf '{{"image": "%s"}}\\n' "$pinned" > {TF_VARS}
echo "{SCRIPT}: $pinned"
"""
