"""What a user meets on the command line (issue 30): -v debug lines, --plot on every
analysis with a natural figure (MSD log-log with its fit window and error), the run's own
species as the conductivity default, one notice when the kernels compile, one line when
AM1-BCC cannot charge a molecule, ``.results`` as the one way to a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest
import tomli_w

import solvation.analysis.threads as threads
from solvation.analysis import RDF, Transport, load_universe
from solvation.analysis.plots import plot_msd
from solvation.cli import app, run_cli
from solvation.console import configure_logging
from solvation.rundir import read_build


def _cli(args, capsys):
    """Run the command line in process; (exit status, stdout, stderr)."""
    capsys.readouterr()
    try:
        run_cli(app, [str(a) for a in args])
        status = 0
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_verbose_prints_debug_messages(tiny_run, capsys):
    args = ["analyze", "rdf", tiny_run, "--pair", "zn=resname ZN|resname HOH and name O"]
    status, _, err = _cli([*args, "--stop", "2"], capsys)
    assert status == 0 and "opened" not in err
    status, _, err = _cli(["-v", *args, "--stop", "2"], capsys)
    atoms = f"{read_build(tiny_run).n_atoms} atoms"
    assert status == 0 and f"opened {tiny_run}/topology.pdb" in err and atoms in err
    configure_logging(0)  # back to the default for the tests after this one


@pytest.mark.parametrize(
    "verb,extra",
    [
        ("diffusion", []),
        ("conductivity", []),
        ("hbonds", []),
        ("pairing", ["--anion", "Cl-"]),
        ("water-activity", ["--method", "free-water"]),
    ],
)
def test_plot_on_every_analysis_with_a_figure(verb, extra, tiny_run, tmp_path, capsys):
    png = tmp_path / f"{verb}.png"
    status, out, err = _cli(["analyze", verb, tiny_run, *extra, "--plot", png], capsys)
    assert status == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_conductivity_takes_the_species_of_the_run(tiny_run, tmp_path, capsys):
    """Like coordination, conductivity of a run directory needs no --species: every
    species of the run, with the charges of its system.xml."""
    js = tmp_path / "c.json"
    status, out, err = _cli(["analyze", "conductivity", tiny_run, "--json", js], capsys)
    assert status == 0, err
    data = json.loads(js.read_text())
    assert set(data["species"]) == {"water", "Zn2+", "Cl-"}
    scale = read_build(tiny_run).charge_scale  # the family's (scaled: 0.85)
    assert data["provenance"]["parameters"]["charges_e"] == pytest.approx(
        {"water": 0.0, "Zn2+": 2.0 * scale, "Cl-": -1.0 * scale}
    )
    assert data["sigma_NE_S_per_m"] > 0 and "sigma (Einstein-Helfand)" in out


@pytest.mark.parametrize("dims", ["xyz", "xy"])
def test_msd_figure_is_log_log_with_fit_window_and_error(dims, tiny_run, tmp_path):
    u = load_universe(tiny_run)
    result = Transport(u, {"water": "resname HOH"}, dimensions=dims).run().results.transport
    fig = plot_msd(result, tmp_path / "msd.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    d = result.species["water"]
    lo, hi = d.fit_window_ps
    spans = [p for p in ax.patches if p.get_x() == pytest.approx(lo)]
    assert spans and spans[0].get_width() == pytest.approx(hi - lo)  # the fit window
    label = ax.get_legend().get_texts()[0].get_text()
    assert f"D = {d.D_m2_per_s:.3g}" in label and f"± {d.D_err_m2_per_s:.2g}" in label
    fitted = [line for line in ax.lines if line.get_linestyle() == "--"][0]
    t, msd = fitted.get_data()
    slope = (msd[-1] - msd[0]) / (t[-1] - t[0])  # A^2/ps of the drawn line: 2 n D
    assert slope == pytest.approx(2 * len(dims) * d.D_m2_per_s * 1e8, rel=1e-9)


def test_first_compilation_is_announced_once(caplog, monkeypatch):
    """numba fires ``numba:compile`` only when it compiles (a cache miss); the listener
    says so once, for our kernels only."""
    import numba

    monkeypatch.setattr(threads.FIRST_COMPILE, "noticed", False)
    configure_logging(0)
    messages = []
    monkeypatch.setattr(threads.LOGGER, "info", lambda msg, *a: messages.append(msg % a))

    def theirs(x):
        return x + 1

    numba.njit(theirs)(1)
    assert messages == []  # not one of ours

    def ours(x):
        return x * 2

    ours.__module__ = "solvation.analysis.example"
    kernel = numba.njit(ours)
    kernel(1)
    kernel(2.0)  # a second signature compiles again: no second notice
    assert len(messages) == 1 and "compiling the analysis kernels" in messages[0]


def test_cold_cache_notice_in_a_fresh_process(tmp_path):
    """With an empty numba cache the first use prints the notice; the second run loads
    the kernel from the cache and prints nothing."""
    code = (
        "import numpy as np\n"
        "from solvation.console import configure_logging\n"
        "configure_logging(0)\n"
        "from solvation.analysis import _cells as cells\n"
        "cells._wrap(np.zeros((2, 3)), np.ones(3))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert "compiling the analysis kernels" in runs[0].stderr
    assert "compiling" not in runs[1].stderr


def test_result_is_deprecated_for_results(tiny_run):
    u = load_universe(tiny_run)
    rdf = RDF(u, {"zn": ("resname ZN", "resname HOH and name O")}, rmax=6.0).run(stop=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = rdf.results.rdf  # the MDAnalysis way: no warning
    with pytest.warns(DeprecationWarning, match=r"use \.results\.rdf"):
        assert rdf.result is kept


def test_am1bcc_failure_is_one_line_without_toolkit_chatter(tmp_path, capfd):
    """Boric acid: sqm has no AM1 boron. One line names the species, sqm's reason and
    what to do; antechamber's 'Fatal Error!' banner and openff's toolkit list stay off
    the terminal (file descriptor 2 included)."""
    design = {
        "name": "boric",
        "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
        "additives": [{"smiles": "OB(O)O", "concentration": "100 mM"}],
        "box": {"n_water": 330},
    }
    path = tmp_path / "d.toml"
    path.write_text(tomli_w.dumps(design))
    capfd.readouterr()
    with pytest.raises(SystemExit) as exc:
        run_cli(app, ["build", str(path), "-o", str(tmp_path / "out")])
    out, err = capfd.readouterr()
    assert exc.value.code == 2
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: additive 'OB(O)O' (gaff2-am1bcc): AM1-BCC charges")
    assert "no AM1 parameters for B (atomic number 5)" in lines[0]
    assert "leave this molecule out" in lines[0]
    assert not (tmp_path / "out").exists()
