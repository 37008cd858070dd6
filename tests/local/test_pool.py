"""The local runtime reproduces Lambda's execution environments: child processes speaking
the Runtime API, reused warm, started cold, capped, timed out, memory-limited, replaced."""

from __future__ import annotations

import concurrent.futures
import json
import os
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from faasport.local.emulator import Emulator
from faasport.local.outcome import Outcome, Status
from faasport.local.spec import EmulatorSettings, FunctionSpec

FUNCTION = textwrap.dedent(
    """
    import os, time
    INIT_PID = os.getpid()
    INITS = 0
    INITS += 1
    CALLS = 0

    def handle(event, context):
        global CALLS
        CALLS += 1
        action = event.get("action")
        if action == "sleep":
            time.sleep(event["seconds"])
        elif action == "exit":
            os._exit(3)
        elif action == "allocate_then_exit":
            blob = bytearray(event["mb"] * 1024 * 1024)
            for i in range(0, len(blob), 4096):
                blob[i] = 1
            time.sleep(0.3)  # long enough for the memory watcher to see it
            os._exit(3)
        elif action == "allocate":
            blob = bytearray(event["mb"] * 1024 * 1024)
            for i in range(0, len(blob), 4096):
                blob[i] = 1
            time.sleep(1)
        elif action == "raise":
            raise ValueError("bad input: " + event.get("detail", ""))
        elif action == "big":
            return "x" * (7 * 1024 * 1024)
        elif action == "print":
            for i in range(event["lines"]):
                print(f"line {i} " + "." * event.get("width", 0))
        return {
            "pid": os.getpid(),
            "inits": INITS,
            "calls": CALLS,
            "remaining": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id,
            "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
            "tz": os.environ["TZ"],
            "api": os.environ["AWS_LAMBDA_RUNTIME_API"],
        }
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "fn.py").write_text(FUNCTION)
    return tmp_path


@pytest.fixture
def make_runtime(project: Path) -> Iterator[Callable[..., Emulator]]:
    runtimes: list[Emulator] = []
    lines: list[str] = []

    def make(**options: Any) -> Emulator:
        settings = EmulatorSettings(
            idle_timeout=options.pop("idle_timeout", 300.0),
            retry_delays=options.pop("retry_delays", (1.0, 2.0)),
        )
        spec = FunctionSpec(
            name=options.pop("name", "fn"),
            handler=options.pop("handler", "fn.handle"),
            task_root=project,
            **options,
        )
        runtime = Emulator([spec], log=lines.append, settings=settings)
        runtime.lines = lines  # type: ignore[attr-defined]
        runtime.start()
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.stop()


def call(runtime: Emulator, **event: Any) -> Outcome:
    return runtime.invoke("fn", json.dumps(event).encode())


def body(outcome: Outcome) -> Any:
    assert outcome.status is Status.OK, outcome.payload
    return json.loads(outcome.payload)


def pids(runtime: Emulator) -> set[int]:
    return {env.pid for env in runtime.pools["fn"].environments}


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def test_warm_reuse_runs_init_once(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime()
    first = call(runtime)
    assert first.init_ms is not None and first.init_ms > 0
    results = [body(call(runtime)) for _ in range(50)]
    assert {r["pid"] for r in results} == {body(first)["pid"]}
    assert {r["inits"] for r in results} == {1}
    assert results[-1]["calls"] == 51
    info = results[0]
    assert info["function"] == "fn" and info["memory"] == "512" and info["tz"] == ":UTC"
    assert 29_000 < info["remaining"] <= 30_000


def test_report_lines(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime(memory=256)
    outcome = call(runtime)
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    rid = outcome.request_id
    assert f"START RequestId: {rid} Version: $LATEST" in lines
    assert f"END RequestId: {rid}" in lines
    report = next(line for line in lines if line.startswith(f"REPORT RequestId: {rid}"))
    assert "\tBilled Duration: " in report and "\tMemory Size: 256 MB" in report
    assert "\tInit Duration: " in report
    assert 5 < outcome.max_memory_mb < 256
    warm = call(runtime)
    assert "Init Duration" not in warm.report()


def test_cold_start_when_every_environment_is_busy(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime(concurrency=3)
    body(call(runtime))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(call, runtime, action="sleep", seconds=0.5)
        wait_until(lambda: not runtime.pools["fn"].idle)
        fast = call(runtime)
        assert fast.init_ms is not None  # a second environment had to start
        assert slow.result().status is Status.OK
    assert len(pids(runtime)) == 2


def test_concurrency_cap_under_20_parallel_requests(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime(concurrency=3)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: call(runtime, action="sleep", seconds=0.3), range(20)))
    statuses = [o.status for o in outcomes]
    assert statuses.count(Status.OK) >= 3
    assert statuses.count(Status.OK) + statuses.count(Status.THROTTLED) == 20
    assert Status.THROTTLED in statuses
    assert len(pids(runtime)) <= 3
    throttled = next(o for o in outcomes if o.status is Status.THROTTLED)
    assert json.loads(throttled.payload)["errorType"] == "TooManyRequestsException"


def test_async_invocations_wait_for_a_free_environment(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime(concurrency=1)
    for _ in range(5):
        runtime.invoke_later("fn", json.dumps({"action": "sleep", "seconds": 0.05}).encode())
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    wait_until(lambda: sum(line.startswith("REPORT") for line in lines) == 5)
    assert len(pids(runtime)) == 1


def test_warm_environments_are_started_ahead_and_kept(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime(warm=2, idle_timeout=0.2)
    pool = runtime.pools["fn"]
    assert len(pool.idle) == 2 and all(env.alive for env in pool.idle)
    before = pids(runtime)
    first = call(runtime)
    assert first.init_ms is None  # served by a warm environment: no cold start
    time.sleep(0.4)  # past the idle timeout: warm environments must stay
    assert pids(runtime) == before


def test_idle_environments_scale_to_zero(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime(idle_timeout=0.2)
    pid = body(call(runtime))["pid"]
    wait_until(lambda: not runtime.pools["fn"].environments)
    wait_until(lambda: not Path(f"/proc/{pid}").exists())
    assert call(runtime).init_ms is not None


def test_the_idle_timeout_counts_from_the_last_use(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime(idle_timeout=0.6)
    pid = body(call(runtime))["pid"]
    time.sleep(0.4)
    assert body(call(runtime))["pid"] == pid
    time.sleep(0.4)  # past the first use's timeout, within the second's
    assert body(call(runtime))["pid"] == pid
    wait_until(lambda: not runtime.pools["fn"].environments)
    assert call(runtime).init_ms is not None


def test_timeout_kills_and_replaces_the_environment(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime(timeout=0.5)
    old = body(call(runtime))["pid"]
    outcome = call(runtime, action="sleep", seconds=5)
    assert outcome.status is Status.TIMEOUT
    assert "Task timed out after 0.50 seconds" in json.loads(outcome.payload)["errorMessage"]
    fresh = body(call(runtime))
    assert fresh["pid"] != old


def test_memory_limit_kills_the_environment(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime(memory=128)
    outcome = call(runtime, action="allocate", mb=400)
    assert outcome.status is Status.CRASH
    error = json.loads(outcome.payload)
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert "memory limit of 128 MB" in error["errorMessage"]
    assert body(call(runtime))["calls"] == 1  # a fresh environment


def test_crash_is_reported_and_the_next_request_succeeds(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime()
    outcome = call(runtime, action="exit")
    assert outcome.status is Status.CRASH
    assert "Runtime exited with error: exit status 3" in json.loads(outcome.payload)["errorMessage"]
    assert body(call(runtime))["inits"] == 1


def test_report_after_a_crash_gives_the_last_measured_memory(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime(memory=1024)
    outcome = call(runtime, action="allocate_then_exit", mb=100)
    assert outcome.status is Status.CRASH
    assert 100 <= outcome.max_memory_mb < 200
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    report = next(
        line for line in lines if line.startswith(f"REPORT RequestId: {outcome.request_id}")
    )
    assert f"Max Memory Used: {outcome.max_memory_mb} MB" in report


def test_handler_exception_is_a_function_error(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime()
    outcome = call(runtime, action="raise", detail="xyz")
    assert outcome.status is Status.FUNCTION_ERROR
    error = json.loads(outcome.payload)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: xyz"
    assert isinstance(error["stackTrace"], list)
    assert body(call(runtime))["calls"] == 2  # same environment, still healthy


def test_response_over_6_mb_is_an_error(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime()
    outcome = call(runtime, action="big")
    assert outcome.status is Status.TOO_LARGE
    assert json.loads(outcome.payload)["errorType"] == "Function.ResponseSizeTooLarge"


def test_init_error_is_reported(make_runtime: Callable[..., Emulator], project: Path) -> None:
    (project / "broken.py").write_text("raise ImportError('missing dependency')\n")
    runtime = make_runtime(handler="broken.handle")
    outcome = call(runtime)
    assert outcome.status is Status.CRASH
    assert "missing dependency" in json.loads(outcome.payload)["errorMessage"]


def test_failed_init_lets_queued_async_invocations_go_on(
    make_runtime: Callable[..., Emulator], project: Path
) -> None:
    # Only one environment may exist: the invocations queued behind a start that fails must
    # each get their turn (and fail the same way), not wait for an unrelated request.
    (project / "broken.py").write_text("raise ImportError('missing dependency')\n")
    runtime = make_runtime(handler="broken.handle", concurrency=1, retry_delays=())
    for _ in range(3):
        runtime.invoke_later("fn", b"{}")
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    wait_until(
        lambda: sum("asynchronous invocation" in line and "failed" in line for line in lines) == 3
    )
    failures = [line for line in lines if "failed (attempt 1 of 1)" in line]
    assert len(failures) == 3
    assert all("missing dependency" in line for line in failures)


def test_reload_moves_new_invocations_to_fresh_environments(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime()
    old = body(call(runtime))["pid"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(call, runtime, action="sleep", seconds=0.3)
        wait_until(lambda: not runtime.pools["fn"].idle)
        runtime.reload()
        assert in_flight.result().status is Status.OK  # finished on the old environment
    assert body(call(runtime))["pid"] != old


def test_stop_leaves_no_child_processes(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime(warm=3)
    children = pids(runtime)
    assert len(children) == 3
    runtime.stop()
    for pid in children:
        wait_until(lambda pid=pid: not _running(pid))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize("width", [0, 3000])
def test_printed_lines_come_before_end_in_the_log_and_the_tail(
    make_runtime: Callable[..., Emulator], width: int
) -> None:
    # 40 lines of 3 KB: more than a pipe holds, so most are read while the function runs
    # and the rest are still in the pipe when its response arrives.
    runtime = make_runtime()
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    event = json.dumps({"action": "print", "lines": 40, "width": width}).encode()
    for _ in range(20):
        outcome = runtime.call(runtime.invoke_async("fn", event, tail=True))
        assert outcome.status is Status.OK
        end = lines.index(f"END RequestId: {outcome.request_id}")
        printed = [line for line in lines[:end] if line.startswith("[fn] line ")]
        assert printed[-40:] == [f"[fn] line {i} " + "." * width for i in range(40)]
        assert outcome.log is not None
        tail = outcome.log.splitlines()
        assert tail[1:41] == [f"line {i} " + "." * width for i in range(40)]
        assert tail[41] == f"END RequestId: {outcome.request_id}"


def test_awslambdaric_runs_a_function(make_runtime: Callable[..., Emulator]) -> None:
    pytest.importorskip("awslambdaric")
    runtime = make_runtime(runtime_client="awslambdaric")
    result = body(call(runtime))
    assert result["inits"] == 1
    error = call(runtime, action="raise", detail="ric")
    assert error.status is Status.FUNCTION_ERROR
    assert json.loads(error.payload)["errorMessage"] == "bad input: ric"
    assert body(call(runtime))["calls"] == 3


def test_an_init_error_carries_the_request_id_and_is_in_the_log_tail(
    project: Path, make_runtime: Callable[..., Emulator]
) -> None:
    (project / "broken.py").write_text("import no_such_dependency\n")
    runtime = make_runtime(handler="broken.handle")
    outcome = runtime.call(runtime.invoke_async("fn", b"{}", tail=True))
    assert outcome.status is Status.CRASH
    message = "Unable to import module 'broken': No module named 'no_such_dependency'"
    assert json.loads(outcome.payload) == {
        "errorMessage": message,
        "errorType": "Runtime.ImportModuleError",
        "requestId": outcome.request_id,
        "stackTrace": [],
    }
    assert outcome.log is not None
    assert outcome.log.splitlines()[:2] == [
        f"START RequestId: {outcome.request_id} Version: $LATEST",
        f"[ERROR] Runtime.ImportModuleError: {message}",
    ]
    # The environment's own line is logged once, not again by the pool.
    assert sum(message in line for line in runtime.lines) == 1  # type: ignore[attr-defined]


def test_an_unavailable_function_fails_at_once_without_an_environment(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime()
    runtime.set_unavailable({"fn": "Unable to import module 'fn': boom"})
    wait_until(lambda: runtime.pools["fn"].unavailable is not None)
    outcome = call(runtime)
    assert outcome.status is Status.CRASH
    assert json.loads(outcome.payload)["requestId"] == outcome.request_id
    assert not runtime.pools["fn"].environments
    runtime.set_unavailable({})
    wait_until(lambda: runtime.pools["fn"].unavailable is None)
    assert body(call(runtime))
