"""Force-field library: parameters against their published sources, energies of hand-built
pairs, charge neutrality, the parameter cache, charge scaling, and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u
import pytest

from solvation.forcefields import (
    ForceFieldChoices,
    ParametrizationError,
    UnknownName,
    create_system,
    ion_parameters,
    molecule,
    net_charge,
    parameter_sets,
    parametrize,
)
from solvation.forcefields.amber import amber_parm_dir
from solvation.forcefields.library import ion_table
from solvation.systems.templates import ion_template, library_template, water_template

# REFERENCE_DATA.md, Zn2+ 12-6 (Li-Merz): Rmin/2 (A), eps (kcal/mol), sigma (nm), eps (kJ/mol).
# Li, Roberts, Chakravorty & Merz, JCTC 9 (2013) 2733; Li & Merz JCTC 10 (2014) 289;
# Li, Song, Li & Merz, JCTC 16 (2020) 4429.
ZN_PUBLISHED = {
    ("tip3p", "hfe"): (1.175, 0.00071558, 0.20936, 0.00299399),
    ("tip3p", "iod"): (1.395, 0.01491700, 0.24856, 0.06241273),
    ("tip3p", "cm"): (1.271, 0.00330286, 0.22647, 0.01381917),
    ("tip3p", "12-6-4"): (1.455, 0.02662782, 0.25925, 0.11141080),
    ("spce", "hfe"): (1.178, 0.00075490, 0.20990, 0.00315850),
    ("spce", "iod"): (1.395, 0.01491700, 0.24856, 0.06241273),
    ("spce", "cm"): (1.276, 0.00354287, 0.22736, 0.01482337),
    ("spce", "12-6-4"): (1.454, 0.02639002, 0.25907, 0.11041584),
    ("tip4pew", "hfe"): (1.115, 0.00022490, 0.19867, 0.00094098),
    ("tip4pew", "iod"): (1.395, 0.01491700, 0.24856, 0.06241273),
    ("tip4pew", "cm"): (1.252, 0.00250973, 0.22308, 0.01050071),
    ("tip4pew", "12-6-4"): (1.450, 0.02545423, 0.25836, 0.10650050),
    ("opc", "hfe"): (1.151, 0.00045971, 0.20508, 0.00192343),
    ("opc", "iod"): (1.373, 0.01179373, 0.24464, 0.04934497),
    ("opc", "cm"): (1.219, 0.00150903, 0.21720, 0.00631378),
    ("opc", "12-6-4"): (1.423, 0.01975917, 0.25355, 0.08267237),
    ("opc3", "hfe"): (1.200, 0.00110429, 0.21382, 0.00462035),
    ("opc3", "iod"): (1.400, 0.01570749, 0.24945, 0.06572014),
    ("opc3", "cm"): (1.280, 0.00374505, 0.22807, 0.01566929),
    ("opc3", "12-6-4"): (1.441, 0.02343735, 0.25676, 0.09806187),
}
# C4(Zn2+-OW), kcal mol^-1 A^4: ParmEd add1264 DEFAULT_C4_PARAMS (Li & Merz 2014; 2020).
ZN_C4 = {"tip3p": 231.6, "spce": 231.2, "tip4pew": 272.3, "opc": 225.0, "opc3": 199.0}
BUNDLED = {
    "tip3p": "tip3p.xml",
    "spce": "spce.xml",
    "tip4pew": "tip4pew.xml",
    "opc": "opc.xml",
    "opc3": "opc3.xml",
}


@pytest.mark.parametrize("water,set_name", sorted(ZN_PUBLISHED))
def test_zn_parameters_equal_published_values(water, set_name):
    rmin, eps_kcal, sigma_nm, eps_kj = ZN_PUBLISHED[(water, set_name)]
    p = ion_parameters("Zn2+", water, set_name)
    assert p.rmin_half_angstrom == rmin
    assert p.epsilon_kcal_per_mol == eps_kcal
    assert p.sigma_nm == pytest.approx(sigma_nm, abs=5e-6)
    assert p.epsilon_kj_per_mol == pytest.approx(eps_kj, abs=5e-9)
    assert p.mass_dalton == 65.4
    if set_name == "12-6-4":
        assert p.c4_kcal_per_mol_angstrom4 == ZN_C4[water]
        assert p.c4_kj_per_mol_nm4 == pytest.approx(ZN_C4[water] * 4.184e-4)
    else:
        assert p.c4_kcal_per_mol_angstrom4 is None


@pytest.mark.parametrize("water", sorted(BUNDLED))
def test_cm_set_equals_openmm_bundled_xml(water):
    """OpenMM's amber14 water files carry the CM set; ours must agree with them."""
    path = Path(app.__file__).parent / "data" / "amber14" / BUNDLED[water]
    atom = next(
        a
        for a in ET.parse(path).getroot().iter("Atom")
        if a.get("type", "").endswith("Zn2+") and a.get("sigma")
    )
    p = ion_parameters("Zn2+", water, "cm")
    assert p.sigma_nm == pytest.approx(float(atom.get("sigma")), abs=1e-6)
    assert p.epsilon_kj_per_mol == pytest.approx(float(atom.get("epsilon")), abs=1e-6)


def test_ion_table_matches_ambertools_frcmod_files():
    """Every row of ions.csv equals the NONBON line of the frcmod file it cites."""
    for row in ion_table():
        path = amber_parm_dir() / row.source_file.rsplit("/", 1)[1]
        line = next(
            x
            for x in path.read_text().splitlines()
            if re.match(rf"\s*{re.escape(row.species)}\s+\d+\.\d+\s+\d+\.\d+", x)
            and x.split()[1] != ""
            and len(x.split()) >= 3
            and float(x.split()[1]) == row.rmin_half_angstrom
        )
        assert float(line.split()[2]) == row.epsilon_kcal_per_mol, row


def test_tip4p2005_borrows_tip4pew_ion_sets_and_says_so():
    p = ion_parameters("Zn2+", "tip4p/2005", "12-6-4")
    assert p.rmin_half_angstrom == 1.450 and "none published" in p.citation


def _pair_energy(system, positions):
    ctx = openmm.Context(
        system, openmm.VerletIntegrator(1.0), openmm.Platform.getPlatformByName("Reference")
    )
    ctx.setPositions(positions)
    return ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)


@pytest.mark.parametrize("set_name", ["cm", "12-6-4"])
def test_zn_water_oxygen_pair_energy_matches_hand_computed(make_topology, set_name):
    """E(r) of one Zn2+ and one TIP3P water (charges off) equals 12-6 (-C4/r^4) by hand."""
    top, pos = make_topology([ion_template("Zn2+"), water_template()])
    system, _ = create_system(top, ForceFieldChoices(family="full", water="tip3p", zn=set_name))
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            for i in range(force.getNumParticles()):
                q, s, e = force.getParticleParameters(i)
                force.setParticleParameters(i, 0.0, s, e)
            force.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
        if isinstance(force, openmm.CustomNonbondedForce):
            force.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
    p = ion_parameters("Zn2+", "tip3p", set_name)
    sig_o, eps_o = 0.31507524065751241, 0.635968  # amber14/tip3p.xml OW
    sigma, eps = (p.sigma_nm + sig_o) / 2, np.sqrt(p.epsilon_kj_per_mol * eps_o)
    water = pos[1:].copy()
    far = _pair_energy(system, np.vstack([[100.0, 0, 0], water]))
    for r in (0.19, 0.21, 0.25, 0.35):
        zn = water[0] + np.array([0.0, 0.0, r])
        e = _pair_energy(system, np.vstack([zn, water])) - far
        expected = 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6) - p.c4_kj_per_mol_nm4 / r**4
        assert e == pytest.approx(expected, abs=1e-6)


def test_1264_cross_term_to_sulfate_scaled_by_polarisability(make_topology):
    top, _ = make_topology([ion_template("Zn2+"), library_template("SO4"), water_template()])
    system, _ = create_system(top, ForceFieldChoices(family="full", water="tip3p"))
    c4 = next(f for f in system.getForces() if isinstance(f, openmm.CustomNonbondedForce))
    index = {(a.residue.name, a.element.symbol): a.index for a in top.atoms()}
    k_zn, a_zn = c4.getParticleParameters(index["ZN", "Zn"])
    k_s, a_s = c4.getParticleParameters(index["SO4", "S"])
    k_ow, a_ow = c4.getParticleParameters(index["HOH", "O"])
    assert a_s == 3.0 and a_ow == 1.444 and k_s == 0.0 and a_zn == 0.344
    assert k_zn * a_ow == pytest.approx(231.6 * 4.184e-4)  # C4(Zn-OW)
    assert k_zn * a_s == pytest.approx(231.6 * 4.184e-4 * 3.0 / 1.444)
    assert list(c4.getInteractionGroupParameters(0)[0]) == [0]


SALTS = [
    ("Zn2+", "SO4", 1),
    ("Zn2+", "OTf", 2),
    ("Zn2+", "TFSI", 2),
    ("Zn2+", "ClO4", 2),
    ("Zn2+", "OAc", 2),
    ("Zn2+", "BF4", 2),
    ("Zn2+", "NO3", 2),
    ("Zn2+", "Cl-", 2),
    ("Mg2+", "Br-", 2),
    ("Al3+", "I-", 3),
    ("Na+", "SO4", 1),
    ("NH4", "Cl-", 1),
]


def _template(name):
    try:
        return ion_template(name)
    except KeyError:
        return library_template(molecule(name).name)


@pytest.mark.parametrize("cation,anion,n_anion", SALTS)
def test_anions_parametrise_and_salts_are_neutral(make_topology, cation, anion, n_anion):
    n_cat = 2 if cation == "Na+" else 1
    templates = [_template(cation)] * n_cat + [_template(anion)] * n_anion + [water_template()]
    top, _ = make_topology(templates, spacing=7.0, box_nm=5.0)
    system, provenance = create_system(top, ForceFieldChoices(family="full", water="tip3p"))
    assert net_charge(system) == pytest.approx(0.0, abs=1e-6)
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    for residue in top.residues():
        q = sum(nb.getParticleParameters(a.index)[0]._value for a in residue.atoms())
        assert q == pytest.approx(round(q), abs=1e-6)
    assert all(p["citation"] for p in provenance)


@pytest.mark.parametrize("name", ["EG", "DMSO", "methanol", "xylitol", "DMF"])
def test_additive_parametrisation_is_cached(name):
    mol = molecule(name)
    first = parametrize(mol.smiles, charge=0)
    start = time.perf_counter()
    second = parametrize(mol.smiles, charge=0)
    assert second.cached and time.perf_counter() - start < 1.0
    assert second.ffxml == first.ffxml
    root = ET.fromstring(second.ffxml)
    charges = [float(a.get("charge")) for a in root.iter("Atom") if a.get("charge")]
    assert sum(charges) == pytest.approx(0.0, abs=1e-6)


def test_otf_clp_parameters_and_opls_14(make_topology):
    """CL&P triflate values (REFERENCE_DATA.md) reach the System; 1-4 pairs use 0.5/0.5."""
    top, _ = make_topology([ion_template("Zn2+"), library_template("OTf"), library_template("OTf")])
    system, _ = create_system(
        top, ForceFieldChoices(family="full", water="tip3p", methods={"OTf": "clp"})
    )
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    expected = {
        "C": (0.35, 0.350, 0.27614),
        "F": (-0.16, 0.3118, 0.25540),
        "S": (1.02, 0.355, 1.046),
        "O": (-0.63, 0.315, 0.83736),
    }
    atoms = list(top.atoms())
    for atom in atoms[1:9]:
        q, s, e = nb.getParticleParameters(atom.index)
        assert (q._value, s._value, e._value) == pytest.approx(expected[atom.element.symbol])
    n14 = 0
    for k in range(nb.getNumExceptions()):
        i, j, qq, sig, eps = nb.getExceptionParameters(k)
        if eps._value != 0:
            n14 += 1
            qi, qj = nb.getParticleParameters(i)[0]._value, nb.getParticleParameters(j)[0]._value
            assert qq._value == pytest.approx(0.5 * qi * qj)
            assert {atoms[i].element.symbol, atoms[j].element.symbol} == {"O", "F"}
    assert n14 == 2 * 9


def test_charge_scaling_multiplies_ionic_charges_only(make_topology):
    templates = [
        ion_template("Zn2+"),
        library_template("OTf"),
        library_template("OTf"),
        water_template(),
        library_template("EG"),
    ]
    top, _ = make_topology(templates, spacing=7.0, box_nm=5.0)
    ref, _ = create_system(top, ForceFieldChoices(family="full", methods={"OTf": "gaff2-am1bcc"}))
    scaled, _ = create_system(
        top, ForceFieldChoices(family="full", methods={"OTf": "gaff2-am1bcc"}, charge_scale=0.8)
    )
    nb0, nb1 = (
        next(f for f in s.getForces() if isinstance(f, openmm.NonbondedForce))
        for s in (ref, scaled)
    )
    ionic = {a.index for r in top.residues() if r.name in ("ZN", "OTF") for a in r.atoms()}
    for i in range(nb0.getNumParticles()):
        (q0, s0, e0), (q1, s1, e1) = nb0.getParticleParameters(i), nb1.getParticleParameters(i)
        factor = 0.8 if i in ionic else 1.0
        assert q1._value == pytest.approx(factor * q0._value, abs=1e-12)
        assert (s1, e1) == (s0, e0)
    for k in range(nb0.getNumExceptions()):
        i, j, qq0, _, e0 = nb0.getExceptionParameters(k)
        qq1, e1 = nb1.getExceptionParameters(k)[2], nb1.getExceptionParameters(k)[4]
        factor = 0.64 if i in ionic else 1.0
        assert qq1._value == pytest.approx(factor * qq0._value, abs=1e-12) and e1 == e0
    assert net_charge(scaled) == pytest.approx(0.0, abs=1e-6)


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownName, match="did you mean.*xylitol"):
        molecule("xylitl")
    with pytest.raises(UnknownName, match="12-6-4"):
        ion_parameters("Zn2+", "tip3p", "12-6-5")
    with pytest.raises(UnknownName, match="tip3p"):
        ion_parameters("Zn2+", "tip3pp", "cm")


def test_bad_smiles_and_charge_mismatch_fail_before_am1bcc(monkeypatch):
    import solvation.forcefields.molecules as mm

    monkeypatch.setattr(mm, "_generate", lambda *a: pytest.fail("AM1-BCC must not run"))
    with pytest.raises(ParametrizationError, match="cannot parse SMILES"):
        parametrize("C1CC(")
    with pytest.raises(ParametrizationError, match="formal charge -2 e but -1 e"):
        parametrize("[O-]S(=O)(=O)[O-]", charge=-1)


def test_ambertools_failure_is_surfaced_and_not_cached(_isolated_cache):
    before = (
        set((_isolated_cache / "params").glob("*"))
        if (_isolated_cache / "params").exists()
        else set()
    )
    with pytest.raises(ParametrizationError, match="BF4|B-|sqm|antechamber|am1bcc"):
        parametrize("F[B-](F)(F)F", method="gaff2-am1bcc")
    after = (
        set((_isolated_cache / "params").glob("*"))
        if (_isolated_cache / "params").exists()
        else set()
    )
    assert after == before


def test_forcefields_list_cli_json(tmp_path):
    out = tmp_path / "sets.json"
    run = subprocess.run(
        [sys.executable, "-m", "solvation.cli", "forcefields", "list", "--json", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(out.read_text())
    assert rows and set(rows[0]) == {"species", "water_model", "set", "citation"}
    zn = {(r["water_model"], r["set"]) for r in rows if r["species"] == "Zn2+"}
    assert set(ZN_PUBLISHED) <= zn and ("tip4p2005", "12-6-4") in zn
    species = {r["species"] for r in rows}
    assert {
        "SO4",
        "OTf",
        "Cl-",
        "Br-",
        "I-",
        "TFSI",
        "ClO4",
        "OAc",
        "BF4",
        "NO3",
        "Li+",
        "Na+",
        "K+",
        "NH4",
        "Mg2+",
        "Mn2+",
        "Ni2+",
        "Al3+",
        "La3+",
        "Ce3+",
        "Zn(metal)",
        "water",
    } <= species
    assert all(r["citation"] for r in rows)
    assert len(rows) == len(parameter_sets())
    assert "Zn2+" in run.stdout


def test_forcefields_show_cli_unknown_name_exits_with_hint():
    run = subprocess.run(
        [sys.executable, "-m", "solvation.cli", "forcefields", "show", "xylitl"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "did you mean" in run.stderr
