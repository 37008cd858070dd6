"""Which requirements a project declares, and pip installing them for the target."""

from __future__ import annotations

from pathlib import Path

import pytest

from faasport.config import load_project
from faasport.core.errors import ConfigError, FaasportError
from faasport.deploy.package.dependencies import (
    Requirements,
    install,
    installed_files,
    platform_tag,
    read_requirements,
)

CONFIG = 'name = "site"\npython = "3.11"\n[functions.api]\napp = "site_app.web:app"\n'
PYPROJECT = '[project]\nname = "site"\nversion = "1"\ndependencies = ["idna>=3", "faasport"]\n'


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"faasport.toml": CONFIG, **files}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_requirements_txt_wins_over_pyproject(tmp_path: Path) -> None:
    root = project_with(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            "requirements.txt": (
                "# pinned for deployment\n"
                "markupsafe==3.0.3 \\\n    --hash=sha256:aaaa\n"
                "\n--extra-index-url https://mirror.example/simple\n"
                "idna>=3  # pure Python\n"
            ),
        },
    )
    requirements = read_requirements(load_project(root))
    assert requirements.source == "requirements.txt"
    assert requirements.lines == (
        "markupsafe==3.0.3 --hash=sha256:aaaa",
        "--extra-index-url https://mirror.example/simple",
        "idna>=3",
    )


def test_pyproject_dependencies_without_faasport_itself(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"pyproject.toml": PYPROJECT})
    requirements = read_requirements(load_project(root))
    assert requirements == Requirements(("idna>=3",), "pyproject.toml [project] dependencies")
    assert requirements.text("functions-framework>=3.8", "IDNA") == (
        b"idna>=3\nfunctions-framework>=3.8\n"
    )


def test_faasport_extras_become_their_requirements(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"requirements.txt": "faasport[gcp,db,cli]>=0.1\nidna\n"})
    lines = read_requirements(load_project(root)).lines
    assert lines[-1] == "idna"
    assert sorted(line.split(">")[0] for line in lines[:-1]) == [
        "functions-framework",
        "sqlalchemy",
    ]


def test_no_requirements_at_all(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"pyproject.toml": '[project]\nname = "site"\n'})
    assert read_requirements(load_project(root)) == Requirements((), "none")


@pytest.mark.parametrize("line", ["-r base.txt", "--requirement=base.txt", "-e .", "-c pins.txt"])
def test_includes_and_editables_are_refused(tmp_path: Path, line: str) -> None:
    root = project_with(tmp_path, {"requirements.txt": f"idna\n{line}\n"})
    with pytest.raises(FaasportError, match=r"^requirements.txt line 2: -"):
        read_requirements(load_project(root))


def test_bad_pyproject_dependencies_are_one_line(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"pyproject.toml": "[project]\ndependencies = 'idna'\n"})
    with pytest.raises(ConfigError, match=r"^pyproject\.toml: project\.dependencies: must be an"):
        read_requirements(load_project(root))


def test_the_platform_follows_the_architecture(tmp_path: Path) -> None:
    root = project_with(tmp_path, {})
    assert platform_tag(load_project(root)) == "manylinux2014_x86_64"
    (root / "faasport.toml").write_text(CONFIG + 'architecture = "arm64"\n')
    assert platform_tag(load_project(root)) == "manylinux2014_aarch64"


def test_pip_failures_are_one_line_with_pips_reason(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"requirements.txt": "faasport-no-such-package-x==1\n"})
    project = load_project(root)
    with pytest.raises(FaasportError) as raised:
        install(project, read_requirements(project), log=lambda line: None)
    message = str(raised.value)
    assert message.startswith(
        "pip could not install the requirements from requirements.txt for "
        "manylinux2014_x86_64, CPython 3.11: "
    )
    assert "faasport-no-such-package-x" in message
    assert "\n" not in message
    # Nothing half-installed is left to be reused.
    assert [p.name for p in (root / ".faasport" / "cache" / "deps").iterdir()] == []


def test_pips_bookkeeping_scripts_and_bytecode_are_left_out(tmp_path: Path) -> None:
    for name in (
        "bin/tool",
        "pkg/__init__.py",
        "pkg/__pycache__/__init__.cpython-311.pyc",
        "pkg/bin/data.txt",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/RECORD",
        "pkg-1.0.dist-info/INSTALLER",
        "pkg-1.0.dist-info/REQUESTED",
        "pkg-1.0.dist-info/direct_url.json",
        "pkg-1.0.dist-info/licenses/LICENSE",
        "share/pkg/data.json",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    assert sorted(installed_files(tmp_path)) == [
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/licenses/LICENSE",
        "pkg/__init__.py",
        "pkg/bin/data.txt",
        "share/pkg/data.json",
    ]
