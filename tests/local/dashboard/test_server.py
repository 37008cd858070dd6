"""The dashboard's HTTP API and live feed, over a real ``faasport dev``."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from pathlib import Path

import httpx

from dev_process import Dev, wait_for

SCRIPT = "<script>window.pwned = 1</script>"


def test_state_lists_functions_environments_invocations_and_queues(dev: Dev) -> None:
    with httpx.Client(base_url=dev.dashboard, timeout=30) as client:
        assert httpx.get(f"{dev.url}/items/42").json() == {"path": "/items/42"}
        state = client.get("api/state").json()
    assert state["project"] == "board"
    api, worker = state["functions"]
    assert (api["name"], api["routes"], api["source"], api["path"]) == (
        "api",
        ["ANY /{proxy+}"],
        "apigw-v2",
        "/1",
    )
    assert (worker["events"], worker["source"]) == (["queue jobs"], "sqs")
    (env,) = state["environments"]
    assert env["id"] == "api-1" and env["state"] == "idle" and env["pid"] > 0
    assert 0 < env["memory_mb"] <= env["limit_mb"] == 512
    (invocation,) = state["invocations"]
    assert invocation["trigger"] == "GET /items/42"
    assert invocation["status"] == "ok" and invocation["http_status"] == 200
    assert invocation["init_ms"] > 0 and invocation["duration_ms"] > 0
    assert invocation["env"] == "api-1" and invocation["max_memory_mb"] > 0
    depths = {q["name"]: q for q in state["queues"]}
    assert depths["jobs"]["dlq"] == "jobs-dlq" and depths["jobs-dlq"]["visible"] == 0


def test_an_invocation_shows_its_event_response_and_logs(dev: Dev) -> None:
    with httpx.Client(base_url=dev.dashboard, timeout=30) as client:
        httpx.get(f"{dev.url}/hello", headers={"x-note": SCRIPT})
        (summary,) = client.get("api/state").json()["invocations"]

        def logged() -> bool:
            details = client.get(f"api/invocations/{summary['id']}").json()
            return bool(details["logs"])

        wait_for(logged, 10, "the invocation's log")
        details = client.get(f"api/invocations/{summary['id']}").json()
        missing = client.get("api/invocations/no-such-id")
    event = json.loads(details["event"])
    assert event["headers"]["x-note"] == SCRIPT
    assert json.loads(json.loads(details["response"])["body"]) == {"path": "/hello"}
    assert "serving /hello" in details["logs"][0]
    assert missing.status_code == 404


def test_the_feed_pushes_an_invocation_within_a_second(dev: Dev) -> None:
    httpx.get(f"{dev.url}/warm", timeout=30)  # the cold start is not what is measured
    events: list[tuple[str, dict[str, object], float]] = []
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{dev.dashboard}api/stream", timeout=30) as stream:
            assert stream.headers["content-type"] == "text/event-stream"
            kind = ""
            for line in stream.iter_lines():
                opened.set()
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:]), time.monotonic()))
                    if kind == "invocation" and events[-1][1]["status"] != "running":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    sent = time.monotonic()
    httpx.get(f"{dev.url}/live", timeout=30)
    answered = time.monotonic()
    listener.join(10)
    # The warm-up's log lines may still be arriving (they are read from the runtime's pipe a
    # little after its result): only the invocation events are this request's.
    seen = [(e, at) for k, e, at in events if k == "invocation"]
    # Busy and idle are not sent apart: the invocation's start and end name its environment.
    assert [(e["status"], e["env"]) for e, _ in seen] == [("running", "api-1"), ("ok", "api-1")]
    assert seen[0][0]["trigger"] == "GET /live"
    # Seen starting within a second of the request, ending within a second of the answer
    # (the function's own time in between is the machine's, not the feed's); on a machine so
    # loaded that the request itself took longer, within three times that.
    within = max(1.0, 3 * (answered - sent))
    assert seen[0][1] - sent < within
    assert seen[1][1] - answered < within
    assert seen[1][0]["duration_ms"] and seen[1][0]["http_status"] == 200


def test_invoke_with_a_generated_event_and_redrive_a_dead_letter_queue(dev: Dev) -> None:
    sqs = dev.client("sqs")
    dlq = sqs.get_queue_url(QueueName="jobs-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="again")
    sqs.send_message(QueueUrl=dlq, MessageBody="y" * 10000)
    with httpx.Client(base_url=dev.dashboard, timeout=30) as client:
        messages = client.get("api/queues/jobs-dlq").json()["messages"]
        assert [(m["body"][:5], m["receives"]) for m in messages] == [("again", 0), ("yyyyy", 0)]
        # A long body is listed by its start.
        assert messages[1]["body"] == "y" * 4096 + "\n... (10000 characters in all)"
        invoked = client.post("api/functions/worker/invoke", json={"body": "by hand"}).json()
        assert invoked["status"] == "ok"
        details = client.get(f"api/invocations/{invoked['requestId']}").json()
        assert json.loads(details["event"])["Records"][0]["body"] == "by hand"
        assert json.loads(details["response"]) == {"done": 1}
        assert client.post("api/queues/jobs/redrive", json={}).json() == {
            "queue": "jobs",
            "moved": 2,
        }

        def redriven() -> bool:
            state = client.get("api/state").json()
            return any(
                i["trigger"] == "sqs 1 record"
                and i["status"] == "ok"
                and i["id"] != invoked["requestId"]
                for i in state["invocations"]
            )

        wait_for(redriven, 10, "the redriven message's invocation")
        assert client.get("api/queues/jobs-dlq").json()["messages"] == []
        no_dlq = client.post("api/queues/jobs-dlq/redrive", json={})
    assert no_dlq.status_code == 400
    assert no_dlq.json() == {"message": 'queue "jobs-dlq" has no dlq to redrive'}


def test_bad_requests_get_precise_answers(dev: Dev) -> None:
    with httpx.Client(base_url=dev.dashboard, timeout=30) as client:
        not_json = client.post("api/functions/worker/invoke", content=b"{}")
        assert not_json.status_code == 415
        assert client.post("api/functions/worker/invoke", json=[1]).status_code == 400
        unknown = client.post("api/functions/nope/invoke", json={})
        assert (unknown.status_code, unknown.json()) == (
            404,
            {"message": 'unknown function "nope"'},
        )
        source = client.post("api/functions/api/invoke", json={"source": "ftp"})
        assert source.status_code == 400 and source.json()["message"].startswith(
            'unknown event source "ftp"'
        )
        path = client.post("api/functions/api/invoke", json={"path": "relative"})
        assert path.status_code == 400
        assert client.post("api/functions/api/invoke", json={"body": 3}).status_code == 400
        assert client.get("api/queues/nope").status_code == 404
        assert client.put("api/state").status_code == 405
        assert client.get("api/nothing").status_code == 404
        redirect = httpx.get(dev.dashboard.removesuffix("/"))
        assert (redirect.status_code, redirect.headers["location"]) == (308, "/_faasport/")
        page = client.get("")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in page.headers["content-security-policy"]
    # None of it reached the project's catch-all route.
    assert dev.settled() == 0


def test_a_route_of_the_project_under_the_prefix_wins(project: Path) -> None:
    config = (project / "faasport.toml").read_text()
    (project / "faasport.toml").write_text(
        config.replace('routes = ["ANY /{proxy+}"]', 'routes = ["GET /_faasport/{page}"]')
    )
    dev = Dev(project)
    try:
        assert any(
            line == "faasport dev: no dashboard: the route api: GET /_faasport/{page} is under "
            "/_faasport/"
            for line in dev.lines
        )
        assert not any(line.startswith("Dashboard on") for line in dev.lines)
        assert httpx.get(f"{dev.url}/_faasport/state", timeout=30).json() == {
            "path": "/_faasport/state"
        }
    finally:
        dev.close()


def test_no_dashboard_gives_the_prefix_to_the_catch_all_route(project: Path) -> None:
    dev = Dev(project, "--no-dashboard")
    try:
        assert httpx.get(f"{dev.url}/_faasport/", timeout=30).json() == {"path": "/_faasport/"}
    finally:
        dev.close()


def test_a_rest_api_has_the_dashboard_outside_its_stage(project: Path) -> None:
    (project / "faasport.toml").write_text(
        (project / "faasport.toml").read_text()
        + textwrap.dedent(
            """
            [api]
            type = "rest"
            """
        )
    )
    dev = Dev(project)
    try:
        assert dev.url.endswith("/prod")
        url = dev.dashboard
        assert url == dev.url.removesuffix("/prod") + "/_faasport/"
        assert httpx.get(f"{url}api/state", timeout=30).json()["functions"][0]["source"] == (
            "apigw-v1"
        )
    finally:
        dev.close()


def test_an_open_feed_does_not_hold_up_the_shutdown(dev: Dev) -> None:
    with httpx.stream("GET", f"{dev.dashboard}api/stream", timeout=30) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "retry: 1000"
        started = time.monotonic()
        dev.process.terminate()
        dev.process.wait(30)
        # Requests in flight get --grace (10 s); a live feed is not one.
        assert time.monotonic() - started < 5
        assert list(lines)[-1:] in ([], [""])


def test_a_feed_client_that_leaves_is_forgotten(dev: Dev) -> None:
    state = f"{dev.dashboard}api/state"
    with httpx.stream("GET", f"{dev.dashboard}api/stream", timeout=30) as stream:
        assert next(stream.iter_lines()) == "retry: 1000"
        assert httpx.get(state).json()["watchers"] == 1
    wait_for(lambda: httpx.get(state).json()["watchers"] == 0, 10, "the feed to notice")


def test_pages_of_other_sites_cannot_read_or_drive_the_dashboard(dev: Dev) -> None:
    """DNS rebinding (a page whose name now points at 127.0.0.1 sends its own Host) reads
    nothing; a page of another site (its Origin) presses no button, even with a "simple"
    request a browser sends without asking."""
    port = dev.dashboard.split(":")[2].split("/")[0]
    with httpx.Client(base_url=dev.dashboard, timeout=30) as client:
        rebound = client.get("api/state", headers={"host": f"attacker.example:{port}"})
        assert rebound.status_code == 403
        assert "attacker.example" in rebound.json()["message"]
        evil = {"origin": "http://attacker.example", "content-type": "text/plain"}
        assert (
            client.post("api/functions/worker/invoke", content=b"{}", headers=evil).status_code
            == 403
        )
        # The dashboard's own page, and this machine's names, are served.
        own = {"origin": f"http://127.0.0.1:{port}"}
        assert client.post("api/functions/worker/invoke", json={}, headers=own).status_code == 200
        assert client.get("api/state", headers={"host": f"localhost:{port}"}).status_code == 200
    # The functions' own routes are the API's: any Host reaches them, as on API Gateway.
    assert httpx.get(f"{dev.url}/hello", headers={"host": "shop.example.com"}).status_code == 200
    # The Invoke API: boto3 sends no Origin and works; a page's POST is refused unrun.
    assert dev.client("lambda").invoke(FunctionName="worker", Payload=b"{}")["StatusCode"] == 200
    page = httpx.post(
        f"{dev.lambda_url}/2015-03-31/functions/worker/invocations",
        content=b"{}",
        headers={"origin": "http://attacker.example", "content-type": "text/plain"},
    )
    assert page.status_code == 403
    assert page.headers["x-amzn-errortype"] == "AccessDeniedException"
    # The AWS services endpoint: the same, for a purge a page would send as a form.
    form = b"Action=PurgeQueue&QueueUrl=http://localhost/123456789012/jobs"
    for headers in (
        {"origin": "http://attacker.example", "content-type": "text/plain"},
        {"host": "attacker.example"},
    ):
        refused = httpx.post(dev.services + "/", content=form, headers=headers)
        assert refused.status_code == 403
    assert dev.client("sqs").list_queues()["QueueUrls"]
