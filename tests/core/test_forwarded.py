from __future__ import annotations

from faasport.core.forwarded import server_cached, server_from


def test_the_remembered_server_follows_each_call_in_turn() -> None:
    """The last host is remembered apart from the others: calls alternating between hosts,
    ports and schemes each get their own server, as computed afresh."""
    calls = [
        ("a.example.com", "443", "https"),
        ("b.example.com", "443", "https"),
        ("a.example.com", "8080", "https"),
        ("a.example.com", "8080", "http"),
        ("a.example.com", "443", "https"),
        (None, None, None),
        ("a.example.com:9000", None, "http"),
        ("a.example.com", "443", "https"),
    ]
    for _ in range(2):
        for host, port, proto in calls:
            assert server_cached(host, port, proto) == server_from(host, port, proto)
    assert server_cached("b.example.com", "443", "https") == (("b.example.com", 443), "https")
    assert server_cached(None, None, None) == (("localhost", 443), "https")


def test_only_http_or_https_is_a_scheme_and_of_several_the_last_counts() -> None:
    """A client-chosen or doubled X-Forwarded-Proto never becomes the scheme of every URL
    the app builds (as uvicorn ignores it)."""
    assert server_from("h", None, "HTTP") == (("h", 80), "http")
    assert server_from("h", None, "https, http") == (("h", 80), "http")
    assert server_from("h", None, "javascript") == (("h", 443), "https")
    assert server_from("h", None, "http://evil") == (("h", 443), "https")
