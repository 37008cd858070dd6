"""Reproducible writing: the same files give the same zip bytes and the same directory."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from faasport.deploy.package.archive import unzipped_size, write_directory, write_zip


def sources(directory: Path, mode: int, mtime: int) -> dict[str, bytes | Path]:
    directory.mkdir()
    (directory / "data.bin").write_bytes(bytes(range(256)) * 100)
    (directory / "crlf.txt").write_bytes(b"line one\r\nline two\r\n")
    for path in directory.iterdir():
        path.chmod(mode)
        os.utime(path, (mtime, mtime))
    return {
        "pkg/sub/data.bin": directory / "data.bin",
        "pkg/crlf.txt": directory / "crlf.txt",
        "main.py": b"print('hi')\n",
    }


def test_same_files_same_bytes_whatever_their_times_modes_and_order(tmp_path: Path) -> None:
    first = sources(tmp_path / "a", 0o600, 1_600_000_000)
    second = dict(reversed(list(sources(tmp_path / "b", 0o755, 1_700_000_000).items())))
    size = write_zip(tmp_path / "one.zip", first)
    write_zip(tmp_path / "two.zip", second)
    assert size == (tmp_path / "one.zip").stat().st_size
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == [
            "main.py",
            "pkg/",
            "pkg/crlf.txt",
            "pkg/sub/",
            "pkg/sub/data.bin",
        ]
        assert archive.read("pkg/crlf.txt") == b"line one\r\nline two\r\n"  # bytes as they are
        assert archive.testzip() is None
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos if i.is_dir()} == {stat.S_IFDIR | 0o755}
    assert {i.external_attr >> 16 for i in infos if not i.is_dir()} == {stat.S_IFREG | 0o644}
    assert unzipped_size(first) == 25600 + 20 + 12


def test_a_zip_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out" / "app.zip"
    write_zip(target, {"old.py": b""})
    write_zip(target, {"new.py": b""})
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ["new.py"]
    assert os.listdir(target.parent) == ["app.zip"]  # no temporary file left behind


def test_a_directory_is_replaced_by_exactly_the_files(tmp_path: Path) -> None:
    target = tmp_path / "dist" / "context"
    files = sources(tmp_path / "src", 0o700, 1_600_000_000)
    write_directory(target, {"stale.txt": b"old"})
    write_directory(target, files)
    found = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    assert found == ["main.py", "pkg", "pkg/crlf.txt", "pkg/sub", "pkg/sub/data.bin"]
    assert (target / "pkg" / "crlf.txt").read_bytes() == b"line one\r\nline two\r\n"
    modes = {str(p.relative_to(target)): p.stat().st_mode & 0o777 for p in target.rglob("*")}
    assert modes == {
        "main.py": 0o644,
        "pkg": 0o755,
        "pkg/crlf.txt": 0o644,
        "pkg/sub": 0o755,
        "pkg/sub/data.bin": 0o644,
    }
    assert target.stat().st_mode & 0o777 == 0o755
    assert os.listdir(target.parent) == ["context"]
