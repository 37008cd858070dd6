"""Tokens for trying phoney locally: ``python -m phoney.devtoken [--init] [--sub NAME]``.

In the cloud an identity provider issues the tokens that the HTTP API's JWT authorizer checks.
Locally this stands in for it: ``--init`` makes an RSA key pair, puts the private key in
``secrets.local.toml`` as the secret ``phoney/dev/signing-key`` and the public key in
``keys/jwks.json`` (the key set ``faasport dev``'s authorizer reads). Each run then reads the
signing key through ``faasport.secrets`` — from ``FAASPORT_SECRET_PHONEY_DEV_SIGNING_KEY``,
``secrets.local.toml``, or the cloud's secret store — and prints a token for the issuer and
audience of ``[auth.jwt]`` in ``faasport.toml``. Run it from ``examples/phoney``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from faasport import secrets
from faasport.secrets.local import read_local_file

SECRET = "phoney/dev/signing-key"
KEY_ID = "phoney-dev"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phoney.devtoken", description=__doc__)
    parser.add_argument("--init", action="store_true", help="make the key pair first")
    parser.add_argument("--sub", default="dev", help="the token's subject (dev)")
    parser.add_argument("--minutes", type=int, default=60, help="lifetime (60)")
    options = parser.parse_args(argv)
    root = Path.cwd()
    auth = _auth(root)
    if options.init:
        _init(root)
    for variable, value in read_local_file(root / "secrets.local.toml").items():
        os.environ.setdefault(variable, value)
    try:
        key = secrets.get(SECRET)
    except secrets.SecretError as exc:
        print(f"error: {exc}; run `python -m phoney.devtoken --init` first", file=sys.stderr)
        return 1
    print(token(key, auth["issuer"], auth["audience"][0], options.sub, options.minutes * 60))
    return 0


def token(private_pem: str, issuer: str, audience: str, subject: str, seconds: int) -> str:
    import jwt

    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + seconds}
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": KEY_ID})


def _auth(root: Path) -> dict[str, Any]:
    with (root / "faasport.toml").open("rb") as file:
        auth: dict[str, Any] = tomllib.load(file)["auth"]["jwt"]
    return auth


def _init(root: Path) -> None:
    """Make the signing key unless ``secrets.local.toml`` has one, and write its key set."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    local = root / "secrets.local.toml"
    variable = secrets.env_name(SECRET)
    pem = read_local_file(local).get(variable)
    if pem is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        before = local.read_text() if local.exists() else ""
        local.write_text(f'{before}"{SECRET}" = """\n{pem}"""\n')
        print(f"wrote the secret {SECRET} to secrets.local.toml", file=sys.stderr)
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise SystemExit(f"error: {SECRET} in secrets.local.toml is not an RSA private key")
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    (root / "keys").mkdir(exist_ok=True)
    jwks = {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}
    (root / "keys" / "jwks.json").write_text(json.dumps(jwks, indent=2) + "\n")
    os.environ.pop(variable, None)
    print("wrote keys/jwks.json", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
