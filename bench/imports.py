"""Import cost of faasport's entry points (AWS, Google Cloud, Azure) against Mangum and
apig-wsgi: the cold-start time a function pays before its first invocation.

Run it with ``.venv/bin/python bench/imports.py`` (``make bench`` runs the adapter benchmark,
bench/adapter.py); ``--quick`` is a smoke run of a few seconds.

For each module X it times fresh interpreters running ``python -c "import X"`` and
``python -c "pass"`` (wall time with ``time.perf_counter_ns``, round-robin so noise hits all
alike) and reports the median of X minus the median of ``pass``. Deployed functions ship
``.pyc`` files, so PYTHONDONTWRITEBYTECODE is removed from the children's environment and
every import runs once, untimed, to write the bytecode first.

A separate interpreter per module compares ``sys.modules`` before and after the import and
lists the modules outside ``sys.stdlib_module_names`` that it pulled in; "third-party" are
those outside the imported package itself. Finally ``-X importtime`` shows where
faasport.aws spends its import time (self time, one run).

Target: ``import faasport.aws`` <= 15 ms and no third-party module; ``faasport.gcp`` and
``faasport.azure`` must not import functions-framework or azure-functions either.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

MODULES = ("faasport.aws", "faasport.gcp", "faasport.azure", "mangum", "apig_wsgi")
TARGET_MS = 15.0

PROBE = """
import json, sys
before = set(sys.modules)
__import__({module!r})
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(code: str, env: dict[str, str]) -> float:
    """Wall milliseconds for a fresh interpreter to run ``code``."""
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return (time.perf_counter_ns() - start) / 1e6


def time_imports(runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    codes = {"pass": "pass", **{m: f"import {m}" for m in MODULES}}
    for code in codes.values():
        run(code, env)  # writes the .pyc files; not timed
    samples: dict[str, list[float]] = {name: [] for name in codes}
    names = list(codes)
    for r in range(runs):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(run(codes[name], env))
    return samples


def new_modules(module: str, env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    modules: list[str] = json.loads(out)
    return modules


def is_stdlib(name: str) -> bool:
    return name.partition(".")[0] in sys.stdlib_module_names


def importtime(module: str, added: set[str], env: dict[str, str], top: int) -> list[str]:
    """The ``top`` modules among ``added`` by self time in one ``-X importtime`` run."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    rows: list[tuple[int, int, str]] = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        if name.strip() in added:
            rows.append((int(self_us), int(cumulative_us), name.strip()))
    rows.sort(reverse=True)
    total = max((c for _, c, n in rows if n == module), default=0)
    lines = [f"total (cumulative of {module}): {total / 1000:.1f} ms"]
    lines += [f"{s / 1000:6.2f} ms self  {c / 1000:6.2f} ms cum  {n}" for s, c, n in rows[:top]]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, a few seconds")
    parser.add_argument("--runs", type=int, help="timed interpreter starts per module")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 21)
    env = child_env()

    print("# import time of the entry points\n")
    print(f"- machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cpus")
    print(f"- python: {platform.python_implementation()} {platform.python_version()}")
    print(f"- interpreter: {sys.executable}")
    print(
        f"- method: {runs} fresh interpreters per case, round-robin; median wall ms of "
        '`python -c "import X"` minus that of `python -c "pass"`; .pyc files written first\n'
    )
    samples = time_imports(runs, env)
    baseline = statistics.median(samples["pass"])
    print(
        "| import | ms (median - pass) | IQR of import X (ms) | modules added "
        "(non-stdlib) | third-party packages |"
    )
    print("|---|---:|---:|---:|---|")
    print(f"| `pass` | {baseline:.1f} (interpreter start) | | | |")
    results: dict[str, tuple[float, list[str], list[str]]] = {}
    stdlib: dict[str, list[str]] = {}
    added_by: dict[str, set[str]] = {}
    for module in MODULES:
        added = new_modules(module, env)
        added_by[module] = set(added)
        outside = [m for m in added if not is_stdlib(m)]
        stdlib[module] = sorted({m.partition(".")[0] for m in added if is_stdlib(m)})
        own = module.partition(".")[0]
        third = sorted({m.partition(".")[0] for m in outside} - {own})
        cost = statistics.median(samples[module]) - baseline
        q1, _, q3 = statistics.quantiles(samples[module], n=4)
        results[module] = (cost, outside, third)
        print(
            f"| `{module}` | {cost:.1f} | {q1:.1f}..{q3:.1f} | {len(added)} ({len(outside)}) "
            f"| {', '.join(third) or 'none'} |"
        )

    print("\n## non-stdlib modules each import pulls in\n")
    for module, (_, outside, _) in results.items():
        print(f"- `{module}`: {', '.join(outside) or 'none'}")
    print("\n## stdlib packages each import adds (top-level names)\n")
    for module, names in stdlib.items():
        print(f"- `{module}`: {', '.join(names) or 'none'}")

    cost, _, third = results["faasport.aws"]
    ok = cost <= TARGET_MS and not third
    print("\n## target\n")
    print(
        f"- `import faasport.aws` <= {TARGET_MS:g} ms and no third-party module: "
        f"{cost:.1f} ms, third-party: {', '.join(third) or 'none'} -> "
        f"{'PASS' if ok else 'FAIL'}"
    )

    print("\n## where `import faasport.aws` spends its time (-X importtime, one run)\n")
    print("```")
    print("\n".join(importtime("faasport.aws", added_by["faasport.aws"], env, 12)))
    print("```")


if __name__ == "__main__":
    main()
