"""Which project files go into an artifact, the ``exclude`` key, and the vendored runtime."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import faasport
from faasport.config import load_project
from faasport.core.errors import ConfigError, FaasportError
from faasport.deploy.package import build
from faasport.deploy.package.sources import project_files, runtime_files
from test_layers import RUNTIME

CONFIG = 'name = "site"\n[functions.api]\napp = "site_app.web:app"\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_root_modules_and_packages_go_in_with_their_data_files(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "faasport.toml": CONFIG,
            "settings.py": "DEBUG = False\n",
            "site_app/__init__.py": "",
            "site_app/web.py": "app = None\n",
            "site_app/static/logo.svg": "<svg/>",
            "lib/__init__.py": "",
            "docs/index.md": "# not a package\n",
            "scripts/run.py": "# a directory without __init__.py\n",
            "README.md": "# readme\n",
            "requirements.txt": "idna\n",
            "secrets.local.toml": '"app/key" = "a real credential"\n',
        },
    )
    assert sorted(project_files(load_project(root))) == [
        "lib/__init__.py",
        "settings.py",
        "site_app/__init__.py",
        "site_app/static/logo.svg",
        "site_app/web.py",
    ]


def test_a_namespace_package_named_by_a_function_goes_in(tmp_path: Path) -> None:
    root = write(tmp_path, {"faasport.toml": CONFIG, "site_app/web.py": "app = None\n"})
    assert list(project_files(load_project(root))) == ["site_app/web.py"]


def test_tests_caches_and_tool_directories_stay_out(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "faasport.toml": CONFIG,
            "site_app/__init__.py": "",
            "site_app/web.py": "app = None\n",
            "site_app/tests/test_web.py": "",
            "site_app/test/helpers.py": "",
            "site_app/web_test.py": "",
            "site_app/test_web.py": "",
            "site_app/conftest.py": "",
            "site_app/__pycache__/web.cpython-311.pyc": "",
            "site_app/.mypy_cache/x.json": "",
            "site_app/.ruff_cache/x": "",
            "site_app/old.pyc": "",
            # Secrets and local state, inside a package too.
            "site_app/.env": "DB_PASSWORD=x",
            "site_app/.env.production": "DB_PASSWORD=x",
            "site_app/secrets.local.toml": "",
            "site_app/.faasport/state.db": "",
            "site_app/keys/id_rsa": "",
            "site_app/keys/id_ed25519": "",
            "conftest.py": "",
            "test_smoke.py": "",
            "dist/__init__.py": "",
            "deploy/__init__.py": "",
            ".faasport/entry/faasport_handler.py": "",
            ".venv-3.12/__init__.py": "",
            "node_modules/__init__.py": "",
            ".git/__init__.py": "",
        },
    )
    assert sorted(project_files(load_project(root))) == ["site_app/__init__.py", "site_app/web.py"]


def test_the_exclude_key_leaves_out_what_it_matches(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "faasport.toml": 'exclude = ["*.md", "site_app/fixtures/", "tools.py"]\n' + CONFIG,
            "site_app/__init__.py": "",
            "site_app/web.py": "app = None\n",
            "site_app/NOTES.md": "",
            "site_app/fixtures/big.json": "{}",
            "site_app/more/fixtures/kept.json": "{}",
            "tools.py": "",
        },
    )
    project = load_project(root)
    assert project.exclude == ("*.md", "site_app/fixtures/", "tools.py")
    assert sorted(project_files(project)) == [
        "site_app/__init__.py",
        "site_app/more/fixtures/kept.json",
        "site_app/web.py",
    ]


def test_a_bad_exclude_value_is_one_line_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"faasport.toml": 'exclude = "*.md"\n' + CONFIG})
    with pytest.raises(ConfigError) as raised:
        load_project(tmp_path)
    assert str(raised.value) == (
        'faasport.toml: exclude: must be an array of glob patterns like "docs/*" or "*.md", '
        'got "*.md"'
    )


def test_a_module_that_is_missing_or_excluded_fails_naming_the_function_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"faasport.toml": 'exclude = ["site_app"]\n' + CONFIG})
    with pytest.raises(ConfigError) as raised:
        project_files(load_project(tmp_path))
    assert str(raised.value) == (
        "faasport.toml: functions.api.app: module 'site_app' is not in the project: no "
        "site_app/ or site_app.py at its root (or it is excluded), so it cannot be packaged"
    )
    write(tmp_path, {"site_app/web.py": "app = None\n"})
    with pytest.raises(ConfigError, match=r"functions\.api\.app: module 'site_app'"):
        project_files(load_project(tmp_path))


def test_pyproject_configs_name_the_key_under_tool_faasport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        {"pyproject.toml": '[tool.faasport.functions.api]\nhandler = "gone:handle"\n'},
    )
    with pytest.raises(ConfigError, match=r"^pyproject.toml: tool.faasport.functions.api.handler"):
        project_files(load_project(tmp_path))


def test_only_faasports_runtime_is_vendored() -> None:
    files = runtime_files()
    packages = {name.split("/")[1] for name in files if name.count("/") > 1}
    assert {"core", "aws", "gcp", "azure", "events", "secrets"} <= packages
    # Every runtime layer of faasport that exists in this checkout ships: an app that wraps
    # itself in faasport.gateway's policies imports it in the cloud.
    source = Path(faasport.__file__).parent
    runtime = {name for name in RUNTIME if (source / name / "__init__.py").is_file()}
    assert runtime <= packages
    assert not packages & {"cli", "local", "deploy", "testing", "config"}
    assert {"faasport/__init__.py", "faasport/py.typed"} <= set(files)
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]


@pytest.mark.parametrize(
    ("target", "name"),
    [("gcp", "main.py"), ("azure", "function_app.py"), ("aws", "faasport_handler.py")],
)
def test_a_project_file_the_target_would_overwrite_is_refused(
    tmp_path: Path, target: str, name: str
) -> None:
    root = write(tmp_path, {"faasport.toml": CONFIG, "site_app/web.py": "app = None\n"})
    (root / name).write_text("app = None\n")
    with pytest.raises(FaasportError, match=f"the project's own {name} would be replaced"):
        build(load_project(root), target)


def test_a_project_without_functions_has_nothing_to_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"faasport.toml": 'name = "empty"\n'})
    with pytest.raises(ConfigError, match=r"^faasport\.toml: functions: no functions to package"):
        build(load_project(tmp_path), "aws")
    assert not (tmp_path / "dist").exists()


def test_the_example_project_packages(tmp_path: Path) -> None:
    phoney = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "phoney"
    root = Path(shutil.copytree(phoney, tmp_path / "phoney"))
    assert sorted(project_files(load_project(root))) == [
        "phoney/__init__.py",
        "phoney/jobs.py",
        "phoney/main.py",
    ]
