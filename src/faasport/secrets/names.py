"""How one secret name from ``faasport.toml`` is spelled in each provider's secret store.

A name like ``"phoney/prod/jwt"`` is an AWS Secrets Manager secret; ``"ssm:/phoney/prod/db"``
is an AWS SSM Parameter Store parameter. GCP Secret Manager and Azure Key Vault allow fewer
characters, so the same name is spelled with ``-`` in place of what they refuse; the
generated infrastructure and :func:`faasport.secrets.get` both use these functions, so they
always agree.
"""

from __future__ import annotations

import re

SSM_PREFIX = "ssm:"

_GCP_REFUSED = re.compile(r"[^A-Za-z0-9_-]+")
_AZURE_REFUSED = re.compile(r"[^A-Za-z0-9-]+")
_ENV_REFUSED = re.compile(r"[^A-Za-z0-9]+")


def is_ssm(name: str) -> bool:
    """True for an SSM Parameter Store name (``"ssm:/path"``)."""
    return name.startswith(SSM_PREFIX)


def aws_name(name: str) -> str:
    """The Secrets Manager secret id, or the SSM parameter path for ``"ssm:..."`` names."""
    return name[len(SSM_PREFIX) :] if is_ssm(name) else name


def _stripped(name: str) -> str:
    return aws_name(name).strip("/")


def gcp_name(name: str) -> str:
    """The Secret Manager secret id: letters, digits, ``_`` and ``-``."""
    return _GCP_REFUSED.sub("-", _stripped(name)).strip("-")


def azure_name(name: str) -> str:
    """The Key Vault secret name: letters, digits and ``-``."""
    return _AZURE_REFUSED.sub("-", _stripped(name)).strip("-")


def env_name(name: str) -> str:
    """The environment variable that holds the secret in ``faasport dev`` and tests."""
    return "FAASPORT_SECRET_" + _ENV_REFUSED.sub("_", _stripped(name)).strip("_").upper()
