"""One family of domain errors. Messages say what is wrong, where, and how to fix it.

Each subclass also inherits the matching built-in so callers can catch ``ValueError`` etc.
Only the CLI turns these into an exit code; the library just raises them.
"""

from __future__ import annotations

import importlib


class CustsegError(Exception):
    """Base class of every error custseg raises on purpose."""


class DataError(CustsegError, ValueError):
    """The input table cannot be segmented as it is (bad values, missing columns, ...)."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in the data:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class ConfigError(CustsegError, ValueError):
    """A parameter or option has a value that cannot work."""


class OptionError(ConfigError):
    """One option has a value that cannot work; the message names the option.

    ``message`` holds ``{option}`` where the option's name goes: the library shows the
    parameter name (``k_range``), the CLI its flag (``--k-range``) via :meth:`for_flag`.
    """

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        self.message = message
        super().__init__(message.replace("{option}", parameter))

    def for_flag(self, flag: str) -> str:
        return self.message.replace("{option}", flag)


class SourceError(CustsegError, OSError):
    """A data source cannot be opened or read (missing file, unknown format, corrupt file)."""


class OutputExistsError(CustsegError, FileExistsError):
    """An output would overwrite an existing file without ``force``."""


class DiskFullError(CustsegError, OSError):
    """The disk filled up while writing outputs; the previous outputs are unchanged."""


class ModelFileError(CustsegError, ValueError):
    """A model file is unreadable, untrusted or from an incompatible version."""


class MissingDependencyError(CustsegError, ImportError):
    """An optional extra is not installed."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed; install it with: pip install 'custseg[{extra}]'"
        )


def require(module: str, extra: str):
    """Import an optional dependency lazily, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(module.split(".")[0], extra) from exc
