"""The ward councillor's report: one ward, one month, two A4 pages (PDF and HTML) and a WhatsApp-sized PNG.

Place in the data flow: show. :func:`build_report` turns a :class:`~pipelines.ward.WardView` (read through the
disclosure core, by the public rules unless a role is given) into a :class:`WardReport`; :func:`render_pdf`,
:func:`render_html` and :func:`render_png` make bytes of it offline. The rendering is the meeting pack's
(:mod:`pipelines.act.pack.pdf_doc` and :mod:`pipelines.act.pack.html_doc`: its DejaVu fonts, paragraph styles, table widths, A4 document, HTML tables and inline
figures; :mod:`pipelines.act.figures`: the offline map, drawn with the ward as the area): no second renderer.

Written to be read on a phone before a ward committee meeting: page 1 says what is happening in one minute
and shows the map; page 2 says what is being done (interventions, budget, open ACT actions), what residents
reported, how the ward compares with the whole area, and how the figures were made. Each page's content is
shrunk to fit its page, so the PDF is always exactly two pages.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from pipelines import privacy, private_files, views
from pipelines.act import figures
from pipelines.act.pack import html_doc, pdf_doc
from pipelines.errors import AreaSafeError
from pipelines.periods import local_zone
from pipelines.plural import counted
from pipelines.privacy import suppress
from pipelines.schemas import COLUMNS
from pipelines.store.base import Store
from pipelines.ward import WardView, ward_view

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".png": "png"}
MAX_ROWS = 5
PUBLIC_NOTICE = (
    "Public version: made by the public rules. Incident counts of 1 to 4 are shown as <5, counts that would "
    "give a handful of incidents away are withheld, sensitive categories are combined, and there are no names, "
    "no report text and no incident points."
)


class ReportError(AreaSafeError):
    """The report cannot be written as asked; the message names the argument to change."""


@dataclass(frozen=True, eq=False)
class WardReport:
    """Everything the rendered report shows (text, tables of display strings, PNG figures)."""

    title: str
    subtitle: str
    notice: str
    public: bool
    points: tuple[str, ...]
    map_png: bytes
    map_caption: str
    trend_png: bytes
    sections: tuple[tuple[str, str, pd.DataFrame], ...]
    method: tuple[str, ...]
    file_stem: str
    view: WardView


def report_viewer(role: str | None = None, org: str | None = None) -> privacy.Viewer:
    """The viewer a report is made for: the public (default), or an account of ``role`` (``org`` for a cso)."""
    if role is None:
        return privacy.PUBLIC
    return privacy.Viewer(username=f"report:{role}", role=role, org=org)


def build_report(
    store: Store,
    ward: str,
    month: str | pd.Period,
    *,
    viewer: privacy.Viewer = privacy.PUBLIC,
    version: str | None = None,
    now: dt.datetime | None = None,
) -> WardReport:
    """Read the store (as ``viewer`` may see it, :func:`pipelines.ward.ward_view`) and build the report."""
    view = ward_view(store, ward, month, viewer=viewer, version=version)
    now = (now or dt.datetime.now(dt.UTC)).astimezone(pd.Timestamp.now(tz=local_zone()).tzinfo)
    notice = (
        PUBLIC_NOTICE
        if view.public
        else f"For {views.role_words(viewer.role)} use only: not for publication. Made for {viewer.label}."
    )
    return WardReport(
        title=f"{view.name}: {view.month:%B %Y}",
        subtitle=(
            f"Councillor's brief for the ward committee. {view.version}. Data to {view.month.end_time:%d %B %Y}; "
            f"made {now:%Y-%m-%d %H:%M} by AreaSafe."
        ),
        notice=notice,
        public=view.public,
        points=_points(view),
        map_png=figures.neighbourhood_map(view.map_input, width_in=7.0, height_in=6.6),
        map_caption=(
            f"{view.name} (thick line) and its hot spots by kind, assets (ABCD register) and interventions "
            "(I1...). Roads: City of Cape Town centrelines via SJC."
        ),
        trend_png=_trend_chart(view),
        sections=(
            ("What is being done: interventions in the ward", _intervention_summary(view), view.interventions),
            (
                "Open ACT actions",
                _action_summary(view) + _more(view.actions, 3),
                _shorten(view.actions, "Neighbourhood", 3),
            ),
            ("What residents reported this month", _report_summary(view), view.reports),
            ("SAPS crime statistics, shared out to the ward", _saps_summary(view), view.saps),
        ),
        method=(
            view.method,
            f"Residents: {view.headline['residents']}.",
            "Incidents are placed in the ward by where they happened (point in polygon). Rates per 1,000 residents "
            "are smoothed (Empirical Bayes) among the wards, so a ward with few residents is not over-read; the whole "
            "area's rate is all its incidents over all its residents.",
            *view.notes,
        ),
        file_stem=f"ward-report-{view.code}-{view.month}{'-public' if view.public else ''}",
        view=view,
    )


# --------------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------------
def _points(view: WardView) -> tuple[str, ...]:
    head = view.headline
    points = [
        f"{_count_words(head['incidents'])} incidents were recorded in the ward in {view.month:%B %Y}"
        + (
            f": {head['rate']} per 1,000 residents, {head['comparison']} ({head['city_rate']})."
            if "comparison" in head
            else "."
        )
    ]
    if len(view.hotspots):
        parts = [
            f"{kind} ({n} hexagon{'' if n == 1 else 's'})"
            for kind, n in zip(view.hotspots.iloc[:, 0], view.hotspots.iloc[:, 1], strict=True)
        ]
        points.append(f"Hot spots touching the ward: {', '.join(parts)}.")
    elif any("no hot or cold spots are shown" in note for note in view.notes):
        points.append("Hot spots: too few reports or map cells at this scale to tell a cluster from chance.")
    else:
        points.append("No hot spot touches the ward in the last 12 months.")
    points.append(_intervention_summary(view))
    points.append(_action_summary(view))
    points.append(_report_summary(view))
    return tuple(points)


def _count_words(shown: str) -> str:
    if shown == suppress.WITHHELD:
        return "A withheld number of"
    return {"0": "No", f"<{suppress.threshold()}": f"Fewer than {suppress.threshold()}"}.get(shown, shown)


def _intervention_summary(view: WardView) -> str:
    table = view.interventions
    if not len(table):
        return "No intervention is recorded in the ward."
    counts = table["Status"].value_counts()
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"{counted(len(table), 'intervention')} in the ward: {parts}."


def _action_summary(view: WardView) -> str:
    table = view.actions
    if not len(table):
        return "No open ACT action in the neighbourhoods this ward overlaps."
    late = int(table["Due"].str.contains("overdue").sum())
    blocked = int((table["Status"] == "blocked").sum())
    return f"{counted(len(table), 'open ACT action')} in the neighbourhoods this ward overlaps: {late} overdue, {blocked} blocked."


def _report_summary(view: WardView) -> str:
    table = view.reports
    if not len(table):
        return f"No community report from the ward in {view.month:%B %Y}."
    return (
        f"Community reports in {view.month:%B %Y} came under {len(table)} categories; most often: {table.iloc[0, 0]}."
    )


def _saps_summary(view: WardView) -> str:
    if not len(view.saps):
        return "No SAPS station statistics are loaded."
    return (
        "SAPS publishes crimes per police station. These are the latest years' totals shared out to the ward "
        "(estimates: the ward does not follow precinct lines)."
    )


def _shorten(table: pd.DataFrame, drop: str | None = None, rows: int = MAX_ROWS) -> pd.DataFrame:
    table = table.drop(columns=[drop]) if drop and drop in table else table
    return table.head(rows)


def _more(table: pd.DataFrame, rows: int) -> str:
    """A phone screen holds few rows: say how many more the ward page lists."""
    return f" The first {rows} are listed; the ward page lists all {len(table)}." if len(table) > rows else ""


# --------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------
def _trend_chart(view: WardView, *, width_in: float = 7.0, height_in: float = 2.6) -> bytes:
    """The ward's smoothed rate per 1,000 residents against the whole area's, month by month (a month whose
    ward count is not shown is not drawn)."""
    import matplotlib.pyplot as plt

    series = view.trend_series
    with plt.rc_context(figures.STYLE):
        fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=figures.DPI)
        x = pd.PeriodIndex(series[COLUMNS.month], freq="M").to_timestamp()
        ax.plot(x, series["ward"], color="black", marker="o", markersize=4, linewidth=1.6, label=view.name)
        ax.plot(
            x,
            series["city"],
            color="0.35",
            linestyle="--",
            marker="s",
            markersize=3.5,
            markerfacecolor="white",
            linewidth=1.3,
            label="Whole area",
        )
        figures.month_axis(ax, x, view.month)
        ax.set_ylabel("per 1,000 residents")
        ax.set_title("Incidents per 1,000 residents, per month")
        fig.tight_layout()
        return figures.png_bytes(fig)


def render_png(report: WardReport) -> bytes:
    """A 1080 x 1350 pixel summary for a WhatsApp group: the title, the one-minute points and the trend."""
    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    with plt.rc_context(figures.STYLE):
        fig = plt.figure(figsize=(5.4, 6.75), dpi=200)
        fig.text(0.05, 0.955, report.title, fontsize=17, fontweight="bold", va="top")
        fig.text(0.05, 0.905, "Ward committee brief" + (" (public)" if report.public else ""), fontsize=10, va="top")
        y = 0.855
        for point in report.points:
            lines = _wrap(point, 52)
            fig.text(0.05, y, "•", fontsize=10.5, va="top")
            fig.text(0.09, y, "\n".join(lines), fontsize=10.5, va="top", linespacing=1.3)
            y -= 0.034 * len(lines) + 0.018
        ax = fig.add_axes((0.03, 0.07, 0.94, max(0.12, y - 0.1)))
        ax.imshow(imread(io.BytesIO(report.trend_png), format="png"))
        ax.axis("off")
        fig.text(0.05, 0.025, "AreaSafe · " + report.view.version, fontsize=8, color="0.3")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=200, facecolor="white")
        plt.close(fig)
        return buffer.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


# --------------------------------------------------------------------------------------------------
# HTML and PDF (the meeting pack's styles, tables and figures)
# --------------------------------------------------------------------------------------------------
_PHONE_CSS = """
body { max-width: 760px; font-size: 12pt; } table { font-size: 10.5pt; } ul.points li { margin: 0 0 5pt; }
"""


def render_html(report: WardReport) -> str:
    """The report as one HTML file with everything inline, sized for a phone screen; no URL anywhere."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title>",
        f"<style>{html_doc.CSS}{_PHONE_CSS}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="facts">{e(report.subtitle)}</p>',
        f'<p class="notice">{e(report.notice)}</p>',
        "<h2>In one minute</h2>",
        '<ul class="points">' + "".join(f"<li>{e(p)}</li>" for p in report.points) + "</ul>",
        html_doc.figure_html(report.map_png, f"Map of {report.view.name}", report.map_caption),
        '<section class="page">',
        html_doc.figure_html(
            report.trend_png, "Incidents per 1,000 residents per month", "The ward against the whole area."
        ),
    ]
    for title, summary, table in report.sections:
        parts += [f"<h2>{e(title)}</h2>", f"<p>{e(summary)}</p>", html_doc.html_table(table.head(MAX_ROWS))]
    parts.append("<h2>How these figures were made</h2>")
    parts += [f'<p class="caveat">{e(line)}</p>' for line in report.method]
    parts.append(f'<p class="facts">{e(report.notice)}</p></section></body></html>')
    return "\n".join(parts)


def render_pdf(report: WardReport) -> bytes:
    """The report as exactly two A4 pages (reportlab, fonts embedded), every page marked public or not."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepInFrame, PageBreak, Paragraph, Spacer

    styles = pdf_doc.pdf_styles()
    big = ParagraphStyle("point", parent=styles["body"], fontSize=11.5, leading=15, leftIndent=10, bulletIndent=0)
    margin = 13 * mm
    width, height = A4[0] - 2 * margin, A4[1] - 2 * margin - 6 * mm

    def table(frame: pd.DataFrame):
        frame = frame.head(MAX_ROWS).astype(str)
        return pdf_doc.pdf_table(frame, tuple(1.0 for _ in frame.columns), width, styles)

    first = [
        Paragraph(escape(report.title), styles["title"]),
        Paragraph(escape(report.subtitle), styles["small"]),
        Spacer(1, 2 * mm),
        pdf_doc.notice_box(report.notice, width, styles),
        Paragraph("In one minute", styles["h2"]),
        *[Paragraph(escape(p), big, bulletText="•") for p in report.points],
        Spacer(1, 2 * mm),
        pdf_doc.pdf_image(report.map_png, width, 130 * mm),
        Paragraph(escape(report.map_caption), styles["small"]),
    ]
    second = [pdf_doc.pdf_image(report.trend_png, width, 42 * mm)]
    for title, summary, frame in report.sections:
        second += [Paragraph(escape(title), styles["h2"]), Paragraph(escape(summary), styles["body"]), table(frame)]
    second.append(Paragraph("How these figures were made", styles["h2"]))
    second += [Paragraph(escape(line), styles["caveat"]) for line in report.method]
    story = [
        KeepInFrame(width, height, first, mode="shrink"),
        PageBreak(),
        KeepInFrame(width, height, second, mode="shrink"),
    ]
    footer = ("PUBLIC" if report.public else "NOT FOR PUBLICATION") + f" | {report.title} | {report.view.version}"
    return pdf_doc.a4_pdf(
        story,
        title=report.title,
        subject="Ward councillor's report",
        footer=footer[:100],
        margin=margin,
        footer_room=6 * mm,
        pages=2,
    )


def report_format(out: str | Path) -> str:
    """``pdf``, ``html`` or ``png`` from the file name, or :class:`ReportError`."""
    kind = FORMATS.get(Path(out).suffix.lower())
    if kind is None:
        raise ReportError(f"--out must end in .pdf, .html or .png (the suffix picks the format); got {str(out)!r}.")
    return kind


def render(report: WardReport, kind: str) -> bytes:
    """The report as file content of ``kind`` (``pdf``, ``html`` or ``png``)."""
    if kind == "pdf":
        return render_pdf(report)
    if kind == "html":
        return render_html(report).encode("utf-8")
    if kind == "png":
        return render_png(report)
    raise ReportError(f"kind must be 'pdf', 'html' or 'png'; got {kind!r}.")


def write_report(
    store: Store,
    ward: str,
    month: str | pd.Period,
    out: str | Path,
    *,
    viewer: privacy.Viewer = privacy.PUBLIC,
    version: str | None = None,
    summary_png: bool = True,
) -> list[Path]:
    """Build the report and write it to ``out`` (the suffix picks PDF, HTML or PNG), whole or not at all. With
    ``summary_png`` a PDF or HTML report also gets the WhatsApp-sized summary beside it (``<out>-summary.png``).
    Returns the files written."""
    out = Path(out)
    kind = report_format(out)
    if not out.parent.is_dir():
        raise ReportError(f"--out folder {str(out.parent)!r} does not exist; create it or choose another path.")
    report = build_report(store, ward, month, viewer=viewer, version=version)
    files = [(out, render(report, kind))]
    if summary_png and kind != "png":
        files.append((out.with_name(f"{out.stem}-summary.png"), render_png(report)))
    for path, data in files:
        private_files.write_whole(path, data)
    return [path for path, _ in files]
