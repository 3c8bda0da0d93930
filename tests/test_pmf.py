"""Umbrella sampling and MBAR: an analytic double well recovered within its error bars,
MBAR against umbrella integration on real windows of Zn2+ far from the surface,
windows that resume, and bad input."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import MDAnalysis as mda
import numpy as np
import openmm
import openmm.unit as u
import pandas as pd
import pytest
import tomli_w
from scipy.integrate import quad
from scipy.stats import t as student_t

from solvation.analysis.pmf import decorrelate, umbrella_profile
from solvation.campaigns import Catalog, make_figures, rank_directory, run_campaign
from solvation.campaigns.pmf_runner import run_pmf
from solvation.cli import app, run_cli
from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K
from solvation.errors import SolvationError
from solvation.rundir import read_run, read_umbrella, read_window
from solvation.runs.pmf import pmf_of_directory

T = 298.15
KT = GAS_CONSTANT_KJ_PER_MOL_K * T
WELL = {"A": 3.0 * KT, "b": 0.1}  # U(z) = A ((z/b)^2 - 1)^2: minima at +-b, barrier 3 kT


def _double_well(z: float) -> float:
    return WELL["A"] * ((z / WELL["b"]) ** 2 - 1.0) ** 2


def _sample_windows(centres, k, steps=20000, every=20, seed=7):
    """One particle (10 amu) in the double well along z plus a harmonic bias, Langevin
    dynamics on OpenMM's Reference platform; its z every ``every`` steps per window."""
    system = openmm.System()
    system.addParticle(10.0)
    force = openmm.CustomExternalForce("A*((z/b)^2-1)^2 + 0.5*k*(z-z0)^2")
    for name, value in (("A", WELL["A"]), ("b", WELL["b"]), ("k", k), ("z0", 0.0)):
        force.addGlobalParameter(name, value)
    force.addParticle(0, [])
    system.addForce(force)
    integrator = openmm.LangevinMiddleIntegrator(T, 10.0, 0.002)
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    out = []
    for c in centres:
        context.setParameter("z0", c)
        context.setPositions([openmm.Vec3(0.0, 0.0, c)] * u.nanometer)
        context.setVelocitiesToTemperature(T, seed)
        integrator.step(2000)  # equilibrate in the window
        z = []
        for _ in range(steps // every):
            integrator.step(every)
            z.append(context.getState(getPositions=True).getPositions(asNumpy=True)[0, 2]._value)
        out.append(np.array(z))
    return out


def test_umbrella_mbar_recovers_an_analytic_double_well():
    """MBAR on decorrelated umbrella samples gives F(z) = U(z) + const of a particle in a
    known double well, bin by bin within 3 of its error bars (plus 0.05 kT)."""
    spacing = 0.05
    centres = np.round(np.arange(-0.2, 0.2 + 1e-9, spacing), 6)
    k = 4.0 * KT / spacing**2
    series = _sample_windows(centres, k)
    kept = [s[decorrelate(s).indices] for s in series]
    assert min(len(s) for s in kept) > 100  # uncorrelated samples per window
    edges = np.arange(-0.175, 0.175 + 1e-9, 0.025)  # the wells rise to 27 kT at +-0.2 nm
    profile = umbrella_profile(kept, centres, [k] * len(centres), T, edges)

    def bin_f(mid):
        w = quad(lambda z: np.exp(-_double_well(z) / KT), mid - 0.0125, mid + 0.0125)[0]
        return -KT * np.log(w)

    exact = np.array([bin_f(m) for m in profile.z_nm]) - bin_f(profile.reference_nm)
    deviation = np.abs(profile.free_energy_kj_per_mol - exact)
    err = profile.free_energy_err_kj_per_mol
    assert len(profile.z_nm) == len(edges) - 1
    assert np.all(deviation <= 3.0 * err + 0.05 * KT), (deviation, err)
    # the barrier really is there: F(0) - F(-0.1) about 3 kT
    top = profile.free_energy_kj_per_mol[np.argmin(np.abs(profile.z_nm - 0.0125))]
    well = profile.free_energy_kj_per_mol[np.argmin(np.abs(profile.z_nm + 0.0875))]
    assert 2.0 * KT < top - well < 4.0 * KT
    # errors are sane: finite, positive except at the reference, below 0.5 kT
    assert np.all(np.isfinite(err)) and np.max(err) < 0.5 * KT
    assert np.min(np.diag(profile.overlap[1:, :-1])) > 0.03


def _bulk_pmf_design(tmp_path) -> Path:
    """A Zn(002) slab under 2 nm of water with one ZnCl2: windows 0.9-1.0 nm above the
    slab, beyond the Lennard-Jones cutoff of its atoms (0.7 nm)."""
    design = {
        "name": "flat-pmf",
        "box": {"n_water": 230},
        "salts": [{"formula": "ZnCl2", "concentration": "0.25 m"}],
        "forcefield": {"cutoff": "0.7 nm"},
        "slab": {"facet": "002", "layers": 2, "lateral": "1.45 nm"},
        "pmf": {
            "from": "1.3 nm",
            "to": "1.2 nm",
            "spacing": "0.05 nm",
            "equilibration": "0.5 ps",
            "window_time": "8 ps",
            "pull_time": "1 ps",
        },
        "protocol": {
            "equilibration": "1 ps",
            "production": "0.05 ps",
            "report_every": "0.05 ps",
            "checkpoint_every": "1 ps",
        },
    }
    path = tmp_path / "flat.toml"
    path.write_text(tomli_w.dumps(design))
    return path


@pytest.fixture(scope="module")
def flat_pmf(tmp_path_factory):
    """The PMF of Zn2+ far from the surface, by the command line: 3 windows run
    concurrently (2 processes)."""
    tmp = tmp_path_factory.mktemp("pmf")
    out = tmp / "pmf"
    args = ["pmf", str(_bulk_pmf_design(tmp)), "-o", str(out), "--ion", "Zn2+"]
    run_cli(app, [*args, "--slots", "2", "--platform", "CPU"])
    return out, read_umbrella(out)


def _window_heights(window: Path) -> tuple[np.ndarray, float]:
    """The ion's height above the slab's top atomic plane per frame (nm), read with
    MDAnalysis alone, and the restraint minimum above the plane (nm)."""
    info = read_window(window)
    universe = mda.Universe(window / "topology.pdb", window / "trajectory.xtc")
    slab, ion = universe.select_atoms("resname ZNM"), universe.atoms[info.ion_index]
    heights, centres = [], []
    for ts in universe.trajectory:
        top = slab.positions[:, 2].max()
        heights.append(((ion.position[2] - top) % ts.dimensions[2]) / 10.0)
        centres.append(((info.restraint_z_nm * 10.0 - top) % ts.dimensions[2]) / 10.0)
    return np.array(heights), float(np.mean(centres))


def test_pmf_far_from_the_surface_follows_the_mean_restraint_force(flat_pmf):
    """Away from the slab (1.2-1.3 nm above the top plane) MBAR's F(z) agrees with
    umbrella integration of the mean force each window's restraint exerts,
    dF/dz = k (centre - <z>) at <z> (Kastner and Thiel 2005), from heights read with
    MDAnalysis alone, within 99.9% Student-t bounds of the two errors (degrees of
    freedom from the two windows' uncorrelated samples: 4-27 in 4 ps windows, hence 8 ps)
    plus 0.5 kT for the trapezoid; the ion keeps its six first-shell waters and the
    restraint holds it near each centre.

    F(z) is not flat here in windows of picoseconds: a Cl- 5-7 A from the ion barely
    moves in that time and tilts F by up to 14 kJ/mol over the 0.1 nm (both signs seen,
    with the Cl- below or above the ion); flat holds only on average over the
    counter-ions' positions, which windows this short do not sample."""
    out, setup = flat_pmf
    assert setup.centres_nm == [1.2, 1.25, 1.3]
    assert setup.force_constant_kj_mol_nm2 == pytest.approx(4 * KT / 0.05**2)
    result = pmf_of_directory(out)
    assert len(result.z_nm) >= 3 and result.reference_z_nm == result.z_nm[-1]
    f, df = result.free_energy_kj_per_mol, result.free_energy_err_kj_per_mol
    assert np.all(np.isfinite(df[:-1])) and np.all(df[:-1] > 0)
    means, centres, errors, n_eff = [], [], [], []
    for name in setup.windows:
        heights, centre = _window_heights(out / name)
        kept = heights[decorrelate(heights).indices]
        means.append(kept.mean())
        centres.append(centre)
        errors.append(kept.std(ddof=1) / np.sqrt(len(kept)))
        n_eff.append(len(kept))
    means, centres, errors = np.array(means), np.array(centres), np.array(errors)
    k = setup.force_constant_kj_mol_nm2
    force, force_err = k * (centres - means), k * errors  # dF/dz at each mean (kJ/mol/nm)
    mbar = np.interp(means, result.z_nm, f)
    mbar_err = np.interp(means, result.z_nm, df)
    for a, b in itertools.pairwise(range(len(means))):
        step = means[b] - means[a]
        integrated = 0.5 * (force[a] + force[b]) * step
        err = np.sqrt((0.5 * step) ** 2 * (force_err[a] ** 2 + force_err[b] ** 2))
        err = np.hypot(err, np.hypot(mbar_err[a], mbar_err[b]))
        limit = student_t.ppf(1 - 0.0005, df=max(min(n_eff[a], n_eff[b]) - 1, 1))
        assert abs((mbar[b] - mbar[a]) - integrated) <= limit * err + 0.5 * KT, (
            mbar,
            force,
            means,
            n_eff,
        )
    assert np.all((result.water_count > 5.5) & (result.water_count < 6.5))
    for w in result.windows:  # the restraint holds the ion near its window centre
        assert abs(w["mean_height_nm"] - w["centre_nm"]) < 0.1  # 4 sigma of the restraint
        assert w["n_effective"] >= 2 and w["statistical_inefficiency"] >= 1.0


def test_windows_are_run_directories_that_resume(flat_pmf):
    out, setup = flat_pmf
    catalog = Catalog(out)
    assert set(catalog.jobs().status) == {"done"}
    for k, name in enumerate(setup.windows):
        window = read_window(out / name)
        assert window.index == k and window.centre_nm == setup.centres_nm[k]
        assert read_run(out / name).complete
        system = openmm.XmlSerializer.deserialize((out / name / "system.xml").read_text())
        restraint = [f for f in system.getForces() if f.getName() == "umbrella restraint"]
        assert len(restraint) == 1 and restraint[0].getNumParticles() == 1
    stamps = {n: (out / n / "run.json").stat().st_mtime_ns for n in setup.windows}
    again = run_pmf(out.parent / "flat.toml", out, platform="CPU")
    assert again == setup
    assert stamps == {n: (out / n / "run.json").stat().st_mtime_ns for n in setup.windows}


def test_analyze_pmf_command(flat_pmf, tmp_path):
    out, _ = flat_pmf
    args = ["analyze", "pmf", str(out), "--json", str(tmp_path / "p.json")]
    args += ["--plot", str(tmp_path / "p.png"), "--csv", str(tmp_path / "p.csv")]
    run_cli(app, args)  # returns on success (errors exit with status 1 or 2)
    data = json.loads((tmp_path / "p.json").read_text())
    assert {"desolvation_barrier_kj_per_mol", "water_count", "warnings"} <= set(data)
    assert (tmp_path / "p.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"from": "3 nm"}, "beyond the middle"),
        ({"from": "0.92 nm", "to": "0.9 nm"}, "fewer than two windows"),
        ({"ion": "Xe"}, "unknown ion"),
        ({"ion": "Na+"}, "holds no Na\\+"),
        ({"force_constant": "10 kJ/mol"}, "force constant unit"),
    ],
)
def test_bad_pmf_settings_are_refused_before_any_window_runs(flat_pmf, tmp_path, settings, match):
    out, setup = flat_pmf
    parent = Path(read_umbrella(out).parent)
    with pytest.raises(SolvationError, match=match):
        run_pmf(parent, tmp_path / "bad", platform="CPU", **settings)
    assert not (tmp_path / "bad" / "windows").exists()


def test_pmf_of_a_design_without_slab_is_a_one_line_error(tmp_path, capsys):
    design = tmp_path / "bulk.toml"
    design.write_text(
        tomli_w.dumps({"name": "bulk", "salts": [{"formula": "ZnCl2", "concentration": "1 m"}]})
    )
    with pytest.raises(SystemExit) as exit_info:
        run_cli(app, ["pmf", str(design), "-o", str(tmp_path / "out"), "--platform", "CPU"])
    assert exit_info.value.code == 2
    assert "has no [slab]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_other_settings_in_an_existing_pmf_directory_are_refused(flat_pmf):
    out, _ = flat_pmf
    with pytest.raises(SolvationError, match="other PMF settings"):
        run_pmf(Path(read_umbrella(out).parent), out, platform="CPU", spacing="0.04 nm")


SUBSTRATES = {
    "zn002": {"facet": "002"},
    "zn101": {"facet": "101"},
    "cu5zn8": {"material": "Cu5Zn8", "facet": "110"},
    "zno100": {"material": "ZnO", "facet": "100"},
}


def test_substrate_campaign_ranks_on_pmf_descriptors(tmp_path):
    """Zn(002), Zn(101), Cu5Zn8(110) and ZnO(10-10) against one electrolyte, CI-sized:
    built, run, two umbrella windows each, PMF descriptors in the catalog, ranked, and the
    PMF figure byte-identical when regenerated."""
    designs = []
    for name, slab in SUBSTRATES.items():
        design = {
            "name": name,
            "box": {"n_water": 150},
            "salts": [{"formula": "ZnCl2", "concentration": "0.5 m"}],
            "forcefield": {"cutoff": "0.7 nm"},
            "slab": {"layers": 2, "lateral": "1.45 nm", **slab},
        }
        (tmp_path / f"{name}.toml").write_text(tomli_w.dumps(design))
        designs.append(f"{name}.toml")
    campaign = {
        "name": "substrates",
        "designs": designs,
        "replicas": 1,  # one job per substrate keeps it CI-sized
        "set": {
            "pmf.from": "0.65 nm",  # two windows, stiff enough to stay apart
            "pmf.to": "0.5 nm",
            "pmf.spacing": "0.15 nm",
            "pmf.force_constant": "8000 kJ/mol/nm^2",
            "pmf.equilibration": "0.2 ps",
            "pmf.window_time": "1.5 ps",  # enough uncorrelated samples for two bins
            "pmf.pull_time": "0.5 ps",
        },
        "protocol": {
            "equilibration": "0.2 ps",
            "production": "0.2 ps",
            "report_every": "0.01 ps",
            "checkpoint_every": "0.1 ps",
        },
        "analyses": {"list": ["pmf"]},
        "rank": {"weights": {"desolvation_barrier": -1.0, "adsorption_free_energy": -0.5}},
    }
    path = tmp_path / "campaign.toml"
    path.write_text(tomli_w.dumps(campaign))
    out = tmp_path / "out"
    catalog = run_campaign(path, out, platform="CPU")
    jobs = catalog.jobs()
    assert set(jobs.status) == {"done"}, jobs[["design", "error"]].to_string()
    table = catalog.descriptors().pivot_table(index="design", columns="name", values="value")
    assert sorted(table.index) == sorted(SUBSTRATES)
    assert np.all(np.isfinite(table[["desolvation_barrier", "adsorption_free_energy"]]))
    ranking = rank_directory(out, path)
    assert sorted(ranking.table.design) == sorted(SUBSTRATES)
    first = {p.name: p.read_bytes() for p in make_figures(out, tmp_path / "f1") if "pmf" in p.name}
    again = {p.name: p.read_bytes() for p in make_figures(out, tmp_path / "f2") if "pmf" in p.name}
    assert set(first) == {"pmf.pdf", "pmf.svg", "pmf.png", "pmf.csv"} and first == again
    plotted = pd.read_csv(tmp_path / "f1" / "pmf.csv")
    assert sorted(plotted.design.unique()) == sorted(SUBSTRATES)
