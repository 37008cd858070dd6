"""Artifacts written reproducibly: the same files give the same bytes.

Entries are sorted, every timestamp is 1980-01-01 00:00:00 (the zip epoch), files are 0o644
and directories 0o755 whatever they are on disk, and contents are copied byte for byte.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

#: A file's content: bytes generated here, or a file on disk copied as it is.
Content = bytes | Path
#: Archive path (``/``-separated, relative) -> content.
Files = Mapping[str, Content]

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
DIR_MODE = 0o755
EXEC_MODE = 0o755
#: Files Lambda runs as programs (a streaming function's AWS_LAMBDA_EXEC_WRAPPER).
EXECUTABLES = frozenset({"faasport_bootstrap"})
_UNIX = 3  # zip "version made by" host system: the permission bits are Unix modes


def unzipped_size(files: Files) -> int:
    return sum(len(c) if isinstance(c, bytes) else c.stat().st_size for c in files.values())


def _directories(names: list[str]) -> list[str]:
    found: set[str] = set()
    for name in names:
        found.update(str(parent) for parent in PurePosixPath(name).parents if parent.name)
    return sorted(found)


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.create_system = _UNIX
    info.external_attr = mode << 16
    return info


def write_zip(path: Path, files: Files) -> int:
    """Write ``files`` as a zip at ``path`` (replaced atomically); its size in bytes."""
    names = sorted(files)
    entries = [(f"{d}/", None) for d in _directories(names)] + [(n, files[n]) for n in names]
    entries.sort(key=lambda entry: entry[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, content in entries:
                if content is None:
                    info = _entry(name, stat.S_IFDIR | DIR_MODE)
                    info.external_attr |= 0x10  # MS-DOS directory flag
                    archive.writestr(info, b"")
                    continue
                info = _entry(
                    name, stat.S_IFREG | (EXEC_MODE if name in EXECUTABLES else FILE_MODE)
                )
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as out:
                    if isinstance(content, bytes):
                        out.write(content)
                    else:
                        with content.open("rb") as source:
                            shutil.copyfileobj(source, out, 1024 * 1024)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path.stat().st_size


def write_directory(path: Path, files: Files) -> None:
    """Replace directory ``path`` with exactly ``files``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for name in sorted(files):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            content = files[name]
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                shutil.copyfile(content, target)
            target.chmod(EXEC_MODE if name in EXECUTABLES else FILE_MODE)
        for directory in [staging, *(staging / d for d in _directories(list(files)))]:
            directory.chmod(DIR_MODE)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            path.rename(old / path.name)
            staging.rename(path)
            shutil.rmtree(old)
        else:
            staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
