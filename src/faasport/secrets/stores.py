"""Which secret store applies where the code runs, and one instance of each, created on
first use (the provider modules, and boto3 or urllib with them, are imported only then).

``FAASPORT_SECRETS`` (``env``, ``aws``, ``gcp`` or ``azure``) chooses explicitly;
``faasport dev`` sets ``env``. Otherwise the platform's own variables tell:
AWS Lambda sets ``AWS_LAMBDA_FUNCTION_NAME`` / ``AWS_EXECUTION_ENV``, Cloud Functions and
Cloud Run ``K_SERVICE`` / ``FUNCTION_TARGET``, Azure Functions ``FUNCTIONS_WORKER_RUNTIME`` /
``WEBSITE_SITE_NAME``. Anywhere else only environment variables hold secrets.
"""

from __future__ import annotations

import os
import threading

from faasport.core.errors import ConfigError
from faasport.secrets.errors import SecretError, not_found

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Protocol

    class Store(Protocol):
        kind: str

        def fetch(self, name: str) -> str: ...


CHOICE_VARIABLE = "FAASPORT_SECRETS"
#: Set by ``faasport dev``: the JSON list of secret names the function declares.
DECLARED_VARIABLE = "FAASPORT_DECLARED_SECRETS"
KINDS = ("env", "aws", "gcp", "azure")
_DETECT = (
    ("aws", ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV")),
    ("gcp", ("K_SERVICE", "FUNCTION_TARGET")),
    ("azure", ("FUNCTIONS_WORKER_RUNTIME", "WEBSITE_SITE_NAME")),
)


def detect(environ: Mapping[str, str]) -> str:
    """The store kind for this environment: one of :data:`KINDS`."""
    chosen = environ.get(CHOICE_VARIABLE, "")
    if chosen:
        if chosen not in KINDS:
            raise ConfigError(
                f'{CHOICE_VARIABLE}: must be one of {", ".join(KINDS)}, got "{chosen}"'
            )
        return chosen
    for kind, variables in _DETECT:
        if any(environ.get(v) for v in variables):
            return kind
    return "env"


class EnvStore:
    """No secret store: a secret not in the environment does not exist."""

    kind = "env"

    def fetch(self, name: str) -> str:
        declared = os.environ.get(DECLARED_VARIABLE)
        if declared is not None and name not in _names(declared):
            function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "this function")
            raise SecretError(
                name,
                f'secret "{name}" is not declared by {function}: add it to the function\'s '
                "secrets = [...] in faasport.toml (the deployed function may read only the "
                "secrets it declares)",
            )
        reason = (
            f"{CHOICE_VARIABLE}=env"
            if os.environ.get(CHOICE_VARIABLE) == "env"
            else "not on AWS Lambda, Google Cloud or Azure"
        )
        raise not_found(
            name,
            f"no cloud secret store is used here ({reason}; set {CHOICE_VARIABLE} to aws, gcp "
            "or azure to use one)",
        )


def _names(declared: str) -> list[str]:
    import json

    try:
        names = json.loads(declared)
    except ValueError:
        return []
    return [str(name) for name in names] if isinstance(names, list) else []


def _aws() -> Store:
    from faasport.secrets.aws import AwsStore

    return AwsStore()


def _gcp() -> Store:
    from faasport.secrets.gcp import GcpStore

    return GcpStore()


def _azure() -> Store:
    from faasport.secrets.azure import AzureStore

    return AzureStore()


_FACTORIES: dict[str, Callable[[], Store]] = {
    "env": EnvStore,
    "aws": _aws,
    "gcp": _gcp,
    "azure": _azure,
}
_stores: dict[str, Store] = {}
_lock = threading.Lock()


def current() -> Store:
    """The store for this environment, created on first use and kept (with its clients
    and access tokens) until :func:`reset`."""
    kind = detect(os.environ)
    store = _stores.get(kind)
    if store is None:
        with _lock:
            store = _stores.get(kind)
            if store is None:
                store = _stores[kind] = _FACTORIES[kind]()
    return store


def reset() -> None:
    """Forget every store: the next use reads the environment and authenticates anew."""
    with _lock:
        _stores.clear()
