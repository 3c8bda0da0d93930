"""Interfacial profiles: a uniform fluid is flat, Poisson's equation on charge sheets gives
the analytic potential drop, coordination by distance equals the bulk value in a
homogeneous lattice, and a built Zn(002) slab shows the depleted contact region."""

from __future__ import annotations

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.coordinates.memory import MemoryReader
from solvation.analysis import load_universe
from solvation.analysis.interface import (
    E_CHARGE,
    EPS0,
    InterfaceProfiles,
    poisson_potential,
    surface_from_build,
)
from solvation.systems import build

from solvation.design import parse_design


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
    z0 = surface_from_build(built.path)
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


def test_surface_from_build_refuses_bulk(tiny_run):
    with pytest.raises(Exception, match="no slab"):
        surface_from_build(tiny_run)
    assert load_universe(tiny_run).atoms.n_atoms > 0


def test_interface_cli_on_a_slab_run(tmp_path):
    import json
    import subprocess
    import sys

    from solvation.run import run

    design = parse_design(
        {
            "name": "iface-run",
            "box": {"n_water": 500},
            "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
            "slab": {"facet": "002", "layers": 3, "repeats": [12, 12]},
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
    assert data["z0_angstrom"] == pytest.approx(built.info["slab"]["z_faces_nm"][1] * 10)
    charge = np.array(data["charge_density_e_per_nm3"])
    assert abs(charge.sum()) * 0.02 < 1e-3  # the whole cell is neutral (bin 0.2 A)
    assert np.isfinite(data["potential_V"]).all() and (tmp_path / "if.png").exists()
