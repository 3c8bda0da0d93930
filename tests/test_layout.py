"""Package layout: imports go one way between layers, no import cycles, no hidden
function-local imports of our own modules; packages load their submodules lazily (SPEC 1,
names listed in ``__init__.pyi``, read here like imports) and the command line starts
without the heavy libraries; run-directory records are versioned; only user errors print
as one line."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import solvation.cli as cli
from solvation import rundir
from solvation.cli import run_cli
from solvation.rundir import RunDirError, read_build, read_run

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"solvation": ROOT / "solvation"} | {
    f"solvation.{d}": ROOT / d for d in ("forcefields", "systems", "analysis")
}
LAYERS = [  # a module may import its own layer and the ones before it
    ("solvation",),  # core: errors, quantities, design, constants, rundir, provenance, style
    ("solvation.forcefields", "solvation.systems", "solvation.analysis"),
    ("solvation.engine",),
    ("solvation.runs",),  # recipes: the analyses applied to run directories
    ("solvation.campaigns", "solvation.validation"),
    ("solvation.cli",),
]


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            if package == "solvation" and rel.parts[0] in ("forcefields", "systems", "analysis"):
                continue
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _layer(module: str) -> int:
    best = 0
    for k, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and p.count(".") >= 1:
                best = k
    return best


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    is_package = MODULES[module].name == "__init__.py"
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = [f"{target}.{a.name}" for a in node.names]
    return [n if n in MODULES else target for n in names]


def _trees(module: str) -> list[ast.Module]:
    """The module's syntax tree, and its ``__init__.pyi`` stub for a lazy package (the
    stub's imports are the package's names: they count as module-level imports)."""
    path = MODULES[module]
    stub = path.with_suffix(".pyi")
    return [ast.parse(p.read_text()) for p in (path, stub) if p.exists()]


def _imports(module: str) -> list[tuple[str, bool]]:
    """(imported solvation module, at module level?) of ``module``."""
    out = []
    for tree in _trees(module):
        out += _tree_imports(module, tree)
    return out


def _tree_imports(module: str, tree: ast.Module) -> list[tuple[str, bool]]:
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            targets = _resolve(module, node)
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in targets:
            if t.split(".")[0] == "solvation":
                out.append((t, id(node) in top))
    return out


def test_imports_follow_the_layers():
    wrong = [
        f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
        for m in MODULES
        for t, _ in _imports(m)
        if _layer(t) > _layer(m)
    ]
    assert not wrong, "\n".join(wrong)


def test_cell_kernels_are_private_to_the_neighbour_module():
    """Every analysis searches neighbours through ``analysis.neighbors`` (its per-frame
    query): only that module imports the cell kernels, and none calls MDAnalysis'
    ``capped_distance`` itself."""
    kernels = "solvation.analysis._cells"
    users = sorted({m for m in MODULES for t, _ in _imports(m) if t == kernels})
    assert users == ["solvation.analysis.neighbors"]
    direct = sorted(
        m
        for m, path in MODULES.items()
        if m.startswith("solvation.analysis.")
        and m != "solvation.analysis.neighbors"
        and re.search(r"capped_distance\(|import [^\n]*capped_distance", path.read_text())
    )
    assert not direct, f"call analysis.neighbors instead of capped_distance in {direct}"


def test_no_function_local_imports_of_our_modules():
    local = [
        f"{m} imports {t} inside a function" for m in MODULES for t, top in _imports(m) if not top
    ]
    assert not local, "\n".join(local)


def test_no_import_cycles():
    graph = {m: {t for t, top in _imports(m) if top and t in MODULES and t != m} for m in MODULES}
    for m in MODULES:  # a package imports its submodules; a submodule needs its package
        if "." in m and m.rsplit(".", 1)[0] in MODULES:
            graph[m].discard(m.rsplit(".", 1)[0])
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


# what the analysis library must not know: a run's build record, formulas, designs, recipes
BUILD_RECORD = {"BUILD_JSON", "BuildInfo", "read_build", "build_json"}
NOT_IMPORTED_BY_ANALYSIS = ("solvation.systems", "solvation.runs", "solvation.design")


def _analysis_knows_runs(module: str) -> list[str]:
    """What ``module`` imports from the formula, design and recipe layers, and every name
    of a run's build record it imports or uses (``read_build``, ``RunDir(...).build_json``)."""
    found = [f"imports {t}" for t, _ in _imports(module) if t.startswith(NOT_IMPORTED_BY_ANALYSIS)]
    for tree in _trees(module):
        for node in ast.walk(tree):
            if isinstance(node, ast.alias):
                name = node.name
            elif isinstance(node, ast.Attribute):
                name = node.attr
            else:
                name = getattr(node, "id", None)
            if name in BUILD_RECORD:
                found.append(f"uses {name}")
    return found


def test_analysis_knows_no_run_directory_record():
    """The analysis library reads trajectories, never a run's build record: no module of
    ``solvation.analysis`` imports ``read_build``/``BuildInfo``/``BUILD_JSON`` (or reads
    ``RunDir.build_json``), the formula parser of ``solvation.systems``, the design, or
    the recipes of ``solvation.runs`` that apply analyses to run directories; and only
    ``universe`` (which opens a run directory's topology and trajectory) touches
    ``solvation.rundir`` at all."""
    analysis = [m for m in MODULES if m.startswith("solvation.analysis")]
    wrong = [f"{m} {what}" for m in analysis for what in _analysis_knows_runs(m)]
    rundir_users = {m for m in analysis for t, _ in _imports(m) if t.startswith("solvation.rundir")}
    assert not wrong, "\n".join(wrong)
    assert rundir_users == {"solvation.analysis.universe"}
    assert not (ROOT / "analysis" / "recipes.py").exists()


LAZY_PACKAGES = [
    "solvation",
    "solvation.analysis",
    "solvation.campaigns",
    "solvation.engine",
    "solvation.forcefields",
    "solvation.runs",
    "solvation.systems",
    "solvation.validation",
]
# what start-up must not load (the list), and what an analysis verb must not
HEAVY = ("openmm", "MDAnalysis", "openff", "rdkit", "ase", "matplotlib", "numba", "pymbar")
HEAVY += ("pandas",)
NOT_IN_ANALYSIS = ("openmm", "openff", "rdkit", "ase", "matplotlib")


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_lazy_name_resolves(package):
    """Each name a lazy package lists resolves to a submodule or an attribute (a stub
    that names something its module lacks fails here, not in a user's session)."""
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package} lists {missing} but cannot load them"


def _modules_after(code: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter holds after ``code``."""
    report = "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run(
        [sys.executable, "-c", code + report], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _cli(args: list[str]) -> str:
    """Code that runs the command line with ``args`` in-process (exit swallowed)."""
    return (
        "from solvation.cli import app, run_cli\n"
        f"try:\n    run_cli(app, {args!r})\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\n"
    )


@pytest.mark.parametrize(
    "code",
    ["import solvation.cli", _cli(["--help"]), _cli(["--version"]), _cli(["run", "--help"])],
    ids=["import", "--help", "--version", "run --help"],
)
def test_start_up_loads_no_heavy_library(code):
    """``import solvation.cli``, ``solvation --help``/``--version`` and a verb's --help
    load none of the heavy libraries (each verb loads what it uses when it runs)."""
    loaded = _modules_after(code) & set(HEAVY)
    assert not loaded, f"start-up loaded {sorted(loaded)}"


def test_analysis_verbs_load_no_md_engine_or_plotting(tiny_run, tmp_path):
    """``analyze hbonds`` and ``analyze coordination`` of a run directory load neither
    OpenMM, openff, RDKit, ASE nor matplotlib; ``--plot`` loads matplotlib."""
    hb = ["analyze", "hbonds", str(tiny_run), "--json", str(tmp_path / "hb.json")]
    loaded = _modules_after(_cli(hb)) & set(NOT_IN_ANALYSIS)
    assert not loaded, f"analyze hbonds loaded {sorted(loaded)}"
    assert json.loads((tmp_path / "hb.json").read_text())["n_frames"] == 20
    plot = tmp_path / "cn.png"
    cn = ["analyze", "coordination", str(tiny_run), "--plot", str(plot)]
    loaded = _modules_after(_cli(cn)) & set(NOT_IN_ANALYSIS)
    assert loaded == {"matplotlib"} and plot.stat().st_size > 0


@pytest.mark.parametrize(
    "record,reader,expected",
    [
        ({"name": "x"}, read_build, "older version of solvation (schema 1"),
        ({"schema_version": 99}, read_build, "another version of solvation (schema 99"),
        ({"schema_version": 2, "protocol": {}, "colour": 1}, read_run, "colour"),
    ],
)
def test_records_of_another_version_are_refused(tmp_path, record, reader, expected):
    name = "build.json" if reader is read_build else "run.json"
    (tmp_path / name).write_text(json.dumps(record))
    with pytest.raises(RunDirError, match=expected.replace("(", r"\(")):
        reader(tmp_path)


def test_user_errors_are_one_line_and_bugs_show_a_traceback(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exc:
        run_cli(cli.app, ["run", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("error: ") and "Traceback" not in err

    def broken(*args, **kwargs):
        raise ValueError("an unexpected value inside an analysis")

    monkeypatch.setattr("solvation.analysis.rdf.RDF", broken)
    pdb = tmp_path / "two.pdb"
    pdb.write_text(
        "CRYST1   30.000   30.000   30.000  90.00  90.00  90.00 P 1           1\n"
        "HETATM    1 ZN    ZN A   1       1.000   1.000   1.000  1.00  0.00          ZN\n"
        "HETATM    2  O   HOH A   2       3.000   1.000   1.000  1.00  0.00           O\nEND\n"
    )
    with pytest.raises(SystemExit) as exc:
        run_cli(cli.app, ["analyze", "rdf", str(pdb), "--pair", "a=name ZN|name O"])
    err = capsys.readouterr().err
    assert exc.value.code == 1
    assert "Traceback" in err and "ValueError: an unexpected value" in err and "bug" in err


_PARAMETERS = re.compile(r"^\s*Parameters\s*\n\s*-{3,}\s*$", re.MULTILINE)
_ATTRIBUTES = re.compile(r"^\s*Attributes\s*\n\s*-{3,}\s*$", re.MULTILINE)


def _is_cli_command(node: ast.FunctionDef) -> bool:
    """A typer command or callback: its docstring is the ``--help`` text, so no numpydoc.
    Decorated with ``@app.command(...)``/``.callback()``, or registered elsewhere as
    ``app.command("name")(function)``: then its parameters are typer Options/Arguments."""
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Attribute) and target.attr in ("command", "callback"):
            return True
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    return any(
        a.annotation is not None
        and any(t in ast.unparse(a.annotation) for t in ("typer.Option", "typer.Argument"))
        for a in args
    )


def _is_record_class(node: ast.ClassDef) -> bool:
    """A dataclass or pydantic model: its fields may be documented as ``Attributes``."""
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return any(
        (isinstance(b, ast.Name) and b.id == "BaseModel")
        or (isinstance(b, ast.Attribute) and b.attr == "BaseModel")
        for b in node.bases
    )


def _parameters(node: ast.FunctionDef | ast.ClassDef) -> list[str]:
    """Named parameters of a function, or of a class's constructor (fields of a record)."""
    if isinstance(node, ast.ClassDef):
        init = next(
            (n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
            None,
        )
        if init is not None:
            return _parameters(init)
        if _is_record_class(node):
            return [
                n.target.id
                for n in node.body
                if isinstance(n, ast.AnnAssign)
                and isinstance(n.target, ast.Name)
                and "ClassVar" not in ast.unparse(n.annotation)
            ]
        return []
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return [n for n in names if n not in ("self", "cls")]


def _undocumented() -> list[str]:
    problems = []
    for module, path in sorted(MODULES.items()):
        tree = ast.parse(path.read_text())
        in_cli = module.startswith("solvation.cli")
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
            doc = ast.get_docstring(node)
            if not doc:
                problems.append(f"{where}: no docstring")
            elif _parameters(node) and not _PARAMETERS.search(doc):
                exempt = (
                    isinstance(node, ast.FunctionDef) and in_cli and _is_cli_command(node)
                ) or (
                    isinstance(node, ast.ClassDef)
                    and _is_record_class(node)
                    and _ATTRIBUTES.search(doc)
                )
                if not exempt:
                    problems.append(f"{where}: no Parameters section")
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (
                        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and not item.name.startswith("_")
                        and not ast.get_docstring(item)
                    ):
                        problems.append(
                            f"{path.relative_to(ROOT)}:{item.lineno} "
                            f"{node.name}.{item.name}: no docstring"
                        )
    return problems


def test_public_api_is_documented():
    """Every public function and class has a docstring; functions and classes that take
    parameters document them in a numpydoc ``Parameters`` section (records may use
    ``Attributes``; typer commands keep their ``--help`` text)."""
    problems = _undocumented()
    assert not problems, f"{len(problems)} undocumented:\n" + "\n".join(problems)


def _docstring_ids(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (of the module, classes and
    functions) or bare string statements (attribute docstrings)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


# a fixed name of rundir, or the stems of its numbered names: checkpoint-<step>.chk,
# stage-<name>.xml, trajectory.<format>
_RUN_FILE = re.compile(
    "|".join(
        [rf"(?<![\w.-]){re.escape(name)}(?!\w)" for name in rundir.FILE_NAMES]
        + [
            rf"(?<![\w-]){re.escape(rundir.CHECKPOINT_PREFIX)}",
            rf"^{re.escape(rundir.STAGE_PREFIX)}",
            rf"^{re.escape(rundir.TRAJECTORY_STEM)}\.$",
        ]
    )
)


def _run_file_literals(path: Path, label: str) -> list[str]:
    """'label:line text' of every string constant of ``path`` outside docstrings that
    names a run-directory file."""
    tree = ast.parse(path.read_text())
    docstrings = _docstring_ids(tree)
    return [
        f"{label}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _RUN_FILE.search(node.value)
    ]


def test_only_rundir_names_run_directory_files():
    """No module but ``solvation.rundir`` spells a file name of a run, build, PMF, window
    or campaign job directory in code: they use ``RunDir`` or the constants of
    ``solvation.rundir``. Every string constant counts, the constant parts of f-strings
    and messages too (a message names a file through the constant, so its text stays the
    same); docstrings and comments may name files (they describe, they do not address)."""
    found = [
        hit
        for module, path in sorted(MODULES.items())
        if module != "solvation.rundir"
        for hit in _run_file_literals(path, str(path.relative_to(ROOT)))
    ]
    assert not found, f"{len(found)} run-directory file names outside rundir:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "literal",
    [
        'p / "run.json"',
        'f"stage-{s}.xml"',
        'f"{d}/checkpoint-{n}.chk"',
        'f"trajectory.{fmt}"',
        '"no topology.pdb; rebuild"',
    ],
)
def test_run_directory_file_scan_sees_literals(tmp_path, literal):
    """The scan above finds a file name in code, in an f-string's parts and inside a
    message, and leaves a docstring that names one alone."""
    module = tmp_path / "m.py"
    module.write_text(f'"""Writes run.json and stage-npt.xml."""\n\nX = {literal}\n')
    hits = _run_file_literals(module, "m.py")
    assert len(hits) == 1 and hits[0].startswith("m.py:3 ")
