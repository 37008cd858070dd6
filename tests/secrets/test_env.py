"""``faasport.secrets.get`` from environment variables, and its errors where no cloud
secret store applies."""

from __future__ import annotations

import pytest

from faasport import secrets
from faasport.core.errors import ConfigError
from faasport.secrets.stores import detect


def test_value_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_SECRET_PHONEY_PROD_JWT", "k1")
    assert secrets.get("phoney/prod/jwt") == "k1"
    monkeypatch.setenv("FAASPORT_SECRET_PHONEY_PROD_JWT", "k2")  # read on every call
    assert secrets.get("phoney/prod/jwt") == "k2"


def test_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_SECRET_PHONEY_PROD_DB", '{"host": "db", "port": 5432}')
    assert secrets.get_json("ssm:/phoney/prod/db") == {"host": "db", "port": 5432}


def test_json_that_is_not_an_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_SECRET_LIST", "[1, 2]")
    with pytest.raises(secrets.SecretError, match=r"is JSON but not an object \(got list\)"):
        secrets.get_json("list")


def test_missing_off_cloud_says_how_to_set_it() -> None:
    with pytest.raises(secrets.SecretNotFoundError) as caught:
        secrets.get("phoney/prod/jwt")
    assert str(caught.value) == (
        'secret "phoney/prod/jwt" not found: environment variable '
        "FAASPORT_SECRET_PHONEY_PROD_JWT is not set and no cloud secret store is used here "
        "(not on AWS Lambda, Google Cloud or Azure; set FAASPORT_SECRETS to aws, gcp or azure "
        'to use one); to run locally, add "phoney/prod/jwt" = "..." to secrets.local.toml '
        "in the project root or set FAASPORT_SECRET_PHONEY_PROD_JWT"
    )
    assert isinstance(caught.value, LookupError)


def test_env_choice_wins_over_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "phoney-api")  # as in faasport dev
    monkeypatch.setenv("FAASPORT_SECRETS", "env")
    with pytest.raises(secrets.SecretNotFoundError, match=r"\(FAASPORT_SECRETS=env;"):
        secrets.get("jwt")


@pytest.mark.parametrize(
    ("variables", "kind"),
    [
        ({}, "env"),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, "aws"),
        ({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}, "aws"),
        ({"K_SERVICE": "f"}, "gcp"),
        ({"FUNCTION_TARGET": "handler"}, "gcp"),
        ({"FUNCTIONS_WORKER_RUNTIME": "python"}, "azure"),
        ({"WEBSITE_SITE_NAME": "phoney"}, "azure"),
        ({"K_SERVICE": "f", "FAASPORT_SECRETS": "aws"}, "aws"),
    ],
)
def test_detect(variables: dict[str, str], kind: str) -> None:
    assert detect(variables) == kind


def test_unknown_store_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_SECRETS", "vault")
    with pytest.raises(ConfigError, match='must be one of env, aws, gcp, azure, got "vault"'):
        secrets.get("jwt")


@pytest.mark.parametrize(("name", "max_age"), [("", 300.0), ("jwt", -1.0)])
def test_bad_arguments(name: str, max_age: float) -> None:
    with pytest.raises(ConfigError):
        secrets.get(name, max_age=max_age)
