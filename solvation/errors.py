"""User-facing error handling for the command line."""

from __future__ import annotations

import sys

import typer


class SolvationError(Exception):
    """Base class for errors that carry a message meant for the user."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types whose message is shown without a traceback."""
    from solvation.forcefields import ParametrizationError, UnknownName
    from solvation.run import RunError  # noqa: F401  (a SolvationError)

    return (
        SolvationError,
        UnknownName,
        ParametrizationError,
        ValueError,
        FileNotFoundError,
        FileExistsError,
    )


def run_cli(app: typer.Typer) -> None:
    """Run ``app``; known errors print ``error: message`` and exit with status 2."""
    from solvation.cli_analyze import merge_pair_args

    try:
        app(args=merge_pair_args(sys.argv[1:]), standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage errors format themselves
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, user_errors()):
            typer.echo(f"error: {exc}", err=True)
            sys.exit(2)
        raise
