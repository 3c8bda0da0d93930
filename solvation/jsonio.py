"""Strict JSON (NaN and infinities written as null) and atomic writes: what every
record and result file of the package is written with."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path


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
