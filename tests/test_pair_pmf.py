"""Pair PMF: the Jacobian (a non-interacting pair has a flat W), a pair with a known W
(Lennard-Jones + screened Coulomb in a continuum) recovered absolutely through the
Coulomb-tail match, K_A against closed forms, the contact / solvent-shared states, the
model's constants against their sources, and the command line end to end on a tiny box."""

from __future__ import annotations

import json
import math

import numpy as np
import openmm
import openmm.unit as u
import pytest
import tomli_w
from scipy.integrate import quad

from solvation.analysis.pair_pmf import (
    PairModel,
    PairSeriesResult,
    pair_pmf_result,
    pair_states,
)
from solvation.analysis.pairing import (
    association_constant_l_per_mol,
    bjerrum_distance_nm,
    coulomb_kj_mol_nm,
)
from solvation.campaigns import make_figures, rank_directory, run_campaign
from solvation.cli import app, run_cli
from solvation.constants import AVOGADRO_PER_MOL, GAS_CONSTANT_KJ_PER_MOL_K
from solvation.engine.pair_umbrella import (
    _bonded,
    contact_distance_nm,
    reference_atom,
    resolve_species,
)
from solvation.engine.umbrella import UmbrellaError
from solvation.forcefields import water_dielectric
from solvation.rundir import read_umbrella, read_window
from solvation.systems.templates import ion_template, library_template

T = 298.15
KT = GAS_CONSTANT_KJ_PER_MOL_K * T
NM3_L = 1e-24


def _sample_pair(energy: str, params: dict, centres, k: float, n=400, every=25, seed=3):
    """Two particles (20 amu) with pair energy ``energy`` (r in nm) plus the umbrella
    restraint k/2 (r - r0)^2, no periodic box, Langevin dynamics on the Reference
    platform; per window the distance every ``every`` steps, as window series."""
    system = openmm.System()
    for _ in range(2):
        system.addParticle(20.0)
    force = openmm.CustomBondForce(f"{energy} + 0.5*k*(r-r0)^2")
    for name, value in {**params, "k": k, "r0": 0.0}.items():
        force.addGlobalParameter(name, value)
    force.addBond(0, 1, [])
    system.addForce(force)
    integrator = openmm.LangevinMiddleIntegrator(T, 5.0, 0.002)
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    out = []
    for c in centres:
        context.setParameter("r0", c)
        context.setPositions([openmm.Vec3(0, 0, 0), openmm.Vec3(c, 0, 0)] * u.nanometer)
        context.setVelocitiesToTemperature(T, seed)
        integrator.step(1000)
        r = []
        for _ in range(n):
            integrator.step(every)
            x = context.getState(getPositions=True).getPositions(asNumpy=True)._value
            r.append(float(np.linalg.norm(x[1] - x[0])))
        r = np.array(r)
        zeros = np.zeros_like(r)
        out.append(PairSeriesResult(np.arange(n) * every * 0.002, r, zeros, zeros))
    return out


def _exact_bin_w(energy, lo, hi):
    """-kT ln[int_bin r^2 exp(-U/kT) dr / ((hi^3 - lo^3)/3)]: the bin-wise W of U."""
    z = quad(lambda r: r * r * math.exp(-energy(r) / KT), lo, hi)[0]
    return -KT * math.log(z / ((hi**3 - lo**3) / 3.0))


def test_non_interacting_pair_has_a_flat_w():
    """Without any interaction W(r) is flat: the histogram free energy alone rises as
    -2 kT ln r (1.7 kT over this path), so a Jacobian left in, or removed twice, fails.
    Its K_A is the volume of the sampled shell, 4 pi N_A (R^3 - r_lo^3) / 3."""
    spacing = 0.05
    centres = np.round(np.arange(0.3, 0.7 + 1e-9, spacing), 6)
    k = 4.0 * KT / spacing**2
    series = _sample_pair("0", {}, centres, k)
    model = PairModel("A", "B", (0.0, 0.0), 78.4, 0.65, T)
    result = pair_pmf_result(
        series, list(centres), [k] * len(centres), model, spacing / 2, n_bootstrap=20
    )
    w, dw = result.w_kj_per_mol, result.w_err_kj_per_mol
    inner = result.r_nm < 0.68  # the outermost bins hold few samples
    assert np.all(np.isfinite(dw[inner])) and np.all(dw[inner] > 0)
    assert np.all(np.abs(w[inner]) <= 4.0 * dw[inner] + 0.1 * KT), (w, dw)
    lo = result.r_nm[0] - spacing / 4
    exact = 4 * math.pi * AVOGADRO_PER_MOL * (0.65**3 - lo**3) / 3 * NM3_L
    assert abs(result.log10_k_a - math.log10(exact)) <= 4 * result.log10_k_a_err + 0.01
    assert not result.converged and "no bin with the partner" in " ".join(result.warnings)


def test_windows_within_one_bin_get_narrower_bins_and_say_so():
    """Windows that all stay within one 0.05 nm bin (a few ps that never left contact)
    still give a profile: the bins narrow to span the samples in four, and the result
    says so and is not converged."""
    centres = [0.40, 0.41, 0.42]
    k = 4.0 * KT / 0.01**2
    series = _sample_pair("0", {}, centres, k, n=200)
    model = PairModel("A", "B", (0.0, 0.0), 78.4, 0.65, T)
    result = pair_pmf_result(series, centres, [k] * 3, model, 0.05, n_bootstrap=5)
    assert len(result.r_nm) >= 3 and np.all(np.diff(result.r_nm) < 0.05)
    assert any("bins narrowed from 0.050" in w for w in result.warnings), result.warnings
    assert not result.converged


def test_lj_coulomb_pair_in_a_continuum_recovers_w_absolutely():
    """A +2/-2 Lennard-Jones pair in a continuum of eps_r 160: the PMF along r is the
    pair energy U(r) itself. The Coulomb-tail match fixes W's zero, so W must equal U
    bin by bin (not up to a constant) within its bootstrap errors, and log10 K_A the
    integral of the exact U up to the Bjerrum distance (0.70 nm)."""
    eps_r, s, eps = 160.0, 0.3, 1.0
    c = coulomb_kj_mol_nm(eps_r) * -4.0

    def energy(r):
        return 4 * eps * ((s / r) ** 12 - (s / r) ** 6) + c / r

    spacing = 0.05
    centres = np.round(np.arange(0.3, 0.8 + 1e-9, spacing), 6)
    k = 4.0 * KT / spacing**2
    expr = "4*eps*((s/r)^12-(s/r)^6) + c/r"
    series = _sample_pair(expr, {"eps": eps, "s": s, "c": c}, centres, k)
    boundary = bjerrum_distance_nm(2, -2, eps_r, T)
    model = PairModel("A2+", "B2-", (2.0, -2.0), eps_r, boundary, T)
    width = spacing / 2
    result = pair_pmf_result(
        series, list(centres), [k] * len(centres), model, width, n_bootstrap=30
    )
    exact = np.array([_exact_bin_w(energy, r - width / 2, r + width / 2) for r in result.r_nm])
    w, dw = result.w_kj_per_mol, result.w_err_kj_per_mol
    well = result.r_nm < 0.78  # the outermost bins hold few samples
    assert np.all(np.abs(w - exact)[well] <= 4.0 * dw[well] + 0.15 * KT), (w - exact, dw)
    assert exact.min() < -10.0  # the test is not trivial: a 4 kT deep contact well
    k_exact = (
        4
        * math.pi
        * AVOGADRO_PER_MOL
        * NM3_L
        * quad(lambda r: r * r * math.exp(-energy(r) / KT), 0.25, boundary, limit=200)[0]
    )
    assert abs(result.log10_k_a - math.log10(k_exact)) <= 4 * result.log10_k_a_err + 0.02
    assert result.log10_k_a_err > 0


def test_stiffer_windows_added_at_a_wall_join_the_mbar():
    """A pair with a harmonic wall below 0.5 nm (U = 1000 (0.5 - r)^2 kJ/mol/nm^2): the
    soft windows at 0.35 and 0.40 nm (k = 4 kT / spacing^2) are pushed out by more than
    half their spacing and are flagged; stiffer windows added there (k 40000, 0.025 nm
    apart, centres listed after the first set's) hold their centres, the soft ones are no
    longer flagged, and the joint MBAR gives W = U bin by bin (W's zero is free here:
    compared after removing the mean difference)."""
    kw, rw = 1000.0, 0.5

    def energy(r):
        return kw * (rw - r) ** 2 if r < rw else 0.0

    expr, params = "kw*step(rw-r)*(rw-r)^2", {"kw": kw, "rw": rw}
    soft_centres = list(np.round(np.arange(0.35, 0.6 + 1e-9, 0.05), 6))
    soft_k = 4.0 * KT / 0.05**2
    stiff_centres = list(np.round(np.arange(0.35, 0.45 + 1e-9, 0.025), 6))
    soft = _sample_pair(expr, params, soft_centres, soft_k, n=300)
    stiff = _sample_pair(expr, params, stiff_centres, 40000.0, n=300, every=10)
    model = PairModel("A", "B", (0.0, 0.0), 78.4, 0.6, T)
    alone = pair_pmf_result(soft, soft_centres, [soft_k] * 6, model, 0.0125, n_bootstrap=10)
    pushed = [w for w in alone.warnings if "sits at" in w]
    assert len(pushed) == 2 and "(0.350 nm)" in pushed[0] and "(0.400 nm)" in pushed[1]
    both = pair_pmf_result(
        soft + stiff,
        soft_centres + stiff_centres,
        [soft_k] * 6 + [40000.0] * 5,
        model,
        0.0125,
        n_bootstrap=20,
    )
    assert not any("sits at" in w or "overlap" in w for w in both.warnings), both.warnings
    assert len(both.windows) == 11
    width = both.r_nm[1] - both.r_nm[0]
    inside = (both.r_nm > 0.34) & (both.r_nm < 0.58)
    exact = np.array([_exact_bin_w(energy, r - width / 2, r + width / 2) for r in both.r_nm])
    diff = (both.w_kj_per_mol - exact)[inside]
    diff -= diff.mean()
    assert exact[inside].max() - exact[inside].min() > 5 * KT  # a wall, not a flat W
    dw = both.w_err_kj_per_mol[inside]
    assert np.all(np.abs(diff) <= 4.0 * dw + 0.3 * KT), (diff, dw)


def test_windows_pressed_into_the_contact_wall_are_not_pushed_off():
    """Stiff windows (k 40000) whose centres lie inside a steep wall (U = 20000 (0.32 -
    r)^2 below 0.32 nm) sit outward of them by more than half a spacing. With the
    partner in the cation's shell in those frames they press a contact pair into its
    core (nothing binds closer): marked at_contact_wall, not flagged; the same samples
    without a contact are flagged as pushed off (a barrier could hide a state there)."""
    centres = [0.27, 0.29, 0.31, 0.33, 0.35]
    expr, params = "kw*step(rw-r)*(rw-r)^2", {"kw": 20000.0, "rw": 0.32}
    series = _sample_pair(expr, params, centres, 40000.0, n=200, every=10)
    model = PairModel("A", "B", (0.0, 0.0), 78.4, 0.5, T)

    def result(contact: bool):
        marked = [
            PairSeriesResult(s.time_ps, s.r_nm, s.water_count, (s.r_nm < 0.32) * float(contact))
            for s in series
        ]
        return pair_pmf_result(marked, centres, [40000.0] * 5, model, 0.01, n_bootstrap=5)

    apart, touching = result(False), result(True)
    pushed = [w for w in apart.warnings if "sits at" in w]
    assert len(pushed) == 2 and "(0.270 nm)" in pushed[0] and "(0.290 nm)" in pushed[1]
    assert not any("sits at" in w for w in touching.warnings), touching.warnings
    assert [w["at_contact_wall"] for w in touching.windows] == [True, True, True, False, False]


def test_a_contact_that_no_window_saw_form_is_not_a_result():
    """Windows that keep the contact state they started with (partner in the shell in all
    frames of the inner two, in none of the outer two: a first-shell water exchange the
    distance does not resolve) make the PMF unconverged with a warning that names the
    stretch; the same distances with the contact following r (the windows at 0.33 and
    0.36 nm see it form and break) do not."""
    centres = [0.30, 0.33, 0.36, 0.39]
    k = 4.0 * KT / 0.03**2
    series = _sample_pair("0", {}, centres, k, n=200)
    model = PairModel("A", "B", (0.0, 0.0), 78.4, 0.5, T)

    def result(contact):
        marked = [
            PairSeriesResult(s.time_ps, s.r_nm, s.water_count, contact(i, s.r_nm) * 1.0)
            for i, s in enumerate(series)
        ]
        return pair_pmf_result(marked, centres, [k] * 4, model, 0.015, n_bootstrap=5)

    kept = result(lambda i, r: np.full(len(r), i < 2))
    jump = [w for w in kept.warnings if "neither saw it enter or leave" in w]
    assert len(jump) == 1 and not kept.converged, kept.warnings
    assert [w["contact_fraction"] for w in kept.windows] == [1.0, 1.0, 0.0, 0.0]
    follows = result(lambda i, r: r < 0.345)
    assert not any("neither saw it" in w for w in follows.warnings), follows.warnings
    assert 0.05 < follows.windows[1]["contact_fraction"] < 0.95


def test_association_constant_matches_closed_forms():
    """4 pi N_A int r^2 exp(-W/kT) dr on bins: a square well is exact (bins aligned with
    its edges), a linear W converges with the bin width to its closed form."""
    a, b, R, depth = 0.3, 0.5, 1.2, 2.5 * KT
    edges = np.linspace(0.0, 1.5, 1501)
    mids = 0.5 * (edges[1:] + edges[:-1])
    w = np.where(mids < a, np.inf, np.where(mids < b, -depth, 0.0))
    got = association_constant_l_per_mol(edges, w, T, R)
    closed = 4 * math.pi * AVOGADRO_PER_MOL * NM3_L / 3
    closed *= (b**3 - a**3) * math.exp(depth / KT) + (R**3 - b**3)
    assert got == pytest.approx(closed, rel=1e-9)
    alpha = 3.0  # W = kT alpha r: int_a^R r^2 e^(-alpha r) dr in closed form

    def primitive(r):
        return -math.exp(-alpha * r) * (r**2 / alpha + 2 * r / alpha**2 + 2 / alpha**3)

    w = np.where(mids < a, np.inf, KT * alpha * mids)
    got = association_constant_l_per_mol(edges, w, T, R)
    closed = 4 * math.pi * AVOGADRO_PER_MOL * NM3_L * (primitive(R) - primitive(a))
    assert got == pytest.approx(closed, rel=1e-5)
    # the cut inside a bin counts its part: half of the last bin
    assert association_constant_l_per_mol(edges, np.zeros(1500), T, 1.0005) == pytest.approx(
        4 * math.pi * AVOGADRO_PER_MOL * NM3_L * 1.0005**3 / 3, rel=1e-12
    )


def test_states_of_a_two_well_profile():
    """CIP: lowest W where the partner is in the shell; SSIP: the next minimum deeper than
    the prominence; barrier: the highest W between them. A noise dip below the
    prominence is no state."""
    r = np.arange(0.28, 1.0, 0.01)
    w = (
        -12.0 * np.exp(-(((r - 0.32) / 0.03) ** 2))
        - 8.0 * np.exp(-(((r - 0.52) / 0.04) ** 2))
        + 6.0 * np.exp(-(((r - 0.42) / 0.03) ** 2))
        - 0.3 * np.exp(-(((r - 0.75) / 0.01) ** 2))
    )
    in_shell = (r < 0.38).astype(float)
    states = pair_states(r, w, in_shell, 0.5 * KT)
    assert r[states.cip] == pytest.approx(0.32, abs=0.006)
    assert r[states.ssip] == pytest.approx(0.52, abs=0.006)
    assert r[states.barrier] == pytest.approx(0.42, abs=0.011)
    assert states.contact_edge_nm == pytest.approx(0.37, abs=0.006)
    none = pair_states(r, w, np.zeros_like(r), 0.5 * KT)
    assert none.cip is None and none.barrier is None


def test_model_constants_against_their_sources():
    """The Bjerrum distance of a 2:2 pair in water at 298 K is 1.43 nm (eps_r 78.4); the
    dielectric constants are the cited ones (Hochtl et al. 1998: TIP3P 97 +- 7, SPC/E
    68 +- 6)."""
    assert bjerrum_distance_nm(2, -2, 78.4, T) == pytest.approx(1.430, abs=0.002)
    assert bjerrum_distance_nm(1, 1, 78.4, T) is None
    assert coulomb_kj_mol_nm(1.0) == pytest.approx(138.935, abs=0.001)  # kJ/mol nm e^-2
    tip3p = water_dielectric("tip3p")
    assert (tip3p.eps_r, tip3p.err_eps) == (97.0, 7.0) and "4927" in tip3p.citation
    assert water_dielectric("spce").eps_r == 68.0
    assert (
        water_dielectric("TIP4P/2005").eps_r == 58.0
        and water_dielectric("experiment").eps_r == 78.4
    )


@pytest.fixture(scope="module")
def pair_pmf_dir(tmp_path_factory):
    """Zn2+ - SO4^2- (one pair in 150 TIP3P waters, 0.7 nm cutoff) by the command line:
    3 windows of 2 ps from 0.48 nm to contact, run 2 at a time."""
    tmp = tmp_path_factory.mktemp("pair")
    design = {
        "name": "pair",
        "salts": [{"formula": "ZnSO4", "concentration": "0.37 m"}],
        "box": {"n_water": 150},
        "forcefield": {"family": "full", "cutoff": "0.7 nm"},  # TIP3P: eps_r 97
        "protocol": {
            "equilibration": "1 ps",
            "production": "0.1 ps",
            "report_every": "0.1 ps",
            "checkpoint_every": "1 ps",
            "minimize_max_iterations": 300,
        },
    }
    (tmp / "pair.toml").write_text(tomli_w.dumps(design))
    out = tmp / "pmf"
    args = ["pmf", str(tmp / "pair.toml"), "-o", str(out), "--pair", "Zn2+", "SO4^2-"]
    args += ["--from", "0.48nm", "--to", "contact", "--spacing", "0.1nm"]
    args += ["--equilibration", "0.5ps", "--window-time", "2ps", "--pull-time", "1ps"]
    run_cli(app, [*args, "--slots", "2", "--platform", "CPU"])
    return out


def test_pair_pmf_command_end_to_end(pair_pmf_dir, tmp_path):
    """Windows are run directories restrained on the Zn-S distance; the analysis command
    gives W(r), K_A with the 1 M standard state and flags the tiny windows not
    converged; the same command again runs nothing."""
    out = pair_pmf_dir
    setup = read_umbrella(out)
    assert setup.coordinate == "distance" and setup.partner_atom.startswith("S")
    assert setup.centres_nm[0] == pytest.approx(0.278, abs=0.01)
    assert setup.charges_e == pytest.approx([2.0, -2.0]) and setup.dielectric == 97.0
    assert setup.boundary_nm == pytest.approx(bjerrum_distance_nm(2, -2, 97.0, T))
    for name in setup.windows:
        window = read_window(out / name)
        system = openmm.XmlSerializer.deserialize((out / name / "system.xml").read_text())
        force = next(f for f in system.getForces() if f.getName() == "umbrella restraint")
        assert isinstance(force, openmm.CustomBondForce) and force.usesPeriodicBoundaryConditions()
        i, j, (k, r0) = force.getBondParameters(0)
        assert (i, j) == (setup.ion_index, setup.partner_index) and r0 == window.centre_nm
    stamps = {n: (out / n / "run.json").stat().st_mtime_ns for n in setup.windows}
    run_cli(app, ["pmf", str(out / "system"), "-o", str(out), "--pair", "Zn2+", "SO4",
                  "--from", "0.48nm", "--to", "contact", "--spacing", "0.1nm",
                  "--equilibration", "0.5ps", "--window-time", "2ps", "--pull-time", "1ps",
                  "--platform", "CPU"])  # fmt: skip
    assert stamps == {n: (out / n / "run.json").stat().st_mtime_ns for n in setup.windows}
    args = ["analyze", "pmf", str(out), "--bootstrap", "10", "--json", str(tmp_path / "p.json")]
    run_cli(app, [*args, "--plot", str(tmp_path / "p.png")])
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["converged"] is False
    assert any("before the K_A boundary" in w for w in data["warnings"])
    assert "1 mol/L" in data["standard_state"] and math.isfinite(data["log10_k_a"])
    assert all(5 <= n <= 7 for n in data["water_count"])  # Zn2+ keeps about six waters
    assert (tmp_path / "p.png").stat().st_size > 0


def test_analyze_pmf_with_added_windows(pair_pmf_dir, tmp_path, capsys):
    """Stiffer windows made later on the same parent run (`solvation pmf PARENT -o NEW`)
    join the first set's MBAR with `analyze pmf --with`; the same directory twice, or a
    PMF of another parent run, is refused with what to do."""
    out, inner = pair_pmf_dir, tmp_path / "inner"
    run_cli(app, ["pmf", str(out / "system"), "-o", str(inner), "--pair", "Zn2+", "SO4",
                  "--from", "0.33nm", "--to", "0.28nm", "--spacing", "0.05nm",
                  "--force-constant", "20000 kJ/mol/nm^2", "--equilibration", "0.5ps",
                  "--window-time", "2ps", "--pull-time", "1ps", "--platform", "CPU"])  # fmt: skip
    args = ["analyze", "pmf", str(out), "--bootstrap", "5", "--json", str(tmp_path / "j.json")]
    run_cli(app, [*args, "--with", str(inner)])
    data = json.loads((tmp_path / "j.json").read_text())
    ks = [w["force_constant_kj_mol_nm2"] for w in data["windows"]]
    assert len(ks) == len(read_umbrella(out).windows) + 2 and ks[-2:] == [20000.0, 20000.0]
    other = tmp_path / "other"
    other.mkdir()
    record = json.loads((inner / "umbrella.json").read_text())
    (other / "umbrella.json").write_text(json.dumps({**record, "parent": str(tmp_path)}))
    for extra, message in ((out, "given twice"), (other, "same parent run")):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            run_cli(app, [*args, "--with", str(extra)])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_pairing_campaign_ranks_on_free_energy_descriptors(tmp_path):
    """ZnSO4 against ZnCl2, CI-sized: per job a pair PMF (3 windows of 2 ps) and a 2 ps
    metadynamics stage; log_ka, shell_entry_free_energy, pairing_free_energy and
    cip_fraction_equilibrium reach the catalog with their flags (not converged at this
    size) and the ranking takes them."""
    designs = []
    for name, formula, partner in (("znso4", "ZnSO4", "SO4"), ("zncl2", "ZnCl2", "Cl-")):
        design = {
            "name": name,
            "box": {"n_water": 150},
            "salts": [{"formula": formula, "concentration": "0.5 m"}],
            "forcefield": {"cutoff": "0.7 nm"},
            "pmf": {"pair": ["Zn2+", partner]},
            "metad": {"anion": partner},
        }
        (tmp_path / f"{name}.toml").write_text(tomli_w.dumps(design))
        designs.append(f"{name}.toml")
    campaign = {
        "name": "pairing",
        "designs": designs,
        "replicas": 1,
        "set": {
            "pmf.from": "0.48 nm",
            "pmf.to": "contact",
            "pmf.spacing": "0.1 nm",
            "pmf.equilibration": "0.5 ps",
            "pmf.window_time": "2 ps",
            "pmf.pull_time": "1 ps",
            "metad.time": "2 ps",
            "metad.deposit": "0.2 ps",
            "metad.checkpoint": "1 ps",
        },
        "protocol": {
            "equilibration": "1 ps",
            "production": "0.2 ps",
            "report_every": "0.1 ps",
            "checkpoint_every": "0.2 ps",
            "minimize_max_iterations": 300,
        },
        "analyses": {"list": ["pmf", "metad"]},
        "rank": {"weights": {"log_ka": -1.0, "cip_fraction_equilibrium": -1.0}},
    }
    path = tmp_path / "campaign.toml"
    path.write_text(tomli_w.dumps(campaign))
    catalog = run_campaign(path, tmp_path / "out", platform="CPU")
    jobs = catalog.jobs()
    assert set(jobs.status) == {"done"}, jobs[["design", "error"]].to_string()
    table = catalog.descriptors()
    names = {"log_ka", "shell_entry_free_energy", "pairing_free_energy", "cip_fraction_equilibrium"}
    assert names <= set(table.name)
    for name in ("log_ka", "cip_fraction_equilibrium"):
        rows = table[table.name == name]
        assert len(rows) == 2 and rows.value.notna().all() and not rows.converged.any()
    ranking = rank_directory(tmp_path / "out", path)
    assert sorted(ranking.table.design) == ["zncl2", "znso4"]
    names = {p.name for p in make_figures(tmp_path / "out", tmp_path / "figures")}
    assert {"pair_pmf.png", "pair_pmf.csv"} <= names and "pmf.png" not in names


def test_reference_atoms_and_species_spellings(make_topology):
    """The partner's reference atom from its chemistry: S of SO4^2- and of OTf^- (the
    atom bonded to the most O), the first O of a neutral additive (IDE's methoxy O, an
    EG hydroxyl O), N of NH4+, the atom of a monatomic ion; the automatic contact end from
    it; user spellings of the species."""
    names = ("SO4", "OTf", "IDE", "EG", "NH4")
    templates = [library_template(n) for n in names] + [ion_template("Cl-")]
    topology, xyz = make_topology(templates)
    bonded = _bonded(topology)
    residues = list(topology.residues())
    charges = (-2.0, -1.0, 0.0, 0.0, 1.0, -1.0)
    atoms = [reference_atom(r, q, bonded) for r, q in zip(residues, charges, strict=True)]
    elements = [a.element.symbol for a in atoms]
    assert elements == ["S", "S", "O", "O", "N", "Cl"]
    ide = atoms[2]
    carbons = [b for b in bonded[ide.index] if b.element.symbol == "C"]
    assert len(carbons) == 2 and any(  # an ether O; one neighbour is the methyl C
        sum(n.element.symbol == "H" for n in bonded[c.index]) == 3 for c in carbons
    )
    assert contact_distance_nm(atoms[0], xyz, bonded) == pytest.approx(
        0.20 + 0.55 * 0.149, abs=0.002
    )
    assert contact_distance_nm(atoms[2], xyz, bonded) == 0.20
    assert contact_distance_nm(atoms[5], xyz, bonded) == 0.23
    override = reference_atom(residues[2], 0.0, bonded, name=atoms[2].name)
    assert override.index == ide.index
    species = {"water": "HOH", "Zn2+": "ZN", "SO4": "SO4", "OTf": "OTF", "IDE": "IDE"}
    for spelling, key in (("SO4^2-", "SO4"), ("so4", "SO4"), ("Zn", "Zn2+"), ("zn2+", "Zn2+"),
                          ("OTf-", "OTf"), ("OTF", "OTf"), ("IDE", "IDE")):  # fmt: skip
        assert resolve_species(spelling, species) == key
    with pytest.raises(UmbrellaError, match="holds no Cl-"):
        resolve_species("Cl-", species)
