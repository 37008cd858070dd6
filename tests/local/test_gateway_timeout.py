"""API Gateway answers 504 at its integration timeout even when the function may run on."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import httpx

from faasport.config import load_project
from faasport.local.gateway import Gateway


def test_integration_timeout_is_504_while_the_invocation_runs_on(tmp_path: Path) -> None:
    (tmp_path / "slowfn.py").write_text(
        textwrap.dedent(
            """
            import time

            def handle(event, context):
                time.sleep(1.0)
                return {"statusCode": 200, "body": "late"}
            """
        )
    )
    (tmp_path / "faasport.toml").write_text(
        textwrap.dedent(
            """
            name = "slow"

            [functions.slow]
            handler = "slowfn:handle"
            timeout = 10
            routes = ["GET /slow"]
            """
        )
    )
    lines: list[str] = []
    gateway = Gateway(load_project(tmp_path), port=0, log=lines.append, integration_timeout=0.3)
    gateway.start()
    try:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            response = client.get("/slow")
        assert response.status_code == 504
        assert response.json() == {"message": "Endpoint request timed out"}
        deadline = time.monotonic() + 10
        while not any(line.startswith("REPORT") for line in lines):
            assert time.monotonic() < deadline, "the invocation should still finish"
            time.sleep(0.02)
        assert not any("Task timed out" in line for line in lines)
    finally:
        gateway.close()
