"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): live updates,
an invocation's logs, invoking from the page, and bodies shown as text, never as HTML."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dev_process import Dev, wait_for

CHROMIUM = shutil.which("chromium")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium: make chromium installs it"
)
SCRIPT = "<script>window.pwned = 1</script><img src=x onerror=window.pwned=2>"


@pytest.fixture
def page(dev: Dev) -> Iterator[Any]:
    assert CHROMIUM is not None
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(dev.dashboard)
            page.wait_for_selector("#connection.live")
            yield page
            assert errors == []
        finally:
            browser.close()


def _row(page: Any, text: str) -> Any:
    return page.locator("#invocations tbody tr", has_text=text)


def test_an_invocation_appears_within_a_second_and_shows_its_logs(dev: Dev, page: Any) -> None:
    httpx.get(f"{dev.url}/warm", timeout=30)  # the cold start is not what is measured
    _row(page, "GET /warm").wait_for()
    assert httpx.get(f"{dev.url}/items/42", timeout=30).status_code == 200
    answered = time.monotonic()
    row = _row(page, "GET /items/42")
    row.locator(".badge.ok").wait_for(timeout=1000)
    assert time.monotonic() - answered < 1.0
    assert page.locator("#environments tbody tr[data-env='api-1'] .badge").inner_text() == "idle"
    row.click()
    logs = page.locator("#details-logs")
    logs.wait_for()
    wait_for(lambda: "serving /items/42" in logs.inner_text(), 5, "the invocation's logs")
    assert json.loads(page.locator("#details-event").inner_text())["rawPath"] == "/items/42"
    response = json.loads(page.locator("#details-response").inner_text())
    assert response["statusCode"] == 200


def test_invoke_a_function_from_the_page(dev: Dev, page: Any) -> None:
    worker = page.locator("#functions tr[data-function='worker']")
    assert worker.locator("select").input_value() == "sqs"
    worker.locator("input").fill("from the page")
    worker.locator("button.invoke").click()
    note = page.locator("#invoke-result")
    wait_for(lambda: note.inner_text().startswith("worker: ok"), 20, "the invocation's result")
    row = page.locator("#invocations tbody tr", has_text="sqs 1 record")
    row.locator(".badge.ok").wait_for()
    row.click()
    wait_for(lambda: "job from the page" in page.locator("#details-logs").inner_text(), 5)
    env = page.locator("#environments tbody tr[data-env='worker-1']")
    env.wait_for()


def test_bodies_and_logs_are_shown_as_text(dev: Dev, page: Any) -> None:
    httpx.get(f"{dev.url}/hello", headers={"x-note": SCRIPT}, timeout=30)
    sqs = dev.client("sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName="jobs-dlq")["QueueUrl"], MessageBody=SCRIPT
    )
    _row(page, "GET /hello").click()
    event = page.locator("#details-event")
    wait_for(lambda: SCRIPT in event.inner_text(), 5, "the event with its markup as text")
    page.locator("#queues tr[data-queue='jobs-dlq'] button", has_text="Messages").click()
    body = page.locator("#messages-body pre")
    body.wait_for()
    assert body.inner_text() == SCRIPT
    assert page.locator("#details script, #messages script, #details img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_redrive_from_the_page(dev: Dev, page: Any) -> None:
    sqs = dev.client("sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName="jobs-dlq")["QueueUrl"], MessageBody="again"
    )
    depth = page.locator("#queues tr[data-queue='jobs-dlq'] td:nth-child(2)")
    wait_for(lambda: depth.inner_text() == "1", 10, "the dead-letter queue's depth")
    page.locator("#queues tr[data-queue='jobs'] button.redrive").click()
    wait_for(lambda: page.locator("#invoke-result").inner_text().startswith("1 message"), 10)
    row = page.locator("#invocations tbody tr", has_text="sqs 1 record")
    row.locator(".badge.ok").wait_for(timeout=10000)
    wait_for(lambda: depth.inner_text() == "0", 10, "the emptied dead-letter queue")
