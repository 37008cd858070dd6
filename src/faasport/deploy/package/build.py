"""``build(project, target)``: one target's artifact under ``<project root>/dist/<target>/``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from faasport.config.load import display_path
from faasport.config.model import Project
from faasport.core.errors import FaasportError
from faasport.deploy.errors import config_error
from faasport.deploy.package import aws, azure, container, gcp
from faasport.deploy.package.archive import unzipped_size, write_directory, write_zip
from faasport.deploy.package.bundle import Bundle
from faasport.deploy.package.dependencies import Log

#: target -> what goes into its artifact. All but ``container`` are one zip.
TARGETS: dict[str, Callable[[Project, Log], Bundle]] = {
    "aws": aws.bundle,
    "gcp": gcp.bundle,
    "azure": azure.bundle,
    "container": container.bundle,
}
DIRECTORY_TARGETS = frozenset({"container"})


@dataclass(frozen=True)
class Artifact:
    target: str
    #: The zip, or for ``container`` the build context directory.
    path: Path
    files: int
    unzipped: int
    #: None for a directory.
    zipped: int | None
    seconds: float
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: where it is, its size zipped and unzipped, and how long it took."""
        size = f"{_mb(self.unzipped)} unzipped, {self.files} files"
        if self.zipped is not None:
            size = f"{_mb(self.zipped)} zipped, {size}"
        return f"{display_path(self.path)}: {size}, built in {self.seconds:.1f} s"


def _mb(size: int) -> str:
    return f"{size / aws.MB:.1f} MB" if size >= aws.MB // 10 else f"{size / 1024:.1f} KB"


def artifact_path(project: Project, target: str) -> Path:
    """Where ``build`` writes the artifact; generated infrastructure points here."""
    directory = project.root / "dist" / target
    return directory if target in DIRECTORY_TARGETS else directory / f"{project.name}.zip"


def build(project: Project, target: str, log: Log = lambda line: None) -> Artifact:
    """Write the ``target`` artifact of ``project``; ``log`` receives progress lines."""
    if target not in TARGETS:
        raise FaasportError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    if not project.functions:
        problem = "no functions to package; add a [functions.NAME] table"
        raise config_error(project, ("functions",), problem)
    started = time.perf_counter()
    bundle = TARGETS[target](project, log)
    for name in bundle.generated:
        if name in bundle.files:
            raise FaasportError(
                f"{display_path(project.root / name)}: the project's own {name} would be "
                f"replaced by the {name} faasport generates for {target}; rename it or move it "
                "into a package"
            )
    files = {**bundle.files, **bundle.generated}
    path = artifact_path(project, target)
    unzipped = unzipped_size(files)
    if target in DIRECTORY_TARGETS:
        write_directory(path, files)
        zipped = None
    else:
        zipped = write_zip(path, files)
    warnings = list(bundle.warnings)
    if target == "aws":
        assert zipped is not None
        warning = aws.limit_warning(zipped, unzipped)
        if warning:
            warnings.append(f"{display_path(path)}: {warning}")
    seconds = time.perf_counter() - started
    return Artifact(target, path, len(files), unzipped, zipped, seconds, tuple(warnings))
