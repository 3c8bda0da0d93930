"""Quick-look PNG plots for the analysis CLI (``--plot``), in the package's one style."""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib.pyplot as plt

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
