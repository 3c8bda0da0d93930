"""Exclusive use of a directory: one writer at a time.

An advisory ``fcntl.flock`` on a lock file, held for as long as the writer works. The
kernel releases it when the process dies (SIGKILL included), so a crash never leaves a
stale lock behind. The holder's PID and host name are written into the lock file, so
that a second writer is refused with a message that names it, and ``holder_alive`` can
tell a live holder from a dead one (``solvation campaign status``).

``DirectoryLock(DIR)`` locks ``DIR/.lock`` (runs, campaign directories);
``DirectoryLock(DIR, sibling="build")`` locks ``.DIR.build.lock`` beside DIR, for a
directory that need not exist yet (builds, campaign jobs). A released lock file is
removed; a writer that finds its freshly locked file already unlinked by the previous
holder locks the new one instead.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from solvation.errors import SolvationError

LOCK_NAME = ".lock"


class DirectoryBusy(SolvationError):
    """Another process is writing to the directory.

    Parameters
    ----------
    directory : Path
        The locked directory.
    pid : int or None
        Process holding the lock, when known.
    what : str
        What the holder does ('a run', 'a build').
    """

    def __init__(self, directory: Path, pid: int | None, what: str):
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{directory} is in use by {holder} ({what}); wait for it to finish or stop it "
            f"(kill {pid or 'PID'}), then run the command again"
        )
        self.pid = pid


def lock_path(directory: str | Path, sibling: str | None = None) -> Path:
    """The lock file of ``directory``: inside it, or beside it tagged ``sibling``.

    Parameters
    ----------
    directory : str or Path
        The directory to lock.
    sibling : str, optional
        Tag of a lock file beside ``directory`` instead of inside it.
    """
    directory = Path(directory)
    if sibling:
        return directory.parent / f".{directory.name}.{sibling}.lock"
    return directory / LOCK_NAME


class LockError(SolvationError):
    """A lock file that cannot be created (a read-only or foreign directory)."""


def holder_pid(path: Path) -> int | None:
    """PID written into a lock file (None when absent or unreadable).

    Parameters
    ----------
    path : Path
        The lock file.
    """
    return holder(path)[0]


def holder(path: Path) -> tuple[int | None, str | None]:
    """(PID, host name) written into a lock file; None for what is absent or unreadable.

    Parameters
    ----------
    path : Path
        The lock file.
    """
    try:
        words = path.read_text().split()
        return int(words[0]), (words[1] if len(words) > 1 else None)
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None, None


def holder_alive(path: Path) -> bool | None:
    """Whether the process that holds the lock file ``path`` still runs: False when the
    file is gone or its process has ended, None when it runs on another host (not
    checked from here).

    Parameters
    ----------
    path : Path
        The lock file.
    """
    pid, host = holder(path)
    if pid is None:
        return False
    if host is not None and host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


class DirectoryLock:
    """Context manager: exclusive, non-blocking lock of a directory for one writer.

    Parameters
    ----------
    directory : the directory to own
    what : what the holder does, for the refusal message ("a run", "a build")
    sibling : lock a file beside ``directory`` with this tag (it need not exist yet)
    """

    def __init__(self, directory: str | Path, what: str = "a run", sibling: str | None = None):
        self.directory = Path(directory)
        self.what = what
        self.path = lock_path(self.directory, sibling)
        self._fd: int | None = None

    def acquire(self) -> DirectoryLock:
        """Take the lock (non-blocking); raises DirectoryBusy when another process holds it."""
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise DirectoryBusy(self.directory, holder_pid(self.path), self.what) from None
            if self._same_file(fd):
                break
            os.close(fd)  # the previous holder removed this file while we waited: retry
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd
        return self

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise LockError(
                f"cannot create the lock file {self.path} ({err.strerror}): {self.what} needs "
                f"{self.path.parent} writable; copy the directory somewhere writable"
            ) from None

    def _same_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Remove and release the lock file (no-op when not held)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
