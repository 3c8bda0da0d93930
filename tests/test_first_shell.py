"""One first shell on a real run: a campaign job of 2 m ZnSO4 + ethylene glycol (a tiny
box, a few ps) analysed by the campaign and by `solvation analyze` gives identical
shell and H-bond numbers; the first shell holds no more than Zn2+'s 7 ligands; every
radius is recorded with where it came from; the descriptor catalog lists every
descriptor with its unit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import tomli_w

from solvation.campaigns.catalog import Catalog
from solvation.campaigns.definitions import DESCRIPTOR_DEFINITIONS
from solvation.campaigns.runner import run_campaign

PROTOCOL = {
    "equilibration": "0.6 ps",
    "production": "1.2 ps",
    "report_every": "0.04 ps",
    "checkpoint_every": "0.6 ps",
    "minimize_max_iterations": 300,
}


@pytest.fixture(scope="module")
def eg_job(tmp_path_factory):
    """A finished one-job campaign: 2 m ZnSO4 + 1 m EG, 330 waters, TIP3P / 12-6-4."""
    root = tmp_path_factory.mktemp("eg")
    design = {
        "name": "znso4_eg",
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        "additives": [{"name": "EG", "concentration": "1 m"}],
        "box": {"n_water": 330},
    }
    (root / "eg.toml").write_text(tomli_w.dumps(design))
    campaign = {
        "name": "eg",
        "designs": ["eg.toml"],
        "replicas": 1,
        "protocol": PROTOCOL,
        "analyses": {"list": ["structure", "hbonds"]},
        "rank": {"weights": {"zn_water_cn": -1.0}},
    }
    (root / "campaign.toml").write_text(tomli_w.dumps(campaign))
    catalog = run_campaign(root / "campaign.toml", root / "out", platform="CPU")
    (key,) = catalog.jobs().key
    return root / "out" / "jobs" / key, Catalog.existing(root / "out")


def _cli(*args) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "solvation.cli", *args], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out


def test_cli_and_campaign_give_the_same_first_shells(eg_job, tmp_path):
    job, _ = eg_job
    campaign = json.loads((job / "shells.json").read_text())
    out = _cli("analyze", "coordination", str(job), "--json", str(tmp_path / "cn.json"))
    cli = json.loads((tmp_path / "cn.json").read_text())
    for key in (
        "cutoffs_angstrom",
        "site_cutoffs_angstrom",
        "second_shell_angstrom",
        "cutoff_source",
        "coordination_numbers",
        "total_distribution",
        "pairing",
        "speciation",
        "problems",
    ):
        assert cli[key] == campaign[key], key
    assert cli["coordination"] == campaign["coordination"]
    assert set(campaign["coordination_numbers"]) == {"water", "SO4", "EG"}
    # Zn2+'s chemistry: at most 7 first-shell ligands in any frame, for both
    assert max(int(n) for n in campaign["total_distribution"]) <= 7
    assert campaign["max_first_shell"] == 7 and campaign["problems"] == []
    # every radius and its source are recorded, in the result and its provenance
    params = campaign["provenance"]["parameters"]
    assert params["cutoffs_angstrom"] == campaign["site_cutoffs_angstrom"]
    assert set(campaign["cutoff_source"]) == {"water", "SO4", "EG"}
    assert "total first shell" in out.stdout and "radius from" in out.stdout


def test_cli_and_campaign_give_the_same_hbonds(eg_job, tmp_path):
    job, catalog = eg_job
    campaign = json.loads((job / "hbonds.json").read_text())
    _cli("analyze", "hbonds", str(job), "--json", str(tmp_path / "hb.json"))
    cli = json.loads((tmp_path / "hb.json").read_text())
    for key in ("hbonds_per_water", "water_hbonds_per_water", "free_water_fraction"):
        assert cli[key] == campaign[key], key
    # acceptor-inclusive counts more bonds than water-water only
    assert campaign["hbonds_per_water"]["mean"] > campaign["water_hbonds_per_water"]["mean"]
    table = catalog.descriptors()
    stored = table.set_index("name")
    assert stored.at["hbonds_per_water", "value"] == campaign["hbonds_per_water"]["mean"]
    assert stored.at["zn_total_cn", "unit"] == "1"
    assert {"zn_additive_cn", "zn_total_cn", "water_hbonds_per_water"} <= set(table.name)


def test_descriptor_catalog_lists_every_descriptor_with_its_unit(tmp_path):
    _cli("descriptors", "--json", str(tmp_path / "d.json"))
    listed = json.loads((tmp_path / "d.json").read_text())
    assert set(listed) == set(DESCRIPTOR_DEFINITIONS)
    assert listed["D_zn"]["unit"] == "m^2/s" and listed["sigma"]["unit"] == "S/m"
    assert all(d["definition"] and d["analysis"] for d in listed.values())
