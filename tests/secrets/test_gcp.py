"""``faasport.secrets.get`` on Cloud Functions / Cloud Run, against an emulation of the
metadata server and Secret Manager's REST API (see conftest.py): the requests faasport
sends are checked against the documented shape, and caching is observed at the server."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from faasport import secrets
from faasport.secrets.cache import SecretCache

#: (the Gcp state, its Emulation) from conftest.py.
Fixture = tuple[Any, Any]
ACCESS = "/v1/projects/"


def test_reads_the_latest_version(gcp: Fixture) -> None:
    state, emulation = gcp
    state.values["phoney-prod-jwt"] = b"signing-key"
    assert secrets.get("phoney/prod/jwt") == "signing-key"
    project, token, access = emulation.requests
    assert token.path == "/computeMetadata/v1/instance/service-accounts/default/token"
    assert token.headers["metadata-flavor"] == "Google"
    assert project.path == "/computeMetadata/v1/project/project-id"
    assert project.headers["metadata-flavor"] == "Google"
    assert access.path == "/v1/projects/phoney-prod/secrets/phoney-prod-jwt/versions/latest:access"
    assert access.headers["authorization"] == f"Bearer {state.token}"
    assert "metadata-flavor" not in access.headers


def test_project_from_the_environment(gcp: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    state, emulation = gcp
    state.project = "from-env"
    state.values["db"] = b"x"
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    assert secrets.get("db") == "x"
    assert emulation.paths("/computeMetadata/v1/project") == []


def test_ssm_names_and_json(gcp: Fixture) -> None:
    state, _ = gcp
    state.values["phoney-prod-db"] = b'{"host": "10.0.0.5", "port": 5432}'
    assert secrets.get_json("ssm:/phoney/prod/db") == {"host": "10.0.0.5", "port": 5432}


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(secrets, "_cache", SecretCache(clock))
    return clock


def test_cached_then_asked_again_after_max_age(gcp: Fixture, clock: Clock) -> None:
    state, emulation = gcp
    state.values["jwt"] = b"v1"
    assert secrets.get("jwt", max_age=0.3) == "v1"
    state.values["jwt"] = b"v2"
    assert secrets.get("jwt", max_age=0.3) == "v1"
    assert len(emulation.paths(ACCESS)) == 1
    clock.now += 0.35
    assert secrets.get("jwt", max_age=0.3) == "v2"
    assert len(emulation.paths(ACCESS)) == 2
    # One token serves both: it is valid for an hour.
    assert len(emulation.paths("/computeMetadata/v1/instance")) == 1


def test_failed_refresh_raises_instead_of_serving_the_old_value(gcp: Fixture, clock: Clock) -> None:
    state, _ = gcp
    state.values["jwt"] = b"v1"
    assert secrets.get("jwt", max_age=0.1) == "v1"
    clock.now += 0.15
    state.broken = (503, {"error": {"code": 503, "message": "The service is unavailable."}}, {})
    with pytest.raises(secrets.SecretError, match="503: The service is unavailable"):
        secrets.get("jwt", max_age=0.1)
    state.broken = None
    assert secrets.get("jwt", max_age=0.1) == "v1"


def test_concurrent_callers_share_one_fetch(gcp: Fixture) -> None:
    state, emulation = gcp
    state.values["jwt"] = b"v1"
    state.delay = 0.2
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(secrets.get("jwt"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["v1"] * 8
    assert len(emulation.paths(ACCESS)) == 1


def test_missing_secret(gcp: Fixture) -> None:
    with pytest.raises(secrets.SecretNotFoundError) as caught:
        secrets.get("phoney/prod/jwt")
    message = str(caught.value)
    assert 'Secret Manager secret "phoney-prod-jwt" in project "phoney-prod"' in message
    assert "FAASPORT_SECRET_PHONEY_PROD_JWT" in message
    assert "secrets.local.toml" in message


def test_denied_names_the_role_to_grant(gcp: Fixture) -> None:
    state, _ = gcp
    state.denied.add("phoney-prod-jwt")
    with pytest.raises(secrets.SecretAccessDeniedError) as caught:
        secrets.get("phoney/prod/jwt")
    assert "roles/secretmanager.secretAccessor" in str(caught.value)
    assert "Permission 'secretmanager.versions.access' denied" in str(caught.value)


def test_answer_that_is_not_json(gcp: Fixture) -> None:
    state, _ = gcp
    state.broken = (200, "<html>captive portal</html>", {})
    with pytest.raises(secrets.SecretError, match="answered not in JSON"):
        secrets.get("jwt")


def test_value_that_is_not_json(gcp: Fixture) -> None:
    state, _ = gcp
    state.values["db"] = b"hunter2 is not json"
    with pytest.raises(secrets.SecretError) as caught:
        secrets.get_json("db")
    assert 'secret "db" is not valid JSON' in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_no_metadata_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("K_SERVICE", "phoney-api")
        monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{probe.getsockname()[1]}")
        with pytest.raises(secrets.SecretError, match="the function needs a service account"):
            secrets.get("jwt")
