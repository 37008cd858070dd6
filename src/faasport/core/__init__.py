"""The provider-neutral core: canonical request/response and the app bridges."""

from faasport.core.errors import (
    AppError,
    ConfigError,
    FaasportError,
    MalformedEventError,
    UnsupportedEventError,
)
from faasport.core.http import HttpRequest, HttpResponse
from faasport.core.options import AppOptions

__all__ = [
    "AppError",
    "AppOptions",
    "ConfigError",
    "FaasportError",
    "HttpRequest",
    "HttpResponse",
    "MalformedEventError",
    "UnsupportedEventError",
]
