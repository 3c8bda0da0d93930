"""Hostile inputs, one row each: what the user gave, the message fragment they must see,
the exit status, and no traceback. Every row runs the real command line in process.

Rows get a ``Case`` with paths to prepare their input: ``build`` (a copy of a tiny
build directory: system.xml, topology.pdb, build.json, design.toml), ``run`` (the
session's finished 20-frame run, only read), ``tmp`` and ``write``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import MDAnalysis as mda
import pytest
import tomli_w

from solvation.cli import app, run_cli
from solvation.engine.resume import scan_xtc
from solvation.engine.run import extend_production

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

    @property
    def stopped(self) -> Path:
        """A copy of the finished run extended by 1 ps: production stopped at its
        checkpoint (step 1000, 20 frames), to resume."""
        d = self.tmp / "stopped"
        if not d.exists():
            shutil.copytree(self.tiny_run, d, ignore=shutil.ignore_patterns(".*", "*.npz"))
            extend_production(d, "1 ps")
        return d

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
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


def _pair(*args):
    """``solvation pmf`` of the session's run with ``--pair`` and more options, into
    CASE.tmp/out."""
    pair = ["--pair", args[0], args[1], *args[2:]]
    return lambda c: ["pmf", str(c.build), "-o", str(c.tmp / "out"), *pair, "--platform", "CPU"]


PAIR = ["--pair", "zn-o=resname ZN|resname HOH and name O"]
BINARY = bytes(range(256)) * 4
LATIN1 = 'name = "caf\xe9"\n'.encode("latin-1")


def _rdf(*extra):
    return lambda c: ["analyze", "rdf", str(c.run), *PAIR, *map(str, extra)]


def _analyze(verb, *extra):
    return lambda c: ["analyze", verb, str(c.run), *map(str, extra)]


def _run(*extra):
    return lambda c: ["run", str(c.build), "--platform", "CPU", *map(str, extra)]


def _campaign(**changes):
    return lambda c: ["campaign", "run", str(c.campaign(**changes))]


def _raw_campaign(text):
    def make(c):
        c.campaign()
        return ["campaign", "run", str(c.write("c.toml", text))]

    return make


def _bytes(c, name, data) -> str:
    path = c.tmp / name
    path.write_bytes(data)
    return str(path)


def _folder(c, name="outdir") -> str:
    path = c.tmp / name
    path.mkdir(exist_ok=True)
    return str(path)


def _pmf_plot_dir(c, slash):
    folder = _folder(c)
    (c.tmp / "outdir.png").write_bytes(b"\x89PNG a figure of the user")
    return ["analyze", "pmf", folder, "--plot", folder + ("/" if slash else "")]


def _mdtraj_lammpstrj(c):
    import mdtraj

    t = mdtraj.load(str(c.run / "trajectory.xtc"), top=str(c.run / "topology.pdb"))
    t[:3].save_lammpstrj(str(c.tmp / "t.lammpstrj"))
    return ["analyze", "rdf", str(c.run / "topology.pdb"), str(c.tmp / "t.lammpstrj"), *PAIR]


def _unfinished(c):
    d = c.tmp / "unfinished"
    shutil.copytree(c.run, d, ignore=shutil.ignore_patterns(".*", "*.npz"))
    info = json.loads((d / "run.json").read_text())
    info["complete"], info["stages_done"] = False, info["stages_done"][:-1]
    (d / "run.json").write_text(json.dumps(info))
    return ["analyze", "rdf", str(d), *PAIR]


def _damaged_build(name, data):
    def make(c):
        path = c.build / name
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
        return ["run", str(c.build), "--platform", "CPU"]

    return make


def _damaged_run(damage, run="stopped"):
    """``solvation run`` of the stopped (or the finished) run after ``damage(directory)``."""

    def make(c):
        d = c.stopped if run == "stopped" else c.tmp / "finished"
        if run != "stopped":
            shutil.copytree(c.run, d, ignore=shutil.ignore_patterns(".*", "*.npz"))
        damage(d)
        return ["run", str(d), "--platform", "CPU"]

    return make


def _cut_frames(n):
    def damage(d):
        path = d / "trajectory.xtc"
        ends = scan_xtc(path).ends
        with path.open("r+b") as fh:
            fh.truncate(ends[n - 1] + 100)

    return damage


def _zero_padded(d):
    path = d / "trajectory.xtc"
    size, ends = path.stat().st_size, scan_xtc(path).ends
    with path.open("r+b") as fh:
        fh.truncate(ends[11])
        fh.truncate(size)


def _cut_checkpoint(d):
    chk = d / json.loads((d / "checkpoint.json").read_text())["file"]
    chk.write_bytes(chk.read_bytes()[:1000])


PMF_DESIGN = str(Path(__file__).resolve().parents[1] / "examples" / "zn002_znso4_2m.toml")


CASES = [
    # --- builder: impossible compositions are refused before packmol runs ---
    ("50 m ZnSO4, 700 waters", _salt("ZnSO4", "50 m"), "exceeds its solubility", 2),
    ("10 m ZnSO4", _salt("ZnSO4", "10 m", 330), "allow_supersaturated = true", 2),
    ("no water per ion", _salt("Zn(OTf)2", "200 m", 330), "solvent molecules for", 2),
    (
        "packmol past its time limit (pre-hydrated: two packmol runs, one limit)",
        _build(
            salts=[{"formula": "ZnSO4", "concentration": "2 m"}],
            box={"n_water": 8000, "packmol_timeout_s": 1},  # its solute run alone: ~9 s
        ),
        "did not finish within its time limit of 1 s",
        2,
    ),
    ("temperature without unit", _build(temperature="300"), "has no unit", 2),
    ("50000 K", _build(temperature="50000 K"), "outside 50-1000 K", 2),
    (
        "ion override for an ion not in the box",
        _build(forcefield={"family": "full", "ions": {"Na+": "hfe"}}),
        "'Na+' is not in the box",
        2,
    ),
    (
        "unknown ion in an override",
        _build(forcefield={"family": "full", "ions": {"Qx+": "hfe"}}),
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
        "whose physics cannot change: drop --time",
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
        "unknown slurm executor option",
        lambda c: [
            "campaign",
            "run",
            str(c.campaign(executor={"kind": "slurm", "gpus": 1})),
        ],
        "[executor] 'gpus' is not a slurm executor option",
        2,
    ),
    (
        "slurm jobs_per_gpu 0",
        lambda c: [
            "campaign",
            "run",
            str(c.campaign(executor={"kind": "slurm", "jobs_per_gpu": 0})),
        ],
        "[executor] jobs_per_gpu must be >= 1",
        2,
    ),
    (
        "slurm fixed and adaptive at once",
        lambda c: [
            "campaign",
            "run",
            str(c.campaign(executor={"kind": "slurm", "jobs": 2, "maximum_jobs": 4})),
        ],
        "give jobs (a fixed number of worker jobs) or maximum_jobs",
        2,
    ),
    (
        "pmf --cluster file without [executor]",
        lambda c: [
            "pmf",
            str(c.write("d.toml", "name = 'x'")),
            "-o",
            str(c.tmp / "pmf-out"),
            "--executor",
            "slurm",
            "--cluster",
            str(c.write("cl.toml", "name = 'x'")),
        ],
        "has no [executor] table",
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
    # --- pair PMF: refused before the parent runs and before any window ---
    ("pair partner not in the box", _pair("Zn2+", "SO4^2-"), "the box holds no SO4^2-", 2),
    ("pair of one species", _pair("Zn2+", "Zn"), "two different species", 2),
    ("pair with an anion as cation", _pair("Cl-", "Zn2+"), "Cl- is not a cation", 2),
    (
        "pair partner atom that does not exist",
        _pair("Zn2+", "Cl-", "--partner-atom", "XX"),
        "has no atom 'XX'",
        2,
    ),
    (
        "pair path beyond half the box",
        _pair("Zn2+", "Cl-", "--from", "1.5nm"),
        "beyond half the smallest box edge",
        2,
    ),
    # --- metadynamics: refused before anything is written ---
    ("metad of a build never run", lambda c: ["metad", str(c.build)], "holds no run.json", 2),
    (
        "metad with an anion not in the box",
        lambda c: ["metad", str(c.run), "--anion", "SO4", "--platform", "CPU"],
        "the box holds no SO4",
        2,
    ),
    (
        "metad with a bias factor of 1",
        lambda c: ["metad", str(c.run), "--bias-factor", "1", "--platform", "CPU"],
        "bias_factor: Input should be greater than 1",
        2,
    ),
    (
        "metad with an unknown collective variable",
        lambda c: ["metad", str(c.run), "--cv", "distance", "--platform", "CPU"],
        "cv: Input should be 'contacts' or 'exchange'",
        2,
    ),
    (
        "pair path of a design beyond half its box",
        lambda c: [
            "pmf",
            str(c.design()),
            "-o",
            str(c.tmp / "out"),
            "--pair",
            "Zn2+",
            "Cl-",
            "--from",
            "1.5nm",
        ],  # fmt: skip
        "of the design's box (about",
        2,
    ),
    # --- issue 30: refusals that name what is wrong ---
    (
        "additive AM1-BCC cannot charge (boric acid: no AM1 boron in sqm)",
        _build(additives=[{"smiles": "OB(O)O", "concentration": "100 mM"}]),
        "additive 'OB(O)O' (gaff2-am1bcc): AM1-BCC charges cannot be computed: AmberTools "
        "sqm has no AM1 parameters for B (atomic number 5)",
        2,
    ),
    (
        "--extend with a physics option",
        lambda c: ["run", str(c.build), "--extend", "1ps", "--time", "5ps", "--hmr"],
        "whose physics cannot change: drop --time, --hmr",
        2,
    ),
    (
        "diffusion of a trajectory without --species",
        lambda c: [
            "analyze",
            "diffusion",
            str(c.run / "topology.pdb"),
            str(c.run / "trajectory.xtc"),
        ],
        "give --species NAME=SELECTION (no run directory to take them from)",
        2,
    ),
    # --- issue 31: numbers, refused before any work ---
    ("--time 1e400ps", _run("--time", "1e400ps"), "is not a finite number", 2),
    (
        "report_every beyond production",
        _run("--time", "1ps", "--report-every", "10ps"),
        "longer than production",
        2,
    ),
    (
        "production not whole report intervals",
        _run("--time", "1ps", "--report-every", "0.3ps"),
        "not a whole number of report intervals",
        2,
    ),
    ("--precision quad", _run("--precision", "quad"), "--precision 'quad'", 2),
    ("--device 5 on CPU", _run("--device", "5"), "--device 5 asks for a GPU", 2),
    ("--device -1", _run("--device", "-1"), "--device must be", 2),
    (
        "OPENMM_CPU_THREADS=abc",
        _run(),
        "OPENMM_CPU_THREADS='abc'",
        2,
        {"OPENMM_CPU_THREADS": "abc"},
    ),
    ("NUMBA_NUM_THREADS=0", _rdf(), "NUMBA_NUM_THREADS='0'", 2, {"NUMBA_NUM_THREADS": "0"}),
    ("--start -1", _rdf("--start", "-1"), "--start must be", 2),
    ("--step 0", _rdf("--step", "0"), "--step must be", 2),
    ("--rmax inf", _rdf("--rmax", "inf"), "--rmax must be a finite number", 2),
    ("hbonds --distance -1", _analyze("hbonds", "--distance", "-1"), "--distance must be", 2),
    ("hbonds --angle 500", _analyze("hbonds", "--angle", "500"), "--angle must be", 2),
    ("hbonds --angle nan", _analyze("hbonds", "--angle", "nan"), "--angle must be", 2),
    (
        "--temperature-k -5",
        _analyze("diffusion", "--species", "zn=resname ZN", "--temperature-k", "-5"),
        "--temperature-k must be",
        2,
    ),
    (
        "--cutoff water=-1",
        _analyze("coordination", "--cutoff", "water=-1"),
        "--cutoff water must be",
        2,
    ),
    (
        "--cutoff water=0",
        _analyze("coordination", "--cutoff", "water=0"),
        "--cutoff water must be",
        2,
    ),
    (
        "--cutoff water=1000",
        _analyze("coordination", "--cutoff", "water=1000"),
        "--cutoff water must be",
        2,
    ),
    (
        "--cutoff water=abc",
        _analyze("coordination", "--cutoff", "water=abc"),
        "--cutoff water must be a number",
        2,
    ),
    ("--anion Cl=abc", _analyze("pairing", "--anion", "Cl=abc"), "--anion Cl must be", 2),
    (
        "--charge zn=abc",
        _analyze("conductivity", "--species", "zn=resname ZN", "--charge", "zn=abc"),
        "--charge zn must be",
        2,
    ),
    (
        "pmf --bin-nm 0",
        lambda c: ["analyze", "pmf", _folder(c), "--bin-nm", "0"],
        "--bin-nm must be",
        2,
    ),
    (
        "pmf --shell-cutoff-angstrom -3",
        lambda c: ["analyze", "pmf", _folder(c), "--shell-cutoff-angstrom", "-3"],
        "--shell-cutoff-angstrom must be",
        2,
    ),
    (
        "campaign --slots 0",
        lambda c: ["campaign", "run", str(c.campaign()), "--slots", "0"],
        "--slots must be",
        2,
    ),
    (
        "pmf --slots 0",
        lambda c: ["pmf", PMF_DESIGN, "-o", str(c.tmp / "p"), "--slots", "0"],
        "--slots must be",
        2,
    ),
    (
        "PMF path inside the surface",
        lambda c: ["pmf", PMF_DESIGN, "-o", str(c.tmp / "p"), "--from", "0.1nm"],
        "sits inside the surface",
        2,
    ),
    (
        "rank --weight nan",
        lambda c: ["rank", str(c.tmp / "typo"), "--weight", "D_zn=nan"],
        "--weight D_zn must be a finite number",
        2,
    ),
    (
        "rank --weight inf",
        lambda c: ["rank", str(c.tmp / "typo"), "--weight", "D_zn=inf"],
        "--weight D_zn must be a finite number",
        2,
    ),
    # --- designs, checked with their [protocol] before anything is built ---
    ("pressure -500 bar", _build(protocol={"pressure": "-500 bar"}), "outside 0-10000 bar", 2),
    (
        "[protocol] typo at build",
        _build(protocol={"prodution": "1 ns"}),
        "unknown key 'prodution'",
        2,
    ),
    ("slab gap -1 A", _build(slab={"gap": "-1 A"}), "slab.gap '-1 A' must be", 2),
    ("slab vacuum -2 nm", _build(slab={"vacuum": "-2 nm"}), "slab.vacuum '-2 nm' must be", 2),
    (
        "slab.family for the slab's Lennard-Jones set",
        _build(slab={"family": "interface"}),
        "slab.family is not a key: the slab's Lennard-Jones set is slab.lj",
        2,
    ),
    (
        "ratio without v/v",
        _build(cosolvents=[{"name": "DMF", "ratio": "2:1"}]),
        "add v/v (volumes)",
        2,
    ),
    ("n_water as text", _build(box={"n_water": "400"}), "box.n_water: Input should be", 2),
    (
        "n_water 1e9",
        lambda c: [
            "build",
            str(c.write("d.toml", 'name = "x"\n[box]\nn_water = 1e9\n')),
            "-o",
            str(c.tmp / "out"),
        ],
        "box.n_water",
        2,
    ),
    ("edge 50000 nm", _build(box={"edge": "50000 nm"}), "box edge '50000 nm' must be", 2),
    (
        "design is a directory",
        lambda c: ["build", _folder(c, "dd"), "-o", str(c.tmp / "out")],
        "is a directory",
        2,
    ),
    (
        "binary design",
        lambda c: ["build", _bytes(c, "d.toml", BINARY), "-o", str(c.tmp / "out")],
        "is a binary file",
        2,
    ),
    (
        "Latin-1 design",
        lambda c: ["build", _bytes(c, "d.toml", LATIN1), "-o", str(c.tmp / "out")],
        "is not UTF-8 text",
        2,
    ),
    (
        "binary design to pmf",
        lambda c: ["pmf", _bytes(c, "d.toml", BINARY), "-o", str(c.tmp / "p")],
        "is a binary file",
        2,
    ),
    (
        "binary reference to validate",
        lambda c: ["validate", "--reference", _bytes(c, "r.yaml", BINARY), "-o", str(c.tmp / "v")],
        "is a binary file",
        2,
    ),
    # --- output paths, checked before the work ---
    ("run --json DIR", lambda c: ["run", str(c.run), "--json", _folder(c)], "is a directory", 2),
    (
        "build --json DIR",
        lambda c: ["build", str(c.design()), "-o", str(c.tmp / "out"), "--json", _folder(c)],
        "is a directory",
        2,
    ),
    ("rdf --csv DIR", _rdf("--csv", "."), "is a directory", 2),
    ("rdf --plot without a suffix", lambda c: _rdf("--plot", c.tmp / "figure")(c), "ending in", 2),
    (
        "rdf --json onto the trajectory",
        lambda c: [
            "analyze",
            "rdf",
            str(c.run / "topology.pdb"),
            str(c.run / "trajectory.xtc"),
            *PAIR,
            "--json",
            str(c.run / "trajectory.xtc"),
        ],
        "is an input of this command",
        2,
    ),
    (
        "rdf --csv onto build.json",
        lambda c: _rdf("--csv", c.build / "build.json")(c),
        "would overwrite a record of",
        2,
    ),
    (
        "--json in a folder that is a file",
        lambda c: _rdf("--json", c.write("f", "x") / "a.json")(c),
        "is a file, not a folder",
        2,
    ),
    (
        "--json and --csv the same file",
        lambda c: _rdf("--json", c.tmp / "x", "--csv", c.tmp / "x")(c),
        "both name",
        2,
    ),
    (
        "--json over a user's text file",
        lambda c: _rdf("--json", c.write("notes.json", "notes"))(c),
        "is not a JSON file",
        2,
    ),
    ("analyze pmf --plot DIR/", lambda c: _pmf_plot_dir(c, True), "is a directory", 2),
    ("analyze pmf --plot DIR", lambda c: _pmf_plot_dir(c, False), "is a directory", 2),
    (
        "rank --json DIR",
        lambda c: ["rank", str(c.tmp / "typo"), "--json", _folder(c)],
        "is a directory",
        2,
    ),
    (
        "figures --out FILE",
        lambda c: ["figures", str(c.tmp / "typo"), "--out", str(c.write("f", "x"))],
        "is a file; give a folder",
        2,
    ),
    (
        "status --export FILE",
        lambda c: ["campaign", "status", str(c.tmp / "typo"), "--export", str(c.write("f", "x"))],
        "is a file; give a folder",
        2,
    ),
    (
        "validate -o FILE",
        lambda c: ["validate", "-o", str(c.write("f", "x"))],
        "is a file; give a folder",
        2,
    ),
    (
        "forcefields --json DIR",
        lambda c: ["forcefields", "list", "--json", _folder(c)],
        "is a directory",
        2,
    ),
    ("demo -o FILE", lambda c: ["demo", "-o", str(c.write("f", "x"))], "is a file", 2),
    (
        "demo -o a campaign directory",
        lambda c: ["demo", "-o", str(c.write("camp/catalog.sqlite", "").parent)],
        "this command did not make",
        2,
    ),
    (
        "bench md --json DIR",
        lambda c: ["bench", "md", str(c.build), "--json", _folder(c)],
        "is a directory",
        2,
    ),
    # --- damaged run files ---
    ("binary run.json", _damaged_build("run.json", BINARY), "run.json is a binary file", 2),
    ("missing topology.pdb", _damaged_build("topology.pdb", None), "holds no topology.pdb", 2),
    (
        "damaged design.toml",
        _damaged_build("design.toml", b"name = ["),
        "design.toml cannot be read",
        2,
    ),
    # --- a resume that checks what is on disk (refused before any step runs) ---
    (
        "resume: trajectory cut short",
        _damaged_run(_cut_frames(12)),
        "trajectory.xtc holds 12 intact frames of the 20",
        2,
    ),
    (
        "resume: trajectory deleted",
        _damaged_run(lambda d: (d / "trajectory.xtc").unlink()),
        "holds 0 intact frames of the 20 that the checkpoint at step 1000 records (the file is "
        "missing)",
        2,
    ),
    ("resume: trajectory zero-padded", _damaged_run(_zero_padded), "zero bytes or garbage", 2),
    (
        "resume: state.csv deleted",
        _damaged_run(lambda d: (d / "state.csv").unlink()),
        "state.csv holds 0 intact rows of the 20",
        2,
    ),
    (
        "resume: garbage checkpoint.json",
        _damaged_run(lambda d: (d / "checkpoint.json").write_text("garbage")),
        "checkpoint.json is damaged",
        2,
    ),
    (
        "resume: checkpoint file missing",
        _damaged_run(lambda d: [p.unlink() for p in d.glob("checkpoint-*.chk")]),
        "which is missing",
        2,
    ),
    (
        "resume: checkpoint file cut",
        _damaged_run(_cut_checkpoint),
        "is damaged (its SHA-256 differs",
        2,
    ),
    (
        "finished run with a cut trajectory",
        _damaged_run(_cut_frames(15), "finished"),
        "should hold 20 frames but holds 15",
        2,
    ),
    # --- trajectories MDAnalysis cannot read ---
    (
        ".foo trajectory",
        lambda c: [
            "analyze",
            "rdf",
            str(c.run / "topology.pdb"),
            _bytes(c, "t.foo", (c.run / "trajectory.xtc").read_bytes()),
            *PAIR,
        ],
        "Cannot find an appropriate coordinate reader",
        2,
    ),
    (
        "text file named .xtc",
        lambda c: [
            "analyze",
            "rdf",
            str(c.run / "topology.pdb"),
            str(c.write("t.xtc", "not a trajectory")),
            *PAIR,
        ],
        "cannot open",
        2,
    ),
    ("mdtraj-written .lammpstrj", _mdtraj_lammpstrj, "cannot open", 2),
    # --- campaign files, catalogs, Pareto ---
    ("campaign name empty", _campaign(name=""), "campaign name '' is not a name", 2),
    ("campaign name ../../escaped", _campaign(name="../../escaped"), "is not a name", 2),
    ("campaign name absolute", lambda c: _campaign(name=str(c.tmp / "abs"))(c), "is not a name", 2),
    ("campaign name 300 characters", _campaign(name="x" * 300), "300 characters long", 2),
    (
        "campaign analyses = 5",
        _raw_campaign('name = "c"\nbase = "base.toml"\nanalyses = 5\n'),
        "analyses must be a table",
        2,
    ),
    (
        "campaign rank = 5",
        _raw_campaign('name = "c"\nbase = "base.toml"\nrank = 5\n'),
        "rank must be a table",
        2,
    ),
    (
        "campaign protocol text",
        _raw_campaign('name = "c"\nbase = "base.toml"\nprotocol = "x"\n'),
        "protocol must be a table",
        2,
    ),
    ("campaign base = 5", _raw_campaign('name = "c"\nbase = 5\n'), "base must be the path", 2),
    (
        "grid key through a list",
        _campaign(grid={"salts.x.concentration": ["1 m"]}),
        "must be a list index",
        2,
    ),
    (
        "grid key through a value",
        _campaign(grid={"name.x": ["a"]}),
        "does not lead to a table or list",
        2,
    ),
    (
        "campaign file is a directory",
        lambda c: ["campaign", "run", _folder(c, "cd")],
        "is a directory",
        2,
    ),
    (
        "pareto as a string",
        _campaign(rank={"weights": {"D_zn": 1.0}, "pareto": "zn_water_cn"}),
        "pareto must name two descriptors",
        2,
    ),
    (
        "pareto unknown descriptors",
        _campaign(rank={"weights": {"D_zn": 1.0}, "pareto": ["foo", "bar"]}),
        "pareto names unknown descriptors",
        2,
    ),
    (
        "campaign weight nan",
        _raw_campaign('name = "c"\nbase = "base.toml"\n[rank]\nweights = { D_zn = nan }\n'),
        "must be a finite number",
        2,
    ),
    (
        "junk catalog.sqlite",
        lambda c: ["campaign", "status", str(c.write("camp/catalog.sqlite", "junk " * 200).parent)],
        "is not a campaign catalog",
        2,
    ),
    # --- warnings: accepted, and said ---
    ("analysis of an unfinished run", _unfinished, "the run is not finished", 0),
    (
        "conductivity of one charged species",
        _analyze("conductivity", "--species", "zn=resname ZN"),
        "only 1 charged species given (zn)",
        0,
    ),
]


@pytest.mark.parametrize(
    "label,make,fragment,code,env", [(*c, {})[:5] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_input(label, make, fragment, code, env, tiny_run, tmp_path, capsys, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
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
