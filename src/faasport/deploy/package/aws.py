"""AWS Lambda: one zip for every function, ``faasport_handler.py`` at its root, the
dependencies installed by pip for Lambda's platform next to it."""

from __future__ import annotations

from faasport.config.model import Project
from faasport.deploy.aws.model import EXEC_WRAPPER
from faasport.deploy.package import bytecode
from faasport.deploy.package.archive import Content
from faasport.deploy.package.bundle import Bundle
from faasport.deploy.package.dependencies import (
    Log,
    install,
    installed_files,
    platform_tag,
    read_requirements,
)
from faasport.deploy.package.policies import entry_policies
from faasport.deploy.package.sources import code_files
from faasport.deploy.package.strip import strip
from faasport.local.entry import MODULE, entry_source

#: ``AWS_LAMBDA_EXEC_WRAPPER`` of streaming functions: Lambda runs it with the managed
#: runtime's own command as arguments; it starts faasport's runtime client instead, which
#: streams responses (the managed Python runtime's client cannot).
BOOTSTRAP = b"""#!/bin/sh
cd "${LAMBDA_TASK_ROOT:-/var/task}"
exec "$(command -v python3 || echo /var/lang/bin/python3)" -m faasport.aws.runtime_client
"""
MB = 1024 * 1024
#: Lambda's limits on a .zip deployment package.
ZIPPED_LIMIT = 50 * MB
UNZIPPED_LIMIT = 250 * MB


def bundle(project: Project, log: Log) -> Bundle:
    platform_tag(project)  # every function must agree, with or without dependencies
    site = install(project, read_requirements(project), log)
    files: dict[str, Content] = dict(installed_files(site)) if site else {}
    if project.strip:
        files, saved = strip(files)
        log(f"strip: {saved / MB:.1f} MB of dependency tests, docs and stubs left out")
    files.update(code_files(project))
    policies = entry_policies(project, "aws")
    files.update(policies.files)
    source = entry_source(project, policies.imports, policies.setup, policies.arguments)
    generated = {f"{MODULE}.py": source.encode()}
    if any(function.stream for function in project.functions.values()):
        generated[EXEC_WRAPPER] = BOOTSTRAP
    warnings = []
    interpreter = bytecode.find_interpreter(project.python)
    if interpreter is None:
        warnings.append(
            f"no Python {project.python} ({project.python_origin}) on this machine: "
            "the zip ships sources only, compiled at every cold start; install "
            f"python{project.python} for precompiled bytecode"
        )
    else:
        log(f"bytecode: compiling with {interpreter}")
        compiled = bytecode.compile_sources({**files, **generated}, interpreter)
        files.update(compiled.files)
    return Bundle(files, generated, warnings)


def limit_warning(zipped: int, unzipped: int) -> str | None:
    """One line when the zip is over what Lambda accepts, None when it is within."""
    problems = []
    if zipped > ZIPPED_LIMIT:
        problems.append(
            f"{zipped / MB:.1f} MB zipped is over Lambda's 50 MB for a direct upload "
            "(upload it to S3 first)"
        )
    if unzipped > UNZIPPED_LIMIT:
        problems.append(
            f"{unzipped / MB:.1f} MB unzipped is over Lambda's 250 MB limit "
            "(use --target container, or fewer dependencies)"
        )
    return "; ".join(problems) or None
