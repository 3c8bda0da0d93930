"""Campaign analysis "metad": the equilibrium contact pairs of a job's box from a
well-tempered metadynamics stage (``solvation.engine.metadynamics``, settings from the
design's [metad] table), reweighted to 298 K (``solvation.analysis.reweight``):
``cip_fraction_equilibrium``, the fraction of cations with an anion in their first shell
(CIP + AGG), with its autocorrelation-aware error and convergence flag. Unlike
``cip_fraction`` of plain MD it does not depend on the starting structure once the stage
has converged (compare two starts before trusting it).
"""

from __future__ import annotations

from pathlib import Path

from solvation.design import parse_design
from solvation.engine.metadynamics import metad_settings, run_metadynamics
from solvation.rundir import (
    METAD_PAIRS_JSON,
    DescriptorValue,
    RunDir,
    read_design_table,
    write_json_atomic,
)
from solvation.runs.metad import metad_of_directory


def metad_descriptors(
    job_dir: Path, platform: str = "auto", device: int | None = None
) -> dict[str, DescriptorValue]:
    """Campaign job: run (or resume) the metadynamics stage of the job's run and reduce
    it to ``cip_fraction_equilibrium``; the result goes to ``metad_pairs.json``.

    Parameters
    ----------
    job_dir : Path
        A campaign job directory (a finished run).
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    job_dir = Path(job_dir)
    design = parse_design(read_design_table(job_dir), str(job_dir))
    record = run_metadynamics(job_dir, metad_settings(design.metad), platform, device)
    result = metad_of_directory(job_dir)
    write_json_atomic(RunDir(job_dir).output(METAD_PAIRS_JSON), result.to_dict())
    return {
        "cip_fraction_equilibrium": DescriptorValue(
            value=result.cip_fraction,
            err=result.cip_fraction_err
            if result.cip_fraction_err == result.cip_fraction_err
            else None,
            n_eff=result.cip_fraction_n_eff
            if result.cip_fraction_n_eff == result.cip_fraction_n_eff
            else None,
            converged=result.converged,
            reason=result.warnings[0] if result.warnings else None,
            span_ps=float(record["time_ps"]),
        )
    }
