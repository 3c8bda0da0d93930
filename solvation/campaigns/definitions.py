"""The descriptor catalog: one name, one definition, one unit per descriptor.

Campaign jobs, the ranking, the figures, the exports and the command line
(``solvation descriptors``) all read the descriptors from here; the analyses that
compute them are the recipes of ``solvation.runs`` (the same functions the
``solvation analyze`` verbs call). ``slow_process`` names what a plain MD run must
sample for the descriptor to settle: shell quantities need their first shells to
exchange, and where none exchanged, no run length can be promised.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DescriptorDefinition:
    """One ranked quantity.

    Attributes
    ----------
    name : str
        Key in catalogs, result.json, ranking.csv and weights.
    unit : str
        Unit of the value and its error ("1": a count or fraction).
    definition : str
        What is measured, exactly.
    analysis : str
        The campaign analysis that computes it ("structure", "hbonds", "transport",
        "water_activity", "pmf").
    slow_process : str
        What must be sampled for it to settle.
    """

    name: str
    unit: str
    definition: str
    analysis: str
    slow_process: str = "frames (statistical inefficiency)"


_SHELL = "the one first-shell definition (solvation.analysis.coordination)"
_DEFINITIONS = [
    DescriptorDefinition(
        "zn_water_cn",
        "1",
        f"water molecules in the Zn2+ first shell, mean per Zn2+ over the frames ({_SHELL})",
        "structure",
        "water exchange in the Zn2+ first shell",
    ),
    DescriptorDefinition(
        "zn_anion_cn",
        "1",
        f"anions (molecules of the design's first anion) in the Zn2+ first shell ({_SHELL})",
        "structure",
        "anion exchange in the Zn2+ first shell",
    ),
    DescriptorDefinition(
        "zn_additive_cn",
        "1",
        "additive and co-solvent molecules (every neutral species but water) in the Zn2+ "
        f"first shell ({_SHELL})",
        "structure",
        "additive exchange in the Zn2+ first shell",
    ),
    DescriptorDefinition(
        "zn_total_cn",
        "1",
        "all ligand molecules in the Zn2+ first shell (at most 7; a larger value is an "
        "analysis error and is never ranked)",
        "structure",
        "exchange of every species in the Zn2+ first shell",
    ),
    DescriptorDefinition(
        "cip_fraction",
        "1",
        "fraction of Zn2+ with a first-shell anion (contact pairs CIP + AGG)",
        "structure",
        "anion exchange in the Zn2+ first shell",
    ),
    DescriptorDefinition(
        "hbonds_per_water",
        "1",
        "H-bonds per water molecule with every partner (water, anions, additives), as donor "
        "plus as acceptor; Luzar-Chandler 3.5 A / 30 degrees",
        "hbonds",
    ),
    DescriptorDefinition(
        "water_hbonds_per_water",
        "1",
        "water-water H-bonds per water molecule (2 N_ww / N_w); Luzar-Chandler criterion",
        "hbonds",
    ),
    DescriptorDefinition(
        "free_water_fraction",
        "1",
        "fraction of water molecules in no cation's first shell",
        "hbonds",
        "water exchange in the cation first shells",
    ),
    DescriptorDefinition(
        "tetrahedral_q",
        "1",
        "Errington-Debenedetti tetrahedral order q of water O (1: perfect tetrahedron)",
        "hbonds",
    ),
    DescriptorDefinition(
        "D_zn",
        "m^2/s",
        "Zn2+ self-diffusion coefficient from the MSD slope; Yeh-Hummer corrected with the "
        "run's measured viscosity, uncorrected (and flagged) without one",
        "transport",
    ),
    DescriptorDefinition(
        "D_water",
        "m^2/s",
        "water self-diffusion coefficient, as D_zn",
        "transport",
    ),
    DescriptorDefinition(
        "sigma",
        "S/m",
        "ionic conductivity from the Einstein-Helfand slope of the charge displacement",
        "transport",
    ),
    DescriptorDefinition(
        "t_zn",
        "1",
        "Zn2+ transference number from the conductivity's Zn2+ terms",
        "transport",
    ),
    DescriptorDefinition(
        "a_w",
        "1",
        "water activity by the osmotic-pressure route ([osmotic] builds)",
        "water_activity",
        "ion contacts with the osmotic walls",
    ),
    DescriptorDefinition(
        "osmotic_coefficient",
        "1",
        "molal osmotic coefficient phi by the osmotic-pressure route",
        "water_activity",
        "ion contacts with the osmotic walls",
    ),
    DescriptorDefinition(
        "kb_a_cc",
        "1",
        "Kirkwood-Buff salt activity derivative a_cc = (d ln a_salt / d ln rho_c)_T,P",
        "water_activity",
        "ion-ion pair structure",
    ),
    DescriptorDefinition(
        "desolvation_barrier",
        "kJ/mol",
        "highest free energy between the adsorbed state and the bulk along the ion's height "
        "above the anode (umbrella sampling + MBAR)",
        "pmf",
        "umbrella windows' overlap and the ion's water shell along the path",
    ),
    DescriptorDefinition(
        "adsorption_free_energy",
        "kJ/mol",
        "free energy of the ion's adsorbed state relative to the bulk (umbrella + MBAR)",
        "pmf",
        "umbrella windows' overlap and the ion's water shell along the path",
    ),
    DescriptorDefinition(
        "pairing_free_energy",
        "kJ/mol",
        "W(CIP) - W(SSIP) of the design's [pmf] pair: the contact minimum of the pair PMF "
        "against the solvent-shared one (umbrella along the cation-partner distance + MBAR)",
        "pmf",
        "umbrella windows' overlap along the pair distance",
    ),
    DescriptorDefinition(
        "log_ka",
        "1",
        "log10 of the association constant K_A = 4 pi N_A int r^2 exp(-W/kT) dr of the "
        "[pmf] pair up to its boundary (default the Bjerrum distance), standard state "
        "1 mol/L",
        "pmf",
        "umbrella windows' overlap along the pair distance",
    ),
    DescriptorDefinition(
        "shell_entry_free_energy",
        "kJ/mol",
        "-RT ln(K_CIP c0) of the [pmf] pair: the free energy of the partner entering the "
        "cation's first shell (contact part of K_A, c0 = 1 mol/L)",
        "pmf",
        "umbrella windows' overlap along the pair distance",
    ),
    DescriptorDefinition(
        "cip_fraction_equilibrium",
        "1",
        "fraction of cations with an anion in contact, reweighted from well-tempered "
        "metadynamics on the smooth cation-anion contact number to the unbiased ensemble",
        "metad",
        "crossings of the contact-number collective variable under the bias",
    ),
]
DESCRIPTOR_DEFINITIONS: dict[str, DescriptorDefinition] = {d.name: d for d in _DEFINITIONS}
DESCRIPTORS = tuple(DESCRIPTOR_DEFINITIONS)


def unit_of(name: str) -> str:
    """The unit of descriptor ``name`` ("" for a name not in the catalog).

    Parameters
    ----------
    name : str
        Descriptor name.
    """
    d = DESCRIPTOR_DEFINITIONS.get(name)
    return d.unit if d else ""
