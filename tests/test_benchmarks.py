"""The GPU benchmarks run, in their CI-sized CPU form, so that the GPU run is one command:
``bench_gpu.py --quick`` (engine vs plain OpenMM loop, 12-6-4 and CM, 2 and 4 fs) and
``bench_packing.py --quick`` (jobs side by side through the campaign executor)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(script: str) -> str:
    out = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        cwd=BENCH,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_bench_gpu_quick_runs_every_configuration():
    rows = [line.split() for line in _run("bench_gpu.py").splitlines()[1:-1]]
    assert {(r[1], r[2]) for r in rows} == {
        ("12-6-4", "2f"),
        ("12-6-4", "4f"),
        ("cm", "2f"),
        ("cm", "4f"),
    }
    assert all(float(r[3]) > 0 and float(r[4]) > 0 for r in rows)


def test_bench_packing_quick_runs_jobs_side_by_side():
    result = json.loads(_run("bench_packing.py").splitlines()[-1])
    assert [r["jobs"] for r in result["rows"]] == [1, 2]
    assert len(result["rows"][1]["per_job"]) == 2
    assert all(r["aggregate_ns_per_day"] > 0 for r in result["rows"])
