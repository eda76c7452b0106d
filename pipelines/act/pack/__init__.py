"""The meeting pack: one neighbourhood, one month, as a PDF and as a self-contained HTML file.

Place in the data flow: show. :func:`build_pack` reads the store (through :func:`~pipelines.act.agenda.load_meeting`),
builds the agenda and the figures and returns a :class:`MeetingPack`; :func:`render_pdf` (reportlab) and
:func:`render_html` turn it into bytes and text with no browser and no network: images are embedded (in the
HTML as ``data:`` URIs), fonts are the DejaVu fonts that ship with matplotlib, and nothing refers to any
URL. :func:`write_pack` picks the format from the file name and writes the file whole or not at all.

The package: :mod:`.sections` (what each section and annex shows), :mod:`.html_doc` (the HTML file) and
:mod:`.pdf_doc` (the PDF); this module builds the pack and writes it.

Contents: cover (title, dates, what the pack is), the map of the neighbourhood (hot spots, assets,
interventions), the trend charts, the agenda (one section per item, as in meeting mode), then the actions
register, the interventions table and the budget cycles. ``public=True`` applies the rules of
:mod:`pipelines.privacy.public` and marks every page "Public".

Black and white: tables are black on white with a grey header row; figures follow
:mod:`pipelines.act.figures`; no meaning is carried by colour; body text is 10 pt and nothing is below 9 pt.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines import private_files
from pipelines.act import figures
from pipelines.act.agenda import Agenda, agenda_for
from pipelines.act.pack.html_doc import CSS, figure_html, html_table, render_html
from pipelines.act.pack.pdf_doc import PDF_FONT, pdf_styles, pdf_table, render_pdf
from pipelines.act.pack.sections import (
    MAX_REPORT_ROWS,
    MeetingPack,
    Section,
    agenda_section,
    annexes,
    short_action_id,
    short_day,
)
from pipelines.errors import AreaSafeError
from pipelines.periods import local_zone
from pipelines.privacy import Viewer
from pipelines.store.base import Store

__all__ = [
    "COVER_MAP_HEIGHT_IN",
    "CSS",
    "FORMATS",
    "INTERNAL_NOTICE",
    "MAX_REPORT_ROWS",
    "PDF_FONT",
    "PUBLIC_NOTICE",
    "MeetingPack",
    "PackError",
    "Section",
    "agenda_section",
    "build_pack",
    "figure_html",
    "html_table",
    "pack_format",
    "pack_from_agenda",
    "pdf_styles",
    "pdf_table",
    "render",
    "render_html",
    "render_pdf",
    "short_action_id",
    "write_pack",
]

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}
#: Height of the map figure (7 inches wide): drawn at the size it has on page 1, under the agenda, so its
#: 9.5 pt labels print at 9.5 pt.
COVER_MAP_HEIGHT_IN = 5.2
INTERNAL_NOTICE = (
    "Internal: for ACT members. Contains names, notes and community reports; do not publish. "
    "Share the public pack instead."
)
PUBLIC_NOTICE = (
    "Public version: incident counts of 1 to 4 are shown as <5, sensitive categories are combined, and names, "
    "notes and the text of community reports are left out."
)


class PackError(AreaSafeError):
    """The pack cannot be written as asked; the message names the argument to change."""


def build_pack(
    store: Store,
    code: str,
    month: str | pd.Period,
    *,
    viewer: Viewer,
    public: bool = False,
    stale_weeks: int | None = None,
    roads_path: str | Path | None = None,
    now: dt.datetime | None = None,
) -> MeetingPack:
    """Read the store and build the pack of ``code`` for ``month`` (see the module docstring).

    Raises
    ------
    UnknownNeighbourhoodError, BadMonthError
        From :func:`~pipelines.act.agenda.load_meeting`.
    """
    options = {} if stale_weeks is None else {"stale_weeks": stale_weeks}
    agenda = agenda_for(store, code, month, viewer=viewer, public=public, **options)
    return pack_from_agenda(agenda, roads_path=roads_path, now=now)


def pack_from_agenda(
    agenda: Agenda, *, roads_path: str | Path | None = None, now: dt.datetime | None = None
) -> MeetingPack:
    """The pack of an agenda already built (meeting mode builds one per run)."""
    context = agenda.context
    public = agenda.public
    now = (now or dt.datetime.now(dt.UTC)).astimezone(pd.Timestamp.now(tz=local_zone()).tzinfo)
    previous = context.previous_meeting
    facts = f"Meeting of {short_day(context.as_of)}; data to {short_day(context.month.end_time.date())}; "
    facts += (
        f"'since last meeting' means after {short_day(context.since)}"
        if previous is not None
        else "first meeting on record"
    )
    facts += f". Generated {now:%Y-%m-%d %H:%M} by AreaSafe."
    labels = figures.intervention_labels(context.neighbourhood_interventions)
    hot = context.hotspots
    window = f"{hot.months[0]:%b %Y} to {hot.months[-1]:%b %Y}" if len(hot.months) else "no months"
    sections = tuple(
        agenda_section(str(i), item, agenda, labels=labels) for i, item in enumerate(agenda.items, start=1)
    )
    return MeetingPack(
        title=f"ACT meeting pack: {context.name}, {context.month:%B %Y}",
        facts=facts,
        notice=PUBLIC_NOTICE if public else INTERNAL_NOTICE,
        public=public,
        map_png=figures.neighbourhood_map(agenda, roads_path=roads_path, height_in=COVER_MAP_HEIGHT_IN),
        trend_png=figures.trend_chart(agenda, public=public),
        map_caption=(
            f"{context.name}. Hot spots over {window} (annex E says what each kind means); H1... are the "
            "agenda's new hot spots and hot spots getting worse. I1... are the interventions of annex B. Assets "
            "are the ABCD register. Roads: City of Cape Town centrelines via SJC."
        ),
        trend_caption=f"Incidents recorded in {context.name} per local calendar month, to {context.month:%B %Y}.",
        agenda=sections,
        annexes=annexes(agenda, labels),
        file_stem=f"meeting-pack-{context.code}-{context.month}{'-public' if public else ''}",
    )


def write_pack(
    store: Store,
    code: str,
    month: str | pd.Period,
    out: str | Path,
    *,
    viewer: Viewer,
    public: bool = False,
    stale_weeks: int | None = None,
    roads_path: str | Path | None = None,
) -> Path:
    """Build the pack and write it to ``out``: a PDF for ``.pdf``, HTML for ``.html``/``.htm``.

    The file appears whole or not at all (written beside ``out`` and renamed).

    Raises
    ------
    PackError
        ``out`` has another suffix, or its folder does not exist.
    """
    out = Path(out)
    kind = pack_format(out)
    if not out.parent.is_dir():
        raise PackError(f"--out folder {str(out.parent)!r} does not exist; create it or choose another path.")
    pack = build_pack(store, code, month, viewer=viewer, public=public, stale_weeks=stale_weeks, roads_path=roads_path)
    data = render_pdf(pack) if kind == "pdf" else render_html(pack).encode("utf-8")
    private_files.write_whole(out, data)
    return out


def render(agenda: Agenda, kind: str = "pdf") -> bytes:
    """The pack of ``agenda`` as file content: ``pdf`` or ``html`` (the dashboard's download buttons)."""
    if kind not in ("pdf", "html"):
        raise PackError(f"kind must be 'pdf' or 'html'; got {kind!r}.")
    pack = pack_from_agenda(agenda)
    return render_pdf(pack) if kind == "pdf" else render_html(pack).encode("utf-8")


def pack_format(out: str | Path) -> str:
    """``pdf`` or ``html`` from the file name, or :class:`PackError`."""
    kind = FORMATS.get(Path(out).suffix.lower())
    if kind is None:
        raise PackError(f"--out must end in .pdf or .html (the suffix picks the format); got {str(out)!r}.")
    return kind
