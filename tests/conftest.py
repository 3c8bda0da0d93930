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
