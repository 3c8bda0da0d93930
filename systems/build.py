"""``solvation build``: a design -> a build directory (system.xml, topology.pdb, build.json).

The directory is written atomically (a temporary sibling renamed at the end). Building
into a directory that already holds the same design is a no-op; any other existing
directory is left untouched and refused. One build per target at a time: the build holds
``.NAME.build.lock`` beside the target (``solvation.locks``) from before it creates its
temporary directory; a second build of the same target is refused with the holder's PID.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import tomli_w

from solvation.console import LOGGER
from solvation.design import Design, load_design
from solvation.errors import SolvationError
from solvation.forcefields import ForceFieldChoices, add_virtual_sites, create_system, net_charge
from solvation.forcefields.electrode import add_constant_potential, field_for
from solvation.forcefields.family import scaled_family
from solvation.forcefields.library import ZN_METAL, molecule_table
from solvation.forcefields.molecules import ParametrizationError, parametrize
from solvation.forcefields.status import box_status
from solvation.forcefields.substrates import material as substrate
from solvation.forcefields.substrates import provenance as substrate_provenance
from solvation.locks import DirectoryLock
from solvation.provenance import BUILD_PACKAGES, versions
from solvation.rundir import (
    BUILD_JSON,
    RUN_JSON,
    BuildInfo,
    RunDir,
    RunDirError,
    read_build,
    save_system,
    write_json_atomic,
)

from . import hydration, osmotic
from .check import check_design
from .composition import Component, Composition, CompositionError, molecule_component, size_box
from .packing import (
    PackingError,
    PackItem,
    min_intermolecular_distance,
    pack,
    remove_stale_folders,
)
from .slab import Slab
from .substrates import substrate_slab
from .templates import ResidueTemplate, assemble, metal_template, slab_template

PDB_MAX_ATOMS = 99_999


class BuildError(SolvationError):
    """The build directory cannot be written."""


@dataclass(frozen=True)
class BuiltSystem:
    """A finished build directory and its ``build.json``.

    Attributes
    ----------
    path : Path
        The build directory.
    info : BuildInfo
        Its ``build.json`` record.
    """

    path: Path
    info: BuildInfo

    @property
    def system_xml(self) -> Path:
        """The serialized OpenMM System of the build."""
        return RunDir(self.path).system_xml

    @property
    def topology_pdb(self) -> Path:
        """The topology and starting coordinates of the build."""
        return RunDir(self.path).topology_pdb


def choices_of(design: Design) -> ForceFieldChoices:
    """The force-field choices of a design (water model, Zn2+ set, overrides, family).

    Parameters
    ----------
    design : Design
    """
    ff = design.forcefield
    return ForceFieldChoices(
        water=design.water.model,
        zn=ff.zn,
        ions=dict(ff.ions),
        methods=dict(ff.methods),
        charge_scale=ff.charge_scale,
        cutoff_nm=ff.cutoff.nm,
        family=ff.family,
        substrate=design.slab.material if design.slab else "Zn",
        substrate_lj=design.slab.lj if design.slab else "uff",
    )


def _smiles_by_resname(comp: Composition) -> dict[str, str]:
    return {c.template.resname: c.smiles for c in comp.components.values() if c.smiles}


def _parametrize_all(comp: Composition, choices: ForceFieldChoices) -> None:
    """Parametrise every molecule first (cached), so that failures come before packing."""
    for c in comp.components.values():
        if c.role == "water" or c.template.n_atoms == 1:
            continue
        lib = molecule_table().get(c.key)
        method = choices.methods.get(c.key, lib.methods[0] if lib else "gaff2-am1bcc")
        if choices.family == "scaled" and lib is not None:
            method = scaled_family().species[lib.name].route
            if method == "madrid2019":  # a shipped file, nothing to parametrise
                continue
        smiles = lib.smiles if lib else c.smiles
        try:
            parametrize(smiles, method, charge=c.template.charge)
        except ParametrizationError as err:  # say which species of the design it is
            text = str(err).removeprefix(f"{smiles}: ")
            raise ParametrizationError(f"{c.role} {c.key!r} ({method}): {text}") from None


def _bulk_items(comp: Composition) -> tuple[list[PackItem], np.ndarray]:
    edge = (comp.volume_nm3 ** (1 / 3)) * 10.0
    box = np.array([edge] * 3)
    order = sorted(comp.counts, key=lambda k: -comp.components[k].template.n_atoms)
    return [PackItem(comp.components[k].template, comp.counts[k]) for k in order], box


def _slab_items(
    comp: Composition, design: Design, slab: Slab
) -> tuple[list[PackItem], np.ndarray, dict]:
    spec = design.slab
    gap, vacuum = spec.gap.angstrom, spec.vacuum.angstrom
    z_bottom, z_top = slab.z_faces
    thickness = comp.volume_nm3 * 1000.0 / slab.area_angstrom2
    lo, hi = z_top + gap, z_top + gap + thickness
    c_len = hi + gap - z_bottom + vacuum
    lateral = _lateral_constraints(slab, margin=0.0 if slab.orthorhombic else 1.0)
    x0, y0, x1, y1 = _lateral_bounds(slab)
    top_box = f"inside box {x0:.3f} {y0:.3f} {lo:.3f} {x1:.3f} {y1:.3f}"
    items = [PackItem(slab_template(slab.symbols), 1, (), slab.xyz)]
    if spec.adsorbed is not None:
        ads = next(c for c in comp.components.values() if c.role == "adsorbed")
        within = spec.adsorbed.within.angstrom
        items.append(
            PackItem(
                ads.template,
                spec.adsorbed.n,
                lateral + (f"{top_box} {z_top + within:.3f}",),
            )
        )
    order = sorted(
        (k for k in comp.counts if comp.components[k].role != "adsorbed"),
        key=lambda k: -comp.components[k].template.n_atoms,
    )
    for k in order:
        items.append(
            PackItem(
                comp.components[k].template,
                comp.counts[k],
                lateral + (f"{top_box} {hi:.3f}",),
            )
        )
    box = np.array([slab.a, slab.b, [0.0, 0.0, c_len]])
    info = {
        "material": slab.material,
        "facet": slab.facet,
        "layers": spec.layers,
        "repeats": list(slab.repeats),
        "z_faces_nm": [z_bottom / 10, z_top / 10],
        "electrolyte_z_nm": [lo / 10, hi / 10],
        "vacuum_nm": vacuum / 10,
        "frozen": spec.frozen,
        "n_metal_atoms": len(slab.xyz),
        "area_nm2": slab.area_angstrom2 / 100,
        "adsorbed": spec.adsorbed.model_dump() if spec.adsorbed else None,
    }
    return items, box, info


def _slab_counts(slab: Slab) -> dict[str, int]:
    """Slab atoms per element for build.json's counts (``Zn(metal)`` for hcp Zn)."""
    if slab.material == "Zn":
        return {"Zn(metal)": len(slab.xyz)}
    return {f"{e}({slab.material} slab)": slab.symbols.count(e) for e in sorted(set(slab.symbols))}


def _lateral_bounds(slab: Slab) -> tuple[float, float, float, float]:
    """x and y bounds (A) of the lateral cell (a packing region must be bounded for its
    random start, ``tiling.random_start``)."""
    (ax, _, _), (bx, by, _) = slab.a, slab.b
    return min(0.0, bx), 0.0, max(ax, ax + bx), by


def _lateral_constraints(slab: Slab, margin: float) -> tuple[str, ...]:
    """packmol planes bounding the lateral cell (needed only when it is not rectangular)."""
    if slab.orthorhombic:
        return ()
    (ax, _, _), (bx, by, _) = slab.a, slab.b
    norm = np.hypot(by, bx)
    return (
        f"over plane 0 1 0 {margin:.3f}",
        f"below plane 0 1 0 {by - margin:.3f}",
        f"over plane {by:.5f} {-bx:.5f} 0 {margin * norm:.4f}",
        f"below plane {by:.5f} {-bx:.5f} 0 {ax * by - margin * norm:.4f}",
    )


def _ion_species(comp: Composition) -> dict[str, str]:
    """Residue name -> species of every ion of the composition."""
    return {c.template.resname: k for k, c in comp.components.items() if c.role == "ion"}


def _complex_ions(comp: Composition) -> dict[str, ResidueTemplate]:
    """Residue name of each aqua complex -> the ion template it holds."""
    return {
        hydration.aqua_template(c.template, k).resname: c.template
        for k, c in comp.components.items()
        if c.role == "ion" and k in hydration.FIRST_SHELLS
    }


def _initial_structure(comp: Composition, design: Design, placed, box_matrix) -> dict:
    """Pre-hydration and the cation-anion contacts of the packed structure (t = 0)."""
    charge = {k: c.template.charge for k, c in comp.components.items() if c.role == "ion"}
    cations = {comp.components[k].template.resname for k, q in charge.items() if q >= 2}
    anions = {comp.components[k].template.resname for k, q in charge.items() if q < 0}
    lengths = None if box_matrix is None else np.diag(box_matrix)
    shells = {k: asdict(hydration.FIRST_SHELLS[k]) for k in charge if k in hydration.FIRST_SHELLS}
    return {
        "prehydrated": design.box.prehydrate and bool(shells),
        "first_shells": shells if design.box.prehydrate else {},
        "first_shell_citation": hydration.CITATION,
        "cation_resnames": sorted(cations),
        "anion_resnames": sorted(anions),
        **hydration.initial_pairing(placed, cations, anions, lengths),
    }


def _split_metal(placed):
    """The slab is packed as one fixed structure; in the topology each atom is a residue."""
    out = []
    for template, xyz in placed:
        if template.resname == metal_template().resname:
            out += [(metal_template(e), xyz[i : i + 1]) for i, e in enumerate(template.elements)]
        else:
            out.append((template, xyz))
    return out


def _check_box(box: np.ndarray, cutoff_nm: float, slab: bool) -> None:
    """OpenMM needs every box width (a_x, b_y, c_z) to be at least twice the cutoff."""
    widths = np.diag(box) if box.ndim == 2 else box
    if np.all(widths / 10.0 >= 2 * cutoff_nm):
        return
    fix = (
        "more slab repeats (or a thicker electrolyte: larger n_water)"
        if slab
        else "a larger box (n_water, n_atoms or edge)"
    )
    raise BuildError(
        f"box widths {np.round(widths / 10.0, 3).tolist()} nm are below twice the "
        f"cutoff ({2 * cutoff_nm:g} nm); use {fix}"
    )


PACKMOL_SECONDS_PER_ATOM = 0.05  # default time limit: generous (3000 waters pack in ~4 s)
PACKMOL_MIN_SECONDS = 300.0


def _pack(items: list[PackItem], box: np.ndarray, design: Design, periodic: bool):
    tol = design.box.tolerance_angstrom
    lengths = np.diag(box) if box.ndim == 2 else box
    pbc = (0.0, 0.0, 0.0, *lengths) if periodic else None
    n_atoms = sum(i.template.n_atoms * i.count for i in items)
    limit = design.box.packmol_timeout_s or max(
        PACKMOL_MIN_SECONDS, PACKMOL_SECONDS_PER_ATOM * n_atoms
    )
    LOGGER.info(
        "packing %d molecules (%d atoms) with packmol, time limit %.0f s",
        sum(i.count for i in items),
        n_atoms,
        limit,
    )
    placed = pack(items, seed=design.forcefield.seed, tolerance=tol, pbc=pbc, timeout=limit)
    closest = min_intermolecular_distance(placed, lengths if periodic else None)
    if closest < 0.9 * tol:
        raise PackingError(
            f"packed box has atoms {closest:.2f} A apart (tolerance {tol} A); "
            "use a larger box or a lower concentration"
        )
    return placed, closest


def _components_for_slab(comp: Composition, design: Design) -> Composition:
    if design.slab is None or design.slab.adsorbed is None:
        return comp
    spec = design.slab.adsorbed
    ads = molecule_component(spec.name, spec.smiles, "adsorbed", spec.resname, 99)
    existing = comp.components.get(ads.key)
    key = ads.key if existing is None else ads.key + " (adsorbed)"
    comps = {
        **comp.components,
        key: Component(
            key,
            "adsorbed",
            existing.template if existing else ads.template,
            ads.volume_cm3_per_mol,
            ads.smiles,
        ),
    }
    return Composition(comps, {**comp.counts, key: spec.n}, comp.concentrations)


def _write(
    tmp: Path,
    design: Design,
    source: Path | None,
    topology: app.Topology,
    positions,
    system: openmm.System,
) -> str:
    files = RunDir(tmp)
    save_system(tmp, system)
    with files.topology_pdb.open("w") as fh:
        app.PDBFile.writeFile(topology, positions, fh, keepIds=False)
    name = files.topology_pdb.name
    if topology.getNumAtoms() > PDB_MAX_ATOMS:
        with files.topology_cif.open("w") as fh:
            app.PDBxFile.writeFile(topology, positions, fh)
        name = files.topology_cif.name
    files.design_toml.write_text(
        source.read_text()
        if source
        else tomli_w.dumps(design.model_dump(mode="json", exclude_none=True))
    )
    return name


def _check_outdir(outdir: Path, design: Design) -> BuiltSystem | None:
    if not outdir.exists():
        return None
    if (outdir / BUILD_JSON).exists():
        try:
            info = read_build(outdir)
        except RunDirError as err:
            raise BuildError(f"{err}; or choose another -o") from None
        if info.spec_hash == design.spec_hash():
            return BuiltSystem(outdir, info)
        raise BuildError(
            f"{outdir} already holds a build of another design "
            f"({info.name!r}); choose another -o or remove it"
        )
    raise BuildError(f"{outdir} exists and is not a build directory; choose another -o")


def build(design: Design | str | Path, outdir: str | Path) -> BuiltSystem:
    """Build the box (or slab) of ``design`` into ``outdir``; see the module docstring.

    Parameters
    ----------
    design : Design or str or Path
        A design, or the path of a design TOML file.
    outdir : str or Path
        The build directory to write.

    Raises
    ------
    SolvationError
        For a design that cannot be built (DesignError, CompositionError, BuildError,
        PackingError ...).
    """
    start = time.perf_counter()
    remove_stale_folders()  # packmol folders of builds that were killed (SIGKILL)
    source = None
    if not isinstance(design, Design):
        source = Path(design)
        design = load_design(source)
    outdir = Path(outdir)
    check_design(design)
    with DirectoryLock(outdir, "a build", sibling="build"):
        done = _check_outdir(outdir, design)
        if done is not None:
            return done
        return _build(design, source, outdir, start)


def _build(design: Design, source: Path | None, outdir: Path, start: float) -> BuiltSystem:
    choices = choices_of(design)
    try:
        comp = _components_for_slab(size_box(design), design)
    except CompositionError as err:
        raise CompositionError(f"{source or design.name}: {err}") from None
    if comp.charge != 0:
        raise BuildError(f"composition carries net charge {comp.charge:+d} e; refusing to build")
    slab = substrate_slab(design.slab, comp.volume_nm3 ** (1 / 3)) if design.slab else None
    walls = osmotic.layout(comp, design.osmotic) if design.osmotic else None
    if walls is not None:
        items, box_matrix, slab_info = osmotic.pack_items(comp, walls), np.diag(walls.box), None
    elif slab is None:
        items, box = _bulk_items(comp)
        box_matrix, slab_info = np.diag(box), None
    else:
        items, box_matrix, slab_info = _slab_items(comp, design, slab)
    _check_box(box_matrix, choices.cutoff_nm, slab is not None)
    _parametrize_all(comp, choices)
    if design.box.prehydrate:
        items = hydration.hydrate_items(items, _ion_species(comp))
    periodic = slab is None or slab.orthorhombic
    placed, closest = _pack(items, box_matrix, design, periodic=periodic)
    placed = hydration.split_complexes(placed, _complex_ions(comp))
    initial = _initial_structure(comp, design, placed, box_matrix if periodic else None)
    topology, positions = assemble(_split_metal(placed), box_matrix / 10.0)
    topology, positions = add_virtual_sites(
        topology, positions * openmm.unit.nanometer, choices, _smiles_by_resname(comp)
    )
    system, provenance = create_system(topology, choices, _smiles_by_resname(comp))
    if walls is not None:
        osmotic.add_walls(system, topology, walls)
    electrode_info = _add_electrode(system, topology, design, box_matrix)
    if design.slab is not None and not design.slab.frozen:  # Zn only (check_design)
        for atom in topology.atoms():
            if atom.residue.name == metal_template().resname:
                system.setParticleMass(atom.index, ZN_METAL["mass_dalton"])
    info = _info(design, comp, topology, system, provenance, box_matrix, slab_info, closest)
    info["initial_structure"] = initial
    if electrode_info is not None:
        info["electrode"] = electrode_info
    if walls is not None:
        water = next(k for k, c in comp.components.items() if c.role == "water")
        info["osmotic"] = walls.info(comp.counts[water])
        info["counts"][f"{water} (reservoir)"] = walls.n_reservoir
    if slab is not None:
        info["counts"].update(_slab_counts(slab))
        if slab.material != "Zn":
            info["forcefield"] += substrate_provenance(substrate(slab.material), design.slab.lj)
    info["build_seconds"] = round(time.perf_counter() - start, 2)
    return _commit(outdir, design, source, topology, positions, system, info)


def _add_electrode(system, topology, design: Design, box_matrix: np.ndarray) -> dict | None:
    """The slab as a constant-potential electrode (``forcefields.electrode``); its record."""
    spec = design.electrode
    if spec is None:
        return None
    metal = [a.index for a in topology.atoms() if a.residue.name == metal_template().resname]
    box_z = float(box_matrix[2, 2]) / 10.0
    delta_v, width = spec.potential_difference.volts, spec.gaussian_width.nm
    l_tf = spec.thomas_fermi_length.nm
    volume = substrate(design.slab.material).volume_per_atom_nm3  # Thomas-Fermi scale
    add_constant_potential(
        system, metal, delta_v, box_z, width, l_tf**2 / volume, spec.method == "matrix"
    )
    return {
        "potential_difference_V": delta_v,
        "field_kj_mol_nm_e": field_for(delta_v, box_z),
        "gaussian_width_nm": width,
        "thomas_fermi_length_nm": l_tf,
        "method": spec.method,
        "n_electrode_atoms": len(metal),
        "method_reference": "finite field, Dufils et al. PRL 123 (2019) 195501",
    }


def _info(design, comp, topology, system, provenance, box_matrix, slab_info, closest) -> dict:
    lengths = [float(np.linalg.norm(v)) / 10.0 for v in box_matrix]
    resnames = {k: c.template.resname for k, c in comp.components.items()}
    return {
        "name": design.name,
        "spec_hash": design.spec_hash(),
        "counts": dict(comp.counts),
        "resnames": resnames,
        "total_charge": round(net_charge(system), 10) + 0.0,  # never -0.0
        "box_nm": lengths,
        "box_vectors_nm": (box_matrix / 10.0).tolist(),
        "n_atoms": topology.getNumAtoms(),
        "concentrations": comp.concentrations,
        "density_estimate_g_per_cm3": comp.density_g_per_cm3,
        "density_note": f"ideal-mixing estimate used for the initial box; see {RUN_JSON} for NPT",
        "estimated_densities": [k for k, c in comp.components.items() if c.density_estimated],
        "temperature_k": design.temperature.kelvin,
        "water_model": design.water.model,
        "forcefield": provenance,
        "charge_scale": design.forcefield.charge_scale,
        "seed": design.forcefield.seed,
        "min_intermolecular_distance_angstrom": closest,
        "smiles": {c.template.resname: c.smiles for c in comp.components.values() if c.smiles},
        "slab": slab_info,
        "model_family": model_status(design),
        "versions": versions(BUILD_PACKAGES),
    }


def model_status(design: Design) -> dict:
    """The design's model family, whether the design chose it or took the default, and
    what the family is validated for in this box (``forcefields.status.box_status``).

    Parameters
    ----------
    design : Design
    """
    others = [
        f"{table[:-1]} {spec.name or spec.smiles}"
        for table in ("additives", "cosolvents")
        for spec in getattr(design, table)
    ]
    if design.slab is not None:
        others.append(f"{design.slab.material} slab and its interface")
        if design.slab.adsorbed is not None:
            ads = design.slab.adsorbed
            others.append(f"adsorbed {ads.name or ads.smiles}")
    status = box_status(design.forcefield.family, [s.formula for s in design.salts], others)
    chosen = "family" in design.forcefield.model_fields_set
    status["chosen_by"] = "design" if chosen else "default (docs/validation.md, section 4)"
    return status


def _commit(
    outdir: Path, design: Design, source: Path | None, topology, positions, system, info: dict
) -> BuiltSystem:
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.tmp-", dir=outdir.parent))
    try:
        info["topology"] = _write(tmp, design, source, topology, positions, system)
        record = BuildInfo.model_validate(info)
        write_json_atomic(tmp / BUILD_JSON, record.model_dump(mode="json"))
        os.replace(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuiltSystem(outdir, record)
