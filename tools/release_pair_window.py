"""Release a finished pair-PMF window: switch its umbrella restraint off (k = 0) after its
last checkpoint and follow the cation-partner distance (nm) and the cation's first-shell
water count (O within 0.3 nm) every 0.5 ps of unbiased NVT (Langevin, 4 fs, the HMR
masses of the window's system.xml, CPU platform). Whether a contact pair held by a window
stays a contact once released tells a metastable contact state from one the restraint
made (docs/validation.md, section 3.1).

Usage: OPENMM_CPU_THREADS=1 python tools/release_pair_window.py WINDOW_DIR PICOSECONDS
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u

from solvation.engine.umbrella import RESTRAINT_NAME
from solvation.rundir import RunDir, read_checkpoint_record

SHELL_NM = 0.3
EVERY_PS, STEP_PS = 0.5, 0.004


def released_context(window: RunDir) -> openmm.Context:
    """The window's System at its production checkpoint with the umbrella restraint's
    k = 0."""
    system = window.system()
    restraint = next(f for f in system.getForces() if f.getName() == RESTRAINT_NAME)
    integrator = openmm.LangevinMiddleIntegrator(298.15, 1.0, STEP_PS)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("CPU"))
    record = read_checkpoint_record(window)
    if record is None:
        raise SystemExit(f"{window} has no production checkpoint: run the window first")
    context.loadCheckpoint((Path(window) / record["file"]).read_bytes())
    i, j, params = restraint.getBondParameters(0)
    restraint.setBondParameters(0, i, j, [0.0, *list(params)[1:]])
    restraint.updateParametersInContext(context)
    return context


def distances(context, cation: int, partner: int, water_o: list[int]) -> tuple[float, int]:
    """Minimum-image cation-partner distance (nm) and waters within SHELL_NM of the cation
    (rectangular box)."""
    state = context.getState(getPositions=True)
    x = state.getPositions(asNumpy=True).value_in_unit(u.nanometer)
    box = np.diag(state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.nanometer))
    d = x[[partner, *water_o]] - x[cation]
    d -= box * np.round(d / box)
    r = np.linalg.norm(d, axis=1)
    return float(r[0]), int(np.sum(r[1:] < SHELL_NM))


def main(path: Path, picoseconds: float) -> None:
    window = RunDir(path)
    info = window.window
    water = window.build.resnames["water"]
    topology = app.PDBFile(str(window.topology_pdb)).topology
    water_o = [
        a.index
        for a in topology.atoms()
        if a.residue.name == water and a.element is not None and a.element.symbol == "O"
    ]
    context = released_context(window)
    args = (info.ion_index, info.partner_index, water_o)
    print(f"start: r {distances(context, *args)[0]:.3f} nm", flush=True)
    for k in range(round(picoseconds / EVERY_PS)):
        context.getIntegrator().step(round(EVERY_PS / STEP_PS))
        r, n = distances(context, *args)
        print(f"{(k + 1) * EVERY_PS:6.1f} ps  r {r:.3f} nm  waters {n}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
