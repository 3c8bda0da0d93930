"""The slurm executor on a real one-node SLURM (``tools/slurm_localhost.sh``, fixture
``slurm``): a 4-job campaign whose Dask workers are SLURM batch jobs, a worker job
cancelled mid-run with scancel and the campaign resumed on the next run with every job
run once, and a 3-window surface PMF whose windows run in SLURM jobs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from solvation.campaigns import Catalog, run_campaign
from solvation.campaigns.pmf_runner import run_pmf
from solvation.rundir import read_run
from solvation.runs.pmf import pmf_of_directory

CLUSTER = {"kind": "slurm", "jobs": 2, "memory": "2 GB", "cpus_per_job": 1}
PROTOCOL = {
    "equilibration": "0.4 ps",
    "production": "0.8 ps",
    "report_every": "0.04 ps",
    "checkpoint_every": "0.4 ps",
    "minimize_max_iterations": 200,
}


def write_campaign(root: Path, name: str, executor: dict, protocol: dict, replicas: int) -> Path:
    """ZnCl2 at 0.5 and 1 m in 330 TIP3P waters x ``replicas``; structure analysis only."""
    root.mkdir(parents=True, exist_ok=True)
    base = {
        "name": "zn",
        "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
        "box": {"n_water": 330},
    }
    (root / "base.toml").write_text(tomli_w.dumps(base))
    campaign = {
        "name": name,
        "base": "base.toml",
        "replicas": replicas,
        "grid": {"salts.0.concentration": ["0.5 m", "1 m"]},
        "protocol": protocol,
        "analyses": {"list": ["structure"]},
        "rank": {"weights": {"zn_water_cn": -1.0}},
        "executor": executor,
    }
    path = root / f"{name}.toml"
    path.write_text(tomli_w.dumps(campaign))
    return path


def _squeue(*args: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", *args], capture_output=True, text=True, check=True)
    return out.stdout.split()


def _still_live(jobs: list[str], grace: float = 60.0) -> set[str]:
    """Those of ``jobs`` (SLURM ids) still pending or running, polled for up to ``grace``
    seconds for cancelled jobs to leave that state: a loaded controller can list a job
    as running for a moment after scancel returns."""
    deadline = time.time() + grace
    while (live := set(jobs) & set(_squeue("-o", "%i", "-t", "PENDING,RUNNING"))) and (
        time.time() < deadline
    ):
        time.sleep(1.0)
    return live


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "solvation.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=900)


def test_campaign_runs_its_jobs_in_slurm_worker_jobs(slurm, tmp_path):
    """Four jobs on two SLURM worker jobs: every job done in a SLURM job of this campaign
    on this host, its worker's log on disk, the workers cancelled when the campaign ends,
    and `campaign status` naming the SLURM job and log of each job."""
    path = write_campaign(tmp_path, "slurm4", CLUSTER, PROTOCOL, replicas=2)
    out = tmp_path / "out"
    start = time.perf_counter()
    catalog = run_campaign(path, out, platform="CPU")
    print(f"4-job campaign through SLURM: {time.perf_counter() - start:.1f} s")
    print(catalog.jobs()[["design", "seconds", "slurm_job"]].to_string())
    jobs = catalog.jobs()
    assert len(jobs) == 4 and set(jobs.status) == {"done"}, jobs.to_string()
    workers = catalog.meta("slurm_worker_jobs").split()
    assert len(workers) == 2
    assert set(jobs.slurm_job) <= set(workers)
    assert set(jobs.host) == {socket.gethostname()}
    for log in set(jobs.log):
        assert Path(log).parent == out / "slurm-logs" and "worker" in Path(log).read_text()
    cn = catalog.descriptors().query("name == 'zn_water_cn'")
    assert len(cn) == 4 and np.all((cn.value > 4.0) & (cn.value < 7.5))
    assert not _still_live(workers)  # worker jobs ended with the campaign
    status = _cli("campaign", "status", str(out)).stdout
    assert "SLURM job" in status and "SLURM worker jobs:" in status
    assert all(j in status for j in workers)


def _wait_for_production_checkpoint(out: Path, timeout: float = 600) -> tuple[str, str]:
    """(job key, SLURM job id) of a running job once its run has a production checkpoint."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (out / "catalog.sqlite").exists():
            running = Catalog(out).jobs().query("status == 'running'")
            for row in running.itertuples():
                if (out / "jobs" / row.key / "checkpoint.json").exists():
                    return row.key, row.slurm_job
        time.sleep(0.2)
    raise AssertionError("no job reached a production checkpoint")


def test_cancelled_worker_job_resumes_on_the_next_campaign_run(slurm, tmp_path):
    """scancel of the worker job running a campaign job (past its first production
    checkpoint): the campaign ends with that job 'interrupted' and the SLURM job's state
    and log in its error, the job not yet started back to pending; the next `campaign run`
    finishes both, and the cancelled job's trajectory holds every frame once."""
    protocol = {**PROTOCOL, "production": "3 ps", "checkpoint_every": "0.4 ps"}
    cluster = {**CLUSTER, "jobs": 1}
    path = write_campaign(tmp_path, "cancel", cluster, protocol, replicas=1)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "solvation.cli", "campaign", "run", str(path), "-o", str(out)]
    first = subprocess.Popen(
        [*args, "--platform", "CPU"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    key, worker = _wait_for_production_checkpoint(out)
    subprocess.run(["scancel", worker], check=True)
    text, _ = first.communicate(timeout=300)
    assert first.returncode == 1, text
    jobs = Catalog(out).jobs().set_index("key")
    assert jobs.status[key] == "interrupted", jobs.to_string()
    assert f"SLURM job {worker}: CANCELLED" in jobs.error[key], jobs.error[key]
    assert str(out / "slurm-logs") in jobs.error[key]
    others = jobs.drop(key)
    assert set(others.status) <= {"done", "pending"}
    assert not read_run(out / "jobs" / key).complete

    again = _cli("campaign", "run", str(path), "-o", str(out), "--platform", "CPU")
    assert "2 done" in again.stdout, again.stdout + again.stderr
    jobs = Catalog(out).jobs().set_index("key")
    assert set(jobs.status) == {"done"}
    assert jobs.attempts[key] == 2 and jobs.slurm_job[key] != worker
    assert all(jobs.attempts[k] == 1 for k in others.index if others.status[k] == "done")
    run = read_run(out / "jobs" / key)
    assert run.complete and run.n_frames == 75
    import MDAnalysis as mda

    u = mda.Universe(
        str(out / "jobs" / key / "topology.pdb"), str(out / "jobs" / key / run.trajectory)
    )
    times = np.array([ts.time for ts in u.trajectory])
    assert len(times) == 75 and np.allclose(np.diff(times), 0.04, atol=1e-3)
    descriptors = Catalog(out).descriptors()
    assert not descriptors.duplicated(["job", "name"]).any()


def _surface_pmf_design(tmp_path: Path) -> Path:
    """Zn(002) under 230 waters with one ZnCl2; three windows 1.2-1.3 nm above the slab."""
    design = {
        "name": "slurm-pmf",
        "box": {"n_water": 230},
        "salts": [{"formula": "ZnCl2", "concentration": "0.25 m"}],
        "forcefield": {"cutoff": "0.7 nm"},
        "slab": {"facet": "002", "layers": 2, "lateral": "1.45 nm"},
        "pmf": {
            "from": "1.3 nm",
            "to": "1.2 nm",
            "spacing": "0.05 nm",
            "equilibration": "0.2 ps",
            "window_time": "2 ps",
            "pull_time": "0.5 ps",
        },
        "protocol": {
            "equilibration": "0.5 ps",
            "production": "0.05 ps",
            "report_every": "0.05 ps",
            "checkpoint_every": "1 ps",
        },
    }
    path = tmp_path / "pmf.toml"
    path.write_text(tomli_w.dumps(design))
    return path


def test_pmf_windows_run_in_slurm_jobs(slurm, tmp_path):
    """A 3-window surface PMF with `solvation pmf --executor slurm --cluster FILE`: every
    window done in a SLURM worker job, and MBAR gives a finite profile over the path."""
    design = _surface_pmf_design(tmp_path)
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(tomli_w.dumps({"executor": {k: v for k, v in CLUSTER.items()}}))
    out = tmp_path / "pmf"
    _cli(
        "pmf",
        str(design),
        "-o",
        str(out),
        "--executor",
        "slurm",
        "--cluster",
        str(cluster),
        "--platform",
        "CPU",
    )
    jobs = Catalog(out).jobs()
    assert len(jobs) == 3 and set(jobs.status) == {"done"}
    assert jobs.slurm_job.notna().all()
    assert set(jobs.slurm_job) <= set(Catalog(out).meta("slurm_worker_jobs").split())
    result = pmf_of_directory(out)
    # the centre is measured above the slab's top plane frame by frame; the Zn(002) atoms
    # move, so the mean centre can sit a few pm from the requested one
    assert np.allclose([w["centre_nm"] for w in result.windows], [1.2, 1.25, 1.3], atol=5e-3)
    assert np.all(np.isfinite(result.free_energy_kj_per_mol))


def test_run_pmf_refuses_bad_cluster_options(tmp_path):
    with pytest.raises(Exception, match="gpu_directive must be 'gres' or 'gpus'"):
        run_pmf(
            tmp_path / "none.toml",
            tmp_path / "o",
            executor="slurm",
            cluster={"gpu_directive": "cuda"},
        )


def test_gpu_cluster_example_writes_the_job_script_a_gpu_cluster_needs(tmp_path):
    """examples/campaigns/gpu_cluster.toml: partition, account, walltime, memory, one GPU
    per worker job (--gres, or --gpus with gpu_directive), two campaign jobs packed on it
    (two worker processes, 2 CPU threads each), and the module prologue."""
    from dask_jobqueue.slurm import SLURMJob

    from solvation.campaigns.campaign import load_campaign
    from solvation.campaigns.slurm import cluster_kwargs

    example = Path(__file__).resolve().parents[1] / "examples" / "campaigns" / "gpu_cluster.toml"
    options = load_campaign(example).executor
    for directive, line in (("gres", "--gres=gpu:1"), ("gpus", "--gpus=1")):
        kwargs = cluster_kwargs({**options, "gpu_directive": directive}, tmp_path)
        kwargs.pop("scheduler_options")
        script = SLURMJob(scheduler="tcp://head:8786", name="w", **kwargs).job_script()
        for expected in (
            "#SBATCH -p gpu",
            "#SBATCH -A my-project",
            "#SBATCH -t 24:00:00",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --mem=15G",
            f"#SBATCH {line}",
            "#SBATCH --constraint=a100",
            "module load cuda/12.4",
            "--nthreads 1",
            "--nworkers 2",
            f"{tmp_path / 'slurm-logs'}/solvation-%J.err",
        ):
            assert expected in script, (expected, script)
