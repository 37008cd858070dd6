"""Secrets for local runs: what ``faasport dev`` puts in each function environment.

``secrets.local.toml`` at the project root maps secret names, as written in
``faasport.toml`` and given to :func:`faasport.secrets.get`, to their local values::

    "phoney/prod/jwt" = "local-signing-key"

    ["phoney/prod/db"]          # a table is passed on as a JSON object
    engine = "postgres"
    host = "127.0.0.1"

Each entry becomes the environment variable ``env_name(name)``. Variables of that form
already in ``faasport dev``'s own environment win over the file. A function's environments
get only the secrets it declares (``secrets = [...]``), as the deployed IAM policy grants
only those; :data:`DECLARED_VARIABLE` lists them, so that reading another one fails with an
error saying to declare it. The file holds real credentials: it is git-ignored and never
packaged.
"""

from __future__ import annotations

import json
import tomllib

from faasport.core.errors import ConfigError
from faasport.secrets.errors import LOCAL_FILE
from faasport.secrets.names import env_name
from faasport.secrets.stores import CHOICE_VARIABLE, DECLARED_VARIABLE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

ENV_PREFIX = "FAASPORT_SECRET_"


def read_local_file(path: Path) -> dict[str, str]:
    """``{env var: value}`` for every entry of the secrets file at ``path``; {} if absent."""
    try:
        with path.open("rb") as file:
            entries = tomllib.load(file)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    variables: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, value in entries.items():
        if isinstance(value, dict):
            try:
                value = json.dumps(value, separators=(",", ":"))
            except TypeError:
                raise ConfigError(
                    f'{path}: "{name}": a table must hold only strings, numbers, booleans, '
                    "arrays and tables (dates have no JSON form)"
                ) from None
        elif not isinstance(value, str):
            raise ConfigError(
                f'{path}: "{name}": must be a string, or a table for a JSON secret; '
                f"got {type(value).__name__}"
            )
        variable = env_name(name)
        if variable in names:
            raise ConfigError(
                f'{path}: "{names[variable]}" and "{name}" both become {variable}; rename one'
            )
        names[variable] = name
        variables[variable] = value
    return variables


def local_environment(
    root: Path, environ: Mapping[str, str], declared: Iterable[str]
) -> dict[str, str]:
    """The secret variables of a local function environment that declares the secrets
    ``declared``: their entries in the project's secrets file, then their
    ``FAASPORT_SECRET_*`` variables in ``environ``; ``FAASPORT_SECRETS=env`` (no cloud
    store) unless ``environ`` chooses a store itself; and the list of declared names."""
    names = list(declared)
    wanted = {env_name(name) for name in names}
    found = read_local_file(root / LOCAL_FILE)  # every entry checked, used or not
    found.update((k, v) for k, v in environ.items() if k.startswith(ENV_PREFIX))
    variables = {k: v for k, v in found.items() if k in wanted}
    variables[CHOICE_VARIABLE] = environ.get(CHOICE_VARIABLE) or "env"
    variables[DECLARED_VARIABLE] = json.dumps(names)
    return variables
