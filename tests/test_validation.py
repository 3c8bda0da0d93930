"""Validation harness: comparison arithmetic and units, reference checks, and the quick
suite's smallest case (pure TIP3P water) end to end."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import yaml

from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K
from solvation.design import parse_design
from solvation.engine.pair_umbrella import check_pair_design
from solvation.engine.umbrella import pmf_settings
from solvation.quantities import time_ps
from solvation.systems.composition import size_box
from solvation.validation import (
    Reference,
    ReferenceError_,
    compare,
    laliberte,
    load_references,
    pitzer,
    validate,
)
from solvation.validation.suite import (
    PROFILES,
    cases,
    combine_replicas,
    relative_viscosities,
    shear_acceleration,
)


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


def test_quick_suite_smallest_case(tmp_path, monkeypatch):
    """The quick profile's water case end to end (report files, quantities, a sane
    density), with 5 ps stages instead of 20 ps to fit CI."""
    short = {"equilibration": "5 ps", "production": "5 ps", "checkpoint_every": "5 ps"}
    quick = PROFILES["quick"]
    monkeypatch.setitem(PROFILES, "quick", replace(quick, protocol=quick.protocol | short))
    report = validate(tmp_path / "val", profile="quick", systems=("water",), platform="CPU")
    quantities = {c["quantity"] for c in report["comparisons"]}
    assert quantities == {"water_density", "water_self_diffusion", "hbonds_per_water"}
    density = next(c for c in report["comparisons"] if c["quantity"] == "water_density")
    assert 0.9 < density["simulated"] < 1.1
    for name in ("report.md", "report.html", "report.json", "water_density-water.png"):
        assert (tmp_path / "val" / name).exists(), name
    text = (tmp_path / "val" / "report.md").read_text()
    assert "QUICK profile" in text and "| tip3p |" in text and "Summary by model" in text
    assert json.loads((tmp_path / "val" / "report.json").read_text())["profile"] == "quick"


@pytest.mark.parametrize(
    "molality,phi,a_w",
    [(0.5, 0.483, 0.9913), (1.0, 0.478, 0.9829), (2.0, 0.608, 0.9572)],
)
def test_pitzer_znso4_osmotic_coefficient_and_water_activity(molality, phi, a_w):
    """The public references of the osmotic row: Pitzer & Mayorga's ZnSO4 parameters give
    phi = 0.483, 0.478, 0.608 and a_w = 0.9913, 0.9829, 0.9572 at 0.5, 1, 2 m."""
    assert pitzer.osmotic_coefficient(pitzer.ZNSO4, molality) == pytest.approx(phi, abs=6e-4)
    assert pitzer.water_activity(pitzer.ZNSO4, molality) == pytest.approx(a_w, abs=6e-5)


def test_pitzer_limits():
    """Debye-Hueckel limit: phi -> 1 - |z+z-| A_phi sqrt(I) as m -> 0 (I = 4 m for 2:2)."""
    m = 1e-8
    limit = 1 - 4 * pitzer.A_PHI_298K * math.sqrt(4 * m)
    assert pitzer.osmotic_coefficient(pitzer.ZNSO4, m) == pytest.approx(limit, abs=1e-6)


def test_shipped_references_match_pitzer_and_density_sources():
    refs = {(r.system, r.quantity): r for r in load_references()}
    phi = refs[("znso4_1m", "osmotic_coefficient")]
    assert phi.value == pytest.approx(pitzer.osmotic_coefficient(pitzer.ZNSO4, 1.0), abs=1e-3)
    for system in ("znso4_0.5m", "znso4_1m", "znso4_2m"):
        assert refs[(system, "solution_density")].unit == "g/cm3"
        assert refs[(system, "zn_o_first_peak")].value == 2.09
    assert refs[("znso4_2m", "cip_fraction")].value < 0.5  # contact pairs a minority


def test_replicas_combine_spread_and_within_errors():
    mean, err = combine_replicas([1.0, 2.0, 3.0], [0.01, 0.01, 0.01])
    assert mean == 2.0 and err == pytest.approx(1.0 / math.sqrt(3))  # spread dominates
    mean, err = combine_replicas([1.0, 1.0], [0.3, 0.4])
    assert err == pytest.approx(0.5 / 2)  # within-run errors dominate
    _, err = combine_replicas([0.3], [float("nan")])
    assert math.isnan(err)  # an unknown error stays unknown
    # two replicas 0.15 and 0.20 apart, one of them unconverged (as the full family's 2 m
    # contact-pair fraction once came out): unknown, not the spread's 0.025
    mean, err = combine_replicas([0.15, 0.20], [float("nan"), 0.0005])
    assert mean == pytest.approx(0.175) and math.isnan(err)


def test_profiles_cover_the_znso4_rows():
    """The cpu and gpu profiles hold the ZnSO4 rows of both model families: density at
    0.5, 1, 2 m (NPT production of at least 200 ps), CIP at 2 m over 3 replicas, and the
    osmotic coefficient at 1 m."""
    for name in ("cpu", "gpu"):
        profile = PROFILES[name]
        todo = cases(profile, ("solutions", "osmotic"))
        for family in ("full", "scaled"):
            mine = [c for c in todo if c.model == family]
            systems = {c.system for c in mine if c.measure == "solution"}
            assert {"znso4_0.5m", "znso4_1m", "znso4_2m"} <= systems
            assert sum(c.system == "znso4_2m" for c in mine if c.measure == "solution") == 3
            assert any(c.measure == "osmotic" and c.system == "znso4_1m" for c in mine)
        npt = profile.solution_protocol
        assert npt["ensemble"] == "NPT" and time_ps(npt["production"]) >= 200
        for case in todo:
            parse_design(case.design)


def test_finished_only_runs_nothing_and_lists_the_missing_cases(tmp_path):
    report = validate(
        tmp_path, profile="cpu", systems=("solutions",), finished_only=True, only=("*-r0",)
    )
    assert report["comparisons"] == [] and report["measurements"] == []
    names = [c.design["name"] for c in cases(PROFILES["cpu"], ("solutions",))]
    assert sorted(report["not_run"]) == sorted(n for n in names if n.endswith("-r0"))
    assert not any((tmp_path / "runs").iterdir())  # nothing was built
    text = (tmp_path / "report.md").read_text()
    assert "Not run" in text and "znso4_2m-scaled-r0" in text


def test_case_patterns_that_match_nothing_are_refused(tmp_path):
    with pytest.raises(ReferenceError_, match="no case of profile cpu matches zn_typo"):
        validate(tmp_path, profile="cpu", systems=("solutions",), only=("zn_typo",))


def test_a_value_without_a_finite_error_never_passes():
    ref = Reference("zn_first_shell_cn", "znso4_1m", 6.0, 1.0, "1", "298 K", "X-ray")
    unconverged = compare("zn_first_shell_cn", "full", 6.0, math.inf, ref)
    assert math.isnan(unconverged.deviation_sigma) and not unconverged.passed
    assert compare("zn_first_shell_cn", "full", 6.0, 0.1, ref).passed


def test_pairing_rows_fit_the_bjerrum_distance_in_their_boxes():
    """The ZnSO4 pair rows (one Zn2+, one SO4^2-) of every profile that has them: both
    families, each box large enough that the Bjerrum distance of the model (eps_r of its
    water, its charges) plus the tail lies within half the estimated box edge, and the
    reference is the NIST 46 overall association constant (log10 K = 2.34)."""
    refs = {(r.system, r.quantity): r for r in load_references()}
    assert refs[("znso4_dilute", "log10_ka")].value == 2.34
    for name in ("cpu", "gpu", "full"):
        todo = cases(PROFILES[name], ("pairing",))
        assert sorted(c.model for c in todo) == ["full", "scaled"]
        for case in todo:
            design = parse_design(case.design)
            comp = size_box(design)
            assert comp.counts["Zn2+"] == 1 and comp.counts["SO4"] == 1
            check_pair_design(design, pmf_settings(design.pmf), comp)  # raises if too small
            outer = pmf_settings(design.pmf)
            inner = pmf_settings(design.pmf, **case.pmf_inner)  # the stiffer contact set
            check_pair_design(design, inner, comp)
            kt = GAS_CONSTANT_KJ_PER_MOL_K * 298.15
            assert inner.force_constant >= 10 * 4 * kt / outer.spacing_nm**2
            assert inner.spacing_nm == outer.spacing_nm / 2 and inner.end < inner.start < 0.45
            assert (inner.equilibration_ps, inner.window_ps) == (
                outer.equilibration_ps,
                outer.window_ps,
            )
    assert cases(PROFILES["quick"], ("pairing",)) == []


def test_laliberte_zinc_sulfate_viscosity_reference():
    """Laliberte's equations: pure water at 25 C within 0.1% of IAPWS (0.8900 mPa s); the
    ZnSO4 solution tends to water as m -> 0 and thickens with m; the shipped 1 m rows are
    the model's values with its 3.7% standard deviation."""
    assert laliberte.water_viscosity_mPa_s(25.0) == pytest.approx(0.8900, rel=1e-3)
    assert laliberte.relative_viscosity(laliberte.ZNSO4, 1e-6) == pytest.approx(1.0, abs=1e-4)
    ratios = [laliberte.relative_viscosity(laliberte.ZNSO4, m) for m in (0.5, 1.0, 2.0)]
    assert ratios == sorted(ratios) and ratios[0] > 1.0
    refs = {(r.system, r.quantity): r for r in load_references()}
    eta = refs[("znso4_1m", "shear_viscosity")]
    rel = refs[("znso4_1m", "relative_viscosity")]
    assert eta.value == pytest.approx(laliberte.viscosity_mPa_s(laliberte.ZNSO4, 1.0), abs=5e-4)
    assert rel.value == pytest.approx(ratios[1], abs=5e-4)
    for ref in (eta, rel):
        assert ref.uncertainty == pytest.approx(laliberte.MODEL_RELATIVE_SD * ref.value, abs=1e-3)
    assert refs[("water", "shear_viscosity")].value == 0.890
    assert laliberte.water_density_kg_per_m3(25.0) == pytest.approx(997.05, abs=0.01)
    for m in (0.5, 1, 2):  # the density rows come from the same paper's equations
        density = laliberte.density_g_per_cm3("ZnSO4", m)
        assert refs[(f"znso4_{m:g}m", "solution_density")].value == pytest.approx(density, abs=6e-5)


def test_relative_viscosity_rows_divide_by_the_same_models_water():
    rows = [
        {
            "system": "water",
            "model": "a",
            "quantity": "shear_viscosity",
            "value_si": 1e-3,
            "err_si": 1e-5,
            "replicas": 1,
        },
        {
            "system": "znso4_1m",
            "model": "a",
            "quantity": "shear_viscosity",
            "value_si": 2e-3,
            "err_si": 4e-5,
            "replicas": 1,
        },
        {
            "system": "znso4_1m",
            "model": "b",
            "quantity": "shear_viscosity",
            "value_si": 3e-3,
            "err_si": 1e-5,
            "replicas": 1,
        },
        {
            "system": "water",
            "model": "c",
            "quantity": "shear_viscosity",
            "value_si": 1e-3,
            "err_si": float("nan"),
            "replicas": 1,
        },
        {
            "system": "znso4_1m",
            "model": "c",
            "quantity": "shear_viscosity",
            "value_si": 2e-3,
            "err_si": 1e-5,
            "replicas": 1,
        },
    ]
    out = {r["model"]: r for r in relative_viscosities(rows)}
    assert set(out) == {"a", "c"}  # b has no water row
    assert out["a"]["value_si"] == pytest.approx(2.0)
    assert out["a"]["err_si"] == pytest.approx(2.0 * math.hypot(0.01, 0.02))
    assert math.isnan(out["c"]["err_si"])  # an unknown error stays unknown


def test_shear_acceleration_gives_the_requested_shear_rate(tiny_run):
    """A from the run's NPT box and density: the predicted flow V = rho A / (eta k^2) has
    shear rate V k equal to the one asked for (to A's two significant digits)."""
    from solvation.forcefields import water_viscosity
    from solvation.rundir import read_build, read_run

    settings = {"shear_rate_per_ps": 0.05, "relative_to_water": 1.9}
    a = shear_acceleration(tiny_run, settings)
    info = read_run(tiny_run)
    eta = water_viscosity(read_build(tiny_run).water_model).eta_mPa_s * 1e-3 * 1.9
    k = 2 * math.pi / info.npt_volume_nm3 ** (1 / 3)
    v = 1e-6 * info.density_g_per_cm3 * 1000 * a / (eta * k**2)
    assert v * k == pytest.approx(0.05, rel=0.05)


def test_cpu_profile_has_family_water_and_viscosity_rows():
    todo = cases(PROFILES["cpu"], ("water", "solutions"))
    water = [c for c in todo if c.system == "water"]
    assert sorted(c.model for c in water) == ["full", "scaled"]
    assert all(c.viscosity and c.viscosity["relative_to_water"] == 1.0 for c in water)
    viscous = [c.design["name"] for c in todo if c.viscosity and c.system != "water"]
    assert sorted(viscous) == ["znso4_1m-full-r0", "znso4_1m-scaled-r0"]
    full = next(c for c in water if c.model == "full").design
    assert full["forcefield"]["family"] == "full" and full["water"]["model"] == "tip3p"
