"""`solvation cite RUN`: the force-field papers recorded in a run's build.json, as BibTeX."""

from __future__ import annotations

import re

from solvation.citations import parse_citation
from solvation.cli import app, run_cli


def test_citation_texts_become_references():
    one = parse_citation("Jorgensen et al., J. Chem. Phys. 79 (1983) 926")
    assert len(one) == 1
    ref = one[0]
    assert (ref.journal, ref.volume, ref.year, ref.pages) == ("J. Chem. Phys.", "79", "1983", "926")
    assert ref.key == "jorgensen1983" and "Jorgensen and others" in ref.bibtex()
    other = parse_citation("Li and Merz, JCTC, 2014, 10, 289")[0]
    assert (other.journal, other.year, other.volume, other.pages) == ("JCTC", "2014", "10", "289")
    several = parse_citation(
        "sigma_nm: [F] fitted here to 2.09 A (Marcus, Chem. Rev. 88 (1988) 1475; Ohtaki & "
        "Radnai, Chem. Rev. 93 (1993) 1157 [R]); epsilon: [R] Madrid-2019 (Zeron, Abascal & "
        "Vega, J. Chem. Phys. 151 (2019) 134504, doi:10.1063/1.5121392)"
    )
    assert [r.key for r in several] == ["marcus1988", "ohtaki1993", "zeron2019"]
    assert several[2].doi == "10.1063/1.5121392"
    unparsed = parse_citation("AmberTools 26 frcmod ion files")
    assert len(unparsed) == 1 and "@misc{" in unparsed[0].bibtex()


def test_cite_prints_the_papers_of_a_run(tiny_run, tmp_path, capsys):
    """The tiny run in the default scaled family (TIP4P/2005, Madrid-2019 Cl-, Zn2+ with
    its Zn-O(water) pair term fitted here to Marcus, Ohtaki & Radnai and Laliberte): one
    entry per paper, each naming the parameter sets that used it; braces balanced."""
    run_cli(app, ["cite", str(tiny_run)])
    text = capsys.readouterr().out
    keys = re.findall(r"@article\{(\w+),", text)
    assert keys[:2] == ["abascal2005", "zeron2019"], text
    assert {"marcus1988", "ohtaki1993", "laliberte2009"} <= set(keys), text
    assert "note = {used for water (tip4p2005)}" in text
    assert re.search(r"zeron2019,(.|\n)*used for Cl- \(scaled\)", text)
    assert text.count("{") == text.count("}")
    run_cli(app, ["cite", str(tiny_run), "-o", str(tmp_path / "refs.bib")])
    assert (tmp_path / "refs.bib").read_text() == text
