"""``strip = true``: what the dependencies carry that a deployed function never imports.

Their test suites, documentation and examples, type stubs, and any bytecode they shipped
(faasport compiles its own). Only directories inside a dependency's package are dropped, never
a top-level package, so a distribution whose import name is ``tests`` or ``docs`` still works.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from faasport.deploy.package.archive import Content, unzipped_size

#: Directory names left out below a dependency's top-level package.
STRIPPED_DIRECTORIES = frozenset({"tests", "test", "docs", "doc", "examples", "__pycache__"})
#: File suffixes left out anywhere in the dependencies.
STRIPPED_SUFFIXES = (".pyi", ".pyc", ".pyo")


def stripped(name: str) -> bool:
    """Whether ``strip`` leaves the dependency file at archive path ``name`` out."""
    if name.endswith(STRIPPED_SUFFIXES):
        return True
    directories = PurePosixPath(name).parts[1:-1]
    return any(part in STRIPPED_DIRECTORIES for part in directories)


def strip(files: dict[str, Content]) -> tuple[dict[str, Content], int]:
    """``files`` without what :func:`stripped` names, and how many bytes that saved."""
    kept = {name: content for name, content in files.items() if not stripped(name)}
    return kept, unzipped_size(files) - unzipped_size(kept)
