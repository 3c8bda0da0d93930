"""Quick-look PNG plots for the analysis CLI (``--plot``), in the package's one style."""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from solvation.style import STYLE


def _styled(plot):
    """Run ``plot`` inside the package style."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with plt.style.context(STYLE):
            return plot(*args, **kwargs)

    return wrapper


@_styled
def plot_rdf(result, path: str | Path) -> None:
    """g(r) (left axis) and n(r) (right axis) of every pair."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=150)
    twin = ax.twinx()
    for name, pair in result.pairs.items():
        (line,) = ax.plot(result.r_angstrom, pair.g_r, label=name)
        twin.plot(result.r_angstrom, pair.n_r, ls="--", color=line.get_color(), lw=0.8)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r)")
    twin.set_ylabel("n(r) (dashed)")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@_styled
def plot_shells(result, path: str | Path) -> None:
    """Coordination-number distributions and the most common shell compositions."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=150)
    width = 0.8 / max(1, len(result.coordination_distribution))
    for k, (name, dist) in enumerate(result.coordination_distribution.items()):
        xs = [int(n) + k * width for n in dist]
        left.bar(xs, list(dist.values()), width=width, label=name)
    left.set_xlabel("coordination number")
    left.set_ylabel("fraction")
    left.legend(frameon=False)
    top = list(result.speciation.items())[:8]
    right.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    right.set_xlabel("fraction of centres")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@_styled
def plot_interface(result, path: str | Path) -> None:
    """Number densities (top) and the electrostatic potential (bottom) against distance."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5), dpi=150, sharex=True)
    for name, density in result.number_density_per_nm3.items():
        top.plot(result.distance_angstrom, density, label=name, lw=1)
    top.set_ylabel("number density (nm⁻³)")
    top.legend(frameon=False)
    bottom.plot(result.distance_angstrom, result.potential_V, color="k", lw=1)
    bottom.set(xlabel="distance from the surface (Å)", ylabel="potential (V)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def draw_pmf(axes, result, label: str | None = None) -> None:
    """A PMF result (``analysis.pmf.PMFResult`` or its dict) on two axes sharing x: the
    free energy with its error band on ``axes[0]``, the first-shell water count with its
    error bars on ``axes[1]``."""
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
    """Free-energy profile over the first-shell water count."""
    fig, axes = plt.subplots(2, 1, figsize=(5, 5), sharex=True, height_ratios=(2, 1))
    draw_pmf(axes, result)
    fig.savefig(path)
    plt.close(fig)
