"""Run as a script by ``faasport coldstart`` in a fresh interpreter: import a function's
entry the way an execution environment does, answer one request, and write what happened
(times, modules, and in the analysis run what the request called) to a JSON file.

Arguments: OUTPUT HANDLER EVENT_JSON HEALTH_EVENT_JSON ANALYSE TARGET_MODULE [CODE_DIR];
CODE_DIR, an unpacked artifact, goes first on ``sys.path`` (Lambda's ``/var/task``).
Standard library only, so that it adds nothing to the import profile.
"""

import json
import os
import sys
import time

started = time.monotonic()
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # this script's directory is not the function's


class Context:
    aws_request_id = "coldstart-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "coldstart")
    function_version = "$LATEST"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 30000


def _import_module(name: str, package: str | None = None) -> object:
    """``importlib.import_module`` through the ``import`` statement's machinery, the only
    path ``-X importtime`` reports: without it, modules loaded by name (the entry, the
    app) would be missing from the import tree. Same result for absolute names."""
    if name.startswith("."):
        return _original_import_module(name, package)
    __import__(name)
    return sys.modules[name]


import importlib  # noqa: E402

_original_import_module = importlib.import_module
importlib.import_module = _import_module  # type: ignore[assignment]


#: The line the probe writes once the handler imported: a failure after it is the
#: first invocation's, not the start's (coldstart.INITIALISED; the probe imports nothing of
#: faasport's).
INITIALISED = "faasport-probe: initialised"


def main() -> None:
    output, handler_spec, event_json, health_json, analyse, target_module = sys.argv[1:7]
    if len(sys.argv) > 7:
        sys.path.insert(0, sys.argv[7])
    module_name, _, attr = handler_spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attr)
    init_done = time.monotonic()
    print(INITIALISED, file=sys.stderr, flush=True)
    after_init = set(sys.modules)
    result: dict[str, object] = {
        "started": started,
        "init_done": init_done,
        "sys_path": list(sys.path),
        "isolated": bool(sys.flags.isolated),
        "no_site": bool(sys.flags.no_site),
        "dont_write_bytecode": bool(sys.dont_write_bytecode),
    }
    if len(sys.argv) > 7:
        result["code_read_only"] = not os.stat(sys.argv[7]).st_mode & 0o222
    if analyse == "1" and health_json != "null":
        handler(json.loads(health_json), Context())
        result["health_imported_app"] = target_module in sys.modules
    called: set[str] = set()
    depth = [0]

    def profile(frame, event, arg):  # type: ignore[no-untyped-def]
        # Functions run by the request itself, not module bodies run by an import.
        code = frame.f_code
        if code.co_name == "<module>":
            depth[0] += 1 if event == "call" else -1 if event == "return" else 0
        elif event == "call" and depth[0] == 0:
            called.add(code.co_filename)

    event = json.loads(event_json)
    if analyse == "1":
        import threading

        threading.setprofile(profile)
        sys.setprofile(profile)
    before = time.monotonic()
    handler(event, Context())
    after = time.monotonic()
    sys.setprofile(None)
    result["request_ms"] = (after - before) * 1000
    result["init_modules"] = sorted(after_init)
    result["request_modules"] = sorted(set(sys.modules) - after_init)
    if analyse == "1":
        files = {}
        missing_pyc = []
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not path:
                continue
            files[path] = name
            cached = getattr(module, "__cached__", None)
            if path.endswith(".py") and cached and not os.path.exists(cached):
                missing_pyc.append(path)
        result["called_modules"] = sorted({files[f] for f in called if f in files})
        if len(sys.argv) > 7:
            code = os.path.join(sys.argv[7], "")
            result["code_modules"] = sorted(n for f, n in files.items() if f.startswith(code))
        result["missing_pyc"] = sorted(missing_pyc)
    with open(output, "w") as out:
        json.dump(result, out)


main()
