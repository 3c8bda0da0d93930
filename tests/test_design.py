"""Designs are parsed once: every quantity of a loaded design is a typed value (value in a
canonical unit and the text it was read from), the text alone is hashed and written back,
and no module outside the design module reads quantity text of a design."""

from __future__ import annotations

import ast
import hashlib
import json
import tomllib
from pathlib import Path

import pytest
import tomli_w

from solvation import formula
from solvation import quantities as q
from solvation.campaigns.campaign import load_campaign
from solvation.design import Design, DesignError, load_design, parse_design
from solvation.forcefields.library import ION_RESNAMES, molecule_table

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))

# Two designs that between them set every quantity of every table (texts as users write
# them: other units than the canonical ones, spaces, keywords).
SLAB = {
    "name": "every_slab_quantity",
    "temperature": "310 K",
    "salts": [
        {"formula": "ZnSO4", "concentration": "2 m"},
        {"formula": "ZnCl2", "concentration": "20 mM"},
    ],
    "additives": [{"name": "EG", "concentration": "0.5 wt%"}],
    "cosolvents": [{"name": "DMF", "ratio": "2:1 v/v"}],
    "box": {"edge": "3.2 nm"},
    "forcefield": {"family": "full", "zn": "cm", "cutoff": "9 A"},
    "slab": {
        "lateral": "3 nm",
        "lj": "interface",
        "gap": "3 A",
        "vacuum": "0 nm",
        "material": "Zn",
        "adsorbed": {"name": "EG", "n": 2, "within": "4 A"},
    },
    "electrode": {
        "potential_difference": "-500 mV",
        "gaussian_width": "0.05 nm",
        "thomas_fermi_length": "0.1 A",
    },
    "pmf": {
        "ion": "Zn2+",
        "from": "1.2 nm",
        "to": "surface",
        "surface_distance": "2 A",
        "spacing": "0.05 nm",
        "force_constant": "10 kcal/mol/A^2",
        "equilibration": "50 ps",
        "window_time": "0.2 ns",
        "shell_cutoff": "2.9 A",
        "pull_time": "5 ps",
    },
}
BULK = {
    "name": "every_bulk_quantity",
    "temperature": "298.15 K",
    "salts": [{"formula": "Zn(OTf)2", "concentration": "1 M"}],
    "additives": [{"smiles": "OCCO", "resname": "EGX", "concentration": "2 mg/mL"}],
    "cosolvents": [{"name": "DMSO", "fraction": "10 mol%"}],
    "box": {"n_water": 500},
    "osmotic": {"force_constant": "10 kcal/mol/A^2"},
    "pmf": {
        "pair": ["Zn2+", "OTf"],
        "from": "contact",
        "to": "far",
        "contact": "0.2 nm",
        "boundary": "7 A",
        "tail": "0.2 nm",
        "force_constant": "auto",
    },
    "metad": {"time": "2 ns", "deposit": "500 fs", "checkpoint": "10 ps"},
    "protocol": {"time": "1 ns"},
}

# Spec hashes computed by the code before designs were parsed at load (quantities held as
# plain strings, commit f3686c4): parsing once must not change any of them.
HASHES_BEFORE = {
    "cu5zn8_znso4_2m.toml": "9ccbfe8cce288b82",
    "zn002_znso4_2m.toml": "44374cdf0255b6fc",
    "zn002_znso4_2m_1V.toml": "e8c134e5b5fb2b00",
    "zn100_znso4_2m.toml": "51f766df3813e8d1",
    "zn101_znso4_2m.toml": "808a4963952c242c",
    "zno100_znso4_2m.toml": "211fcd4f73d3381b",
    "znotf2_1m.toml": "b8c1350e1d3ac834",
    "znotf2_2M_h2o_dmf.toml": "19a5780fe85fa11c",
    "znotf2_2M_ide.toml": "741d70297d707d86",
    "znotf2_2m.toml": "4d8f4ccc5e091320",
    "znotf2_3m.toml": "3aca16a28e67ae41",
    "znotf2_4m.toml": "7383ddee535d8805",
    "znso4_1m.toml": "9c417a61c3afe4c7",
    "znso4_2m.toml": "7d743d6c2fa59ab4",
    "znso4_2m_dmso.toml": "f710265d614dbc74",
    "znso4_2m_eg.toml": "c94cf5b93d86c8ad",
    "znso4_2m_full.toml": "f8553cb7f2a6c73e",
    "znso4_2m_methanol.toml": "65c6e73ce0627927",
    "znso4_2m_sorbitol.toml": "c273ceb91647270b",
    "znso4_2m_trehalose.toml": "34d5e0dc6639c35b",
    "znso4_2m_xylitol.toml": "9a0c47aac78f3a88",
    "znso4_3m.toml": "6889103eeeeb397b",
    "znso4_mnso4.toml": "1efbbbba29848a71",
    "every_slab_quantity": "55ce5bb4527a78bf",
    "every_bulk_quantity": "ef1560e3852615d4",
}
# sha256 (16 hex digits) of the designs of each example campaign's jobs, as JSON
CAMPAIGN_DESIGNS_BEFORE = {"gpu_cluster": "bb16c6f4c8f8b61b", "substrates_pmf": "1fd10bcb46fbd941"}
# sha256 of the design.toml texts a build writes for every example and both designs above
WRITTEN_TOML_BEFORE = "fae0de178fee7707"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _designs() -> dict[str, Design]:
    out = {p.name: load_design(p) for p in EXAMPLES}
    return out | {d["name"]: parse_design(d) for d in (SLAB, BULK)}


def test_spec_hashes_are_those_of_the_text():
    assert {k: d.spec_hash() for k, d in _designs().items()} == HASHES_BEFORE


def test_campaign_designs_and_written_design_files_are_unchanged():
    for name, before in CAMPAIGN_DESIGNS_BEFORE.items():
        jobs = load_campaign(ROOT / "examples" / "campaigns" / f"{name}.toml").jobs
        assert _sha(json.dumps([j.design for j in jobs], sort_keys=True)) == before, name
    written = [
        tomli_w.dumps(d.model_dump(mode="json", exclude_none=True)) for d in _designs().values()
    ]
    assert _sha("".join(written)) == WRITTEN_TOML_BEFORE
    for text in written:  # and they load back to the same design
        again = parse_design(tomllib.loads(text))
        assert again.spec_hash() in HASHES_BEFORE.values()


def _quantities(model, where=""):
    """(path, value) of every field of ``model`` and its tables that is a quantity field
    (its JSON schema says string and its Python value is not a plain name)."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{where}{name}"
        if hasattr(value, "model_fields"):
            yield from _quantities(value, path + ".")
        elif isinstance(value, list) and value and hasattr(value[0], "model_fields"):
            for k, item in enumerate(value):
                yield from _quantities(item, f"{path}.{k}.")
        else:
            yield path, value


NAMES = {"name", "formula", "model", "zn", "family", "material", "facet", "lj", "ion",
         "cation", "anion", "method", "smiles", "resname", "partner_atom"}  # fmt: skip
KEYWORDS = {"auto", "bulk", "surface", "contact", "far"}


@pytest.mark.parametrize("design", [SLAB, BULK], ids=lambda d: d["name"])
def test_a_loaded_design_holds_typed_values(design):
    d = parse_design(design)
    strings = [
        (path, v)
        for path, v in _quantities(d)
        if isinstance(v, str) and path.rsplit(".", 1)[-1] not in NAMES and v not in KEYWORDS
    ]
    assert not strings, f"quantity fields left as text: {strings}"
    typed = {p: v for p, v in _quantities(d) if isinstance(v, q.Quantity | q.Ratio)}
    assert len(typed) >= 14
    for path, v in typed.items():  # the text is kept as written (or the default's text)
        written = _written(design, path)
        assert v.text == (written if written is not None else v.text), path
    assert sum(_written(design, p) is not None for p in typed) >= 10


def _written(design: dict, path: str) -> str | None:
    """The text at ``path`` (dotted, list indices as numbers) of a design dict, or None."""
    node = design
    for key in path.split("."):
        key = {"start": "from", "end": "to"}.get(key, key)
        if isinstance(node, list):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return None
    return node


def test_typed_values_are_in_canonical_units():
    d = parse_design(SLAB)
    assert d.temperature.kelvin == 310.0
    assert d.forcefield.cutoff.nm == pytest.approx(0.9)
    assert d.slab.gap.angstrom == pytest.approx(3.0)
    assert d.salts[1].concentration.value == pytest.approx(0.02)
    assert d.salts[1].concentration.unit == "mol/L"
    assert d.electrode.potential_difference.volts == pytest.approx(-0.5)
    assert d.pmf.force_constant.kj_per_mol_nm2 == pytest.approx(4184.0)
    assert (d.cosolvents[0].ratio.first, d.cosolvents[0].ratio.basis) == (2.0, "vol")
    b = parse_design(BULK)
    assert b.metad.deposit.ps == pytest.approx(0.5)
    assert b.pmf.boundary.nm == pytest.approx(0.7)
    assert b.pmf.start == "contact" and b.pmf.force_constant == "auto"


PARSERS = {"length_nm", "time_ps", "temperature_k", "pressure_bar", "concentration", "ratio",
           "force_constant", "potential_v"}  # fmt: skip
# Modules that read quantity text that is not a design's: the design module itself, the
# protocol module ([protocol] tables of designs and campaigns, and their command-line
# options), the command line's options and the run extension's argument, the validation
# suite's settings.
ALLOWED = {
    "solvation/quantities.py",
    "solvation/design.py",
    "solvation/engine/protocol.py",
    "solvation/engine/run.py",
    "solvation/cli/app.py",
    "solvation/validation/suite.py",
}


def _parse_calls(path: Path) -> list[str]:
    """Calls in ``path`` of a quantity parser of ``solvation.quantities``, by name or as
    ``q.name`` / ``quantities.name``."""
    tree = ast.parse(path.read_text())
    imported = {
        a.asname or a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("quantities")
        for a in node.names
        if a.name in PARSERS
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in imported:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {f.id}")
        elif isinstance(f, ast.Attribute) and f.attr in PARSERS and isinstance(f.value, ast.Name):
            if f.value.id in ("q", "quantities"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {f.attr}")
    return found


def test_quantities_are_parsed_only_in_the_design_module():
    folders = ("solvation", "systems", "forcefields", "analysis")
    calls = [
        c
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in ALLOWED
        for c in _parse_calls(path)
    ]
    assert not calls, "\n".join(calls)
    assert _parse_calls(ROOT / "solvation" / "design.py")  # the check sees calls


def test_salts_are_read_once_by_the_design():
    d = parse_design(BULK)
    assert d.salts[0].salt is d.salts[0].salt  # read once, then held
    assert d.salts[0].salt.ions == (("Zn2+", 1), ("OTf", 2))
    calls = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for folder in ("solvation", "systems", "forcefields", "analysis")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() != "solvation/design.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "parse_salt"
    ]
    # the one other call reads the solubility table's formulas, not a design's
    assert calls == ["systems/composition.py:476"]


def test_the_formula_tables_are_the_libraries():
    assert ION_RESNAMES is formula.ION_RESNAMES
    table = molecule_table()
    assert {k: table[k].charge for k in formula.MOLECULAR_ION_CHARGES} == (
        formula.MOLECULAR_ION_CHARGES
    )
    assert set(formula.SYMBOLS.values()) <= set(ION_RESNAMES) | set(formula.MOLECULAR_ION_CHARGES)


def test_design_checks_live_in_the_design_module_and_check_design():
    """A design is refused by the design module (rules of the file itself) or by
    ``systems.check_design`` (checks against the library, which calls the model family's
    coverage checks), nowhere else."""
    raising = sorted(
        path.relative_to(ROOT).as_posix()
        for folder in ("solvation", "systems", "forcefields", "analysis")
        for path in (ROOT / folder).rglob("*.py")
        if "DesignError(" in path.read_text() or "invalid design" in path.read_text()
    )
    assert raising == ["solvation/design.py", "systems/check.py"]
    with pytest.raises(DesignError, match="needs a \\[slab\\]"):  # at load, before the library
        parse_design({"name": "x", "pmf": {}})


def test_every_example_file_loads():
    """Every design and campaign under examples/, subfolders included (the pairing
    designs once named a full-family Zn2+ model under the scaled default and failed)."""
    files = sorted((ROOT / "examples").rglob("*.toml"))
    campaigns = [p for p in files if p.parent.name == "campaigns"]
    designs = [p for p in files if p not in campaigns]
    assert len(designs) >= 25 and len(campaigns) >= 3
    for path in designs:
        assert load_design(path).name, path
    for path in campaigns:
        assert load_campaign(path).jobs, path
