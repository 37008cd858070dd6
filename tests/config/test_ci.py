"""[ci]: the GitHub repository and branches allowed to deploy, parsed with every mistake as
one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from faasport.config import load_project
from faasport.config.model import Ci
from faasport.core.errors import ConfigError

BASE = '[functions.api]\napp = "a:b"\n'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def load(tmp_path: Path, text: str, stage: str | None = None) -> Ci | None:
    (tmp_path / "faasport.toml").write_text(BASE + text)
    return load_project(tmp_path, stage=stage).ci


def test_no_ci_table_no_ci(tmp_path: Path) -> None:
    assert load(tmp_path, "") is None


def test_defaults_and_a_stages_branches(tmp_path: Path) -> None:
    text = (
        '[ci]\ngithub_repo = "acme/shop.api"\n'
        '[stages.prod.ci]\nbranches = ["release", "hotfix/x"]\n'
    )
    assert load(tmp_path, text) == Ci("acme/shop.api", ("main",), None)
    assert load(tmp_path, text, "prod") == Ci("acme/shop.api", ("release", "hotfix/x"), None)
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    found = load(tmp_path, f'[ci]\ngithub_repo = "acme/shop"\noidc_provider = "{arn}"\n')
    assert found is not None and found.oidc_provider == arn


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ci]\n", 'ci.github_repo: is required: the GitHub repository, as "owner/name"'),
        (
            '[ci]\ngithub_repo = "shop"\n',
            'ci.github_repo: must be "owner/name" on GitHub, got "shop"',
        ),
        (
            '[ci]\ngithub_repo = "a/b"\nbranches = ["*"]\n',
            'ci.branches[0]: must be a branch name like "main" (no wildcards), got "*"',
        ),
        ('[ci]\ngithub_repo = "a/b"\nbranches = "main"\n', "ci.branches: must be an array"),
        (
            '[ci]\ngithub_repo = "a/b"\noidc_provider = "arn:aws:iam::1:role/x"\n',
            "ci.oidc_provider: must be the ARN of the account's existing GitHub OIDC provider",
        ),
        (
            '[ci]\ngithub_repo = "a/b"\nbranch = ["x"]\n',
            'ci.branch: unknown key; did you mean "branches"?',
        ),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value).startswith(f"faasport.toml: {message}")
