"""Google Cloud Secret Manager over REST, authenticated by the metadata server.

Cloud Functions and Cloud Run give every instance a metadata server that hands out access
tokens for the function's service account (``Metadata-Flavor: Google``). Like google-auth,
the metadata host is ``GCE_METADATA_HOST`` (or the older ``GCE_METADATA_ROOT``) when set.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import urllib.parse

from faasport.core.errors import ConfigError
from faasport.secrets import rest
from faasport.secrets.errors import SecretAccessDeniedError, SecretError, not_found
from faasport.secrets.names import gcp_name

DEFAULT_METADATA_HOST = "metadata.google.internal"
DEFAULT_ENDPOINT = "https://secretmanager.googleapis.com"
#: Overrides the Secret Manager endpoint (a regional or private endpoint).
ENDPOINT_VARIABLE = "FAASPORT_GCP_SECRETS_ENDPOINT"
PROJECT_VARIABLES = ("FAASPORT_GCP_PROJECT", "GOOGLE_CLOUD_PROJECT")
_FLAVOR = {"Metadata-Flavor": "Google"}


class GcpStore:
    kind = "gcp"

    def __init__(self) -> None:
        environ = os.environ
        host = (
            environ.get("GCE_METADATA_HOST")
            or environ.get("GCE_METADATA_ROOT")
            or DEFAULT_METADATA_HOST
        )
        self._metadata = f"http://{host}/computeMetadata/v1/"
        self._endpoint = environ.get(ENDPOINT_VARIABLE, DEFAULT_ENDPOINT).rstrip("/")
        self._project = next((environ[v] for v in PROJECT_VARIABLES if environ.get(v)), "")
        self._project_lock = threading.Lock()
        self._token = rest.CachedToken(self._new_token)

    def fetch(self, name: str) -> str:
        secret = gcp_name(name)
        if not secret:
            raise ConfigError(f'secret name "{name}" has no letters or digits for GCP')
        project = self._project_id(name)
        url = (
            f"{self._endpoint}/v1/projects/{urllib.parse.quote(project, safe='')}/secrets/"
            f"{secret}/versions/latest:access"
        )
        reply = rest.retrying_once(lambda: self._call(name, url), self._token)
        where = f'Secret Manager secret "{secret}" in project "{project}"'
        if reply.status == 404:
            raise not_found(name, f"{where} does not exist or has no enabled version")
        if reply.status == 403:
            raise SecretAccessDeniedError(
                name,
                f'cannot read secret "{name}": access to {where} was denied '
                f"({reply.error_message()}); grant the function's service account the role "
                f"roles/secretmanager.secretAccessor (permission secretmanager.versions.access) "
                f'on secret "{secret}"',
            )
        if reply.status != 200:
            raise SecretError(
                name, f'cannot read secret "{name}" from {where}: {reply.error_message()}'
            )
        if not isinstance(reply.body, dict):
            raise SecretError(name, f'cannot read secret "{name}": {where} answered not in JSON')
        payload = reply.body.get("payload")
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, str):
            raise SecretError(
                name, f'cannot read secret "{name}": {where} answered without payload.data'
            )
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise SecretError(
                name, f'cannot read secret "{name}": {where} is not base64-encoded UTF-8 text'
            ) from None

    def _call(self, name: str, url: str) -> rest.Reply:
        headers = {"Authorization": f"Bearer {self._token_for(name)}"}
        try:
            return rest.get(url, headers)
        except rest.Unreachable as exc:
            raise SecretError(
                name, f'cannot read secret "{name}": Secret Manager at {self._endpoint}: {exc}'
            ) from None

    def _token_for(self, name: str) -> str:
        try:
            return self._token.get()
        except (rest.Unreachable, _MetadataRefused) as exc:
            raise SecretError(name, self._no_metadata(str(exc))) from None

    def _new_token(self) -> tuple[str, float]:
        reply = rest.get(
            self._metadata + "instance/service-accounts/default/token", _FLAVOR, local=True
        )
        body = reply.body if isinstance(reply.body, dict) else {}
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if reply.status != 200 or not isinstance(token, str):
            raise _MetadataRefused(f"no access token ({reply.error_message()})")
        return token, float(lifetime) if isinstance(lifetime, int | float) else 0.0

    def _project_id(self, name: str) -> str:
        with self._project_lock:
            if not self._project:
                try:
                    reply = rest.get(self._metadata + "project/project-id", _FLAVOR, local=True)
                except rest.Unreachable as exc:
                    raise SecretError(name, self._no_metadata(str(exc))) from None
                if reply.status != 200 or not reply.text.strip():
                    raise SecretError(
                        name,
                        self._no_metadata(f"no project id ({reply.error_message()})")
                        + "; or set FAASPORT_GCP_PROJECT",
                    )
                self._project = reply.text.strip()
            return self._project

    def _no_metadata(self, reason: str) -> str:
        return (
            f"cannot read secrets from Google Cloud Secret Manager: the metadata server at "
            f"{self._metadata} gave {reason}; the function needs a service account (off "
            "Google Cloud, set FAASPORT_SECRETS=env and the secret's environment variable)"
        )


class _MetadataRefused(Exception):
    pass
