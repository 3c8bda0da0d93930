"""Strict JSON (NaN and infinities written as null) and atomic writes: what every
record and result file of the package is written with; ``read_text``: what every record
and input file is read with (a directory, binary or non-UTF-8 file refused in one line)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from solvation.errors import InputError


def strict_json(value):
    """``value`` with NaN and infinities replaced by None (strict JSON has neither).

    Parameters
    ----------
    value : object
        A JSON-able value (dicts and lists are walked recursively).
    """
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json_atomic(path: str | Path, data) -> None:
    """Write ``data`` as strict JSON to ``path`` via a temporary file, fsync and rename.

    Parameters
    ----------
    path : str or Path
        Destination file.
    data : object
        JSON-able data; NaN and infinities are written as null, other objects with ``str``.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        json.dump(strict_json(data), fh, indent=2, allow_nan=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_text(path, what: str = "file") -> str:
    """The text of a UTF-8 file; a missing file, a directory or a binary or non-UTF-8
    file is refused with one line.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for the message ('design file').

    Raises
    ------
    InputError
        When the file cannot be read as UTF-8 text.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory; give the file itself")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{what} {path} cannot be read: {err.strerror}") from None
    if b"\0" in data:
        raise InputError(f"{what} {path} is a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{what} {path} is not UTF-8 text (byte {data[err.start]:#04x} at position "
            f"{err.start}); save it as UTF-8"
        ) from None
