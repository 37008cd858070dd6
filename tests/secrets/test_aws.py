"""``faasport.secrets.get`` on AWS Lambda, against moto's standalone server over HTTP.

moto stands in for Secrets Manager, SSM and IAM because no real AWS account can be reached
here; boto3 inside faasport talks to it exactly as it would to AWS (``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from faasport import secrets

OnLambda = Callable[..., None]


def client(url: str, service: str, key: str = "testing", secret: str = "testing") -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


@pytest.fixture
def aws(moto_url: str, on_lambda: OnLambda) -> str:
    on_lambda(moto_url)
    return moto_url


def unique(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def test_secret_string(aws: str) -> None:
    name = unique("phoney/prod/jwt")
    client(aws, "secretsmanager").create_secret(Name=name, SecretString="signing-key")
    assert secrets.get(name) == "signing-key"


def test_secret_binary_is_decoded(aws: str) -> None:
    name = unique("phoney/prod/cert")
    client(aws, "secretsmanager").create_secret(Name=name, SecretBinary="pem text é".encode())
    assert secrets.get(name) == "pem text é"


def test_binary_that_is_not_text(aws: str) -> None:
    name = unique("phoney/prod/blob")
    client(aws, "secretsmanager").create_secret(Name=name, SecretBinary=b"\xff\xfe\x00")
    with pytest.raises(secrets.SecretError, match="binary, not UTF-8 text"):
        secrets.get(name)


def test_rds_json_secret(aws: str) -> None:
    name = unique("phoney/prod/db")
    value = {"engine": "postgres", "host": "db", "port": 5432, "username": "app", "password": "p"}
    client(aws, "secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))
    assert secrets.get_json(name) == value


def test_ssm_secure_string(aws: str) -> None:
    path = "/" + unique("phoney/prod/api-key")
    client(aws, "ssm").put_parameter(Name=path, Value="k-123", Type="SecureString")
    assert secrets.get("ssm:" + path) == "k-123"


def test_missing_secret_names_every_place_looked(aws: str) -> None:
    with pytest.raises(secrets.SecretNotFoundError) as caught:
        secrets.get("phoney/prod/nothing")
    message = str(caught.value)
    assert caught.value.name == "phoney/prod/nothing"
    assert "FAASPORT_SECRET_PHONEY_PROD_NOTHING" in message
    assert 'Secrets Manager secret "phoney/prod/nothing" in us-east-1' in message
    assert "secrets.local.toml" in message


def test_missing_parameter(aws: str) -> None:
    with pytest.raises(secrets.SecretNotFoundError, match='SSM parameter "/phoney/none"'):
        secrets.get("ssm:/phoney/none")


def test_environment_variable_comes_first(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique("phoney/prod/jwt")
    client(aws, "secretsmanager").create_secret(Name=name, SecretString="from-aws")
    monkeypatch.setenv(secrets.env_name(name), "from-env")
    assert secrets.get(name) == "from-env"


def test_cached_for_max_age_then_asked_again(aws: str) -> None:
    name = unique("phoney/prod/rotating")
    manager = client(aws, "secretsmanager")
    manager.create_secret(Name=name, SecretString="v1")
    assert secrets.get(name) == "v1"
    manager.put_secret_value(SecretId=name, SecretString="v2")
    assert secrets.get(name) == "v1"  # cached: AWS was not asked
    assert secrets.get(name, max_age=0) == "v2"
    manager.put_secret_value(SecretId=name, SecretString="v3")
    secrets.clear()
    assert secrets.get(name) == "v3"


def test_denied_names_the_permission_to_grant(moto: Any, on_lambda: OnLambda) -> None:
    # A server that enforces IAM after its first four requests: they create a user
    # without policies, its access key and a secret, and list the SSM parameters (moto loads
    # its SSM service at the first request, for seconds on a loaded machine: not in the
    # store's own read timeout). moto answers a denial with HTTP 403 and code "AccessDenied";
    # AWS answers "AccessDeniedException": both are recognised.
    url = moto.start(INITIAL_NO_AUTH_ACTION_COUNT="4")
    iam = client(url, "iam")
    iam.create_user(UserName="phoney-api-role")
    key = iam.create_access_key(UserName="phoney-api-role")["AccessKey"]
    client(url, "secretsmanager").create_secret(Name="phoney/prod/jwt", SecretString="k")
    client(url, "ssm").describe_parameters()
    on_lambda(url, key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(secrets.SecretAccessDeniedError) as caught:
        secrets.get("phoney/prod/jwt")
    assert "secretsmanager:GetSecretValue" in str(caught.value)
    assert "kms:Decrypt" in str(caught.value)
    with pytest.raises(secrets.SecretAccessDeniedError, match="ssm:GetParameter"):
        secrets.get("ssm:/phoney/prod/db")


def test_unreachable_endpoint(on_lambda: OnLambda) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        on_lambda(f"http://127.0.0.1:{probe.getsockname()[1]}")
        with pytest.raises(secrets.SecretError, match='cannot read secret "phoney/x"'):
            secrets.get("phoney/x")
