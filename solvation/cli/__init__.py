"""The command line: ``solvation`` and its sub-commands (``solvation --help``).

Errors meant for the user (``SolvationError`` and typer's usage errors) print one line
and exit with status 2; work stopped by Ctrl-C or SIGTERM exits with status 130 after
saying where it stopped and how to resume; a campaign with failed jobs exits with
status 1; anything else is a bug and shows its traceback with a request to report it.
"""

from __future__ import annotations

import signal
import sys
import traceback

import typer

from solvation.errors import Interrupted, SolvationError
from solvation.inputs import check_environment, environment_problem

if environment_problem():  # before the imports below: numba refuses NUMBA_NUM_THREADS=0
    sys.stderr.write(f"error: {environment_problem()}\n")
    raise SystemExit(2)

from . import common  # noqa: E402
from .analyze import merge_pair_args  # noqa: E402
from .app import app  # noqa: E402

BUG_HINT = (
    "This looks like a bug in solvation, not a problem with your input: please report it "
    "with the traceback above and the command you ran."
)


def _terminate(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so that temporary files are removed on the way out."""
    raise KeyboardInterrupt


def run_cli(application: typer.Typer, argv: list[str] | None = None) -> None:
    """Run ``application``; user errors print ``error: message`` and exit with status 2.

    Parameters
    ----------
    application : typer.Typer
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    """
    args = merge_pair_args(sys.argv[1:] if argv is None else argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C always stops the work: Python leaves SIGINT ignored when the process started
    # with it ignored (a command started in the background by a shell without job control)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        check_environment()
        with common.json_on_stdout(args):
            code = application(args=args, standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) is returned, not raised, here
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        typer.echo(f"interrupted: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SolvationError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click usage errors
            exc.show()
            sys.exit(exc.exit_code)
        traceback.print_exc()
        typer.echo(BUG_HINT, err=True)
        sys.exit(1)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def main() -> None:
    """Entry point of the ``solvation`` command."""
    run_cli(app)


__all__ = ["app", "main", "run_cli"]
