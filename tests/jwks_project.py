"""Projects behind a JWT authorizer for a real ``faasport dev``: the config, the handlers in
``fns.py``, and the JWKS file the authorizer reads, holding the public half of a key the test
signs its tokens with (key id ``k1``)."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def jwks(key: rsa.RSAPrivateKey, kid: str = "k1") -> str:
    """A JWKS document with the public half of ``key``."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return json.dumps({"keys": [{**public, "kid": kid}]})


def write_jwks_project(
    root: Path,
    config: str,
    handlers: str,
    key: rsa.RSAPrivateKey,
    jwks_file: str = "keys/jwks.json",
) -> Path:
    """The project written into ``root``."""
    (root / "faasport.toml").write_text(config)
    (root / "fns.py").write_text(handlers)
    (root / jwks_file).parent.mkdir(parents=True, exist_ok=True)
    (root / jwks_file).write_text(jwks(key))
    return root
