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


class MalformedEventError(UnsupportedEventError):
    """An event in a known source's format with a field of the wrong type or shape: it did
    not come from that source. Answered 400; the message names the field, never a value."""

    def __init__(self, source: str, field: str, expected: str) -> None:
        self.source = source
        self.field = field
        kind = f"{source} event" if source else "event"
        super().__init__(f"malformed {kind}: {field} must be {expected}")
