"""[stages.NAME]: one stage's overrides merged into the configuration (tables key by key,
everything else replaced), and every mistake in a stage reported where it was written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from faasport.config import load_project
from faasport.core.errors import ConfigError

STAGED = """
name = "shop"
region = "us-east-1"

[api]
cors = { origins = ["https://dev.example.com"], max_age = 60 }

[functions.api]
app = "shop.main:app"
memory = 512
warm = 0
routes = ["GET /items", "POST /items"]
environment = { LOG_LEVEL = "DEBUG", DB = "dev" }
secrets = ["shop/dev/jwt"]

[functions.worker]
handler = "shop.jobs:handle"
events = [{ queue = "jobs", batch = 10 }]

[queues.jobs]
visibility_timeout = 30

[stages.dev]

[stages.prod]
region = "eu-west-1"
api.cors.origins = ["https://shop.example.com"]

[stages.prod.functions.api]
memory = 2048
warm = 2
routes = ["ANY /{proxy+}"]
environment = { LOG_LEVEL = "INFO" }
secrets = ["shop/prod/jwt"]

[stages.prod.queues.jobs]
visibility_timeout = 120
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name the file as the user sees it: faasport.toml


def write(tmp_path: Path, text: str, name: str = "faasport.toml") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def error(directory: Path, stage: str | None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_project(directory, stage=stage)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_without_a_stage_the_file_is_read_as_written(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, STAGED))
    assert project.name == "shop"
    assert project.stage is None
    assert project.stages == ("dev", "prod")
    api = project.functions["api"]
    assert (api.memory, api.warm, project.region) == (512, 0, "us-east-1")


def test_an_empty_stage_changes_only_the_name(tmp_path: Path) -> None:
    plain = load_project(write(tmp_path, STAGED))
    dev = load_project(tmp_path, stage="dev")
    assert (dev.name, dev.stage) == ("shop-dev", "dev")
    assert dev.functions == plain.functions
    assert dev.queues == plain.queues and dev.api == plain.api


def test_tables_merge_key_by_key_at_any_depth(tmp_path: Path) -> None:
    prod = load_project(write(tmp_path, STAGED), stage="prod")
    api = prod.functions["api"]
    assert prod.name == "shop-prod"
    assert prod.region == "eu-west-1"
    assert (api.memory, api.warm, api.app) == (2048, 2, "shop.main:app")
    # environment is a table: the stage's keys over the file's, the others kept.
    assert dict(api.environment) == {"LOG_LEVEL": "INFO", "DB": "dev"}
    assert prod.queues["jobs"].visibility_timeout == 120
    assert prod.queues["jobs"].max_receive == 3
    # api.cors: origins replaced, max_age kept from the file.
    assert prod.api.cors is not None
    assert (prod.api.cors.origins, prod.api.cors.max_age) == (("https://shop.example.com",), 60)
    # A function the stage does not mention is the file's.
    assert prod.functions["worker"] == load_project(tmp_path).functions["worker"]


def test_arrays_are_replaced_whole_never_appended_to(tmp_path: Path) -> None:
    api = load_project(write(tmp_path, STAGED), stage="prod").functions["api"]
    assert [str(route) for route in api.routes] == ["ANY /{proxy+}"]
    assert api.secrets == ("shop/prod/jwt",)


def test_a_stage_may_add_a_function(tmp_path: Path) -> None:
    write(tmp_path, STAGED + '\n[stages.dev.functions.debug]\napp = "shop.debug:app"\n')
    assert set(load_project(tmp_path, stage="dev").functions) == {"api", "worker", "debug"}
    assert set(load_project(tmp_path, stage="prod").functions) == {"api", "worker"}


def test_stages_in_pyproject_toml(tmp_path: Path) -> None:
    text = STAGED.replace("[stages.", "[tool.faasport.stages.")
    text = text.replace("[functions.", "[tool.faasport.functions.")
    text = text.replace("[queues.", "[tool.faasport.queues.").replace(
        "[api]", "[tool.faasport.api]"
    )
    head = '[tool.faasport]\nname = "shop"\nregion = "us-east-1"\n'
    write(tmp_path, head + text.split('region = "us-east-1"', 1)[1], "pyproject.toml")
    prod = load_project(tmp_path, stage="prod")
    assert (prod.name, prod.functions["api"].memory) == ("shop-prod", 2048)
    write(
        tmp_path,
        head
        + '[tool.faasport.stages.prod.functions.api]\nmemory = "big"\n'
        + '[tool.faasport.functions.api]\napp = "a:b"\n',
        "pyproject.toml",
    )
    assert error(tmp_path, "prod") == (
        "pyproject.toml: tool.faasport.stages.prod.functions.api.memory: must be an integer "
        'from 128 to 10240, got "big"'
    )


# -- mistakes ------------------------------------------------------------------------------


def test_an_unknown_stage_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, STAGED)
    assert error(tmp_path, "qa") == (
        'faasport.toml: stages: no stage "qa"; the stages are: dev, prod'
    )


def test_a_stage_in_a_file_without_stages_says_how_to_add_one(tmp_path: Path) -> None:
    write(tmp_path, '[functions.api]\napp = "a:b"\n')
    assert error(tmp_path, "prod") == (
        'faasport.toml: stages: no stage "prod"; none is defined; add a [stages.prod] table'
    )
    (tmp_path / "faasport.toml").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.faasport.functions.api]\napp = "a:b"\n')
    assert error(tmp_path, "prod") == (
        'pyproject.toml: tool.faasport.stages: no stage "prod"; none is defined; add a '
        "[tool.faasport.stages.prod] table"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[stages.prod.functions.api]\nmemory = 99999\n",
            "stages.prod.functions.api.memory: must be an integer from 128 to 10240, got 99999",
        ),
        (
            "[stages.prod.functions.api]\nmemroy = 1024\n",
            'stages.prod.functions.api.memroy: unknown key; did you mean "memory"?',
        ),
        (
            '[stages.prod]\nregoin = "eu-west-1"\n',
            'stages.prod.regoin: unknown key; did you mean "region"?',
        ),
        (
            '[stages.prod.functions.api]\nroutes = ["FETCH /x"]\n',
            "stages.prod.functions.api.routes[0]:",
        ),
        (
            '[stages.prod.functions.api]\nenvironment = "x"\n',
            "stages.prod.functions.api.environment: must be a table",
        ),
    ],
)
def test_a_bad_override_is_reported_in_the_stage_table(
    tmp_path: Path, extra: str, message: str
) -> None:
    write(tmp_path, '[functions.api]\napp = "a:b"\n' + extra)
    assert error(tmp_path, "prod").startswith(f"faasport.toml: {message}")
    # The stage is checked only when it is loaded: the file as written is fine.
    assert load_project(tmp_path).functions["api"].memory == 512


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages = 3\n", "stages: must be a table of [stages.NAME] tables, got 3"),
        ("[stages]\nprod = 3\n", "stages.prod: must be a table of the keys the stage overrides"),
        ("[stages.Prod]\n", "stages.Prod: stage names are 1 to 16 lowercase letters and digits"),
        ("[stages.prod.stages.x]\n", "stages.prod.stages: a stage cannot define stages"),
    ],
)
def test_a_malformed_stages_table_is_an_error_with_or_without_a_stage(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text + '[functions.api]\napp = "a:b"\n')
    assert error(tmp_path, None).startswith(f"faasport.toml: {message}")


def test_a_misspelled_stages_table_gets_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, '[functions.api]\napp = "a:b"\n[stage.prod]\nmemory = 1\n')
    assert error(tmp_path, None) == 'faasport.toml: stage: unknown key; did you mean "stages"?'
