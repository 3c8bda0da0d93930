"""Exclusive run directories, Ctrl-C, --extend, campaigns with failed or stopped jobs,
workers that die with their campaign, and the daily command-line options.

Real runs on the CPU platform (the 1 m ZnCl2 box of ``tiny_run``), real process pools
and real signals.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import MDAnalysis as mda
import numpy as np
import openmm
import openmm.app as app
import pandas as pd
import pytest
import tomli_w
from test_campaign import _fake_job as _half_fails  # fails the 0.5 m design
from test_campaign import write_campaign

from solvation.campaigns.catalog import Catalog
from solvation.campaigns.runner import CampaignInterrupted, _safe, run_campaign
from solvation.cli import app as cli_app
from solvation.cli import run_cli
from solvation.console import LOGGER
from solvation.engine.reporters import MinimizationProgress
from solvation.engine.run import run
from solvation.locks import DirectoryBusy, DirectoryLock, LockError
from solvation.rundir import load_system, read_run
from solvation.systems.packing import remove_stale_folders

BUILD_FILES = ("system.xml", "topology.pdb", "build.json", "design.toml")


def _cli(*argv, capsys=None) -> tuple[int, str, str]:
    try:
        run_cli(cli_app, list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def _copy_build(tiny_run: Path, d: Path) -> Path:
    d.mkdir()
    for name in BUILD_FILES:
        shutil.copy(tiny_run / name, d / name)
    return d


def _times(d: Path) -> np.ndarray:
    u = mda.Universe(str(d / "topology.pdb"), str(d / "trajectory.xtc"))
    return np.array([ts.time for ts in u.trajectory])


def _state_steps(d: Path) -> list[int]:
    data = (d / "state.csv").read_bytes()
    assert b"\0" not in data
    return [int(r.split(",")[0]) for r in data.decode().strip().splitlines()[1:]]


def _wait_for(condition, seconds: float = 300.0) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_second_writer_refused_then_sigint_checkpoints_and_resumes(tiny_run, tmp_path, capsys):
    d = _copy_build(tiny_run, tmp_path / "run")
    design = tomllib.loads((d / "design.toml").read_text())
    design["protocol"] = {"minimize_max_iterations": 200}
    (d / "design.toml").write_text(tomli_w.dumps(design))
    options = ["--time", "4ps", "--equilibration", "0.4ps", "--report-every", "0.2ps"]
    options += ["--checkpoint-every", "2ps", "--platform", "CPU"]
    first = subprocess.Popen(
        [sys.executable, "-m", "solvation.cli", "run", str(d), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: (d / "checkpoint.json").exists())  # production has started
    code, _, err = _cli("run", str(d), *options, capsys=capsys)
    assert code == 2 and f"in use by process {first.pid}" in err
    first.send_signal(signal.SIGINT)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 130, stderr
    assert "run stopped in production" in stderr and f"solvation run {d}" in stderr
    assert "Traceback" not in stderr
    info = read_run(d)
    assert not info.complete and "production" not in info.stages_done
    stopped_at = json.loads((d / "checkpoint.json").read_text())["step"]
    assert 0 < stopped_at < 2000 and stopped_at % 100 == 0  # at a report step
    info = run(d, platform="CPU")  # no options: resumes the recorded protocol
    times = _times(d)
    assert info.complete and info.n_frames == len(times) == 20
    assert np.allclose(times, 0.2 * np.arange(1, 21), atol=1e-3)
    assert _state_steps(d) == list(range(100, 2001, 100))
    assert not (d / ".lock").exists()


def test_extend_appends_every_frame_once_with_continuous_times(tiny_run, tmp_path):
    d = tmp_path / "extended"
    shutil.copytree(tiny_run, d, ignore=shutil.ignore_patterns(".*"))
    before = _times(d)
    info = run(d, platform="CPU", extend="1 ps")
    times = _times(d)
    assert len(before) == 20 and info.complete and info.n_frames == len(times) == 30
    assert np.allclose(times[:20], before) and np.allclose(np.diff(times), 0.1, atol=1e-3)
    assert _state_steps(d) == list(range(50, 1501, 50))
    (extension,) = info.extensions
    assert extension["requested"] == "1 ps"
    assert (extension["from_ps"], extension["to_ps"]) == pytest.approx((2.0, 3.0))
    assert info.protocol["production_ps"] == pytest.approx(3.0)
    stamp = (d / "trajectory.xtc").stat().st_mtime_ns
    assert run(d, platform="CPU").complete  # finished again: nothing runs
    assert (d / "trajectory.xtc").stat().st_mtime_ns == stamp


def test_minimisation_reports_progress_and_stops_on_request(tiny_run):
    pdb = app.PDBFile(str(tiny_run / "topology.pdb"))
    simulation = app.Simulation(
        pdb.topology,
        load_system(tiny_run),
        openmm.LangevinMiddleIntegrator(298, 1, 0.002),
        openmm.Platform.getPlatformByName("CPU"),
    )
    energies = []
    for stop in (lambda: True, lambda: False):
        simulation.context.setPositions(pdb.positions)
        simulation.context.setPeriodicBoxVectors(*pdb.topology.getPeriodicBoxVectors())
        start = simulation.context.getState(getEnergy=True).getPotentialEnergy()
        progress = MinimizationProgress(200, stop)
        simulation.minimizeEnergy(maxIterations=200, reporter=progress)
        progress.close()
        energies.append((start._value, progress.energy, progress.iterations))
    # stopped: each constraint-restraint round ends after its first iteration
    assert energies[0][2] < 20 <= energies[1][2] and energies[1][1] < energies[1][0]


# --- campaigns --------------------------------------------------------------------------


def _campaign(root: Path, grid: dict) -> Path:
    return write_campaign(root, name="c", grid=grid, weights={"D_zn": 1.0})


def test_campaign_whose_jobs_all_fail_exits_nonzero_and_status_works(tmp_path, capsys):
    # 0.01 m ZnCl2 in 330 waters rounds to no Zn2+: every job fails in its build
    path = _campaign(tmp_path, {"salts.0.concentration": ["0.01 m", "0.02 m"]})
    out = tmp_path / "out"
    code, stdout, err = _cli("campaign", "run", str(path), "-o", str(out), capsys=capsys)
    assert code == 1 and "2 failed" in stdout and "2 of 2 jobs are not done" in err
    assert "CompositionError" in stdout  # the error column of the table
    code, stdout, _ = _cli("campaign", "status", str(out), "--export", str(out), capsys=capsys)
    assert code == 0 and "failed" in stdout
    jobs = pd.read_csv(out / "jobs.csv")
    assert list(jobs.status) == ["failed", "failed"] and jobs.error.str.contains("zero").all()
    code, _, err = _cli("rank", str(out), capsys=capsys)
    assert code == 2 and "no finished job (1 failed)" in err


def test_failed_job_next_to_a_finished_one_status_export_and_rank(tmp_path, capsys):
    path = _campaign(tmp_path, {"salts.0.concentration": ["0.5 m", "1 m"]})
    out = tmp_path / "out"
    catalog = run_campaign(path, out, job_function=_half_fails, slots=2)
    counts = catalog.counts()
    assert counts == {
        "pending": 0,
        "queued": 0,
        "running": 0,
        "interrupted": 0,
        "failed": 1,
        "done": 1,
    }
    code, stdout, _ = _cli("campaign", "status", str(out), "--export", str(out), capsys=capsys)
    assert code == 0 and "made to fail" in stdout and "1 failed, 1 done" in stdout
    assert {p.name for p in out.iterdir()} >= {"jobs.csv", "descriptors.csv"}
    code, stdout, _ = _cli("rank", str(out), capsys=capsys)  # weights from the stored file
    assert code == 0 and "left out: zn_concentration0.5m: no finished job (1 failed)" in stdout
    assert pd.read_csv(out / "ranking.csv").design.tolist() == ["zn_concentration1m"]


def test_a_locked_job_is_never_started_twice(tmp_path):
    path = _campaign(tmp_path, {"salts.0.concentration": ["1 m"]})
    out = tmp_path / "out"
    job = {"key": "abc123", "design_name": "zn"}
    with DirectoryLock(out / "jobs" / "abc123", "a campaign job", "job"):
        result = _safe(_half_fails, job, str(out), "CPU", None)
    assert set(result) == {"key", "busy"} and f"process {os.getpid()}" in result["busy"]
    with DirectoryLock(out, "a campaign run"):
        with pytest.raises(DirectoryBusy, match=f"in use by process {os.getpid()}"):
            run_campaign(path, out, job_function=_half_fails)


def _interrupted_job(job, directory, platform, device):
    raise KeyboardInterrupt


def test_ctrl_c_leaves_the_running_job_resumable(tmp_path):
    path = _campaign(tmp_path, {"salts.0.concentration": ["0.5 m", "1 m"]})
    out = tmp_path / "out"
    with pytest.raises(CampaignInterrupted, match="left resumable. Resume with"):
        run_campaign(path, out, job_function=_interrupted_job)
    jobs = Catalog(out).jobs()
    assert sorted(jobs.status) == ["interrupted", "pending"]
    run_campaign(path, out, job_function=lambda *a: _half_fails(*a) | {"descriptors": {}})
    assert Catalog(out).counts()["done"] == 1 and Catalog(out).counts()["failed"] == 1


SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from solvation.campaigns.runner import CampaignInterrupted, run_campaign

    def job(job, directory, platform, device):
        pids = Path(directory) / "pids"
        pids.mkdir(exist_ok=True)
        (pids / job["key"]).write_text(str(os.getpid()))
        for _ in range(int(os.environ.get("TICKS", "600"))):
            time.sleep(0.1)
        (Path(directory) / ("finished-" + job["key"])).write_text("")
        return {"key": job["key"], "descriptors": {}, "seconds": 0.0}

    if __name__ == "__main__":
        try:
            run_campaign(sys.argv[1], sys.argv[2], slots=2, job_function=job)
        except CampaignInterrupted as err:
            print(err, file=sys.stderr)
            sys.exit(130)
    """
)


def _default_sigint() -> None:
    """In a child before it runs: SIGINT as a terminal delivers it. A child of a test run
    started in the background (nohup ... &) inherits SIGINT ignored, and Python then
    installs no KeyboardInterrupt handler: the campaign script would ignore Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # an unreaped zombie has exited


def _start_pool_campaign(tmp_path: Path):
    path = _campaign(tmp_path, {"salts.0.concentration": ["0.5 m", "1 m"]})
    script = tmp_path / "campaign_script.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(out)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    _wait_for(lambda: len(list((out / "pids").glob("*"))) == 2, 120)
    time.sleep(0.2)
    pids = [int(p.read_text()) for p in (out / "pids").glob("*")]
    assert all(_alive(p) for p in pids)
    return proc, script, path, out, pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc")
def test_sigint_stops_pool_workers_and_leaves_jobs_resumable(tmp_path):
    proc, _, _, out, pids = _start_pool_campaign(tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "2 job(s) left resumable" in err
    assert not any(_alive(p) for p in pids)
    assert list(Catalog(out).jobs().status) == ["interrupted", "interrupted"]


def _pool_processes(script: Path) -> list[int]:
    """PIDs of the campaign script and its pool workers (they run the same script)."""
    found = subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


# where the Ctrl-C lands: (file that appears first, seconds after it)
SIGINT_POINTS = {
    "pool start-up": ("catalog.sqlite", 0.0),  # the pool and its first workers start
    "workers importing": ("catalog.sqlite", 0.5),  # spawned workers still import
    "pool shutdown": ("finished-*", 0.0),  # jobs return, the pool collects and closes
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc")
@pytest.mark.parametrize("point", list(SIGINT_POINTS))
def test_sigint_at_any_point_of_the_pool_exits_promptly(tmp_path, point):
    """A SIGINT the kernel hands to another thread (it does while the main thread blocks
    signals in fork/exec of a worker) was missed by the pool's blocking wait: the
    campaign then ran on until a job finished. Now it stops within seconds wherever the
    signal lands, leaves no process behind and no job 'running' or 'failed'."""
    path = _campaign(tmp_path, {"salts.0.concentration": ["0.5 m", "1 m"]})
    script = tmp_path / "campaign_script.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    marker, delay = SIGINT_POINTS[point]
    ticks = "1" if marker.startswith("finished") else "600"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(out)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TICKS": ticks},
        preexec_fn=_default_sigint,
    )
    _wait_for(lambda: any(out.glob(marker)) or proc.poll() is not None, 180)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130), err  # 0: the campaign was done before the signal
    assert "Traceback" not in err
    _wait_for(lambda: not _pool_processes(script), 20)
    if (out / "catalog.sqlite").exists():
        assert set(Catalog(out).jobs().status) <= {"pending", "interrupted", "done"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc")
def test_workers_die_with_a_killed_campaign_and_a_rerun_finishes_each_job_once(tmp_path, capsys):
    proc, script, path, out, pids = _start_pool_campaign(tmp_path)
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait()
    _wait_for(lambda: not any(_alive(p) for p in pids), 20)
    code, stdout, _ = _cli("campaign", "status", str(out), capsys=capsys)
    assert code == 0 and "2 dead" in stdout and "running" not in stdout  # not "running"
    shutil.rmtree(out / "pids")
    env = {**os.environ, "TICKS": "1"}
    subprocess.run([sys.executable, str(script), str(path), str(out)], env=env, check=True)
    jobs = Catalog(out).jobs()
    assert list(jobs.status) == ["done", "done"] and list(jobs.attempts) == [2, 2]


# --- daily command-line options ---------------------------------------------------------


def test_version_json_on_stdout_and_quiet(capsys):
    code, out, _ = _cli("--version", capsys=capsys)
    assert code == 0 and out.startswith("solvation ")
    code, out, err = _cli(
        "-q", "forcefields", "list", "--species", "Zn2+", "--json", "-", capsys=capsys
    )
    rows = json.loads(out)  # stdout holds the JSON alone; the table went to stderr
    species = {r["species"] for r in rows}  # Zn2+ rows and the pair terms that involve Zn2+
    assert code == 0 and "Zn2+" in species and "citation" in err
    assert all(s == "Zn2+" or s.startswith("Zn2+ / ") for s in species), species
    assert LOGGER.level == logging.WARNING
    _cli("forcefields", "list", "--species", "Zn2+", capsys=capsys)
    assert LOGGER.level == logging.INFO


def test_help_prints_bracketed_table_names(capsys):
    code, out, _ = _cli("analyze", "water-activity", "--help", capsys=capsys)
    assert code == 0 and "[osmotic]" in out.replace("\n", " ")


# A build whose first packmol run (the 864 pre-hydrated Zn2+ and Cl-) alone takes about
# 9 s: a wide window for a signal during packing. (With the tile-started water, a 1 m
# box of 6000 waters packs its solutes in under a second and needs no second run.)
SLOW_PACKING = {
    "name": "big",
    "salts": [{"formula": "ZnCl2", "concentration": "2 m"}],
    "box": {"n_water": 8000},
}


def test_sigterm_during_packing_leaves_no_temporary_files(tmp_path):
    (tmp_path / "big.toml").write_text(tomli_w.dumps(SLOW_PACKING))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "solvation.cli", "build", str(tmp_path / "big.toml")]
        + ["-o", str(tmp_path / "out")],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    for line in proc.stderr:  # the packing message comes just before packmol starts
        if "with packmol" in line:
            break
    _wait_for(lambda: any(scratch.glob("solvation-packmol-*")), 60)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not list(scratch.iterdir())
    assert not list(tmp_path.glob(".out.*"))  # no temporary build directory, no lock


def test_sigkill_of_a_build_takes_packmol_with_it(tmp_path):
    (tmp_path / "big.toml").write_text(tomli_w.dumps(SLOW_PACKING))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "solvation.cli", "build", str(tmp_path / "big.toml")]
        + ["-o", str(tmp_path / "out")],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    _wait_for(lambda: any(scratch.glob("solvation-packmol-*")), 120)

    def packmol():
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        return [int(p) for p in found.stdout.split()]

    _wait_for(lambda: packmol(), 30)
    children = packmol()
    proc.kill()  # SIGKILL: the build cleans nothing up itself
    proc.wait()
    _wait_for(lambda: not any(_alive(p) for p in children), 10)  # PR_SET_PDEATHSIG
    (left,) = scratch.glob("solvation-packmol-*")
    assert left.name.startswith(f"solvation-packmol-{proc.pid}-")
    assert remove_stale_folders(scratch) == [left] and not left.exists()  # the next build's sweep


def test_a_lock_that_cannot_be_made_is_one_line(tmp_path, capsys):
    where = tmp_path / "a-file"
    where.write_text("x")
    with pytest.raises(LockError, match="cannot create the lock file"):
        DirectoryLock(where).acquire()
