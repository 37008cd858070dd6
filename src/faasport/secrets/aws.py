"""AWS Secrets Manager (``GetSecretValue``) and SSM Parameter Store (``GetParameter``
with decryption, for ``"ssm:/path"`` names), through boto3 — part of the Lambda runtime,
imported on the first fetch. boto3 honours ``AWS_ENDPOINT_URL`` and its per-service forms."""

from __future__ import annotations

import os
import threading

from faasport.secrets.errors import SecretAccessDeniedError, SecretError, not_found
from faasport.secrets.names import aws_name, is_ssm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MISSING = {"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"}
_DENIED = {"AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"}
#: What the function's role needs, by service.
_PERMISSION = {
    "secretsmanager": "secretsmanager:GetSecretValue",
    "ssm": "ssm:GetParameter",
}


class AwsStore:
    kind = "aws"

    def __init__(self) -> None:
        self._region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def fetch(self, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        service = "ssm" if is_ssm(name) else "secretsmanager"
        what = (
            f'SSM parameter "{aws_name(name)}"'
            if service == "ssm"
            else f'Secrets Manager secret "{aws_name(name)}"'
        )
        where = f"{what} in {self._region or 'the default region'}"
        try:
            if service == "ssm":
                answer = self._client(service).get_parameter(
                    Name=aws_name(name), WithDecryption=True
                )
                return str(answer["Parameter"]["Value"])
            answer = self._client(service).get_secret_value(SecretId=aws_name(name))
        except ClientError as exc:
            raise _client_error(name, where, service, exc) from None
        except BotoCoreError as exc:
            raise SecretError(name, f'cannot read secret "{name}" from {where}: {exc}') from None
        if "SecretString" in answer:
            return str(answer["SecretString"])
        try:
            return bytes(answer["SecretBinary"]).decode("utf-8")
        except UnicodeDecodeError:
            raise SecretError(
                name, f'cannot read secret "{name}": {where} is binary, not UTF-8 text'
            ) from None

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                import boto3.session
                from botocore.config import Config

                config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard"})
                session = boto3.session.Session()  # clients of one session are thread-safe
                client = session.client(service, region_name=self._region, config=config)
                self._clients[service] = client
            return client


def _client_error(name: str, where: str, service: str, exc: Any) -> SecretError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _MISSING:
        return not_found(name, f"{where} does not exist")
    if code in _DENIED or status == 403 or code == "DecryptionFailure":
        return SecretAccessDeniedError(
            name,
            f'cannot read secret "{name}": access to {where} was denied ({code or status}); '
            f"grant the function's execution role {_PERMISSION[service]} on it, and "
            "kms:Decrypt on its KMS key when that is a customer managed key",
        )
    return SecretError(name, f'cannot read secret "{name}" from {where}: {exc}')
