"""The documentation site builds with `mkdocs build --strict` (every page in the nav, every
link and API reference resolved, no warning), and the tutorial notebook runs from top to
bottom (nbmake: build two designs, run a few ps, analyse, plot, rank)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorials" / "first-screen.ipynb"


def test_site_builds_strict_with_the_api_reference(tmp_path):
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    print(f"mkdocs build --strict: {time.perf_counter() - start:.1f} s")
    assert out.returncode == 0, out.stderr[-3000:]
    site = tmp_path / "site"
    for page in ("getting-started", "concepts", "cluster", "cite", "model-families"):
        assert (site / page / "index.html").exists(), page
    for verb in ("forcefields", "build", "run", "analyze", "pmf", "campaigns", "validate"):
        assert (site / "howto" / verb / "index.html").exists(), verb
    api = (site / "api" / "campaigns" / "index.html").read_text()
    assert 'id="solvation.campaigns.slurm.check_options"' in api  # from the docstrings
    analysis = (site / "api" / "analysis" / "index.html").read_text()
    assert 'id="solvation.analysis.RDF"' in analysis  # a package-dir mapped package
    assert (site / "tutorials" / NOTEBOOK.name).exists()


def test_tutorial_notebook_runs(tmp_path):
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbmake",
            "--nbmake-timeout=1200",
            str(NOTEBOOK),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    print(f"tutorial notebook: {time.perf_counter() - start:.1f} s")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout
