"""The stdlib SigV4 signer: AWS's published test-suite signatures, and botocore's."""

from __future__ import annotations

import pytest

from faasport.websocket.sigv4 import Credentials, sign
from management_api import botocore_signature

EXAMPLE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


@pytest.mark.parametrize(
    ("query", "signature"),
    [
        # get-vanilla and get-vanilla-query-order-key-case of the SigV4 test suite.
        ("", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (
            "Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
    ],
)
def test_aws_test_suite_vectors(query: str, signature: str) -> None:
    headers = sign(
        "GET",
        "example.amazonaws.com",
        "/",
        {},
        b"",
        credentials=EXAMPLE,
        region="us-east-1",
        service="service",
        amz_date="20150830T123600Z",
        query=query,
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}"
    )


@pytest.mark.parametrize("token", [None, "session-token"])
def test_same_signature_as_botocore_for_a_connections_post(token: str | None) -> None:
    path = "/prod/@connections/BFaT_fALIAMCKug%3D"
    body = b'{"message": "hi"}'
    host = "abc123.execute-api.eu-west-1.amazonaws.com"
    ours = sign(
        "POST",
        host,
        path,
        {"content-type": "application/octet-stream"},
        body,
        credentials=Credentials("AKID", "SECRET", token),
        region="eu-west-1",
        service="execute-api",
        amz_date="20240209T181143Z",
    )
    theirs = botocore_signature(
        "POST",
        f"https://{host}{path}",
        {"content-type": "application/octet-stream"},
        body,
        key=("AKID", "SECRET", token),
        region="eu-west-1",
        service="execute-api",
        amz_date="20240209T181143Z",
    )
    assert ours["authorization"].endswith(f"Signature={theirs}")
    assert ours.get("x-amz-security-token") == token
