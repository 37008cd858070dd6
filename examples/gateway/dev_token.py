"""A token for trying the gateway under ``faasport dev``, signed with the development key in
keys/ (whose public half is api_gateway/jwks.json)::

    python dev_token.py alice            # prints a JWT for subject alice, valid one hour

The key is for local use only: in the cloud, JWT_ISSUER and JWT_JWKS name your identity
provider, and this file is not packaged (``exclude`` in faasport.toml).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parent
ISSUER = "https://issuer.gateway.example/"
AUDIENCE = "gateway"
KEY_ID = "gateway-dev"


def token(subject: str, lifetime: int = 3600, **claims: object) -> str:
    key = (HERE / "keys" / "dev-private.pem").read_bytes()
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + lifetime}
    return jwt.encode({**body, **claims}, key, algorithm="RS256", headers={"kid": KEY_ID})


if __name__ == "__main__":
    print(token(sys.argv[1] if len(sys.argv) > 1 else "alice"))
