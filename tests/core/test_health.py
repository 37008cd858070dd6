from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from faasport import aws
from faasport.testing import LambdaClient


def test_cold_health_check_does_not_import_the_app(tmp_path: Path) -> None:
    (tmp_path / "heavyapp.py").write_text(
        "raise RuntimeError('the app must not be imported for a health check')\n"
    )
    script = textwrap.dedent(
        """
        import sys
        from faasport import aws
        from faasport.testing import LambdaClient
        handler = aws.handler("heavyapp:app", health_path="/health")
        for source in ("apigw-v1", "apigw-v2", "alb", "function-url"):
            result = LambdaClient(handler, source).get("/health")
            assert result.status == 200 and result.json() == {"status": "ok"}, result
            assert LambdaClient(handler, source).head("/health").body == b""
        assert "heavyapp" not in sys.modules
        heavy = {"asyncio", "starlette", "flask"} & set(sys.modules)
        assert not heavy, heavy
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_health_path_only_answers_get_and_head() -> None:
    calls: list[str] = []

    def app(environ: dict[str, str], start_response: object) -> list[bytes]:
        calls.append(environ["REQUEST_METHOD"])
        start_response("201 Created", [("content-type", "text/plain")])  # type: ignore[operator]
        return [b"app"]

    client = LambdaClient(aws.handler(app, health_path="/health"))
    assert client.get("/health").status == 200
    assert client.post("/health").status == 201
    assert calls == ["POST"]
