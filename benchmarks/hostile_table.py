"""The hostile inputs and situations of issue 31, run as a user would: the real
``solvation`` command in a subprocess, each case classified

- clear: refused with one ``error:`` line (exit 2), or the expected warning, or the
  damage repaired exactly (exit 0 and the files check out);
- partial: refused, but not in one line, with another exit status, or only after work;
- unclear: accepted silently where a refusal or a warning was due;
- traceback: a Python traceback, a crash by signal, or exit 1 (a bug);
- damage: data lost, overwritten or left inconsistent, a process or folder left behind,
  or a hang.

    python benchmarks/hostile_table.py --workdir /tmp/hostile --out hostile.csv
    python benchmarks/hostile_table.py --only 'resume-*'

Fixtures (a tiny 1 m ZnCl2 build, a finished 2 ps run, an interrupted 6 ps run, a
campaign directory with stored results) are made once in the work directory (about
3 minutes on 2 cores). Cases that need ``mount`` (a read-only file system) run only as
root where mounting is allowed, and are reported as skipped otherwise.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

PYTHON = sys.executable
CLI = [PYTHON, "-m", "solvation.cli"]
ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "name": "tiny",
    "salts": [{"formula": "ZnCl2", "concentration": "1 m"}],
    "box": {"n_water": 330},
    "protocol": {"minimize_max_iterations": 100},
}
RUN = ["--time", "2ps", "--equilibration", "0.2ps", "--report-every", "0.1ps"]
PAIR = ["--pair", "zn-o=resname ZN|resname HOH and name O"]
ENV = {**os.environ, "OPENMM_CPU_THREADS": "1"}


@dataclass
class Case:
    """One hostile input: the command (a function of the fixtures and the case's own
    folder), what a good answer is, and a check for damage afterwards."""

    name: str
    group: str
    expect: str  # refuse | warn | ok
    argv: object  # callable(fx, d) -> list of str
    fragment: str = ""
    env: dict = field(default_factory=dict)
    post: object = None  # callable(fx, d, proc) -> damage text or None
    timeout: float = 300.0
    driver: object = None  # callable(fx, d) -> (code, out, err): runs the case itself


class Fixtures:
    """Folders the cases start from, made once."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _cli(self, *argv, env=None, check=True):
        proc = subprocess.run([*CLI, *map(str, argv)], capture_output=True, text=True, env=env)
        if check and proc.returncode != 0:
            raise RuntimeError(f"fixture command failed: {argv}\n{proc.stderr[-2000:]}")
        return proc

    @property
    def design(self) -> Path:
        path = self.root / "tiny.toml"
        if not path.exists():
            path.write_text(tomli_w.dumps(TINY))
        return path

    @property
    def build(self) -> Path:
        path = self.root / "build"
        if not path.exists():
            self._cli("build", self.design, "-o", path)
        return path

    @property
    def run(self) -> Path:
        path = self.root / "run"
        if not path.exists():
            shutil.copytree(self.build, self.root / "run.tmp")
            self._cli("run", self.root / "run.tmp", *RUN, "--platform", "CPU", env=ENV)
            (self.root / "run.tmp").rename(path)
        return path

    def interrupted(self, fmt: str = "xtc") -> Path:
        """A run killed (SIGKILL) after its checkpoint at 2 ps of 6, with frames after it."""
        path = self.root / f"interrupted-{fmt}"
        if path.exists():
            return path
        tmp = self.root / f"interrupted-{fmt}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(self.build, tmp)
        design = tomllib.loads((tmp / "design.toml").read_text())
        design["protocol"] = {**design.get("protocol", {}), "trajectory_format": fmt}
        (tmp / "design.toml").write_text(tomli_w.dumps(design))
        opts = ["--time", "6ps", "--equilibration", "0.2ps", "--report-every", "0.1ps"]
        opts += ["--checkpoint-every", "1ps", "--platform", "CPU"]
        proc = subprocess.Popen([*CLI, "run", str(tmp), *opts], env=ENV, stderr=subprocess.DEVNULL)
        while _checkpoint_step(tmp) < 1000:
            time.sleep(0.05)
        time.sleep(1.0)
        proc.kill()
        proc.wait()
        (tmp / ".lock").unlink(missing_ok=True)
        tmp.rename(path)
        return path

    @property
    def campaign(self) -> Path:
        """A campaign directory with stored (made-up) results of three designs."""
        out = self.root / "campaign" / "out"
        if not out.exists():
            folder = self.root / "campaign"
            folder.mkdir(exist_ok=True)
            (folder / "base.toml").write_text(tomli_w.dumps({**TINY, "protocol": {}}))
            grid = {"salts.0.concentration": ["0.5 m", "1 m", "1.5 m"]}
            weights = {"zn_water_cn": -1.0, "D_zn": 1.0}
            data = {"name": "c", "base": "base.toml", "replicas": 1, "grid": grid}
            data["rank"] = {"weights": weights}
            (folder / "c.toml").write_text(tomli_w.dumps(data))
            script = textwrap.dedent(
                """
                import sys
                from solvation.campaigns.runner import run_campaign
                def job(job, directory, platform, device):
                    x = float(job["design"]["salts"][0]["concentration"].split()[0])
                    d = {"value": 6 - x, "err": 0.01, "n_eff": 50, "converged": True}
                    e = {"value": 1e-9 * x, "err": 1e-11, "n_eff": 50, "converged": True}
                    return {"key": job["key"], "seconds": 1.0,
                            "descriptors": {"zn_water_cn": d, "D_zn": e}}
                run_campaign(sys.argv[1], sys.argv[2], job_function=job)
                """
            )
            subprocess.run([PYTHON, "-c", script, folder / "c.toml", out], check=True)
            self._cli("rank", out)
        return out


def _checkpoint_step(path: Path) -> int:
    try:
        return json.loads((path / "checkpoint.json").read_text())["step"]
    except (OSError, ValueError, KeyError):
        return -1


def _copy(src: Path, d: Path, name: str = "dir") -> Path:
    dst = d / name
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def _write(d: Path, name: str, data) -> Path:
    path = d / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, dict):
        path.write_text(tomli_w.dumps(data))
    else:
        path.write_text(data)
    return path


def _design(d: Path, **changes) -> Path:
    data = json.loads(json.dumps(TINY))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            value = {**data[key], **value}
        data[key] = (
            {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
        )
    return _write(d, "d.toml", data)


def _raw_design(d: Path, text: str) -> Path:
    return _write(d, "d.toml", text)


def _campaign_file(d: Path, **changes) -> Path:
    _write(d, "base.toml", {**TINY, "protocol": {}})
    data = {"name": "c", "base": "base.toml", "replicas": 1, "rank": {"weights": {"D_zn": 1.0}}}
    data.update(changes)
    return _write(d, "c.toml", data)


def _raw_campaign(d: Path, text: str) -> Path:
    _write(d, "base.toml", {**TINY, "protocol": {}})
    return _write(d, "c.toml", text)


# --- damage checks -------------------------------------------------------------------


def _unchanged(*paths):
    """A post-check: the files hold what they held before the command."""
    saved = {}

    def post(fx, d, proc):
        for p in paths:
            path = p(fx, d) if callable(p) else p
            if saved.get(path) is not None and path.read_bytes() != saved[path]:
                return f"{path.name} was overwritten"
        return None

    def before(fx, d):
        for p in paths:
            path = p(fx, d) if callable(p) else p
            saved[path] = path.read_bytes() if path.exists() else None

    post.before = before
    return post


def _absent(*names):
    def post(fx, d, proc):
        for n in names:
            if (d / n).exists():
                return f"{n} was written"
        return None

    return post


def _frames_ok(n: int, fmt: str = "xtc"):
    """The resumed run holds n frames at 0.1 ps steps, every one once; a DCD header says n."""

    def post(fx, d, proc):
        if proc.returncode != 0:
            return None
        import MDAnalysis as mda
        import numpy as np

        run = d / "dir"
        u = mda.Universe(str(run / "topology.pdb"), str(run / f"trajectory.{fmt}"))
        times = np.array([ts.time for ts in u.trajectory])
        if len(times) != n or not np.allclose(times, 0.1 * np.arange(1, n + 1), atol=2e-3):
            return f"trajectory holds {len(times)} frames at {times[:2]}...{times[-2:]}"
        if fmt == "dcd":
            claimed = struct.unpack("<i", (run / "trajectory.dcd").read_bytes()[8:12])[0]
            if claimed != n:
                return f"DCD header claims {claimed} frames for {n}"
        rows = (run / "state.csv").read_text().strip().splitlines()[1:]
        if len(rows) != n:
            return f"state.csv holds {len(rows)} rows for {n} frames"
        return None

    return post


# --- the cases -------------------------------------------------------------------------


def _interrupted(fx, d, damage=None, fmt="xtc"):
    run = _copy(fx.interrupted(fmt), d)
    if damage:
        damage(run)
    return ["run", run, "--platform", "CPU"]


def _cut(path: Path, fraction: float) -> None:
    with path.open("r+b") as fh:
        fh.truncate(int(path.stat().st_size * fraction))


def _zeros(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.seek(path.stat().st_size // 4)
        fh.write(b"\0" * (path.stat().st_size // 3))


def _binary(d: Path, name: str) -> Path:
    return _write(d, name, bytes(range(256)) * 8)


def _latin1(d: Path, name: str) -> Path:
    return _write(d, name, 'name = "caf\xe9"\n'.encode("latin-1"))


def _analyze(verb: str, *extra):
    return lambda fx, d: ["analyze", verb, fx.run, *extra]


def _hbonds(*extra):
    return _analyze("hbonds", "--cations", "none", *extra)


def _pmf_dir(d: Path) -> Path:
    """A folder standing in for a PMF directory (the refusals come before reading it)."""
    (d / "outdir").mkdir()
    (d / "outdir.png").write_bytes(b"\x89PNG user's figure")
    return d / "outdir"


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie nobody reaped has ended)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def _kill_build(fx, d):
    """SIGKILL a build while packmol runs; its packmol must die with it, and the next
    build sweeps the temporary folder away."""
    scratch = d / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    design = _design(d, box={"n_water": 6000})
    proc = subprocess.Popen(
        [*CLI, "build", str(design), "-o", str(d / "out")],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not list(scratch.glob("solvation-packmol-*")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    packmol = [int(p) for p in children.stdout.split()]
    proc.kill()
    proc.wait()
    time.sleep(1.5)
    alive = [p for p in packmol if _running(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    again = subprocess.run(
        [*CLI, "build", str(_design(d, box={"n_water": 330})), "-o", str(d / "out2")],
        env=env,
        capture_output=True,
        text=True,
    )
    left = [p.name for p in scratch.glob("solvation-packmol-*")]
    if alive:
        return 137, "", f"DAMAGE: packmol {alive} outlived the killed build"
    if left:
        return 137, "", f"DAMAGE: temporary folders {left} left behind"
    return again.returncode, again.stdout, again.stderr


POOL_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from solvation.campaigns.runner import CampaignInterrupted, run_campaign

    def job(job, directory, platform, device):
        (Path(directory) / ("started-" + job["key"])).write_text(str(os.getpid()))
        time.sleep(60)
        return {"key": job["key"], "descriptors": {}, "seconds": 0.0}

    if __name__ == "__main__":
        try:
            run_campaign(sys.argv[1], sys.argv[2], slots=2, job_function=job)
        except CampaignInterrupted as err:
            print(err, file=sys.stderr)
            sys.exit(130)
    """
)


def _sigint_pool(delay: float | str):
    """Ctrl-C of a 2-slot campaign at ``delay`` s after its catalog appears ('jobs': once
    both jobs run); it must exit 130 within 30 s, its workers gone."""

    def driver(fx, d):
        path = _campaign_file(d, grid={"salts.0.concentration": ["0.5 m", "1 m"]})
        (d / "s.py").write_text(POOL_SCRIPT)
        out = d / "out"
        proc = subprocess.Popen(
            [PYTHON, str(d / "s.py"), str(path), str(out)],
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal
        )
        deadline = time.time() + 180
        ready = (
            (lambda: len(list(out.glob("started-*"))) == 2)
            if delay == "jobs"
            else (lambda: (out / "catalog.sqlite").exists())
        )
        while not ready() and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.2 if delay == "jobs" else float(delay))
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return 137, "", "DAMAGE: no exit 30 s after Ctrl-C (hang)"
        time.sleep(1.0)
        left = subprocess.run(["pgrep", "-f", str(d / "s.py")], capture_output=True, text=True)
        if left.stdout.strip():
            return 137, "", f"DAMAGE: worker processes left: {left.stdout.split()}"
        if proc.returncode == 130:
            return 2, "", "error: " + err.strip().splitlines()[-1]
        return proc.returncode, "", err

    return driver


def _dead_job(fx, d):
    """A campaign SIGKILLed while its job runs: status must not call the job running."""
    path = _campaign_file(d, grid={"salts.0.concentration": ["0.5 m"]})
    script = POOL_SCRIPT.replace("slots=2", "slots=1")
    (d / "s.py").write_text(script)
    out = d / "out"
    proc = subprocess.Popen([PYTHON, str(d / "s.py"), str(path), str(out)], start_new_session=True)
    deadline = time.time() + 120
    while not list(out.glob("started-*")) and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    status = subprocess.run([*CLI, "campaign", "status", str(out)], capture_output=True, text=True)
    if "dead" not in status.stdout:
        return 0, status.stdout, "UNCLEAR: the killed job shows as: " + status.stdout[-300:]
    return 0, status.stdout, "warning: dead job shown as dead"


def _deleted_mid_run(fx, d):
    """The trajectory deleted while production runs: the run must not end 'complete'
    with a short trajectory."""
    run = _copy(fx.build, d)
    opts = ["--time", "6ps", "--equilibration", "0.2ps", "--report-every", "0.1ps"]
    opts += ["--checkpoint-every", "1ps", "--platform", "CPU"]
    proc = subprocess.Popen(
        [*CLI, "run", str(run), *opts], env=ENV, stderr=subprocess.PIPE, text=True
    )
    while _checkpoint_step(run) < 1000 and proc.poll() is None:
        time.sleep(0.05)
    (run / "trajectory.xtc").unlink()
    _, err = proc.communicate(timeout=600)
    info = json.loads((run / "run.json").read_text())
    if info.get("complete"):
        return 0, "", "DAMAGE: the run says complete after its trajectory was deleted"
    return proc.returncode, "", err


CASES: list[Case] = []


def case(*args, **kwargs) -> None:
    CASES.append(Case(*args, **kwargs))


# damage of the issue ------------------------------------------------------------------
case(
    "resume-truncated-xtc",
    "damage",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: _cut(r / "trajectory.xtc", 0.3)),
    "intact frames",
)
case(
    "resume-deleted-xtc",
    "damage",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: (r / "trajectory.xtc").unlink()),
    "the file is missing",
)
case(
    "resume-zero-padded-xtc",
    "damage",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: _zeros(r / "trajectory.xtc")),
    "zero bytes or garbage",
)
case(
    "resume-deleted-state-csv",
    "damage",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: (r / "state.csv").unlink()),
    "state.csv holds 0",
)
case(
    "resume-truncated-dcd",
    "damage",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: _cut(r / "trajectory.dcd", 0.3), "dcd"),
    "intact frames",
)
case("resume-killed-xtc", "damage", "ok", lambda fx, d: _interrupted(fx, d), post=_frames_ok(60))
case(
    "resume-killed-dcd-header",
    "damage",
    "ok",
    lambda fx, d: _interrupted(fx, d, fmt="dcd"),
    post=_frames_ok(60, "dcd"),
)
case(
    "resume-deleted-mid-run",
    "damage",
    "refuse",
    None,
    "shrank",
    driver=_deleted_mid_run,
    timeout=900,
)
case(
    "run-time-1e400",
    "damage",
    "refuse",
    lambda fx, d: ["run", _copy(fx.build, d), "--time", "1e400ps"],
    "not a finite number",
    post=_absent("dir/run.json"),
)
case(
    "rank-weight-nan",
    "damage",
    "refuse",
    lambda fx, d: ["rank", _copy(fx.campaign, d), "--weight", "zn_water_cn=nan"],
    "finite",
    post=_absent(),
)
case(
    "rank-weight-inf",
    "damage",
    "refuse",
    lambda fx, d: ["rank", _copy(fx.campaign, d), "--weight", "zn_water_cn=inf"],
    "finite",
)
case(
    "pmf-plot-dir-slash",
    "damage",
    "refuse",
    lambda fx, d: ["analyze", "pmf", _pmf_dir(d), "--plot", f"{d / 'outdir'}/"],
    "is a directory",
    post=lambda fx, d, p: (
        None
        if (d / "outdir.png").read_bytes() == b"\x89PNG user's figure"
        else "outdir.png overwritten"
    ),
)
case(
    "pmf-plot-dir",
    "damage",
    "refuse",
    lambda fx, d: ["analyze", "pmf", _pmf_dir(d), "--plot", d / "outdir"],
    "is a directory",
)
case(
    "campaign-name-empty",
    "damage",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d, name="")],
    "is not a name",
    post=_absent("catalog.sqlite", "jobs"),
)
case(
    "campaign-name-escape",
    "damage",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d, name="../../escaped")],
    "is not a name",
    post=lambda fx, d, p: "escaped" if (d.parent.parent / "escaped").exists() else None,
)
case(
    "campaign-name-absolute",
    "damage",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d, name=str(d / "abs"))],
    "is not a name",
    post=_absent("abs"),
)
case(
    "demo-into-campaign",
    "damage",
    "refuse",
    lambda fx, d: ["demo", "-o", _copy(fx.campaign, d)],
    "did not make",
    post=_absent("dir/campaign", "dir/demo_campaign.toml"),
)
case("build-sigkill-packmol", "damage", "ok", None, driver=_kill_build, timeout=600)

# silently wrong -----------------------------------------------------------------------
case(
    "report-every-beyond-production",
    "silent",
    "refuse",
    lambda fx, d: ["run", _copy(fx.build, d), "--time", "1ps", "--report-every", "10ps"],
    "longer than production",
)
case(
    "production-not-whole-reports",
    "silent",
    "refuse",
    lambda fx, d: ["run", _copy(fx.build, d), "--time", "1ps", "--report-every", "0.3ps"],
    "not a whole number of report",
)
case(
    "pressure-negative",
    "silent",
    "refuse",
    lambda fx, d: ["build", _design(d, protocol={"pressure": "-500 bar"}), "-o", d / "out"],
    "pressure",
    post=_absent("out"),
)
case(
    "precision-quad",
    "silent",
    "refuse",
    lambda fx, d: ["run", _copy(fx.build, d), "--precision", "quad", "--platform", "CPU"],
    "--precision",
)
case(
    "device-5-cpu",
    "silent",
    "refuse",
    lambda fx, d: ["run", _copy(fx.build, d), "--device", "5", "--platform", "CPU"],
    "--device 5",
)
case(
    "openmm-threads-abc",
    "silent",
    "refuse",
    lambda fx, d: ["run", _copy(fx.build, d), "--platform", "CPU"],
    "OPENMM_CPU_THREADS",
    env={"OPENMM_CPU_THREADS": "abc"},
)
case(
    "numba-threads-0",
    "silent",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR],
    "NUMBA_NUM_THREADS",
    env={"NUMBA_NUM_THREADS": "0"},
)
case(
    "analysis-of-unfinished-run",
    "silent",
    "warn",
    lambda fx, d: ["analyze", "rdf", _copy(fx.interrupted(), d), *PAIR],
    "not finished",
)
case(
    "start-negative",
    "silent",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--start", "-1"],
    "--start",
)
case("hbonds-distance-negative", "silent", "refuse", _hbonds("--distance", "-1"), "--distance")
case("hbonds-angle-500", "silent", "refuse", _hbonds("--angle", "500"), "--angle")
case(
    "temperature-negative",
    "silent",
    "refuse",
    _analyze("diffusion", "--species", "zn=resname ZN", "--temperature-k", "-5"),
    "--temperature-k",
)
case(
    "conductivity-one-species",
    "silent",
    "warn",
    _analyze("conductivity", "--species", "zn=resname ZN"),
    "only 1 charged species",
)
case(
    "pmf-bin-0",
    "silent",
    "refuse",
    lambda fx, d: ["analyze", "pmf", _pmf_dir(d), "--bin-nm", "0"],
    "--bin-nm",
)
case(
    "pmf-shell-cutoff-negative",
    "silent",
    "refuse",
    lambda fx, d: ["analyze", "pmf", _pmf_dir(d), "--shell-cutoff-angstrom", "-3"],
    "--shell-cutoff",
)
case(
    "pmf-path-inside-surface",
    "silent",
    "refuse",
    lambda fx, d: [
        "pmf",
        ROOT / "examples" / "zn002_znso4_2m.toml",
        "-o",
        d / "pmf",
        "--from",
        "0.1nm",
    ],
    "inside the surface",
    post=_absent("pmf"),
)
case(
    "slab-gap-negative",
    "silent",
    "refuse",
    lambda fx, d: ["build", _design(d, slab={"gap": "-1 A"}), "-o", d / "out"],
    "slab.gap",
)
case(
    "slab-vacuum-negative",
    "silent",
    "refuse",
    lambda fx, d: ["build", _design(d, slab={"vacuum": "-2 nm"}), "-o", d / "out"],
    "slab.vacuum",
)
case(
    "ratio-without-basis",
    "silent",
    "refuse",
    lambda fx, d: [
        "build",
        _design(d, cosolvents=[{"name": "DMF", "ratio": "2:1"}]),
        "-o",
        d / "out",
    ],
    "v/v",
)
case(
    "n-water-string",
    "silent",
    "refuse",
    lambda fx, d: ["build", _design(d, box={"n_water": "400"}), "-o", d / "out"],
    "valid integer",
)
case(
    "protocol-typo-at-build",
    "silent",
    "refuse",
    lambda fx, d: ["build", _design(d, protocol={"prodution": "1 ns"}), "-o", d / "out"],
    "unknown key 'prodution'",
    post=_absent("out"),
)
case(
    "campaign-slots-0",
    "silent",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d), "--slots", "0"],
    "--slots",
)
case(
    "pmf-slots-0",
    "silent",
    "refuse",
    lambda fx, d: [
        "pmf",
        ROOT / "examples" / "zn002_znso4_2m.toml",
        "-o",
        d / "pmf",
        "--slots",
        "0",
    ],
    "--slots",
)
case("status-dead-job", "silent", "warn", None, "dead", driver=_dead_job, timeout=300)

# the hang -------------------------------------------------------------------------------
for delay in ("0", "0.1", "0.3", "0.6", "1", "2", "jobs"):
    case(
        f"sigint-pool-{delay}",
        "hang",
        "refuse",
        None,
        "left resumable",
        driver=_sigint_pool(delay),
        timeout=300,
    )

# tracebacks: output paths -----------------------------------------------------------
case(
    "run-json-dir",
    "traceback",
    "refuse",
    lambda fx, d: ["run", fx.run, "--json", d],
    "is a directory",
)
case(
    "build-json-dir",
    "traceback",
    "refuse",
    lambda fx, d: ["build", fx.design, "-o", d / "o", "--json", d],
    "is a directory",
    post=_absent("o"),
)
case(
    "rdf-json-missing-folder",
    "traceback",
    "ok",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--json", d / "new" / "rdf.json"],
    post=lambda fx, d, p: None if (d / "new" / "rdf.json").exists() else "no rdf.json",
)
case(
    "rdf-csv-dir",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--csv", d],
    "is a directory",
)
case(
    "rdf-plot-no-suffix",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--plot", d / "figure"],
    "ending in",
)
case(
    "rdf-json-onto-trajectory",
    "traceback",
    "refuse",
    lambda fx, d: [
        "analyze",
        "rdf",
        _copy(fx.run, d),
        *PAIR,
        "--json",
        d / "dir" / "trajectory.xtc",
    ],
    "input of this command",
)
case(
    "rdf-csv-onto-run-json",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--csv", _copy(fx.run, d) / "run.json"],
    "record of",
)
case(
    "rdf-json-parent-is-file",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--json", _write(d, "f", "x") / "a.json"],
    "is a file",
)
case(
    "rdf-json-and-csv-same",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--json", d / "x", "--csv", d / "x"],
    "both name",
)
case(
    "rank-json-dir",
    "traceback",
    "refuse",
    lambda fx, d: ["rank", _copy(fx.campaign, d), "--json", d],
    "is a directory",
)
case(
    "figures-out-file",
    "traceback",
    "refuse",
    lambda fx, d: ["figures", fx.campaign, "--out", _write(d, "f", "x")],
    "is a file",
)
case(
    "status-export-file",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "status", fx.campaign, "--export", _write(d, "f", "x")],
    "is a file",
)
case(
    "validate-out-file",
    "traceback",
    "refuse",
    lambda fx, d: ["validate", "-o", _write(d, "f", "x")],
    "is a file",
)
case(
    "forcefields-json-dir",
    "traceback",
    "refuse",
    lambda fx, d: ["forcefields", "list", "--json", d],
    "is a directory",
)
case(
    "demo-out-file",
    "traceback",
    "refuse",
    lambda fx, d: ["demo", "-o", _write(d, "f", "x")],
    "is a file",
)
case(
    "bench-json-dir",
    "traceback",
    "refuse",
    lambda fx, d: ["bench", "md", fx.build, "--json", d],
    "is a directory",
)
case(
    "json-over-user-text",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--json", _write(d, "notes.txt", "my notes")],
    "not a JSON",
    post=lambda fx, d, p: (
        None if (d / "notes.txt").read_text() == "my notes" else "notes.txt overwritten"
    ),
)
case(
    "ro-mount-run",
    "traceback",
    "refuse",
    lambda fx, d: ["run", fx.ro / "run"],
    "Read-only file system",
)
case(
    "ro-mount-json",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--json", fx.ro / "x.json"],
    "read-only",
)
case(
    "ro-mount-build",
    "traceback",
    "refuse",
    lambda fx, d: ["build", fx.design, "-o", fx.ro / "b"],
    "read-only",
)
case(
    "ro-mount-rank", "traceback", "refuse", lambda fx, d: ["rank", fx.ro / "campaign"], "read-only"
)

# tracebacks: input files ---------------------------------------------------------------
case(
    "design-is-directory",
    "traceback",
    "refuse",
    lambda fx, d: ["build", d, "-o", d / "out"],
    "is a directory",
)
case(
    "design-binary",
    "traceback",
    "refuse",
    lambda fx, d: ["build", _binary(d, "d.toml"), "-o", d / "out"],
    "binary",
)
case(
    "design-latin1",
    "traceback",
    "refuse",
    lambda fx, d: ["build", _latin1(d, "d.toml"), "-o", d / "out"],
    "not UTF-8",
)
case(
    "pmf-design-binary",
    "traceback",
    "refuse",
    lambda fx, d: ["pmf", _binary(d, "d.toml"), "-o", d / "p"],
    "binary",
)
case(
    "validate-reference-binary",
    "traceback",
    "refuse",
    lambda fx, d: ["validate", "--reference", _binary(d, "r.yaml"), "-o", d / "v"],
    "binary",
)
case(
    "validate-reference-latin1",
    "traceback",
    "refuse",
    lambda fx, d: ["validate", "--reference", _latin1(d, "r.yaml"), "-o", d / "v"],
    "not UTF-8",
)
case(
    "n-water-1e9",
    "traceback",
    "refuse",
    lambda fx, d: ["build", _raw_design(d, 'name = "x"\n[box]\nn_water = 1e9\n'), "-o", d / "out"],
    "n_water",
)
case(
    "edge-50000-nm",
    "traceback",
    "refuse",
    lambda fx, d: ["build", _design(d, box={"edge": "50000 nm", "n_water": None}), "-o", d / "out"],
    "box edge",
)
case(
    "campaign-is-directory",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "run", d],
    "is a directory",
)
case(
    "campaign-binary",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "run", _binary(d, "c.toml")],
    "binary",
)

# tracebacks: damaged run files on resume ---------------------------------------------
case(
    "resume-garbage-checkpoint-json",
    "traceback",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: (r / "checkpoint.json").write_text("garbage")),
    "checkpoint.json is damaged",
)
case(
    "resume-missing-chk",
    "traceback",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: [p.unlink() for p in r.glob("checkpoint-*.chk")]),
    "which is missing",
)
case(
    "resume-corrupt-chk",
    "traceback",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: [_cut(p, 0.5) for p in r.glob("checkpoint-*.chk")]),
    "is damaged",
)
case(
    "resume-binary-run-json",
    "traceback",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: _binary(r, "run.json")),
    "run.json",
)
case(
    "resume-missing-topology",
    "traceback",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: (r / "topology.pdb").unlink()),
    "topology.pdb",
)
case(
    "resume-bad-design-toml",
    "traceback",
    "refuse",
    lambda fx, d: _interrupted(fx, d, lambda r: _write(r, "design.toml", "name = [")),
    "design.toml",
)
case(
    "resume-truncated-stage-npt",
    "traceback",
    "ok",
    lambda fx, d: _interrupted(fx, d, lambda r: _cut(r / "stage-npt.xml", 0.5)),
    post=_frames_ok(60),
)


def _finished_cut(fx, d):
    run = _copy(fx.run, d)
    _cut(run / "trajectory.xtc", 0.5)
    return ["run", run]


def _junk_catalog(fx, d):
    (d / "c").mkdir()
    _write(d / "c", "catalog.sqlite", b"junk" * 100)
    return ["campaign", "status", d / "c"]


case("finished-run-trajectory-cut", "traceback", "refuse", _finished_cut, "should hold")

# tracebacks: analysis options -----------------------------------------------------------
case(
    "step-0",
    "traceback",
    "refuse",
    lambda fx, d: ["analyze", "rdf", fx.run, *PAIR, "--step", "0"],
    "--step",
)
for value in ("-1", "0", "1000", "abc"):
    case(
        f"cutoff-water-{value}",
        "traceback",
        "refuse",
        _analyze("coordination", "--cutoff", f"water={value}"),
        "--cutoff water",
    )
case("anion-abc", "traceback", "refuse", _analyze("pairing", "--anion", "Cl=abc"), "--anion Cl")
case(
    "charge-abc",
    "traceback",
    "refuse",
    _analyze("conductivity", "--species", "zn=resname ZN", "--charge", "zn=abc"),
    "--charge zn",
)
case(
    "trajectory-foo",
    "traceback",
    "refuse",
    lambda fx, d: [
        "analyze",
        "rdf",
        fx.run / "topology.pdb",
        _write(d, "t.foo", (fx.run / "trajectory.xtc").read_bytes()),
        *PAIR,
    ],
    "cannot open",
)
case(
    "text-named-xtc",
    "traceback",
    "refuse",
    lambda fx, d: [
        "analyze",
        "rdf",
        fx.run / "topology.pdb",
        _write(d, "t.xtc", "not a trajectory\n"),
        *PAIR,
    ],
    "cannot open",
)


def _mdtraj_lammpstrj(fx, d):
    import mdtraj

    t = mdtraj.load(str(fx.run / "trajectory.xtc"), top=str(fx.run / "topology.pdb"))
    t[:3].save_lammpstrj(str(d / "t.lammpstrj"))
    return ["analyze", "rdf", fx.run / "topology.pdb", d / "t.lammpstrj", *PAIR]


case("mdtraj-lammpstrj", "traceback", "refuse", _mdtraj_lammpstrj, "cannot open")

# tracebacks: campaign files, catalogs, Pareto ------------------------------------------
case(
    "campaign-analyses-int",
    "traceback",
    "refuse",
    lambda fx, d: [
        "campaign",
        "run",
        _raw_campaign(d, 'name = "c"\nbase = "base.toml"\nanalyses = 5\n'),
    ],
    "analyses must be a table",
)
case(
    "campaign-rank-int",
    "traceback",
    "refuse",
    lambda fx, d: [
        "campaign",
        "run",
        _raw_campaign(d, 'name = "c"\nbase = "base.toml"\nrank = 5\n'),
    ],
    "rank must be a table",
)
case(
    "campaign-protocol-str",
    "traceback",
    "refuse",
    lambda fx, d: [
        "campaign",
        "run",
        _raw_campaign(d, 'name = "c"\nbase = "base.toml"\nprotocol = "x"\n'),
    ],
    "protocol must be a table",
)
case(
    "campaign-base-int",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "run", _raw_campaign(d, 'name = "c"\nbase = 5\n')],
    "base must be",
)
case(
    "campaign-grid-bad-index",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d, grid={"salts.x.concentration": ["1 m"]})],
    "list index",
)
case(
    "campaign-grid-through-value",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d, grid={"name.x": ["a"]})],
    "does not lead to a table or list",
)
case(
    "campaign-name-300",
    "traceback",
    "refuse",
    lambda fx, d: ["campaign", "run", _campaign_file(d, name="x" * 300)],
    "characters long",
)
case("catalog-junk", "traceback", "refuse", _junk_catalog, "not a campaign catalog")
case(
    "rank-pareto-unknown",
    "traceback",
    "refuse",
    lambda fx, d: ["rank", _copy(fx.campaign, d), "--pareto", "foo,bar"],
    "unknown descriptors",
)
case(
    "campaign-pareto-string",
    "traceback",
    "refuse",
    lambda fx, d: [
        "campaign",
        "run",
        _campaign_file(d, rank={"weights": {"D_zn": 1.0}, "pareto": "zn_water_cn"}),
    ],
    "pareto must name two",
)
case(
    "campaign-weight-nan",
    "traceback",
    "refuse",
    lambda fx, d: [
        "campaign",
        "run",
        _raw_campaign(d, 'name = "c"\nbase = "base.toml"\n[rank]\nweights = { D_zn = nan }\n'),
    ],
    "finite",
)


# --- running and classifying ------------------------------------------------------------


def classify(case: Case, code, out: str, err: str, seconds: float, damage: str | None):
    text = out + err
    if damage or "DAMAGE:" in text:
        return "damage", damage or text.split("DAMAGE:", 1)[1].strip()[:200]
    if "Traceback" in text or code == 1 or (isinstance(code, int) and (code < 0 or code > 130)):
        return "traceback", (text.strip().splitlines() or [""])[-1][:200]
    if "UNCLEAR:" in text:
        return "unclear", text.split("UNCLEAR:", 1)[1].strip()[:200]
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if case.expect == "refuse":
        if code == 2 and len(errors) == 1 and case.fragment in errors[0]:
            return "clear", errors[0][:200]
        if code not in (0,):
            return "partial", (errors or err.strip().splitlines() or [""])[-1][:200]
        return "unclear", f"exit {code}: accepted"
    if case.expect == "warn":
        if case.fragment in text and "warning" in text.lower():
            return "clear", next((x for x in text.splitlines() if case.fragment in x), "")[:200]
        return ("unclear" if code == 0 else "partial"), f"exit {code}, no warning"
    if code == 0:
        return "clear", "repaired / worked"
    return "partial", (errors or [""])[-1][:200]


class RO:
    """A read-only tmpfs holding a copy of the run and campaign fixtures."""

    def __init__(self, fx: Fixtures):
        self.path = fx.root / "ro"
        self.ok = False
        self.path.mkdir(exist_ok=True)
        if os.geteuid() != 0:
            return
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(self.path)]
        ).returncode:
            return
        shutil.copytree(fx.run, self.path / "run")
        shutil.copytree(fx.campaign, self.path / "campaign")
        self.ok = subprocess.run(["mount", "-o", "remount,ro", str(self.path)]).returncode == 0

    def close(self):
        subprocess.run(["umount", str(self.path)], capture_output=True)


def run_case(case: Case, fx: Fixtures, folder: Path) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    try:
        if case.driver is not None:
            code, out, err = case.driver(fx, folder)
        else:
            argv = [str(a) for a in case.argv(fx, folder)]
            if case.post is not None and hasattr(case.post, "before"):
                case.post.before(fx, folder)
            proc = subprocess.run(
                [*CLI, *argv],
                capture_output=True,
                text=True,
                timeout=case.timeout,
                env={**ENV, **case.env},
                cwd=folder,
            )
            code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        code, out, err = 124, "", "DAMAGE: no answer within the time limit (hang)"
    seconds = time.perf_counter() - start
    damage = None
    if case.post is not None and case.driver is None:
        damage = case.post(fx, folder, subprocess.CompletedProcess([], code, out, err))
    verdict, why = classify(case, code, out, err, seconds, damage)
    return {
        "case": case.name,
        "group": case.group,
        "verdict": verdict,
        "exit": code,
        "seconds": round(seconds, 1),
        "message": why,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("hostile-work"))
    parser.add_argument("--out", type=Path, default=Path("hostile.csv"))
    parser.add_argument("--only", default="*", help="fnmatch pattern of case names")
    parser.add_argument("--start-at", default=None, help="skip the cases before this one")
    args = parser.parse_args()
    fx = Fixtures(args.workdir.absolute())
    todo = [c for c in CASES if fnmatch.fnmatch(c.name, args.only)]
    if args.start_at:
        todo = todo[[c.name for c in todo].index(args.start_at) :]
    ro = RO(fx) if any(c.name.startswith("ro-") for c in todo) else None
    fx.ro = ro.path if ro else None
    rows = []
    try:
        for c in todo:
            if c.name.startswith("ro-") and not (ro and ro.ok):
                rows.append(
                    {
                        "case": c.name,
                        "group": c.group,
                        "verdict": "skipped",
                        "exit": "",
                        "seconds": 0,
                        "message": "no read-only mount here",
                    }
                )
                continue
            row = run_case(c, fx, args.workdir.absolute() / "cases" / c.name)
            rows.append(row)
            print(
                f"{row['verdict']:>9}  {row['case']:<34} {row['seconds']:>6}s  {row['message']}",
                flush=True,
            )
    finally:
        if ro:
            ro.close()
    with args.out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    print("counts:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
