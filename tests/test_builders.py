"""Builders: counts and concentrations against hand calculation, neutrality, packing
quality, determinism, every example building into a System, slab geometry, bad input."""

from __future__ import annotations

import json
import math
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import MDAnalysis as mda
import numpy as np
import openmm
import pytest
from MDAnalysis.lib.distances import distance_array, self_capped_distance
from openmm.app import PDBFile

from solvation.design import load_design, parse_design
from solvation.errors import SolvationError
from solvation.systems import (
    BuildError,
    CompositionError,
    FormulaError,
    PackingError,
    build,
    check_design,
    parse_salt,
    size_box,
    zn_slab,
)
from solvation.systems.hydration import (
    GUARD_ANGSTROM,
    GUARD_K_KJ_MOL_NM2,
    SOLUTE_EXCLUSION_ANGSTROM,
    HydrationError,
    aqua_template,
    contact_guard,
    hydrate_items,
)
from solvation.systems.packing import PackItem, pack
from solvation.systems.templates import ion_template, water_template

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
M_WATER = 18.01528  # g/mol, standard molar mass of H2O
V_WATER = M_WATER / 0.99705  # cm3/mol at 298.15 K
A, C = 2.6648, 4.9470  # hcp Zn lattice constants, A


# examples ship 1200-4000 waters; packing every pre-hydrated box at that size costs CI
# many minutes, so the test builds them smaller (same chemistry and concentrations),
# twice as large where a dilute additive would round to zero molecules
CI_MAX_WATERS = {"bulk": 500, "slab": 500}


def example_design(stem: str):
    """The example design ``stem`` with at most CI_MAX_WATERS waters (or twice that), and a
    packmol time limit that a loaded machine does not hit (packmol's wall time, not its
    work, grows with the load; 300 s ran out with 12 processes on 2 cores)."""
    design = load_design(EXAMPLES / f"{stem}.toml")
    box = design.box.model_copy(update={"packmol_timeout_s": 3600})
    design = design.model_copy(update={"box": box})
    most = CI_MAX_WATERS["bulk" if design.slab is None else "slab"]
    for n_water in (most, 2 * most):
        if design.box.n_water <= n_water:
            return design
        box = design.box.model_copy(update={"n_water": n_water})
        small = design.model_copy(update={"box": box})
        try:
            size_box(small)
            return small
        except CompositionError:
            continue
    return design


OTHER_FAMILY = {"full": "scaled", "scaled": "full"}


def in_family(design, family: str):
    """``design`` under model ``family``: the full family with the TIP3P water and 12-6-4
    Zn2+ the examples used before the scaled family became the default, the scaled family
    with its own water model and charge scale."""
    data = design.model_dump(mode="json")
    kept = {
        k: v for k, v in data["forcefield"].items() if k not in ("family", "zn", "charge_scale")
    }
    data["forcefield"] = {**kept, "family": family}
    data["water"] = {"model": "tip3p"} if family == "full" else {}
    return parse_design(data)


def _build_all(root: Path, designs: dict) -> dict:
    spawn = multiprocessing.get_context("spawn")  # two builds at once (packmol is serial)
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        futures = {s: pool.submit(build, d, root / s) for s, d in designs.items()}
        return {stem: future.result() for stem, future in futures.items()}


@pytest.fixture(scope="session")
def built_examples(tmp_path_factory):
    """Every example design built once (real packmol, AmberTools, OpenMM)."""
    stems = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
    return _build_all(tmp_path_factory.mktemp("examples"), {s: example_design(s) for s in stems})


@pytest.fixture(scope="session")
def built_examples_other_family(tmp_path_factory):
    """Every example design built in the model family it does not name."""
    designs = {}
    for stem in sorted(p.stem for p in EXAMPLES.glob("*.toml")):
        design = example_design(stem)
        designs[stem] = in_family(design, OTHER_FAMILY[design.forcefield.family])
    return _build_all(tmp_path_factory.mktemp("examples-other"), designs)


def few_steps(built, steps: int = 20) -> tuple[float, float, float]:
    """``steps`` Langevin steps of 0.5 fs (CPU) from the built coordinates: potential
    energy before and after (kJ/mol) and the largest displacement (nm)."""
    system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
    pdb = PDBFile(str(built.topology_pdb))
    integrator = openmm.LangevinMiddleIntegrator(298.15, 1.0, 0.0005)
    platform = openmm.Platform.getPlatformByName("CPU")
    context = openmm.Context(system, integrator, platform, {"Threads": "1"})
    context.setPeriodicBoxVectors(*system.getDefaultPeriodicBoxVectors())
    context.setPositions(pdb.positions)
    context.applyConstraints(1e-6)
    start = context.getState(getPositions=True, getEnergy=True)
    integrator.step(steps)
    end = context.getState(getPositions=True, getEnergy=True)
    moved = end.getPositions(asNumpy=True)._value - start.getPositions(asNumpy=True)._value
    energies = [
        s.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole) for s in (start, end)
    ]
    return energies[0], energies[1], float(np.abs(moved).max())


def _check_runs(built, family: str) -> None:
    """Neutral, of ``family`` (water model and record), and a few MD steps stay finite and
    settle (the energy falls from the packed start, no atom jumps)."""
    info = built.info
    system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    charges = [nb.getParticleParameters(i)[0]._value for i in range(system.getNumParticles())]
    assert math.fsum(charges) == pytest.approx(0.0, abs=1e-6), info.name
    assert info.model_family["family"] == family, info.name
    assert info.water_model == ("tip4p2005" if family == "scaled" else "tip3p"), info.name
    before, after, moved = few_steps(built)
    assert math.isfinite(after) and after < before, (info.name, before, after)
    assert moved < 0.2, (info.name, moved)


def test_every_example_runs_a_few_steps(built_examples):
    for stem, built in built_examples.items():
        _check_runs(built, example_design(stem).forcefield.family)


def test_every_example_builds_and_runs_in_the_other_family(built_examples_other_family):
    for stem, built in built_examples_other_family.items():
        _check_runs(built, OTHER_FAMILY[example_design(stem).forcefield.family])


def test_demo_designs_build_and_run(tmp_path):
    """The three designs of `solvation demo` (default family), built and a few steps run."""
    from solvation.campaigns.demo import write_demo_campaign

    write_demo_campaign(tmp_path / "demo")
    files = sorted((tmp_path / "demo").glob("*.toml"))
    designs = {p.stem: load_design(p) for p in files if p.stem != "demo_campaign"}
    assert sorted(designs) == ["znotf2_2m", "znso4_2m", "znso4_2m_eg"]
    for stem, built in _build_all(tmp_path / "built", designs).items():
        _check_runs(built, designs[stem].forcefield.family)


def test_examples_cover_the_required_designs():
    names = {p.stem for p in EXAMPLES.glob("*.toml")}
    required = {
        "znso4_1m",
        "znso4_2m",
        "znso4_3m",
        "znotf2_1m",
        "znotf2_2m",
        "znotf2_3m",
        "znotf2_4m",
        "znso4_2m_eg",
        "znso4_2m_dmso",
        "znso4_2m_methanol",
        "znso4_2m_xylitol",
        "znso4_2m_sorbitol",
        "znso4_2m_trehalose",
        "znotf2_2M_ide",
        "znotf2_2M_h2o_dmf",
        "znso4_mnso4",
        "zn002_znso4_2m",
        "zn100_znso4_2m",
        "zn101_znso4_2m",
    }
    assert required <= names


@pytest.mark.parametrize(
    "stem,formula,molal,anions",
    [
        ("znso4_1m", "ZnSO4", 1, ("SO4", 1)),
        ("znso4_2m", "ZnSO4", 2, ("SO4", 1)),
        ("znso4_3m", "ZnSO4", 3, ("SO4", 1)),
        ("znotf2_1m", "Zn(OTf)2", 1, ("OTf", 2)),
        ("znotf2_2m", "Zn(OTf)2", 2, ("OTf", 2)),
        ("znotf2_3m", "Zn(OTf)2", 3, ("OTf", 2)),
        ("znotf2_4m", "Zn(OTf)2", 4, ("OTf", 2)),
    ],
)
def test_molal_counts_match_hand_calculation(stem, formula, molal, anions):
    design = load_design(EXAMPLES / f"{stem}.toml")
    comp = size_box(design)
    n_water = design.box.n_water
    expected = round(molal * n_water * M_WATER / 1000)
    assert comp.counts["Zn2+"] == expected
    assert comp.counts[anions[0]] == anions[1] * expected
    (conc,) = comp.concentrations
    assert conc["unit"] == "mol/kg"
    assert conc["achieved"] == pytest.approx(
        expected / (n_water * M_WATER / 1000), rel=1e-5
    )  # element masses of OpenMM differ in the 6th digit
    assert abs(conc["achieved"] - molal) < 0.5 / (n_water * M_WATER / 1000)
    assert comp.charge == 0


def test_cosolvent_ratio_and_fraction_match_hand_calculation():
    dmf = load_design(EXAMPLES / "znotf2_2M_h2o_dmf.toml")
    comp = size_box(dmf)
    v_dmf = (3 * 12.011 + 7 * 1.008 + 14.007 + 15.999) / 0.944
    assert comp.counts["DMF"] == round(3000 * V_WATER / 2 / v_dmf)
    eg = size_box(load_design(EXAMPLES / "znso4_2m_eg.toml"))
    v_eg = (2 * 12.011 + 6 * 1.008 + 2 * 15.999) / 1.110
    assert comp.counts["Zn2+"] * 2 == comp.counts["OTf"]
    assert eg.counts["EG"] == round(0.4 / 0.6 * 3000 * V_WATER / v_eg)
    solvent_kg = (3000 * M_WATER + eg.counts["EG"] * v_eg * 1.110) / 1000
    assert eg.counts["Zn2+"] == round(2 * solvent_kg)


def test_mixed_salts_share_the_sulfate():
    comp = size_box(load_design(EXAMPLES / "znso4_mnso4.toml"))
    kg = 3000 * M_WATER / 1000
    assert comp.counts["Zn2+"] == round(2 * kg) and comp.counts["Mn2+"] == round(0.1 * kg)
    assert comp.counts["SO4"] == comp.counts["Zn2+"] + comp.counts["Mn2+"]


def test_salt_formulas_parse_with_stoichiometry():
    assert parse_salt("KAl(SO4)2").ions == (("K+", 1), ("Al3+", 1), ("SO4", 2))
    assert parse_salt("Na2SO4").ions == (("Na+", 2), ("SO4", 1))
    assert parse_salt("Zn(TFSI)2").ions == (("Zn2+", 1), ("TFSI", 2))
    assert parse_salt("Zn(OAc)2").ions == (("Zn2+", 1), ("OAc", 2))
    assert parse_salt("Zn(ClO4)2").ions == (("Zn2+", 1), ("ClO4", 2))


def test_every_example_builds_neutral_and_consistent(built_examples):
    for stem, built in built_examples.items():
        info = built.info
        system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
        universe = mda.Universe(str(built.topology_pdb))
        assert system.getNumParticles() == universe.atoms.n_atoms == info.n_atoms, stem
        assert info.total_charge == pytest.approx(0, abs=1e-6), stem
        assert {
            "counts",
            "total_charge",
            "box_nm",
            "concentrations",
            "forcefield",
            "seed",
            "versions",
        } <= set(info.model_dump())
        for c in info.concentrations:
            assert {"requested", "achieved", "unit"} <= set(c.model_dump())
        assert len(universe.residues) == sum(info.counts.values()), stem
        n_atoms = {r.resname: r.atoms.n_atoms for r in universe.residues}
        expected = sum(n * n_atoms[info.resnames.get(k, "ZNM")] for k, n in info.counts.items())
        assert expected == info.n_atoms, stem


def test_packed_boxes_have_no_pair_closer_than_tolerance(built_examples):
    for stem in ("znso4_2m", "znotf2_4m", "znso4_2m_eg"):
        u = mda.Universe(str(built_examples[stem].topology_pdb))
        pairs, dist = self_capped_distance(u.atoms.positions, 2.5, box=u.dimensions)
        resid = u.atoms.resindices
        inter = resid[pairs[:, 0]] != resid[pairs[:, 1]]
        assert dist[inter].min() >= 2.0 - 0.1, stem  # packmol tolerance 2 A, precision 0.01


def test_same_seed_same_coordinates(tmp_path):
    design = parse_design(
        {
            "name": "tiny",
            "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
            "box": {"n_water": 400},
        }
    )
    a, b = build(design, tmp_path / "a"), build(design, tmp_path / "b")
    other = build(
        design.model_copy(update={"forcefield": design.forcefield.model_copy(update={"seed": 2})}),
        tmp_path / "c",
    )
    xyz = [mda.Universe(str(x.topology_pdb)).atoms.positions for x in (a, b, other)]
    assert np.array_equal(xyz[0], xyz[1])
    assert not np.allclose(xyz[0], xyz[2])


def test_four_site_water_box_has_virtual_sites(tmp_path):
    design = parse_design(
        {
            "name": "opc",
            "water": {"model": "opc"},
            "forcefield": {"family": "full"},  # OPC is a water model of the full family
            "box": {"n_water": 500},
            "salts": [{"formula": "ZnCl2", "concentration": "0.5 m"}],
        }
    )
    built = build(design, tmp_path / "opc")
    system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
    n_vsites = sum(system.isVirtualSite(i) for i in range(system.getNumParticles()))
    assert n_vsites == 500 and system.getNumParticles() == built.info.n_atoms


@pytest.mark.parametrize(
    "facet,period",
    [
        ("002", C / 2),
        ("100", A * math.sqrt(3) / 2),
        ("101", 1 / math.sqrt(4 / (3 * A**2) + 1 / C**2)),
    ],
)
def test_slab_geometry(facet, period):
    slab = zn_slab(facet, 4, (4, 4) if facet != "101" else (2, 6))
    z = np.unique(np.round(slab.xyz[:, 2], 4))
    # atomic planes repeat with the interplanar spacing d(hkl) of hcp Zn
    assert (
        z[2] - z[0] == pytest.approx(period, abs=1e-3)
        if facet != "002"
        else z[1] - z[0] == pytest.approx(period, abs=1e-3)
    )
    top = slab.xyz[np.isclose(slab.xyz[:, 2], z[-1], atol=1e-3)]
    box = np.array([slab.a, slab.b, [0, 0, 100.0]])
    frac = top @ np.linalg.inv(box)
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.round(d)
    dist = np.linalg.norm(d @ box, axis=-1)
    np.fill_diagonal(dist, np.inf)
    assert dist.min() == pytest.approx(A, abs=1e-3)  # in-plane Zn-Zn spacing 0.2665 nm


def test_slab_examples_record_faces(built_examples):
    for facet in ("002", "100", "101"):
        info = built_examples[f"zn{facet}_znso4_2m"].info
        slab = info.slab.model_dump()
        assert slab["facet"] == facet and len(slab["z_faces_nm"]) == 2
        u = mda.Universe(str(built_examples[f"zn{facet}_znso4_2m"].topology_pdb))
        metal = u.select_atoms("resname ZNM")
        water = u.select_atoms("resname HOH")
        assert metal.n_atoms == slab["n_metal_atoms"]
        assert metal.positions[:, 2].max() / 10 == pytest.approx(slab["z_faces_nm"][1], abs=2e-3)
        assert water.positions[:, 2].min() / 10 > slab["z_faces_nm"][1] + 0.2


BAD = [
    (
        {"name": "x", "salts": [{"formula": "ZnSO4", "concentration": "2 m"}], "colour": "red"},
        "colour: unknown key",
    ),
    ({"name": "x", "salts": [{"formula": "ZnSO4", "concentration": "-1 m"}]}, "positive"),
    ({"name": "x", "salts": [{"formula": "ZnSO4", "concentration": "0 m"}]}, "positive"),
    (
        {"name": "x", "salts": [{"formula": "ZnSO4", "concentration": "2 parsecs"}]},
        "unknown concentration unit",
    ),
    ({"name": "x", "water": {"model": "tip9p"}}, "unknown water model"),
    ({"name": "x", "box": {"n_water": 10, "edge": "3 nm"}}, "exactly one of"),
]


@pytest.mark.parametrize("data,message", BAD)
def test_bad_designs_are_refused(data, message):
    """Structure and units are refused by parse_design, unknown names by check_design
    (both before any packing)."""
    with pytest.raises(SolvationError, match=message):
        check_design(parse_design(data))


@pytest.mark.parametrize(
    "data,error,message",
    [
        (
            {"name": "x", "salts": [{"formula": "ZnCl", "concentration": "1 m"}]},
            FormulaError,
            "not neutral",
        ),
        (
            {"name": "x", "salts": [{"formula": "ZnXy2", "concentration": "1 m"}]},
            FormulaError,
            "cannot read 'Xy2'",
        ),
        (
            {"name": "x", "salts": [{"formula": "Zn(OTf)2", "concentration": "10 M"}]},
            CompositionError,
            "more than the whole solution",
        ),
        (
            {
                "name": "x",
                "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
                "additives": [{"name": "xylitol", "concentration": "10 mM"}],
                "box": {"n_water": 500},
            },
            CompositionError,
            r"rounds to zero; use n_water >= \d+",
        ),
        (
            {"name": "x", "additives": [{"name": "xylitl", "concentration": "1 M"}]},
            Exception,
            "did you mean xylitol",
        ),
    ],
)
def test_bad_compositions_fail_before_building(tmp_path, data, error, message):
    out = tmp_path / "out"
    with pytest.raises(error, match=message):
        build(parse_design(data), out)
    assert not out.exists()


def test_existing_directory_is_left_untouched(tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    design = parse_design({"name": "x", "box": {"n_water": 300}})
    with pytest.raises(BuildError, match="not a build directory"):
        build(design, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_finished_build_is_not_redone(built_examples):
    built = built_examples["znso4_2m"]
    stamp = built.system_xml.stat().st_mtime_ns
    again = build(example_design("znso4_2m"), built.path)
    assert again.info == built.info and built.system_xml.stat().st_mtime_ns == stamp
    with pytest.raises(BuildError, match="another design"):
        build(EXAMPLES / "znso4_1m.toml", built.path)


def test_small_box_refused_before_packing(tmp_path):
    design = parse_design({"name": "x", "box": {"n_water": 100}})
    with pytest.raises(BuildError, match="below twice the cutoff"):
        build(design, tmp_path / "small")


def test_packmol_failure_is_surfaced():
    with pytest.raises(PackingError, match="packmol"):
        pack(
            [PackItem(water_template(), 200, ("inside box 0. 0. 0. 4. 4. 4.",))],
            seed=1,
            tolerance=2.0,
            timeout=300,
            nloop=3,
        )


def test_exclusion_spheres_hold_across_the_periodic_boundary():
    """Items with an exclusion are packed first, water around them in a second run: no
    atom of another molecule within the exclusion of any ion, periodic images included,
    and molecules come back in item order."""
    edge = 22.0
    zn = PackItem(ion_template("Zn2+"), 8, exclusion_angstrom=3.5)
    cl = PackItem(ion_template("Cl-"), 16)
    placed = pack(
        [zn, PackItem(water_template(), 300), cl], seed=3, pbc=(0, 0, 0, edge, edge, edge)
    )
    assert [t.resname for t, _ in placed] == ["ZN"] * 8 + ["HOH"] * 300 + ["CL"] * 16
    ions = np.array([c[0] for t, c in placed if t.resname == "ZN"])
    others = np.concatenate([c for t, c in placed if t.resname != "ZN"])
    d = distance_array(ions, others, box=[edge] * 3 + [90.0] * 3)
    assert d.min() > 3.5 - 0.05  # packmol's precision


def test_build_cli_writes_outputs(tmp_path):
    design = tmp_path / "d.toml"
    design.write_text(
        'name = "cli"\n[[salts]]\nformula = "ZnCl2"\nconcentration = "1 m"\n[box]\nn_water = 400\n'
    )
    out, js = tmp_path / "out", tmp_path / "b.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "build",
            str(design),
            "-o",
            str(out),
            "--json",
            str(js),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert {p.name for p in out.iterdir()} == {
        "system.xml",
        "topology.pdb",
        "build.json",
        "design.toml",
    }
    info = json.loads(js.read_text())
    assert info["counts"] == {"water": 400, "Zn2+": 7, "Cl-": 14}
    assert "achieved" in run.stdout


@pytest.mark.parametrize(
    "unit_text,unit",
    [
        ("0.5 M", "mol/L"),
        ("300 mM", "mol/L"),
        ("5 wt%", "wt%"),
        ("40 mg/mL", "g/L"),
        ("0.5 mol%", "mol%"),
        ("2 vol%", "vol%"),
    ],
)
def test_every_concentration_unit_reaches_the_requested_value(unit_text, unit):
    design = parse_design(
        {
            "name": "units",
            "box": {"n_water": 3000},
            "additives": [{"name": "EG", "concentration": unit_text}],
        }
    )
    comp = size_box(design)
    (conc,) = comp.concentrations
    assert conc["unit"] == unit
    per_molecule = conc["achieved"] / conc["formula_units"]  # one molecule's worth
    assert abs(conc["achieved"] - conc["requested_value"]) <= per_molecule
    if unit == "wt%":  # by hand: mass fraction of EG in the box
        m_eg = comp.components["EG"].mass * comp.counts["EG"]
        m_all = sum(comp.components[k].mass * n for k, n in comp.counts.items())
        assert conc["achieved"] == pytest.approx(100 * m_eg / m_all)
    if unit == "mol%":
        assert conc["achieved"] == pytest.approx(
            100 * comp.counts["EG"] / sum(comp.counts.values())
        )


def test_slab_with_adsorbed_layer_and_vacuum(tmp_path):
    design = parse_design(
        {
            "name": "ads",
            "box": {"n_water": 600},
            "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
            "slab": {
                "facet": "002",
                "layers": 3,
                "repeats": [12, 12],
                "vacuum": "1 nm",
                "adsorbed": {"name": "EG", "n": 3, "within": "6 A"},
            },
        }
    )
    built = build(design, tmp_path / "ads")
    info = built.info
    top = info.slab.z_faces_nm[1]
    u = mda.Universe(str(built.topology_pdb))
    eg = u.select_atoms("resname EGL")
    assert len(eg.residues) == 3 and info.counts["EG"] == 3
    assert np.all(eg.positions[:, 2] / 10 < top + 0.6 + 0.1)
    water_top = u.select_atoms("resname HOH").positions[:, 2].max() / 10
    assert info.box_nm[2] - water_top > 1.0  # the vacuum gap above the electrolyte
    # the default (scaled) family: pre-adsorbed GAFF2 EG keeps its charges, a few steps run
    assert "adsorbed EG" in info.model_family["not_validated"]
    _check_runs(built, "scaled")


def _shell_counts(pdb, cutoff=3.0):
    """Water O and sulfate O within ``cutoff`` A of each Zn2+ (brute force)."""
    u = mda.Universe(str(pdb))
    zn = u.select_atoms("resname ZN")
    ow = u.select_atoms("resname HOH and name O")
    os_ = u.select_atoms("resname SO4 and element O")
    d_w = distance_array(zn.positions, ow.positions, box=u.dimensions)
    d_s = distance_array(zn.positions, os_.positions, box=u.dimensions)
    return (d_w < cutoff).sum(axis=1), (d_s < cutoff).sum(axis=1)


def test_prehydrated_znso4_has_six_waters_and_no_contact_pair(tmp_path):
    """Default build of 2 m ZnSO4: every Zn2+ starts as [Zn(H2O)6]2+ with every sulfate
    atom past SOLUTE_EXCLUSION_ANGSTROM (second shell); build.json records it; a plain
    packmol start (prehydrate = false) records exactly the contacts a brute-force count
    finds in its topology."""
    spec = {
        "name": "ph",
        "box": {"n_water": 300},
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
    }
    built = build(parse_design(spec), tmp_path / "hyd")
    waters, sulfate = _shell_counts(built.topology_pdb)
    assert len(waters) == built.info.counts["Zn2+"] > 5
    assert np.all(waters == 6) and np.all(sulfate == 0)
    initial = built.info.initial_structure
    assert initial["prehydrated"] and initial["contact_pairs"] == 0
    assert initial["min_cation_anion_distance_angstrom"] > SOLUTE_EXCLUSION_ANGSTROM - 0.15
    assert initial["cation_resnames"] == ["ZN"] and initial["anion_resnames"] == ["SO4"]
    assert built.info.counts["water"] == 300  # the complexes' waters are the box's waters
    plain = build(
        parse_design({**spec, "box": {"n_water": 300, "prehydrate": False}}), tmp_path / "p"
    )
    _, sulfate = _shell_counts(plain.topology_pdb)
    assert plain.info.initial_structure["contact_pairs"] == int(sulfate.sum())
    assert plain.info.initial_structure["cations_in_contact"] == int((sulfate > 0).sum())


def test_contact_guard_is_a_periodic_flat_bottom_wall():
    """Energy of one Zn2+-O(sulfate) pair under the guard: k (r0 - r)^2 inside r0, zero
    outside, measured through the periodic boundary; no pair, no force."""
    top = openmm.app.Topology()
    chain = top.addChain()
    for name, element in (("ZN", "Zn"), ("SO4", "O"), ("HOH", "O")):
        top.addAtom(name, openmm.app.Element.getBySymbol(element), top.addResidue(name, chain))
    force = contact_guard(top, {"ZN"}, {"SO4"})
    assert force.getNumBonds() == 1 and force.getBondParameters(0)[:2] == [0, 1]
    assert contact_guard(top, {"ZN"}, {"CL"}) is None
    system = openmm.System()
    for _ in range(3):
        system.addParticle(1.0)
    system.setDefaultPeriodicBoxVectors(*(np.eye(3) * 2.0))
    system.addForce(force)
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    r0 = GUARD_ANGSTROM / 10
    for r in (0.25, 0.30, 0.34, 0.36, 0.5):
        # the sulfate O sits across the boundary: its minimum image is r from the Zn2+
        context.setPositions([[0.1, 0, 0], [2.1 - r, 0, 0], [1.0, 1.0, 1.0]])
        energy = context.getState(getEnergy=True).getPotentialEnergy()._value
        assert energy == pytest.approx(GUARD_K_KJ_MOL_NM2 * max(r0 - r, 0.0) ** 2, abs=1e-6)


def test_prehydrated_osmotic_box_takes_shell_waters_from_the_solution(tmp_path):
    """The osmotic two-compartment box pre-hydrates too (the validation suite's osmotic
    rows failed here once): each Zn2+ between the walls has six waters and no sulfate, and
    the complexes' waters count as solution water, not reservoir."""
    spec = {
        "name": "osm",
        "box": {"n_water": 200},
        "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
        "forcefield": {"cutoff": "0.9 nm"},
        "osmotic": {"reservoir": 1.0},
    }
    built = build(parse_design(spec), tmp_path / "osm")
    waters, sulfate = _shell_counts(built.topology_pdb)
    assert len(waters) == built.info.counts["Zn2+"] > 1
    assert np.all(waters == 6) and np.all(sulfate == 0)
    lo, hi = (10 * z for z in built.info.osmotic.walls_nm)
    u = mda.Universe(str(built.topology_pdb))
    z = u.select_atoms("resname HOH and name O").positions[:, 2]
    assert built.info.osmotic.n_solution_water == 200
    # packmol holds each compartment's water to its region to within ~0.1 A, so water at
    # a wall may belong to either side: 200 between the walls up to that precision
    assert np.count_nonzero((z > lo - 0.15) & (z < hi + 0.15)) >= 200
    assert np.count_nonzero((z > lo + 0.15) & (z < hi - 0.15)) <= 200


@pytest.mark.parametrize("species,n,distance", [("Zn2+", 6, 2.09), ("La3+", 9, 2.55)])
def test_aqua_complex_geometry(species, n, distance):
    """n waters at the first-shell distance, hydrogens pointing away, no clashes."""
    complex_ = aqua_template(ion_template(species), species)
    xyz = complex_.xyz_angstrom
    oxygens = xyz[1::3]
    hydrogens = np.concatenate([xyz[2::3], xyz[3::3]])
    assert len(oxygens) == n
    assert np.allclose(np.linalg.norm(oxygens, axis=1), distance)
    assert np.all(np.linalg.norm(hydrogens, axis=1) > distance + 0.3)
    oo = distance_array(oxygens, oxygens)[np.triu_indices(n, 1)]
    assert oo.min() > 2.4


def test_too_few_waters_to_prehydrate_is_refused():
    zn = PackItem(ion_template("Zn2+"), 10)
    water = PackItem(water_template(), 50)
    with pytest.raises(HydrationError, match="need 60 waters .* prehydrate = false"):
        hydrate_items([zn, water], {"ZN": "Zn2+"})
