"""Markdown and HTML reports (one table and one plot per quantity) for ``validate``."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt

from solvation.style import METADATA, STYLE


def _fmt(value: float, err: float) -> str:
    return f"{value:.4g} ± {err:.2g}" if err == err and err != float("inf") else f"{value:.4g}"


def _plot(out: Path, quantity: str, rows) -> str:
    name = f"{quantity}.png"
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
        ax.set(ylabel=f"{quantity} ({ref.unit})")
        ax.legend(fontsize=7)
        fig.savefig(out / name, metadata=METADATA["png"])
        plt.close(fig)
    return name


def _unreferenced(measurements: list[dict], refs) -> list[dict]:
    have = {(r.system, r.quantity) for r in refs}
    return [m for m in measurements if (m["system"], m["quantity"]) not in have]


def write_report(
    out: Path,
    comparisons,
    quick: bool,
    protocol: dict,
    measurements: list[dict] | None = None,
    refs=(),
) -> None:
    by_quantity: dict[str, list] = {}
    for c in comparisons:
        by_quantity.setdefault(c.quantity, []).append(c)
    label = (
        "QUICK suite: short runs on small boxes, wide uncertainties; not a validation of the models"
        if quick
        else "Full suite"
    )
    md = [
        f"# solvation validation report\n\n{label}. Protocol: "
        + ", ".join(f"{k} {v}" for k, v in protocol.items())
        + ".\n",
        "Deviation = (simulated - reference) / combined uncertainty; pass within 2.\n",
    ]
    body = [f"<h1>solvation validation report</h1><p>{html.escape(label)}</p>"]
    for quantity, rows in by_quantity.items():
        plot = _plot(out, quantity, rows)
        md.append(f"\n## {quantity}\n\nReference: {rows[0].citation} ({rows[0].conditions})\n")
        md.append("| model | simulated | reference | unit | deviation (sigma) | pass |")
        md.append("|---|---|---|---|---|---|")
        table = [
            "<table><tr><th>model</th><th>simulated</th><th>reference</th><th>unit</th>"
            "<th>deviation (sigma)</th><th>pass</th></tr>"
        ]
        for r in rows:
            cells = [
                r.model,
                _fmt(r.simulated, r.simulated_err),
                _fmt(r.reference, r.reference_err),
                r.unit,
                f"{r.deviation_sigma:+.2f}",
                "yes" if r.passed else "no",
            ]
            md.append("| " + " | ".join(cells) + " |")
            table.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        md.append(f"\n![{quantity}]({plot})\n")
        body += [
            f"<h2>{html.escape(quantity)}</h2><p>{html.escape(rows[0].citation)}</p>",
            *table,
            "</table>",
            f'<img src="{plot}" alt="{quantity}">',
        ]
    extra = _unreferenced(measurements or [], refs)
    if extra:
        md.append("\n## Simulated without a shipped reference\n")
        md.append("| system | model | quantity | value (SI or g/cm3) | uncertainty |")
        md.append("|---|---|---|---|---|")
        body.append(
            "<h2>Simulated without a shipped reference</h2><table><tr><th>system</th>"
            "<th>model</th><th>quantity</th><th>value</th><th>uncertainty</th></tr>"
        )
        for m in extra:
            cells = [
                m["system"],
                m["model"],
                m["quantity"],
                f"{m['value_si']:.4g}",
                f"{m['err_si']:.2g}",
            ]
            md.append("| " + " | ".join(cells) + " |")
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        body.append("</table>")
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "report.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>solvation validation</title></head><body>" + "\n".join(body) + "</body></html>\n"
    )
