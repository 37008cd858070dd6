"""The one exception family faasport raises. Messages say what was wrong and how to fix it."""


class FaasportError(Exception):
    """Base class of every error faasport raises on purpose."""


class ConfigError(FaasportError, ValueError):
    """A configuration value or option is missing or wrong."""


class AppError(FaasportError):
    """The application could not be imported or is not a supported kind of app."""


class ImportModuleError(AppError):
    """The app could not be imported: an init error of the execution environment, which
    Lambda reports as ``Runtime.ImportModuleError`` with an empty stack trace."""

    error_type = "Runtime.ImportModuleError"


# Runtime clients (awslambdaric's, ours) report an error's type as its class's __name__:
# this name makes either report Lambda's own error type for an app that does not import.
ImportModuleError.__name__ = ImportModuleError.error_type


def import_failure(target: object, exc: BaseException) -> ImportModuleError:
    """The init error for ``exc``, raised while importing the app ``target``."""
    if isinstance(exc, ImportModuleError):
        return exc
    cause = exc.__cause__ if isinstance(exc.__cause__, ImportError) else exc
    if isinstance(cause, ImportError | AppError):
        reason = str(cause)
    else:
        reason = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    reason = " ".join(reason.split())
    if isinstance(target, str) and ":" in target:
        return ImportModuleError(f"Unable to import module '{target.partition(':')[0]}': {reason}")
    return ImportModuleError(reason)


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
