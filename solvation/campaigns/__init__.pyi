# Names of solvation.campaigns, loaded lazily by __init__.py (lazy_loader.attach_stub).

from . import definitions, pmf_runner, slurm
from .campaign import DESCRIPTORS, Campaign, CampaignError, Job, load_campaign
from .catalog import Catalog, CatalogError
from .demo import run_demo, write_demo_campaign
from .figures import fig_ranking, make_figures
from .jobs import ANALYSES, DEFAULT_ANALYSES, job_directory, run_job, with_processes
from .ranking import Ranking, RankingError, rank, rank_directory
from .runner import ExecutorError, run_campaign

__all__ = [
    "definitions",
    "pmf_runner",
    "slurm",
    "DESCRIPTORS",
    "Campaign",
    "CampaignError",
    "Job",
    "load_campaign",
    "Catalog",
    "CatalogError",
    "run_demo",
    "write_demo_campaign",
    "fig_ranking",
    "make_figures",
    "ANALYSES",
    "DEFAULT_ANALYSES",
    "job_directory",
    "run_job",
    "with_processes",
    "Ranking",
    "RankingError",
    "rank",
    "rank_directory",
    "ExecutorError",
    "run_campaign",
]
