"""Deployable artifacts from a project's configuration: ``faasport package``.

``build(project, "aws")`` writes ``dist/aws/<name>.zip``; ``"gcp"`` and ``"azure"`` write
``dist/<target>/<name>.zip`` source bundles; ``"container"`` writes the build context
``dist/container/``. The same project gives byte-identical zips.
``build_directory(project, directory)`` writes the same files unzipped.
"""

from faasport.deploy.package.build import (
    DIRECTORY_TARGETS,
    TARGETS,
    Artifact,
    artifact_path,
    build,
    build_directory,
)

__all__ = ["DIRECTORY_TARGETS", "TARGETS", "Artifact", "artifact_path", "build", "build_directory"]
