"""What the user sees while work runs: the ``solvation`` logger and progress bars.

Messages go through ``logging`` (logger ``solvation``), so ``-q``/``-v`` on the command
line and a library user's own logging configuration both control them. Progress bars
are drawn only on an interactive terminal and only at the default verbosity or above:
a log file or a pipe never receives carriage returns.
"""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("solvation")
LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a record is emitted."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(verbosity: int = 0) -> None:
    """Log to stderr: -1 warnings only (``-q``), 0 progress messages, 1+ debug (``-v``).

    Parameters
    ----------
    verbosity : int
        -1 (warnings only), 0 (progress) or 1 and above (debug).
    """
    LOGGER.setLevel(LEVELS[max(-1, min(1, verbosity))])
    if not any(isinstance(h, _StderrHandler) for h in LOGGER.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)
        LOGGER.propagate = False


def show_progress() -> bool:
    """Whether to draw progress bars: stderr is a terminal and progress messages are on."""
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and LOGGER.getEffectiveLevel() <= (
        logging.INFO
    )


def warn(message: str) -> None:
    """A warning for the user (legal but odd input).

    Parameters
    ----------
    message : str
        The warning, printed to stderr prefixed with 'warning: '.
    """
    LOGGER.warning("warning: %s", message)
