"""Quick-look PNG plots for the analysis CLI (``--plot``), in the package's one style.

Readable first: every RDF pair gets its own panel (g(r) and its running coordination
number n(r) on a twin axis, so that a Zn-O n(r) of 6 is not flattened by an O-O n(r) of
100); coordination-number bars are centred on their integers; each shell composition
has its own colour (hatched past ten, ``solvation.style.category_styles``); the frame
count and the cutoffs are written on the figure; MSDs are on log-log axes with the fit
window shaded and the fitted line with its error band. Each function saves the PNG and
returns the (closed) matplotlib Figure.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from solvation.style import STYLE, category_styles

from .pairing import coulomb_tail_kj_per_mol


def _styled(plot):
    """Run ``plot`` inside the package style."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with plt.style.context(STYLE):
            return plot(*args, **kwargs)

    return wrapper


@_styled
def plot_rdf(result, path: str | Path, cutoffs: dict[str, float] | None = None):
    """One panel per pair: g(r) (left axis), n(r) (dashed, right axis), the first peak
    and any cutoff (A) marked; the frame count in the title.

    Parameters
    ----------
    result : RDFResult
    path : str or Path
        Image file to write.
    cutoffs : dict of str to float, optional
        Cutoff (A) to mark, per pair name.
    """
    names = list(result.pairs)
    cols = min(2, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), dpi=150, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        pair = result.pairs[name]
        (line,) = ax.plot(result.r_angstrom, pair.g_r, lw=1.2)
        peak = result.first_peak(name)
        if peak is not None:
            ax.annotate(f"{peak[0]:.2f} Å", peak, fontsize=7)
        twin = ax.twinx()
        twin.plot(result.r_angstrom, pair.n_r, ls="--", color=line.get_color(), lw=0.8)
        if cutoffs and name in cutoffs:
            ax.axvline(cutoffs[name], color="0.5", lw=0.8, ls=":")
            n_at = float(np.interp(cutoffs[name], result.r_angstrom, pair.n_r))
            twin.annotate(f"n = {n_at:.2f}", (cutoffs[name], n_at), fontsize=7)
        ax.set(title=name, xlabel="r (Å)", ylabel="g(r)")
        twin.set_ylabel("n(r) (dashed)")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"{result.n_frames} frames", fontsize=8)
    fig.savefig(path)
    plt.close(fig)
    return fig


def _cn_bars(ax, result) -> None:
    """Coordination-number distributions, bars of each shell centred on the integers."""
    shells = list(result.coordination_distribution)
    width = 0.8 / max(1, len(shells))
    for k, name in enumerate(shells):
        dist = result.coordination_distribution[name]
        offset = (k - (len(shells) - 1) / 2) * width
        xs = [int(n) + offset for n in dist]
        ax.bar(xs, list(dist.values()), width=width, label=name)
    ticks = sorted({int(n) for d in result.coordination_distribution.values() for n in d})
    ax.set_xticks(ticks)
    ax.set(xlabel="coordination number", ylabel="fraction")
    ax.legend(frameon=False)


@_styled
def plot_shells(result, path: str | Path, top: int = 12):
    """Coordination-number distributions and the ``top`` most common shell compositions,
    each composition with its own colour/hatch; frames, centres and cutoffs as text.

    Parameters
    ----------
    result : SolvationResult
    path : str or Path
        Image file to write.
    top : int
        Number of shell compositions shown.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8), dpi=150)
    _cn_bars(left, result)
    shown = list(result.speciation.items())[:top]
    styles = category_styles(result.speciation)
    labels = [k for k, _ in shown][::-1]
    bars = right.barh(labels, [v for _, v in shown][::-1])
    for bar, label in zip(bars, labels, strict=True):
        colour, hatch = styles[label]
        bar.set_facecolor(colour)
        bar.set_hatch(hatch)
    right.set_xlabel("fraction of centres")
    cutoffs = ", ".join(f"{k} {v:.2f} Å" for k, v in result.cutoffs_angstrom.items())
    fig.suptitle(
        f"{result.center}: {result.n_frames} frames x {result.n_centers} centres; "
        f"cutoffs {cutoffs}",
        fontsize=8,
    )
    fig.savefig(path)
    plt.close(fig)
    return fig


@_styled
def plot_interface(result, path: str | Path):
    """Number densities (top) and the electrostatic potential (bottom) against distance.

    Parameters
    ----------
    result : InterfaceResult
    path : str or Path
        Image file to write.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5), dpi=150, sharex=True)
    for name, density in result.number_density_per_nm3.items():
        top.plot(result.distance_angstrom, density, label=name, lw=1)
    top.set_ylabel("number density (nm⁻³)")
    top.legend(frameon=False)
    bottom.plot(result.distance_angstrom, result.potential_V, color="k", lw=1)
    bottom.set(xlabel="distance from the surface (Å)", ylabel="potential (V)")
    fig.suptitle(f"{result.n_frames} frames", fontsize=8)
    fig.savefig(path)
    plt.close(fig)
    return fig


def draw_pmf(axes, result, label: str | None = None) -> None:
    """A PMF result (``analysis.pmf.PMFResult`` or its dict) on two axes sharing x: the
    free energy with its error band on ``axes[0]``, the first-shell water count with its
    error bars on ``axes[1]``.

    Parameters
    ----------
    axes : sequence of two matplotlib Axes
    result : PMFResult or dict
    label : str, optional
        Legend label.
    """
    get = result.get if isinstance(result, dict) else functools.partial(getattr, result)
    z = np.asarray(get("z_nm"), dtype=float)
    f = np.asarray(get("free_energy_kj_per_mol"), dtype=float)
    df = np.nan_to_num(np.asarray(get("free_energy_err_kj_per_mol"), dtype=float))
    water = np.asarray(get("water_count"), dtype=float)
    dwater = np.nan_to_num(np.asarray(get("water_count_err"), dtype=float))
    (line,) = axes[0].plot(z, f, lw=1.2, label=label)
    axes[0].fill_between(z, f - df, f + df, color=line.get_color(), alpha=0.25, lw=0)
    axes[1].errorbar(z, water, yerr=dwater, color=line.get_color(), lw=1, capsize=2)
    axes[0].set_ylabel("F (kJ/mol)")
    axes[1].set(xlabel="ion height above the top atomic plane (nm)", ylabel="first-shell water")


@_styled
def plot_pmf(result, path: str | Path) -> None:
    """Free-energy profile over the first-shell water count.

    Parameters
    ----------
    result : PMFResult or dict
    path : str or Path
        Image file to write.
    """
    fig, axes = plt.subplots(2, 1, figsize=(5, 5), sharex=True, height_ratios=(2, 1))
    draw_pmf(axes, result)
    fig.savefig(path)
    plt.close(fig)
    return fig


def draw_pair_pmf(axes, result, label: str | None = None) -> None:
    """A pair PMF (``analysis.pair_pmf.PairPMFResult`` or its dict) on two axes sharing r:
    W(r) with its bootstrap error band, the Coulomb tail it was matched to, the K_A
    boundary and the CIP/SSIP states on ``axes[0]``; the cation's first-shell water count
    and the partner's share of its shell on ``axes[1]``.

    Parameters
    ----------
    axes : sequence of two matplotlib Axes
    result : PairPMFResult or dict
    label : str, optional
        Legend label.
    """
    get = result.get if isinstance(result, dict) else functools.partial(getattr, result)
    r = np.asarray(get("r_nm"), dtype=float)
    w = np.asarray(get("w_kj_per_mol"), dtype=float)
    dw = np.nan_to_num(np.asarray(get("w_err_kj_per_mol"), dtype=float))
    (line,) = axes[0].plot(r, w, lw=1.2, label=label)
    colour = line.get_color()
    axes[0].fill_between(r, w - dw, w + dw, color=colour, alpha=0.25, lw=0)
    q1, q2 = get("charges_e")
    if q1 * q2 != 0:
        tail = coulomb_tail_kj_per_mol(r, q1, q2, get("dielectric"))
        axes[0].plot(r, tail, color=colour, lw=0.8, ls=":")
    axes[0].axvline(get("boundary_nm"), color="0.5", lw=0.8, ls="--")
    for state in ("cip", "ssip", "barrier"):
        x = get(f"{state}_r_nm")
        if x is not None and np.isfinite(x):
            axes[0].plot([x], [get(f"{state}_w_kj_per_mol")], "o", color=colour, ms=3)
    water = np.asarray(get("water_count"), dtype=float)
    dwater = np.nan_to_num(np.asarray(get("water_count_err"), dtype=float))
    axes[1].errorbar(r, water, yerr=dwater, color=colour, lw=1, capsize=2)
    shell = np.asarray(get("partner_in_shell"), dtype=float)
    axes[1].plot(r, 6.0 * shell, color=colour, lw=0.8, ls="--")
    axes[0].set_ylabel("W(r) (kJ/mol)")
    axes[1].set(xlabel="cation - partner distance (nm)", ylabel="first-shell water")


@_styled
def plot_pair_pmf(result, path: str | Path) -> None:
    """Pair PMF W(r) over the cation's first-shell water count (dashed: 6 x the fraction
    of frames with the partner in the shell; dotted: the Coulomb tail; vertical: the K_A
    boundary).

    Parameters
    ----------
    result : PairPMFResult or dict
    path : str or Path
        Image file to write.
    """
    fig, axes = plt.subplots(2, 1, figsize=(5, 5), sharex=True, height_ratios=(2, 1))
    draw_pair_pmf(axes, result)
    fig.savefig(path)
    plt.close(fig)


# m^2/s -> A^2/ps, and the MSD slope 2 n D of an n-dimensional MSD
_M2_PER_S_IN_A2_PER_PS = 1e20 / 1e12


def draw_msd(ax, lag_ps, msd_angstrom2, diffusion, label: str) -> None:
    """One species' MSD on log-log axes, its fit window shaded and the diffusive line
    MSD = MSD(t_mid) + 2 n D (t - t_mid) over the window, with a band for D +- its error.

    Parameters
    ----------
    ax : matplotlib Axes
    lag_ps, msd_angstrom2 : array-like
        Lag times (ps) and the MSD (A^2).
    diffusion : Diffusion or dict
        ``D_m2_per_s``, ``D_err_m2_per_s``, ``fit_window_ps`` and ``dimensions``.
    label : str
        Species name for the legend.
    """
    get = diffusion.get if isinstance(diffusion, dict) else functools.partial(getattr, diffusion)
    lag, msd = np.asarray(lag_ps, dtype=float), np.asarray(msd_angstrom2, dtype=float)
    keep = lag > 0
    (line,) = ax.loglog(lag[keep], msd[keep], lw=1.2)
    lo, hi = get("fit_window_ps")
    ax.axvspan(lo, hi, color=line.get_color(), alpha=0.08, lw=0)
    d, err = get("D_m2_per_s"), get("D_err_m2_per_s")
    t = np.linspace(lo, hi, 20)
    t_mid = 0.5 * (lo + hi)
    slope = 2 * len(get("dimensions")) * _M2_PER_S_IN_A2_PER_PS
    base = float(np.interp(t_mid, lag, msd))
    ax.plot(t, base + slope * d * (t - t_mid), color=line.get_color(), ls="--", lw=1)
    if err is not None and np.isfinite(err):
        band = slope * err * np.abs(t - t_mid)
        fit = base + slope * d * (t - t_mid)
        ax.fill_between(t, fit - band, fit + band, color=line.get_color(), alpha=0.25, lw=0)
    error = f" ± {err:.2g}" if err is not None and np.isfinite(err) else " (error unknown)"
    line.set_label(f"{label}: D = {d:.3g}{error} m²/s")


@_styled
def plot_msd(result, path: str | Path, title: str = ""):
    """MSD of every species of a ``TransportResult`` (``draw_msd``), log-log.

    Parameters
    ----------
    result : TransportResult
    path : str or Path
        Image file to write.
    title : str
        Figure title (e.g. the conductivity).
    """
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=150)
    for name, d in result.species.items():
        draw_msd(ax, result.lag_ps, result.msd_angstrom2[name], d, name)
    ax.set(xlabel="lag (ps)", ylabel="MSD (Å²)", title=title or None)
    ax.legend(frameon=False, fontsize=7)
    fig.savefig(path)
    plt.close(fig)
    return fig


@_styled
def plot_contact_pairs(results: dict, path: str | Path):
    """Reweighted metadynamics results of one or more starts (label -> ContactPairsResult
    or its dict): P(number of contact pairs) with error bars, and the running estimate of
    the fraction of cations in contact against time with its error band.

    Parameters
    ----------
    results : dict
        Label -> ContactPairsResult (or its dict).
    path : str or Path
        Image file to write.
    """
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    width = 0.8 / max(len(results), 1)
    for k, (label, result) in enumerate(results.items()):
        data = result if isinstance(result, dict) else result.to_dict()
        pairs, running = data["pairs"], data["running"]
        x = np.asarray(pairs["values"], dtype=float) + (k - (len(results) - 1) / 2) * width
        p = np.asarray(pairs["probability"], dtype=float)
        dp = np.nan_to_num(np.asarray(pairs["probability_err"], dtype=float))
        axes[0].bar(x, p, width, yerr=dp, label=label, capsize=2)
        t = np.asarray(running["time_ps"], dtype=float) / 1000.0
        f = np.asarray(running["cip_fraction"], dtype=float)
        df = np.nan_to_num(np.asarray(running["cip_fraction_err"], dtype=float))
        (line,) = axes[1].plot(t, f, lw=1.2, label=label)
        axes[1].fill_between(t, f - df, f + df, color=line.get_color(), alpha=0.25, lw=0)
    axes[0].set(xlabel="contact pairs in the box", ylabel="probability (reweighted)")
    axes[1].set(xlabel="metadynamics time (ns)", ylabel="cations in contact (fraction)")
    axes[0].legend(fontsize=7)
    fig.savefig(path)
    plt.close(fig)
    return fig


def plot_hbonds(result, path: str | Path):
    """H-bond classes of water (left) and the per-frame H-bonds per water and free-water
    fraction (right).

    Parameters
    ----------
    result : HBondResult
    path : str or Path
        Image file to write.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.6), dpi=150)
    classes = result.class_fractions
    left.bar(list(classes), list(classes.values()))
    left.set(xlabel="water H-bond class (donated, accepted)", ylabel="fraction of water")
    left.tick_params(axis="x", labelrotation=60, labelsize=7)
    for key, label in (("hbonds_per_water", "H-bonds per water"), ("free_water_fraction", "")):
        if key in result.per_frame:
            ax = right if key == "hbonds_per_water" else right.twinx()
            ls = "-" if key == "hbonds_per_water" else "--"
            ax.plot(result.time_ps, result.per_frame[key], lw=1, ls=ls)
            ax.set_ylabel(label or "free water fraction (dashed)")
    right.set_xlabel("time (ps)")
    fig.suptitle(
        f"{result.n_water} waters, {result.n_frames} frames; H-bonds per water "
        f"{result.hbonds_per_water.text('.3f')}",
        fontsize=8,
    )
    fig.savefig(path)
    plt.close(fig)
    return fig


@_styled
def plot_pairing(result, path: str | Path):
    """Ion-pairing classes (free, SSIP, CIP, AGG) of each paired anion shell, stacked.

    Parameters
    ----------
    result : SolvationResult
        With ``pairing``.
    path : str or Path
        Image file to write.
    """
    fig, ax = plt.subplots(figsize=(5, 3.6), dpi=150)
    names = list(result.pairing)
    bottom = np.zeros(len(names))
    for cls in ("free", "SSIP", "CIP", "AGG"):
        values = np.array([result.pairing[n].get(cls, 0.0) for n in names])
        ax.bar(names, values, bottom=bottom, label=cls)
        bottom += values
    ax.set(ylabel="fraction", title=f"{result.center}: {result.n_frames} frames")
    ax.legend(frameon=False, fontsize=7)
    fig.savefig(path)
    plt.close(fig)
    return fig


@_styled
def plot_water_activity(results, path: str | Path):
    """Water activity (top) and osmotic coefficient (bottom) against molality, with
    their standard errors; one point per run (free-water proxies have none).

    Parameters
    ----------
    results : list of WaterActivity
    path : str or Path
        Image file to write.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5, 5), dpi=150, sharex=True)
    rows = [r for r in results if r.a_w is not None]
    m = [r.molality_mol_per_kg for r in rows]
    top.errorbar(m, [r.a_w for r in rows], yerr=[r.a_w_err or 0 for r in rows], fmt="o")
    bottom.errorbar(
        m,
        [r.osmotic_coefficient for r in rows],
        yerr=[r.osmotic_coefficient_err or 0 for r in rows],
        fmt="o",
    )
    top.set_ylabel("water activity a_w")
    bottom.set(xlabel="molality (mol/kg)", ylabel="osmotic coefficient φ")
    fig.suptitle(f"{rows[0].method if rows else 'no activity'}: {len(rows)} runs", fontsize=8)
    fig.savefig(path)
    plt.close(fig)
    return fig
