"""What users give at the edge, checked before any work: numbers, names, environment
variables, input files and output paths.

Every command-line verb and the design and campaign readers call these checks, so that
a bad value is refused with one line that names the option and says what is allowed
(``InputError``, exit status 2 on the command line), before anything is built, run,
analysed or written.

- Numbers (``number``, ``whole``, ``named_numbers``): finite (``1e400`` reads as
  infinity and is refused), within the physical range the option states.
- Names (``check_name``): campaign and design names are names, not paths.
- Environment (``environment_problem``): ``OPENMM_CPU_THREADS`` and ``NUMBA_NUM_THREADS``
  must be positive whole numbers (OpenMM's CPU platform dies with SIGFPE on ``abc``;
  numba refuses 0 with a traceback at import).
- Input files (``read_text``): a directory, a binary or non-UTF-8 file is refused with a
  line saying so.
- Output paths (``output_file``, ``output_dir``, ``check_outputs``): checked before the
  work: not a directory where a file is written (and no name invented beside it), the
  folder writable (made when missing), never one of the command's inputs or a record of
  a run, build, PMF or campaign directory, and an existing file only overwritten by the
  same kind of output (JSON by JSON, CSV by CSV, an image by an image of its format).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from solvation.errors import InputError
from solvation.jsonio import read_text as read_text  # re-exported: read with the records
from solvation.rundir import DIRECTORY_MARKERS as RUN_MARKERS
from solvation.rundir import RECORD_NAMES as RUN_RECORDS
from solvation.rundir import RECORD_PATTERNS

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
NAME_MAX_LENGTH = 100
# files that belong to a run, build, PMF (rundir) or campaign directory: never an output
# target
RECORD_NAMES = RUN_RECORDS | {
    "catalog.sqlite",
    "ranking.csv",
    "separability.csv",
}
DIRECTORY_MARKERS = (*RUN_MARKERS, "catalog.sqlite")
PLOT_SUFFIXES = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": None, ".jpg": b"\xff\xd8"}
ENV_THREADS = ("OPENMM_CPU_THREADS", "NUMBA_NUM_THREADS")


def _range_text(low, high, low_open: bool, high_open: bool, unit: str) -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        left, right = ("above " if low_open else ""), (" (exclusive)" if high_open else "")
        return f"{left}{low:g} to {high:g}{unit}{right}"
    if low is not None:
        return f"{'above' if low_open else 'at least'} {low:g}{unit}"
    if high is not None:
        return f"{'below' if high_open else 'at most'} {high:g}{unit}"
    return ""


def number(
    option: str,
    value,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
):
    """``value`` when it is a finite number within [low, high] (open ends where asked);
    None passes through.

    Parameters
    ----------
    option : str
        The option or field, for the message ('--distance').
    value : float or None
        The number given.
    unit : str
        Its unit, for the message ('A').
    low, high : float, optional
        Allowed range.
    low_open, high_open : bool
        Exclude the end itself.

    Raises
    ------
    InputError
        For NaN, infinities, text, booleans or values out of range.
    """
    if value is None:
        return None
    allowed = _range_text(low, high, low_open, high_open, unit)
    what = f"a finite number{', ' + allowed if allowed else ''}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{option} must be {what}, got {value!r}")
    bad = not math.isfinite(value)
    bad = bad or (low is not None and (value <= low if low_open else value < low))
    bad = bad or (high is not None and (value >= high if high_open else value > high))
    if bad:
        raise InputError(f"{option} must be {what}, got {value:g}")
    return value


def whole(option: str, value, low: int | None = None, high: int | None = None):
    """``value`` when it is a whole number (not a bool, not text) within [low, high];
    None passes through.

    Parameters
    ----------
    option : str
        The option or field, for the message ('--slots').
    value : int or None
        The number given.
    low, high : int, optional
        Allowed range.

    Raises
    ------
    InputError
        For anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "text" if isinstance(value, str) else type(value).__name__
        raise InputError(f"{option} must be a whole number, got {value!r} ({kind})")
    return int(number(option, value, "", low, high))


def parse_number(option: str, text: str, unit: str = "", **limits) -> float:
    """A number written as text (NAME=VALUE options), checked like ``number``.

    Parameters
    ----------
    option : str
        The option, for the message ('--cutoff water').
    text : str
        The text given.
    unit : str
        Its unit, for the message.
    **limits
        ``low``, ``high``, ``low_open``, ``high_open`` of ``number``.

    Raises
    ------
    InputError
        For text that is not a number, or a number out of range.
    """
    try:
        value = float(str(text).strip())
    except ValueError:
        raise InputError(
            f"{option} must be a number{' in ' + unit if unit else ''}, got {text!r}"
        ) from None
    return number(option, value, unit, **limits)


def named_numbers(option: str, items: dict[str, str], unit: str = "", **limits) -> dict:
    """NAME -> number of NAME=VALUE options, each checked like ``parse_number``.

    Parameters
    ----------
    option : str
        The option ('--cutoff').
    items : dict of str to str
        NAME -> text of the value.
    unit : str
        Unit of the values, for the message.
    **limits
        ``low``, ``high``, ``low_open``, ``high_open`` of ``number``.
    """
    return {k: parse_number(f"{option} {k}", v, unit, **limits) for k, v in items.items()}


def check_name(name, what: str = "name") -> str:
    """``name`` when it is a name (letters, digits, ``. _ + -``, at most 100 characters),
    never a path, an empty string or a hidden file name.

    Parameters
    ----------
    name : str
        The name given.
    what : str
        What it names, for the message ('campaign name').

    Raises
    ------
    InputError
        For anything else.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or name in (".", ".."):
        raise InputError(
            f"{what} {name!r} is not a name: use letters, digits and . _ + - (it names a "
            "folder, so no '/', no leading '.' and not empty)"
        )
    if len(name) > NAME_MAX_LENGTH:
        raise InputError(f"{what} is {len(name)} characters long; use at most {NAME_MAX_LENGTH}")
    return name


def environment_problem(environ=None) -> str | None:
    """What is wrong with the thread-count environment variables (None: nothing).

    Parameters
    ----------
    environ : mapping, optional
        The environment (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    for key in ENV_THREADS:
        value = environ.get(key)
        if value is None:
            continue
        if not value.strip().isdigit() or int(value) < 1:
            return (
                f"environment variable {key}={value!r} must be a whole number of threads >= 1; "
                f"set it to e.g. 2, or unset it (unset {key})"
            )
    return None


def check_environment() -> None:
    """Refuse a bad ``OPENMM_CPU_THREADS`` or ``NUMBA_NUM_THREADS`` (``environment_problem``).

    Raises
    ------
    InputError
        When one is set to something other than a positive whole number.
    """
    problem = environment_problem()
    if problem:
        raise InputError(problem)


# --- output paths ------------------------------------------------------------------------


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_folder(folder: Path, option: str, given: Path) -> None:
    """``folder`` (where ``given`` is written) exists or can be made, and is writable."""
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise InputError(f"{option} {given}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(
            f"{option} {given}: cannot write in {ancestor} (read-only or no permission); "
            "choose a writable place"
        )


def _record_of(path: Path) -> Path | None:
    """The run/build/PMF/campaign directory ``path`` is a record of, else None."""
    named = path.name in RECORD_NAMES or any(p.match(path.name) for p in RECORD_PATTERNS)
    folder = path.parent
    if named and any((folder / m).exists() for m in DIRECTORY_MARKERS):
        return folder
    return None


def _same_kind(path: Path, kind: str) -> bool:
    """Whether the existing file ``path`` holds the kind of output about to replace it."""
    try:
        head = path.read_bytes()[:65536]
    except OSError:
        return False
    if kind == "plot":
        magic = PLOT_SUFFIXES.get(path.suffix.lower())
        return head.startswith(magic) if magic else b"<svg" in head or b"<?xml" in head[:100]
    if b"\0" in head:
        return False
    if kind == "json":
        try:
            json.loads(path.read_text())
        except (ValueError, OSError):
            return False
        return True
    return True  # csv, text


def output_file(path, option: str, kind: str = "json", inputs: Iterable = ()) -> Path | None:
    """Check an output file before the work: see the module docstring. None and ``-``
    (standard output) pass through.

    Parameters
    ----------
    path : str or Path or None
        The file to write.
    option : str
        The option that named it ('--json').
    kind : str
        'json', 'csv', 'text' or 'plot' (a figure: its suffix chooses the format).
    inputs : iterable of path
        Files and directories the command reads (never overwritten).

    Raises
    ------
    InputError
        When the file cannot or must not be written.
    """
    if path is None or str(path) == "-":
        return path
    text, path = str(path), Path(path)
    if path.is_dir() or text.endswith(os.sep):
        raise InputError(
            f"{option} {text} is a directory; give a file name, e.g. {path / ('out.' + kind)}"
        )
    if kind == "plot" and path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(
            f"{option} {text}: give a file name ending in {', '.join(PLOT_SUFFIXES)} "
            "(the suffix chooses the format)"
        )
    _check_folder(path.parent, option, path)
    if not path.exists():
        return path
    _check_existing(path, option, kind, inputs)
    return path


def _check_existing(path: Path, option: str, kind: str, inputs: Iterable) -> None:
    if not path.is_file():
        raise InputError(f"{option} {path} exists and is not a regular file")
    for given in inputs:
        given = Path(given)
        inside = given.is_dir() and path.absolute().parent == given.absolute()
        if (given.exists() and os.path.samefile(given, path)) or (inside and _record_of(path)):
            raise InputError(f"{option} {path} is an input of this command; choose another name")
    record = _record_of(path)
    if record is not None:
        raise InputError(
            f"{option} {path} would overwrite a record of {record} (a run, build, PMF or "
            "campaign directory); choose another name"
        )
    if not os.access(path, os.W_OK):
        raise InputError(f"{option} {path} exists and is not writable")
    if not _same_kind(path, kind):
        raise InputError(
            f"{option} {path} exists and is not a {kind.upper() if kind != 'plot' else 'figure'} "
            "file of this kind; choose another name or remove it"
        )


def output_dir(path, option: str, accepts: Callable[[Path], bool] | None = None) -> Path | None:
    """Check an output folder before the work: not a file, writable (made when missing),
    and, when it exists and holds files (lock files aside), one this command made
    (``accepts``).

    Parameters
    ----------
    path : str or Path or None
        The folder to write into.
    option : str
        The option that named it ('-o').
    accepts : callable, optional
        Whether an existing non-empty folder is this command's own output (default: any
        folder is).

    Raises
    ------
    InputError
        When the folder cannot or must not be written.
    """
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is a file; give a folder")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{option} {path}: cannot write in it (read-only or no permission)")
        held = [p for p in path.iterdir() if not (p.name.startswith(".") and p.suffix == ".lock")]
        if accepts is not None and held and not accepts(path):
            raise InputError(
                f"{option} {path} exists and holds files this command did not make; give a "
                "new or empty folder"
            )
        return path
    _check_folder(path, option, path)
    return path


def check_outputs(outputs: dict, inputs: Iterable = ()) -> None:
    """Check several output files of one command (``output_file``) and that no two are
    the same path.

    Parameters
    ----------
    outputs : dict
        option -> (path or None, kind).
    inputs : iterable of path
        Files and directories the command reads.

    Raises
    ------
    InputError
        For an output that cannot or must not be written, or two options naming one file.
    """
    inputs = list(inputs)
    seen: dict[Path, str] = {}
    for option, (path, kind) in outputs.items():
        checked = output_file(path, option, kind, inputs)
        if checked is None or str(checked) == "-":
            continue
        key = Path(checked).absolute()
        if key in seen:
            raise InputError(f"{seen[key]} and {option} both name {checked}; give two files")
        seen[key] = option


def prepared(path) -> Path:
    """``path`` with its folder made (an output about to be written).

    Parameters
    ----------
    path : str or Path
        The output file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
