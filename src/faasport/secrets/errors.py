"""What :func:`faasport.secrets.get` raises. Messages name the secret and never its value."""

from __future__ import annotations

from faasport.core.errors import FaasportError
from faasport.secrets.names import env_name

#: The local file ``faasport dev`` exports secrets from (see :mod:`faasport.secrets.local`).
LOCAL_FILE = "secrets.local.toml"


class SecretError(FaasportError):
    """A secret could not be read: the store is unreachable, or answered something unusable."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        #: The secret's name as given to ``get`` (``"phoney/prod/jwt"``).
        self.name = name


class SecretNotFoundError(SecretError, LookupError):
    """No environment variable holds the secret and the secret store has no such secret."""


class SecretAccessDeniedError(SecretError, PermissionError):
    """The secret store refused: the function's identity lacks a permission."""


def not_found(name: str, looked: str) -> SecretNotFoundError:
    """The error for a secret found nowhere; ``looked`` says where the store looked."""
    variable = env_name(name)
    return SecretNotFoundError(
        name,
        f'secret "{name}" not found: environment variable {variable} is not set and {looked}; '
        f'to run locally, add "{name}" = "..." to {LOCAL_FILE} in the project root or set '
        f"{variable}",
    )
