"""The request policies a generated entry module enforces inside each function: what no
gateway in front of it enforces on the target cloud.

============================  ============  ============  ============  ============
policy (key)                  AWS HTTP API  AWS REST API  Google Cloud  Azure
============================  ============  ============  ============  ============
``[api] cors``                API Gateway   function      function      function
``auth`` (JWT), ``scopes``    API Gateway   function      function      function
``auth`` (Lambda authorizer)  API Gateway   API Gateway   refused       refused
``api_key_required``          (REST only)   API Gateway   refused       refused
``[api] throttle``            API Gateway   API Gateway   function      function
``throttle``                  API Gateway   API Gateway   function      function
``rate_limit``                function      function      function      function
``idempotency``               function      function      function      function
============================  ============  ============  ============  ============

The policies run in the order ``faasport dev`` runs them (:mod:`faasport.local.policies`):
CORS, the authorizer, throttles, rate limit, idempotency. Their state is kept in
``[state] url``, or ``FAASPORT_STATE_URL`` set on the deployed function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from faasport.config.model import Function, JwtAuth, LambdaAuth, Project
from faasport.config.model import Throttle as ThrottleConfig
from faasport.deploy.errors import config_error

#: Where a relative ``jwks`` file goes in the artifact, next to the entry module.
JWKS_DIRECTORY = "faasport_keys"


@dataclass
class EntryPolicies:
    """What an entry module needs for its functions' policies."""

    #: Lines after the imports (the store, the shared policies).
    setup: list[str] = field(default_factory=list)
    #: Function name -> the ``policies=`` argument, for functions that have any.
    arguments: dict[str, str] = field(default_factory=dict)
    #: Archive path -> file: the key sets the authorizers read.
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def imports(self) -> list[str]:
        """The import lines the entry module needs for them (none without policies)."""
        if not self.arguments:
            return []
        found = ["from faasport import gateway"]
        if self.files:
            found.insert(0, "from pathlib import Path\n")
        return found


def entry_policies(project: Project, target: str) -> EntryPolicies:
    """The policies of each HTTP function of ``project`` packaged for ``target`` (``aws``,
    ``gcp`` or ``azure``)."""
    built = EntryPolicies()
    behind_gateway = target == "aws"
    # HTTP APIs have CORS and JWT authorizers of their own; REST APIs have neither.
    gateway_checks_tokens = behind_gateway and project.api.type == "http"
    shared: dict[str, str] = {}

    def share(name: str, expression: str) -> str:
        if name not in shared:
            shared[name] = expression
            built.setup.append(f"{name} = {expression}")
        return name

    def store() -> str:
        return share("_STORE", f"gateway.store_url({project.state.url!r})")

    for function in project.functions.values():
        if function.app is None:
            continue
        parts: list[str] = []
        cors = project.api.cors
        if cors is not None and not gateway_checks_tokens:
            parts.append(
                share(
                    "_CORS",
                    f"gateway.Cors(origins={list(cors.origins)!r}, methods="
                    f"{list(cors.methods)!r}, headers={list(cors.headers)!r}, "
                    f"max_age={cors.max_age or None!r})",
                )
            )
        auth = project.auth.get(function.auth)
        if isinstance(auth, JwtAuth) and not gateway_checks_tokens:
            parts.append(_jwt(project, function, auth, built))
        if isinstance(auth, LambdaAuth) and not behind_gateway:
            raise config_error(
                project,
                ("functions", function.name, "auth"),
                f'names the Lambda authorizer "{auth.name}", which {target} cannot run in '
                'front of a function; use an [auth.NAME] with type = "jwt"',
            )
        if function.api_key_required and not behind_gateway:
            raise config_error(
                project,
                ("functions", function.name, "api_key_required"),
                f"API keys are an API Gateway REST API feature; {target} has no gateway to "
                "check them",
            )
        if not behind_gateway:
            throttle = project.api.throttle
            if throttle != ThrottleConfig():  # the account's defaults are no configured limit
                parts.append(
                    share(
                        "_STAGE_THROTTLE",
                        f"gateway.Throttle({store()}, rate={throttle.rate!r}, "
                        f"burst={throttle.burst!r}, name='$stage')",
                    )
                )
            if function.throttle is not None:
                parts.append(
                    f"gateway.Throttle({store()}, rate={function.throttle.rate!r}, "
                    f"burst={function.throttle.burst!r}, name={function.name!r})"
                )
        limit = function.rate_limit
        if limit is not None:
            parts.append(
                f"gateway.RateLimit({store()}, rate={limit.rate!r}, per={limit.per!r}, "
                f"by={limit.by!r}, name={function.name!r})"
            )
        idempotency = function.idempotency
        if idempotency is not None:
            parts.append(
                f"gateway.Idempotency({store()}, ttl={idempotency.ttl!r}, "
                f"in_flight={float(function.timeout)!r}, "
                f"payload_hash={idempotency.payload_hash!r}, "
                f"methods={list(idempotency.methods)!r})"
            )
        if parts:
            inner = "".join(f"\n    {part}," for part in parts)
            built.arguments[function.name] = f"gateway.policies({inner}\n)"
    return built


def _jwt(project: Project, function: Function, auth: JwtAuth, built: EntryPolicies) -> str:
    jwks = auth.jwks
    if jwks is None:  # discovered from the issuer, as API Gateway does
        source = repr(auth.issuer.rstrip("/") + "/.well-known/jwks.json")
    elif "://" in jwks:
        source = repr(jwks)
    else:
        path = project.root / jwks
        if not path.is_file():
            raise config_error(
                project, ("auth", auth.name, "jwks"), f"{jwks} is not a file in the project"
            )
        archived = str(PurePosixPath(JWKS_DIRECTORY, f"{auth.name}.json"))
        built.files[archived] = path
        source = f"str(Path(__file__).parent / {archived!r})"
    scopes = {key: list(values) for key, values in function.scopes.items()}
    identity = "" if auth.identity == JwtAuth.identity else f", identity={auth.identity!r}"
    return (
        f"gateway.JwtAuthorizer(issuer={auth.issuer!r}, audience={list(auth.audience)!r}, "
        f"jwks={source}, scopes={scopes!r}{identity})"
    )
