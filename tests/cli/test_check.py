"""``faasport check`` over the real command: one line per problem, exit 1 on any error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

APP = """\
from flask import Flask

app = Flask(__name__)


def handle(event, context):
    return {"ok": True}
"""
CONFIG = """\
name = "shop"
python = "{python}"

[functions.web]
app = "shop.main:app"

[functions.worker]
handler = "shop.main:handle"
"""
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "main.py").write_text(APP)
    (tmp_path / "faasport.toml").write_text(CONFIG.format(python=RUNNING))
    (tmp_path / "requirements.txt").write_text("flask>=2\n")
    return tmp_path


def check(root: Path, *args: str) -> tuple[int, str, list[str]]:
    """``faasport check`` run in ``root`` (the default DIR), with ``args``."""
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "check", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr + done.stdout
    return done.returncode, done.stdout, done.stderr.splitlines()


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_sound_project_is_ok(project: Path) -> None:
    code, out, err = check(project)
    assert (code, err) == (0, [])
    assert out.strip().endswith("web (wsgi), worker (handler)")


def test_a_wrong_attribute(project: Path) -> None:
    replace(project / "faasport.toml", "shop.main:app", "shop.main:ap")
    assert check(project)[::2] == (
        1,
        [
            'error: functions.web: cannot import "shop.main:ap": '
            "module 'shop.main' has no attribute 'ap'"
        ],
    )


def test_a_wrong_module(project: Path) -> None:
    replace(project / "faasport.toml", '"shop.main:handle"', '"shop.jobs:handle"')
    code, _, err = check(project)
    assert code == 1
    assert err == [
        'error: functions.worker: cannot import "shop.jobs:handle": could not import module '
        "'shop.jobs' for app 'shop.jobs:handle': check the spelling and that the project root "
        "is on sys.path"
    ]


def test_a_module_raising_at_import_is_one_line_with_type_and_message(project: Path) -> None:
    with (project / "shop" / "main.py").open("a") as file:
        file.write('\nraise KeyError("DATABASE_URL")\n')
    code, _, err = check(project)
    assert code == 1
    # Both functions live in the module: each is reported, each in one line.
    assert err == [
        f"error: functions.{name}: cannot import \"shop.main:{attr}\": KeyError: 'DATABASE_URL'"
        for name, attr in (("web", "app"), ("worker", "handle"))
    ]


def test_the_function_environment_is_set_while_importing(project: Path) -> None:
    with (project / "shop" / "main.py").open("a") as file:
        file.write('\nimport os\nURL = os.environ["DATABASE_URL"]\n')
    assert check(project)[0] == 1
    for target in ('app = "shop.main:app"', 'handler = "shop.main:handle"'):
        replace(
            project / "faasport.toml", target, f'{target}\nenvironment = {{ DATABASE_URL = "x" }}'
        )
    assert check(project)[::2] == (0, [])


def test_an_app_that_is_a_handler_and_the_reverse(project: Path) -> None:
    replace(project / "faasport.toml", '"shop.main:app"', '"shop.main:handle"')
    replace(project / "faasport.toml", 'handler = "shop.main:handle"', 'handler = "shop.main:app"')
    code, _, err = check(project)
    assert code == 1
    assert err == [
        'error: functions.web.app: "shop.main:handle" is a handler(event, context), not an '
        "ASGI or WSGI app; set handler instead of app",
        'error: functions.worker.handler: "shop.main:app" is a WSGI app, not a '
        "handler(event, context); set app instead of handler",
    ]


def test_the_event_handler_of_an_http_function_is_imported_too(project: Path) -> None:
    web = '[functions.web]\napp = "shop.main:app"\n'
    replace(project / "faasport.toml", web, web + 'handler = "shop.main:handle"\n')
    code, out, err = check(project)
    assert (code, err) == (0, [])
    assert out.strip().endswith("web (wsgi), worker (handler)")
    replace(
        project / "faasport.toml",
        'handler = "shop.main:handle"\n\n',
        'handler = "shop.main:handel"\n\n',
    )
    assert check(project)[::2] == (
        1,
        [
            'error: functions.web.handler: cannot import "shop.main:handel": '
            "module 'shop.main' has no attribute 'handel'"
        ],
    )
    replace(project / "faasport.toml", '"shop.main:handel"', '"shop.main:app"')
    assert check(project)[2] == [
        'error: functions.web.handler: "shop.main:app" is a WSGI app, not a '
        "handler(event, context); it receives the events of the HTTP function"
    ]


def test_missing_and_mismatched_dependencies_are_named(project: Path) -> None:
    (project / "requirements.txt").write_text(
        "flask<1\nno-such-distribution-here==1.0\nhttpx ; python_version < '3'\n"
    )
    code, _, err = check(project)
    assert code == 1
    flask = __import__("importlib.metadata").metadata.version("flask")
    assert err == [
        f"error: requirements.txt: flask {flask} is installed but flask<1 is required",
        "error: requirements.txt: no-such-distribution-here is not installed; "
        "pip install 'no-such-distribution-here==1.0'",
    ]


def test_a_line_that_is_no_requirement_is_named_and_pip_options_pass(project: Path) -> None:
    (project / "requirements.txt").write_text(
        "--index-url https://example.invalid/simple\n./vendor/pkg\nflask>=2\nthis is not valid !!\n"
    )
    code, _, err = check(project)
    assert code == 1
    (line,) = err
    assert line.startswith("error: requirements.txt: 'this is not valid !!' is not a requirement: ")


def test_the_files_the_functions_read_are_checked(project: Path) -> None:
    """A secrets file every invocation would fail on; a key set missing, so every request
    to the routes behind it would be a 401."""
    (project / "secrets.local.toml").write_text('"bad = \n')
    config = project / "faasport.toml"
    config.write_text(
        config.read_text()
        + '\n[auth.users]\nissuer = "https://issuer.example.com/"\njwks = "keys/jwks.json"\n'
    )
    code, _, err = check(project)
    assert code == 1
    assert err[0] == (
        "warning: faasport.toml: auth.users.jwks: keys/jwks.json is not a file yet: every "
        "request to its routes is a 401, and packaging stops"
    )
    assert err[1].startswith("error: ") and "secrets.local.toml: invalid TOML" in err[1]


def test_what_the_app_imports_must_be_listed(project: Path) -> None:
    """A distribution the project's own code imports reaches the artifact only through the
    requirements (or what they require); what libraries merely try to import does not count,
    nor boto3, which Lambda's runtime has."""
    main = project / "shop" / "main.py"
    main.write_text("import boto3\nimport werkzeug.routing\nimport httpx\n" + APP)
    code, out, err = check(project)
    assert code == 0 and out.startswith("ok: ")  # werkzeug comes with flask
    assert err == [
        "warning: functions.web: imports httpx (httpx), which requirements.txt does not list "
        "(nor what it lists requires): the deployed function would not have it",
        "warning: functions.worker: imports httpx (httpx), which requirements.txt does not "
        "list (nor what it lists requires): the deployed function would not have it",
    ]
    (project / "requirements.txt").unlink()
    _, _, err = check(project)
    assert err[0].startswith(
        "warning: functions.web: imports flask (Flask), httpx (httpx), werkzeug (Werkzeug), "
        "but the project lists no requirements (requirements.txt)"
    )


def test_another_python_is_a_warning_not_an_error(project: Path) -> None:
    other = "3.13" if RUNNING != "3.13" else "3.12"
    replace(project / "faasport.toml", f'python = "{RUNNING}"', f'python = "{other}"')
    code, out, err = check(project)
    assert code == 0 and out.startswith("ok: ")
    assert err == [
        f'warning: faasport.toml: python = "{other}" but faasport runs Python {RUNNING} '
        f"({sys.executable}); local runs may differ from the deployed function"
    ]


def test_without_a_python_key_the_default_is_compared(project: Path) -> None:
    """Functions deploy on the default Python: a machine running another one hears so."""
    replace(project / "faasport.toml", f'python = "{RUNNING}"\n', "")
    code, out, err = check(project)
    assert code == 0 and out.startswith("ok: ")
    if RUNNING == "3.12":  # the default itself
        assert err == []
    else:
        assert err == [
            f"warning: faasport.toml: no python, so functions deploy on Python 3.12 (the "
            f"default) but faasport runs Python {RUNNING} ({sys.executable}); set python = "
            f'"{RUNNING}" to deploy what runs here'
        ]


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            'handler = "shop.main:handle"',
            'hanlder = "shop.main:handle"',
            'functions.worker.hanlder: unknown key; did you mean "handler"?',
        ),
        (
            'app = "shop.main:app"',
            'ap = "shop.main:app"',
            'functions.web.ap: unknown key; did you mean "app"?',
        ),
        (
            'handler = "shop.main:handle"',
            'handler = "shop.main:handle"\nevents = [{ scedule = "rate(5 minutes)" }]',
            'functions.worker.events[0].scedule: unknown key; did you mean "schedule"?',
        ),
        (
            'handler = "shop.main:handle"',
            'handler = "shop.main:handle"\nmemroy = 256',
            'functions.worker.memroy: unknown key; did you mean "memory"?',
        ),
        (
            'name = "shop"',
            'name = "shop"\n[auth.users]\nisuer = "https://id.example.com"',
            'auth.users.isuer: unknown key; did you mean "issuer"?',
        ),
    ],
)
def test_a_misspelled_key_gets_did_you_mean(project: Path, old: str, new: str, line: str) -> None:
    replace(project / "faasport.toml", old, new)
    assert check(project)[::2] == (1, [f"error: faasport.toml: {line}"])


def test_a_missing_project(tmp_path: Path) -> None:
    assert check(tmp_path, "nowhere")[::2] == (1, ["error: nowhere: no such project directory"])


def test_in_pyproject_the_keys_are_named_with_their_table(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handle(event, context):\n    return 1\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "1"\ndependencies = []\n\n[tool.faasport]\n'
        'python = "3.99"\n[tool.faasport.functions.job]\nhandler = "app:handl"\n'
    )
    code, _, err = check(tmp_path)
    assert code == 1
    assert err == [
        'warning: pyproject.toml: tool.faasport.python = "3.99" but faasport runs Python '
        f"{RUNNING} ({sys.executable}); local runs may differ from the deployed function",
        'error: tool.faasport.functions.job: cannot import "app:handl": '
        "module 'app' has no attribute 'handl'",
    ]
