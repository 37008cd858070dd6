"""``faasport coldstart``: fresh interpreters started the way ``faasport dev`` starts an
execution environment (or, with an artifact, isolated as Lambda starts one: ``-I -S -B``,
only the unpacked artifact on the path), each importing the function's entry and answering
one request; their times, peak memory and import profile, and findings that explain them."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faasport.config.model import Function, Project
from faasport.core.errors import FaasportError
from faasport.local import importtime
from faasport.local.coldstart_artifact import Artifact
from faasport.local.emulator import UnknownFunctionError
from faasport.local.entry import MODULE, write_entry

PROBE = Path(__file__).with_name("coldstart_probe.py")
#: Packages whose import alone costs a cold start tens to hundreds of milliseconds.
HEAVY = ("boto3", "botocore", "pandas", "numpy", "pydantic", "scipy", "sqlalchemy", "aiobotocore")
#: A package is named in findings from this much import time (ms).
NOTABLE_MS = 20.0


@dataclass
class Run:
    init_ms: float
    request_ms: float
    peak_rss_mb: float
    stderr: str
    probe: dict[str, Any]


@dataclass
class Report:
    function: str
    runs: list[Run]
    analysis: Run
    roots: list[importtime.Node]
    findings: list[dict[str, Any]] = field(default_factory=list)
    artifact: Artifact | None = None

    def to_json(self) -> dict[str, Any]:
        packages = importtime.by_package(self.roots)
        return {
            "function": self.function,
            "runs": len(self.runs),
            "init_ms": summary([r.init_ms for r in self.runs]),
            "first_request_ms": summary([r.request_ms for r in self.runs]),
            "peak_memory_mb": summary([r.peak_rss_mb for r in self.runs]),
            "packages": [
                {"package": name, "modules": n, "self_ms": s / 1000, "cumulative_ms": c / 1000}
                for name, (n, s, c) in sorted(packages.items(), key=lambda i: -i[1][2])
            ],
            "modules": [
                {
                    "module": n.name,
                    "self_ms": n.self_us / 1000,
                    "cumulative_ms": n.cumulative_us / 1000,
                }
                for n in top_modules(self.roots)
            ],
            "findings": self.findings,
            "artifact": self._artifact(),
            "import_tree": [root.to_json() for root in self.roots],
        }

    def _artifact(self) -> dict[str, Any] | None:
        """How the starts ran the artifact, as the analysis run saw itself."""
        if self.artifact is None:
            return None
        probe = self.analysis.probe
        keys = ("isolated", "no_site", "dont_write_bytecode", "code_read_only", "sys_path")
        return {
            **self.artifact.to_json(),
            **{key: probe.get(key) for key in keys},
            "code_modules": probe.get("code_modules", []),
        }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def top_modules(roots: list[importtime.Node], count: int = 15) -> list[importtime.Node]:
    return sorted(importtime.walk(roots), key=lambda n: -n.cumulative_us)[:count]


def request_event(function: Function, path: str) -> dict[str, Any] | None:
    """An HTTP API GET of ``path`` for an HTTP function; None for a plain handler."""
    if function.app is None:
        return None
    from faasport.testing.events import event

    return event("apigw-v2", "GET", path)


def _launch(
    project: Project, function: Function, artifact: Artifact | None
) -> tuple[list[str], Path, dict[str, str]]:
    """The interpreter and its flags, the working directory and the environment of a start."""
    environ = {
        **os.environ,
        **dict(function.environment),
        # As on Lambda, whose code directory is read-only: nothing is cached between starts.
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "FAASPORT_METRICS": "off",
        "FAASPORT_SECRETS": "env",
    }
    if artifact is not None:
        # Isolated as Lambda runs it: no PYTHON* variables, no site-packages, no user site,
        # no bytecode written; the probe puts the artifact alone in front of the stdlib.
        environ["LAMBDA_TASK_ROOT"] = str(artifact.directory)
        command = [artifact.interpreter, "-I", "-S", "-B", "-X", "importtime"]
        return command, artifact.directory, environ
    entry_dir = write_entry(project)
    environ["PYTHONPATH"] = os.pathsep.join([str(project.root), str(entry_dir)])
    return [sys.executable, "-X", "importtime"], project.root, environ


#: What the probe writes once the handler imported (its own INITIALISED).
INITIALISED = "faasport-probe: initialised"


def run_once(
    project: Project, function: Function, *, analyse: bool, artifact: Artifact | None = None
) -> Run:
    command, cwd, environ = _launch(project, function, artifact)
    http = request_event(function, "/")
    health = request_event(function, function.health) if function.health else None
    target_module = function.target.partition(":")[0]
    with tempfile.TemporaryDirectory(prefix="faasport-coldstart-") as scratch:
        output = Path(scratch) / "probe.json"
        args = [
            *command,
            str(PROBE),
            str(output),
            f"{MODULE}.{function.name}",
            json.dumps(http if http is not None else _sample(project, function)),
            json.dumps(health),
            "1" if analyse else "0",
            target_module,
        ]
        if artifact is not None:
            args.append(str(artifact.directory))
        started = _monotonic()
        with subprocess.Popen(
            args,
            cwd=cwd,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            stderr = process.stderr.read() if process.stderr else ""
            # wait4, not wait: the rusage of this child alone (its peak resident memory).
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or not output.exists():
            error = _last_error(stderr)
            # An app imported on first use that does not import fails as the init error it
            # is on Lambda (ImportModuleError), though the entry module had loaded.
            started = INITIALISED in stderr and "ImportModuleError" not in error
            what = "failed on its first invocation" if started else "failed to start"
            raise FaasportError(f"function {function.name} {what}: {error}")
        probe = json.loads(output.read_text())
    return Run(
        init_ms=(probe["init_done"] - started) * 1000,
        request_ms=probe["request_ms"],
        peak_rss_mb=usage.ru_maxrss / 1024,
        stderr=stderr,
        probe=probe,
    )


def _monotonic() -> float:
    import time

    return time.monotonic()


def _last_error(stderr: str) -> str:
    lines = [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("import time:", "faasport-probe:"))
    ]
    return lines[-1].strip() if lines else "it exited without a message"


def function_named(project: Project, name: str | None) -> Function:
    """The function ``name``, or the project's only function when ``name`` is None."""
    known = ", ".join(project.functions) or "none"
    if name is None:
        if len(project.functions) != 1:
            raise FaasportError(
                f"name the function to measure; the functions in {project.source.name} are: {known}"
            )
        return next(iter(project.functions.values()))
    function = project.functions.get(name)
    if function is None:
        raise UnknownFunctionError(name, project.functions, project.source.name)
    return function


def measure(
    project: Project, name: str | None, runs: int, artifact: Artifact | None = None
) -> Report:
    function = function_named(project, name)
    timed = [run_once(project, function, analyse=False, artifact=artifact) for _ in range(runs)]
    analysis = run_once(project, function, analyse=True, artifact=artifact)
    # The profile of the run whose init was the median one: one real tree, not a blend.
    middle = sorted(timed, key=lambda r: r.init_ms)[len(timed) // 2]
    roots = importtime.parse(middle.stderr)
    report = Report(function.name, timed, analysis, roots, artifact=artifact)
    report.findings = findings(project, function, report)
    return report


def findings(project: Project, function: Function, report: Report) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    packages = importtime.by_package(report.roots)
    nodes = importtime.walk(report.roots)
    for node in sorted(nodes, key=lambda n: -n.self_us)[:5]:
        if node.self_us / 1000 < NOTABLE_MS:
            break
        out.append(
            {
                "kind": "slow-import",
                "module": node.name,
                "ms": round(node.self_us / 1000, 1),
                "message": f"{node.name} takes {node.self_us / 1000:.0f} ms to import by itself "
                "(module-level code: work done at import, e.g. I/O, sleeps, big tables)",
            }
        )
    for package in HEAVY:
        if package in packages:
            ms = packages[package][2] / 1000
            out.append(
                {
                    "kind": "heavy-sdk",
                    "module": package,
                    "ms": round(ms, 1),
                    "message": f"{package} is imported before the first response ({ms:.0f} ms); "
                    "import it inside the function that uses it",
                }
            )
    probe = report.analysis.probe
    called = {name.split(".")[0] for name in probe.get("called_modules", [])}
    unused = sorted(
        (
            (name, row[1] / 1000)
            for name, row in packages.items()
            if name not in called and row[1] / 1000 >= 1.0 and name != "faasport"
        ),
        key=lambda item: -item[1],
    )
    if unused:
        total = sum(ms for _, ms in unused)
        named = ", ".join(f"{name} ({ms:.0f} ms)" for name, ms in unused[:8])
        out.append(
            {
                "kind": "unused-at-first-request",
                "modules": [name for name, _ in unused],
                "ms": round(total, 1),
                "message": f"{total:.0f} ms of imports (self time) in packages the first "
                f"request never called into: {named}",
            }
        )
    out += _missing_bytecode(project, report)
    if function.health and probe.get("health_imported_app"):
        out.append(
            {
                "kind": "health-imports-app",
                "module": function.target,
                "ms": 0,
                "message": f"the health check {function.health} imports {function.target}: "
                "pass the app as an import string so health checks answer without it",
            }
        )
    return out


def _missing_bytecode(project: Project, report: Report) -> list[dict[str, Any]]:
    """The modules imported from source, compiled at every start: the project's own (in the
    development tree), or any of the artifact's (with ``--artifact``)."""
    missing = report.analysis.probe.get("missing_pyc", [])
    if report.artifact is None:
        root = str(project.root.resolve())
        files = [
            path
            for path in missing
            if path.startswith(root) and "site-packages" not in path and "/.venv" not in path
        ]
        whose, fix = "the project's modules", "ship bytecode in the artifact"
    else:
        code = os.path.join(str(report.artifact.directory), "")
        files = [path for path in missing if path.startswith(code)]
        whose = "the artifact's modules"
        fix = report.artifact.note or (
            f"build the artifact with Python {project.python} on the machine "
            "(faasport package --target aws) so it ships them"
        )
    if not files:
        return []
    cost = _compile_ms(files)
    return [
        {
            "kind": "pyc-missing",
            "files": len(files),
            "ms": round(cost, 1),
            "message": f"{len(files)} of {whose} have no .pyc: every cold start compiles them "
            f"({cost:.0f} ms here); {fix}",
        }
    ]


def _compile_ms(paths: list[str]) -> float:
    import time

    started = time.perf_counter()
    for path in paths:
        try:
            compile(Path(path).read_bytes(), path, "exec")
        except (OSError, SyntaxError, ValueError):
            continue
    return (time.perf_counter() - started) * 1000


def _sample(project: Project, function: Function) -> dict[str, Any]:
    """An event of the function's own first trigger (a queue's messages, a schedule's
    tick...): what its first invocation gets."""
    from faasport.local.dashboard.functions import default_source, generate

    return generate(project, function.name, default_source(project, function))
