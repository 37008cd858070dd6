"""The providers ``faasport deploy`` knows, each with the options it takes. A provider's module
is imported only when that provider is planned."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, cast

from faasport.config.model import Project
from faasport.core.errors import FaasportError
from faasport.deploy.options import IAC, PACKAGES, Options
from faasport.deploy.plan import Plan


class OptionError(FaasportError):
    """An option the provider does not take, or a value it does not know."""


def _aws(project: Project, options: Options) -> Plan:
    from faasport.deploy import aws

    return aws.plan(project, options)


def _gcp(project: Project, options: Options) -> Plan:
    from faasport.deploy import gcp

    return gcp.plan(project, options)


def _azure(project: Project, options: Options) -> Plan:
    from faasport.deploy import azure

    return azure.plan(project)


@dataclass(frozen=True)
class Provider:
    name: str
    plan: Callable[[Project, Options], Plan]
    #: The :class:`Options` fields it reads, each with the values it accepts.
    takes: Mapping[str, tuple[str, ...]]


PROVIDERS: Mapping[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider("aws", _aws, {"iac": IAC, "package": PACKAGES}),
        Provider("gcp", _gcp, {"package": PACKAGES}),
        Provider("azure", _azure, {}),
    )
}
_OPTIONS = {field.name for field in fields(Options)}


def options(provider: str, given: Mapping[str, str]) -> Options:
    """The options of ``faasport deploy PROVIDER`` from those given on the command line;
    one that does not apply to the provider, or a value it does not know, is an
    :class:`OptionError` naming it."""
    takes = PROVIDERS[provider].takes
    for name, value in given.items():
        if name not in _OPTIONS:
            raise OptionError(f"deploy has no option --{name}")
        if name not in takes:
            where = ", ".join(p.name for p in PROVIDERS.values() if name in p.takes)
            raise OptionError(f"--{name} applies to {where} only, not {provider}")
        if value not in takes[name]:
            raise OptionError(f"--{name} must be one of {', '.join(takes[name])}, got {value!r}")
    return Options(**cast(Mapping[str, Any], given))


def plan(provider: str, project: Project, chosen: Options | None = None) -> Plan:
    """What ``faasport deploy PROVIDER`` writes and runs for ``project``."""
    return PROVIDERS[provider].plan(project, chosen or Options())
