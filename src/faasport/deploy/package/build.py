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
from faasport.deploy.package.report import human, size_report

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
    #: Per function, its own code and what it shares; then the heaviest packages.
    sizes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: where it is, its size zipped and unzipped, and how long it took."""
        size = f"{human(self.unzipped)} unzipped, {self.files} files"
        if self.zipped is not None:
            size = f"{human(self.zipped)} zipped, {size}"
        return f"{display_path(self.path)}: {size}, built in {self.seconds:.1f} s"


def artifact_path(project: Project, target: str) -> Path:
    """Where ``build`` writes the artifact; generated infrastructure points here."""
    directory = project.root / "dist" / target
    return directory if target in DIRECTORY_TARGETS else directory / f"{project.name}.zip"


def build_directory(
    project: Project, directory: Path, target: str = "aws", log: Log = lambda line: None
) -> Path:
    """The ``target`` artifact's files written unzipped into ``directory`` (replaced): the
    tree the cloud runs, as after unpacking the zip."""
    bundle = _bundle(project, target, log)
    for warning in bundle.warnings:
        log(f"warning: {warning}")
    write_directory(directory, {**bundle.files, **bundle.generated})
    return directory


def _bundle(project: Project, target: str, log: Log) -> Bundle:
    if target not in TARGETS:
        raise FaasportError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    if not project.functions:
        problem = "no functions to package; add a [functions.NAME] table"
        raise config_error(project, ("functions",), problem)
    bundle = TARGETS[target](project, log)
    for name in bundle.generated:
        if name in bundle.files:
            raise FaasportError(
                f"{display_path(project.root / name)}: the project's own {name} would be "
                f"replaced by the {name} faasport generates for {target}; rename it or move it "
                "into a package"
            )
    return bundle


def build(project: Project, target: str, log: Log = lambda line: None) -> Artifact:
    """Write the ``target`` artifact of ``project``; ``log`` receives progress lines."""
    started = time.perf_counter()
    bundle = _bundle(project, target, log)
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
    sizes = size_report(project, files)
    return Artifact(target, path, len(files), unzipped, zipped, seconds, tuple(warnings), sizes)
