"""What a resumed run trusts: every output file checked against the checkpoint's record.

A production checkpoint (``CheckpointReporter``) records its step. At that step the
trajectory holds exactly ``step // report_steps`` frames, at steps ``report_steps``,
``2 report_steps`` ...; ``state.csv`` (and ``electrode.csv``, ``viscosity.csv``) as many
rows with those steps. Before production continues, each output is read entry by entry
(trajectory frame headers, CSV rows: no coordinates are decompressed, so a long
trajectory is checked in well under a second per 10^4 frames):

- it holds at least the recorded entries, each complete and at its expected step (XTC:
  the step in the frame header; DCD: the header's first step and interval; CSV: the
  step column): it is cut back to exactly those entries (what was written after the
  checkpoint goes), and a DCD header's frame count is set to the frames kept;
- it holds fewer (missing, cut short, zero bytes or garbage where frames were, frames
  of another run): the lost entries cannot be recomputed from this checkpoint, and the
  run is refused with what to do (restore the file, or run production again from the
  equilibrated state: ``solvation run DIR --restart-production``).

A damaged ``checkpoint.json`` or checkpoint file (its SHA-256 is recorded) is refused
the same way, before any output is touched. While a run
writes, ``CheckpointReporter`` refuses to record a file that shrank (deleted or cut by
another program), and a finished production is checked in full before ``run.json``
calls it complete.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from solvation.errors import SolvationError
from solvation.rundir import RunDirError, read_checkpoint_record

XTC_MAGIC = 1995
DCD_HEADER_BYTES = 276
RESTART_HINT = (
    "restore the file from a copy, or run production again from the equilibrated state "
    "with `solvation run {directory} --restart-production` (the production frames go)"
)


class ResumeError(SolvationError):
    """An output or checkpoint that does not match what the run recorded."""


@dataclass(frozen=True)
class Entries:
    """What an output file holds, read from its start.

    Attributes
    ----------
    base : int
        Bytes before the first entry (a CSV header, the DCD header).
    ends : list of int
        Byte offset just after each complete, readable entry.
    steps : list of int
        Step of each entry.
    problem : str or None
        Why the reading stopped before the end of the file (None: it reached the end).
    """

    base: int
    ends: list[int]
    steps: list[int]
    problem: str | None = None


def scan_xtc(path: Path) -> Entries:
    """Frame headers of an XTC file (xdrfile layout, big-endian): magic, atoms, step,
    time, box, then the compressed coordinates with their byte count.

    Parameters
    ----------
    path : Path
        The XTC file.
    """
    size, ends, steps, problem = path.stat().st_size, [], [], None
    with path.open("rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            head = fh.read(92)
            if len(head) < 56:
                problem = f"the file is cut short at byte {size}"
                break
            magic, natoms, step, _time = struct.unpack(">iiif", head[:16])
            if magic != XTC_MAGIC:
                problem = f"no frame starts at byte {pos} (zero bytes or garbage)"
                break
            if natoms <= 9:
                length = 56 + 12 * natoms
            elif len(head) < 92:
                problem = f"the file is cut short at byte {size}"
                break
            else:
                (count,) = struct.unpack(">i", head[88:92])
                length = 92 + count + (-count % 4)
            if pos + length > size:
                problem = f"the file is cut short at byte {size}"
                break
            pos += length
            ends.append(pos)
            steps.append(step)
    return Entries(0, ends, steps, problem)


@dataclass(frozen=True)
class DcdHeader:
    """The fields of an OpenMM (CHARMM) DCD header that a resume checks.

    Attributes
    ----------
    n_frames : int
        Frame count the header claims (NSET).
    first_step, interval : int
        Step of the first frame and steps between frames.
    box : bool
        Whether frames carry a unit cell.
    n_atoms : int
    """

    n_frames: int
    first_step: int
    interval: int
    box: bool
    n_atoms: int


def dcd_header(path: Path) -> DcdHeader | None:
    """The header of an OpenMM DCD file, None when it is not one.

    Parameters
    ----------
    path : Path
        The DCD file.
    """
    with path.open("rb") as fh:
        head = fh.read(DCD_HEADER_BYTES)
    if len(head) < DCD_HEADER_BYTES or head[:8] != struct.pack("<i", 84) + b"CORD":
        return None
    n_frames, first, interval = struct.unpack("<3i", head[8:20])
    box = struct.unpack("<i", head[48:52])[0] != 0
    n_atoms = struct.unpack("<i", head[268:272])[0]
    return DcdHeader(n_frames, first, interval, box, n_atoms)


def scan_dcd(path: Path) -> Entries:
    """Frames of an OpenMM DCD file: fixed-size records whose block markers are checked
    (zero bytes or garbage fail them); steps from the header's first step and interval.

    Parameters
    ----------
    path : Path
        The DCD file.
    """
    size = path.stat().st_size
    header = dcd_header(path) if size else None
    if header is None:
        problem = "it has no DCD header" if size else None
        return Entries(0, [], [], problem)
    block = 4 * header.n_atoms
    length = (56 if header.box else 0) + 3 * (block + 8)
    ends, pos, problem = [], DCD_HEADER_BYTES, None
    with path.open("rb") as fh:
        while pos < size:
            if pos + length > size:
                problem = f"the file is cut short at byte {size}"
                break
            if not _dcd_frame_ok(fh, pos, header.box, block):
                problem = f"the frame at byte {pos} is unreadable (zero bytes or garbage)"
                break
            pos += length
            ends.append(pos)
    steps = [header.first_step + k * header.interval for k in range(len(ends))]
    return Entries(DCD_HEADER_BYTES, ends, steps, problem)


def _dcd_frame_ok(fh, pos: int, box: bool, block: int) -> bool:
    markers = []
    if box:
        fh.seek(pos)
        markers += [(fh.read(4), 48)]
        fh.seek(pos + 52)
        markers += [(fh.read(4), 48)]
        pos += 56
    for _ in range(3):
        fh.seek(pos)
        markers.append((fh.read(4), block))
        fh.seek(pos + 4 + block)
        markers.append((fh.read(4), block))
        pos += block + 8
    return all(len(m) == 4 and struct.unpack("<i", m)[0] == want for m, want in markers)


def scan_csv(path: Path) -> Entries:
    """Rows of a CSV output (header line, then one row per report whose first column is
    the step).

    Parameters
    ----------
    path : Path
        The CSV file.
    """
    data = path.read_bytes()
    base = 0
    if data and not data[:1].isdigit():  # the header line
        base = data.find(b"\n") + 1
        if base == 0:
            return Entries(0, [], [], "its header line is cut short")
    ends, steps, pos, problem = [], [], base, None
    while pos < len(data):
        stop = data.find(b"\n", pos)
        if stop < 0:
            problem = f"the last row is cut short at byte {len(data)}"
            break
        first = data[pos:stop].split(b",", 1)[0].strip()
        if not first.isdigit():
            problem = f"the row at byte {pos} is unreadable (zero bytes or garbage)"
            break
        pos = stop + 1
        ends.append(pos)
        steps.append(int(first))
    return Entries(base, ends, steps, problem)


SCANNERS = {".xtc": scan_xtc, ".dcd": scan_dcd, ".csv": scan_csv}
WHAT = {".xtc": "frames", ".dcd": "frames", ".csv": "rows"}


def read_checkpoint(folder: Path) -> dict | None:
    """The production checkpoint record of ``folder`` (None: there is none), checked to
    name a checkpoint file that exists.

    Parameters
    ----------
    folder : Path
        A run directory (or its viscosity folder).

    Raises
    ------
    ResumeError
        For a damaged record or a missing checkpoint file.
    """
    try:
        return read_checkpoint_record(folder)
    except RunDirError as err:  # the record's owner says what is wrong with it
        raise ResumeError(str(err)) from None


def expected_steps(step: int, report_steps: int) -> list[int]:
    """Steps of the entries an output holds at checkpoint step ``step``.

    Parameters
    ----------
    step : int
        Checkpoint step.
    report_steps : int
        Steps between entries.
    """
    return [report_steps * (k + 1) for k in range(step // report_steps)]


def matching(path: Path, step: int, report_steps: int) -> tuple[Entries, int, str | None]:
    """The entries of ``path``, how many of those at checkpoint step ``step`` are there
    intact and at their steps, and why the rest are not (None: all are).

    Parameters
    ----------
    path : Path
        An output file.
    step : int
        Checkpoint step.
    report_steps : int
        Steps between entries.
    """
    want = expected_steps(step, report_steps)
    if not path.exists():
        return Entries(0, [], []), 0, (None if not want else "the file is missing")
    entries = SCANNERS[path.suffix](path)
    good = 0
    for found, expected in zip(entries.steps, want, strict=False):
        if found != expected:
            why = f"entry {good + 1} is at step {found}, not {expected} (from another run?)"
            return entries, good, why
        good += 1
    if good < len(want):
        return entries, good, entries.problem or "the file ends there"
    return entries, good, None


def restore(
    folder: Path, outputs: list[Path], step: int, report_steps: int, hint: str | None = None
) -> list[str]:
    """Cut each output back to the entries checkpoint step ``step`` records (see the
    module docstring); returns a note per file that lost entries written after it.

    Parameters
    ----------
    folder : Path
        The run directory (for the message).
    outputs : list of Path
        Trajectory and CSV outputs.
    step : int
        Checkpoint step.
    report_steps : int
        Steps between entries.
    hint : str, optional
        What to do when an output lacks entries (default: ``RESTART_HINT``).

    Raises
    ------
    ResumeError
        When an output lacks entries the checkpoint records.
    """
    plans = []
    for path in outputs:
        entries, good, why = matching(path, step, report_steps)
        if why is not None:
            n = len(expected_steps(step, report_steps))
            raise ResumeError(
                f"{path} holds {good} intact {WHAT[path.suffix]} of the {n} that the "
                f"checkpoint at step {step} records ({why}); they cannot be recomputed from "
                f"the checkpoint: " + (hint or RESTART_HINT.format(directory=folder))
            )
        plans.append((path, entries, good))
    notes = []
    for path, entries, good in plans:
        if not path.exists():
            continue
        keep = entries.ends[good - 1] if good else entries.base
        if path.stat().st_size != keep:
            notes.append(
                f"{path.name}: cut back to the {good} {WHAT[path.suffix]} of the checkpoint"
            )
            with path.open("r+b") as fh:
                fh.truncate(keep)
        if path.suffix == ".dcd":
            set_dcd_frames(path, good)
    return notes


def set_dcd_frames(path: Path, n_frames: int) -> None:
    """Make an OpenMM DCD header claim ``n_frames`` frames (NSET and last step), as
    OpenMM's DCDFile writes them after each frame.

    Parameters
    ----------
    path : Path
        The DCD file.
    n_frames : int
        Frames the file holds.
    """
    header = dcd_header(path)
    if header is None or header.n_frames == n_frames:
        return
    with path.open("r+b") as fh:
        fh.seek(8)
        fh.write(struct.pack("<i", n_frames))
        fh.seek(20)
        fh.write(struct.pack("<i", header.first_step + max(n_frames - 1, 0) * header.interval))


def check_complete(folder: Path, outputs: list[Path], step: int, report_steps: int) -> None:
    """Refuse outputs that do not hold exactly the entries of a production that reached
    ``step`` (a finished run, or one about to be called finished).

    Parameters
    ----------
    folder : Path
        The run directory (for the message).
    outputs : list of Path
        Trajectory and CSV outputs.
    step : int
        Last step of production.
    report_steps : int
        Steps between entries.

    Raises
    ------
    ResumeError
        When an output is missing entries or holds more than recorded.
    """
    n = len(expected_steps(step, report_steps))
    for path in outputs:
        entries, good, why = matching(path, step, report_steps)
        extra = len(entries.ends) - good if why is None else 0
        if why is None and path.suffix == ".dcd":
            header = dcd_header(path)
            if header is not None and header.n_frames != good:
                why = f"its header claims {header.n_frames} frames"
        if why is not None or extra:
            why = why or f"{extra} more than recorded"
            raise ResumeError(
                f"{path} should hold {n} {WHAT[path.suffix]} but holds {good} intact ones "
                f"({why}); it was changed outside this run: "
                + RESTART_HINT.format(directory=folder)
            )
