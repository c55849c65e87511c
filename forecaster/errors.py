"""The library's exceptions: the only errors a user should ever see as one line.

The CLI turns any :class:`ForecasterError` into one line on stderr and exit code 1.
Anything else is a bug and keeps its traceback. Messages say what happened, what was
expected and how to fix it, and echo the offending value.
"""

from __future__ import annotations


class ForecasterError(Exception):
    """Base class of every error caused by the user's data, flags or files."""


class DataError(ForecasterError):
    """The CSV or the series in it cannot be used as given."""


class ConfigError(ForecasterError):
    """A flag, parameter or model setting is invalid."""


class ArtifactError(ForecasterError):
    """A saved run directory is missing, corrupt or from a newer format."""


class TrainingError(ForecasterError):
    """Training failed in a way the user can fix (e.g. a NaN loss or a non-finite forecast)."""


class OutputError(ForecasterError):
    """An output path (``--out``, ``--output``) cannot be written, or writing it would destroy data."""
