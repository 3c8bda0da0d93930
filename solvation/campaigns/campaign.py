"""Campaign files: many designs (a list and/or a grid over a base design) x replicas,
one protocol, the analyses to run and ranking weights.

```toml
name = "additive-screen"
base = "../znso4_2m.toml"                 # relative to this file
replicas = 3
[grid]                                    # dotted paths into the design, values to try
"additives.0.name" = ["none", "xylitol", "EG"]   # "none" drops that entry
"salts.0.concentration" = ["1 m", "2 m"]
[set]                                     # applied to every design before the grid
"additives.0.concentration" = "100 mM"
[protocol]
production = "20 ns"
[rank]
weights = { zn_water_cn = -1.0, free_water_fraction = -1.0, D_zn = 0.5 }
pareto = ["zn_water_cn", "D_zn"]
[executor]
kind = "local"                            # local | dask
slots = 1
```
A job is one design and replica; its key is a content hash of the design, protocol,
replica seed and the versions that change results. Replicas default to
``DEFAULT_REPLICAS`` (3): replica r of a design uses seed + r for both the packing
(packmol) and the initial velocities and Langevin noise, so replicas start from
different structures and the ranking can measure the spread between them.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from solvation.design import Design, DesignError, parse_design
from solvation.engine import protocol_from
from solvation.errors import SolvationError
from solvation.provenance import RUN_PACKAGES, versions
from solvation.systems import check_design

from .jobs import ANALYSES, DEFAULT_ANALYSES

DESCRIPTORS = (
    "zn_water_cn",
    "zn_anion_cn",
    "cip_fraction",
    "hbonds_per_water",
    "free_water_fraction",
    "tetrahedral_q",
    "D_zn",
    "D_water",
    "sigma",
    "t_zn",
    "a_w",
    "osmotic_coefficient",
    "kb_a_cc",
    "desolvation_barrier",  # kJ/mol, from [analyses] "pmf"
    "adsorption_free_energy",  # kJ/mol
    "pairing_free_energy",  # kJ/mol, W_CIP - W_SSIP, from a [pmf] pair
    "log_ka",  # log10 K_A (1 mol/L), from a [pmf] pair
    "shell_entry_free_energy",  # kJ/mol, -RT ln(K_CIP c deg), from a [pmf] pair
    "cip_fraction_equilibrium",  # from [analyses] "metad"
)


DEFAULT_REPLICAS = 3


class CampaignError(SolvationError):
    """A campaign file that cannot be expanded into jobs."""


@dataclass(frozen=True)
class Job:
    """One design and replica of a campaign.

    Attributes
    ----------
    key : str
        Job key (``job_key``).
    design_name : str
    replica : int
    design : dict
        The design tables.
    protocol : dict
        The campaign's ``[protocol]`` table.
    analyses : tuple of str
        Analyses to run after the MD.
    """

    key: str
    design_name: str
    replica: int
    design: dict
    protocol: dict
    analyses: tuple[str, ...]


@dataclass
class Campaign:
    """A campaign file expanded into its jobs.

    Attributes
    ----------
    name : str
    path : Path
        The campaign file.
    jobs : list of Job
    weights : dict of str to float
        Ranking weight of each descriptor.
    pareto : tuple of str or None
        Descriptors of the Pareto front.
    executor : dict
        The ``[executor]`` table (kind, slots ...).
    file_hash : str
        Hash of the campaign file.
    designs : list of str
        Design names, in file order.
    """

    name: str
    path: Path
    jobs: list[Job]
    weights: dict[str, float]
    pareto: tuple[str, ...] | None
    executor: dict
    file_hash: str
    designs: list[str] = field(default_factory=list)


def _set_path(data: dict, dotted: str, value) -> None:
    """Set ``a.0.b`` in nested dicts/lists; value "none" removes a list entry."""
    keys = dotted.split(".")
    node = data
    for k, nxt in zip(keys[:-1], keys[1:], strict=True):
        if isinstance(node, list):
            k = int(k)
            while len(node) <= k:
                node.append({})
            node = node[k]
        else:
            node = node.setdefault(k, [] if nxt.isdigit() else {})
    last = keys[-1]
    if isinstance(node, list):
        idx = int(last)
        while len(node) <= idx:
            node.append({})
        node[idx] = value
    elif isinstance(value, str) and value.lower() == "none" and keys[-2:-1] and keys[-2].isdigit():
        node["__drop__"] = True
    else:
        node[last] = value


def _drop_marked(data):
    if isinstance(data, dict):
        return {k: _drop_marked(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_drop_marked(v) for v in data if not (isinstance(v, dict) and v.get("__drop__"))]
    return data


def _label(assignment: dict) -> str:
    parts = []
    for key, value in assignment.items():
        short = key.split(".")[-1] if key.split(".")[-1] not in ("name", "formula") else ""
        parts.append(f"{short}{value}".replace(" ", "").replace("/", "-"))
    return "_".join(parts) or "base"


def _variants(raw: dict, base: dict) -> list[tuple[str, dict]]:
    """(label, design dict) for the grid (or the base alone)."""
    grid = raw.get("grid", {})
    for key in grid:
        if not isinstance(grid[key], list) or not grid[key]:
            raise CampaignError(f"[grid] {key!r} must be a non-empty list of values")
    out = []
    names = list(grid)
    for values in itertools.product(*(grid[k] for k in names)) if names else [()]:
        design = copy.deepcopy(base)
        for key, value in raw.get("set", {}).items():
            _set_path(design, key, value)
        assignment = dict(zip(names, values, strict=True))
        for key, value in assignment.items():
            _set_path(design, key, value)
        design = _drop_marked(design)
        label = f"{base.get('name', 'design')}_{_label(assignment)}" if names else base["name"]
        design["name"] = label.replace("%", "pct")
        out.append((design["name"], design))
    return out


def _check_paths(raw: dict, base: dict) -> None:
    """A grid key must name a field that exists in the design schema."""
    fields = {
        "name",
        "temperature",
        "water",
        "salts",
        "additives",
        "cosolvents",
        "box",
        "forcefield",
        "slab",
        "pmf",
        "metad",
        "protocol",
    }
    for key in [*raw.get("grid", {}), *raw.get("set", {})]:
        if key.split(".")[0] not in fields:
            raise CampaignError(
                f"grid/set key {key!r} names no design field; top-level "
                f"fields are {', '.join(sorted(fields))}"
            )


def _versions() -> str:
    return ";".join(f"{p}={v}" for p, v in versions(RUN_PACKAGES).items())


def job_key(design: dict, protocol: dict, replica: int, analyses) -> str:
    """Key of a job: hash of its design, protocol, replica, analyses and package versions.

    Parameters
    ----------
    design : dict
        The design tables.
    protocol : dict
        The ``[protocol]`` table.
    replica : int
    analyses : iterable of str
    """
    text = json.dumps(
        {
            "design": design,
            "protocol": protocol,
            "replica": replica,
            "analyses": list(analyses),
            "versions": _versions(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


EXECUTOR_KINDS = ("local", "dask", "slurm")


def _read_design(design: Path, campaign: Path) -> dict:
    """A design file named by a campaign (TOML table)."""
    if not design.is_file():
        raise CampaignError(f"{campaign}: design file {design} does not exist")
    try:
        return tomllib.loads(design.read_text())
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(f"{campaign}: design file {design} is not valid TOML: {err}") from None


def _check_executor(table: dict, path: Path) -> None:
    """``[executor]``: a known kind and a positive whole number of slots."""
    kind = table.get("kind", "local")
    if kind not in EXECUTOR_KINDS:
        raise CampaignError(
            f"{path}: [executor] kind {kind!r} is unknown; use one of {', '.join(EXECUTOR_KINDS)}"
        )
    slots = table.get("slots", 1)
    if not isinstance(slots, int) or isinstance(slots, bool) or slots < 1:
        raise CampaignError(f"{path}: [executor] slots must be a whole number >= 1, got {slots!r}")


def load_campaign(path: str | Path) -> Campaign:
    """Read and expand a campaign file; designs are validated before anything runs.

    Parameters
    ----------
    path : str or Path
        A campaign TOML file.

    Raises
    ------
    CampaignError, DesignError
        For a missing or invalid file or design.
    """
    path = Path(path)
    if not path.exists():
        raise CampaignError(f"campaign file {path} does not exist")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(f"{path} is not valid TOML: {err}") from None
    unknown = set(raw) - {
        "name",
        "base",
        "replicas",
        "grid",
        "set",
        "designs",
        "protocol",
        "analyses",
        "rank",
        "executor",
    }
    if unknown:
        raise CampaignError(f"unknown campaign keys {sorted(unknown)}")
    bases = [(path.parent / raw["base"])] if "base" in raw else []
    bases += [path.parent / p for p in raw.get("designs", [])]
    if not bases:
        raise CampaignError("give a base design (base = ...) or a list (designs = [...])")
    variants = []
    for base_path in bases:
        base = _read_design(base_path, path)
        _check_paths(raw, base)
        variants += _variants(
            raw if base_path == bases[0] and "base" in raw else {"set": raw.get("set", {})}, base
        )
    replicas = raw.get("replicas", DEFAULT_REPLICAS)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        raise CampaignError(f"{path}: replicas must be a whole number >= 1, got {replicas!r}")
    analyses = tuple(raw.get("analyses", {}).get("list", DEFAULT_ANALYSES))
    if set(analyses) - set(ANALYSES):
        raise CampaignError(
            f"unknown analyses {sorted(set(analyses) - set(ANALYSES))}; "
            f"choose from {', '.join(ANALYSES)}"
        )
    protocol_table = raw.get("protocol", {})
    jobs, seen = [], set()
    for name, data in variants:
        try:
            design: Design = parse_design(data, name)
            check_design(design)
        except DesignError as err:
            raise CampaignError(str(err)) from None
        if name in seen:
            raise CampaignError(f"two designs are both named {name!r}")
        seen.add(name)
        protocol = protocol_from({**design.protocol, **protocol_table}, design.temperature)
        for r in range(replicas):
            d = design.model_dump(mode="json")
            d["forcefield"]["seed"] = design.forcefield.seed + r
            jobs.append(
                Job(
                    job_key(d, protocol.to_dict(), r, analyses),
                    name,
                    r,
                    d,
                    {**design.protocol, **protocol_table},
                    analyses,
                )
            )
    rank = raw.get("rank", {})
    weights = rank.get("weights", {})
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in weights.values()):
        raise CampaignError(f"{path}: [rank] weights must be numbers, got {weights!r}")
    weights = {k: float(v) for k, v in weights.items()}
    bad = set(weights) - set(DESCRIPTORS)
    if bad:
        raise CampaignError(
            f"weights name unknown descriptors {sorted(bad)}; known: {', '.join(DESCRIPTORS)}"
        )
    pareto = tuple(rank["pareto"]) if "pareto" in rank else None
    _check_executor(raw.get("executor", {}), path)
    return Campaign(
        raw.get("name", path.stem),
        path,
        jobs,
        weights,
        pareto,
        raw.get("executor", {}),
        hashlib.sha256(text.encode()).hexdigest()[:16],
        [n for n, _ in variants],
    )
