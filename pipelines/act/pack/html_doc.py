"""The meeting pack as one self-contained HTML file, and the HTML pieces the ward report shares.

Place in the data flow: show. Everything is inline (CSS, PNGs as ``data:`` URIs): the file refers to no URL.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

from pipelines.act.pack.sections import MeetingPack

CSS = """
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 10.5pt; color: #000; background: #fff;
       max-width: 190mm; margin: 0 auto; padding: 8mm; line-height: 1.35; }
h1 { font-size: 19pt; margin: 0 0 4pt; } h2 { font-size: 14pt; margin: 18pt 0 4pt; border-bottom: 1.5pt solid #000; }
p.facts, p.caveat, figcaption { font-size: 9.5pt; } p.caveat { font-style: italic; margin: 3pt 0; }
p.notice { border: 1.5pt solid #000; padding: 4pt 6pt; font-weight: bold; font-size: 10pt; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; font-size: 9.5pt; page-break-inside: auto; }
th, td { border: 0.75pt solid #000; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background: #d9d9d9; font-weight: bold; } tr { page-break-inside: avoid; }
figure { margin: 8pt 0; } figure img { width: 100%; height: auto; border: 0.75pt solid #000; }
ol.contents { font-size: 10.5pt; } section { page-break-inside: auto; }
@page { size: A4; margin: 14mm; }
@media print { body { padding: 0; } h2 { page-break-after: avoid; } .page { page-break-before: always; }
  .cover-map figure img { width: auto; max-width: 100%; max-height: 115mm; margin: 0 auto; display: block;
    border: none; }
  .cover-map { page-break-inside: avoid; } }
"""


def render_html(pack: MeetingPack) -> str:
    """The pack as one HTML document with everything inline (CSS, PNGs as ``data:`` URIs); no URL anywhere."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(pack.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(pack.title)}</h1>",
        f'<p class="facts">{e(pack.facts)}</p>',
        f'<p class="notice">{e(pack.notice)}</p>',
        "<h2>Agenda</h2>",
        '<ol class="contents">' + "".join(f"<li>{e(s.title)}</li>" for s in pack.agenda) + "</ol>",
        '<p class="facts">Annexes: ' + "; ".join(f"{s.number}. {e(s.title)}" for s in pack.annexes) + "</p>",
        '<section class="cover-map"><h2>Map</h2>',  # on page 1, under the agenda
        figure_html(
            pack.map_png, "Map of the neighbourhood with hot spots, assets and interventions", pack.map_caption
        ),
        "</section>",
        '<section class="page"><h2>Trends</h2>',
        figure_html(pack.trend_png, "Incidents per month", pack.trend_caption),
        "</section>",
    ]
    for i, section in enumerate((*pack.agenda, *pack.annexes)):
        page = ' class="page"' if i in (0, len(pack.agenda)) else ""
        parts.append(f"<section{page}><h2>{e(section.number)}. {e(section.title)}</h2>")
        parts.append(f"<p>{e(section.summary)}</p>")
        parts.append(html_table(section.table))
        parts.extend(f'<p class="caveat">{e(c)}</p>' for c in section.caveats)
        parts.append("</section>")
    parts.append(f'<p class="facts">{e(pack.notice)}</p></body></html>')
    return "\n".join(parts)


def figure_html(png: bytes, alt: str, caption: str) -> str:
    """A PNG as an inline ``<figure>`` with its alt text and caption (the pack's and the ward report's HTML)."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def html_table(table: pd.DataFrame) -> str:
    """A table as escaped HTML, or a 'Nothing to list.' line (the pack's and the ward report's HTML)."""
    if not len(table):
        return '<p class="caveat">Nothing to list.</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
