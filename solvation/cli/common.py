"""Options and output helpers shared by the command-line apps."""

from __future__ import annotations

import contextlib
import json
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Optional

import typer

from solvation.errors import SolvationError
from solvation.inputs import prepared
from solvation.jsonio import strict_json

JsonOpt = Annotated[
    Optional[Path],
    typer.Option("--json", help="Also write the result as JSON to this file ('-': stdout)."),
]
STDOUT = "-"
_json_stream = None  # the real stdout while `--json -` sends every other line to stderr


def wants_json_on_stdout(args: list[str]) -> bool:
    """Whether the command line asks for ``--json -``.

    Parameters
    ----------
    args : list of str
        Command-line arguments.
    """
    return any(
        (a == "--json" and b == STDOUT) or a == f"--json={STDOUT}"
        for a, b in zip(args, [*args[1:], ""], strict=True)
    )


@contextlib.contextmanager
def json_on_stdout(args: list[str]):
    """With ``--json -``: stdout carries the JSON alone; messages and tables go to stderr.

    Parameters
    ----------
    args : list of str
        Command-line arguments.
    """
    global _json_stream
    if not wants_json_on_stdout(args):
        yield
        return
    _json_stream, sys.stdout = sys.stdout, sys.stderr
    try:
        yield
    finally:
        sys.stdout, _json_stream = _json_stream, None


def write_json(path: Path | None, data) -> None:
    """Write ``data`` as strict JSON (NaN -> null) to ``path`` (``-``: stdout) when given.

    Parameters
    ----------
    path : Path or None
        Output file, ``-`` for stdout, None: write nothing.
    data : object
        JSON-able data.
    """
    if path is None:
        return
    text = json.dumps(strict_json(data), indent=2, allow_nan=False, default=str) + "\n"
    if str(path) == STDOUT:
        stream = _json_stream or sys.stdout
        stream.write(text)
        stream.flush()
    else:
        prepared(path).write_text(text)


def named(items: list[str] | None, what: str) -> dict[str, str]:
    """NAME=VALUE options as a dict (quotes around VALUE removed).

    Parameters
    ----------
    items : list of str or None
        NAME=VALUE texts.
    what : str
        Option name, for the message.

    Raises
    ------
    typer.BadParameter
        For an item without '='.
    """
    out = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"{what} {item!r} must be NAME=VALUE")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip().strip('"').strip("'")
    return out


def cluster_options(path: Path) -> dict:
    """The ``[executor]`` table of a TOML file (a campaign file, or a file holding only
    that table), for ``--cluster``.

    Parameters
    ----------
    path : Path

    Raises
    ------
    SolvationError
        For a missing or invalid file, or one without an [executor] table.
    """
    try:
        table = tomllib.loads(path.read_text()).get("executor")
    except OSError as err:
        raise SolvationError(f"cannot read the cluster file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise SolvationError(f"{path} is not valid TOML: {err}") from None
    if not isinstance(table, dict):
        raise SolvationError(f"{path} has no [executor] table")
    return {k: v for k, v in table.items() if k != "kind"}


def print_table(columns, rows, width: int = 160, markup: bool = True) -> None:
    """Print ``rows`` under ``columns`` as a rich table (rich loads here, not at start-up).

    Parameters
    ----------
    columns : sequence of str
        Column headers.
    rows : iterable of sequence of str
        Cell texts, one sequence per row.
    width : int
        Console width (characters).
    markup : bool
        Read rich markup and highlight numbers in the cells (False: print them as written).
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*row)
    Console(width=width, markup=markup, highlight=markup).print(table)
