"""Campaign worker processes die with the campaign that started them.

A local pool's workers are started with ``worker_init``: on Linux the kernel sends them
SIGTERM when their parent dies (``prctl(PR_SET_PDEATHSIG)``, set through ctypes); where
that is not available a watcher thread sends it. SIGTERM stops a worker's run at its next
report interval with a checkpoint (``engine.interrupt``) and anything else by unwinding
(``SystemExit``: temporary files are removed). The watcher thread (polling
``os.getppid()``) then ends the orphaned process once its job has unwound: an idle pool
worker would otherwise wait forever for work from a parent that is gone. Workers ignore
SIGINT: Ctrl-C is handled by the campaign, which stops its workers itself; the pool
starts them with SIGINT blocked (``blocked_signals``), so that a Ctrl-C reaching the
process group while a worker still imports does not kill it with a traceback.

A worker that starts a job (any executor) notes where it runs in
``jobs/.KEY.start.json`` (host, time, SLURM job and log): the campaign process reads it to
tell queued jobs from running ones and ``campaign status`` shows it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from solvation.rundir import write_json_atomic

from .slurm import where_am_i

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5
UNWIND_SECONDS = 120.0  # an orphan's job gets this long to checkpoint before it exits
_busy = threading.Event()  # set while this process runs a job


@contextlib.contextmanager
def job_running():
    """Mark this process as running a job (an orphaned worker waits for it to unwind)."""
    _busy.set()
    try:
        yield
    finally:
        _busy.clear()


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _parent_death_signal() -> bool:
    """Ask the kernel for SIGTERM when the parent dies (Linux); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, signal_self: bool) -> None:
    """Once the parent is gone: SIGTERM to this process (where the kernel does not send
    it), wait for the running job to unwind, then exit."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    if signal_self:
        os.kill(os.getpid(), signal.SIGTERM)
    deadline = time.monotonic() + UNWIND_SECONDS
    time.sleep(POLL_SECONDS)  # let the signal reach the job first
    while _busy.is_set() and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    os._exit(128 + signal.SIGTERM)


@contextlib.contextmanager
def blocked_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Block ``signals`` in this thread for the duration (they stay pending and arrive on
    leaving); threads and processes started meanwhile inherit the block.

    Parameters
    ----------
    signals : tuple of signal.Signals
        The signals to block.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_init(parent: int) -> None:
    """Initializer of a campaign pool worker whose parent is process ``parent``: SIGINT
    ignored, SIGTERM unwinds, death of the parent signalled.

    Parameters
    ----------
    parent : int
        PID of the parent process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT,))  # born blocked: see runner
    armed = _parent_death_signal()
    threading.Thread(target=_watch_parent, args=(parent, not armed), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def kill_workers(processes) -> None:
    """SIGKILL to each worker process still alive (after its time to checkpoint ran out).

    Parameters
    ----------
    processes : iterable of multiprocessing.Process
    """
    for process in list(processes):
        try:
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


def stop_workers(processes) -> None:
    """SIGTERM to each live worker process (a stopping campaign's pool).

    Parameters
    ----------
    processes : iterable of multiprocessing.Process
    """
    for process in list(processes):
        try:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass


def start_record(campaign_dir: str | Path, key: str) -> Path:
    """Where the worker that starts job ``key`` notes where it runs (beside the job's lock).

    Parameters
    ----------
    campaign_dir : str or Path
    key : str
        Job key.
    """
    return Path(campaign_dir) / "jobs" / f".{key}.start.json"


def note_start(campaign_dir: str | Path, key: str) -> None:
    """Record that job ``key`` starts in this process: host, time, SLURM job and log.

    Parameters
    ----------
    campaign_dir : str or Path
    key : str
        Job key.
    """
    write_json_atomic(start_record(campaign_dir, key), where_am_i())


def read_start(campaign_dir: str | Path, key: str, since: float) -> dict | None:
    """The start record of job ``key`` written at or after ``since`` (s since the epoch);
    None when the job has not started since then.

    Parameters
    ----------
    campaign_dir : str or Path
    key : str
        Job key.
    since : float
        Time the job was handed to the executor.
    """
    path = start_record(campaign_dir, key)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("started", 0) >= since else None
