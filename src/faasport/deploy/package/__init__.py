"""Deployable artifacts from a project's configuration: ``faasport package``.

``build(project, "aws")`` writes ``dist/aws/<name>.zip``; ``"gcp"`` and ``"azure"`` write
``dist/<target>/<name>.zip`` source bundles; ``"container"`` writes the build context
``dist/container/``. The same project gives byte-identical zips.
"""

from faasport.deploy.package.build import TARGETS, Artifact, artifact_path, build

__all__ = ["TARGETS", "Artifact", "artifact_path", "build"]
