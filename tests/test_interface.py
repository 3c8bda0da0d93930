"""Interfacial profiles: a uniform fluid is flat, Poisson's equation on charge sheets gives
the analytic potential drop, coordination by distance equals the bulk value in a
homogeneous lattice, and a built Zn(002) slab shows the depleted contact region."""

from __future__ import annotations

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.coordinates.memory import MemoryReader

from solvation.analysis import load_universe
from solvation.analysis.interface import InterfaceProfiles, poisson_potential
from solvation.constants import ELEMENTARY_CHARGE_C as E_CHARGE
from solvation.constants import VACUUM_PERMITTIVITY_F_PER_M as EPS0
from solvation.design import parse_design
from solvation.runs.interface import slab_planes
from solvation.systems import build


def points(frames: np.ndarray, box) -> mda.Universe:
    n = frames.shape[1]
    u = mda.Universe.empty(n, n_residues=n, atom_resindex=np.arange(n), trajectory=True)
    u.add_TopologyAttr("names", ["X"] * n)
    u.add_TopologyAttr("resnames", ["A"] * n)
    u.add_TopologyAttr("masses", np.full(n, 18.0))
    u.load_new(
        frames.astype(np.float32),
        format=MemoryReader,
        dimensions=np.tile(np.asarray(box, np.float32), (len(frames), 1)),
    )
    return u


def test_uniform_fluid_gives_flat_profiles():
    box = [30.0, 30.0, 40.0, 90, 90, 90]
    frames = np.random.default_rng(0).random((40, 3000, 3)) * np.array(box[:3])
    res = (
        InterfaceProfiles(points(frames, box), {"a": "all"}, z0=5.0, bin_width=2.0, water=None)
        .run()
        .results.interface
    )
    density = res.number_density_per_nm3["a"]
    expected = 3000 / (30 * 30 * 40 / 1000)
    assert np.allclose(density, expected, rtol=0.08)
    assert res.mass_density_g_per_cm3["a"].mean() == pytest.approx(
        expected * 18 / 6.02214076e23 / 1e-21, rel=0.02
    )


def test_isotropic_water_gives_flat_orientation_distributions():
    """Randomly oriented rigid waters: P(cos theta) of dipole and O-H is uniform (1/20 per
    bin) at every distance, and the mean dipole cos is zero."""
    rng = np.random.default_rng(1)
    n_w, n_frames, box = 2000, 20, [30.0, 30.0, 30.0, 90, 90, 90]
    frames = []
    for _ in range(n_frames):
        o = rng.random((n_w, 3)) * 30.0
        rot = _random_rotations(rng, n_w)
        local = np.array([[0.0, 0.0, 0.0], [0.757, 0.586, 0.0], [-0.757, 0.586, 0.0]])
        frames.append((o[:, None, :] + np.einsum("nij,kj->nki", rot, local)).reshape(-1, 3))
    u = mda.Universe.empty(
        3 * n_w, n_residues=n_w, atom_resindex=np.repeat(np.arange(n_w), 3), trajectory=True
    )
    u.add_TopologyAttr("names", ["OW", "HW1", "HW2"] * n_w)
    u.add_TopologyAttr("resnames", ["HOH"] * n_w)
    u.add_TopologyAttr("masses", [16.0, 1.0, 1.0] * n_w)
    u.load_new(np.array(frames, np.float32), format=MemoryReader, dimensions=box)
    res = InterfaceProfiles(u, {"w": "name OW"}, z0=0.0, bin_width=10.0).run().results.interface
    for dist in (res.water_dipole_cos_distribution, res.water_oh_cos_distribution):
        np.testing.assert_allclose(dist, 1 / 20, atol=0.012)
    assert np.abs(res.water_cos_theta).max() < 0.03


def _random_rotations(rng, n):
    """Uniform random rotation matrices (QR of Gaussian matrices, sign-fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q *= np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    return q


def test_poisson_of_charge_sheets_gives_the_analytic_drop():
    z = np.linspace(0.0, 6.0, 6001)  # nm
    sigma = 0.2  # e/nm^2
    width = 0.05
    sheet = lambda c: np.exp(-0.5 * ((z - c) / width) ** 2) / (width * np.sqrt(2 * np.pi))  # noqa: E731
    rho = sigma * (sheet(2.0) - sheet(4.0))
    phi = poisson_potential(z, rho)
    drop = sigma * E_CHARGE / 1e-18 * 2.0e-9 / EPS0
    assert phi[z < 1.5].max() == pytest.approx(0.0, abs=1e-9)
    assert phi[-1] - phi[0] == pytest.approx(-drop, rel=1e-3)
    inside = (z > 2.5) & (z < 3.5)  # constant field between the sheets
    slope = np.polyfit(z[inside] * 1e-9, phi[inside], 1)[0]
    assert slope == pytest.approx(-sigma * E_CHARGE / 1e-18 / EPS0, rel=1e-3)


def test_coordination_by_distance_equals_bulk_in_a_lattice():
    a, n = 3.0, 8
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    u = points(grid[None] + 0.5, [a * n] * 3 + [90] * 3)
    res = InterfaceProfiles(
        u,
        {"a": "all"},
        z0=0.0,
        bin_width=a,
        water=None,
        center="all",
        shells={"nn": "all"},
        cutoffs={"nn": 1.05 * a},
    ).run()
    cn = res.results.interface.coordination_vs_distance["nn"]
    assert np.allclose(cn[np.isfinite(cn)], 6.0)


def test_built_slab_profiles(tmp_path):
    design = parse_design(
        {
            "name": "iface",
            "box": {"n_water": 500},
            "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
            "slab": {"facet": "002", "layers": 3, "repeats": [12, 12]},
        }
    )
    built = build(design, tmp_path / "slab")
    u = load_universe_single(built.topology_pdb)
    z0 = slab_planes(built.path, u)["top"]
    res = (
        InterfaceProfiles(
            u,
            {"water": "resname HOH and name O"},
            z0=z0,
            bin_width=0.5,
            center="resname ZN",
            shells={"water": "resname HOH and name O"},
            cutoffs={"water": 2.9},
        )
        .run()
        .results.interface
    )
    water = res.number_density_per_nm3["water"]
    d = res.distance_angstrom
    assert np.all(water[d < 2.0] == 0.0)  # nothing closer than the packing gap
    assert water[(d > 6) & (d < 12)].mean() > 20.0  # bulk-like water further out


def load_universe_single(pdb):
    return mda.Universe(str(pdb))


def test_slab_planes_refuse_bulk(tiny_run):
    with pytest.raises(Exception, match="no slab"):
        slab_planes(tiny_run, load_universe(tiny_run))
    assert load_universe(tiny_run).atoms.n_atoms > 0


def test_electrode_run_and_interface_cli(tmp_path):
    """A frozen Zn(002) slab held at 1 V (ConstantPotentialForce, CPU): the engine records
    electrode charges whose total stays at the target (0 e) with the top face positive;
    the CLI reports profiles, the contact layer and the capacitance."""
    import json
    import subprocess
    import sys

    import openmm

    from solvation.engine import run

    design = parse_design(
        {
            "name": "iface-run",
            "box": {"n_water": 350},
            "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
            "slab": {"facet": "002", "layers": 3, "repeats": [9, 10]},
            "electrode": {"potential_difference": "1 V"},
        }
    )
    built = build(design, tmp_path / "slab")
    run(
        built.path,
        platform="CPU",
        production="0.4 ps",
        equilibration="0.4 ps",
        report_every="0.1 ps",
    )
    js = tmp_path / "if.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "analyze",
            "interface",
            str(built.path),
            "--species",
            "water=resname HOH and name O",
            "--json",
            str(js),
            "--plot",
            str(tmp_path / "if.png"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(js.read_text())
    # the top atomic plane in the first frame: where the build put it, give or take the
    # rigid move of the frozen slab by the NPT barostat
    assert data["z0_angstrom"] == pytest.approx(built.info.slab.z_faces_nm[1] * 10, abs=0.3)
    charge = np.array(data["charge_density_e_per_nm3"])
    assert abs(charge.sum()) * 0.02 < 1e-3  # the whole cell is neutral (bin 0.2 A)
    assert np.abs(charge).max() > 0.1  # fixed charges read from the electrode force
    assert np.isfinite(data["potential_V"]).all() and (tmp_path / "if.png").exists()
    # the electrode force replaced Coulomb: no charge left in the NonbondedForce
    system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    assert all(nb.getParticleParameters(i)[0]._value == 0 for i in range(nb.getNumParticles()))
    table = np.loadtxt(built.path / "electrode.csv", delimiter=",", skiprows=1)
    assert len(table) == 4
    np.testing.assert_allclose(table[:, 2] + table[:, 3], 0.0, atol=1e-4)
    assert (table[:, 2] > 0).all() and (table[:, 3] < 0).all()
    np.testing.assert_allclose(table[:, 4], 1.0, rtol=0.05)  # dV at the current box length
    electrode = data["electrode"]
    assert electrode["capacitance_uF_per_cm2"] > 0
    assert electrode["max_abs_total_electrode_charge_e"] < 1e-4
    # Poisson of the electrolyte charges + the electrode face sheets, periodic, minus the
    # applied field, recovers the imposed potential difference across the electrolyte
    assert electrode["poisson_potential_bottom_minus_top_V"] == pytest.approx(-1.0, abs=0.25)
    top = data["contact_layer"]["faces"]["top"]
    assert top["water_contact_per_nm2"]["mean"] > 0
    assert top["composition"]["water"] == pytest.approx(1.0)


def test_contact_layer_counts_coverage_and_residence():
    """Hand-placed molecules: counts per nm^2 and composition per face, water in contact,
    the projected coverage of one atom (pi r^2 / A) and a residence correlation."""
    from solvation.analysis.contact import ContactLayer

    n_frames = 10
    # residues: 0 = A at the top face for the first 6 frames, then far away; 1 = A far
    # away; 2 = A in the bottom layer; 3-7 = water O at the top face
    pos = np.zeros((n_frames, 8, 3))
    pos[:, 0] = [10.0, 10.0, 11.0]
    pos[6:, 0, 2] = 25.0
    pos[:, 1] = [5.0, 5.0, 25.0]
    pos[:, 2] = [15.0, 15.0, 3.0]
    pos[:, 3:8] = np.c_[np.linspace(1, 18, 5), np.full(5, 3.0), np.full(5, 12.0)]
    u = mda.Universe.empty(8, n_residues=8, atom_resindex=np.arange(8), trajectory=True)
    u.add_TopologyAttr("names", ["C"] * 3 + ["O"] * 5)
    u.add_TopologyAttr("resnames", ["ADD"] * 3 + ["HOH"] * 5)
    u.load_new(pos.astype(np.float32), format=MemoryReader, dimensions=[20, 20, 40, 90, 90, 90])
    layer = (
        ContactLayer(
            u,
            {"additive": "resname ADD", "water": "resname HOH"},
            {"top": 10.0, "bottom": 5.0},
            thickness=3.0,
            water_oxygen="resname HOH and name O",
        )
        .run()
        .results.contact
    )
    top, bottom = layer.faces["top"], layer.faces["bottom"]
    area = 4.0  # nm^2
    assert top.molecules_per_nm2["additive"].mean == pytest.approx(0.6 / area)
    assert top.molecules_per_nm2["water"].mean == pytest.approx(5 / area)
    assert top.water_contact_per_nm2.mean == pytest.approx(5 / area)
    assert bottom.molecules_per_nm2["additive"].mean == pytest.approx(1 / area)
    assert bottom.composition == {"additive": 1.0, "water": 0.0}
    probe = ContactLayer(u, {"a": "resname ADD"}, {"top": 10.0}, 3.0)
    atom = np.array([[10.13, 9.71, 11.0]], np.float32)
    covered = probe._coverage(atom, u.dimensions, probe._grid_points(u.dimensions))
    assert covered == pytest.approx(np.pi * 1.5**2 / 400.0, rel=0.05)
    assert top.coverage_fraction["additive"].mean == pytest.approx(
        0.6 * np.pi * 1.5**2 / 400, rel=0.05
    )
    res = top.residence["additive"]
    assert res.continuous[0] == pytest.approx(1.0)
    assert 0 < res.continuous[1] < 1.0 and np.all(np.diff(res.continuous) <= 0)


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"slab": None}, "needs a \\[slab\\]"),
        ({"slab": {"vacuum": "2 nm"}}, "vacuum"),
        ({"slab": {"frozen": False}}, "method = 'cg'"),
    ],
)
def test_electrode_design_rules(extra, message):
    from solvation.design import DesignError

    design = {
        "name": "e",
        "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
        "slab": {},
        "electrode": {"potential_difference": "0.5 V"},
    }
    design.update(extra)
    if design["slab"] is None:
        del design["slab"]
    with pytest.raises(DesignError, match=message):
        parse_design(design)
