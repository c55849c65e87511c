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


class ClusterError(ForecasterError):
    """The workers cannot run the jobs: a scheduler out of reach, no workers, other software.

    ``problems`` holds one line per problem (a worker's Keras version, a scheduler without
    forecaster, ...); ``str()`` gives the message and then each problem on its own line.
    """

    def __init__(self, message: str, problems: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {p}" for p in self.problems)])


class WorkerLost(ForecasterError):
    """A worker process died while running a job (killed, out of memory) and no retry succeeded."""
