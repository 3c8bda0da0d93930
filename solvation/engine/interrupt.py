"""Stopping a run on request (SIGINT, SIGTERM) at a point from which it resumes.

While ``stop_requests()`` is active, the first SIGINT or SIGTERM only sets a flag; the
``StopReporter`` (last in the reporter list, so that the frame, the state row and any
checkpoint of that step are written first) raises ``StopRequested`` at the next report
interval, and the minimiser stops at its next iteration. The run then saves a
checkpoint and says how to resume. A second SIGINT stops at once (KeyboardInterrupt):
the run then resumes from its last periodic checkpoint.

Signal handlers can only be installed in the main thread; elsewhere (a Dask worker
thread) the run keeps the default behaviour.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class StopRequested(Exception):
    """Raised inside the run loop at a report boundary after a stop was requested.

    Parameters
    ----------
    stage : str
        Stage that was stopped.
    step : int
        Step it stopped at.
    """

    def __init__(self, stage: str, step: int):
        super().__init__(f"stop requested in {stage} at step {step}")
        self.stage, self.step = stage, step


class StopRequest:
    """A flag set by SIGINT/SIGTERM while ``stop_requests()`` is active."""

    def __init__(self) -> None:
        self.signal: int | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop signal arrived."""
        return self.signal is not None

    def _handler(self, signum, frame) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: stop now
        self.signal = signum


@contextlib.contextmanager
def stop_requests():
    """Install the SIGINT/SIGTERM handlers of a run; yields its StopRequest."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, request._handler)
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class StopReporter:
    """OpenMM reporter that raises StopRequested at a report step once a stop is asked.

    Parameters
    ----------
    interval : int
        Steps between checks.
    stage : str
        Stage name.
    request : StopRequest
    """

    def __init__(self, interval: int, stage: str, request: StopRequest):
        self._interval, self._stage, self._request = interval, stage, request

    def describeNextReport(self, simulation):
        """OpenMM reporter protocol."""
        steps = self._interval - simulation.currentStep % self._interval
        return {"steps": steps, "periodic": None, "include": []}

    def report(self, simulation, state):
        """OpenMM reporter protocol."""
        if self._request.requested:
            raise StopRequested(self._stage, simulation.currentStep)
