"""The scaled-charge model family: parameters against their sources (table-driven), every
library species covered with ionic charges scaled and neutral ones not, pair energies
against the hand-computed formula, neutral boxes with the published charges, the rigid
Madrid-2019 sulfate, the Zn-O first peak of one Zn2+ in TIP4P/2005, the fit table against
the fit's data, and designs the family refuses."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openmm
import openmm.unit as u
import pytest
from openmm.app import PDBFile

from solvation.design import DEFAULT_FAMILY, SCALED_DEFAULTS, parse_design
from solvation.errors import SolvationError
from solvation.forcefields import ForceFieldChoices, add_virtual_sites, create_system, find_sets
from solvation.forcefields.family import FLAGS, FamilyError, scaled_family
from solvation.forcefields.library import ION_RESNAMES, ion_parameters, molecule_table
from solvation.systems import build
from solvation.systems.check import check_design
from solvation.systems.templates import (
    assemble,
    ion_template,
    library_template,
    smiles_template,
    water_template,
)

ROOT = Path(__file__).resolve().parents[1]
COULOMB = 138.935456  # kJ mol^-1 nm e^-2, 1/(4 pi eps0) as OpenMM uses it
# Madrid-2019 (Zeron, Abascal & Vega, JCP 151 (2019) 134504) and its extension (Blazquez,
# Conde, Abascal & Vega, JCP 156 (2022) 044505) [R: copy of its topology, molmdl/quickice
# madrid2019_085.top]; TIP4P/2005 (Abascal & Vega 2005). nm, kJ/mol, e.
PUBLISHED = {
    "scale": 0.85,
    "O(SO4)": (-0.65, 0.365, 0.8374, 24.01565),
    "S(SO4)": (0.90, 0.355, 1.0467, 0.0),
    "O-O(SO4)": 0.243316,
    "Ow": (0.0, 0.31589, 0.774908),
    "H": 0.5564,
    "M": -1.1128,
}
MADRID_IONS = {  # charge (e), sigma (nm), epsilon (kJ/mol), mass (Da; None: not Madrid's)
    "Mg2+": (1.7, 0.11629, 3.6519, 24.305),
    "Cl-": (-0.85, 0.46990563, 0.07692308, None),
    "Li+": (0.85, 0.14397, 0.43508986, 6.941),
    "Na+": (0.85, 0.22173668, 1.47235577, 22.9898),
    "K+": (0.85, 0.23014, 1.98574, 39.0983),
    "Br-": (-0.85, 0.482525, 0.112795, 79.904),
    "I-": (-0.85, 0.504975, 0.17901, 126.90447),
}
PAIRS = {  # sigma (nm), epsilon (kJ/mol), as published (Madrid-2019 and its extension)
    ("Mg2+", "water:O"): (0.181, 12.0),
    ("Mg2+", "SO4:O"): (0.240645, 2.74874271),
    ("Mg2+", "Cl-"): (0.30, 3.0),
    ("SO4:O", "water:O"): (0.340445, 0.629),
    ("Cl-", "water:O"): (0.42386698, 0.06198347),
    ("Li+", "water:O"): (0.212, 0.70065003),
    ("Li+", "Cl-"): (0.27, 1.28294385),
    ("Li+", "SO4:O"): (0.284485, 0.80360935),
    ("Na+", "water:O"): (0.26083754, 0.7933883),
    ("Na+", "Cl-"): (0.30051231, 1.43889423),
    ("K+", "water:O"): (0.28904, 1.40043),
    ("K+", "Cl-"): (0.3397, 1.4),
    ("K+", "SO4:O"): (0.32, 1.28951878),
    ("Br-", "water:O"): (0.41985, 0.1),
    ("Li+", "Br-"): (0.26145, 0.199378),
    ("Na+", "Br-"): (0.3385, 0.35677),
    ("K+", "Br-"): (0.379879, 0.42594),
    ("Mg2+", "Br-"): (0.265519, 0.641807),
    ("I-", "water:O"): (0.43495, 0.1),
    ("Li+", "I-"): (0.32047, 0.273498),
    ("Na+", "I-"): (0.364658, 0.513387),
    ("K+", "I-"): (0.40055, 0.53659),
    ("Mg2+", "I-"): (0.282707, 0.808534),
}
ZN_WATER = (0.2095, 12.0, 0.030)  # sigma, epsilon, C4: fitted here (tools/fit_scaled_zn.py)
CL_P_OTF = {"C": 0.35, "F": -0.16, "S": 1.02, "O": -0.63}  # CL&P charges (REFERENCE_DATA.md)


def _load_tool():
    spec = importlib.util.spec_from_file_location("fit_scaled_zn", ROOT / "tools/fit_scaled_zn.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _nonbonded(system):
    return next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))


# --- parameters -----------------------------------------------------------------------


def test_family_file_holds_the_published_sulfate_and_scale():
    fam = scaled_family()
    so4 = fam.species["SO4"]
    for site, (q, sigma, eps, mass) in (("O", PUBLISHED["O(SO4)"]), ("S", PUBLISHED["S(SO4)"])):
        p = so4.sites[site]
        assert (p["charge_e"], p["sigma_nm"], p["epsilon_kj_per_mol"]) == (q, sigma, eps)
        assert p["mass_dalton"] == mass
    assert so4.geometry["o_o_nm"].value == PUBLISHED["O-O(SO4)"]
    assert 2 * math.sqrt(2 / 3) * so4.geometry["s_o_nm"].value == pytest.approx(0.243316, abs=1e-6)
    assert fam.charge_scale.value == PUBLISHED["scale"] and fam.water.value == "tip4p2005"


@pytest.mark.parametrize("species", sorted(MADRID_IONS))
def test_madrid_ions_equal_the_published_topology(species):
    q, sigma, eps, mass = MADRID_IONS[species]
    ion = scaled_family().species[species]
    assert ion.route == "ion" and ion.status == "published"
    assert (ion["charge_e"], ion["sigma_nm"], ion["epsilon_kj_per_mol"]) == (q, sigma, eps)
    if mass is not None:
        assert ion["mass_dalton"] == mass


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_pair_terms_equal_their_sources(pair):
    terms = {(p.a, p.b): p for p in scaled_family().pairs}
    term = terms[pair]
    assert (term.sigma_nm, term.epsilon_kj_per_mol) == PAIRS[pair]
    assert term.status == "published" and {term.sigma.flag, term.epsilon.flag} == {"R"}


def test_every_number_has_a_flag_and_a_source():
    fam = scaled_family()
    every = [v for s in fam.species.values() for v in s.all_values().values()]
    every += [v for p in fam.pairs for v in (p.sigma, p.epsilon)]
    every += list(fam.smiles_rule.all_values().values())
    assert every and all(v.flag in FLAGS and v.source for v in every)
    assumed = [v for v in every if v.flag == "A"]
    assert assumed and all("assumption" in v.source for v in assumed)


def test_every_library_species_has_a_family_entry():
    """Every library ion and molecule is in the family: Madrid's own or fitted numbers,
    else the library's route; charged species carry 0.85 of their charge, neutral none."""
    fam = scaled_family()
    for name in ION_RESNAMES:
        entry = fam.species[name]
        charge = next(r.charge for r in ion_parameters_rows(name))
        assert entry["charge_e"] == pytest.approx(0.85 * charge), name
        assert entry.route in ("ion", "library"), name
        if entry.route == "library":
            assert entry.set == "iod" and entry.status == "assumption", name
    for name, mol in molecule_table().items():
        entry = fam.species[name]
        assert entry["charge_e"] == pytest.approx(0.85 * mol.charge), name
        if mol.charge == 0:
            assert (entry.route, entry.status) == ("gaff2-am1bcc", "assumption"), name
        elif name not in ("SO4", "OTf"):
            assert entry.route == mol.methods[0] and entry.status == "assumption", name
    for name in ("NO3", "NH4"):  # Madrid-2023 publishes them; unread, so cited as such
        assert any("Trejos" in c for c in fam.species[name].see_also)


def ion_parameters_rows(name):
    from solvation.forcefields.library import ion_table

    return [r for r in ion_table() if r.species == name]


# --- charges in a built System: ionic scaled, neutral not ---------------------------------

CHARGED_SMILES = "CC(=O)NCC[NH3+]"  # a cation given by SMILES
NEUTRAL_SMILES = "OCC(O)CO"  # glycerol


def _residue_charges(system, topology):
    nb = _nonbonded(system)
    return {
        r.index: [nb.getParticleParameters(a.index)[0]._value for a in r.atoms()]
        for r in topology.residues()
    }


def test_additive_charges_unscaled_ionic_scaled(make_topology):
    """One of each kind in one box, under both families: each atom of a charged molecule or
    'library' ion carries 0.85 of its full-family charge, each atom of a neutral molecule
    (library or SMILES) the same charge in both; Madrid ions their published charge."""
    names = ["TFSI", "ClO4", "OAc", "NO3", "NH4", "BF4", "EG", "urea"]
    templates = [library_template(n) for n in names]
    templates += [smiles_template(CHARGED_SMILES, "CAT"), smiles_template(NEUTRAL_SMILES, "GLY")]
    templates += [ion_template(n) for n in ("Mn2+", "La3+", "Na+", "Br-")]
    smiles = {"CAT": CHARGED_SMILES, "GLY": NEUTRAL_SMILES}
    top, pos = make_topology(templates, spacing=3.0, box_nm=4.5)
    full_sys, _ = create_system(top, ForceFieldChoices(family="full", water="tip3p"), smiles)
    scaled = ForceFieldChoices(family="scaled")
    scaled_sys, prov = create_system(top, scaled, smiles)
    full, mine = _residue_charges(full_sys, top), _residue_charges(scaled_sys, top)
    fam = scaled_family()
    for residue in top.residues():
        total = math.fsum(full[residue.index])
        name = residue.name
        if name in ("NA", "BR"):  # Madrid ions: the published charge
            published = fam.species["Na+" if name == "NA" else "Br-"]["charge_e"]
            assert mine[residue.index] == [pytest.approx(published)], name
            continue
        factor = 0.85 if abs(total) > 1e-6 else 1.0
        assert mine[residue.index] == pytest.approx(
            [factor * q for q in full[residue.index]], abs=1e-12
        ), name
    routes = {p["species"]: p.get("route") for p in prov}
    assert (
        routes["TFSI"] == "gaff2-am1bcc" and routes["BF4"] == "clp" and routes["Mn2+"] == "library"
    )
    mn = next(p for p in prov if p["species"] == "Mn2+")
    iod = ion_parameters("Mn2+", "tip4p2005", "iod")
    assert mn["parameters"]["sigma_nm"] == iod.sigma_nm and "frcmod" in mn["citation"]
    nb = _nonbonded(scaled_sys)
    mn_atom = next(a.index for a in top.atoms() if a.residue.name == "MN")
    _, sigma, eps = nb.getParticleParameters(mn_atom)
    assert (sigma._value, eps._value) == pytest.approx((iod.sigma_nm, iod.epsilon_kj_per_mol))
    assert "LJ12-6-4 C4" not in [f.getName() for f in scaled_sys.getForces()]  # no C4 term
    assert "LJ12-6-4 C4" in [f.getName() for f in full_sys.getForces()]


def test_design_defaults_agree_with_the_family_file():
    fam = scaled_family()
    assert SCALED_DEFAULTS == {"water": fam.water.value, "charge_scale": fam.charge_scale.value}


def test_shipped_sulfate_xml_is_the_family_file_divided_by_the_scale():
    root = ET.parse(ROOT / "forcefields/data/so4_madrid2019.xml").getroot()
    types = {t.get("name"): t for t in root.iter("Type")}
    lj = {a.get("type"): a for a in root.find("NonbondedForce").iter("Atom")}
    so4 = scaled_family().species["SO4"]
    atoms = list(root.find("Residues").iter("Atom"))
    assert [a.get("name") for a in atoms] == list(library_template("SO4").names)
    for atom in atoms:
        site = so4.sites[atom.get("name")[0]]
        assert float(atom.get("charge")) * 0.85 == site["charge_e"]  # exact in binary
        assert float(lj[atom.get("type")].get("sigma")) == site["sigma_nm"]
        assert float(lj[atom.get("type")].get("epsilon")) == site["epsilon_kj_per_mol"]
        assert float(types[atom.get("type")].get("mass")) == site["mass_dalton"]
    assert root.find("HarmonicBondForce") is None and root.find("HarmonicAngleForce") is None


def test_forcefields_show_gives_every_family_row_a_flagged_citation():
    rows = find_sets("scaled")
    names = {r.species for r in rows}
    assert {"family", "SMILES", "Zn2+", "Mg2+", "Cl-", "SO4", "OTf", "Zn2+ / water:O"} <= names
    assert set(scaled_family().species) <= names
    assert all(r.citation and any(f"[{f}]" in r.citation for f in FLAGS) for r in rows)
    zn_ow = next(r for r in rows if r.species == "Zn2+ / water:O")
    assert "FITTED HERE" in zn_ow.citation and "tools/fit_scaled_zn.py" in zn_ow.citation
    zn = next(r for r in rows if r.species == "Zn2+")
    assert (
        zn.citation.startswith("FITTED HERE")
        and "ZnSO4 density at 2 m (g/cm3)" in zn.parameters["fit"]
    )
    shown = {r.species for r in find_sets("Zn2+")}  # `solvation forcefields show Zn2+`
    assert {"Zn2+", "Zn2+ / water:O", "Zn2+ / SO4:O"} <= shown


# --- pair energies ----------------------------------------------------------------------


def _system(templates, offsets_nm, choices):
    """Topology, positions (nm) and System of templates placed at the given offsets."""
    placed = [
        (t, t.xyz_angstrom + 10 * np.asarray(o)) for t, o in zip(templates, offsets_nm, strict=True)
    ]
    top, pos = assemble(placed, np.eye(3) * 4.0)
    top, pos = add_virtual_sites(top, pos * u.nanometer, choices)
    system, _ = create_system(top, choices)
    return top, np.asarray(pos.value_in_unit(u.nanometer)), system


def _energy(system, positions):
    ctx = openmm.Context(
        system, openmm.VerletIntegrator(1.0), openmm.Platform.getPlatformByName("Reference")
    )
    ctx.setPositions(positions)
    ctx.computeVirtualSites()
    return ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)


def _lj(sigma, eps, r):
    return 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)


def _site_params(top):
    """(charge, sigma, epsilon) per atom from the published values (not from the System)."""
    published = {
        ("ZN", "Zn"): (0.11629, 3.6519),
        ("SO4", "O"): PUBLISHED["O(SO4)"][1:3],
        ("SO4", "S"): PUBLISHED["S(SO4)"][1:3],
        ("HOH", "O"): PUBLISHED["Ow"][1:],
    }
    charges = {
        ("ZN", "Zn"): 1.7,
        ("SO4", "O"): -0.65,
        ("SO4", "S"): 0.90,
        ("HOH", "O"): 0.0,
        ("HOH", "H"): PUBLISHED["H"],
        ("HOH", None): PUBLISHED["M"],
    }
    out = []
    for a in top.atoms():
        key = (a.residue.name, a.element.symbol if a.element is not None else None)
        out.append((charges[key], *published.get(key, (1.0, 0.0))))
    return out


def _hand_energy(top, pos, params, pair_terms):
    """Sum over atom pairs of different residues: Coulomb + LJ (LB, or the pair term)."""
    atoms = list(top.atoms())
    total = 0.0
    for i, j in itertools.combinations(range(len(atoms)), 2):
        if atoms[i].residue == atoms[j].residue:
            continue
        r = float(np.linalg.norm(pos[i] - pos[j]))
        (qi, si, ei), (qj, sj, ej) = params[i], params[j]
        key = frozenset({_site(atoms[i]), _site(atoms[j])})
        sigma, eps, *c4 = pair_terms.get(key, ((si + sj) / 2, math.sqrt(ei * ej)))
        total += COULOMB * qi * qj / r + _lj(sigma, eps, r) - sum(c4) / r**4
    return total


def _site(atom):
    if atom.residue.name == "HOH" and atom.name == "O":
        return "water:O"
    if atom.residue.name == "SO4" and atom.element.symbol == "O":
        return "SO4:O"
    return atom.residue.name


@pytest.mark.parametrize(
    "solute,distances_nm",
    [("Zn2+", (0.19, 0.21, 0.25, 0.35)), ("SO4", (0.28, 0.32, 0.36, 0.5))],
)
def test_pair_energy_equals_hand_computed_formula(solute, distances_nm):
    """Zn2+ (or SO4) and one TIP4P/2005 water, no cutoff: the System's energy equals
    Coulomb with the scaled charges + 12-6 LJ with the published pair term (LB elsewhere)."""
    choices = ForceFieldChoices(family="scaled")
    template = ion_template("Zn2+") if solute == "Zn2+" else library_template("SO4")
    top, pos, system = _system([template, water_template()], [(1, 2, 2), (2.5, 2, 2)], choices)
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            force.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
        if isinstance(force, openmm.CustomNonbondedForce):
            force.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
            force.setUseLongRangeCorrection(False)
    params = _site_params(top)
    pair_terms = {
        frozenset({"ZN", "water:O"}): ZN_WATER,
        frozenset({"SO4:O", "water:O"}): PAIRS[("SO4:O", "water:O")],
    }
    n_solute = template.n_atoms
    water_o = next(a.index for a in top.atoms() if a.residue.name == "HOH" and a.name == "O")
    # the water O approaches atom 0 (Zn, or sulfate O1 along the S-O1 bond, outwards)
    direction = np.array([1.0, 0.0, 0.0]) if n_solute == 1 else pos[0] - pos[1]
    direction /= np.linalg.norm(direction)
    for r in distances_nm:
        moved = pos.copy()
        moved[n_solute:] += pos[0] + r * direction - pos[water_o]
        expected = _hand_energy(top, moved, params, pair_terms)
        assert _energy(system, moved) == pytest.approx(expected, rel=1e-6, abs=1e-6), r


@pytest.mark.parametrize("c4", [None, 0.05])
def test_pair_term_force_is_exact_in_the_built_periodic_system(c4):
    """As built (PME, 1 nm cutoff, LRC on), with charges off: moving the water from 1.5 nm
    to r changes the energy by the fitted Zn2+-O(water) term alone, 12-6 - C4/r^4 (the
    family's C4, and 0.05 kJ mol^-1 nm^4 set in the System as the fit tool does)."""
    choices = ForceFieldChoices(family="scaled")
    top, pos, system = _system(
        [ion_template("Zn2+"), water_template()], [(1, 2, 2), (2.5, 2, 2)], choices
    )
    nb = _nonbonded(system)
    for i in range(nb.getNumParticles()):
        _, s, e = nb.getParticleParameters(i)
        nb.setParticleParameters(i, 0.0, s, e)
    fix = next(f for f in system.getForces() if f.getName() == "NBFix Zn2+ / water:O")
    assert fix.getUseLongRangeCorrection() and fix.getCutoffDistance() == nb.getCutoffDistance()
    assert fix.getNumExclusions() == nb.getNumExceptions()
    sigma, eps, c4_family = ZN_WATER
    if c4 is not None:
        _load_tool().set_pair_terms(system, {("Zn2+", "water:O"): (sigma, eps, c4)})
    far = _energy(system, pos)
    for r in (0.19, 0.2, 0.23, 0.3, 0.6):
        moved = pos.copy()
        moved[1:] += pos[0] + np.array([r, 0, 0]) - pos[1]
        expected = _lj(sigma, eps, r) - (c4 if c4 is not None else c4_family) / r**4
        assert _energy(system, moved) - far == pytest.approx(expected, abs=2e-5)


# --- built boxes --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scaled_boxes(tmp_path_factory):
    """A scaled ZnSO4 box and a scaled Zn(OTf)2 box, built by `solvation build`."""
    root = tmp_path_factory.mktemp("scaled")
    out = {}
    for formula, key in (("ZnSO4", "znso4"), ("Zn(OTf)2", "znotf2")):
        design = parse_design(
            {
                "name": f"scaled-{key}",
                "salts": [{"formula": formula, "concentration": "1 m"}],
                "box": {"n_water": 300},
                "forcefield": {"family": "scaled"},
            }
        )
        out[key] = build(design, root / key)
    return out


@pytest.mark.parametrize("key", ["znso4", "znotf2"])
def test_scaled_boxes_are_neutral_with_the_published_charges(scaled_boxes, key):
    built = scaled_boxes[key]
    system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
    nb = _nonbonded(system)
    charges = [nb.getParticleParameters(i)[0]._value for i in range(system.getNumParticles())]
    assert math.fsum(charges) == pytest.approx(0.0, abs=1e-9)
    assert built.info.total_charge == pytest.approx(0.0, abs=1e-9)
    assert built.info.water_model == "tip4p2005" and built.info.charge_scale == 0.85
    top = PDBFile(str(built.topology_pdb)).topology
    expected = {("ZN", "Zn"): 1.7, ("HOH", "H"): 0.5564, ("HOH", "O"): 0.0}
    expected |= {("SO4", "O"): -0.65, ("SO4", "S"): 0.9}
    expected |= {("OTF", e): 0.85 * q for e, q in CL_P_OTF.items()}
    for atom in top.atoms():
        if atom.residue.name == "HOH" and atom.name == "M":  # TIP4P/2005 virtual site
            assert charges[atom.index] == pytest.approx(-1.1128, abs=1e-12)
            continue
        want = expected[(atom.residue.name, atom.element.symbol)]
        assert charges[atom.index] == pytest.approx(want, abs=1e-12), atom


def test_built_sulfate_is_rigid_with_s_at_the_centroid(scaled_boxes):
    """system.xml of the ZnSO4 box (deserialised): S is a LocalCoordinatesSite of the four
    O, six O-O constraints hold 0.243316 nm after minimisation and 50 MD steps."""
    built = scaled_boxes["znso4"]
    system = openmm.XmlSerializer.deserialize(built.system_xml.read_text())
    pdb = PDBFile(str(built.topology_pdb))
    so4 = next(r for r in pdb.topology.residues() if r.name == "SO4")
    oxygens = [a.index for a in so4.atoms() if a.element.symbol == "O"]
    (sulfur,) = [a.index for a in so4.atoms() if a.element.symbol == "S"]
    site = system.getVirtualSite(sulfur)
    assert isinstance(site, openmm.LocalCoordinatesSite) and site.getNumParticles() == 4
    assert list(site.getOriginWeights()) == [0.25] * 4
    assert system.getParticleMass(sulfur)._value == 0.0
    assert all(system.getParticleMass(i)._value == 24.01565 for i in oxygens)
    integrator = openmm.LangevinMiddleIntegrator(298.15, 1.0, 0.002)
    ctx = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("CPU"))
    ctx.setPositions(pdb.positions)
    ctx.setPeriodicBoxVectors(*system.getDefaultPeriodicBoxVectors())
    ctx.applyConstraints(1e-8)
    openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 200)
    integrator.step(50)
    x = ctx.getState(getPositions=True).getPositions(asNumpy=True).value_in_unit(u.nanometer)
    for i, j in itertools.combinations(oxygens, 2):
        assert np.linalg.norm(x[i] - x[j]) == pytest.approx(PUBLISHED["O-O(SO4)"], abs=2e-5)
    assert np.linalg.norm(x[sulfur] - x[oxygens].mean(axis=0)) < 1e-6
    assert np.linalg.norm(x[oxygens] - x[sulfur], axis=1) == pytest.approx([0.149] * 4, abs=2e-5)


def test_fitted_zn_water_term_is_the_fit_scan_point_that_meets_the_targets():
    """The family's Zn2+-O(water) sigma, epsilon and C4 are the scan point measured with
    the validation suite's protocol (560 waters, 200 ps) in tools/data, and that point puts
    the 2 m ZnSO4 density within 1% of experiment and the Zn-O peak within 0.05 A of
    2.09 A, with six waters; the fit table of the family file quotes that point."""
    import csv

    path = ROOT / "tools/data/fit_scaled_zn_solutions.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    term = next(p for p in scaled_family().pairs if (p.a, p.b) == ("Zn2+", "water:O"))
    assert (term.sigma_nm, term.epsilon_kj_per_mol, term.c4_kj_per_mol_nm4) == ZN_WATER
    values = ("zn_water_sigma_nm", "zn_water_epsilon_kj_per_mol", "zn_water_c4_kj_per_mol_nm4")
    fitted = [r for r in rows if tuple(float(r[k]) for k in values) == ZN_WATER]
    (point,) = [r for r in fitted if r["n_water"] == "560" and float(r["molality"]) == 2.0]
    assert abs(float(point["density_deviation_percent"])) < 1.0
    assert float(point["peak_angstrom"]) == pytest.approx(2.09, abs=0.05)
    assert float(point["cn"]) == pytest.approx(6.0, abs=0.1)
    fit = scaled_family().species["Zn2+"].fit
    assert f"{float(point['density_g_per_cm3']):.4f}" in fit["ZnSO4 density at 2 m (g/cm3)"]


def test_zn_o_first_peak_of_one_zn_in_tip4p2005():
    """One Zn2+ in 300 TIP4P/2005 waters, 4 ps + 8 ps NPT on CPU (tools/fit_scaled_zn.py,
    the shipped pair term): first peak within 0.05 A of 2.09 A, six waters in the shell."""
    point = _load_tool().measure(None, n_water=300, equilibration_ps=4.0, production_ps=8.0)
    assert point.peak_angstrom == pytest.approx(2.09, abs=0.05)
    assert point.cn == pytest.approx(6.0, abs=0.2)


# --- designs ------------------------------------------------------------------------------


def test_designs_record_their_family_and_round_trip():
    """The dump (and so design.toml copies and the spec hash) always names the family, so a
    copy keeps its family whatever the default is; full and scaled hash differently."""
    for family in ("full", "scaled"):
        design = parse_design({"name": "s", "forcefield": {"family": family}})
        dumped = design.model_dump(mode="json")
        assert dumped["forcefield"]["family"] == family
        assert ("zn" in dumped["forcefield"]) == (family == "full")
        assert parse_design(dumped) == design
    scaled = parse_design({"name": "s", "forcefield": {"family": "scaled"}})
    assert scaled.water.model == "tip4p2005" and scaled.forcefield.charge_scale == 0.85
    full = parse_design({"name": "s", "forcefield": {"family": "full"}})
    assert full.water.model == "tip3p" and scaled.spec_hash() != full.spec_hash()
    assert parse_design({"name": "s"}).forcefield.family == DEFAULT_FAMILY


def _scaled(**extra):
    base = {"name": "s", "salts": [{"formula": "ZnSO4", "concentration": "1 m"}]}
    ff = {"family": "scaled", **extra.pop("forcefield", {})}
    return {**base, **extra, "forcefield": ff}


@pytest.mark.parametrize(
    "data,message",
    [
        (_scaled(water={"model": "tip3p"}), "uses tip4p2005 water, not 'tip3p'"),
        (_scaled(forcefield={"charge_scale": 0.8}), "scales charges by 0.85, not 0.8"),
        (_scaled(forcefield={"methods": {"SO4": "gaff2-am1bcc"}}), "remove forcefield.methods"),
        (_scaled(forcefield={"ions": {"Zn2+": "cm"}}), "remove forcefield.ions"),
        (_scaled(forcefield={"zn": "cm"}), "remove zn"),
        ({"name": "s", "forcefield": {"family": "madrid"}}, "'full' or 'scaled'"),
    ],
)
def test_designs_the_scaled_family_cannot_build_are_refused(data, message):
    with pytest.raises(Exception, match=message) as err:
        check_design(parse_design(data))
    assert isinstance(err.value, SolvationError)


@pytest.mark.parametrize(
    "extra",
    [
        {"salts": [{"formula": "NaCl", "concentration": "1 m"}]},
        {"salts": [{"formula": "Zn(TFSI)2", "concentration": "1 m"}]},
        {"additives": [{"name": "xylitol", "concentration": "0.1 m"}]},
        {"cosolvents": [{"smiles": "CS(C)=O", "fraction": "10 vol%"}]},
        {"cosolvents": [{"name": "DMF", "ratio": "2:1 v/v"}]},
    ],
)
def test_designs_with_any_library_species_or_smiles_pass_the_check(extra):
    check_design(parse_design(_scaled(**extra)))


def test_api_choices_refuse_another_water_model():
    with pytest.raises(FamilyError, match="tip4p2005"):
        ForceFieldChoices(family="scaled", water="tip3p")
    assert ForceFieldChoices(family="scaled").charge_scale == 0.85
    assert ForceFieldChoices().family == DEFAULT_FAMILY == "scaled"
    assert (ForceFieldChoices().water, ForceFieldChoices().charge_scale) == ("tip4p2005", 0.85)
    full = ForceFieldChoices(family="full")
    assert (full.water, full.charge_scale, full.zn) == ("tip3p", 1.0, "12-6-4")


# --- validation status where users look -------------------------------------------------


def test_status_rows_agree_with_the_shipped_references():
    """Every experiment number of family_validation.toml is the reference the validation
    suite compares with, and each sentence quotes every deviation of its row and the worst."""
    from solvation.forcefields.status import status_rows
    from solvation.validation.references import load_references

    refs = {(r.system, r.quantity): r.value for r in load_references()}
    quantity = {"density": "solution_density", "viscosity": "shear_viscosity"}
    for family in ("full", "scaled"):
        rows = status_rows(family)
        assert rows, family
        for row in rows:
            for m, exp in zip(row.molality, row.experiment, strict=True):
                key = (f"{row.salt.lower()}_{m:g}m", quantity.get(row.quantity, row.quantity))
                assert refs[key] == exp, key
            deviations = row.deviations_percent()
            quoted = ", ".join(f"{d:+.1f}" for d in deviations)
            assert f"{quoted}% from experiment" in row.sentence()
            if len(deviations) > 1:
                assert f"worst {max(abs(d) for d in deviations):.1f}%" in row.sentence()


def test_run_prints_the_family_and_its_validation(tiny_run, capsys):
    """`solvation run` on a finished run (nothing to do) names the model family, how it
    was chosen and what it is validated for; build.json records the same."""
    from solvation.cli import app, run_cli
    from solvation.rundir import read_build

    status = read_build(tiny_run).model_family
    assert status["chosen_by"].startswith("default") and status["family"] == DEFAULT_FAMILY
    assert status["not_validated"] == ["salt ZnCl2"]  # no ZnCl2 row in either family
    capsys.readouterr()
    run_cli(app, ["run", str(tiny_run), "--platform", "CPU"])
    out = capsys.readouterr().out
    assert f"model family: {DEFAULT_FAMILY} (default" in out
    assert "not validated: salt ZnCl2" in out
