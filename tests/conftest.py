"""Shared fixtures: an isolated parameter cache and small topologies built from templates."""

from __future__ import annotations

import numpy as np
import pytest

from solvation.systems.templates import (
    assemble,
    ion_template,
    library_template,
    smiles_template,
    water_template,
)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session shares one cache directory, never the user's."""
    root = tmp_path_factory.getbasetemp() / "param-cache"
    monkeypatch.setenv("SOLVATION_CACHE", str(root))
    return root


def spread(templates, spacing=6.0, box_nm=4.0):
    """Place one copy of each template on a line, ``spacing`` A apart; topology + positions."""
    placed = [
        (t, t.xyz_angstrom + np.array([spacing * k + 3.0, 20.0, 20.0]))
        for k, t in enumerate(templates)
    ]
    return assemble(placed, np.eye(3) * box_nm)


@pytest.fixture
def make_topology():
    return spread


__all__ = ["ion_template", "library_template", "smiles_template", "water_template"]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A short real run: 1 m ZnCl2 in the default model family, 2 ps production, 20 frames."""
    from solvation.design import parse_design
    from solvation.engine import run
    from solvation.systems import build

    design = parse_design(
        {
            "name": "tiny-analysis",
            "box": {"n_water": 330},
            "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
        }
    )
    built = build(design, tmp_path_factory.mktemp("run") / "tiny")
    run(built.path, platform="CPU", production="2 ps", equilibration="1 ps", report_every="0.1 ps")
    return built.path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A real one-node SLURM for this session (tools/slurm_localhost.sh: installs slurm-wlm
    and munge from Debian's packages when missing, starts munged, slurmctld and slurmd,
    waits for the node to be idle); SLURM_CONF points at it; torn down at the end.

    Skipped, with the script's reason, only where SLURM cannot start (not root, no
    apt-get); under CI (CI set) that is a failure instead, so CI always runs these."""
    import os
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "tools" / "slurm_localhost.sh"
    root = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "SLURMCTLD_PORT": str(_free_port()), "SLURMD_PORT": str(_free_port())}
    start = subprocess.run(
        ["bash", str(script), "start", str(root)], env=env, capture_output=True, text=True
    )
    if start.returncode != 0:
        subprocess.run(["bash", str(script), "stop", str(root)], env=env, capture_output=True)
        why = (start.stderr.strip() or start.stdout.strip()).splitlines()[-1:]
        message = f"SLURM could not start here: {' '.join(why)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(root / "slurm.conf")
    try:
        yield root
    finally:
        subprocess.run(["bash", str(script), "stop", str(root)], env=env, capture_output=True)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
