"""Which Host and Origin headers the development endpoints answer."""

from __future__ import annotations

import pytest

from faasport.local.local_only import refusal


@pytest.mark.parametrize(
    ("host", "origin", "bound", "refused"),
    [
        ("127.0.0.1:3001", None, "127.0.0.1", False),  # boto3, curl
        ("localhost:3000", None, "127.0.0.1", False),
        ("[::1]:3000", None, "::1", False),
        ("app.localhost:3000", None, "127.0.0.1", False),
        (None, None, "127.0.0.1", False),  # HTTP/1.0 sends no Host
        ("attacker.example:3000", None, "127.0.0.1", True),  # DNS rebinding
        ("127.0.0.1.attacker.example", None, "127.0.0.1", True),
        ("127.0.0.1:3000", "http://127.0.0.1:3000", "127.0.0.1", False),  # the dashboard
        ("127.0.0.1:3000", "http://localhost:5173", "127.0.0.1", False),  # a local page
        ("127.0.0.1:3000", "http://attacker.example", "127.0.0.1", True),
        ("127.0.0.1:3000", "null", "127.0.0.1", True),  # a sandboxed frame, a file
        # Opened to the network: any name, and the endpoint's own origin under it.
        ("192.168.1.5:3000", None, "0.0.0.0", False),
        ("192.168.1.5:3000", "http://192.168.1.5:3000", "0.0.0.0", False),
        ("192.168.1.5:3000", "http://attacker.example", "0.0.0.0", True),
    ],
)
def test_requests_answered(host: str | None, origin: str | None, bound: str, refused: bool) -> None:
    assert (refusal(host, origin, bound) is not None) is refused
