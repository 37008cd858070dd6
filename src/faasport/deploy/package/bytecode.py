"""Bytecode compiled ahead of time, so a cold start does not compile every module.

Lambda's code directory is read-only: without ``.pyc`` files in the zip, every cold start
compiles every module it imports. The ``.pyc`` files must come from the interpreter the
function runs on (``python`` in the config), since bytecode changes between versions; they are
unchecked-hash files (PEP 552), which embed no timestamp and are used without looking at the
source, so the same sources give the same bytes. They go where that interpreter looks:
``pkg/__pycache__/mod.cpython-312.pyc``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from faasport.deploy.package.archive import Content

#: Run by the target interpreter: compile each (source file, archive name, output file) read
#: from stdin; print the cache tag and the archive names that did not compile.
_COMPILE = """\
import json, py_compile, sys
failed = []
for source, name, output in json.load(sys.stdin):
    try:
        py_compile.compile(
            source, cfile=output, dfile=name, doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError):
        failed.append(name)
print(json.dumps({"tag": sys.implementation.cache_tag, "failed": failed}))
"""
_VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"


@dataclass(frozen=True)
class Compiled:
    #: Archive path of each ``.pyc`` -> its bytes.
    files: dict[str, Content]
    #: Sources the interpreter refused (left to be compiled at import, as before).
    failed: tuple[str, ...]


def _version_of(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "-I", "-c", _VERSION], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_interpreter(version: str) -> str | None:
    """A CPython ``version`` (``"3.12"``) on this machine: ``python3.12`` on PATH, else the
    one ``uv python find`` names (uv never downloads one here). None when neither runs."""
    candidates = [shutil.which(f"python{version}")]
    uv = shutil.which("uv")
    if uv:
        try:
            done = subprocess.run(
                [uv, "python", "find", "--no-python-downloads", version],
                capture_output=True,
                text=True,
                timeout=30,
            )
            candidates.append(done.stdout.strip() if done.returncode == 0 else None)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for candidate in candidates:
        if candidate and _version_of(candidate) == version:
            return candidate
    return None


def pyc_name(source: str, tag: str) -> str:
    """``"pkg/mod.py"`` -> ``"pkg/__pycache__/mod.cpython-312.pyc"``."""
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").removeprefix("./")


def compile_sources(files: dict[str, Content], interpreter: str) -> Compiled:
    """The ``.pyc`` of every ``.py`` among ``files``, compiled by ``interpreter``."""
    sources = sorted(name for name in files if name.endswith(".py"))
    with tempfile.TemporaryDirectory(prefix="faasport-pyc-") as work:
        root = Path(work)
        jobs = []
        for index, name in enumerate(sources):
            content = files[name]
            if isinstance(content, bytes):
                path = root / f"{index}.py"
                path.write_bytes(content)
                content = path
            jobs.append([str(content), name, str(root / f"{index}.pyc")])
        done = subprocess.run(
            [interpreter, "-I", "-S", "-B", "-c", _COMPILE],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise OSError(f"{interpreter} could not compile the sources: {detail}")
        report = json.loads(done.stdout.splitlines()[-1])
        failed = set(report["failed"])
        compiled: dict[str, Content] = {}
        for _, name, output in jobs:
            if name not in failed:
                compiled[pyc_name(name, report["tag"])] = Path(output).read_bytes()
    return Compiled(compiled, tuple(sorted(failed)))
