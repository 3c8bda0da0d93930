"""Generate OpenMM ForceField XML for waters and monatomic ions of the library.

Water parameters come from OpenMM's bundled amber14 files, reduced to the ``HOH``
residue (those files also hold CM-set ions, which would clash with the ion sets
chosen here), or from our own ``tip4p2005.xml``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import openmm.app

from .library import DATA, ION_RESNAMES, IonParameters, WaterModel

WATER_RESNAME = "HOH"
ION_TYPE_PREFIX = "solv-"


def _bundled(path: str) -> Path:
    return Path(openmm.app.__file__).parent / "data" / path


def water_ffxml(model: WaterModel) -> str:
    """ForceField XML holding only the water residue of ``model``.

    Parameters
    ----------
    model : WaterModel
    """
    kind, path = model.source.split(":", 1)
    if kind == "data":
        return (DATA / path).read_text()
    root = ET.parse(_bundled(path)).getroot()
    residue = next(r for r in root.iter("Residue") if r.get("name") == WATER_RESNAME)
    types = {a.get("type") for a in residue.iter("Atom")}
    classes = {t.get("class") for t in root.find("AtomTypes") if t.get("name") in types}
    out = ET.Element("ForceField")
    atom_types = ET.SubElement(out, "AtomTypes")
    atom_types.extend(t for t in root.find("AtomTypes") if t.get("name") in types)
    ET.SubElement(out, "Residues").append(residue)
    for force in root:
        if force.tag in ("Info", "AtomTypes", "Residues"):
            continue
        kept = ET.SubElement(out, force.tag, force.attrib)
        for entry in force:
            refs = [v for k, v in entry.attrib.items() if k.startswith(("type", "class"))]
            if all(v in types or v in classes for v in refs):
                kept.append(entry)
    return ET.tostring(out, encoding="unicode")


def water_polarizabilities(ffxml: str, alpha_ow: float) -> dict[str, float]:
    """12-6-4 polarisability per water atom type: ``alpha_ow`` for O, 0 for H and sites.

    Parameters
    ----------
    ffxml : str
        Water ForceField XML.
    alpha_ow : float
        Polarisability of water O (A^3).
    """
    residue = next(
        r for r in ET.fromstring(ffxml).iter("Residue") if r.get("name") == WATER_RESNAME
    )
    return {
        a.get("type"): (alpha_ow if a.get("name") == "O" else 0.0) for a in residue.iter("Atom")
    }


def ion_type(species: str) -> str:
    """Atom-type name used for a monatomic ion (e.g. ``solv-Zn2+``).

    Parameters
    ----------
    species : str
        Library ion name.
    """
    return ION_TYPE_PREFIX + species


def ion_ffxml(ions: list[IonParameters]) -> str:
    """ForceField XML with one single-atom residue template per ion.

    ``ions`` may also hold ``scaled.ScaledIon`` rows: only ``species``, ``charge`` (e),
    ``sigma_nm``, ``epsilon_kj_per_mol`` and ``mass_dalton`` are read.

    Parameters
    ----------
    ions : list of IonParameters or ScaledIon
    """
    out = ET.Element("ForceField")
    types = ET.SubElement(out, "AtomTypes")
    residues = ET.SubElement(out, "Residues")
    nb = ET.SubElement(out, "NonbondedForce", coulomb14scale="0.8333333333333334", lj14scale="0.5")
    ET.SubElement(nb, "UseAttributeFromResidue", name="charge")
    for ion in ions:
        name, element = ion_type(ion.species), ion.species.rstrip("+-23")
        ET.SubElement(
            types, "Type", name=name, **{"class": name}, element=element, mass=repr(ion.mass_dalton)
        )
        res = ET.SubElement(residues, "Residue", name=ION_RESNAMES[ion.species])
        ET.SubElement(
            res, "Atom", name=ION_RESNAMES[ion.species], type=name, charge=repr(float(ion.charge))
        )
        ET.SubElement(
            nb, "Atom", type=name, sigma=repr(ion.sigma_nm), epsilon=repr(ion.epsilon_kj_per_mol)
        )
    return ET.tostring(out, encoding="unicode")


def clp_ffxml(filename: str) -> str:
    """One of the shipped CL&P residue files.

    Parameters
    ----------
    filename : str
        File name under ``forcefields/data``.
    """
    return (resources.files("solvation.forcefields") / "data" / filename).read_text()


def template_names(ffxml: str) -> list[str]:
    """Residue template names defined in an XML string.

    Parameters
    ----------
    ffxml : str
        ForceField XML.
    """
    return [r.get("name") for r in ET.fromstring(ffxml).iter("Residue")]


def atom_types(ffxml: str) -> dict[str, tuple[str, str | None]]:
    """Atom types of an XML string: name -> (class, element).

    Parameters
    ----------
    ffxml : str
        ForceField XML.
    """
    root = ET.fromstring(ffxml)
    types = root.find("AtomTypes")
    if types is None:
        return {}
    return {t.get("name"): (t.get("class"), t.get("element")) for t in types}
