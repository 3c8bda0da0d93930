"""Package layout: imports go one way between layers, no import cycles, no hidden
function-local imports of our own modules; run-directory records are versioned; only
user errors print as one line."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import solvation.cli as cli
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


def _imports(module: str) -> list[tuple[str, bool]]:
    """(imported solvation module, at module level?) of ``module``."""
    tree = ast.parse(MODULES[module].read_text())
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

    monkeypatch.setattr("solvation.cli.analyze.RDF", broken)
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
