"""Substrates beyond bare Zn: crystal data against their published sources, slabs with
the published stoichiometry and lattice constants, the facet normal to z, no net charge
or dipole, force-field values against their sources, built systems (charges, frozen
atoms, provenance), an alloy held at a potential, Zn design hashes kept, bad input."""

from __future__ import annotations

import json
import math
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import openmm
import pytest

from solvation.design import DesignError, SlabSpec, parse_design
from solvation.forcefields import ZN_METAL, find_sets
from solvation.forcefields.substrates import SubstrateError, lj_parameters, material, materials
from solvation.systems import build, check_design
from solvation.systems.slab import SlabError
from solvation.systems.substrates import bulk_crystal, dipole_per_area, substrate_slab

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Published lattice constants (A), read in the sources the data file cites:
# Zn: AMCSD 0011200 (Wyckoff 1963) as NCrystal Zn_sg194.ncmat; Cu5Zn8: Gourdon et al.,
# Inorg. Chem. 46 (2007) 251; ZnO: Kihara & Donnay 1985 (COD 9004179); ZnS: Jumpertz 1955
# (COD 1100043); ZnF2: Baur & Khan 1971 (COD 9007539).
PUBLISHED = {
    "Zn": {"a": 2.6648, "c": 4.9467, "spacegroup": 194, "formula": {"Zn": 1}},
    "Cu5Zn8": {"a": 8.8664, "c": 8.8664, "spacegroup": 217, "formula": {"Cu": 5, "Zn": 8}},
    "ZnO": {"a": 3.2533, "c": 5.2073, "spacegroup": 186, "formula": {"Zn": 1, "O": 1}},
    "ZnS": {"a": 5.4145, "c": 5.4145, "spacegroup": 216, "formula": {"Zn": 1, "S": 1}},
    "ZnF2": {"a": 4.7048, "c": 3.1338, "spacegroup": 136, "formula": {"Zn": 1, "F": 2}},
}
R2, R3 = math.sqrt(2.0), math.sqrt(3.0)
# material, facet: in-plane cell lengths and the repeat along the normal, from a and c
FACETS = {
    ("Zn", "002"): (lambda a, c: (a, R3 * a), lambda a, c: c / 2),
    ("Cu5Zn8", "110"): (lambda a, c: (R2 * a, a), lambda a, c: a / R2),
    ("CuZn5", "002"): (lambda a, c: (3 * a, 2 * R3 * a), lambda a, c: c),
    ("ZnO", "100"): (lambda a, c: (a, c), lambda a, c: R3 * a / 2),
    ("ZnO", "110"): (lambda a, c: (R3 * a, c), lambda a, c: a / 2),
    ("ZnS", "110"): (lambda a, c: (R2 * a, a), lambda a, c: a / R2),
    ("ZnF2", "110"): (lambda a, c: (R2 * a, c), lambda a, c: a / R2),
    ("ZnF2", "001"): (lambda a, c: (a, a), lambda a, c: c),
}
MILLER_CUBIC_OR_HEX = {  # of the reflection whose d the repeat is a multiple of
    ("Zn", "002"): (0, 0, 2),
    ("Cu5Zn8", "110"): (1, 1, 0),
    ("ZnO", "100"): (1, 0, 0),
    ("ZnO", "110"): (1, 1, 0),
    ("ZnS", "110"): (1, 1, 0),
    ("ZnF2", "110"): (1, 1, 0),
    ("ZnF2", "001"): (0, 0, 1),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_crystal_data_are_the_published_values(name):
    mat, ref = material(name), PUBLISHED[name]
    assert mat.cellpar[0] == ref["a"] and mat.cellpar[2] == ref["c"]
    assert mat.spacegroup == ref["spacegroup"] and mat.composition == ref["formula"]
    assert mat.verified and mat.cellpar_source and mat.sites_source


def test_unverified_epsilon_brass_says_so_and_zn_uses_the_cited_c():
    cuzn5 = material("CuZn5")
    assert not cuzn5.verified and "UNVERIFIED" in cuzn5.cellpar_source
    assert "UNVERIFIED" in cuzn5.limits.upper()
    # c = 4.9467 A as in the cited AMCSD entry (the library held 4.9470 before)
    assert ZN_METAL["c_nm"] == pytest.approx(0.49467, abs=1e-9)
    assert ZN_METAL["a_nm"] == pytest.approx(0.26648, abs=1e-9)
    assert "AMCSD 0011200" in ZN_METAL["citation"]


@pytest.mark.parametrize("name", sorted(materials()))
def test_bulk_crystals_have_the_published_stoichiometry(name):
    mat = material(name)
    atoms = bulk_crystal(mat)
    counts = Counter(atoms.get_chemical_symbols())
    unit = min(counts.values()) // min(mat.composition.values())
    assert dict(counts) == {el: n * unit for el, n in mat.composition.items()}
    density = len(atoms) / atoms.get_volume()
    assert density == pytest.approx(mat.atoms_per_cell / mat.cell_volume_angstrom3, rel=1e-6)
    if mat.approximant is None:
        assert len(atoms) == mat.atoms_per_cell


def test_epsilon_brass_approximant_has_no_cu_cu_nearest_neighbours():
    atoms = bulk_crystal(material("CuZn5"))
    cu = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Cu"]
    d = atoms.get_distances(cu[0], cu[1:], mic=True)
    nearest = min(atoms.get_distances(0, range(1, len(atoms)), mic=True))
    assert len(cu) == 4 and d.min() > 1.2 * nearest


def _slab(name, facet, layers, repeats=(1, 1)):
    return substrate_slab(SlabSpec(material=name, facet=facet, layers=layers, repeats=repeats), 3)


@pytest.mark.parametrize(("name", "facet"), sorted(FACETS))
def test_slabs_have_the_published_lattice_and_the_facet_normal_to_z(name, facet):
    """In-plane cell and repeat along z follow from the published a, c within 0.5%; the
    repeat is a whole number of d(hkl) (the facet is normal to z); two thicknesses give
    the bulk number density; the slab is neutral and (ionic) dipole-free."""
    mat = material(name)
    a, c = mat.cellpar[0], mat.cellpar[2]
    in_plane, repeat = FACETS[(name, facet)]
    reps = (1, 2) if (name, facet) == ("Zn", "002") else (1, 1)
    thin, thick = _slab(name, facet, 2, reps), _slab(name, facet, 3, reps)
    lengths = sorted([np.linalg.norm(thin.a), np.linalg.norm(thin.b)])  # one surface cell
    assert lengths == pytest.approx(sorted(in_plane(a, c)), rel=5e-3)
    assert abs(thin.a[2]) < 1e-9 and abs(thin.b[2]) < 1e-9
    dz = thick.z_faces[1] - thin.z_faces[1]
    assert dz == pytest.approx(repeat(a, c), rel=5e-3)
    if (name, facet) in MILLER_CUBIC_OR_HEX:
        reciprocal = np.linalg.inv(np.array(bulk_crystal(mat).cell)).T  # rows b1, b2, b3
        d_hkl = 1.0 / np.linalg.norm(np.array(MILLER_CUBIC_OR_HEX[(name, facet)]) @ reciprocal)
        assert dz / d_hkl == pytest.approx(round(dz / d_hkl), abs=1e-3)
    density = (len(thick.xyz) - len(thin.xyz)) / (thin.area_angstrom2 * dz)
    assert density == pytest.approx(mat.atoms_per_cell / mat.cell_volume_angstrom3, rel=5e-3)
    counts = Counter(thick.symbols)
    ratio = {el: counts[el] / min(counts.values()) for el in counts}
    low = min(mat.composition.values())
    assert ratio == {el: n / low for el, n in mat.composition.items()}
    charges = np.array([mat.charge(s) for s in thick.symbols])
    assert charges.sum() == 0.0
    assert abs(dipole_per_area(thick.xyz[:, 2], charges, thick.area_angstrom2)) < 1e-6


def test_lateral_cell_is_sized_for_the_box():
    spec = SlabSpec(material="ZnO", facet="100", layers=2)
    slab = substrate_slab(spec, 2.5)  # no repeats or lateral: the electrolyte's cube edge
    assert 25.0 <= slab.a[0] < 25.0 + 3.26 and 25.0 <= slab.b[1] < 25.0 + 5.21
    wide = substrate_slab(SlabSpec(material="Zn", facet="002", layers=2, lateral="2 nm"), 9)
    assert 20.0 <= wide.a[0] < 22.7 and 20.0 <= wide.b[1] < 20.0 + 2 * 4.62


def test_substrate_lj_parameters_against_their_sources():
    """sigma = r_min / 2^(1/6) and eps = 4.184 D of the published UFF x, D and INTERFACE
    FF eps, Rmin/2 (values derived in the research notes); Zn matches the Zn metal set."""
    expected = {
        ("Zn", "uff"): (0.24616, 0.5188),
        ("Cu", "uff"): (0.31137, 0.0209),
        ("O", "uff"): (0.31181, 0.2510),
        ("S", "uff"): (0.35948, 1.1464),
        ("F", "uff"): (0.29970, 0.2092),
        ("Cu", "interface"): (0.23306, 19.748),
        ("Zn", "interface"): (0.24616, 0.5188),  # no Zn in INTERFACE FF: UFF
    }
    for (element, lj_set), (sigma, eps) in expected.items():
        p = lj_parameters(element, lj_set)
        assert p.sigma_nm == pytest.approx(sigma, abs=1e-5)
        assert p.epsilon_kj_per_mol == pytest.approx(eps, abs=6e-4)
    assert lj_parameters("Zn").sigma_nm == pytest.approx(ZN_METAL["sigma_nm"], abs=1e-5)
    assert lj_parameters("Zn", "interface").lj_set == "uff"
    (row,) = find_sets("ZnO")  # `solvation forcefields show ZnO`
    assert row.species == "ZnO" and "formal charges" in row.parameters["limits"]
    assert row.parameters["Zn: sigma_nm, epsilon_kj_per_mol, charge_e (uff)"][2] == 2.0
    assert "Kihara" in row.citation and "Rappe" in row.citation


def _design(name, slab, **extra):
    return parse_design(
        {
            "name": name,
            "box": {"n_water": 110},
            "salts": [{"formula": "ZnCl2", "concentration": "0.5 m"}],
            "forcefield": {"cutoff": "0.7 nm"},
            "slab": {"layers": 2, "lateral": "1.45 nm", **slab},
            **extra,
        }
    )


def _slab_charges(built):
    """Charge (e) of each element of the built slab, from the serialized System."""
    system = openmm.XmlSerializer.deserialize((built.path / "system.xml").read_text())
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    pdb = openmm.app.PDBFile(str(built.topology_pdb))
    slab = [a for a in pdb.topology.atoms() if a.residue.name == "ZNM"]
    q = {a.element.symbol: nb.getParticleParameters(a.index)[0]._value for a in slab}
    return system, slab, q


def test_built_ionic_slab_carries_formal_charges_frozen_and_documented(tmp_path):
    """Full family: formal charges +-2 e. The scaled family multiplies every charge of
    the box by its charge scale, the slab's included (0.85 x 2 = 1.7 e)."""
    scaled = build(_design("zno-scaled", {"material": "ZnO", "facet": "110"}), tmp_path / "s")
    _, _, q_scaled = _slab_charges(scaled)
    assert q_scaled == pytest.approx({"Zn": 1.7, "O": -1.7}, abs=1e-9)
    design = _design(
        "zno-tiny",
        {"material": "ZnO", "facet": "110"},
        forcefield={"family": "full", "cutoff": "0.7 nm"},
    )
    built = build(design, tmp_path / "zno")
    system, slab, q = _slab_charges(built)
    assert q == {"Zn": 2.0, "O": -2.0}
    assert all(system.getParticleMass(a.index)._value == 0.0 for a in slab)
    assert built.info.total_charge == pytest.approx(0.0, abs=1e-9)
    assert built.info.slab.material == "ZnO" and built.info.slab.facet == "110"
    assert built.info.counts["O(ZnO slab)"] == built.info.counts["Zn(ZnO slab)"] == len(slab) // 2
    crystal = next(f for f in built.info.forcefield if f["species"] == "ZnO(slab)")
    assert "stopgap" in crystal["limits"] and "Kihara" in crystal["citation"]


def test_alloy_slab_held_at_a_potential(tmp_path):
    """Cu and Zn atoms of a Cu5Zn8 slab are one constant-potential electrode: at 1 V its
    top and bottom halves take opposite charges and the electrode stays neutral."""
    design = _design(
        "cu5zn8-1V",
        {"material": "Cu5Zn8"},
        electrode={"potential_difference": "1 V"},
    )
    built = build(design, tmp_path / "cu5zn8")
    system = openmm.XmlSerializer.deserialize((built.path / "system.xml").read_text())
    pdb = openmm.app.PDBFile(str(built.topology_pdb))
    cpf = next(f for f in system.getForces() if isinstance(f, openmm.ConstantPotentialForce))
    electrode = sorted(cpf.getElectrodeParameters(0)[0])
    slab = [a.index for a in pdb.topology.atoms() if a.residue.name == "ZNM"]
    assert electrode == slab
    assert {a.element.symbol for a in pdb.topology.atoms() if a.index in slab} == {"Cu", "Zn"}
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("CPU")
    )
    context.setPeriodicBoxVectors(*pdb.topology.getPeriodicBoxVectors())
    context.setPositions(pdb.positions)
    charges = np.array([c._value for c in cpf.getCharges(context)])[slab]
    field = cpf.getExternalField()
    cpf.setExternalField(openmm.Vec3(0, 0, 0))  # the charges the electrolyte alone induces
    cpf.updateParametersInContext(context)
    induced = np.array([c._value for c in cpf.getCharges(context)])[slab]
    cpf.setExternalField(field)
    z = np.array([pdb.positions[i].z for i in slab])
    response = charges - induced  # the part the 1 V drives
    top, bottom = response[z > np.median(z)].sum(), response[z <= np.median(z)].sum()
    assert abs(charges.sum()) < 1e-4 and top > 0.01 and bottom < -0.01
    volume = material("Cu5Zn8").volume_per_atom_nm3
    assert volume == pytest.approx(8.8664**3 / 52 / 1000, rel=1e-9)


def test_zn_designs_keep_their_spec_hash():
    """The material fields added for substrates leave the hashes of Zn slab designs as they
    were: the defaults (Zn, UFF) are not part of the hashed record."""
    for stem in ("zn002_znso4_2m", "zn101_znso4_2m", "zn002_znso4_2m_1V"):
        data = tomllib.loads((EXAMPLES / f"{stem}.toml").read_text())
        design = parse_design(data)
        assert "material" not in json.dumps(design.slab.hash_dict())  # default: not hashed
        explicit = dict(data, slab={**data["slab"], "material": "Zn", "lj": "uff"})
        assert parse_design(explicit).spec_hash() == design.spec_hash()


@pytest.mark.parametrize(
    ("slab", "extra", "error", "match"),
    [
        ({"material": "brass"}, {}, Exception, "unknown substrate material 'brass'"),
        ({"material": "ZnO", "facet": "001"}, {}, SubstrateError, "polar"),
        ({"material": "ZnS", "facet": "111"}, {}, SubstrateError, "polar"),
        ({"material": "Cu5Zn8", "facet": "002"}, {}, SubstrateError, "no facet '002'.*110"),
        (
            {"material": "ZnF2"},
            {"electrode": {"potential_difference": "1 V"}},
            DesignError,
            "needs a metal slab",
        ),
        ({"material": "Cu5Zn8", "frozen": False}, {}, DesignError, "Zn only"),
        ({"repeats": [2, 2], "lateral": "2 nm"}, {}, DesignError, "not both"),
        ({"lj": "charmm"}, {}, DesignError, "lj"),
        ({}, {"pmf": {"ion": "Mg2+"}}, DesignError, "not an ion of this box"),
        ({"vacuum": "1 nm"}, {"pmf": {}}, DesignError, "vacuum"),
        ({}, {"pmf": {"spacing": "0 nm"}}, DesignError, "spacing '0 nm' must be above 0"),
        ({}, {"pmf": {"from": "middle"}}, DesignError, "'bulk', 'surface', 'contact', 'far'"),
    ],
)
def test_bad_substrate_designs_are_refused(slab, extra, error, match):
    with pytest.raises(error, match=match):
        design = parse_design(
            {
                "name": "bad",
                "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
                "slab": slab,
                **extra,
            }
        )
        check_design(design)


def test_pmf_needs_a_slab():
    with pytest.raises(DesignError, match="needs a \\[slab\\]"):
        check_design(
            parse_design(
                {"name": "x", "salts": [{"formula": "ZnCl2", "concentration": "1 m"}], "pmf": {}}
            )
        )


def test_slab_error_names_a_polar_cut():
    with pytest.raises(SlabError, match="polar"):
        _slab("ZnO", "001", 2)
