"""The 12-6-4 ion model: an extra -C4/r^4 attraction between ions and every other atom.

Li & Merz, J. Chem. Theory Comput. 10 (2014) 289. As in ParmEd's ``add_12_6_4``:
C4(ion, water O) is the published value; for any other atom X,
C4(ion, X) = C4(ion, OW) * alpha(X) / alpha(OW), alpha(OW) = 1.444 A^3, and a pair of
two 12-6-4 ions gets the sum of both terms. Written per particle as

    E = -(k_i a_j + k_j a_i) / r^4,   k = C4(ion, OW) / alpha(OW),  a = alpha

so one CustomNonbondedForce covers every pair. OpenMM reads 12-6-4 only from prmtop
files; here the force is declared in ForceField XML (so OpenMM assigns per-atom
parameters and bonded exclusions) and restricted afterwards to ion-anything pairs with
an interaction group, which keeps its cost proportional to the number of ions.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import openmm

from .library import polarizabilities

ALPHA_OW = 1.444  # A^3, Eisenberg & Kauzmann, as in lj_1264_pol.dat
ENERGY = "-(k1*a2+k2*a1)/r^4"
# CL&P atom types mapped to the GAFF type whose polarisability they take.
CLP_POLARIZABILITY_TYPE = {
    "clp-CBT": "c3",
    "clp-F1": "f",
    "clp-SBT": "s6",
    "clp-OTF": "o",
    "clp-FB": "f",
}
# Element defaults (GAFF's generic values in lj_1264_pol.dat) for types not in the table.
ELEMENT_POLARIZABILITY_TYPE = {
    "H": "hc",
    "C": "c3",
    "N": "n",
    "O": "o",
    "F": "f",
    "S": "s6",
    "Cl": "cl",
    "P": "p5",
    "Br": "br",
    "I": "i",
}
# Boron has no entry in lj_1264_pol.dat: free-atom value (A^3), CRC Handbook, 97th ed.
EXTRA_POLARIZABILITY = {"B": 3.03}


def polarizability(
    type_name: str, type_class: str | None, element: str | None, fixed: dict[str, float]
) -> float:
    """Polarisability (A^3) of an atom type for the 12-6-4 cross terms.

    ``fixed`` holds types whose value is already known: ions (their own value), water O
    (alpha(OW)), water H and virtual sites (0, as in lj_1264_pol.dat), metal (0).

    Parameters
    ----------
    type_name : str
        Atom type name.
    type_class : str or None
        Atom class.
    element : str or None
        Element symbol.
    fixed : dict of str to float
        Known polarisabilities (A^3) by type name.
    """
    table = polarizabilities()
    if type_name in fixed:
        return fixed[type_name]
    if element is None:
        return 0.0
    for key in (CLP_POLARIZABILITY_TYPE.get(type_name), type_name, type_class):
        if key in table:
            return table[key]
    if element in EXTRA_POLARIZABILITY:
        return EXTRA_POLARIZABILITY[element]
    return table[ELEMENT_POLARIZABILITY_TYPE.get(element, "c3")]


def c4_ffxml(
    types: dict[str, tuple[str, str | None]], ion_c4: dict[str, float], fixed: dict[str, float]
) -> str:
    """CustomNonbondedForce XML giving every atom type its (k, a).

    ``types``: name -> (class, element) of all loaded atom types; ``ion_c4``: ion type
    name -> C4(ion, OW) in kJ mol^-1 nm^4 for the ions that use 12-6-4; ``fixed``: known
    polarisabilities by type name (see ``polarizability``).

    Parameters
    ----------
    types : dict of str to (str, str or None)
        Name -> (class, element) of all loaded atom types.
    ion_c4 : dict of str to float
        Ion type name -> C4(ion, OW) (kJ mol^-1 nm^4).
    fixed : dict of str to float
        Known polarisabilities (A^3) by type name.
    """
    root = ET.Element("ForceField")
    force = ET.SubElement(root, "CustomNonbondedForce", energy=ENERGY, bondCutoff="3")
    ET.SubElement(force, "PerParticleParameter", name="k")
    ET.SubElement(force, "PerParticleParameter", name="a")
    for name, (cls, element) in sorted(types.items()):
        k = ion_c4.get(name, 0.0) / ALPHA_OW
        a = polarizability(name, cls, element, fixed)
        ET.SubElement(force, "Atom", type=name, k=repr(k), a=repr(a))
    return ET.tostring(root, encoding="unicode")


def finalize_c4_force(system: openmm.System) -> openmm.CustomNonbondedForce | None:
    """Restrict the C4 force to pairs that involve a 12-6-4 ion; no long-range correction.

    Returns the force, or None when the system has none.

    Parameters
    ----------
    system : openmm.System
    """
    force = next(
        (
            f
            for f in system.getForces()
            if isinstance(f, openmm.CustomNonbondedForce) and f.getEnergyFunction() == ENERGY
        ),
        None,
    )
    if force is None:
        return None
    ions = [i for i in range(force.getNumParticles()) if force.getParticleParameters(i)[0] != 0.0]
    force.addInteractionGroup(ions, range(system.getNumParticles()))
    force.setUseLongRangeCorrection(False)
    force.setName("LJ12-6-4 C4")
    return force
