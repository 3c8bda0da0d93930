"""Run engine on the CPU platform: outputs, NPT density, kill -9 and resume, NaN guard,
finished runs, platform and protocol errors, hydrogen mass repartitioning."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings

import MDAnalysis as mda
import mdtraj
import numpy as np
import openmm
import openmm.app as app
import pandas as pd
import pytest

from solvation.cli import app as cli_app
from solvation.cli import run_cli
from solvation.design import parse_design
from solvation.engine.platforms import PlatformError, choose_platform
from solvation.engine.protocol import Protocol, ProtocolError, protocol_from
from solvation.engine.reporters import SimulationBlowUp
from solvation.engine.run import RunError, _state_reporter, repartition_hydrogen_mass, run
from solvation.systems import build

FAST = dict(production="3 ps", equilibration="1 ps", report_every="0.2 ps", checkpoint_every="1 ps")
BUILD_FILES = ("system.xml", "topology.pdb", "build.json", "design.toml")


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    design = parse_design(
        {
            "name": "tiny-run",
            "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
            "box": {"n_water": 330},
        }
    )
    return build(design, tmp_path_factory.mktemp("build") / "tiny").path


@pytest.fixture
def fresh(tiny_build, tmp_path):
    """A copy of the build files only (no run outputs)."""

    def make(name="run"):
        d = tmp_path / name
        d.mkdir()
        for f in BUILD_FILES:
            shutil.copy(tiny_build / f, d / f)
        return d

    return make


def _cli(directory, *extra):
    args = [
        sys.executable,
        "-m",
        "solvation.cli",
        "run",
        str(directory),
        "--platform",
        "CPU",
        "--time",
        FAST["production"],
        "--equilibration",
        FAST["equilibration"],
        "--report-every",
        FAST["report_every"],
        "--checkpoint-every",
        FAST["checkpoint_every"],
        *extra,
    ]
    return args


def _frame_times(directory):
    u = mda.Universe(str(directory / "topology.pdb"), str(directory / "trajectory.xtc"))
    return np.array([ts.time for ts in u.trajectory])


def test_run_writes_outputs(fresh):
    d = fresh()
    info = run(d, platform="CPU", **FAST)
    assert info.complete and info.platform == "CPU"
    for name in ("trajectory.xtc", "state.csv", "checkpoint.json", "run.json", "equilibration.csv"):
        assert (d / name).exists(), name
    assert set(info.ns_per_day) == {"minimize", "heating", "npt", "production"}
    assert all(info.ns_per_day[k] > 0 for k in ("heating", "npt", "production"))
    assert 0.9 < info.density_g_per_cm3 < 1.4
    times = _frame_times(d)
    assert len(times) == 15 and np.allclose(times, 0.2 * np.arange(1, 16), atol=1e-4)
    assert mdtraj.load(str(d / "trajectory.xtc"), top=str(d / "topology.pdb")).n_frames == 15
    rows = (d / "state.csv").read_text().strip().splitlines()
    assert rows[0].startswith("#") and len(rows) == 16
    assert "Density" in rows[0] and "Speed" in rows[0] and "Temperature" in rows[0]
    saved = json.loads((d / "run.json").read_text())
    assert saved["concentrations_after_npt"][0]["unit"] == "mol/kg"


def test_npt_moves_density_toward_the_model_value(fresh):
    d = fresh()
    pdb = app.PDBFile(str(d / "topology.pdb"))
    box = np.array(pdb.topology.getPeriodicBoxVectors().value_in_unit(openmm.unit.nanometer))
    pdb.topology.setPeriodicBoxVectors(box * 1.08)  # 26% more volume, gaps at the faces
    with (d / "topology.pdb").open("w") as fh:
        app.PDBFile.writeFile(pdb.topology, pdb.positions, fh)
    start = 1.08**3 * np.linalg.det(box)
    # a barostat move every 5 steps: 400 moves in 4 ps (with the default 25 the volume fell
    # by 2.3-3% in 4 ps, too close to the threshold)
    info = run(
        d,
        platform="CPU",
        production="0.4 ps",
        equilibration="4 ps",
        report_every="0.2 ps",
        barostat_interval=5,
    )
    assert info.npt_volume_nm3 < 0.95 * start  # 0.86-0.87 in two runs


def test_kill_minus_nine_then_resume_equals_uninterrupted(fresh):
    reference, killed = fresh("reference"), fresh("killed")
    subprocess.run(_cli(reference), check=True, capture_output=True)
    proc = subprocess.Popen(
        _cli(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    marker = killed / "checkpoint.json"
    deadline = time.time() + 300
    while time.time() < deadline:
        if marker.exists() and json.loads(marker.read_text())["step"] >= 500:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # land somewhere between checkpoints
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not json.loads((killed / "run.json").read_text())["complete"]
    subprocess.run(_cli(killed), check=True, capture_output=True)
    ref_t, got_t = _frame_times(reference), _frame_times(killed)
    assert len(got_t) == len(ref_t) == 15
    assert np.all(np.diff(got_t) > 0) and np.allclose(got_t, ref_t, atol=1e-4)
    rows = (killed / "state.csv").read_text().strip().splitlines()[1:]
    steps = [int(r.split(",")[0]) for r in rows]
    assert steps == sorted(set(steps)) and len(steps) == 15


def test_blow_up_names_stage_and_step_and_keeps_checkpoint(fresh):
    d = fresh()
    with pytest.raises((SimulationBlowUp, RunError), match=r"heating.*step \d+"):
        run(
            d,
            protocol=Protocol(
                timestep_fs=25.0, production_ps=1.0, equilibration_ps=2.0, report_every_ps=0.1
            ),
            platform="CPU",
        )
    assert (d / "stage-minimize.xml").exists()
    assert json.loads((d / "run.json").read_text())["stages_done"] == ["minimize"]


def test_finished_run_is_not_rerun(fresh):
    d = fresh()
    run(d, platform="CPU", **FAST)
    stamp = (d / "trajectory.xtc").stat().st_mtime_ns
    start = time.perf_counter()
    info = run(d, platform="CPU", **FAST)
    assert info.complete and time.perf_counter() - start < 2.0
    assert (d / "trajectory.xtc").stat().st_mtime_ns == stamp
    with pytest.raises(
        RunError, match=r"different protocol \(production_ps: recorded 3\.0, now 5\.0\)"
    ):
        run(d, platform="CPU", **{**FAST, "production": "5 ps"})


def test_missing_platform_lists_available():
    with pytest.raises(PlatformError, match="available: .*CPU"):
        choose_platform("NoSuchPlatform")
    platform, props = choose_platform("CPU")
    assert platform.getName() == "CPU" and props == {}


def test_protocol_needs_units_and_hmr_for_4fs():
    with pytest.raises(ProtocolError, match="has no unit"):
        protocol_from({"production": "2"})
    with pytest.raises(ProtocolError, match="hmr"):
        protocol_from({"timestep": "4 fs"})
    p = protocol_from({"hmr": True})
    assert p.timestep_fs == 4.0 and p.production_steps == 500_000
    with pytest.raises(ProtocolError, match="unknown key"):
        protocol_from({"lenght": "2 ns"})


def test_hydrogen_mass_repartitioning_conserves_mass(tmp_path):
    design = parse_design(
        {
            "name": "hmr",
            "additives": [{"name": "EG", "concentration": "1 m"}],
            "box": {"n_water": 330},
        }
    )
    d = build(design, tmp_path / "hmr").path
    system = openmm.XmlSerializer.deserialize((d / "system.xml").read_text())
    top = app.PDBFile(str(d / "topology.pdb")).topology
    before = [system.getParticleMass(i)._value for i in range(system.getNumParticles())]
    n = repartition_hydrogen_mass(system, top, 3.0)
    after = [system.getParticleMass(i)._value for i in range(system.getNumParticles())]
    assert sum(after) == pytest.approx(sum(before), rel=1e-12)
    hydrogens = [a for a in top.atoms() if a.element is not None and a.element.symbol == "H"]
    eg_h = [a.index for a in hydrogens if a.residue.name == "EGL"]
    water_h = [a.index for a in hydrogens if a.residue.name == "HOH"]  # 4-site: M has none
    assert n == len(eg_h) and all(after[i] == 3.0 for i in eg_h)
    assert all(after[i] == before[i] for i in water_h)


def test_bench_md_reports_ratio(tiny_build, tmp_path):
    """`solvation bench md` times both loops on the same System: the JSON's ratio is ours
    over plain, both rates positive and of one order (same System, same steps)."""
    out = tmp_path / "bench.json"
    args = ["bench", "md", str(tiny_build), "--steps", "200", "--repeats", "1"]
    run_ = subprocess.run(
        [sys.executable, "-m", "solvation.cli", *args, "--platform", "CPU", "--json", str(out)],
        capture_output=True,
        text=True,
    )
    assert run_.returncode == 0, run_.stderr
    assert "plain OpenMM" in run_.stdout and "ratio" in run_.stdout
    r = json.loads(out.read_text())
    plain, ours = r["plain_openmm_ns_per_day"], r["solvation_ns_per_day"]
    assert r["steps"] == 200 and plain > 0 and ours > 0
    assert r["ratio"] == pytest.approx(ours / plain) and 0.1 < r["ratio"] < 10


def test_slab_runs_with_z_only_barostat_and_frozen_metal(tmp_path):
    design = parse_design(
        {
            "name": "slab-run",
            "box": {"n_water": 500},
            "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
            "slab": {"facet": "002", "layers": 3, "repeats": [12, 12]},
        }
    )
    d = build(design, tmp_path / "slab").path
    start = app.PDBFile(str(d / "topology.pdb"))
    info = run(d, platform="CPU", production="0.4 ps", equilibration="1 ps", report_every="0.1 ps")
    assert info.complete
    u = mda.Universe(str(d / "topology.pdb"), str(d / "trajectory.xtc"))
    metal = u.select_atoms("resname ZNM")
    box0 = np.array(start.topology.getPeriodicBoxVectors().value_in_unit(openmm.unit.angstrom))
    ref = np.array(start.positions.value_in_unit(openmm.unit.angstrom))[metal.indices]
    for ts in u.trajectory:
        assert np.allclose(ts.dimensions[:2], np.linalg.norm(box0[:2], axis=1), atol=1e-3)
        shift = metal.positions - ref
        assert np.allclose(shift - shift.mean(0), 0.0, atol=0.02)  # rigid, frozen slab


def test_anneal_stage_heats_then_returns_to_the_run_temperature(fresh):
    """[protocol] anneal: NVT at the annealing temperature after NPT, then NVT back at the
    run temperature before production; each stage is recorded and resumable."""
    d = fresh()
    info = run(
        d,
        platform="CPU",
        production="1 ps",
        equilibration="1 ps",
        report_every="0.1 ps",
        anneal={"temperature": "500 K", "time": "2 ps", "cool": "2 ps"},
    )
    assert info.stages_done == ["minimize", "heating", "npt", "anneal", "cool", "production"]
    assert (d / "stage-anneal.xml").exists() and (d / "stage-cool.xml").exists()
    eq = pd.read_csv(d / "equilibration.csv")
    temperature = eq[[c for c in eq.columns if c.startswith("Temperature")][0]].to_numpy()
    assert temperature.max() > 420.0  # the annealing stage heated the box
    production = pd.read_csv(d / "state.csv")
    t_prod = production[[c for c in production.columns if c.startswith("Temperature")][0]]
    assert abs(t_prod.mean() - 298.15) < 60.0  # back near the run temperature


@pytest.mark.parametrize(
    "anneal,message",
    [
        ({"temperature": "400 K"}, "anneal must be a table"),
        ({"temperature": "250 K", "time": "1 ns"}, "temperature above the run temperature"),
        ({"temperature": "400 K", "time": "1 ns", "pressure": "1 bar"}, "unknown keys"),
        ({"temperature": "400 K", "time": "1 ns"}, None),
    ],
)
def test_anneal_table_is_checked(anneal, message):
    if message is None:
        assert protocol_from({"anneal": anneal}).anneal_temperature_k == 400.0
        return
    with pytest.raises(ProtocolError, match=message):
        protocol_from({"anneal": anneal})


@pytest.mark.parametrize("existing", ["", "#header\n1,2\n"])
def test_state_csv_keeps_its_header_when_resumed_from_an_empty_file(tmp_path, existing):
    """A resume from the checkpoint written before production's first report truncates
    state.csv to nothing: the header is written again instead of appending rows to it."""
    system = openmm.System()
    system.addParticle(18.0)
    system.setDefaultPeriodicBoxVectors(*np.eye(3) * 2.0)
    topology = app.Topology()
    topology.addAtom("O", app.element.oxygen, topology.addResidue("HOH", topology.addChain()))
    topology.setPeriodicBoxVectors(np.eye(3) * 2.0)
    sim = app.Simulation(
        topology, system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("CPU")
    )
    sim.context.setPositions([openmm.Vec3(1.0, 1.0, 1.0)])
    path = tmp_path / "state.csv"
    path.write_text(existing)
    reporter = _state_reporter(path, 1, append=True, total_steps=10)
    reporter.report(sim, sim.context.getState(getEnergy=True))
    del reporter  # closes the file
    lines = path.read_text().splitlines()
    if existing:
        assert lines[:2] == ["#header", "1,2"] and len(lines) == 3  # appended, no header
    else:
        assert lines[0].startswith('#"Step"') and len(lines) == 2


def _zn_sulfate_contacts(directory, state_file):
    """Zn2+ with a sulfate O within 3.0 A in a saved stage state (periodic)."""
    state = openmm.XmlSerializer.deserialize((directory / state_file).read_text())
    u = mda.Universe(str(directory / "topology.pdb"))
    x = state.getPositions(asNumpy=True).value_in_unit(openmm.unit.angstrom)
    box = np.diag(state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(openmm.unit.angstrom))
    zn = u.select_atoms("resname ZN").indices
    o = u.select_atoms("resname SO4 and element O").indices
    d = x[zn][:, None] - x[o][None]
    d -= box * np.round(d / box)
    return int((np.linalg.norm(d, axis=-1).min(axis=1) < 3.0).sum())


def test_minimisation_keeps_a_prehydrated_start_free_of_contact_pairs(tmp_path):
    """2 m ZnSO4, full-charge 12-6-4 family, the validation suite's 560-water box (seed 2):
    minimised without the guard, 1 of its 20 Zn2+ (one CPU thread) or 2 (two threads) were
    pulled into contact with sulfate (300-water boxes were not); the engine minimises with
    anions held hydration.GUARD_ANGSTROM away, so dynamics start with none."""
    spec = {
        "name": "guard",
        "box": {"n_water": 560},
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        "water": {"model": "tip3p"},  # the family whose minimiser made contact pairs
        "forcefield": {"family": "full", "seed": 2},
    }
    d = build(parse_design(spec), tmp_path / "g").path
    info = run(
        d,
        platform="CPU",
        production="0.1 ps",
        equilibration="0.2 ps",
        report_every="0.05 ps",
        checkpoint_every="0.1 ps",
    )
    assert info.complete and _zn_sulfate_contacts(d, "stage-minimize.xml") == 0


def test_run_help_shows_the_defaults(capsys):
    run_cli(cli_app, ["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    p = Protocol()
    assert p.production_ps == 2000.0 and "Production length. [default: 2ns" in text
    assert f"[default: {p.equilibration_ps:g}ps" in text and "[default: 1ps" in text
    assert "[default: 100ps" in text and "[default: 2fs" in text and "[default: NVT" in text
    assert "Prints the plan first" in text


def test_plan_one_bar_per_stage_and_extend_with_execution_options(fresh, capsys, monkeypatch):
    """The plan (every stage, its length, a wall-time estimate at a timed ns/day) comes
    before the first step; heating draws one progress bar, not one per temperature step,
    and no TqdmWarning; --extend takes execution options (threads, checkpoint interval)
    and names the physics options it refuses."""
    import solvation.engine.reporters as reporters

    bars = []

    class Recorded(reporters.tqdm):
        def __init__(self, *args, **kwargs):
            bars.append(kwargs.get("desc"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(reporters, "tqdm", Recorded)
    monkeypatch.setattr(reporters, "show_progress", lambda: True)
    d = fresh()
    cli = ["run", str(d), "--platform", "CPU", "--time", "1ps", "--equilibration", "1ps"]
    cli += ["--report-every", "0.2ps", "--checkpoint-every", "1ps"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_cli(cli_app, cli)
    err = capsys.readouterr().err
    assert not [w for w in caught if "Tqdm" in type(w.message).__name__]
    assert bars.count("heating") == 1 and bars.count("npt") == 1
    plan = err[err.index("plan for") : err.index("total")]
    for line in ("minimize    up to", "heating     0.2 ps NVT, 50 -> 298.15 K", "npt "):
        assert line in plan, plan
    assert "production  1 ps NVT, 298.15 K, a frame every 0.2 ps (5 frames)" in plan
    assert "ns/day (timed from 3 force evaluations)" in err
    run_cli(
        cli_app,
        ["run", str(d), "--extend", "0.4ps", "--threads", "1", "--checkpoint-every", "0.2ps"],
    )
    info = json.loads((d / "run.json").read_text())
    assert (
        info["complete"]
        and info["n_frames"] == 7
        and info["protocol"]["checkpoint_every_ps"] == 0.2
    )
    assert "measured in this run's earlier stages" in capsys.readouterr().err
    with pytest.raises(RunError, match="drop --time, --equilibration"):
        run(d, extend="1 ps", production="5 ps", equilibration="2 ps")


def _zn_sulfate_topology():
    top = app.Topology()
    chain = top.addChain()
    zn = top.addResidue("ZN", chain)
    top.addAtom("ZN", app.element.zinc, zn)
    so4 = top.addResidue("SO4", chain)
    top.addAtom("S", app.element.sulfur, so4)
    for k in range(4):
        top.addAtom(f"O{k + 1}", app.element.oxygen, so4)
    return top


def test_minimiser_energy_is_the_systems_with_the_guard_apart():
    """The contact guard's energy computed apart (periodic images included) equals what
    OpenMM adds for it, and the minimiser's printed energy has it removed."""
    from solvation.engine.reporters import MinimizationProgress
    from solvation.systems.hydration import contact_guard, guard_energy, guard_pairs

    top = _zn_sulfate_topology()
    box = np.diag([2.0, 2.0, 2.0])
    x = np.array([[0.05, 1.0, 1.0], [1.75, 1.0, 1.0], [1.80, 1.0, 1.0]] + [[1.0, 0.3, 1.0]] * 3)
    x[3:, 0] += [0.0, 0.3, 0.6]
    system = openmm.System()
    system.setDefaultPeriodicBoxVectors(*box)
    for _ in range(6):
        system.addParticle(10.0)
    guard = contact_guard(top, {"ZN"}, {"SO4"})
    assert guard.getNumBonds() == 4  # Zn with each sulfate O; S is no acceptor
    system.addForce(guard)
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(x)
    openmm_energy = context.getState(getEnergy=True).getPotentialEnergy()._value
    cat, acc = guard_pairs(top, {"ZN"}, {"SO4"})
    ours = guard_energy(x, cat, acc, box)
    # only O1 is inside the wall: Zn at x = 0.05, O1 at 1.80, 0.25 nm apart through the
    # periodic boundary (1.75 nm directly): k (0.35 - 0.25)^2 = 1e5 * 0.01
    assert ours == pytest.approx(1000.0, rel=1e-9)
    assert ours == pytest.approx(openmm_energy, rel=1e-9)
    progress = MinimizationProgress(10, penalty=lambda flat: guard_energy(flat, cat, acc, box))
    progress.bar.disable = True
    progress._energies(x.ravel(), -5000.0 + ours)
    assert progress.energy == pytest.approx(-5000.0) and progress.penalty_energy == ours
    assert progress.text().startswith("E = -5000 kJ/mol (+ contact guard")
    progress.close()
