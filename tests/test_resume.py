"""A resume checks what is on disk: every production output against the checkpoint.

A finished 2 ps run (``tiny_run``) extended by 1 ps is a run stopped at its checkpoint
(step 1000, 20 frames, 20 state rows): the damage cases below are refused before any
step runs, and the frames a killed run wrote after its checkpoint are cut back exactly.
Real runs on the CPU platform, real OpenMM checkpoints, XTC and DCD files.
"""

from __future__ import annotations

import json
import shutil
import struct

import MDAnalysis as mda
import numpy as np
import openmm
import openmm.app as app
import pytest
import tomli_w

from solvation.engine.reporters import CheckpointReporter
from solvation.engine.resume import ResumeError, dcd_header, scan_csv, scan_dcd, scan_xtc
from solvation.engine.run import extend_production, run
from solvation.rundir import load_system, read_run


def _stopped(tiny_run, tmp_path):
    """A copy of the finished run, extended by 1 ps: production to resume from step 1000."""
    d = tmp_path / "run"
    shutil.copytree(tiny_run, d, ignore=shutil.ignore_patterns(".*"))
    extend_production(d, "1 ps")
    return d


def _times(d, name="trajectory.xtc"):
    u = mda.Universe(str(d / "topology.pdb"), str(d / name))
    return np.array([ts.time for ts in u.trajectory])


def _refused(d, fragment, complete=False):
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    with pytest.raises(ResumeError, match=fragment) as err:
        run(d, platform="CPU")
    assert "--restart-production" in str(err.value)
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    assert after == before  # a refused resume touches nothing
    assert read_run(d).complete == complete


def _cut(path, size):
    with path.open("r+b") as fh:
        fh.truncate(size)


def test_truncated_trajectory_is_refused(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    xtc = scan_xtc(d / "trajectory.xtc")
    _cut(d / "trajectory.xtc", xtc.ends[11] + 100)  # 12 frames and part of the 13th
    _refused(d, r"holds 12 intact frames of the 20 .* cut short")


def test_deleted_trajectory_is_refused(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    (d / "trajectory.xtc").unlink()
    _refused(d, "holds 0 intact frames of the 20 .*the file is missing")


def test_zero_padded_trajectory_is_refused(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    ends = scan_xtc(d / "trajectory.xtc").ends
    size = (d / "trajectory.xtc").stat().st_size
    _cut(d / "trajectory.xtc", ends[11])  # what the old resume did: cut short, then
    _cut(d / "trajectory.xtc", size)  # padded with zeros up to the recorded size
    _refused(d, "holds 12 intact frames .*zero bytes or garbage")


def test_deleted_state_csv_is_refused(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    (d / "state.csv").unlink()
    _refused(d, "state.csv holds 0 intact rows of the 20")


def test_frames_of_another_run_are_refused(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    data = (d / "trajectory.xtc").read_bytes()
    first = scan_xtc(d / "trajectory.xtc").ends[0]
    (d / "trajectory.xtc").write_bytes(data[first:])  # every frame one report late
    _refused(d, "entry 1 is at step 100, not 50")


def test_damaged_checkpoint_is_refused(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    record = json.loads((d / "checkpoint.json").read_text())
    chk = d / record["file"]
    _cut(chk, chk.stat().st_size // 2)
    _refused(d, "is damaged .*SHA-256")
    (d / "checkpoint.json").write_text("{not json")
    _refused(d, "checkpoint.json is damaged")


def test_finished_run_with_a_cut_trajectory_is_refused(tiny_run, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(tiny_run, d, ignore=shutil.ignore_patterns(".*"))
    ends = scan_xtc(d / "trajectory.xtc").ends
    _cut(d / "trajectory.xtc", ends[14])
    _refused(d, "should hold 20 frames but holds 15", complete=True)


def test_frames_written_after_the_checkpoint_are_cut_back_exactly(tiny_run, tmp_path):
    d = _stopped(tiny_run, tmp_path)
    # a run killed after its checkpoint: two more frames and rows, the last half written
    traj, csv = d / "trajectory.xtc", d / "state.csv"
    frames, rows = traj.read_bytes(), csv.read_text().splitlines(keepends=True)
    last = frames[scan_xtc(traj).ends[-2] :]
    traj.write_bytes(frames + last + last[: len(last) // 2])
    csv.write_text("".join(rows + rows[-1:] + [rows[-1][:10]]))
    info = run(d, platform="CPU")
    times = _times(d)
    assert info.complete and info.n_frames == len(times) == 30
    assert np.allclose(times, 0.1 * np.arange(1, 31), atol=1e-3)
    steps = [int(r.split(",")[0]) for r in csv.read_text().splitlines()[1:]]
    assert steps == list(range(50, 1501, 50))


def test_dcd_resume_keeps_its_header_true(tiny_run, tmp_path):
    d = tmp_path / "dcd"
    d.mkdir()
    for name in ("system.xml", "topology.pdb", "build.json"):
        shutil.copy(tiny_run / name, d / name)
    design = {"name": "dcd", "box": {"n_water": 330}}
    design["salts"] = [{"formula": "ZnCl2", "concentration": "1 m"}]
    design["protocol"] = {"trajectory_format": "dcd", "minimize_max_iterations": 50}
    (d / "design.toml").write_text(tomli_w.dumps(design))
    run(d, platform="CPU", production="0.5 ps", equilibration="0.1 ps", report_every="0.1 ps")
    dcd = d / "trajectory.dcd"
    assert dcd_header(dcd).n_frames == len(scan_dcd(dcd).ends) == 5
    extend_production(d, "0.5 ps")
    # killed after the checkpoint: one more frame written and counted in the header
    data = bytearray(dcd.read_bytes())
    frame = data[scan_dcd(dcd).ends[-2] :]
    data[8:12] = struct.pack("<i", 6)
    dcd.write_bytes(bytes(data + frame))
    run(d, platform="CPU")
    header, scan = dcd_header(dcd), scan_dcd(dcd)
    assert header.n_frames == len(scan.ends) == 10 and scan.problem is None
    assert np.allclose(_times(d, "trajectory.dcd"), 0.1 * np.arange(1, 11), atol=1e-3)
    assert [int(s) for s in scan_csv(d / "state.csv").steps] == list(range(50, 501, 50))
    # a cut DCD is refused; --restart-production runs production again from NPT
    _cut(dcd, scan.ends[3] + 50)
    _refused(d, "should hold 10 frames but holds 4", complete=True)
    info = run(d, platform="CPU", restart_production=True)
    assert info.complete and dcd_header(dcd).n_frames == len(scan_dcd(dcd).ends) == 10


def test_an_output_that_shrinks_while_the_run_writes_stops_it(tiny_run, tmp_path):
    simulation = app.Simulation(
        app.PDBFile(str(tiny_run / "topology.pdb")).topology,
        load_system(tiny_run),
        openmm.VerletIntegrator(0.001),
        openmm.Platform.getPlatformByName("Reference"),
    )
    out = tmp_path / "trajectory.xtc"
    out.write_bytes(b"x" * 1000)
    reporter = CheckpointReporter(tmp_path, 10, [out])
    reporter.save(simulation)
    out.unlink()  # deleted by another program; the writer makes a new, short file
    out.write_bytes(b"x" * 10)
    with pytest.raises(ResumeError, match="shrank from 1000 to 10 bytes"):
        reporter.save(simulation)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["sizes"] == {
        "trajectory.xtc": 1000
    }
