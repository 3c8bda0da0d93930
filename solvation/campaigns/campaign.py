"""Campaign files: many designs (a base design and/or a list, each expanded over the
grid) x replicas, one protocol, the analyses to run and ranking weights.

```toml
name = "additive-screen"
base = "../znso4_2m.toml"                 # relative to this file
# designs = ["a.toml", "b.toml"]          # more designs; [set] and [grid] apply to each
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
kind = "local"                            # local | dask | slurm (options: campaigns.slurm)
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
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from solvation.design import Design, DesignError, parse_design
from solvation.engine import protocol_from
from solvation.errors import SolvationError
from solvation.inputs import InputError, check_name, read_text
from solvation.provenance import RUN_PACKAGES, versions
from solvation.systems import check_design

from .definitions import DESCRIPTORS
from .jobs import ANALYSES, DEFAULT_ANALYSES
from .slurm import check_options

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


def _index(node: list, key: str, dotted: str) -> int:
    """The list index ``key`` of the grid/set path ``dotted`` (refused unless a small
    whole number)."""
    if not key.isdigit() or int(key) > 100:
        raise CampaignError(
            f"grid/set key {dotted!r}: {key!r} must be a list index (0, 1, ...) there"
        )
    while len(node) <= int(key):
        node.append({})
    return int(key)


def _set_path(data: dict, dotted: str, value) -> None:
    """Set ``a.0.b`` in nested dicts/lists; value "none" removes a list entry."""
    keys = dotted.split(".")
    if not all(keys):
        raise CampaignError(f"grid/set key {dotted!r} has an empty part")
    node = data
    for k, nxt in zip(keys[:-1], keys[1:], strict=True):
        if isinstance(node, list):
            node = node[_index(node, k, dotted)]
        elif isinstance(node, dict):
            node = node.setdefault(k, [] if nxt.isdigit() else {})
        else:
            raise CampaignError(f"grid/set key {dotted!r}: {k!r} is not a table or list there")
    last = keys[-1]
    if not isinstance(node, (list, dict)):
        raise CampaignError(f"grid/set key {dotted!r} does not lead to a table or list")
    if isinstance(node, list):
        node[_index(node, last, dotted)] = value
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
    grid = raw.get("grid") or {}
    for key in grid:
        if not isinstance(grid[key], list) or not grid[key]:
            raise CampaignError(f"[grid] {key!r} must be a non-empty list of values")
    out = []
    names = list(grid)
    for values in itertools.product(*(grid[k] for k in names)) if names else [()]:
        design = copy.deepcopy(base)
        for key, value in (raw.get("set") or {}).items():
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
    for key in [*(raw.get("grid") or {}), *(raw.get("set") or {})]:
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
    try:
        text = read_text(design, "design file")
    except InputError as err:
        raise CampaignError(f"{campaign}: {err}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(f"{campaign}: design file {design} is not valid TOML: {err}") from None


def _check_executor(table: dict, path: Path) -> None:
    """``[executor]``: a known kind and a positive whole number of slots; the options of
    the slurm kind (``solvation.campaigns.slurm``)."""
    kind = table.get("kind", "local")
    if kind not in EXECUTOR_KINDS:
        raise CampaignError(
            f"{path}: [executor] kind {kind!r} is unknown; use one of {', '.join(EXECUTOR_KINDS)}"
        )
    if kind == "slurm":
        check_options(table, str(path))
        return
    slots = table.get("slots", 1)
    if not isinstance(slots, int) or isinstance(slots, bool) or slots < 1:
        raise CampaignError(f"{path}: [executor] slots must be a whole number >= 1, got {slots!r}")


CAMPAIGN_KEYS = (
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
)
TABLES = ("grid", "set", "protocol", "analyses", "rank", "executor")


def _read_raw(path: Path) -> tuple[dict, str]:
    """The campaign file's tables and text; its top-level keys and their TOML types
    checked (a table where a table belongs, text where a path belongs)."""
    try:
        text = read_text(path, "campaign file")
    except InputError as err:
        raise CampaignError(str(err)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(f"{path} is not valid TOML: {err}") from None
    unknown = set(raw) - set(CAMPAIGN_KEYS)
    if unknown:
        raise CampaignError(f"unknown campaign keys {sorted(unknown)}")
    for key in TABLES:
        if key in raw and not isinstance(raw[key], dict):
            raise CampaignError(
                f"{path}: {key} must be a table ([{key}] or {key} = {{ ... }}), got "
                f"{type(raw[key]).__name__} {raw[key]!r}"
            )
    if "base" in raw and not isinstance(raw["base"], str):
        raise CampaignError(f"{path}: base must be the path of a design file, got {raw['base']!r}")
    designs = raw.get("designs", [])
    if not isinstance(designs, list) or not all(isinstance(d, str) for d in designs):
        raise CampaignError(f"{path}: designs must be a list of design file paths")
    return raw, text


def _analyses(raw: dict, path: Path) -> tuple[str, ...]:
    names = (raw.get("analyses") or {}).get("list", DEFAULT_ANALYSES)
    if not isinstance(names, (list, tuple)) or not all(isinstance(a, str) for a in names):
        raise CampaignError(f"{path}: [analyses] list must be a list of names, got {names!r}")
    if set(names) - set(ANALYSES):
        raise CampaignError(
            f"unknown analyses {sorted(set(names) - set(ANALYSES))}; "
            f"choose from {', '.join(ANALYSES)}"
        )
    return tuple(names)


def check_weights(weights, where: str) -> dict[str, float]:
    """Ranking weights: finite numbers of known descriptors.

    Parameters
    ----------
    weights : dict
        Descriptor -> weight.
    where : str
        Where they were given, for the message.

    Raises
    ------
    CampaignError
        For a weight that is not a finite number, or an unknown descriptor.
    """
    if not isinstance(weights, dict):
        raise CampaignError(f"{where}: [rank] weights must be a table, got {weights!r}")
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CampaignError(f"{where}: weight {name} = {value!r} must be a number")
        if not math.isfinite(value):
            raise CampaignError(f"{where}: weight {name} = {value!r} must be a finite number")
    bad = set(weights) - set(DESCRIPTORS)
    if bad:
        raise CampaignError(
            f"weights name unknown descriptors {sorted(bad)}; known: {', '.join(DESCRIPTORS)}"
        )
    return {k: float(v) for k, v in weights.items()}


def check_pareto(pareto, where: str) -> tuple[str, str] | None:
    """A Pareto pair: two known descriptors (None passes through).

    Parameters
    ----------
    pareto : list of str or None
        The two descriptors.
    where : str
        Where they were given, for the message.

    Raises
    ------
    CampaignError
        For anything but two known descriptor names.
    """
    if pareto is None:
        return None
    if isinstance(pareto, str) or not isinstance(pareto, (list, tuple)) or len(pareto) != 2:
        raise CampaignError(
            f'{where}: pareto must name two descriptors, e.g. ["zn_water_cn", "D_zn"]; '
            f"got {pareto!r}"
        )
    bad = [p for p in pareto if p not in DESCRIPTORS]
    if bad:
        raise CampaignError(
            f"{where}: pareto names unknown descriptors {bad}; known: {', '.join(DESCRIPTORS)}"
        )
    return tuple(pareto)


def _jobs(variants, raw: dict, analyses, replicas: int) -> list[Job]:
    protocol_table = raw.get("protocol") or {}
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
    return jobs


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
    raw, text = _read_raw(path)
    try:
        name = check_name(raw.get("name", path.stem), "campaign name")
    except InputError as err:
        raise CampaignError(f"{path}: {err}") from None
    bases = [(path.parent / raw["base"])] if "base" in raw else []
    bases += [path.parent / p for p in raw.get("designs", [])]
    if not bases:
        raise CampaignError("give a base design (base = ...) or a list (designs = [...])")
    variants = []
    for base_path in bases:  # [set] and [grid] apply to every design, base and list alike
        base = _read_design(base_path, path)
        _check_paths(raw, base)
        variants += _variants(raw, base)
    replicas = raw.get("replicas", DEFAULT_REPLICAS)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or not 1 <= replicas <= 1000:
        raise CampaignError(
            f"{path}: replicas must be a whole number from 1 to 1000, got {replicas!r}"
        )
    analyses = _analyses(raw, path)
    jobs = _jobs(variants, raw, analyses, replicas)
    rank = raw.get("rank") or {}
    weights = check_weights(rank.get("weights", {}), str(path))
    pareto = check_pareto(rank.get("pareto"), str(path))
    _check_executor(raw.get("executor") or {}, path)
    return Campaign(
        name,
        path,
        jobs,
        weights,
        pareto,
        raw.get("executor") or {},
        hashlib.sha256(text.encode()).hexdigest()[:16],
        [n for n, _ in variants],
    )
