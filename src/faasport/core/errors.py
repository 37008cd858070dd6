"""The one exception family faasport raises. Messages say what was wrong and how to fix it."""


class FaasportError(Exception):
    """Base class of every error faasport raises on purpose."""


class ConfigError(FaasportError, ValueError):
    """A configuration value or option is missing or wrong."""


class AppError(FaasportError):
    """The application could not be imported or is not a supported kind of app."""


class UnsupportedEventError(FaasportError, ValueError):
    """An event arrived that no codec recognises."""


class LifespanError(FaasportError):
    """ASGI lifespan startup or shutdown failed."""
