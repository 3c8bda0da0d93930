"""The base classes of errors meant for the user.

Only ``SolvationError`` (and its subclasses) print as one-line messages on the command
line; anything else is a bug and shows its traceback (see ``solvation.cli``).
``Interrupted`` is the one user-facing stop that is not an error: work stopped on
request (Ctrl-C, SIGTERM) and left resumable; the command line exits with status 130.
"""

from __future__ import annotations


class SolvationError(Exception):
    """An error that carries a message meant for the user: what was wrong and what to do."""


class Interrupted(SolvationError):
    """Work stopped on request (SIGINT/SIGTERM) after saving what resumes it; the message
    says where it stopped and the command that resumes it."""

    exit_code = 130


class InputError(SolvationError):
    """A value, name, file or output path given by the user that cannot be used
    (``solvation.inputs`` checks them), or a topology, trajectory or selection that cannot
    be analysed as given (``solvation.analysis.universe``)."""
