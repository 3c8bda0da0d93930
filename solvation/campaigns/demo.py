"""``solvation demo``: a three-design campaign that runs on 2 CPU cores in minutes.

2 m ZnSO4, 2 m Zn(OTf)2 and 2 m ZnSO4 + 10 vol% ethylene glycol, ``N_WATER`` waters
each, ``REPLICAS`` replicas per design (distinct packing and velocity seeds), 4 ps of
equilibration and 8 ps of production: far too short for converged numbers, long enough
to exercise build, run, every analysis, the replica combination, the ranking with its
uncertainty and the figures. The ranking says so itself: the Zn2+ shells never exchange
in 8 ps, so the shell descriptors are flagged unconverged and carry no weight in
P(first), and the summary names the designs that cannot be separated and the run length
that would be needed.
"""

from __future__ import annotations

from pathlib import Path

import tomli_w

from solvation.inputs import output_dir

from .figures import make_figures
from .ranking import rank, write_ranking
from .runner import run_campaign

DESIGNS = {
    "znso4_2m": {"salts": [{"formula": "ZnSO4", "concentration": "2 m"}]},
    "znotf2_2m": {"salts": [{"formula": "Zn(OTf)2", "concentration": "2 m"}]},
    "znso4_2m_eg": {
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        "cosolvents": [{"name": "EG", "fraction": "10 vol%"}],
    },
}
N_WATER = 400  # smaller boxes shrink below twice the 1 nm cutoff in NPT
REPLICAS = 2
PROTOCOL = {
    "equilibration": "4 ps",
    "production": "8 ps",
    "report_every": "0.1 ps",
    "checkpoint_every": "4 ps",
    "minimize_max_iterations": 500,
}
WEIGHTS = {"zn_water_cn": -1.0, "free_water_fraction": -1.0, "D_zn": 0.5}


FULL_FAMILY = {"family": "full", "zn": "12-6-4"}  # with TIP3P: the demo before 2026-12


def write_demo_campaign(directory: Path, n_water: int = N_WATER, family: str | None = None) -> Path:
    """Design files and the campaign file of the demo in ``directory``; returns the latter.

    Parameters
    ----------
    directory : Path
        Folder to write into.
    n_water : int
        Water molecules per box.
    family : str, optional
        Model family ('full' or 'scaled'); default: the designs name none and take the
        default family. 'full' gives the demo of earlier versions (TIP3P, 12-6-4 Zn2+).
    """
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for name, body in DESIGNS.items():
        design = {  # the default model family (docs/validation.md, section 4)
            "name": name,
            "temperature": "298.15 K",
            **body,
            "box": {"n_water": n_water},
            "forcefield": {"seed": 1},
        }
        if family == "full":
            design |= {"water": {"model": "tip3p"}, "forcefield": {**FULL_FAMILY, "seed": 1}}
        elif family is not None:
            design["forcefield"]["family"] = family
        (directory / f"{name}.toml").write_text(tomli_w.dumps(design))
        names.append(f"{name}.toml")
    campaign = {
        "name": "demo",
        "designs": names,
        "replicas": REPLICAS,
        "protocol": PROTOCOL,
        "rank": {"weights": WEIGHTS, "pareto": ["zn_water_cn", "D_zn"]},
    }
    path = directory / "demo_campaign.toml"
    path.write_text(tomli_w.dumps(campaign))
    return path


def run_demo(
    directory: str | Path = "solvation-demo", platform: str = "auto", family: str | None = None
) -> dict:
    """Run the demo end to end; returns paths of the ranking table and the figures.

    Parameters
    ----------
    directory : str or Path
        The demo's campaign directory.
    platform : str
        OpenMM platform name, or "auto".
    family : str, optional
        Model family of the designs (default: the default family).
    """
    directory = Path(directory)
    output_dir(directory, "-o", accepts=lambda p: (p / "demo_campaign.toml").is_file())
    campaign = write_demo_campaign(directory, family=family)
    catalog = run_campaign(campaign, directory / "campaign", platform=platform)
    ranking = rank(catalog.descriptors(), WEIGHTS, pareto=("zn_water_cn", "D_zn"))
    write_ranking(ranking, directory / "campaign")
    figures = make_figures(directory / "campaign")
    return {"ranking": ranking, "figures": figures, "jobs": catalog.jobs()}
