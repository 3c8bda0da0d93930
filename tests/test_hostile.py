"""Hostile inputs, one row each: what the user gave, the message fragment they must see,
the exit status, and no traceback. Every row runs the real command line in process.

Rows get a ``Case`` with paths to prepare their input: ``build`` (a copy of a tiny
build directory: system.xml, topology.pdb, build.json, design.toml), ``run`` (the
session's finished 20-frame run, only read), ``tmp`` and ``write``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import MDAnalysis as mda
import pytest
import tomli_w

from solvation.cli import app, run_cli

BUILD_FILES = ("system.xml", "topology.pdb", "build.json", "design.toml")


@dataclass
class Case:
    tmp: Path
    tiny_run: Path

    @property
    def build(self) -> Path:
        d = self.tmp / "build"
        if not d.exists():
            d.mkdir()
            for name in BUILD_FILES:
                shutil.copy(self.tiny_run / name, d / name)
        return d

    @property
    def run(self) -> Path:
        return self.tiny_run

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def design(self, name: str = "d.toml", **changes) -> Path:
        data = {
            "name": "hostile",
            "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
            "box": {"n_water": 330},
        }
        for key, value in changes.items():
            data[key] = value
        return self.write(name, tomli_w.dumps(data))

    def campaign(self, **changes) -> Path:
        self.design("base.toml")
        data = {"name": "c", "base": "base.toml", "rank": {"weights": {"D_zn": 1.0}}}
        data.update(changes)
        return self.write("c.toml", tomli_w.dumps(data))


def _build(**changes):
    """``solvation build`` of a design with ``changes`` into CASE.tmp/out."""
    return lambda c: ["build", str(c.design(**changes)), "-o", str(c.tmp / "out")]


def _salt(formula, conc, n_water=700):
    return _build(salts=[{"formula": formula, "concentration": conc}], box={"n_water": n_water})


def _truncated_system(c):
    xml = c.build / "system.xml"
    xml.write_text(xml.read_text()[: len(xml.read_text()) // 2])
    return ["run", str(c.build), "--platform", "CPU"]


def _short_trajectory(c, strict):
    d = c.tmp / "short"
    shutil.copytree(c.run, d, ignore=shutil.ignore_patterns(".*", "*.npz"))
    u = mda.Universe(str(d / "topology.pdb"), str(c.run / "trajectory.xtc"))
    with mda.Writer(str(d / "trajectory.xtc"), u.atoms.n_atoms) as w:
        for _ts in u.trajectory[:12]:  # 60% of the 20 frames run.json records
            w.write(u.atoms)
    pair = ["--pair", "zn-o=resname ZN|resname HOH and name O"]
    return ["analyze", *(["--strict"] if strict else []), "rdf", str(d), *pair]


CASES = [
    # --- builder: impossible compositions are refused before packmol runs ---
    ("50 m ZnSO4, 700 waters", _salt("ZnSO4", "50 m"), "exceeds its solubility", 2),
    ("10 m ZnSO4", _salt("ZnSO4", "10 m", 330), "allow_supersaturated = true", 2),
    ("no water per ion", _salt("Zn(OTf)2", "200 m", 330), "solvent molecules for", 2),
    (
        "packmol past its time limit (pre-hydrated: two packmol runs, one limit)",
        _build(
            salts=[{"formula": "ZnSO4", "concentration": "2 m"}],
            box={"n_water": 3000, "packmol_timeout_s": 1},
        ),
        "did not finish within its time limit of 1 s",
        2,
    ),
    ("temperature without unit", _build(temperature="300"), "has no unit", 2),
    ("50000 K", _build(temperature="50000 K"), "outside 50-1000 K", 2),
    (
        "ion override for an ion not in the box",
        _build(forcefield={"ions": {"Na+": "hfe"}}),
        "'Na+' is not in the box",
        2,
    ),
    (
        "unknown ion in an override",
        _build(forcefield={"ions": {"Qx+": "hfe"}}),
        "is not a library ion",
        2,
    ),
    (
        "TIP3P in a design of the default (scaled) family",
        _build(water={"model": "tip3p"}),
        "the scaled family uses tip4p2005 water, not 'tip3p'",
        2,
    ),
    (
        "a full-family Zn2+ set in a design of the default (scaled) family",
        _build(forcefield={"zn": "cm"}),
        "the scaled family (the default family) has its own Zn2+",
        2,
    ),
    (
        "unknown model family for forcefields show",
        lambda c: ["forcefields", "show", "Zn2+", "--family", "madrid"],
        "unknown model family 'madrid'",
        2,
    ),
    (
        "unknown model family for the demo",
        lambda c: ["demo", "-o", str(c.tmp / "out"), "--family", "madrid"],
        "unknown model family 'madrid'",
        2,
    ),
    (
        "missing design file",
        lambda c: ["build", str(c.tmp / "nope.toml"), "-o", str(c.tmp / "o")],
        "does not exist",
        2,
    ),
    (
        "malformed design TOML",
        lambda c: ["build", str(c.write("bad.toml", "name = [")), "-o", str(c.tmp / "o")],
        "is not valid TOML",
        2,
    ),
    # --- run ---
    (
        "--checkpoint-every 0ps",
        lambda c: ["run", str(c.build), "--checkpoint-every", "0ps", "--platform", "CPU"],
        "checkpoint_every must be positive",
        2,
    ),
    (
        "--time without unit",
        lambda c: ["run", str(c.build), "--time", "2", "--platform", "CPU"],
        "time '2' has no unit",
        2,
    ),
    (
        "unknown ensemble",
        lambda c: ["run", str(c.build), "--platform", "CPU", "--ensemble", "NPTX"],
        "ensemble must be NVT or NPT",
        2,
    ),
    ("truncated system.xml", _truncated_system, "system.xml cannot be read", 2),
    (
        "--extend without a finished run",
        lambda c: ["run", str(c.build), "--extend", "1ps"],
        "holds no run.json",
        2,
    ),
    (
        "--extend adding nothing",
        lambda c: ["run", str(c.run), "--extend", "0ps"],
        "adds no frame",
        2,
    ),
    (
        "--extend with another option",
        lambda c: ["run", str(c.run), "--extend", "1ps", "--time", "3ps"],
        "give no other run option",
        2,
    ),
    (
        "bench md --steps 0",
        lambda c: ["bench", "md", str(c.build), "--steps", "0"],
        "greater than or equal to 1",
        2,
    ),
    # --- analysis ---
    (
        "--start 100 on 20 frames",
        lambda c: [
            "analyze",
            "rdf",
            str(c.run),
            "--pair",
            "zn-o=resname ZN|resname HOH and name O",
            "--start",
            "100",
        ],
        "selects none of the 20 frames",
        2,
    ),
    (
        "trajectory shorter than run.json",
        lambda c: _short_trajectory(c, False),
        "holds 12 frames but run.json records 20",
        0,
    ),
    (
        "trajectory shorter than run.json, --strict",
        lambda c: _short_trajectory(c, True),
        "holds 12 frames but run.json records 20",
        2,
    ),
    (
        "selection that selects nothing",
        lambda c: ["analyze", "coordination", str(c.run), "--center", "resname XX"],
        "selects no atoms",
        2,
    ),
    # --- campaigns, ranking, figures ---
    (
        "unknown executor kind",
        lambda c: ["campaign", "run", str(c.campaign(executor={"kind": "slurmm"}))],
        "[executor] kind 'slurmm' is unknown",
        2,
    ),
    (
        "unknown --executor",
        lambda c: ["campaign", "run", str(c.campaign()), "--executor", "spark"],
        "unknown executor 'spark'",
        2,
    ),
    (
        "replicas 0",
        lambda c: ["campaign", "run", str(c.campaign(replicas=0))],
        "replicas must be a whole number",
        2,
    ),
    (
        "malformed campaign TOML",
        lambda c: ["campaign", "run", str(c.write("c.toml", "name = 'x"))],
        "is not valid TOML",
        2,
    ),
    (
        "rank a directory that is not a campaign",
        lambda c: ["rank", str(c.tmp / "typo"), "--weight", "D_zn=1"],
        "not a campaign directory",
        2,
    ),
    (
        "figures of a directory that is not a campaign",
        lambda c: ["figures", str(c.tmp / "typo")],
        "not a campaign directory",
        2,
    ),
    (
        "status of a directory that is not a campaign",
        lambda c: ["campaign", "status", str(c.tmp / "typo")],
        "not a campaign directory",
        2,
    ),
    # --- validation references ---
    (
        "validation case pattern that matches no case",
        lambda c: [
            "validate",
            "--profile",
            "cpu",
            "--systems",
            "solutions",
            "--cases",
            "zn_typo",
            "-o",
            str(c.tmp / "v"),
        ],
        "no case of profile cpu matches zn_typo",
        2,
    ),
    (
        "malformed reference YAML",
        lambda c: [
            "validate",
            "--reference",
            str(c.write("mine.yaml", "- quantity: [unclosed\n")),
            "-o",
            str(c.tmp / "v"),
        ],
        "mine.yaml is not valid YAML",
        2,
    ),
    (
        "reference value that is not a number",
        lambda c: [
            "validate",
            "--reference",
            str(
                c.write(
                    "nan.yaml",
                    "- {quantity: water_density, system: water, value: abc, uncertainty: 1,"
                    " unit: g/cm3, conditions: x, citation: y}\n",
                )
            ),
            "-o",
            str(c.tmp / "v"),
        ],
        "nan.yaml entry 1: value 'abc' is not a number",
        2,
    ),
]


@pytest.mark.parametrize("label,make,fragment,code", CASES, ids=[c[0] for c in CASES])
def test_hostile_input(label, make, fragment, code, tiny_run, tmp_path, capsys):
    case = Case(tmp_path, tiny_run)
    argv = make(case)
    capsys.readouterr()
    try:
        run_cli(app, argv)
        status = 0
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == code, (out, err)
    assert fragment in out + err, (out, err)
    assert "Traceback" not in out + err
    # nothing was left behind by a refused command
    assert not (tmp_path / "out").exists() and not (tmp_path / "typo").exists()
    assert not list(tmp_path.glob(".*.tmp-*")) and not list(tmp_path.glob(".*.lock"))


def test_refused_build_leaves_an_existing_directory_intact(tiny_run, tmp_path, capsys):
    case = Case(tmp_path, tiny_run)
    before = {p.name: p.read_bytes() for p in case.build.iterdir()}
    with pytest.raises(SystemExit) as exc:
        run_cli(app, _salt("ZnSO4", "50 m")(case)[:2] + ["-o", str(case.build)])
    assert exc.value.code == 2
    assert {p.name: p.read_bytes() for p in case.build.iterdir()} == before
