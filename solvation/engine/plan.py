"""What a run will do, said before its first step: each stage with its length and
conditions, and the wall time it will take at a speed measured on this machine.

The speed is this run's own ns/day when earlier invocations recorded one (a resumed
run), else it is timed here: three force evaluations of the system on the chosen
platform after one warm-up evaluation, one evaluation per MD step (the Langevin update
and constraints cost little beside it, so the estimate is a little optimistic).
"""

from __future__ import annotations

import time

from solvation.console import LOGGER

from .protocol import Protocol
from .resume import read_checkpoint

TIMED_EVALUATIONS = 3


def _length(ps: float) -> str:
    return f"{ps / 1000.0:g} ns" if ps >= 1000.0 else f"{ps:g} ps"


def duration_text(seconds: float) -> str:
    """'under a minute', 'about 12 min', 'about 3 h 05 min' or 'about 2 d 4 h'.

    Parameters
    ----------
    seconds : float
        A duration (s).
    """
    minutes = round(seconds / 60.0)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"about {hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"about {days} d {hours} h"


def stage_description(p: Protocol, stage: str) -> str:
    """What ``stage`` does under protocol ``p``, e.g. '100 ps NVT, 50 -> 298.15 K'.

    Parameters
    ----------
    p : Protocol
    stage : str
        One of ``p.stages``.
    """
    if stage == "minimize":
        return (
            f"up to {p.minimize_max_iterations} iterations, tolerance "
            f"{p.minimize_tolerance_kj_mol_nm:g} kJ/mol/nm"
        )
    length = _length(stage_steps(p, stage) * p.dt_ps)
    if stage == "heating":
        return f"{length} NVT, {p.heating_start_k:g} -> {p.temperature_k:g} K"
    if stage == "npt":
        return f"{length} NPT, {p.pressure_bar:g} bar, {p.temperature_k:g} K"
    if stage == "anneal":
        return f"{length} NVT at {p.anneal_temperature_k:g} K"
    if stage == "cool":
        return f"{length} NVT at {p.temperature_k:g} K"
    frames = p.production_steps // p.report_steps
    return (
        f"{length} {p.ensemble}, {p.temperature_k:g} K, a frame every "
        f"{_length(p.report_every_ps)} ({frames} frames)"
    )


def stage_steps(p: Protocol, stage: str) -> int:
    """MD steps of ``stage`` (0 for minimisation).

    Parameters
    ----------
    p : Protocol
    stage : str
        One of ``p.stages``.
    """
    return {
        "minimize": 0,
        "heating": p.heating_steps,
        "npt": p.npt_steps,
        "anneal": p.anneal_steps,
        "cool": p.cool_steps,
        "production": p.production_steps,
    }[stage]


def timed_ns_per_day(context, dt_ps: float, evaluations: int = TIMED_EVALUATIONS) -> float:
    """ns/day from the time of ``evaluations`` force evaluations of ``context``, one per
    step of ``dt_ps``, after one untimed evaluation (kernels, neighbour lists).

    Parameters
    ----------
    context : openmm.Context
    dt_ps : float
        Time step (ps).
    evaluations : int
        Timed evaluations.
    """
    context.getState(getForces=True)
    start = time.perf_counter()
    for _ in range(evaluations):
        context.getState(getForces=True)
    per_step = max((time.perf_counter() - start) / evaluations, 1e-9)
    return dt_ps / 1000.0 / per_step * 86400.0


def _speed(ctx) -> tuple[float, str]:
    """ns/day for the estimate and where it comes from."""
    recorded = [v for k, v in ctx.info.ns_per_day.items() if v and k != "minimize"]
    if recorded:
        return recorded[-1], "measured in this run's earlier stages"
    rate = timed_ns_per_day(ctx.simulation.context, ctx.protocol.dt_ps)
    return rate, f"timed from {TIMED_EVALUATIONS} force evaluations"


def _production_done(ctx) -> int:
    """Production steps a resumed run has behind it (its last checkpoint)."""
    if "production" in ctx.info.stages_done:
        return 0
    record = read_checkpoint(ctx.directory)  # checked by the run before its plan
    return int(record["step"]) if record else 0


def plan_lines(ctx) -> list[str]:
    """The plan of a run (``engine.run.RunContext``): a header, one line per stage (done,
    or its length and estimated wall time) and the total.

    Parameters
    ----------
    ctx : RunContext
    """
    p, info = ctx.protocol, ctx.info
    rate, source = _speed(ctx)
    lines, total_ps = [], 0.0
    for stage in p.stages:
        text = f"  {stage:<11} {stage_description(p, stage)}"
        if stage in info.stages_done:
            lines.append(f"{text}: done")
            continue
        steps = stage_steps(p, stage) - (_production_done(ctx) if stage == "production" else 0)
        ps = steps * p.dt_ps
        total_ps += ps
        lines.append(text + (f": {duration_text(ps / 1000.0 / rate * 86400)}" if ps else ""))
    header = (
        f"plan for {ctx.directory}: {info.n_atoms} atoms on {info.platform}, "
        f"{p.timestep_fs:g} fs steps{' (HMR)' if p.hmr else ''}"
    )
    total = (
        f"  total       {_length(total_ps)} of MD, "
        f"{duration_text(total_ps / 1000.0 / rate * 86400)} at {rate:.3g} ns/day ({source})"
    )
    return [header, *lines, total]


def log_plan(ctx) -> None:
    """Log the plan (``plan_lines``) before the first step.

    Parameters
    ----------
    ctx : RunContext
    """
    for line in plan_lines(ctx):
        LOGGER.info(line)
