"""What the local runtime needs to know about one function."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

RuntimeClientKind = Literal["faasport", "awslambdaric"]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    #: Lambda's ``_HANDLER``: ``module.attr`` importable from ``task_root`` or ``extra_path``.
    handler: str
    task_root: Path
    memory: int = 512
    timeout: float = 30.0
    concurrency: int = 10
    warm: int = 0
    environment: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    runtime_client: RuntimeClientKind = "faasport"
    #: Directories put on the environment's PYTHONPATH after the task root.
    extra_path: tuple[Path, ...] = ()
    #: Seconds an environment may stay idle before it is stopped (scale to zero).
    idle_timeout: float = 300.0
    #: The name Lambda knows it by (``phoney-api``); defaults to ``name``.
    lambda_name: str = ""

    @property
    def function_name(self) -> str:
        return self.lambda_name or self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
