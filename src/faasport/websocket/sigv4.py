"""AWS Signature Version 4 for one request, with the standard library only: what the
``@connections`` calls need, without importing botocore (a quarter second of cold start).

Follows "Create a signed AWS API request" of the IAM user guide: canonical request
(method, URI-encoded path, sorted query, lower-cased sorted headers, signed header list,
payload hash), string to sign, key derived from the secret by date, region and service.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials:
    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Credentials | None:
        """The credentials Lambda puts in every environment, None when absent."""
        access = environ.get("AWS_ACCESS_KEY_ID")
        secret = environ.get("AWS_SECRET_ACCESS_KEY")
        if not access or not secret:
            return None
        return cls(access, secret, environ.get("AWS_SESSION_TOKEN") or None)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def sign(
    method: str,
    host: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    amz_date: str,
    query: str = "",
) -> dict[str, str]:
    """``headers`` plus ``host``, ``x-amz-date``, the session token when there is one, and
    ``authorization``. ``path`` is the request's path as sent (already percent-encoded);
    ``amz_date`` is ``YYYYMMDDTHHMMSSZ``."""
    signed = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed["host"] = host
    signed["x-amz-date"] = amz_date
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
    signed_names = ";".join(names)
    # Paths are encoded once more, as every service but S3 expects.
    canonical_path = quote(path or "/", safe="/-_.~")
    canonical = "\n".join(
        [
            method,
            canonical_path,
            _canonical_query(query),
            canonical_headers,
            signed_names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + credentials.secret_key).encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["host"] = host
    out["x-amz-date"] = amz_date
    if credentials.token:
        out["x-amz-security-token"] = credentials.token
    out["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_names}, Signature={signature}"
    )
    return out
