"""Azure Key Vault over REST, authenticated by the function app's managed identity.

App Service and Azure Functions expose the identity endpoint to the app as
``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` (sent back as ``X-IDENTITY-HEADER``);
``AZURE_CLIENT_ID`` picks a user-assigned identity, as in the Azure SDKs. The vault is
``FAASPORT_KEY_VAULT_URL`` (``https://NAME.vault.azure.net``), set by the deploy generators.
"""

from __future__ import annotations

import os
import time
import urllib.parse

from faasport.core.errors import ConfigError
from faasport.secrets import rest
from faasport.secrets.errors import SecretAccessDeniedError, SecretError, not_found
from faasport.secrets.names import azure_name

VAULT_VARIABLE = "FAASPORT_KEY_VAULT_URL"
VAULT_RESOURCE = "https://vault.azure.net"
IDENTITY_API_VERSION = "2019-08-01"
KEY_VAULT_API_VERSION = "7.4"


class AzureStore:
    kind = "azure"

    def __init__(self) -> None:
        environ = os.environ
        self._vault = environ.get(VAULT_VARIABLE, "").rstrip("/")
        self._identity = environ.get("IDENTITY_ENDPOINT", "")
        self._identity_header = environ.get("IDENTITY_HEADER", "")
        self._client_id = environ.get("AZURE_CLIENT_ID", "")
        self._token = rest.CachedToken(self._new_token)

    def fetch(self, name: str) -> str:
        if not self._vault:
            raise ConfigError(
                f'cannot read secret "{name}" from Azure Key Vault: {VAULT_VARIABLE} is not set; '
                "set it to the vault's URI (https://NAME.vault.azure.net)"
            )
        secret = azure_name(name)
        if not secret:
            raise ConfigError(f'secret name "{name}" has no letters or digits for Azure')
        url = f"{self._vault}/secrets/{secret}?api-version={KEY_VAULT_API_VERSION}"
        reply = rest.retrying_once(lambda: self._call(name, url), self._token)
        where = f'Key Vault {self._vault} secret "{secret}"'
        if reply.status == 404:
            raise not_found(name, f"{where} does not exist")
        if reply.status == 403:
            raise SecretAccessDeniedError(
                name,
                f'cannot read secret "{name}": access to {where} was denied '
                f"({reply.error_message()}); grant the function app's managed identity the "
                '"Key Vault Secrets User" role on the vault (or, with access policies, the '
                '"Get" secret permission)',
            )
        if reply.status != 200:
            raise SecretError(
                name, f'cannot read secret "{name}" from {where}: {reply.error_message()}'
            )
        if not isinstance(reply.body, dict):
            raise SecretError(name, f'cannot read secret "{name}": {where} answered not in JSON')
        value = reply.body.get("value")
        if not isinstance(value, str):
            raise SecretError(name, f'cannot read secret "{name}": {where} answered without value')
        return value

    def _call(self, name: str, url: str) -> rest.Reply:
        try:
            token = self._token.get()
        except (rest.Unreachable, _IdentityRefused) as exc:
            raise SecretError(
                name,
                f'cannot read secret "{name}": the managed identity endpoint gave {exc}; turn on '
                "the function app's identity (off Azure, set FAASPORT_SECRETS=env and the "
                "secret's environment variable)",
            ) from None
        try:
            return rest.get(url, {"Authorization": f"Bearer {token}"})
        except rest.Unreachable as exc:
            raise SecretError(name, f'cannot read secret "{name}": {self._vault}: {exc}') from None

    def _new_token(self) -> tuple[str, float]:
        if not (self._identity and self._identity_header):
            raise _IdentityRefused("nothing: IDENTITY_ENDPOINT and IDENTITY_HEADER are not set")
        query = {"resource": VAULT_RESOURCE, "api-version": IDENTITY_API_VERSION}
        if self._client_id:
            query["client_id"] = self._client_id
        reply = rest.get(
            f"{self._identity}?{urllib.parse.urlencode(query)}",
            {"X-IDENTITY-HEADER": self._identity_header},
            local=True,
        )
        body = reply.body if isinstance(reply.body, dict) else {}
        token, expires_on = body.get("access_token"), body.get("expires_on")
        if reply.status != 200 or not isinstance(token, str):
            raise _IdentityRefused(f"no access token ({reply.error_message()})")
        try:
            lifetime = float(str(expires_on)) - time.time()
        except ValueError:
            lifetime = 0.0
        return token, lifetime


class _IdentityRefused(Exception):
    pass
