"""MkDocs hook: the API reference reads the source as it is installed. The distribution
maps solvation.analysis, .forcefields and .systems onto the top-level folders analysis/,
forcefields/ and systems/ (setuptools package-dir), which a static reader of solvation/
does not see; this hook lays out build/docs-src/solvation as links to solvation/'s
entries plus those three folders, and mkdocstrings reads from there."""

from __future__ import annotations

import shutil
from pathlib import Path

MAPPED = ("analysis", "forcefields", "systems")


def on_config(config, **kwargs):
    root = Path(config["config_file_path"]).parent
    tree = root / "build" / "docs-src" / "solvation"
    if tree.parent.exists():
        shutil.rmtree(tree.parent)
    tree.mkdir(parents=True)
    for entry in (root / "solvation").iterdir():
        if entry.name != "__pycache__":
            (tree / entry.name).symlink_to(entry.resolve())
    for name in MAPPED:
        (tree / name).symlink_to((root / name).resolve())
    return config
