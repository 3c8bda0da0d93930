"""Structure analyses: analytic g(r) and shell counts, cross-checks with MDAnalysis
InterRDF and brute-force counting, speciation and pairing on hand-built frames,
cutoff detection, residence correlations, the CLI and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.analysis.rdf import InterRDF
from MDAnalysis.coordinates.memory import MemoryReader
from MDAnalysis.lib.distances import distance_array

from solvation.analysis import (
    RDF,
    InputError,
    NoMinimumError,
    SolvationShells,
    first_minimum,
    first_peak,
    load_universe,
    presence_correlation,
    solvation_shells,
)


def make_universe(
    frames: np.ndarray, resnames: list[str], names: list[str], box, resindex=None
) -> mda.Universe:
    """Universe from coordinates (frames x atoms x 3, A) with one residue per atom unless
    ``resindex`` groups them; ``box`` MDAnalysis dimensions."""
    n = frames.shape[1]
    resindex = np.arange(n) if resindex is None else np.asarray(resindex)
    n_res = resindex.max() + 1
    u = mda.Universe.empty(n, n_residues=n_res, atom_resindex=resindex, trajectory=True)
    u.add_TopologyAttr("names", names)
    res_names = [None] * n_res
    for atom, r in enumerate(resindex):
        res_names[r] = resnames[atom]
    u.add_TopologyAttr("resnames", res_names)
    u.load_new(
        frames.astype(np.float32),
        format=MemoryReader,
        dimensions=np.tile(np.asarray(box, dtype=np.float32), (len(frames), 1)),
    )
    return u


def test_ideal_gas_gives_g_equal_one():
    rng = np.random.default_rng(1)
    frames = rng.random((20, 2000, 3)) * 30.0
    u = make_universe(frames, ["A"] * 1000 + ["B"] * 1000, ["X"] * 2000, [30, 30, 30, 90, 90, 90])
    res = (
        RDF(
            u,
            {"ab": ("resname A", "resname B"), "aa": ("resname A", "resname A")},
            rmax=12.0,
            nbins=24,
        )
        .run()
        .results.rdf
    )
    for pair in res.pairs.values():
        g = pair.g_r[res.r_angstrom > 3.0]
        assert np.all(np.abs(g - 1.0) < 0.05)
        # running coordination of an ideal gas: rho 4/3 pi r^3
        rho = 1000 / 30.0**3
        r = res.edges_angstrom[1:]
        assert pair.n_r[-1] == pytest.approx(rho * 4 / 3 * np.pi * r[-1] ** 3, rel=0.03)


def test_simple_cubic_lattice_shell_counts():
    a, n = 3.0, 8
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    u = make_universe(grid[None], ["L"] * len(grid), ["X"] * len(grid), [a * n] * 3 + [90] * 3)
    res = RDF(u, {"ll": ("all", "all")}, rmax=11.0, nbins=1100).run().results.rdf
    n_r = res.pairs["ll"].n_r
    at = lambda r: n_r[np.searchsorted(res.edges_angstrom[1:], r)]  # noqa: E731
    assert at(1.01 * a) == 6 and at(1.01 * a * 2**0.5) == 18 and at(1.01 * a * 3**0.5) == 26
    assert at(0.99 * a) == 0
    shells = (
        SolvationShells(u, "index 0", {"nn": "not index 0"}, {"nn": 1.05 * a}, residence=False)
        .run()
        .results.solvation
    )
    assert shells.coordination_numbers["nn"] == 6


@pytest.mark.parametrize("box", [[25, 25, 25, 90, 90, 90], [26, 24, 25, 80, 95, 70]])
def test_rdf_equals_interrdf(box):
    rng = np.random.default_rng(2)
    frames = rng.random((6, 900, 3)) * 24.0
    resnames = ["ZN"] * 30 + ["HOH"] * 870
    names = ["ZN"] * 30 + ["O", "H1", "H2"] * 290
    resindex = list(range(30)) + [30 + k // 3 for k in range(870)]
    u = make_universe(frames, resnames, names, box, resindex)
    sel = {
        "zn-o": ("resname ZN", "name O"),
        "o-o": ("name O", "name O"),
        "o-h": ("name O", "name H1 H2"),
    }
    ours = RDF(u, sel, rmax=9.0, nbins=90).run().results.rdf
    for name, (a, b) in sel.items():
        ga, gb = u.select_atoms(a), u.select_atoms(b)
        block = (
            {"exclusion_block": (1, 2)}
            if name == "o-h"
            else ({"exclusion_block": (1, 1)} if a == b else {})
        )
        ref = InterRDF(ga, gb, nbins=90, range=(0.0, 9.0), **block).run()
        assert np.abs(ours.pairs[name].g_r - ref.results.rdf).max() < 1e-6, name


def test_rdf_equals_interrdf_on_a_real_trajectory(tiny_run):
    u = load_universe(tiny_run)
    sel = {
        "zn-ow": ("resname ZN", "resname HOH and name O"),
        "ow-ow": ("resname HOH and name O", "resname HOH and name O"),
        "zn-cl": ("resname ZN", "resname CL"),
    }
    ours = RDF(u, sel, rmax=9.0, nbins=180).run().results.rdf
    for name, (a, b) in sel.items():
        block = {"exclusion_block": (1, 1)} if a == b else {}
        ref = InterRDF(
            u.select_atoms(a), u.select_atoms(b), nbins=180, range=(0.0, 9.0), **block
        ).run()
        assert np.abs(ours.pairs[name].g_r - ref.results.rdf).max() < 1e-6, name
    zn = ours.pairs["zn-ow"]
    assert 1.95 < ours.r_angstrom[zn.g_r.argmax()] < 2.2  # 12-6-4 Zn-O distance


def test_coordination_equals_brute_force(tiny_run):
    u = load_universe(tiny_run)
    cut = 2.9
    res = (
        SolvationShells(u, "resname ZN", {"water": "resname HOH and name O"}, {"water": cut})
        .run()
        .results.solvation
    )
    zn, ow = u.select_atoms("resname ZN"), u.select_atoms("resname HOH and name O")
    per_frame = [
        (distance_array(zn.positions, ow.positions, box=ts.dimensions) < cut).sum(1).mean()
        for ts in u.trajectory
    ]
    assert np.allclose(res.per_frame["water"], per_frame)
    cn = res.coordination["water"]  # the mean over every selected frame, as MDAnalysis'
    assert res.coordination_numbers["water"] == cn.mean
    assert cn.mean == pytest.approx(np.mean(per_frame), rel=0, abs=1e-9)
    assert cn.n_equilibration == 0 and cn.n_samples == len(per_frame)
    assert sum(res.coordination_distribution["water"].values()) == pytest.approx(1.0)
    assert sum(res.speciation.values()) == pytest.approx(1.0)


def _hand_built():
    """Cations C0..C3 and anions A (two atoms each): C0 with a contact anion (CIP), C1 and
    C2 sharing one anion (AGG), C3 with an anion 5 A away (SSIP), C4 alone (free)."""
    pos = {
        "C0": (5, 5, 5),
        "A0": (7, 5, 5),
        "A0b": (8.5, 5, 5),
        "C1": (20, 5, 5),
        "C2": (24, 5, 5),
        "A1": (22, 5, 5),
        "A1b": (22, 6, 5),
        "C3": (5, 20, 5),
        "A2": (10, 20, 5),
        "A2b": (11, 20, 5),
        "C4": (20, 20, 20),
    }
    names = list(pos)
    resindex, res = [], {}
    for n in names:
        key = n.rstrip("b")
        res.setdefault(key, len(res))
        resindex.append(res[key])
    resnames = ["CAT" if n.startswith("C") else "ANI" for n in names]
    atom_names = [("X" if n.endswith("b") else "Y") for n in names]
    frames = np.array([list(pos.values())], dtype=float)
    return make_universe(frames, resnames, atom_names, [40, 40, 40, 90, 90, 90], resindex)


def test_pairing_classes_on_hand_built_configuration():
    u = _hand_built()
    res = (
        SolvationShells(
            u,
            "resname CAT",
            {"anion": "resname ANI"},
            {"anion": 3.0},
            pairing={"anion": 6.0},
            residence=False,
        )
        .run()
        .results.solvation
    )
    assert res.pairing["anion"] == pytest.approx({"free": 0.2, "SSIP": 0.2, "CIP": 0.2, "AGG": 0.4})
    assert res.speciation == pytest.approx({"(anion)1": 0.6, "bare": 0.4})
    assert res.denticity["anion"] == pytest.approx({1: 1 / 3, 2: 2 / 3})
    atoms = (
        SolvationShells(
            u,
            "resname CAT",
            {"anion": "resname ANI"},
            {"anion": 3.0},
            count="atoms",
            residence=False,
        )
        .run()
        .results.solvation
    )
    assert atoms.coordination_numbers["anion"] == pytest.approx(5 / 5)


def _exchange_universe():
    """Zn at the centre; waters W0..W6 (O, H, H). Frames 0-1: W0..W5 in the shell (2.1 A),
    W6 at 6 A. Frame 2: W5 leaves to 6 A and W6 enters at 2.1 A. Frames 3-4: as frame 2."""
    shell = 2.1 * np.array(
        [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1], [0.6, 0.8, 0]]
    )
    out = 6.0 * np.array([[0.0, 0.8, 0.6]])
    frames = []
    for f in range(5):
        o = np.vstack([shell[:5], out if f >= 2 else shell[5:6], shell[6:7] if f >= 2 else out])
        atoms = [np.zeros(3)]
        for x in o:
            atoms += [x, x + [0.3, 0.9, 0.0], x + [-0.3, 0.0, 0.9]]
        frames.append(np.asarray(atoms) + 20.0)
    resindex = [0] + [1 + k // 3 for k in range(21)]
    names = ["ZN"] + ["O", "H1", "H2"] * 7
    resnames = ["ZN"] + ["HOH"] * 21
    u = make_universe(np.asarray(frames), resnames, names, [40, 40, 40, 90, 90, 90], resindex)
    return u


def test_exchange_count_on_a_hand_built_trajectory():
    """One water leaves and another enters Zn2+'s first shell between frames 1 and 2:
    exactly one leaving and one entering event, none elsewhere, and the CN stays 6."""
    res = (
        SolvationShells(_exchange_universe(), "resname ZN", {"water": "name O"}, {"water": 2.9})
        .run()
        .results.solvation
    )
    x = res.exchanges["water"]
    assert (x.leaving, x.entering, x.total) == (1, 1, 2)
    assert x.per_ion.tolist() == [2] and x.per_ion_mean == 2.0
    assert x.time_ns == pytest.approx(0.004) and x.per_ns == pytest.approx(2 / 0.004)
    assert res.coordination_numbers["water"] == 6.0
    assert not res.coordination["water"].converged  # a constant series: error unknown
    still = (
        SolvationShells(_exchange_universe(), "resname ZN", {"water": "name O"}, {"water": 2.9})
        .run(start=2)
        .results.solvation
    )
    assert still.exchanges["water"].total == 0
    assert "no water entered or left" in still.coordination["water"].reason


def test_first_minimum_is_robust_to_noise():
    r = np.linspace(0.0, 10.0, 401)[1:]
    g = 1 + 3 * np.exp(-(((r - 2.1) / 0.15) ** 2)) - 0.9 * np.exp(-(((r - 3.1) / 0.35) ** 2))
    g[r < 1.6] = 0.0
    noisy = g + np.random.default_rng(3).normal(0, 0.08, r.size)
    assert first_minimum(r, noisy) == pytest.approx(r[np.argmin(np.where(r > 2.2, g, 9))], abs=0.15)
    with pytest.raises(NoMinimumError, match="no peak"):
        first_minimum(r, np.ones_like(r) + np.random.default_rng(4).normal(0, 0.02, r.size))


def test_first_peak_is_the_first_significant_maximum_not_the_highest():
    """A contact peak (g = 2.75 at 2.025 A) before a taller solvent-shared one (g = 5 at
    4.225 A): the first peak is the contact one; noise alone has none."""
    r = np.linspace(0.0, 8.0, 321)[1:]
    g = 1 + 1.75 * np.exp(-(((r - 2.025) / 0.08) ** 2)) + 4 * np.exp(-(((r - 4.225) / 0.3) ** 2))
    g[r < 1.8] = 0.0
    g[(r > 2.3) & (r < 3.5)] *= 0.05
    peak = first_peak(r, g)
    assert peak[0] == pytest.approx(2.025, abs=0.03) and peak[1] == pytest.approx(2.75, abs=0.1)
    assert r[np.argmax(g)] == pytest.approx(4.225, abs=0.03)  # what argmax had reported
    assert first_peak(r, 1 + np.random.default_rng(4).normal(0, 0.02, r.size)) is None


def test_residence_correlations_analytic():
    frames, length = 40, 10
    h = np.zeros((1, frames), bool)
    h[0, 5 : 5 + length] = True
    c = presence_correlation(h, dt_ps=0.5, max_lag=15)
    t = np.arange(15)
    expected = np.clip(length - t, 0, None) / (frames - t) / (length / frames)
    assert np.allclose(c.continuous, expected) and np.allclose(c.intermittent, expected)
    h2 = np.zeros((1, frames), bool)
    h2[0, [0, 1, 3, 4]] = True  # one gap: intermittent sees the return, continuous does not
    c2 = presence_correlation(h2, dt_ps=1.0, max_lag=5)
    assert c2.intermittent[3] == pytest.approx((2 / 37) / (4 / 40))
    assert c2.continuous[3] == 0.0
    decay = np.random.default_rng(5).random((400, 200)) < np.exp(-np.arange(200) / 8.0)[None]
    assert presence_correlation(decay, 1.0).lag_ps[1] == 1.0


def test_automatic_cutoffs_and_topology_formats(tiny_run, tmp_path):
    import parmed

    u = load_universe(tiny_run)
    res, rdf = solvation_shells(u, "resname ZN", {"water": "resname HOH and name O"})
    assert 2.4 < res.cutoffs_angstrom["water"] < 3.3
    assert 5.0 < res.coordination_numbers["water"] < 7.0
    # the same trajectory through GRO, PSF and LAMMPS data topologies
    u.atoms.write(str(tmp_path / "top.gro"))
    structure = parmed.load_file(str(tiny_run / "topology.pdb"))
    structure.save(str(tmp_path / "top.psf"))
    kinds = sorted(set(u.atoms.names))
    u.add_TopologyAttr("types", [str(kinds.index(n) + 1) for n in u.atoms.names])
    for attr in ("bonds", "angles", "dihedrals", "impropers"):
        if not hasattr(u.atoms, attr):
            u.add_TopologyAttr(attr, [])
    u.atoms.write(str(tmp_path / "top.data"))
    by_type = (f"type {kinds.index('ZN') + 1}", f"type {kinds.index('O') + 1}")
    reference = rdf.pairs["water"].g_r
    for top, (a, b) in (
        ("top.gro", ("name ZN", "name O")),
        ("top.psf", ("name ZN", "name O")),
        ("top.data", by_type),
    ):
        other = load_universe(tmp_path / top, tiny_run / "trajectory.xtc")
        again = (
            RDF(
                other,
                {"zn-ow": (a, b)},
                rmax=8.0,
                nbins=320,
                exclude_same_molecule=top != "top.data",
            )
            .run()
            .results.rdf
        )
        assert np.allclose(again.pairs["zn-ow"].g_r, reference, atol=1e-6), top


def test_bad_input_is_refused_before_analysis(tiny_run, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_universe(tmp_path / "nope.pdb", tmp_path / "nope.xtc")
    small = tmp_path / "small.pdb"
    load_universe(tiny_run).select_atoms("resname HOH").write(str(small))
    with pytest.raises(InputError, match="same atoms"):
        load_universe(small, tiny_run / "trajectory.xtc")
    data = (tiny_run / "trajectory.xtc").read_bytes()
    cut = tmp_path / "cut.xtc"
    cut.write_bytes(data[: len(data) - 500])
    with pytest.raises(InputError, match="truncated|cannot be read"):
        load_universe(tiny_run / "topology.pdb", cut)
    u = load_universe(tiny_run)
    with pytest.raises(InputError, match="selects no atoms"):
        RDF(u, {"x": ("resname NOPE", "name O")})
    with pytest.raises(InputError, match="rmax"):
        RDF(u, {"x": ("resname ZN", "name O")}, rmax=50.0)


def test_analyze_cli_json_csv_plot(tiny_run, tmp_path):
    js, csv, png = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.png"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "analyze",
            "rdf",
            str(tiny_run),
            "--pair",
            "zn-ow=resname ZN",
            "resname HOH and name O",
            "--rmax",
            "8",
            "--bins",
            "80",
            "--json",
            str(js),
            "--csv",
            str(csv),
            "--plot",
            str(png),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(js.read_text())
    pair = data["pairs"]["zn-ow"]
    assert len(pair["r_angstrom"]) == len(pair["g_r"]) == len(pair["n_r"]) == 80
    assert png.stat().st_size > 1000 and csv.read_text().startswith("pair,r_angstrom")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "analyze",
            "coordination",
            str(tiny_run),
            "--center",
            "resname ZN",
            "--shell",
            "water=resname HOH and name O",
            "--cutoff",
            "water=2.9",
            "--json",
            str(js),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(js.read_text())
    assert data["cutoffs_angstrom"] == {"water": 2.9}
    assert 5 < data["coordination_numbers"]["water"] < 7
    cn, exchanges = data["coordination"]["water"], data["exchanges"]["water"]
    assert {"mean", "err", "n_eff", "converged", "reason"} <= set(cn)
    assert {"total", "entering", "leaving", "per_ion_mean", "per_ns"} <= set(exchanges)
    assert "first-shell exchanges" in run.stdout and "spread over ions" in run.stdout


def _placers(rng, box: float):
    """8 centres 20 A apart in a cubic ``box`` (A), and two placers: ``around(n, r)``
    puts n points at r A from every centre (random directions, 0.05 A radial noise),
    ``background(n, rmin)`` n random points farther than rmin A from every centre."""
    centres = np.array([[x, y, z] for x in (10, 30) for y in (10, 30) for z in (10, 30)], float)

    def around(n, r):
        v = rng.normal(size=(len(centres), n, 3))
        v /= np.linalg.norm(v, axis=-1, keepdims=True)
        return centres[:, None, :] + v * (r + rng.normal(0, 0.05, (len(centres), n, 1)))

    def background(n, rmin):
        pts = rng.random((6 * n, 3)) * box
        d = pts[:, None, :] - centres[None]
        d -= box * np.round(d / box)
        return pts[np.linalg.norm(d, axis=-1).min(axis=1) > rmin][:n]

    return centres, around, background


def _shell_universe(anion_r: float, seed: int = 3) -> mda.Universe:
    """8 Zn2+ 20 A apart, each with 6 water O at 2.1 A, 12 at 4.4 A and 2 anion O at
    ``anion_r`` A (random directions per frame); background water and anion O farther
    than 6.5 and 7 A from every Zn2+."""
    box = 40.0
    centres, around, background = _placers(np.random.default_rng(seed), box)

    frames = []
    for _ in range(10):
        water = np.concatenate([around(6, 2.1).reshape(-1, 3), around(12, 4.4).reshape(-1, 3)])
        anion = around(2, anion_r).reshape(-1, 3)
        frames.append(
            np.concatenate([centres, water, background(900, 6.5), anion, background(120, 7.0)])
        )
    frames = np.asarray(frames) % box
    n_w, n_a = 8 * 18 + 900, 16 + 120
    resnames = ["ZN"] * 8 + ["HOH"] * n_w + ["SO4"] * n_a
    names = ["ZN"] * 8 + ["O"] * (n_w + n_a)
    return make_universe(frames, resnames, names, [box] * 3 + [90] * 3)


@pytest.mark.parametrize(("anion_r", "contact", "ssip"), [(5.0, 0.0, 1.0), (2.2, 1.0, 0.0)])
def test_solvent_shared_anions_are_not_counted_as_contact_pairs(anion_r, contact, ssip):
    """An anion g(r) whose first peak lies beyond the water shell (solvent-shared) gets the
    water's contact cutoff, so no contact pair is reported; true contacts still count."""
    u = _shell_universe(anion_r)
    shells = {"water": "resname HOH", "SO4": "resname SO4"}
    result, _ = solvation_shells(u, "resname ZN", shells, pairing={"SO4": None})
    assert result.coordination_numbers["water"] == pytest.approx(6.0)
    assert result.contact_pairs["SO4"].mean == pytest.approx(contact)
    assert result.pairing["SO4"]["SSIP"] == pytest.approx(ssip)
    if ssip:
        assert result.cutoffs_angstrom["SO4"] == result.cutoffs_angstrom["water"]
        assert result.cutoff_source["SO4"].startswith("no contact peak")


def _ligand_universe(ligand_r: float, n_ligands: int = 1, name: str = "O", seed: int = 5):
    """8 Zn2+ 20 A apart, each with a first shell of 6 (water O at 2.1 A, and a ligand O
    at 2.1 A in place of one water when ``ligand_r`` < 3), 12 water O at 4.4 A, and
    ``n_ligands`` ligand atoms (resname LIG, atom ``name``) at ``ligand_r`` A otherwise;
    random directions per frame, 0.05 A radial noise; background water and ligands
    farther than 6.5 and 7 A from every Zn2+."""
    box = 40.0
    centres, around, background = _placers(np.random.default_rng(seed), box)

    contact = ligand_r < 3.0
    n_first = 6 - n_ligands if contact else 6
    frames = []
    for _ in range(12):
        water = np.concatenate(
            [around(n_first, 2.1).reshape(-1, 3), around(12, 4.4).reshape(-1, 3)]
        )
        ligand = around(n_ligands, ligand_r).reshape(-1, 3)
        frames.append(
            np.concatenate([centres, water, background(900, 6.5), ligand, background(60, 7.0)])
        )
    frames = np.asarray(frames) % box
    n_w, n_l = 8 * (n_first + 12) + 900, 8 * n_ligands + 60
    resnames = ["ZN"] * 8 + ["HOH"] * n_w + ["LIG"] * n_l
    names = ["ZN"] * 8 + ["O"] * n_w + [name] * n_l
    return make_universe(frames, resnames, names, [box] * 3 + [90] * 3)


SHELLS_LIG = {"water": "resname HOH", "EG": "resname LIG"}


def test_an_additive_in_the_second_shell_is_not_in_the_first():
    """The one first-shell definition on hand-built shells: an additive O only in the
    second shell (5 A) has no contact peak, so its radius is the water's and it counts
    0 in the first shell and SSIP 1; the total first shell is the 6 waters."""
    result, rdf = solvation_shells(_ligand_universe(5.0), "resname ZN", SHELLS_LIG)
    assert result.solvent == "water"
    assert result.cutoffs_angstrom["EG"] == result.cutoffs_angstrom["water"]
    assert result.cutoff_source["EG"].startswith("no contact peak (first peak at ")
    assert result.coordination_numbers["EG"] == 0.0
    assert result.pairing["EG"]["SSIP"] == pytest.approx(1.0)
    assert result.contact_pairs["EG"].mean == 0.0
    assert result.second_shell_angstrom["EG"]["O"] > 5.0
    assert result.total_coordination.mean == pytest.approx(6.0)
    assert result.valid and result.max_first_shell == 7
    assert rdf.first_peak("EG")[0] == pytest.approx(5.0, abs=0.1)


def test_an_additive_in_contact_is_in_the_first_shell():
    """An additive O at 2.1 A in place of one water: a contact peak, its radius the
    minimum after it (within the water's gap), CN 1, CIP 1, total 6."""
    result, rdf = solvation_shells(_ligand_universe(2.1), "resname ZN", SHELLS_LIG)
    water = result.cutoffs_angstrom["water"]
    assert 2.2 < result.cutoffs_angstrom["EG"] < water + 0.5
    assert result.cutoff_source["EG"].startswith("minimum after the contact peak")
    assert result.coordination_numbers == pytest.approx({"water": 5.0, "EG": 1.0})
    assert result.pairing["EG"]["CIP"] == pytest.approx(1.0)
    assert result.total_coordination.mean == pytest.approx(6.0) and result.valid
    assert rdf.first_peak("EG")[0] == pytest.approx(2.1, abs=0.1)


def test_an_anion_without_a_contact_peak_gets_the_water_radius():
    """An anion O at 4.3 A (solvent-shared) takes the water O radius; an N site, an
    element water lacks, the water O radius shifted by the Bondi radii (N 1.55, O 1.52)."""
    shells = {"water": "resname HOH", "SO4": "resname LIG"}
    result, _ = solvation_shells(_ligand_universe(4.3), "resname ZN", shells)
    assert result.cutoffs_angstrom["SO4"] == result.cutoffs_angstrom["water"]
    assert result.coordination_numbers["SO4"] == 0.0
    assert result.pairing["SO4"]["SSIP"] == pytest.approx(1.0)
    nitrogen, _ = solvation_shells(_ligand_universe(4.3, name="N"), "resname ZN", shells)
    water = nitrogen.cutoffs_angstrom["water"]
    assert nitrogen.site_cutoffs_angstrom["SO4"] == {"N": pytest.approx(water + 0.03)}
    assert "Bondi" in nitrogen.cutoff_source["SO4"]


def test_a_first_shell_beyond_the_chemistry_is_an_error_never_a_result():
    """Radii that put two second-shell additives into the first shell: 8 ligands around
    Zn2+ (limit 7) make the result invalid, with the reason; the same frames with the
    one first-shell definition are valid."""
    u = _ligand_universe(5.0, n_ligands=2)
    bad, _ = solvation_shells(u, "resname ZN", SHELLS_LIG, {"water": 2.9, "EG": 5.5})
    assert bad.total_coordination.mean == pytest.approx(8.0)
    assert not bad.valid and "more than the 7" in bad.problems[0]
    good, _ = solvation_shells(u, "resname ZN", SHELLS_LIG)
    assert good.valid and good.total_coordination.mean == pytest.approx(6.0)
    unchecked, _ = solvation_shells(
        u, "resname ZN", SHELLS_LIG, {"water": 2.9, "EG": 5.5}, max_first_shell=None
    )
    assert unchecked.valid and unchecked.max_first_shell is None


def test_discarding_frames_is_asked_for_and_said(tiny_run, tmp_path):
    """--discard N drops N leading frames from the means, says so on the terminal and
    records it; without it every frame counts and the detection is only reported."""
    js = tmp_path / "cn.json"
    args = [sys.executable, "-m", "solvation.cli", "analyze", "coordination", str(tiny_run)]
    run = subprocess.run(
        [*args, "--discard", "5", "--json", str(js)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(js.read_text())
    assert data["coordination"]["water"]["n_equilibration"] == 5
    assert data["provenance"]["frames"]["discard"] == 5
    assert "first 5 of 20 samples discarded" in run.stderr
    run = subprocess.run([*args, "--json", str(js)], capture_output=True, text=True)
    whole = json.loads(js.read_text())["coordination"]["water"]
    assert whole["n_equilibration"] == 0 and whole["n_samples"] == 20
    bad = subprocess.run([*args, "--discard", "-3"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--discard takes 'auto'" in bad.stderr
