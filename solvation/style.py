"""One matplotlib style for every figure and plot, and the metadata that keeps saved
files byte-stable (no dates or software strings)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

PALETTE = ("#1b6ca8", "#e07a1f", "#3a9a4d", "#b03a48", "#6d4fa3", "#7f7f7f")
STYLE = {
    "figure.figsize": (5.0, 3.6),
    "figure.dpi": 150,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
    "svg.hashsalt": "solvation",
    "svg.fonttype": "none",
    "path.simplify": False,
    "legend.frameon": False,
    "figure.constrained_layout.use": True,
}
METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}

# Categories that must never share a look (shell compositions): ten distinct colours
# (matplotlib's tab10), then the same colours again with a hatch for each further ten
CATEGORY_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
CATEGORY_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo")


def category_styles(labels) -> dict[str, tuple[str, str]]:
    """(colour, hatch) for each distinct label, in sorted order so that the same label
    looks the same in every figure; no two labels share a look for up to 70 labels.

    Parameters
    ----------
    labels : iterable
        Labels, repeated ones allowed.

    Returns
    -------
    dict
        ``label -> (colour, hatch)``.
    """
    out = {}
    n = len(CATEGORY_COLOURS)
    for k, label in enumerate(sorted(set(labels), key=str)):
        out[label] = (CATEGORY_COLOURS[k % n], CATEGORY_HATCHES[(k // n) % len(CATEGORY_HATCHES)])
    return out
