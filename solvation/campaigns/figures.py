"""Publication figures from a campaign directory alone (catalog + stored job results).

One style for every figure; each is written as PDF, SVG and PNG with the CSV of the
plotted data beside it. Output is byte-stable for the same data: no timestamps or
software strings in the files, a fixed SVG hash salt, sorted inputs.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from solvation.analysis.plots import draw_msd, draw_pair_pmf, draw_pmf
from solvation.rundir import (
    HBONDS_JSON,
    MSD_CSV,
    PMF_JSON,
    RDF_JSON,
    SHELLS_JSON,
    TRANSPORT_JSON,
    RunDir,
)
from solvation.style import METADATA, STYLE, category_styles

from .catalog import Catalog
from .jobs import job_directory
from .replicas import combine_descriptors


def _save(fig, data: pd.DataFrame, out: Path, name: str) -> list[Path]:
    paths = []
    for ext in ("pdf", "svg", "png"):
        path = out / f"{name}.{ext}"
        fig.savefig(path, metadata=METADATA[ext])
        paths.append(path)
    data.to_csv(out / f"{name}.csv", index=False)
    plt.close(fig)
    return [*paths, out / f"{name}.csv"]


def _first_replicas(directory: Path) -> dict[str, RunDir]:
    jobs = Catalog(directory).jobs()
    done = jobs[jobs.status == "done"].sort_values(["design", "replica"])
    return {d: RunDir(job_directory(directory, g.key.iloc[0])) for d, g in done.groupby("design")}


def fig_rdf(directory: Path, out: Path) -> list[Path]:
    """Zn-O(water) g(r) of every design (first replica), from each job's rdf.json.

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    rows = []
    fig, ax = plt.subplots()
    for design, path in _first_replicas(directory).items():
        rdf = path.read_json(RDF_JSON)
        if rdf is None or "water" not in rdf["pairs"]:
            continue
        pair = rdf["pairs"]["water"]
        ax.plot(pair["r_angstrom"], pair["g_r"], label=design, lw=1)
        rows += [
            {"design": design, "r_angstrom": r, "g_r": g, "n_r": n}
            for r, g, n in zip(pair["r_angstrom"], pair["g_r"], pair["n_r"], strict=True)
        ]
    ax.set(xlabel="r (Å)", ylabel="g(r) Zn–O(water)", xlim=(1.5, 6))
    ax.legend(fontsize=7)
    return _save(fig, pd.DataFrame(rows), out, "rdf_zn_ow")


def fig_speciation(directory: Path, out: Path, top: int = 12) -> list[Path]:
    """Stacked shell-composition fractions per design: each composition keeps one colour
    (hatched past ten, ``category_styles``) in every bar; frames and cutoffs as text.

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.
    top : int
        Shell compositions shown.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    rows, notes = [], []
    for design, path in _first_replicas(directory).items():
        shells = path.read_json(SHELLS_JSON)
        if shells is not None:
            rows += [
                {"design": design, "shell": k, "fraction": v}
                for k, v in shells["speciation"].items()
            ]
            cutoffs = ", ".join(f"{k} {v:.2f} Å" for k, v in shells["cutoffs_angstrom"].items())
            notes.append(f"{design}: {shells['n_frames']} frames, cutoffs {cutoffs}")
    data = pd.DataFrame(rows, columns=["design", "shell", "fraction"])
    fig, ax = plt.subplots(figsize=(6.5, 3.6 + 0.15 * len(notes)))
    if len(data):
        keep = data.groupby("shell").fraction.max().nlargest(top).index
        shown = data.assign(shell=data.shell.where(data.shell.isin(keep), "other"))
        table = shown.pivot_table(
            index="design", columns="shell", values="fraction", aggfunc="sum", fill_value=0.0
        ).sort_index(axis=1)
        styles = category_styles(table.columns)
        left = np.zeros(len(table))
        for shell in table.columns:
            colour, hatch = styles[shell]
            ax.barh(
                table.index,
                table[shell],
                left=left,
                height=0.7,
                label=shell,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                linewidth=0.3,
            )
            left += table[shell].to_numpy()
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set(xlabel="fraction of Zn²⁺", ylabel="")
    if notes:
        ax.set_title("\n".join(notes), fontsize=6, loc="left")
    return _save(fig, data, out, "speciation")


def fig_hbond_classes(directory: Path, out: Path) -> list[Path]:
    """Water H-bond class fractions of every design (first replica), from hbonds.json.

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    rows = []
    for design, path in _first_replicas(directory).items():
        hbonds = path.read_json(HBONDS_JSON)
        if hbonds is not None:
            classes = hbonds["class_fractions"]
            rows += [{"design": design, "class": k, "fraction": v} for k, v in classes.items()]
    data = pd.DataFrame(rows, columns=["design", "class", "fraction"])
    fig, ax = plt.subplots()
    if len(data):
        keep = data.groupby("class").fraction.max().nlargest(8).index
        table = data[data["class"].isin(keep)].pivot_table(
            index="class", columns="design", values="fraction", fill_value=0.0
        )
        table.sort_index().plot.bar(ax=ax, width=0.8)
    ax.set(xlabel="water H-bond class", ylabel="fraction of water")
    return _save(fig, data, out, "hbond_classes")


def fig_msd(directory: Path, out: Path) -> list[Path]:
    """Zn2+ MSD of every design (first replica) on log-log axes, from each job's msd.csv,
    with the fit window shaded and the fitted diffusive line with D +- its standard error
    (transport.json; ``analysis.plots.draw_msd``).

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    frames = []
    fig, ax = plt.subplots()
    col = "msd_Zn2+_angstrom2"
    for design, path in _first_replicas(directory).items():
        transport = path.read_json(TRANSPORT_JSON)
        if not path.output(MSD_CSV).exists() or transport is None:
            continue
        msd = pd.read_csv(path.output(MSD_CSV))
        fit = transport["species"].get("Zn2+")
        if col in msd and fit is not None:
            draw_msd(ax, msd.lag_ps, msd[col], fit, design)
            lo, hi = fit["fit_window_ps"]
            frames.append(
                msd[["lag_ps", col]].assign(
                    design=design,
                    fit_from_ps=lo,
                    fit_to_ps=hi,
                    D_m2_per_s=fit["D_m2_per_s"],
                    D_err_m2_per_s=fit["D_err_m2_per_s"],
                )
            )
    ax.set(xlabel="lag (ps)", ylabel="MSD Zn²⁺ (Å²)")
    ax.legend(fontsize=6, frameon=False)
    data = pd.concat(frames) if frames else pd.DataFrame()
    return _save(fig, data, out, "msd_zn")


def fig_pmf(directory: Path, out: Path) -> list[Path]:
    """Free-energy profile of the PMF ion (top) over its first-shell water count (bottom),
    one curve per design (first replica), from each job's pmf.json; [] without any.

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    results = {
        design: result
        for design, result in _pmf_results(directory).items()
        if "z_nm" in result  # surface PMFs; pair PMFs: fig_pair_pmf
    }
    if not results:
        return []
    fig, axes = plt.subplots(2, 1, figsize=(5.0, 5.0), sharex=True, height_ratios=(2, 1))
    rows = []
    for design, result in results.items():
        draw_pmf(axes, result, design)
        keys = ("z_nm", "free_energy_kj_per_mol", "free_energy_err_kj_per_mol")
        keys += ("water_count", "water_count_err")
        rows += [
            {"design": design, **dict(zip(keys, values, strict=True))}
            for values in zip(*(result[k] for k in keys), strict=True)
        ]
    axes[0].axhline(0.0, color="0.6", lw=0.6)
    axes[0].legend(fontsize=7)
    return _save(fig, pd.DataFrame(rows), out, "pmf")


def _pmf_results(directory: Path) -> dict[str, dict]:
    """pmf.json of each design's first replica."""
    return {
        design: result
        for design, path in _first_replicas(directory).items()
        if (result := path.read_json(PMF_JSON)) is not None
    }


def fig_pair_pmf(directory: Path, out: Path) -> list[Path]:
    """Pair PMFs W(r) with their error bands (top) over the cation's first-shell water
    count (bottom), one curve per design (first replica), from each job's pmf.json;
    [] without any.

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    results = {d: r for d, r in _pmf_results(directory).items() if "r_nm" in r}
    if not results:
        return []
    fig, axes = plt.subplots(2, 1, figsize=(5.0, 5.0), sharex=True, height_ratios=(2, 1))
    keys = ("r_nm", "w_kj_per_mol", "w_err_kj_per_mol", "water_count", "partner_in_shell")
    rows = []
    for design, result in results.items():
        draw_pair_pmf(axes, result, f"{design} ({result['partner']})")
        rows += [
            {"design": design, "partner": result["partner"], **dict(zip(keys, v, strict=True))}
            for v in zip(*(result[k] for k in keys), strict=True)
        ]
    axes[0].axhline(0.0, color="0.6", lw=0.6)
    axes[0].legend(fontsize=7)
    return _save(fig, pd.DataFrame(rows), out, "pair_pmf")


def fig_descriptor(directory: Path, out: Path, name: str, label: str) -> list[Path]:
    """Bars of one descriptor per design, combined over replicas, with the combined
    standard error; unconverged values are hatched and labelled.

    Parameters
    ----------
    directory : Path
        The campaign directory.
    out : Path
        Folder of the figure files.
    name : str
        Descriptor name.
    label : str
        Axis label.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    table = Catalog(directory).descriptors()
    data = combine_descriptors(table[table.name == name])
    fig, ax = plt.subplots()
    for k, row in enumerate(data.itertuples()):
        ax.bar(
            k,
            row.value,
            yerr=row.err if np.isfinite(row.err) else 0.0,
            capsize=3,
            color="C0",
            hatch=None if row.converged else "//",
            alpha=1.0 if row.converged else 0.5,
        )
        if not row.converged:
            ax.annotate("not converged", (k, row.value), ha="center", va="bottom", fontsize=6)
    ax.set_xticks(range(len(data)), data.design)
    ax.set(ylabel=f"{label} (± standard error)")
    ax.tick_params(axis="x", labelrotation=20, labelsize=7)
    return _save(fig, data, out, f"descriptor_{name}")


def fig_ranking(ranking_csv: Path, out: Path) -> list[Path]:
    """Scores with their spread over draws, P(first), the 95% rank interval, and beneath
    the plot the pairs of neighbours that cannot be separated (from separability.csv).

    Parameters
    ----------
    ranking_csv : Path
        ranking.csv of the campaign.
    out : Path
        Folder of the figure files.

    Returns
    -------
    list of Path
        The PDF, SVG, PNG and CSV files written.
    """
    data = pd.read_csv(ranking_csv)
    fig, ax = plt.subplots(figsize=(6.0, 3.2 + 0.18 * len(data)))
    ax.barh(data.design[::-1], data.score[::-1], xerr=data.score_err[::-1], capsize=3)
    right = float((data.score + data.score_err).max())
    left = float((data.score - data.score_err).min())
    for y, row in enumerate(data[::-1].itertuples()):
        interval = f"rank {row.rank_low}-{row.rank_high}" if "rank_low" in data else ""
        flag = "*" if isinstance(getattr(row, "unconverged", ""), str) and row.unconverged else ""
        ax.annotate(
            f"P(first) {row.p_first:.2f}{flag}  {interval}",
            (right, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_xlim(right=right + 0.6 * (right - left))
    ax.set(xlabel="score (weighted, normalised descriptors)")
    notes = _separability_notes(ranking_csv.parent / "separability.csv")
    if "unconverged" in data and data.unconverged.fillna("").astype(bool).any():
        notes.append("* unconverged descriptors, drawn from all designs' values")
    if notes:  # a figure-level label, so the constrained layout makes room for it
        fig.supxlabel("\n".join(notes), fontsize=6, x=0.01, ha="left")
    return _save(fig, data, out, "ranking")


def _separability_notes(path: Path) -> list[str]:
    if not path.exists():
        return []
    table = pd.read_csv(path)
    return [str(t) for t, ok in zip(table.text, table.separable, strict=True) if not ok]


def make_figures(directory: str | Path, out: str | Path | None = None) -> list[Path]:
    """Every figure of a campaign directory into ``out`` (default DIR/figures).

    Parameters
    ----------
    directory : str or Path
        The campaign directory.
    out : str or Path, optional
        Folder of the figures.
    """
    directory = Path(directory)
    Catalog.existing(directory)  # refuse a directory that is not a campaign directory
    out = Path(out) if out else directory / "figures"
    out.mkdir(parents=True, exist_ok=True)
    with plt.style.context(STYLE):
        paths = fig_rdf(directory, out) + fig_speciation(directory, out)
        paths += fig_hbond_classes(directory, out) + fig_msd(directory, out)
        for name, label in (
            ("D_zn", "D(Zn²⁺) (m²/s)"),
            ("zn_water_cn", "CN Zn–O(water)"),
            ("free_water_fraction", "free water fraction"),
        ):
            paths += fig_descriptor(directory, out, name, label)
        paths += fig_pmf(directory, out) + fig_pair_pmf(directory, out)
        if (directory / "ranking.csv").exists():
            paths += fig_ranking(directory / "ranking.csv", out)
    return paths


def write_ranking_figure(directory: str | Path) -> list[Path]:
    """The ranking figure of DIR/ranking.csv into DIR/figures.

    Parameters
    ----------
    directory : str or Path
        The campaign directory.
    """
    directory = Path(directory)
    (directory / "figures").mkdir(exist_ok=True)
    with plt.style.context(STYLE):
        return fig_ranking(directory / "ranking.csv", directory / "figures")
