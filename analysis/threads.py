"""How many threads the compiled kernels use, and which threading layer runs them.

- Threads: at most the cores this process may run on (``os.sched_getaffinity``; numba's
  own default, capped by ``NUMBA_NUM_THREADS``). ``set_threads`` lowers it for this
  process, e.g. ``solvation analyze --threads N`` or a campaign job that shares the
  machine with other slots (``threads_per_slot``: cores / slots).
- Layer: numba's ``omp`` layer in the PyPI wheels is GNU OpenMP, which aborts a process
  forked after it started its threads ("fork() called from a process already using GNU
  OpenMP"): MDAnalysis' multiprocessing backend and process pools fork. Unless
  ``NUMBA_THREADING_LAYER`` says otherwise, the fork-safe choice is made: TBB (the
  ``tbb`` wheel, a dependency), else numba's ``workqueue``. The wheel puts libtbb in
  ``<prefix>/lib``, outside the loader's path, so it is loaded here by its full path
  before numba looks for it. TBB starts a parallel loop in about 4 us where
  ``workqueue`` took 150 us on the 2-core test machine, and the H-bond and structure
  analyses start several loops per frame. ``workqueue`` must not be entered by two
  threads of one process at once (numba stops the process if it is): run analyses in
  processes, not threads, as the campaign executors do (one thread per Dask worker).
- First compilation: the kernels are compiled on their first use on a machine (or after
  their source changes), about 10-30 s, and cached on disk (``cache=True``); a listener
  on numba's ``numba:compile`` event, which numba fires only when its cache misses, says
  so in one line on stderr (the ``solvation`` logger) the first time it happens.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import numba
import numba.core.event

from solvation.console import LOGGER

TBB_LIBRARY = Path(sys.prefix) / "lib" / "libtbb.so.12"

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "forksafe"
    if TBB_LIBRARY.exists():
        try:
            ctypes.CDLL(str(TBB_LIBRARY), mode=ctypes.RTLD_GLOBAL)
        except OSError:  # an unusable build: numba falls back to workqueue
            pass


class FirstCompileNotice(numba.core.event.Listener):
    """Logs one line when numba starts compiling one of our kernels (a disk-cache miss):
    the only sign, otherwise, of a first analysis that takes 10-30 s longer."""

    def __init__(self):
        self.noticed = False

    def on_start(self, event):
        """numba event protocol: a compilation starts."""
        dispatcher = (event.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if self.noticed or not module.startswith("solvation."):
            return
        self.noticed = True
        LOGGER.info(
            "compiling the analysis kernels for this machine (first use only, about 10-30 s; "
            "cached for later runs)"
        )

    def on_end(self, event):
        """numba event protocol: a compilation ends."""


FIRST_COMPILE = FirstCompileNotice()
numba.core.event.register("numba:compile", FIRST_COMPILE)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_threads(n: int | None = None) -> int:
    """Use ``n`` threads in the kernels (None: every core this process may use), capped
    by the cores available and ``NUMBA_NUM_THREADS``; returns the number set.

    Parameters
    ----------
    n : int, optional
        Threads wanted.
    """
    limit = min(available_cores(), numba.config.NUMBA_NUM_THREADS)
    n = limit if n is None else max(1, min(int(n), limit))
    numba.set_num_threads(n)
    return n


def threads_per_slot(slots: int) -> int:
    """Threads for one of ``slots`` jobs running side by side: cores / slots (at least 1).

    Parameters
    ----------
    slots : int
        Jobs running side by side.
    """
    return max(1, available_cores() // max(1, int(slots)))
