"""What a target puts in its artifact, before it is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from faasport.deploy.package.archive import Content


@dataclass
class Bundle:
    #: Dependencies, faasport's runtime and the project's code, by archive path.
    files: dict[str, Content]
    #: The entry modules and settings files faasport generates for the target.
    generated: dict[str, bytes]
    #: One line each: what the user should know about the artifact.
    warnings: list[str] = field(default_factory=list)
