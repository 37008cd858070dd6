"""``faasport.secrets.get`` on Azure Functions, against an emulation of the App Service
managed identity endpoint and Key Vault's REST API (see conftest.py): the requests faasport
sends are checked against the documented shape."""

from __future__ import annotations

from typing import Any

import pytest

from faasport import secrets
from faasport.core.errors import ConfigError

#: (the Azure state, its Emulation) from conftest.py.
Fixture = tuple[Any, Any]


def test_reads_the_secret(azure: Fixture) -> None:
    state, emulation = azure
    state.values["phoney-prod-jwt"] = "signing-key"
    assert secrets.get("phoney/prod/jwt") == "signing-key"
    token, read = emulation.requests
    assert token.path == "/msi/token"
    assert token.query == {"resource": ["https://vault.azure.net"], "api-version": ["2019-08-01"]}
    assert token.headers["x-identity-header"] == state.identity_header
    assert read.path == "/secrets/phoney-prod-jwt"
    assert read.query == {"api-version": ["7.4"]}
    assert read.headers["authorization"] == f"Bearer {state.token}"


def test_user_assigned_identity(azure: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    state, emulation = azure
    state.values["jwt"] = "k"
    monkeypatch.setenv("AZURE_CLIENT_ID", "5E29463D-71DA-4FE0-8E69-999B57DB23B0")
    assert secrets.get("jwt") == "k"
    assert emulation.requests[0].query["client_id"] == ["5E29463D-71DA-4FE0-8E69-999B57DB23B0"]


def test_cached_and_token_reused(azure: Fixture) -> None:
    state, emulation = azure
    state.values["a"] = "1"
    state.values["b"] = "2"
    assert [secrets.get("a"), secrets.get("b"), secrets.get("a")] == ["1", "2", "1"]
    assert emulation.paths() == ["/msi/token", "/secrets/a", "/secrets/b"]


def test_rejected_token_is_renewed_once(azure: Fixture) -> None:
    state, emulation = azure
    state.values["a"] = "1"
    assert secrets.get("a") == "1"
    state.token = "eyJ0eXAi.renewed"  # the vault now accepts only a new token
    assert secrets.get("a", max_age=0) == "1"
    assert emulation.paths() == [
        "/msi/token",
        "/secrets/a",
        "/secrets/a",
        "/msi/token",
        "/secrets/a",
    ]


def test_missing_secret(azure: Fixture) -> None:
    _, emulation = azure
    with pytest.raises(secrets.SecretNotFoundError) as caught:
        secrets.get("phoney/prod/jwt")
    message = str(caught.value)
    assert f'Key Vault {emulation.url} secret "phoney-prod-jwt" does not exist' in message
    assert "FAASPORT_SECRET_PHONEY_PROD_JWT" in message


def test_denied_names_the_role_to_grant(azure: Fixture) -> None:
    state, _ = azure
    state.denied.add("jwt")
    with pytest.raises(secrets.SecretAccessDeniedError) as caught:
        secrets.get("jwt")
    assert '"Key Vault Secrets User" role' in str(caught.value)
    assert "Caller is not authorized" in str(caught.value)


def test_wrong_identity_header(azure: Fixture) -> None:
    state, _ = azure
    state.identity_header = "rotated"
    with pytest.raises(secrets.SecretError, match="managed identity endpoint gave no access token"):
        secrets.get("jwt")


def test_vault_url_missing(azure: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAASPORT_KEY_VAULT_URL")
    with pytest.raises(ConfigError, match="FAASPORT_KEY_VAULT_URL is not set"):
        secrets.get("jwt")


def test_unresolved_key_vault_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    # What Azure leaves in an app setting when it cannot resolve the reference.
    monkeypatch.setenv(
        "FAASPORT_SECRET_JWT",
        "@Microsoft.KeyVault(SecretUri=https://phoney.vault.azure.net/secrets/jwt/)",
    )
    with pytest.raises(secrets.SecretError, match="could not resolve the Key Vault reference"):
        secrets.get("jwt")
