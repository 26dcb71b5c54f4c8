"""The overview as one self-contained HTML file that opens offline: the KPIs as text and
the charts with plotly.js embedded once, no external script, style sheet or font."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import plotly.graph_objects as go

from dashboard.components.formatting import day

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 1.5rem;
       color: #212529; max-width: 1100px; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
.meta { color: #6c757d; font-size: .9rem; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .6rem; }
.kpi { border: 1px solid #dee2e6; border-radius: .4rem; padding: .6rem .8rem; }
.kpi .label { color: #6c757d; font-size: .75rem; text-transform: uppercase; }
.kpi .value { font-size: 1.3rem; font-weight: 600; } .kpi .note { color: #6c757d; font-size: .8rem; }
"""


def build_report(tenant_name: str, kpis: list[tuple[str, str, str | None]],
                 charts: list[tuple[str, go.Figure]], changes: list[str] | None = None,
                 data_until: str | None = None, generated: datetime | None = None) -> str:
    """The report as one HTML string. Every text (tenant name, labels, segment names in
    the charts) is escaped or drawn by plotly as text."""
    generated = generated or datetime.now(UTC)
    meta = f"Generated {day(generated)}"
    if data_until:
        meta += f" · data up to {day(data_until)}"
    cards = "".join(
        f'<div class="kpi"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div>'
        + (f'<div class="note">{escape(note)}</div>' if note else "") + "</div>"
        for label, value, note in kpis)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(tenant_name)}: customer overview</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(tenant_name)}: customer overview</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        f'<div class="kpis">{cards}</div>',
    ]
    if changes:
        parts.append("<h2>Since the previous analysis</h2><ul>"
                     + "".join(f"<li>{escape(line)}</li>" for line in changes) + "</ul>")
    for position, (title, fig) in enumerate(charts):
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=position == 0,
                                 config={"displaylogo": False, "responsive": True}))
    parts.append("</body></html>")
    return "\n".join(parts)
