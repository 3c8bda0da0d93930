"""Validation harness: comparison arithmetic and units, reference checks, and the quick
suite's smallest case (pure TIP3P water) end to end."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from solvation.validation import Reference, ReferenceError_, compare, load_references, validate


def test_shipped_references_load_with_citations():
    refs = load_references()
    assert {r.quantity for r in refs} >= {
        "zn_o_first_peak",
        "zn_first_shell_cn",
        "water_density",
        "water_self_diffusion",
    }
    assert all(r.citation and r.conditions for r in refs)
    density = next(r for r in refs if r.quantity == "water_density")
    assert (density.value, density.unit) == (0.997, "g/cm3")


def test_deviation_in_combined_uncertainty_and_units():
    ref = Reference("water_density", "water", 0.997, 0.001, "g/cm3", "298 K", "CRC")
    c = compare("water_density", "tip3p", 0.995, 0.001, ref)
    assert c.deviation_sigma == pytest.approx(-0.002 / math.hypot(0.001, 0.001))
    assert c.passed
    in_kg = Reference("water_density", "water", 997.0, 1.0, "kg/m3", "298 K", "CRC")
    c_kg = compare("water_density", "tip3p", 0.995, 0.001, in_kg)
    assert c_kg.simulated == pytest.approx(995.0) and c_kg.deviation_sigma == pytest.approx(
        c.deviation_sigma
    )
    d = Reference("water_self_diffusion", "water", 2.299, 0.01, "1e-9 m2/s", "298 K", "Mills")
    far = compare("water_self_diffusion", "tip3p", 5.5e-9, 0.1e-9, d)
    assert far.simulated == pytest.approx(5.5) and not far.passed
    assert far.deviation_sigma == pytest.approx((5.5 - 2.299) / math.hypot(0.1, 0.01))


@pytest.mark.parametrize(
    "entry,message",
    [
        ({"unit": "angstrom"}, "is a density, but unit 'angstrom' is a length"),
        ({"unit": "furlong"}, "unknown unit"),
        ({"citation": ""}, "missing citation"),
        ({"quantity": "happiness"}, "unknown quantity"),
    ],
)
def test_bad_reference_files_are_refused(tmp_path, entry, message):
    good = {
        "quantity": "water_density",
        "system": "water",
        "value": 1.0,
        "uncertainty": 0.01,
        "unit": "g/cm3",
        "conditions": "298 K",
        "citation": "mine",
    }
    path = tmp_path / "ref.yaml"
    path.write_text(yaml.safe_dump([{**good, **entry}]))
    with pytest.raises(ReferenceError_, match=message):
        load_references([path])


def test_quick_suite_smallest_case(tmp_path):
    report = validate(tmp_path / "val", quick=True, systems=("water",), platform="CPU")
    quantities = {c["quantity"] for c in report["comparisons"]}
    assert quantities == {"water_density", "water_self_diffusion", "hbonds_per_water"}
    density = next(c for c in report["comparisons"] if c["quantity"] == "water_density")
    assert 0.9 < density["simulated"] < 1.1
    for name in ("report.md", "report.html", "report.json", "water_density.png"):
        assert (tmp_path / "val" / name).exists(), name
    text = (tmp_path / "val" / "report.md").read_text()
    assert "QUICK suite" in text and "| tip3p |" in text
    assert json.loads((tmp_path / "val" / "report.json").read_text())["quick"] is True
