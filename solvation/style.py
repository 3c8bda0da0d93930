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
