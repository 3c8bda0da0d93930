"""Campaigns: end to end on CPU with the local and the Dask executor, kill and resume,
failing jobs, ranking of synthetic descriptors, byte-stable figures, bad input."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from solvation.campaigns.campaign import CampaignError, load_campaign
from solvation.campaigns.catalog import Catalog, CatalogError
from solvation.campaigns.figures import make_figures
from solvation.campaigns.ranking import rank
from solvation.campaigns.runner import ExecutorError, run_campaign
from solvation.console import configure_logging
from solvation.rundir import read_result, read_run

PROTOCOL = {
    "equilibration": "0.6 ps",
    "production": "1.2 ps",
    "report_every": "0.04 ps",
    "checkpoint_every": "0.4 ps",
    "minimize_max_iterations": 300,
}


def write_campaign(root: Path, name="tiny", grid=None, weights=None, protocol=None) -> Path:
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
        "replicas": 1,
        "grid": grid or {"salts.0.concentration": ["0.5 m", "1 m"]},
        "protocol": protocol or PROTOCOL,
        "rank": {"weights": weights or {"zn_water_cn": -1.0, "D_zn": 1.0}},
    }
    path = root / f"{name}.toml"
    path.write_text(tomli_w.dumps(campaign))
    return path


@pytest.fixture(scope="session")
def local_campaign(tmp_path_factory):
    root = tmp_path_factory.mktemp("campaign")
    path = write_campaign(root)
    catalog = run_campaign(path, root / "out", platform="CPU")
    return root / "out", catalog


def test_local_campaign_end_to_end(local_campaign):
    directory, catalog = local_campaign
    jobs = catalog.jobs()
    assert len(jobs) == 2 and set(jobs.status) == {"done"}
    table = catalog.descriptors()
    for name in ("zn_water_cn", "D_zn", "hbonds_per_water", "free_water_fraction", "sigma"):
        assert set(table[table.name == name].design) == set(jobs.design), name
    cn = table[table.name == "zn_water_cn"].value
    assert np.all((cn > 4.0) & (cn < 7.5))
    for key in jobs.key:
        assert (directory / "jobs" / key / "trajectory.xtc").exists()
        result = read_result(directory / "jobs" / key)  # the analyses read each frame once
        assert result.frames_read == read_run(directory / "jobs" / key).n_frames > 0
    exported = catalog.export(directory)
    assert {p.name for p in exported} >= {"jobs.csv", "descriptors.csv"}
    units = pd.read_csv(directory / "descriptors.csv").groupby("name").unit.first()
    assert units["D_zn"] == "m^2/s" and units["sigma"] == "S/m" and units["zn_water_cn"] == "1"


def test_rerun_skips_finished_jobs(local_campaign, tmp_path):
    directory, catalog = local_campaign
    before = catalog.jobs().set_index("key").attempts
    start = time.perf_counter()
    run_campaign(directory.parent / "tiny.toml", directory, platform="CPU")
    assert time.perf_counter() - start < 10
    assert catalog.jobs().set_index("key").attempts.equals(before)


def test_dask_local_cluster_runs_the_same_jobs(tmp_path):
    from dask.distributed import Client, LocalCluster

    path = write_campaign(tmp_path, grid={"salts.0.concentration": ["1 m"]})
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        catalog = run_campaign(path, tmp_path / "dask", platform="CPU", client=client)
    jobs = catalog.jobs()
    assert list(jobs.status) == ["done"]
    assert (catalog.descriptors().name == "zn_water_cn").any()


def _fake_job(job, directory, platform, device):
    if "0.5" in job["design_name"]:
        raise RuntimeError("made to fail")
    return {
        "key": job["key"],
        "descriptors": {"D_zn": {"value": 1.0, "err": 0.1}},
        "seconds": 0.0,
        "ns_per_day": None,
        "platform": "none",
    }


def test_failing_job_is_recorded_and_the_rest_finish(tmp_path, capsys):
    configure_logging(0)
    path = write_campaign(tmp_path)
    catalog = run_campaign(path, tmp_path / "out", job_function=_fake_job, slots=2)
    lines = sorted(x for x in capsys.readouterr().err.splitlines() if x.startswith("job "))
    assert [x[:11] for x in lines] == ["job 1/2 don", "job 2/2 fai"] or [x[:11] for x in lines] == [
        "job 1/2 fai",
        "job 2/2 don",
    ]  # one line per job, with k/n, in a log too
    assert any("zn_concentration0.5m replica 0 (RuntimeError: made to fail)" in x for x in lines)
    jobs = catalog.jobs().set_index("design")
    failed = jobs[jobs.status == "failed"]
    assert len(failed) == 1 and "made to fail" in failed.error.iloc[0]
    assert (jobs.status == "done").sum() == 1
    again = run_campaign(path, tmp_path / "out", job_function=_fake_job)
    assert again.jobs().attempts.max() == 1  # failed jobs are retried only on request
    retried = run_campaign(path, tmp_path / "out", job_function=_fake_job, retry_failed=True)
    assert retried.jobs().set_index("design").attempts[failed.index[0]] == 2


def test_killed_campaign_resumes_and_runs_each_job_once(tmp_path):
    path = write_campaign(tmp_path, name="killme")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "solvation.cli",
        "campaign",
        "run",
        str(path),
        "-o",
        str(out),
        "--platform",
        "CPU",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 400
    while time.time() < deadline:
        if (out / "catalog.sqlite").exists() and (Catalog(out).jobs().status == "done").any():
            break
        time.sleep(0.5)
    time.sleep(4)  # into the second job
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = Catalog(out).jobs().set_index("key")
    done_before = first[first.status == "done"].index
    assert len(done_before) == 1
    subprocess.run(cmd, check=True, capture_output=True)
    after = Catalog(out).jobs().set_index("key")
    assert set(after.status) == {"done"}
    assert all(after.attempts[k] == 1 for k in done_before)
    descriptors = Catalog(out).descriptors()
    assert not descriptors.duplicated(["job", "name"]).any()


def test_ranking_of_synthetic_descriptors():
    from scipy.stats import norm

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.05, 4)
    rows = []
    for design, mean in (("a", 1.0), ("b", 2.0), ("c", 3.0), ("c2", 3.0)):
        for replica in range(4):  # c and c2 get identical replicas: indistinguishable
            rows.append(
                {
                    "design": design,
                    "replica": replica,
                    "name": "D_zn",
                    "value": mean + noise[replica],
                    "err": 0.05,
                }
            )
    result = rank(pd.DataFrame(rows), {"D_zn": 1.0}, n_boot=2000)
    table = result.table.set_index("design")
    assert set(result.table.design[:2]) == {"c", "c2"}
    assert list(result.table.design[2:]) == ["b", "a"]
    assert table.p_first["c"] + table.p_first["c2"] == pytest.approx(1.0)
    assert table.p_first["c"] == pytest.approx(0.5, abs=0.05)
    assert table.p_first["a"] == 0 == table.p_first["b"]
    negative = rank(pd.DataFrame(rows), {"D_zn": -1.0}, n_boot=200)
    assert negative.table.design.iloc[0] == "a"
    # one replica each, values 0 and 1 with unit errors: P(second first) = Phi(1/sqrt 2)
    pair = pd.DataFrame(
        [
            {"design": "x", "replica": 0, "name": "D_zn", "value": 0.0, "err": 1.0},
            {"design": "y", "replica": 0, "name": "D_zn", "value": 1.0, "err": 1.0},
        ]
    )
    p = rank(pair, {"D_zn": 1.0}, n_boot=4000).table.set_index("design").p_first["y"]
    assert p == pytest.approx(norm.cdf(1 / np.sqrt(2)), abs=0.025)


def test_pareto_front():
    rows = [
        {"design": d, "replica": 0, "name": n, "value": v, "err": 0.0}
        for d, vals in {"x": (1, 1), "y": (2, 0.5), "z": (0.5, 0.4)}.items()
        for n, v in zip(("D_zn", "zn_water_cn"), vals, strict=True)
    ]
    result = rank(
        pd.DataFrame(rows),
        {"D_zn": 1.0, "zn_water_cn": 1.0},
        n_boot=10,
        pareto=("D_zn", "zn_water_cn"),
    )
    assert sorted(result.pareto) == ["x", "y"]


def test_figures_regenerate_identically(local_campaign, tmp_path):
    directory, catalog = local_campaign
    r = rank(catalog.descriptors(), {"zn_water_cn": -1.0, "D_zn": 1.0}, n_boot=100)
    r.table.to_csv(directory / "ranking.csv", index=False)
    digest = []
    for out in (tmp_path / "one", tmp_path / "two"):
        paths = make_figures(directory, out)
        digest.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    assert digest[0] == digest[1]
    assert {
        "ranking.pdf",
        "ranking.svg",
        "ranking.png",
        "ranking.csv",
        "rdf_zn_ow.png",
        "speciation.svg",
        "hbond_classes.pdf",
        "msd_zn.csv",
    } <= set(digest[0])


def test_grid_applies_to_every_listed_design(tmp_path):
    """``designs = [...]`` with a ``[grid]``: each design is expanded over the grid (the
    grid was silently ignored for listed designs: 1 job instead of 2 per design)."""
    path = write_campaign(tmp_path, grid={"salts.0.concentration": ["0.5 m", "1 m"]})
    other = {"name": "zn2", "salts": [{"formula": "ZnSO4", "concentration": "1 m"}]}
    (tmp_path / "other.toml").write_text(tomli_w.dumps({**other, "box": {"n_water": 330}}))
    text = path.read_text().replace('base = "base.toml"', 'designs = ["base.toml", "other.toml"]')
    path.write_text(text)
    campaign = load_campaign(path)
    names = ["zn_concentration0.5m", "zn_concentration1m", "zn2_concentration0.5m"]
    assert campaign.designs == [*names, "zn2_concentration1m"]
    given = [j.design["salts"][0]["concentration"] for j in campaign.jobs]
    formulas = [j.design["salts"][0]["formula"] for j in campaign.jobs]
    assert given == ["0.5 m", "1 m"] * 2 and formulas == ["ZnCl2"] * 2 + ["ZnSO4"] * 2


def test_bad_campaigns_are_refused(tmp_path):
    with pytest.raises(CampaignError, match="names no design field"):
        load_campaign(write_campaign(tmp_path / "a", grid={"colour": ["red"]}))
    with pytest.raises(CampaignError, match="unknown descriptors"):
        load_campaign(write_campaign(tmp_path / "b", weights={"happiness": 1.0}))
    first = write_campaign(tmp_path / "c")
    run_campaign(first, tmp_path / "c" / "out", job_function=_fake_job)
    other = write_campaign(tmp_path / "c", name="other", grid={"salts.0.concentration": ["2 m"]})
    with pytest.raises(CatalogError, match="different campaign file"):
        run_campaign(other, tmp_path / "c" / "out", job_function=_fake_job)
    with pytest.raises(ExecutorError, match="cannot reach"):
        run_campaign(
            first,
            tmp_path / "d",
            executor="dask",
            scheduler="tcp://127.0.0.1:9",
            job_function=_fake_job,
        )
