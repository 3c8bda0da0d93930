"""Result objects: small frozen dataclasses with ``to_dict`` (JSON-safe) and ``to_frame``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np


def jsonable(value):
    """numpy arrays/scalars -> lists/floats, recursively through dicts, lists, dataclasses.

    Parameters
    ----------
    value : object
        A result, array, scalar or container of those.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class ResultMixin:
    """``to_dict``/``write_json`` for result dataclasses; subclasses add ``to_frame``."""

    def to_dict(self) -> dict:
        """The result as JSON-able dicts, lists and floats."""
        return jsonable(self)

    def write_json(self, path: str | Path) -> None:
        """Write ``to_dict()`` to ``path`` as strict JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
