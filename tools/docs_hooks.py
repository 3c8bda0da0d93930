"""MkDocs hook: the API reference reads the source as it is installed. The distribution
maps solvation.analysis, .forcefields and .systems onto the top-level folders analysis/,
forcefields/ and systems/ (setuptools package-dir), which a static reader of solvation/
does not see; this hook lays out build/docs-src/solvation as links to solvation/'s
entries plus those three folders, and mkdocstrings reads from there.

The tree is laid out at start-up, before any plugin's config event: mkdocstrings keeps
only the search paths that exist when its own config event runs, so a tree made later
(in a hook's on_config, which runs after the plugins') is missed on a fresh checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

MAPPED = ("analysis", "forcefields", "systems")


ROOT = Path(__file__).resolve().parent.parent


def on_startup(command, dirty, **kwargs):
    """Lay out build/docs-src/solvation (links) before mkdocstrings reads its paths."""
    lay_out(ROOT)


def lay_out(root: Path) -> None:
    """Replace ``root``/build/docs-src with links to the installed package layout."""
    tree = root / "build" / "docs-src" / "solvation"
    if tree.parent.exists():
        shutil.rmtree(tree.parent)
    tree.mkdir(parents=True)
    for entry in (root / "solvation").iterdir():
        if entry.name != "__pycache__":
            (tree / entry.name).symlink_to(entry.resolve())
    for name in MAPPED:
        (tree / name).symlink_to((root / name).resolve())
