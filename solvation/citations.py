"""The papers behind a build or run: the force-field citations recorded in its
``build.json`` (one ``forcefield`` entry per parameter set, each with its ``citation``
text), as BibTeX for ``solvation cite RUN``.

A citation text may name several papers ("charge_e: [D] Zeron, Abascal & Vega, J. Chem.
Phys. 151 (2019) 134504; sigma_nm: [R] ..."). Each reference of the form "Authors,
Journal Volume (Year) Pages" (or "Authors, Journal, Year, Volume, Pages") becomes one
``@article`` entry, the same paper once however many sets cite it, with the species and
sets that use it in ``note``; a text with no such reference becomes a ``@misc`` entry
holding the text itself, so nothing recorded is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from solvation.rundir import read_build

_AUTHORS = r"(?P<authors>[A-Z][^;:()\[\]]*?(?:et al\.|&[^,;()]+|and [^,;()]+|[A-Za-z.\- ]+))"
_STYLE_A = re.compile(  # Jorgensen et al., J. Chem. Phys. 79 (1983) 926
    _AUTHORS + r",\s+(?P<journal>[A-Z][A-Za-z.\s&]*?)\s+(?P<volume>\d+)\s+\((?P<year>\d{4})\)"
    r"\s+(?P<pages>[\dA-Za-z-]+)(?:,\s*doi:(?P<doi>[^\s,;)]+))?"
)
_STYLE_B = re.compile(  # Li and Merz, JCTC, 2014, 10, 289
    _AUTHORS + r",\s+(?P<journal>[A-Z][A-Za-z.\s&]*?),\s+(?P<year>\d{4}),\s+(?P<volume>\d+),"
    r"\s+(?P<pages>[\dA-Za-z-]+)"
)


@dataclass
class Reference:
    """One paper (or an unparsed citation text) and the parameter sets that cite it.

    Attributes
    ----------
    authors, journal, volume, year, pages, doi : str
        Empty for an unparsed text (``text`` holds it).
    text : str
        The citation text as recorded.
    used_by : list of str
        'species (set)' of every parameter set citing it.
    """

    authors: str = ""
    journal: str = ""
    volume: str = ""
    year: str = ""
    pages: str = ""
    doi: str = ""
    text: str = ""
    used_by: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """BibTeX key: first author's surname and year ('jorgensen1983'), or a slug."""
        if not self.year:
            return "misc-" + re.sub(r"[^a-z0-9]+", "-", self.text.lower())[:40].strip("-")
        surname = re.split(r"[\s,&]", self.authors.strip())[0]
        return re.sub(r"[^a-z]", "", surname.lower()) + self.year

    def bibtex(self) -> str:
        """This reference as one BibTeX entry."""
        note = "used for " + ", ".join(dict.fromkeys(self.used_by))
        if not self.year:
            fields = {"title": self.text, "note": note}
            kind = "misc"
        else:
            names = re.sub(r"\s*(?:&|,)\s*(?!et al)", " and ", self.authors.strip())
            fields = {
                "author": names.replace(" et al.", " and others"),
                "journal": self.journal.strip(),
                "volume": self.volume,
                "year": self.year,
                "pages": self.pages,
                **({"doi": self.doi} if self.doi else {}),
                "note": note,
            }
            kind = "article"
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
        return f"@{kind}{{{self.key},\n{body}\n}}"


def parse_citation(text: str) -> list[Reference]:
    """The papers named in one citation text (a @misc-style Reference when none parses).

    Parameters
    ----------
    text : str
        A citation as recorded in build.json.
    """
    found = []
    for pattern in (_STYLE_A, _STYLE_B):
        for match in pattern.finditer(text):
            found.append((match.start(), Reference(**match.groupdict(default=""), text=text)))
    if not found:
        return [Reference(text=text.strip())]
    return [ref for _, ref in sorted(found, key=lambda x: x[0])]


def references_of(directory: str | Path) -> list[Reference]:
    """Every paper the force field of a build or run directory used, each once, in the
    order build.json first cites it.

    Parameters
    ----------
    directory : str or Path
        A build or run directory (or a campaign job's directory).
    """
    merged: dict[tuple, Reference] = {}
    for entry in read_build(directory).forcefield:
        text = str(entry.get("citation") or "").strip()
        if not text:
            continue
        user = f"{entry.get('species', '?')} ({entry.get('set', '?')})"
        for ref in parse_citation(text):
            ident = (ref.journal.strip().lower(), ref.volume, ref.pages) if ref.year else (text,)
            merged.setdefault(ident, ref).used_by.append(user)
    return list(merged.values())


def bibtex_of(directory: str | Path) -> str:
    """BibTeX of every force-field paper a build or run directory used.

    Parameters
    ----------
    directory : str or Path
    """
    entries, keys = [], {}
    for ref in references_of(directory):
        text = ref.bibtex()
        n = keys.get(ref.key, 0)
        keys[ref.key] = n + 1
        if n:  # two papers of one first author and year: jorgensen1983b
            text = text.replace(f"{{{ref.key},", f"{{{ref.key}{chr(ord('a') + n)},", 1)
        entries.append(text)
    return "\n\n".join(entries) + "\n"
