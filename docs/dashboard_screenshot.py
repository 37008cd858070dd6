"""Make docs/dashboard.png, the README's picture of the dashboard: the phoney example under
``faasport dev`` with a little traffic, seen in headless Chromium (Playwright driving
Debian's ``chromium``, as the dashboard's tests do).

Run ``.venv/bin/python docs/dashboard_screenshot.py`` (or ``make screenshots``) after a
change to the page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "dashboard.png"


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("error: chromium is not installed (make chromium installs it)")
    with tempfile.TemporaryDirectory(prefix="faasport-shot-") as folder:
        project = Path(folder) / "phoney"
        shutil.copytree(ROOT / "tests" / "fixtures" / "phoney", project)
        dev = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faasport.cli.main",
                "dev",
                str(project),
                "--no-reload",
                "--port",
                "0",
                "--lambda-port",
                "0",
                "--services-port",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            urls = _urls(dev)
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1360, "height": 900})
                page.goto(urls["Dashboard on"])
                page.wait_for_selector("#connection.live")
                _traffic(urls)
                row = page.locator("#invocations tbody tr", has_text="POST /items")
                row.locator(".badge.ok").wait_for()
                page.locator("#invocations tbody tr", has_text="sqs 2 records").wait_for()
                row.click()
                page.locator("#details-response", has_text="statusCode").wait_for()
                page.screenshot(path=str(OUTPUT), full_page=True)
                browser.close()
        finally:
            dev.terminate()
            dev.wait(30)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


def _urls(dev: subprocess.Popen[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    assert dev.stderr is not None
    for line in dev.stderr:
        match = re.match(r"(Listening on|Dashboard on|AWS services on) (http://\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
        if line.startswith("AWS services on"):
            return found
    raise SystemExit(f"error: faasport dev did not start: {line}")


def _traffic(urls: dict[str, str]) -> None:
    with httpx.Client(base_url=urls["Listening on"], timeout=30) as client:
        client.get("/")
        client.get("/items/7", params={"q": "pen"})
        client.post("/items", json={"name": "pen", "price": 1.5})
        client.get("/items/not-a-number")
    sqs = boto3.client(
        "sqs",
        endpoint_url=urls["AWS services on"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    jobs = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=jobs,
        Entries=[{"Id": str(n), "MessageBody": json.dumps({"item": n})} for n in (1, 2)],
    )
    dlq = sqs.get_queue_url(QueueName="jobs-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"item": "broken"}))
    time.sleep(1.5)  # the queue depths are sent once a second
    sqs.close()


if __name__ == "__main__":
    main()
