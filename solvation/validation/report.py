"""Markdown and HTML reports (one table and one plot per quantity) for ``validate``."""

from __future__ import annotations

import html
import math
from pathlib import Path

import matplotlib.pyplot as plt

from solvation.style import METADATA, STYLE


def _fmt(value: float, err: float) -> str:
    return f"{value:.4g} ± {err:.2g}" if err == err and err != float("inf") else f"{value:.4g}"


def _plot(out: Path, stem: str, rows) -> str:
    name = f"{stem}.png"
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(4.5, 2.8))
        ref = rows[0]
        ax.axhspan(
            ref.reference - ref.reference_err,
            ref.reference + ref.reference_err,
            color="0.85",
            label="experiment",
        )
        ax.axhline(ref.reference, color="0.4", lw=1)
        finite = [r.simulated_err if r.simulated_err != float("inf") else 0.0 for r in rows]
        ax.errorbar(
            range(len(rows)),
            [r.simulated for r in rows],
            yerr=finite,
            fmt="o",
            capsize=3,
            label="simulation",
        )
        ax.set_xticks(range(len(rows)), [r.model for r in rows], rotation=20, fontsize=7)
        ax.set(ylabel=f"{ref.quantity} ({ref.unit})")
        ax.legend(fontsize=7)
        fig.savefig(out / name, metadata=METADATA["png"])
        plt.close(fig)
    return name


def _unreferenced(measurements: list[dict], refs) -> list[dict]:
    have = {(r.system, r.quantity) for r in refs}
    return [m for m in measurements if (m["system"], m["quantity"]) not in have]


def _table(rows: list[list[str]], header: list[str]) -> tuple[list[str], list[str]]:
    """A table as Markdown lines and HTML lines."""
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    html_rows = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    html_rows += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
    return md, [*html_rows, "</table>"]


def family_summary(comparisons) -> list[list[str]]:
    """Per model label: rows passed of rows compared and the mean |deviation| (sigma).

    Parameters
    ----------
    comparisons : iterable of Comparison
    """
    by_model: dict[str, list] = {}
    for c in comparisons:
        by_model.setdefault(c.model, []).append(c)
    out = []
    for model, rows in by_model.items():
        finite = [abs(r.deviation_sigma) for r in rows if r.deviation_sigma == r.deviation_sigma]
        mean = sum(finite) / len(finite) if finite else float("nan")
        out.append([model, f"{sum(r.passed for r in rows)} / {len(rows)}", f"{mean:.2f}"])
    return out


def write_report(
    out: Path,
    comparisons,
    profile: str,
    protocols: dict,
    measurements: list[dict] | None = None,
    refs=(),
    not_run: list[str] = (),
) -> None:
    """report.md and report.html: one table and plot per quantity and reference system,
    a per-model summary, and the measured values that have no shipped reference.

    Parameters
    ----------
    out : Path
        Output folder.
    comparisons : iterable of Comparison
    profile : str
        Suite profile name.
    protocols : dict
        Protocol of each kind of case, for the header.
    measurements : list of dict, optional
        Measured rows (quantity values in SI).
    refs : iterable of Reference
        References, to find the measurements that have none.
    not_run : list of str
        Names of the cases without a complete run (listed under "Not run").
    """
    groups: dict[tuple[str, str], list] = {}
    for c in comparisons:
        groups.setdefault((c.quantity, c.system), []).append(c)
    label = (
        "QUICK profile: short runs on small boxes, wide uncertainties; not a validation"
        if profile == "quick"
        else f"Profile {profile}"
    )
    lines = [f"{k}: " + ", ".join(f"{a} {b}" for a, b in v.items()) for k, v in protocols.items()]
    md = [f"# solvation validation report\n\n{label}.\n", *[f"- {x}" for x in lines]]
    md.append("\nDeviation = (simulated - reference) / combined uncertainty; pass within 2.\n")
    body = [f"<h1>solvation validation report</h1><p>{html.escape(label)}</p>"]
    summary_md, summary_html = _table(
        family_summary(comparisons), ["model", "passed", "mean |deviation| (sigma)"]
    )
    md += ["## Summary by model\n", *summary_md]
    body += ["<h2>Summary by model</h2>", *summary_html]
    for (quantity, system), rows in groups.items():
        plot = _plot(out, f"{quantity}-{system}", rows)
        cells = [
            [
                r.model,
                _fmt(r.simulated, r.simulated_err),
                _fmt(r.reference, r.reference_err),
                r.unit,
                f"{r.deviation_sigma:+.2f}" if math.isfinite(r.deviation_sigma) else "-",
                "yes" if r.passed else ("no" if math.isfinite(r.deviation_sigma) else "no error"),
            ]
            for r in rows
        ]
        t_md, t_html = _table(
            cells, ["model", "simulated", "reference", "unit", "deviation (sigma)", "pass"]
        )
        ref = rows[0]
        md += [f"\n## {quantity} ({system})\n\nReference: {ref.citation} ({ref.conditions})\n"]
        md += [*t_md, f"\n![{quantity} {system}]({plot})\n"]
        body += [f"<h2>{html.escape(quantity)} ({html.escape(system)})</h2>"]
        body += [f"<p>{html.escape(ref.citation)}</p>", *t_html, f'<img src="{plot}" alt="">']
    extra = _unreferenced(measurements or [], refs)
    if extra:
        cells = [
            [m["system"], m["model"], m["quantity"], f"{m['value_si']:.4g}", f"{m['err_si']:.2g}"]
            for m in extra
        ]
        header = ["system", "model", "quantity", "value (SI or g/cm3)", "uncertainty"]
        t_md, t_html = _table(cells, header)
        md += ["\n## Simulated without a shipped reference\n", *t_md]
        body += ["<h2>Simulated without a shipped reference</h2>", *t_html]
    if not_run:
        md += ["\n## Not run (no complete run yet)\n", *[f"- {n}" for n in not_run]]
        body += ["<h2>Not run</h2><ul>", *[f"<li>{html.escape(n)}</li>" for n in not_run]]
        body.append("</ul>")
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "report.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>solvation validation</title></head><body>" + "\n".join(body) + "</body></html>\n"
    )
