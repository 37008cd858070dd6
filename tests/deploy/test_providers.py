"""The providers ``faasport deploy`` knows and the options each takes: one that does not
apply, or a value the provider does not know, is refused with one line naming it."""

from __future__ import annotations

import pytest

from faasport.config import load_project
from faasport.deploy.options import Options
from faasport.deploy.providers import PROVIDERS, OptionError, options, plan
from projects import PHONEY


def test_every_provider_plans_the_example_project_for_itself() -> None:
    project = load_project(PHONEY)
    for name in PROVIDERS:
        assert plan(name, project).provider == name
    terraform = plan("aws", project, options("aws", {"iac": "terraform"}))
    assert "main.tf" in terraform.files
    assert "template.yaml" in plan("aws", project).files


def test_options_are_typed_with_defaults() -> None:
    assert options("aws", {}) == Options(iac="sam")
    assert options("aws", {"iac": "terraform"}) == Options(iac="terraform")
    assert options("gcp", {}) == Options()
    assert options("gcp", {"package": "container"}) == Options(package="container")


@pytest.mark.parametrize(
    ("provider", "given", "message"),
    [
        ("gcp", {"iac": "sam"}, "--iac applies to aws only, not gcp"),
        ("azure", {"iac": "terraform"}, "--iac applies to aws only, not azure"),
        ("aws", {"iac": "cdk"}, "--iac must be one of sam, terraform, got 'cdk'"),
        ("aws", {"stack": "x"}, "deploy has no option --stack"),
        ("azure", {"package": "container"}, "--package applies to aws, gcp only, not azure"),
        ("gcp", {"package": "oci"}, "--package must be one of zip, container, got 'oci'"),
    ],
)
def test_options_that_do_not_apply_are_refused(
    provider: str, given: dict[str, str], message: str
) -> None:
    with pytest.raises(OptionError) as info:
        options(provider, given)
    assert str(info.value) == message
