"""What the emulator needs to know about one function, and its own timings."""

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
    #: Invocations one environment takes at once (AWS_LAMBDA_MAX_CONCURRENCY in it).
    max_concurrency: int = 1
    environment: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    runtime_client: RuntimeClientKind = "faasport"
    #: Directories put on the environment's PYTHONPATH after the task root.
    extra_path: tuple[Path, ...] = ()
    #: The name Lambda knows it by (``phoney-api``); defaults to ``name``.
    lambda_name: str = ""
    #: The secrets it declares (``secrets = [...]``): the only ones its environments get.
    secrets: tuple[str, ...] = ()
    #: Where a failed asynchronous invocation goes after its retries (a function's name).
    on_failure: str | None = None
    #: The alias its deployment publishes (``live``), which the Invoke API takes as a
    #: qualifier as well as ``$LATEST``.
    alias: str | None = None

    @property
    def function_name(self) -> str:
        return self.lambda_name or self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    """Timings of the emulator itself (not of any one function)."""

    #: Seconds an environment may stay idle before it is stopped (scale to zero).
    idle_timeout: float = 300.0
    #: How often busy environments' resident memory is compared with their limit.
    memory_check_seconds: float = 0.02
    #: What Lambda gives a runtime with an internal extension between SIGTERM and SIGKILL.
    shutdown_grace: float = 0.5
    #: Waits before the retries of a failed asynchronous invocation (Lambda: two retries,
    #: about a minute then two apart; shorter locally).
    retry_delays: tuple[float, ...] = (1.0, 2.0)
    #: Where queued asynchronous invocations are kept across restarts (None: in memory).
    state_dir: Path | None = None
