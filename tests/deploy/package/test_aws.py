"""``faasport package --target aws``: one self-contained Lambda zip, the same bytes every time.

The zips are unpacked and their handlers called in a fresh interpreter that sees only the
unpacked directory and the standard library, so a module missing from the zip fails here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from faasport.config import load_project
from faasport.deploy.package import Artifact, build
from faasport.deploy.package.aws import MB, limit_warning
from faasport.deploy.package.bytecode import pyc_name
from faasport.testing import event
from recording_runtime import Recorder

PROJECT = Path(__file__).parent / "project"
PHONEY = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "phoney"
#: What the exclusion rules must keep out of the zip, relative to the project root.
JUNK = (
    "tests/test_shop.py",
    "shop/tests/test_web.py",
    "shop/__pycache__/web.cpython-311.pyc",
    "shop/stale.pyc",
    "conftest.py",
    "test_root.py",
    ".pytest_cache/v/cache/lastfailed",
    ".venv-old/lib/site.py",
    "node_modules/left-pad/index.js",
    "deploy/aws/template.yaml",
    "docs/guide.txt",
)

INVOKE = """
import json, sys, sysconfig
root = sys.argv[1]
sys.path.insert(0, root)
import faasport_handler
from faasport.aws.context import LambdaContext

results = []
for function, payload in json.load(sys.stdin):
    context = LambdaContext("req-1", 4102444800000, "arn:aws:lambda:::function:f", function)
    result = getattr(faasport_handler, function)(payload, context)
    results.append([result, sorted(m for m in sys.modules if m.startswith("shop"))])
stdlib = sysconfig.get_paths()["stdlib"]
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
outside = sorted(
    name for name, file in files.items()
    if file and not file.startswith(root)
    and (not file.startswith(stdlib) or "site-packages" in file)
)
print(json.dumps({"results": results, "path": sys.path, "outside": outside}))
"""


@dataclass
class Built:
    root: Path
    artifact: Artifact
    unpacked: Path


def copy_project(source: Path, destination: Path) -> Path:
    """A copy of ``source`` whose functions run on this machine's architecture."""
    ignore = shutil.ignore_patterns("dist", ".faasport", "__pycache__")
    root = Path(shutil.copytree(source, destination, ignore=ignore))
    if platform.machine() in ("aarch64", "arm64"):
        config = root / "faasport.toml"
        header = re.compile(r"(?m)^(\[functions\.\w+\])$")
        config.write_text(header.sub(r'\1\narchitecture = "arm64"', config.read_text()))
    return root


def unpack(archive: Path, destination: Path) -> Path:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(destination)
    return destination


def invoke(unpacked: Path, calls: list[tuple[str, Any]], tmp: Path) -> dict[str, Any]:
    """Call ``faasport_handler.<function>(event, context)`` for each call, in ``python -I -S``
    (no site-packages) with only ``unpacked`` added to the standard library's path."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", INVOKE, str(unpacked)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        cwd=tmp,
        env={"PATH": os.environ["PATH"], "TZ": "UTC"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert not [p for p in report["path"] if "site-packages" in p]
    assert report["outside"] == []  # every module came from the zip or the standard library
    return report


def http(path: str, **kwargs: Any) -> tuple[str, Any]:
    return ("api", event("apigw-v2", kwargs.pop("method", "GET"), path, **kwargs))


def body(result: dict[str, Any]) -> Any:
    assert not result.get("isBase64Encoded"), result
    return json.loads(result["body"])


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = copy_project(PROJECT, tmp_path_factory.mktemp("shop") / "shop")
    for name in JUNK:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("junk = True\n")
    artifact = build(load_project(root), "aws")
    return Built(root, artifact, unpack(artifact.path, tmp_path_factory.mktemp("unpacked")))


@pytest.fixture(scope="module")
def phoney(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The example project, for this machine's CPython 3.11, with FastAPI as its requirement."""
    root = copy_project(PHONEY, tmp_path_factory.mktemp("phoney") / "phoney")
    config = root / "faasport.toml"
    config.write_text(config.read_text().replace('python = "3.12"', 'python = "3.11"'))
    (root / "requirements.txt").write_text("fastapi\n")
    artifact = build(load_project(root), "aws")
    return Built(root, artifact, unpack(artifact.path, tmp_path_factory.mktemp("unpacked")))


def test_the_zip_is_at_the_contract_path_with_the_entry_module_at_its_root(shop: Built) -> None:
    assert shop.artifact.path == shop.root / "dist" / "aws" / "shop.zip"
    entry = (shop.unpacked / "faasport_handler.py").read_text()
    assert "api = aws.handler('shop.web:app', health_path='/health')" in entry
    assert "worker = aws.handler('shop.jobs:handle')" in entry
    with zipfile.ZipFile(shop.artifact.path) as opened:
        sizes = sum(info.file_size for info in opened.infolist())
        assert shop.artifact.zipped == shop.artifact.path.stat().st_size
        assert shop.artifact.unzipped == sizes
        assert shop.artifact.files == len([n for n in opened.namelist() if not n.endswith("/")])


def test_the_http_function_runs_from_the_unpacked_zip_alone(shop: Built, tmp_path: Path) -> None:
    report = invoke(shop.unpacked, [http("/health"), http("/hello")], tmp_path)
    (health, imported_at_health), (hello, _) = report["results"]
    assert health["statusCode"] == 200
    assert imported_at_health == []  # the health check did not import the app
    assert hello["statusCode"] == 200
    answer = body(hello)
    assert answer["escaped"] == "&lt;/hello&gt;"
    assert answer["domain"] == "xn--bcher-kva.example"
    assert answer["page"] == "<p>shop</p>"
    files = answer["files"]
    assert set(files) == {"faasport", "markupsafe", "markupsafe._speedups", "idna"}
    for name, file in files.items():
        assert file is not None and file.startswith(str(shop.unpacked)), (name, file)
    # markupsafe's compiled extension: the wheel pip chose is for this platform and Python.
    assert files["markupsafe._speedups"].endswith(sysconfig.get_config_var("EXT_SUFFIX"))


def test_the_plain_handler_runs_from_the_unpacked_zip_alone(shop: Built, tmp_path: Path) -> None:
    report = invoke(shop.unpacked, [("worker", {"Records": [{}, {}, {}]})], tmp_path)
    assert report["results"][0][0] == {"processed": 3}


def test_the_zip_holds_code_and_dependencies_but_no_tests_caches_or_tools(shop: Built) -> None:
    with zipfile.ZipFile(shop.artifact.path) as opened:
        names = opened.namelist()
    files = {n for n in names if not n.endswith("/")}
    assert {
        "faasport_handler.py",
        "shop/__init__.py",
        "shop/web.py",
        "shop/jobs.py",
        "shop/templates/page.html",
        "faasport/__init__.py",
        "faasport/py.typed",
        "faasport/aws/handler.py",
        "faasport/core/runner.py",
        "idna/__init__.py",
        "markupsafe/__init__.py",
    } <= files
    assert any(n.startswith("markupsafe/_speedups") and n.endswith(".so") for n in files)
    assert [n for n in files if n.endswith(".dist-info/METADATA")]
    top = {n.split("/")[0] for n in files}
    assert not top & {"tests", "conftest.py", "test_root.py", ".pytest_cache", ".venv-old"}
    assert not top & {"node_modules", "deploy", "docs", "bin", "requirements.txt"}
    # The only bytecode is the one faasport compiled: none from the project's own caches.
    tag = sys.implementation.cache_tag
    assert "shop/stale.pyc" not in files
    pycs = {n for n in files if n.endswith((".pyc", ".pyo"))}
    assert pycs == {pyc_name(n, tag) for n in files if n.endswith(".py")}
    with zipfile.ZipFile(shop.artifact.path) as opened:
        assert {opened.read(n)[:4] for n in pycs} == {importlib.util.MAGIC_NUMBER}
    assert not [n for n in files if n.startswith("shop/tests/")]
    assert "shop/notes.md" not in files  # exclude = ["*.md", "shop/fixtures"]
    assert not [n for n in files if n.startswith("shop/fixtures/")]
    for tool in ("cli", "local", "deploy", "testing", "config"):
        assert not [n for n in files if n.startswith(f"faasport/{tool}/")]
    noise = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    assert not [n for n in files if ".dist-info/" in n and n.rsplit("/", 1)[-1] in noise]


def test_entries_are_sorted_with_fixed_times_and_modes(shop: Built) -> None:
    with zipfile.ZipFile(shop.artifact.path) as opened:
        infos = opened.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: i.external_attr >> 16 for i in infos}
    assert {m for n, m in modes.items() if n.endswith("/")} == {0o40755}
    assert {m for n, m in modes.items() if not n.endswith("/")} == {0o100644}
    assert "shop/" in modes and "markupsafe/" in modes


def test_a_rebuild_elsewhere_after_touching_every_file_gives_the_same_bytes(
    shop: Built, tmp_path: Path
) -> None:
    other = copy_project(shop.root, tmp_path / "elsewhere" / "shop")
    for path in other.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (other / "shop" / "web.py").chmod(0o600)
    again = build(load_project(other), "aws")  # a fresh cache: pip installs again
    assert again.path != shop.artifact.path
    assert again.path.read_bytes() == shop.artifact.path.read_bytes()


def test_a_rebuild_reuses_the_dependency_cache_without_pip(
    shop: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = shop.artifact.path.read_bytes()
    assert list((shop.root / ".faasport" / "cache" / "deps").iterdir())
    monkeypatch.setattr(sys, "executable", str(shop.root / "no-such-python"))
    again = build(load_project(shop.root), "aws")
    assert again.path.read_bytes() == before


SQS_JOB = {
    "messageId": "m0",
    "body": '{"item": 42}',
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:phoney-jobs",
}


def test_the_phoney_example_runs_from_its_unpacked_zip_alone(phoney: Built, tmp_path: Path) -> None:
    calls = [
        http("/items/42", query={"q": "pen"}),
        http("/items", method="POST", json_body={"name": "pen", "price": 2.5}),
        http("/health"),
        ("worker", {"Records": [SQS_JOB]}),
    ]
    results = [r for r, _ in invoke(phoney.unpacked, calls, tmp_path)["results"]]
    item, created, health, worker = results
    assert (item["statusCode"], body(item)) == (200, {"item_id": 42, "q": "pen"})
    assert (created["statusCode"], body(created)) == (201, {"name": "pen", "price": 2.5})
    assert health["statusCode"] == 200
    assert worker == {"batchItemFailures": []}
    assert list((phoney.unpacked / "pydantic_core").glob("_pydantic_core.cpython-311-*.so"))


def test_a_zip_over_lambdas_limits_is_warned_about() -> None:
    assert limit_warning(10 * MB, 100 * MB) is None
    zipped = limit_warning(60 * MB, 100 * MB)
    assert zipped is not None and "60.0 MB zipped" in zipped and "S3" in zipped
    both = limit_warning(60 * MB, 300 * MB)
    assert both is not None and "300.0 MB unzipped" in both and "60.0 MB" in both
    assert "\n" not in both


def test_the_shipped_bytecode_is_what_runs(shop: Built, tmp_path: Path) -> None:
    # Unchecked-hash bytecode is used without reading the source: a changed source that still
    # answers as before proves the .pyc ran, as on Lambda's read-only code directory.
    copy = Path(shutil.copytree(shop.unpacked, tmp_path / "copy"))
    web = copy / "shop" / "web.py"
    web.write_text(web.read_text().replace('"path": scope["path"]', '"path": "changed"'))
    report = invoke(copy, [http("/hello")], tmp_path)
    assert body(report["results"][0][0])["path"] == "/hello"
    (copy / "shop" / "__pycache__").rename(tmp_path / "moved")
    report = invoke(copy, [http("/hello")], tmp_path)
    assert body(report["results"][0][0])["path"] == "changed"


def test_without_the_target_interpreter_one_warning_and_sources_only(
    shop: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_project(shop.root, tmp_path / "shop")
    config = root / "faasport.toml"
    config.write_text(config.read_text().replace('python = "3.11"', 'python = "3.13"'))
    (root / "requirements.txt").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    artifact = build(load_project(root), "aws")
    assert artifact.warnings == (
        "no Python 3.13 (python in faasport.toml) on this machine: the zip ships sources "
        "only, compiled at every cold start; install python3.13 for precompiled bytecode",
    )
    with zipfile.ZipFile(artifact.path) as opened:
        assert not [n for n in opened.namelist() if n.endswith(".pyc")]
        assert "shop/web.py" in opened.namelist()


def test_strip_leaves_out_dependency_stubs_tests_and_docs(shop: Built, tmp_path: Path) -> None:
    with zipfile.ZipFile(shop.artifact.path) as opened:
        before = set(opened.namelist())
    stubs = {n for n in before if n.endswith(".pyi")}
    assert stubs  # markupsafe ships type stubs
    root = copy_project(shop.root, tmp_path / "shop")
    config = root / "faasport.toml"
    config.write_text("strip = true\n" + config.read_text())
    artifact = build(load_project(root), "aws")
    with zipfile.ZipFile(artifact.path) as opened:
        after = set(opened.namelist())
    assert after == before - stubs
    assert artifact.unzipped < shop.artifact.unzipped
    report = invoke(unpack(artifact.path, tmp_path / "unpacked"), [http("/hello")], tmp_path)
    assert report["results"][0][0]["statusCode"] == 200


def test_the_size_report_names_each_functions_code_and_the_heaviest(shop: Built) -> None:
    api, worker, heaviest = shop.artifact.sizes
    assert re.fullmatch(
        r"api: shop \d+\.\d KB of its own code, .* shared with 1 other function", api
    )
    assert worker.startswith("worker: shop ")
    assert heaviest.startswith("heaviest: ") and "faasport" in heaviest and "markupsafe" in heaviest


def _dechunk(body: bytes) -> bytes:
    data = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return data
        data, body = data + body[:size], body[size + 2 :]


def test_a_streaming_function_starts_the_zips_runtime_client_through_its_wrapper(
    tmp_path: Path,
) -> None:
    root = copy_project(PROJECT, tmp_path / "shop")
    config = root / "faasport.toml"
    app = 'app = "shop.web:app"'
    config.write_text(config.read_text().replace(app, f"{app}\nstream = true"))
    archive = build(load_project(root), "aws").path
    with zipfile.ZipFile(archive) as opened:
        mode = opened.getinfo("faasport_bootstrap").external_attr >> 16
    assert mode & 0o777 == 0o755  # Lambda keeps the zip's modes; zipfile does not
    unpacked = unpack(archive, tmp_path / "unpacked")
    wrapper = unpacked / "faasport_bootstrap"
    wrapper.chmod(mode & 0o777)
    # Lambda runs the wrapper with the managed runtime's command; python3 is on its PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    recorder = Recorder(event("apigw-v2", "GET", "/feed"))
    process = subprocess.Popen(
        [str(wrapper), "/var/lang/bin/python3.11", "/var/runtime/bootstrap.py"],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "LAMBDA_TASK_ROOT": str(unpacked),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{recorder.port}",
            "_HANDLER": "faasport_handler.api",
        },
        cwd="/",
        stderr=subprocess.PIPE,
    )
    try:
        assert recorder.done.wait(60), "the runtime client never answered"
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
        recorder.server.close()
    head, _, chunked = recorder.recorded.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /2018-06-01/runtime/invocation/req-1/response "), stderr
    assert b"\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n" in head
    prelude, _, answer = _dechunk(chunked).partition(b"\0" * 8)
    assert json.loads(prelude)["statusCode"] == 200
    files = json.loads(answer)["files"]
    assert files["faasport"].startswith(str(unpacked))  # the zip's faasport, not this one
