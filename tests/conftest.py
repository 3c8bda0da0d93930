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
