"""Options and output helpers shared by the command-line apps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from solvation.rundir import strict_json

JsonOpt = Annotated[
    Optional[Path], typer.Option("--json", help="Also write the result as JSON to this file.")
]


def write_json(path: Path | None, data) -> None:
    """Write ``data`` as strict JSON (NaN -> null) to ``path`` when one is given."""
    if path is not None:
        path.write_text(json.dumps(strict_json(data), indent=2, allow_nan=False) + "\n")


def named(items: list[str] | None, what: str) -> dict[str, str]:
    """NAME=VALUE options as a dict (quotes around VALUE removed)."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"{what} {item!r} must be NAME=VALUE")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip().strip('"').strip("'")
    return out
