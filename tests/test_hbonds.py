"""Hydrogen-bond network: hand-built dimers, the tetrahedral order parameter, counts
against MDAnalysis HydrogenBondAnalysis on the same frames, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.analysis.hydrogenbonds import HydrogenBondAnalysis
from MDAnalysis.coordinates.memory import MemoryReader

from solvation.analysis import load_universe
from solvation.analysis.hbonds import HydrogenBonds, tetrahedral_q

R_OH, HALF = 0.9572, np.radians(104.52 / 2)


def water(o, axis, other):
    """Water with O at ``o``, one O-H along ``axis`` and the other in the plane of
    ``other``."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    perp = np.cross(axis, other)
    perp /= np.linalg.norm(perp)
    h2_dir = np.cos(2 * HALF) * axis + np.sin(2 * HALF) * np.cross(perp, axis)
    return [o, o + R_OH * axis, o + R_OH * h2_dir]


ORTHO = [30, 30, 30, 90, 90, 90]
TRICLINIC = [30, 30, 30, 90, 90, 75]  # the numpy/nsgrid path instead of the cell kernel


def dimer_universe(oo: float, tilt_deg: float, box=ORTHO) -> mda.Universe:
    """Donor water at the origin with H1 pointing (tilted by ``tilt_deg``) at the acceptor
    O, ``oo`` A away along x."""
    t = np.radians(tilt_deg)
    donor = water(np.zeros(3), [np.cos(t), np.sin(t), 0], [0, 0, 1])
    acceptor = water(np.array([oo, 0, 0]), [0.3, 0.9, 0.2], [1, 0, 0])
    pos = np.array(donor + acceptor)[None] + 10.0
    u = mda.Universe.empty(6, n_residues=2, atom_resindex=[0, 0, 0, 1, 1, 1], trajectory=True)
    u.add_TopologyAttr("names", ["O", "H1", "H2"] * 2)
    u.add_TopologyAttr("resnames", ["HOH", "HOH"])
    u.load_new(
        pos.astype(np.float32),
        format=MemoryReader,
        dimensions=np.array([box], np.float32),
    )
    return u


@pytest.mark.parametrize("box", [ORTHO, TRICLINIC])
@pytest.mark.parametrize(
    "oo,tilt,expected",
    [(2.8, 0.0, 1), (2.8, 25.0, 1), (2.8, 35.0, 0), (3.4, 10.0, 1), (3.6, 0.0, 0)],
)
def test_dimer_geometry(oo, tilt, expected, box):
    res = HydrogenBonds(dimer_universe(oo, tilt, box)).run().results.hbonds
    assert res.donor_per_water.mean * 2 == expected
    assert res.class_fractions.get("D" if expected else "none", 0) == 0.5 + 0.5 * (not expected)


def test_tetrahedral_order():
    d = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3) * 2.8
    pts = np.vstack([[20.0, 20.0, 20.0], 20.0 + d])
    q = tetrahedral_q(pts.astype(np.float32), np.array([60, 60, 60, 90, 90, 90], np.float32))
    assert q[0] == pytest.approx(1.0, abs=1e-5)
    rnd = np.random.default_rng(0).random((3000, 3)).astype(np.float32) * 40
    q_rnd = tetrahedral_q(rnd, np.array([40, 40, 40, 90, 90, 90], np.float32))
    assert abs(q_rnd.mean()) < 0.03


@pytest.mark.parametrize("distance", [3.5, 2.6])
def test_q_from_the_donor_search_equals_its_own_search(tiny_run, distance):
    """The H-bond kernel hands tetrahedral_q the nearest water O it met within the donor
    cutoff (a short cutoff leaves most rows to the widening search): the per-frame q
    equals tetrahedral_q's own neighbour search on the same frames."""
    u = load_universe(tiny_run)
    res = HydrogenBonds(u, distance=distance).run().results.hbonds
    ow = u.select_atoms("resname HOH and name O")
    alone = [np.nanmean(tetrahedral_q(ow.positions, ts.dimensions)) for ts in u.trajectory]
    np.testing.assert_array_equal(res.per_frame["tetrahedral_q"], alone)


def test_counts_equal_mdanalysis(tiny_run):
    u = load_universe(tiny_run)
    ours = HydrogenBonds(u, distance=3.0, angle=150.0, angle_definition="DHA").run()
    n_water = ours.results.hbonds.n_water
    ref = HydrogenBondAnalysis(
        u,
        donors_sel="resname HOH and name O",
        hydrogens_sel="resname HOH and name H1 H2",
        acceptors_sel="resname HOH and name O",
        d_a_cutoff=3.0,
        d_h_a_angle_cutoff=150.0,
    ).run()
    per_frame = np.rint(ours.results.hbonds.per_frame["donor_per_water"] * n_water)
    assert np.array_equal(per_frame, ref.count_by_time())


def test_hbonds_cli(tiny_run, tmp_path):
    js = tmp_path / "hb.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "analyze",
            "hbonds",
            str(tiny_run),
            "--group",
            "Cl=resname CL",
            "--json",
            str(js),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(js.read_text())
    assert {"hbonds_per_water", "class_fractions", "free_water_fraction", "tetrahedral_q"} <= set(
        data
    )
    hb, free = data["hbonds_per_water"], data["free_water_fraction"]
    assert 2.5 < hb["mean"] < 4.0 and 0 < free["mean"] < 1
    assert hb["err"] > 0 and hb["n_eff"] > 0 and isinstance(hb["converged"], bool)
    assert "n_eff" in run.stdout and "+-" in run.stdout
    assert data["partners_per_frame"]["water-Cl"] > 0
