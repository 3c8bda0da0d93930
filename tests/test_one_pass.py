"""One pass over the trajectory: automatic cutoffs found in the counting pass equal a
separate g(r) pass + counting pass, the H-bond cation cutoff without a shells pass, a
campaign job's analyses in one pass equal to separate passes, MDAnalysis' parallel
backends equal to serial runs, and the thread settings."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

import solvation.analysis.cutoffs as cutoffs_module
from solvation.analysis import RDF, SolvationShells, first_minimum, load_universe
from solvation.analysis.coordination import ShellsWithCutoffs, solvation_shells
from solvation.analysis.cutoffs import ligand_site, reference_radius, solvent_site
from solvation.analysis.hbonds import HydrogenBonds, hydrogen_bonds
from solvation.analysis.results import jsonable
from solvation.analysis.threads import available_cores, set_threads, threads_per_slot
from solvation.analysis.transport import Transport
from solvation.analysis.universe import species_charges
from solvation.rundir import read_build
from solvation.runs import (
    analyses_of_run,
    hbonds_of_run,
    run_directory_charges,
    run_selections,
    shells_of_run,
)

SHELLS = {"water": "resname HOH and name O*", "Cl": "resname CL"}


def _two_passes(u):
    """The one first-shell definition in two passes: a g(r) pass, the radii (the water's
    minimum; Cl's contact minimum or the water radius shifted by the Bondi radii), then
    the counting pass with those radii given."""
    rdf = RDF(u, {k: ("resname ZN", v) for k, v in SHELLS.items()}, rmax=8.0, nbins=320).run()
    rdf = rdf.results.rdf
    r = rdf.r_angstrom
    water = solvent_site(r, rdf.pairs["water"].g_r, None).first_angstrom
    ref, text = reference_radius("CL", {"O": water})
    cl = ligand_site(r, rdf.pairs["Cl"].g_r, ref, text, True)
    cut = {"water": water, "Cl": cl.first_angstrom}
    pairing = {"Cl": max(cl.second_angstrom, cl.first_angstrom + 0.1)}
    shells = SolvationShells(u, "resname ZN", SHELLS, cut, pairing=pairing).run()
    return shells.results.solvation, rdf


def _same(a, b, rtol=0.0):
    """Equal JSON trees (numbers to ``rtol``)."""
    a, b = jsonable(a), jsonable(b)
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _same(a[k], b[k], rtol)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y, rtol)
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=rtol, abs=0) or (np.isnan(a) and np.isnan(b))
    else:
        assert a == b


@pytest.mark.parametrize("margin", [0.3, -1.0])
def test_cutoffs_found_in_the_counting_pass_equal_two_passes(tiny_run, monkeypatch, margin):
    """A 4-frame warm-up then pairs kept within the provisional cutoff + margin; a
    negative margin keeps too little and forces the second counting pass."""
    monkeypatch.setattr(cutoffs_module, "WARMUP_FRAMES", 4)
    monkeypatch.setattr(cutoffs_module, "KEEP_MARGIN_ANGSTROM", margin)
    u = load_universe(tiny_run)
    expected, rdf = _two_passes(u)
    analysis = ShellsWithCutoffs(u, "resname ZN", SHELLS, {}, pairing={"Cl": None}).run()
    found = analysis.results.solvation
    assert found.cutoffs_angstrom == expected.cutoffs_angstrom
    plain = {"cutoff_source": {}, "solvent": None}
    _same(dataclasses.replace(found, **plain), dataclasses.replace(expected, **plain))
    _same(analysis.results.rdf, rdf)
    assert analysis.extra_frames_read() == (0 if margin > 0 else u.trajectory.n_frames)
    assert found.cutoff_source["water"] == "first minimum of g(r)"
    again, _ = solvation_shells(u, "resname ZN", SHELLS, pairing={"Cl": None})
    assert again.coordination_numbers == found.coordination_numbers


def test_hbond_cation_cutoff_from_the_same_pass(tiny_run):
    u = load_universe(tiny_run)
    rdf = RDF(u, {"w": ("resname ZN", "resname HOH and name O*")}, rmax=8.0, nbins=320).run()
    cut = first_minimum(rdf.results.rdf.r_angstrom, rdf.results.rdf.pairs["w"].g_r)
    given = HydrogenBonds(u, cations="resname ZN", cation_cutoff=cut).run().results.hbonds
    found = hydrogen_bonds(u)
    assert found.criterion["cation_cutoff_angstrom"] == cut
    _same(found, given)
    assert 0 < found.free_water_fraction.mean < 1


def test_one_pass_job_equals_separate_passes(tiny_run):
    u = load_universe(tiny_run)
    build = read_build(tiny_run)
    charges = run_directory_charges(tiny_run)
    done = analyses_of_run(u, build, temperature_k=300.0, charges=charges)
    assert done.frames_read == u.trajectory.n_frames
    shells = shells_of_run(u, build)
    _same(done.shells.result, shells.result)
    _same(done.shells.rdf, shells.rdf)
    _same(done.hbonds, hbonds_of_run(u, build))
    # transport: one Transport equals the former two (diffusion; ions with charges)
    species = run_selections(build).molecules
    z = species_charges(u, species, charges)
    ions = {k: v for k, v in z.items() if v}
    plain = Transport(u, species, temperature=300.0).run().results.transport
    ionic = Transport(u, {k: species[k] for k in ions}, charges=ions, temperature=300.0).run()
    _same(done.transport.transport.species, plain.species)
    _same(done.transport.conductivity, ionic.results.transport.conductivity)


def _serial_and_parallel(make):
    serial = make().run().results
    parallel = make().run(backend="multiprocessing", n_workers=2).results
    return serial, parallel


def test_parallel_backends_equal_serial(tiny_run):
    """Counts combine exactly; volume-weighted g(r) sums differ only by the order of the
    floating-point additions (1e-15)."""
    u = load_universe(tiny_run)
    shells = {"water": "resname HOH and name O", "Cl": "resname CL"}
    makers = {
        "rdf": lambda: RDF(u, {"o-o": (shells["water"], shells["water"])}, rmax=8.0, nbins=80),
        "shells": lambda: SolvationShells(
            u, "resname ZN", shells, {"water": 2.9, "Cl": 3.2}, pairing={"Cl": 5.0}
        ),
        "auto": lambda: ShellsWithCutoffs(u, "resname ZN", shells, {}, pairing={"Cl": None}),
        "hbonds": lambda: HydrogenBonds(u, cations="resname ZN", lifetimes=True),
    }
    for name, make in makers.items():
        assert "multiprocessing" in type(make()).get_supported_backends()
        serial, parallel = _serial_and_parallel(make)
        _same(dict(serial), dict(parallel), rtol=1e-12 if name in ("rdf", "auto") else 0.0)


def test_threads_follow_the_cores_this_process_may_use():
    cores = available_cores()
    assert set_threads(10_000) == min(cores, __import__("numba").config.NUMBA_NUM_THREADS)
    assert set_threads(1) == 1
    assert threads_per_slot(cores * 4) == 1 and threads_per_slot(1) == cores
    set_threads()
    run = subprocess.run(
        [sys.executable, "-m", "solvation.cli", "analyze", "--threads", "0", "rdf", "x"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "--threads" in run.stderr


def test_one_pass_builds_one_neighbour_query_per_frame(tiny_run, monkeypatch):
    """RDF, shells and H-bonds in one pass: one NeighborQuery per frame, the same object
    for every analysis; the Zn-water O pairs that shells and H-bonds both ask for are
    searched once per frame (two pair searches a frame: water O and Cl), and the results
    equal separate runs (each building its own query per frame)."""
    from solvation.analysis import neighbors
    from solvation.analysis.base import Analysis, one_pass

    u = load_universe(tiny_run)
    shells = {"water": "resname HOH and name O*", "Cl": "resname CL"}
    make = [
        lambda: RDF(u, {"zn-o": ("resname ZN", shells["water"])}, rmax=6.0, nbins=60),
        lambda: SolvationShells(u, "resname ZN", shells, {"water": 2.9, "Cl": 3.2}),
        lambda: HydrogenBonds(u, cations="resname ZN"),
    ]
    built, asked, searches = [], [], []
    init, ask, search = neighbors.NeighborQuery.__init__, Analysis.neighbours, neighbors.pair_search

    def counting_init(self, *args, **kwargs):
        built.append(self)
        init(self, *args, **kwargs)

    def recording_ask(self):
        query = ask(self)
        asked.append((type(self).__name__, self._frame_index, id(query)))
        return query

    def counting_search(*args):
        searches.append(args[3])
        return search(*args)

    monkeypatch.setattr(neighbors.NeighborQuery, "__init__", counting_init)
    monkeypatch.setattr(Analysis, "neighbours", recording_ask)
    monkeypatch.setattr(neighbors, "pair_search", counting_search)
    together = one_pass([m() for m in make])
    n = u.trajectory.n_frames
    assert len(built) == n and len(searches) == 2 * n
    assert {name for name, _, _ in asked} == {"RDF", "SolvationShells", "HydrogenBonds"}
    for frame in range(n):
        assert {q for _, f, q in asked if f == frame} == {id(built[frame])}
    # the H-bond cation g(r) range (8 A) is the one search of the Zn-water O pairs
    assert sorted(set(searches)) == [3.2, HydrogenBonds.CATION_RMAX_ANGSTROM]
    built.clear()
    alone = [m().run() for m in make]
    assert len(built) == len(make) * n
    for a, b in zip(together, alone, strict=True):
        _same(dict(a.results), dict(b.results))


def test_shared_query_pairs_equal_capped_distance(tiny_run):
    """Pairs of a query planned for a wider cutoff and filtered down equal MDAnalysis'
    capped_distance on the same frames (pairs exactly, distances to float32 rounding)."""
    from MDAnalysis.lib.distances import capped_distance

    from solvation.analysis.neighbors import NeighborQuery, plan

    u = load_universe(tiny_run)
    zn, ow = u.select_atoms("resname ZN"), u.select_atoms("resname HOH and name O*")
    planned = plan([(zn.indices, ow.indices, 8.0), (ow.indices, ow.indices, 3.5)])
    for ts in u.trajectory[::4]:
        query = NeighborQuery.of_frame(ts, planned)
        for a, b, cutoff in [(zn, ow, 2.6), (zn, ow, 5.0), (zn, ow, 8.0), (ow, ow, 3.2)]:
            i, j, d = query.pairs(a.indices, b.indices, cutoff)
            ref, ref_d = capped_distance(a.positions, b.positions, cutoff, box=ts.dimensions)
            got = np.lexsort((j, i))
            want = np.lexsort((ref[:, 1], ref[:, 0]))
            assert np.array_equal(np.column_stack([i, j])[got], ref[want])
            assert np.allclose(d[got], ref_d[want], atol=1e-4)
