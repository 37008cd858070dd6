"""What the API Gateway codecs stamp on the events they build: request ids, arrival time,
and the request's headers as text."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
import uuid

import pytest

from faasport.aws.apigw_build import extended_request_id, request_id, request_time, text_pairs
from faasport.core.http import HttpRequest


def test_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


def test_request_ids_leave_the_shared_random_generator_alone() -> None:
    # The application's (and its tests') to seed and draw from: an event built between two
    # draws must not change what the second one gives.
    random.seed(7)
    state = random.getstate()
    request_id()
    extended_request_id()
    assert random.getstate() == state


def test_extended_request_ids_have_the_rest_api_shape() -> None:
    ids = {extended_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{16}=", text) for text in ids)


def test_request_time_is_now_in_api_gateways_format() -> None:
    before = time.time()
    text, epoch_ms = request_time()
    after = time.time()
    assert int(before * 1000) <= epoch_ms <= int(after * 1000)
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", text)
    formatted = {
        time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        for second in (int(before), int(after))
    }
    assert text in formatted


def test_request_time_follows_the_clock_across_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    start = 1_764_387_612  # 29 Nov 2025 03:40:12 UTC
    for now, expected in [
        (start + 0.25, "29/Nov/2025:03:40:12 +0000"),
        (start + 0.75, "29/Nov/2025:03:40:12 +0000"),
        (start + 1.5, "29/Nov/2025:03:40:13 +0000"),
        (start + 86400.0, "30/Nov/2025:03:40:12 +0000"),
    ]:
        monkeypatch.setattr(time, "time", lambda now=now: now)
        assert request_time() == (expected, int(now * 1000))


def test_byte_headers_are_decoded_as_utf_8() -> None:
    request = HttpRequest("GET", "/", headers=[(b"x-name", "café".encode()), (b"x-a", b"1")])
    assert list(text_pairs(request)) == [("x-name", "café"), ("x-a", "1")]


def test_byte_headers_that_are_not_utf_8_raise_value_error() -> None:
    request = HttpRequest("GET", "/", headers=[(b"x-name", b"caf\xe9")])
    with pytest.raises(ValueError):
        text_pairs(request)


@pytest.mark.parametrize(
    "given",
    [{"X-Name": "café", "Host": "h"}, [("X-Name", "café"), ("Host", "h")]],
    ids=["dict", "pairs"],
)
def test_text_headers_are_read_as_they_are_with_lower_case_names(given: object) -> None:
    request = HttpRequest("GET", "/", text_headers=given)  # type: ignore[arg-type]
    assert list(text_pairs(request)) == [("x-name", "café"), ("host", "h")]


def test_a_deployed_function_does_not_import_random_for_request_ids() -> None:
    # The runtime imports the codecs; only building an event needs the generator.
    code = (
        "import sys, faasport.aws.handler, faasport.aws.runtime_client; "
        "print('random' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
