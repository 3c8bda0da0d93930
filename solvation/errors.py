"""The base class of errors meant for the user.

Only ``SolvationError`` (and its subclasses) print as one-line messages on the command
line; anything else is a bug and shows its traceback (see ``solvation.cli``).
"""

from __future__ import annotations


class SolvationError(Exception):
    """An error that carries a message meant for the user: what was wrong and what to do."""
