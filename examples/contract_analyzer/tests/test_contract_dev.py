"""The example under a real ``faasport dev``: POST /analyze over HTTP, and a contract put
into the ``contracts`` bucket with boto3 through dev's S3 endpoint, whose report appears in
the ``reports`` bucket and whose alert reaches the log; AI review with its key from
``secrets.local.toml``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
from botocore.exceptions import ClientError
from contract_ai_servers import FakeApi, serve

from dev_process import Dev, wait_for

EXAMPLE = Path(__file__).resolve().parents[1]
BANK = (EXAMPLE / "tests" / "contracts" / "bank_vulnerable.sol").read_text()


def project(tmp_path: Path) -> Path:
    root = tmp_path / "contract_analyzer"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("tests", "__pycache__", ".faasport")
    )
    config = root / "faasport.toml"
    # A cache of this test's own, not the machine's shared default.
    state = f'STATE_URL = "sqlite:///{tmp_path}/state.db", '
    config.write_text(config.read_text().replace("environment = { ", "environment = { " + state))
    return root


def test_the_api_and_the_bucket_trigger_under_faasport_dev(tmp_path: Path) -> None:
    dev = Dev(project(tmp_path), "--no-reload")
    try:
        with httpx.Client(base_url=dev.url, timeout=30) as http:
            answer = http.post("/analyze", json={"contract_code": BANK, "contract_name": "Bank"})
            assert answer.status_code == 200, answer.text
            report = answer.json()
            assert report["service_used"] == "static"
            assert report["findings"][0]["type"] == "reentrancy"
            assert report["findings"][0]["line_number"] == 14
            assert http.post("/analyze", json={"contract_name": "Bank"}).status_code == 422
            big = {"contract_code": "//" + "x" * 300_000, "contract_name": "Big"}
            assert http.post("/analyze", json=big).status_code == 413
            assert http.get("/health").json() == {"status": "ok"}

        s3 = dev.client("s3")
        s3.put_object(Bucket="contracts", Key="audits/bank.sol", Body=BANK.encode())

        def written() -> object:
            try:
                body = s3.get_object(Bucket="reports", Key="audits/bank.json")["Body"].read()
            except ClientError:
                return None
            return json.loads(body)

        wait_for(lambda: written() is not None, 30, "the report in the reports bucket")
        report = written()
        assert isinstance(report, dict)
        assert report["source_key"] == "audits/bank.sol"
        assert {("reentrancy", "critical", 14), ("unchecked_call", "high", 14)} <= {
            (f["type"], f["severity"], f["line_number"]) for f in report["findings"]
        }
        wait_for(
            lambda: any(
                "report audits/bank.json: 1 critical, 1 high" in line for line in dev.lines
            ),
            30,
            "the alert",
        )
    finally:
        dev.close()


def test_ai_review_with_its_key_from_secrets_local_toml(tmp_path: Path) -> None:
    """The api function asks a local OpenAI-compatible server with the key faasport dev
    passes from ``secrets.local.toml``, and falls back to the static analyzer on a 429."""
    finding = {
        "type": "reentrancy",
        "severity": "critical",
        "line_number": 14,
        "description": "external call before the balance update",
        "recommendation": "update the balance first",
    }
    with serve(FakeApi("openai", findings=[finding], model="gpt-local")) as fake:
        root = project(tmp_path)
        config = root / "faasport.toml"
        config.write_text(
            config.read_text().replace(
                'AI_PROVIDERS = "", AI_TIMEOUT = "10" }',
                f'AI_PROVIDERS = "openai", OPENAI_BASE_URL = "{fake.url}/v1", '
                'OPENAI_MODEL = "gpt-local", AI_TIMEOUT = "5" }',
                1,
            )
        )
        (root / "secrets.local.toml").write_text('"contract-analyzer/openai-key" = "sk-local"\n')
        dev = Dev(root, "--no-reload")
        try:
            with httpx.Client(base_url=dev.url, timeout=30) as http:
                body = {"contract_code": BANK, "contract_name": "Bank"}
                report = http.post("/analyze", json=body).json()
                assert (report["service_used"], report["model_used"]) == ("openai", "gpt-local")
                assert report["findings"] == [finding]
                assert fake.requests[0].headers["authorization"] == "Bearer sk-local"
                fake.behaviour = "429"
                body["contract_code"] += "\n// another version\n"
                report = http.post("/analyze", json=body).json()
                assert report["service_used"] == "static"
                [tried] = report["providers_tried"]
                assert tried["outcome"] == "rate limited (HTTP 429)"
        finally:
            dev.close()
