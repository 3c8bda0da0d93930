"""Inputs this toolkit did not make: a LAMMPS data file without atom names (coordination
cross-checked by brute force), multi-residue molecules, an mdtraj Trajectory in the
analysis API, files MDAnalysis cannot read (an input error) next to a bug (not one);
and the builder's volume estimate against measured densities, and the quick-look
plots."""

from __future__ import annotations

import json

import MDAnalysis as mda
import mdtraj
import numpy as np
import pytest
from matplotlib.colors import to_hex

from solvation.analysis import RDF, solvation_shells
from solvation.analysis.plots import plot_rdf, plot_shells
from solvation.analysis.universe import InputError, as_universe, load_universe, molecule_ids, select
from solvation.cli import app, run_cli
from solvation.design import parse_design
from solvation.rundir import RunDir
from solvation.style import category_styles
from solvation.systems.composition import compose

BOX = 20.0
N_CATIONS, N_WATERS, N_ANIONS, N_FRAMES = 4, 60, 6, 6
CUTOFF_WATER, CUTOFF_ANION = 3.5, 4.0


def _lammps_data(path, rng) -> None:
    """atom_style full, types only: 1 cation, 2 water O, 3 water H, 4-5 a two-atom anion
    whose atoms carry different molecule IDs (a molecule spanning two residues)."""
    atoms, bonds = [], []
    for k in range(N_CATIONS):
        atoms.append((k + 1, 1, 2.0))
    for k in range(N_WATERS):
        o = len(atoms) + 1
        atoms += [(100 + k, 2, -0.8), (100 + k, 3, 0.4), (100 + k, 3, 0.4)]
        bonds += [(o, o + 1), (o, o + 2)]
    for k in range(N_ANIONS):
        a = len(atoms) + 1
        atoms += [(1000 + k, 4, -0.5), (2000 + k, 5, -0.5)]
        bonds.append((a, a + 1))
    xyz = rng.uniform(0, BOX, (len(atoms), 3))
    lines = ["names-free test", "", f"{len(atoms)} atoms", f"{len(bonds)} bonds"]
    lines += ["5 atom types", "1 bond types", ""]
    lines += [f"0 {BOX} xlo xhi", f"0 {BOX} ylo yhi", f"0 {BOX} zlo zhi", "", "Masses", ""]
    lines += [f"{t} {m}" for t, m in ((1, 65.4), (2, 16.0), (3, 1.0), (4, 32.0), (5, 16.0))]
    lines += ["", "Atoms", ""]
    lines += [
        f"{i + 1} {mol} {t} {q} {x:.4f} {y:.4f} {z:.4f}"
        for i, ((mol, t, q), (x, y, z)) in enumerate(zip(atoms, xyz, strict=True))
    ]
    lines += ["", "Bonds", ""] + [f"{i + 1} 1 {a} {b}" for i, (a, b) in enumerate(bonds)]
    path.write_text("\n".join(lines) + "\n")


def _frames(u, rng) -> np.ndarray:
    """Random frames with rigid-ish waters and anions; anion 0 sits with both atoms inside
    the cutoff of cation 0, so that counting residues would count it twice."""
    frames = []
    cations = u.select_atoms("type 1").indices
    anion_a, anion_b = u.select_atoms("type 4").indices, u.select_atoms("type 5").indices
    water_o = u.select_atoms("type 2").indices
    for _ in range(N_FRAMES):
        xyz = rng.uniform(0, BOX, (u.atoms.n_atoms, 3))
        xyz[water_o + 1] = xyz[water_o] + [0.96, 0, 0]
        xyz[water_o + 2] = xyz[water_o] + [0, 0.96, 0]
        xyz[anion_b] = xyz[anion_a] + [1.5, 0, 0]
        xyz[anion_a[0]] = xyz[cations[0]] + [1.9, 0.5, 0]
        xyz[anion_b[0]] = xyz[cations[0]] + [3.1, 0.5, 0]  # within 4 A too
        frames.append(np.mod(xyz, BOX))
    return np.asarray(frames, dtype=np.float32)


def _brute_force(frames, u, by_residue: bool = False) -> dict[str, float]:
    """Mean number of distinct molecules (water O; anions as bonded pairs, or each atom on
    its own with ``by_residue``) within the cutoffs of each cation, minimum image."""
    cations = u.select_atoms("type 1").indices
    water_o = u.select_atoms("type 2").indices
    anion_atoms = u.select_atoms("type 4 or type 5").indices
    pairs = list(zip(*[iter(anion_atoms)] * 2, strict=True))
    anion_of = {i: (i if by_residue else k) for k, pair in enumerate(pairs) for i in pair}
    counts = {"w": [], "a": []}
    for xyz in frames:
        for c in cations:
            d = xyz - xyz[c]
            d -= BOX * np.round(d / BOX)
            r = np.linalg.norm(d, axis=1)
            counts["w"].append(int(np.sum(r[water_o] < CUTOFF_WATER)))
            near = {anion_of[i] for i in anion_atoms if r[i] < CUTOFF_ANION}
            counts["a"].append(len(near))
    return {k: float(np.mean(v)) for k, v in counts.items()}


def test_names_free_lammps_coordination_matches_brute_force(tmp_path, capsys):
    rng = np.random.default_rng(7)
    data = tmp_path / "system.data"
    _lammps_data(data, rng)
    u = mda.Universe(str(data))
    assert not hasattr(u.atoms, "names")  # what made `analyze coordination` fail before
    frames = _frames(u, rng)
    with mda.Writer(str(tmp_path / "traj.dcd"), u.atoms.n_atoms) as writer:
        for xyz in frames:
            u.atoms.positions = xyz
            u.dimensions = [BOX, BOX, BOX, 90, 90, 90]
            writer.write(u.atoms)
    argv = ["analyze", "coordination", str(data), str(tmp_path / "traj.dcd")]
    argv += ["--center", "type 1", "--shell", "w=name 2", "--shell", "a=type 4 5"]
    argv += ["--cutoff", f"w={CUTOFF_WATER}", "--cutoff", f"a={CUTOFF_ANION}"]
    run_cli(app, [*argv, "--json", str(tmp_path / "cn.json")])
    result = json.loads((tmp_path / "cn.json").read_text())
    expected = _brute_force(frames, u)
    assert result["n_frames"] == N_FRAMES
    assert result["coordination_numbers"]["w"] == pytest.approx(expected["w"], abs=1e-12)
    assert result["coordination_numbers"]["a"] == pytest.approx(expected["a"], abs=1e-12)
    assert set(result["coordinating_atoms"]["a"]) <= {"4", "5"}  # types label the atoms
    # counted by residue, anion 0 would appear twice in the shell of cation 0
    assert _brute_force(frames, u, by_residue=True)["a"] > expected["a"]


def test_molecules_are_bonded_fragments_or_residues():
    u = mda.Universe.empty(7, n_residues=4, atom_resindex=[0, 0, 0, 1, 2, 2, 3], trajectory=True)
    # residue 0: a water without bonds (partial-bond topology); residues 2 and 3 bonded
    u.add_TopologyAttr("bonds", [(4, 5), (5, 6)])
    ids = molecule_ids(u)
    assert ids[0] == ids[1] == ids[2] and ids[4] == ids[5] == ids[6]
    assert len(set(ids.tolist())) == 3
    full = mda.Universe.empty(4, n_residues=4, atom_resindex=[0, 1, 2, 3], trajectory=True)
    full.add_TopologyAttr("bonds", [(0, 1), (2, 3)])  # complete bonds: fragments decide
    assert len(set(molecule_ids(full).tolist())) == 2
    bare = mda.Universe.empty(3, n_residues=2, atom_resindex=[0, 0, 1], trajectory=True)
    assert molecule_ids(bare).tolist() == [0, 0, 1]  # no bonds: residues


def test_unreadable_files_are_input_errors_and_bugs_are_not(tiny_run, tmp_path):
    """A file MDAnalysis cannot read and a selection the topology cannot answer are one
    InputError each. An exception from anything else while the files open keeps its type
    (the command line then shows its traceback): here a transformation, which MDAnalysis
    runs on the first frame as the Universe opens, divides by zero, a bug in the caller's
    code that used to come out as "cannot open ... give files MDAnalysis reads"."""
    files = RunDir(tiny_run)
    top, xtc = files.topology_pdb, files.trajectory("xtc")
    with pytest.raises(ZeroDivisionError):
        load_universe(top, xtc, transformations=[lambda ts: 1 / 0])
    text = tmp_path / "text.xtc"
    text.write_text("not a trajectory")
    with pytest.raises(InputError, match=r"cannot open .* OSError: XDR read error"):
        load_universe(top, text)
    u = load_universe(top, xtc)
    assert u.trajectory.n_frames == 20
    with pytest.raises(InputError, match="invalid selection 'resname ZN and'"):
        select(u, "resname ZN and")


def test_mdtraj_trajectory_gives_the_same_shells_and_rdf(tiny_run):
    traj = mdtraj.load(str(tiny_run / "trajectory.xtc"), top=str(tiny_run / "topology.pdb"))
    u = load_universe(tiny_run)
    converted = as_universe(traj)
    assert converted.trajectory.n_frames == u.trajectory.n_frames == 20
    assert np.allclose(converted.trajectory[7].positions, u.trajectory[7].positions, atol=1e-3)
    assert converted.trajectory[7].time == pytest.approx(u.trajectory[7].time, abs=1e-4)
    shells = {"water": "resname HOH and name O", "Cl": "resname CL"}
    ours, _ = solvation_shells(traj, "resname ZN", shells)
    reference, _ = solvation_shells(u, "resname ZN", shells)
    assert ours.cutoffs_angstrom == reference.cutoffs_angstrom
    assert ours.coordination_numbers == reference.coordination_numbers
    pairs = {"zn-o": ("resname ZN", "resname HOH and name O")}
    g_ours = RDF(traj, pairs).run().results.rdf.pairs["zn-o"].g_r
    g_ref = RDF(u, pairs).run().results.rdf.pairs["zn-o"].g_r
    assert np.allclose(g_ours, g_ref, atol=1e-6)


# --- the builder's volume estimate ------------------------------------------------------

# Density (g/cm3, 20 degC) of aqueous solutions by mass percent of anhydrous salt, CRC
# Handbook "Concentrative Properties of Aqueous Solutions"
CRC_DENSITIES = [
    ("ZnSO4", 1, 1.0085),
    ("ZnSO4", 5, 1.0511),
    ("ZnSO4", 10, 1.1071),
    ("MnSO4", 10, 1.1012),
    ("MgSO4", 10, 1.1034),
]


def _composition(formula: str, concentration: str, n_water: int = 20_000):
    design = parse_design(
        {
            "name": "v",
            "salts": [{"formula": formula, "concentration": concentration}],
            "box": {"n_water": n_water, "allow_supersaturated": True},
        }
    )
    return compose(design, n_water)


@pytest.mark.parametrize("formula,wt,density", CRC_DENSITIES)
def test_estimated_density_matches_measured_solutions(formula, wt, density):
    assert _composition(formula, f"{wt} wt%").density_g_per_cm3 == pytest.approx(density, rel=0.005)


def test_estimated_box_grows_with_salt_and_never_below_the_water():
    water = _composition("ZnSO4", "0.01 m").components["water"]
    water_nm3 = 3000 * water.volume_cm3_per_mol / 6.02214076e23 * 1e21
    for formula in ("ZnSO4", "ZnCl2", "Zn(OTf)2"):
        volumes = [
            _composition(formula, f"{m} m", 3000).volume_nm3 for m in (0.05, 0.5, 1, 2, 3, 4)
        ]
        assert all(v >= water_nm3 * (1 - 1e-9) for v in volumes), formula
        assert all(b >= a for a, b in zip(volumes, volumes[1:], strict=False)), formula
        assert volumes[-1] > volumes[1], formula


# --- quick-look plots -------------------------------------------------------------------


def test_category_styles_are_distinct_and_stable():
    labels = [f"(water){k}(SO4){j}" for k in range(7) for j in range(4)]
    styles = category_styles(labels)
    assert len(set(styles.values())) == len(labels) == 28
    assert category_styles(list(reversed(labels))) == styles
    assert len({c for c, _ in list(styles.values())[:10]}) == 10  # ten colours, no hatch
    assert {h for _, h in list(styles.values())[:10]} == {""}


def test_plots_one_panel_per_pair_and_centred_bars(tiny_run, tmp_path):
    u = load_universe(tiny_run)
    pairs = {"zn-o": ("resname ZN", "resname HOH and name O"), "o-o": ("name O", "name O")}
    fig = plot_rdf(RDF(u, pairs, rmax=8.0).run().results.rdf, tmp_path / "rdf.png")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert sorted(titles) == ["o-o", "zn-o"]  # each pair on its own axes, n(r) on its twin
    assert "20 frames" in fig._suptitle.get_text()
    result, _ = solvation_shells(
        u, "resname ZN", {"water": "resname HOH and name O", "Cl": "resname CL"}
    )
    fig = plot_shells(result, tmp_path / "shells.png")
    left, right = fig.axes[:2]
    centres = {}
    for bar in left.patches:
        x = bar.get_x() + bar.get_width() / 2
        centres.setdefault(round(x), []).append(x)
    assert all(abs(np.mean(xs) - n) < 1e-9 for n, xs in centres.items() if len(xs) == 2)
    colours = [(to_hex(b.get_facecolor()), b.get_hatch()) for b in right.patches]
    assert len(set(colours)) == len(colours) == min(12, len(result.speciation))
    assert "cutoffs water" in fig._suptitle.get_text() and "20 frames" in fig._suptitle.get_text()
    assert (tmp_path / "rdf.png").stat().st_size > 0 and (tmp_path / "shells.png").exists()
