"""Cold start from the packaged artifact: faasport against the same app packaged the usual way.

Run it with ``.venv/bin/python bench/coldstart.py`` (a few minutes: it pip-installs each app's
dependencies twice, then starts ~100 interpreters); ``--runs N`` sets the starts per case
(default 15).

Two apps: the FastAPI example (``tests/fixtures/phoney``, through Mangum the usual way) and a Flask
app (``bench/flaskapp``, through apig-wsgi). For each, two artifacts are unpacked into a
temporary directory:

* **faasport**: ``faasport.deploy.package.build_directory`` for AWS, with ``python`` set to
  the interpreter running this script, so its precompiled bytecode is used;
* **faasport without its .pyc**: the same tree without ``__pycache__``, to show what the
  precompiled bytecode is worth and what the lazy app import is worth;
* **usual**: what a Mangum / apig-wsgi user zips: ``pip install --target`` of the same
  requirements plus the adapter (``--no-compile``: sources only, no bytecode), the app's
  package, and a ``lambda_function.py`` wrapping the app (``Mangum(app, lifespan="off")``,
  ``make_lambda_handler(app)``).

Each start is a fresh ``python -I -S -B`` (no site-packages, no user site, no bytecode
written: Lambda's code directory is read-only) whose ``sys.path`` is the artifact's directory
and the standard library. It times, as Lambda reports them, **Init** (importing the handler
module) and the **first request** (one API Gateway HTTP API event, ``GET`` of a route that
answers 200, built by ``faasport.testing.event``), and checks the answer. Starts are
interleaved (one of each case per round) so the machine's noise spreads over all cases; the
table shows medians and each case's ratio to the usual way of the same app, for Init, the
first request, and both together (what the first user waits for). Target: faasport's total
<= 0.7x the usual way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYCACHE = shutil.ignore_patterns("__pycache__")
TARGET_RATIO = 0.7

DRIVER = """
import json, sys, time
started = time.perf_counter()
root, module, attribute = sys.argv[1:4]
sys.path.insert(0, root)
handler = getattr(__import__(module), attribute)
init = time.perf_counter() - started

class Context:
    aws_request_id = "bench-1"
    function_name = "api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:api"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/api"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 30000

event = json.loads(sys.stdin.read())
started = time.perf_counter()
result = handler(event, Context())
first = time.perf_counter() - started
outside = sorted(
    name for name, module in list(sys.modules.items())
    if "site-packages" in (getattr(module, "__file__", None) or "")
)
print(json.dumps({"init": init, "first": first, "status": result["statusCode"],
                  "body": result["body"], "outside": outside}))
"""


@dataclass(frozen=True)
class App:
    label: str
    project: Path
    #: The app's package, copied into the usual artifact.
    package: str
    adapter_requirement: str
    lambda_function: str
    path: str
    expected: dict[str, Any]


APPS = (
    App(
        "FastAPI (tests/fixtures/phoney)",
        ROOT / "tests" / "fixtures" / "phoney",
        "phoney",
        "mangum",
        "from mangum import Mangum\nfrom phoney.main import app\n\n"
        'handler = Mangum(app, lifespan="off")\n',
        "/items/7",
        {"item_id": 7, "q": None},
    ),
    App(
        "Flask (bench/flaskapp)",
        ROOT / "bench" / "flaskapp",
        "notes",
        "apig-wsgi",
        "from apig_wsgi import make_lambda_handler\nfrom notes.app import app\n\n"
        "handler = make_lambda_handler(app)\n",
        "/notes/1",
        {"id": 1, "text": "first", "q": None},
    ),
)


@dataclass
class Case:
    app: App
    way: str  # "faasport" | "sources" | "usual"
    directory: Path
    module: str
    attribute: str
    init: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)


def this_python() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def faasport_artifact(app: App, work: Path) -> Path:
    from faasport.config import load_project
    from faasport.deploy.package import build_directory

    project = Path(shutil.copytree(app.project, work / "project" / app.package))
    config = project / "faasport.toml"
    text = re.sub(r'(?m)^python = ".*"$', f'python = "{this_python()}"', config.read_text())
    config.write_text(text)
    return build_directory(load_project(project), work / "faasport", log=print)


def usual_artifact(app: App, work: Path) -> Path:
    directory = work / "usual"
    requirements = (app.project / "requirements.txt").read_text().split()
    print(f"usual: pip install {' '.join(requirements)} {app.adapter_requirement}")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
            "--disable-pip-version-check", "--target", str(directory),
            *requirements, app.adapter_requirement,
        ],
        check=True,
    )  # fmt: skip
    shutil.copytree(
        app.project / app.package,
        directory / app.package,
        ignore=PYCACHE,
    )
    (directory / "lambda_function.py").write_text(app.lambda_function)
    for cache in list(directory.rglob("__pycache__")):
        shutil.rmtree(cache)
    return directory


def start(case: Case, event: dict[str, Any]) -> None:
    done = subprocess.run(
        [
            sys.executable, "-I", "-S", "-B", "-c", DRIVER,
            str(case.directory), case.module, case.attribute,
        ],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=case.directory.parent,
        env={"PATH": os.environ["PATH"], "TZ": "UTC", "AWS_LAMBDA_FUNCTION_NAME": "api"},
        timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{case.app.label} {case.way}: the start failed:\n{done.stderr}")
    report = json.loads(done.stdout.splitlines()[-1])
    if report["status"] != 200 or json.loads(report["body"]) != case.app.expected:
        raise SystemExit(f"{case.app.label} {case.way}: unexpected answer {report}")
    if report["outside"]:
        raise SystemExit(f"{case.app.label} {case.way}: imported {report['outside']}")
    case.init.append(report["init"] * 1000)
    case.first.append(report["first"] * 1000)


def table(cases: list[Case], runs: int) -> str:
    lines = [
        f"Cold start from the packaged artifact, median of {runs} starts "
        "(python -I -S -B, artifact dir + stdlib only)",
        "",
        "| app | packaged | Init ms | first request ms | total ms | Init x | first x | total x |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in cases:
        usual = next(c for c in cases if c.app is case.app and c.way == "usual")
        init, first = statistics.median(case.init), statistics.median(case.first)
        total = statistics.median(i + f for i, f in zip(case.init, case.first, strict=True))
        base_init, base_first = statistics.median(usual.init), statistics.median(usual.first)
        base_total = statistics.median(i + f for i, f in zip(usual.init, usual.first, strict=True))
        way = {
            "faasport": "faasport",
            "sources": "faasport without its .pyc",
            "usual": f"usual ({case.app.adapter_requirement})",
        }[case.way]
        lines.append(
            f"| {case.app.label} | {way} | {init:.0f} | {first:.0f} | {total:.0f} "
            f"| {init / base_init:.2f} | {first / base_first:.2f} | {total / base_total:.2f} |"
        )
    return "\n".join(lines)


def verdicts(cases: list[Case]) -> list[str]:
    lines = []
    for case in cases:
        if case.way != "faasport":
            continue
        usual = next(c for c in cases if c.app is case.app and c.way == "usual")
        ratio = statistics.median(
            i + f for i, f in zip(case.init, case.first, strict=True)
        ) / statistics.median(i + f for i, f in zip(usual.init, usual.first, strict=True))
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        lines.append(
            f"- {verdict}: {case.app.label}: faasport's Init + first request is "
            f"{ratio:.2f}x the usual way's (target <= {TARGET_RATIO}x)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="starts per case (default 15)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from faasport.testing import event

    cases: list[Case] = []
    events: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="faasport-coldstart-") as temporary:
        for index, app in enumerate(APPS):
            work = Path(temporary) / str(index)
            events[app.label] = event("apigw-v2", "GET", app.path)
            built = faasport_artifact(app, work)
            sources = Path(shutil.copytree(built, work / "sources", ignore=PYCACHE))
            cases.append(Case(app, "faasport", built, "faasport_handler", "api"))
            cases.append(Case(app, "sources", sources, "faasport_handler", "api"))
            cases.append(
                Case(app, "usual", usual_artifact(app, work), "lambda_function", "handler")
            )
        for case in cases:  # a start that fails or answers wrongly stops the run here
            start(case, events[case.app.label])
            case.init.clear()
            case.first.clear()
        for run in range(args.runs):
            for case in cases[run % len(cases) :] + cases[: run % len(cases)]:
                start(case, events[case.app.label])
            print(f"round {run + 1}/{args.runs}", file=sys.stderr)
    print(f"- machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cpus")
    print(f"- python: {platform.python_implementation()} {platform.python_version()}")
    print()
    print(table(cases, args.runs))
    print()
    print("\n".join(verdicts(cases)))


if __name__ == "__main__":
    main()
