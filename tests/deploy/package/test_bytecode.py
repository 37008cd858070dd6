"""Bytecode compiled ahead of time by the target interpreter (PEP 552 unchecked-hash files)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from faasport.deploy.package import bytecode
from faasport.deploy.package.bytecode import compile_sources, find_interpreter, pyc_name

THIS = "{}.{}".format(*sys.version_info[:2])
#: A CPython other than the one running the tests, when this machine has one.
OTHER = next(
    (
        path
        for version in ("3.12", "3.13", "3.11")
        if version != THIS
        for path in sorted(Path(sys.base_prefix).parent.glob(f"*/bin/python{version}"))
    ),
    None,
)


def only_on_path(monkeypatch: pytest.MonkeyPatch, directory: Path, *interpreters: Path) -> None:
    directory.mkdir(exist_ok=True)
    for interpreter in interpreters:
        (directory / interpreter.name).symlink_to(interpreter)
    monkeypatch.setenv("PATH", str(directory))


def test_the_running_version_is_found_and_a_missing_one_is_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    only_on_path(monkeypatch, tmp_path / "bin", Path(sys.executable).with_name(f"python{THIS}"))
    assert find_interpreter(THIS) == str(tmp_path / "bin" / f"python{THIS}")
    assert find_interpreter("3.99") is None


def test_a_wrapper_that_runs_another_version_is_not_taken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    liar = tmp_path / "bin" / "python3.99"
    liar.parent.mkdir()
    liar.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    liar.chmod(0o755)
    monkeypatch.setenv("PATH", str(liar.parent))
    assert find_interpreter("3.99") is None


def test_pyc_names_are_where_the_interpreter_looks() -> None:
    assert pyc_name("pkg/mod.py", "cpython-312") == "pkg/__pycache__/mod.cpython-312.pyc"
    assert pyc_name("main.py", "cpython-311") == "__pycache__/main.cpython-311.pyc"
    assert importlib.util.cache_from_source("/x/pkg/mod.py").endswith(
        pyc_name("pkg/mod.py", sys.implementation.cache_tag)
    )


def test_unchecked_hash_pycs_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("VALUE = {'a': [1, 2.5, 'three']}\n\ndef f():\n    return VALUE\n")
    files = {"pkg/mod.py": source, "main.py": b"import pkg.mod\n", "bad.py": b"def (:\n"}
    first = compile_sources(files, sys.executable)
    again = compile_sources(files, sys.executable)
    assert first.files == again.files
    assert first.failed == ("bad.py",)
    tag = sys.implementation.cache_tag
    assert set(first.files) == {f"pkg/__pycache__/mod.{tag}.pyc", f"__pycache__/main.{tag}.pyc"}
    pyc = first.files[f"pkg/__pycache__/mod.{tag}.pyc"]
    assert isinstance(pyc, bytes)
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source not checked
    assert pyc[8:16] == importlib.util.source_hash(source.read_bytes())


@pytest.mark.skipif(OTHER is None, reason="no second CPython on this machine")
def test_the_target_version_compiles_not_the_running_one(tmp_path: Path) -> None:
    assert OTHER is not None
    version = OTHER.name.removeprefix("python")
    compiled = compile_sources({"mod.py": b"x = 1\n"}, str(OTHER))
    tag = f"cpython-{version.replace('.', '')}"
    assert list(compiled.files) == [f"__pycache__/mod.{tag}.pyc"]
    pyc = compiled.files[f"__pycache__/mod.{tag}.pyc"]
    assert isinstance(pyc, bytes) and pyc[:4] != importlib.util.MAGIC_NUMBER


def test_an_interpreter_that_fails_is_an_error_not_a_silent_empty_result(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(OSError, match="cannot start"):
        compile_sources({"mod.py": b"x = 1\n"}, str(broken))


def test_uv_is_asked_when_the_version_is_not_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A stand-in uv that answers `uv python find` with this machine's interpreter.
    only_on_path(monkeypatch, tmp_path / "bin")
    uv = tmp_path / "bin" / "uv"
    uv.write_text(f'#!/bin/sh\n[ "$1 $2" = "python find" ] && echo {sys.executable}\n')
    uv.chmod(0o755)
    assert find_interpreter(THIS) == sys.executable
    assert os.environ["PATH"] == str(tmp_path / "bin")
    assert bytecode.find_interpreter("3.99") is None
