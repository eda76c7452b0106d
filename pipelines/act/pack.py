"""The meeting pack: one neighbourhood, one month, as a PDF and as a self-contained HTML file.

Place in the data flow: show. :func:`build_pack` reads the store (through :func:`~pipelines.act.agenda.load_meeting`),
builds the agenda and the figures and returns a :class:`MeetingPack`; :func:`render_pdf` (reportlab) and
:func:`render_html` turn it into bytes and text with no browser and no network: images are embedded (in the
HTML as ``data:`` URIs), fonts are the DejaVu fonts that ship with matplotlib, and nothing refers to any
URL. :func:`write_pack` picks the format from the file name and writes the file whole or not at all.

Contents: cover (title, dates, what the pack is), the map of the neighbourhood (hot spots, assets,
interventions), the trend charts, the agenda (one section per item, as in meeting mode), then the actions
register, the interventions table and the budget cycles. ``public=True`` applies the rules of
:mod:`pipelines.privacy.public` and marks every page "Public".

Black and white: tables are black on white with a grey header row; figures follow
:mod:`pipelines.act.figures`; no meaning is carried by colour; body text is 10 pt and nothing is below 9 pt.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from pipelines import glossary
from pipelines.act import figures
from pipelines.act.actions import OPEN_STATUSES, overdue
from pipelines.act.agenda import Agenda, AgendaItem, agenda_for
from pipelines.errors import AreaSafeError
from pipelines.periods import local_days, local_zone
from pipelines.privacy import Viewer
from pipelines.store.base import Store

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}
#: Height of the map figure (7 inches wide): drawn at the size it has on page 1, under the agenda, so its
#: 9.5 pt labels print at 9.5 pt.
COVER_MAP_HEIGHT_IN = 5.2
MAX_REPORT_ROWS = 25
INTERNAL_NOTICE = (
    "Internal: for ACT members. Contains names, notes and community reports; do not publish. "
    "Share the public pack instead."
)
PUBLIC_NOTICE = (
    "Public version: incident counts of 1 to 4 are shown as <5, sensitive categories are combined, and names, "
    "notes and the text of community reports are left out."
)

# Columns shown per agenda item kind: (column, heading, relative width).
_COLUMNS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "actions": (
        ("action", "Action", 1.1),
        ("decision", "Decision", 3.0),
        ("owner", "Owner", 1.8),
        ("due", "Due", 1.05),
        ("status", "Status", 1.0),
        ("overdue_days", "Days overdue", 0.8),
        ("bottleneck", "Bottleneck", 2.4),
    ),
    "interventions": (
        ("intervention", "Intervention", 2.2),
        ("lead", "Lead", 1.5),
        ("status", "Status", 1.0),
        ("flags", "Why on the agenda", 1.4),
        ("last_update", "Last update", 1.05),
        ("weeks", "Weeks", 0.6),
        ("news", "News", 2.8),
    ),
    "hotspot": (("question", "Question", 1.3), ("answer", "Answer", 4.5)),
    "counts": (
        ("category", "Category", 3.0),
        ("this_month", "This month", 0.9),
        ("previous_month", "Previous month", 0.9),
        ("baseline_mean", "Average of 3 months before", 1.1),
        ("reading", "Reading", 1.8),
    ),
    "reports": (
        ("date", "Date", 1.0),
        ("category", "Category", 2.0),
        ("in_hotspot", "Hot spot", 0.7),
        ("description", "What was reported", 4.0),
    ),
    "reports_public": (("category", "Category", 3.0), ("reports", "Reports", 1.0)),
    "budget": (
        ("date", "Date", 1.0),
        ("days", "Days", 0.6),
        ("sphere", "Sphere", 1.0),
        ("financial_year", "Year", 0.8),
        ("what", "What", 3.6),
        ("source", "Source", 1.6),
    ),
    "decisions": (
        ("action", "Action", 1.1),
        ("decision", "Decision", 3.2),
        ("owner", "Owner", 1.8),
        ("due", "Due", 1.0),
        ("status", "Status", 0.9),
    ),
}


class PackError(AreaSafeError):
    """The pack cannot be written as asked; the message names the argument to change."""


@dataclass(frozen=True)
class Section:
    """A titled part of the pack: a summary, a table of display strings, and caveats."""

    number: str
    title: str
    summary: str
    table: pd.DataFrame
    widths: tuple[float, ...]
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class MeetingPack:
    """Everything a rendered pack shows.

    Attributes
    ----------
    title, facts : str
        Heading, and a line of dates ("Meeting of ..., data to ..., since the meeting of ...").
    notice : str
        Who may read it (internal or public).
    public : bool
    map_png, trend_png : bytes
        The figures (:mod:`pipelines.act.figures`).
    map_caption, trend_caption : str
    agenda : tuple of Section
        One per agenda item, numbered 1, 2, ...
    annexes : tuple of Section
        Actions register (A), interventions (B), budget cycles (C) and what falls in which cycle (D).
    file_stem : str
        ``meeting-pack-<code>-<month>[-public]``.
    """

    title: str
    facts: str
    notice: str
    public: bool
    map_png: bytes
    trend_png: bytes
    map_caption: str
    trend_caption: str
    agenda: tuple[Section, ...]
    annexes: tuple[Section, ...]
    file_stem: str


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
    facts = f"Meeting of {_day(context.as_of)}; data to {_day(context.month.end_time.date())}; "
    facts += (
        f"'since last meeting' means after {_day(context.since)}" if previous is not None else "first meeting on record"
    )
    facts += f". Generated {now:%Y-%m-%d %H:%M} by AreaSafe."
    labels = figures.intervention_labels(context.neighbourhood_interventions)
    hot = context.hotspots
    window = f"{hot.months[0]:%b %Y} to {hot.months[-1]:%b %Y}" if len(hot.months) else "no months"
    sections = tuple(_agenda_section(str(i), item, agenda, labels) for i, item in enumerate(agenda.items, start=1))
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
        annexes=(
            _actions_annex(agenda, labels),
            _interventions_annex(agenda, labels),
            _cycles_annex(agenda),
            _items_annex(agenda),
            _glossary_annex(),
        ),
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
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
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


# --------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------
def agenda_section(number: str, item: AgendaItem, agenda: Agenda) -> Section:
    """One agenda item as the pack shows it (short action ids, map labels, display headings); meeting mode
    shows the same."""
    return _agenda_section(
        number, item, agenda, figures.intervention_labels(agenda.context.neighbourhood_interventions)
    )


def _agenda_section(number: str, item: AgendaItem, agenda: Agenda, labels: dict[str, str]) -> Section:
    table = item.table.copy()
    kind = item.kind
    caveats = list(item.caveats)
    code = agenda.context.code
    if kind in ("actions", "decisions") and len(table):
        table["action"] = table["action"].map(lambda a: short_action_id(a, code))
    if kind == "interventions" and len(table):
        by_name = {n: labels.get(i, "") for n, i in zip(*_names_ids(agenda), strict=True)}
        table["intervention"] = [f"{by_name.get(n, '')} {n}".strip() for n in table["intervention"]]
    if kind == "reports" and agenda.public:
        kind = "reports_public"
    elif kind == "reports" and len(table):
        withheld = table["sensitive"].astype(bool)
        table["description"] = table["description"].where(~withheld, "(sensitive category: not shown in the pack)")
        if len(table) > MAX_REPORT_ROWS:
            caveats.append(
                f"The {MAX_REPORT_ROWS} newest of {len(table)} reports are listed; the dashboard has them all."
            )
            table = table.head(MAX_REPORT_ROWS)
    columns = _COLUMNS[kind]
    return Section(
        number, item.title, item.summary, _display(table, columns), tuple(w for _, _, w in columns), tuple(caveats)
    )


def _actions_annex(agenda: Agenda, labels: dict[str, str]) -> Section:
    actions = agenda.context.actions.copy()
    code = agenda.context.code
    as_of = agenda.context.as_of
    late = overdue(actions, as_of=as_of)
    assets = dict(zip(agenda.context.assets["asset_id"], agenda.context.assets["name"], strict=True))
    groups = {
        c: g
        for g, cells in zip(agenda.hotspot_groups.get("label", []), agenda.hotspot_groups.get("cells", []), strict=True)
        for c in cells
    }
    rank = [
        0 if is_late else 1 if s in OPEN_STATUSES else 2 for is_late, s in zip(late, actions["status"], strict=True)
    ]
    actions = actions.assign(_rank=rank).sort_values(["_rank", "due", "action_id"], na_position="last")
    late = late.reindex(actions.index)
    rows = []
    for record, is_late in zip(actions.to_dict("records"), late, strict=True):
        link = []
        if _present(record.get("intervention_id")):
            link.append(labels.get(record["intervention_id"], record["intervention_id"]))
        if _present(record.get("hotspot_cell")):
            link.append(f"hot spot {groups.get(record['hotspot_cell'], 'cell ' + record['hotspot_cell'])}")
        if _present(record.get("asset_id")):
            link.append(assets.get(record["asset_id"], record["asset_id"]))
        status = record["status"] + (" (overdue)" if is_late else "")
        if record["status"] == "blocked":
            status += (
                f": {record['blocked_by']}; can unblock: {record['unblocker']}"
                if _present(record.get("blocked_by"))
                else " (details not published)"
            )
        owner = record["owner_org"] + (f" ({record['owner_person']})" if _present(record.get("owner_person")) else "")
        year = (
            f"{record['funding_sphere']} {record['financial_year']}" if _present(record.get("financial_year")) else ""
        )
        rows.append(
            {
                "action": short_action_id(record["action_id"], code),
                "decision": record["decision"],
                "owner": owner,
                "due": record.get("due") or "",
                "status": status,
                "budget": year,
                "link": "; ".join(link),
            }
        )
    columns = (
        ("action", "Action", 1.1),
        ("decision", "Decision", 3.0),
        ("owner", "Owner", 1.8),
        ("due", "Due", 1.05),
        ("status", "Status", 2.2),
        ("budget", "Budget year", 1.2),
        ("link", "Linked to", 1.4),
    )
    n_open = sum(r < 2 for r in rank)
    summary = f"{len(rows)} action(s) in the register of {agenda.context.name}; {n_open} open or blocked, {int(late.sum())} overdue on {_day(as_of)}."
    table = pd.DataFrame(rows, columns=[c for c, _, _ in columns])
    return Section("A", "Actions register", summary, _display(table, columns), tuple(w for _, _, w in columns))


def _interventions_annex(agenda: Agenda, labels: dict[str, str]) -> Section:
    interventions = agenda.context.neighbourhood_interventions.sort_values("name")
    log = agenda.context.intervention_log
    as_of = agenda.context.as_of
    last = {}
    if len(log):
        day = local_days(log["changed_at"])
        kept = log.assign(_day=day)[day <= as_of]
        last = kept.groupby("intervention_id")["_day"].max().astype(str).to_dict()
    rows = [
        {
            "label": labels.get(r["intervention_id"], ""),
            "name": r["name"],
            "type": r.get("type") or "",
            "lead": r.get("lead") or "",
            "status": r["status"],
            "budget": f"{r['funding_sphere'] or 'sphere not recorded'} {r['financial_year'] or ''}".strip(),
            "dates": f"{r.get('start') or '?'} to {r.get('end') or '?'}",
            "budget_zar": "" if pd.isna(r.get("budget_zar")) else f"R {r['budget_zar']:,.0f}",
            "last_update": last.get(r["intervention_id"], ""),
        }
        for r in interventions.drop(columns="geometry").to_dict("records")
    ]
    columns = (
        ("label", "Map", 0.5),
        ("name", "Intervention", 2.4),
        ("type", "Type", 1.3),
        ("lead", "Lead", 1.5),
        ("status", "Status", 1.0),
        ("budget", "Budget year", 1.2),
        ("dates", "Start to end", 1.6),
        ("budget_zar", "Budget", 1.1),
        ("last_update", "Last update", 1.0),
    )
    total = interventions["budget_zar"].sum()
    summary = f"{len(rows)} intervention(s) in {agenda.context.name}, budgets totalling R {total:,.0f}."
    table = pd.DataFrame(rows, columns=[c for c, _, _ in columns])
    return Section("B", "Interventions", summary, _display(table, columns), tuple(w for _, _, w in columns))


def _cycles_annex(agenda: Agenda) -> Section:
    columns = (
        ("sphere", "Sphere", 1.0),
        ("financial_year", "Year", 0.8),
        ("period", "Runs", 2.0),
        ("state", "On the meeting day", 1.0),
        ("interventions", "Interventions", 1.0),
        ("actions", "Actions", 0.8),
        ("open_actions", "Open actions", 0.8),
        ("flagged", "Flagged", 0.7),
    )
    summary = (
        "Which budget each intervention and action falls in. Municipal years run 1 July to 30 June, national and "
        "provincial years 1 April to 31 March; the same day can fall in different years."
    )
    caveats = ("Flagged: see annex D for what needs a look (a due date after the year ends, a missing sphere).",)
    return Section(
        "C", "Budget cycles", summary, _display(agenda.budget_cycles, columns), tuple(w for _, _, w in columns), caveats
    )


def _items_annex(agenda: Agenda) -> Section:
    items = agenda.budget_items.copy()
    code = agenda.context.code
    labels = figures.intervention_labels(agenda.context.neighbourhood_interventions)
    if len(items):
        items["id"] = [labels.get(i) or short_action_id(str(i), code) for i in items["id"]]
    columns = (
        ("kind", "Kind", 1.0),
        ("id", "Id", 1.2),
        ("title", "What", 3.0),
        ("sphere", "Sphere", 0.9),
        ("financial_year", "Year", 0.7),
        ("date", "Due or end", 1.0),
        ("note", "Note", 2.2),
    )
    summary = f"{len(items)} record(s) with their budget cycle; {int((items['note'] != '').sum()) if len(items) else 0} flagged."
    return Section(
        "D", "What falls in which budget cycle", summary, _display(items, columns), tuple(w for _, _, w in columns)
    )


def _glossary_annex() -> Section:
    """The words of the pack, as the dashboard's glossary page says them (:mod:`pipelines.glossary`)."""
    table = pd.DataFrame([(e.term, e.means) for e in glossary.entries()], columns=["Term", "What it means"])
    return Section("E", "What the words mean", "The words this pack uses for its numbers.", table, (1.6, 5.4))


def short_action_id(action_id: str, code: str) -> str:
    """``KHA-HARARE-HOLOMISA-2026-06-A01`` -> ``2026-06-A01`` (the neighbourhood is in the pack's title)."""
    return str(action_id).removeprefix(f"{code}-")


def _names_ids(agenda: Agenda) -> tuple[list[str], list[str]]:
    frame = agenda.context.neighbourhood_interventions
    return list(frame["name"]), list(frame["intervention_id"])


def _display(table: pd.DataFrame, columns: tuple[tuple[str, str, float], ...]) -> pd.DataFrame:
    """The chosen columns as text, headed for people; missing values blank."""
    shown = pd.DataFrame(
        {heading: [_cell(v) for v in table[name]] if name in table else [] for name, heading, _ in columns}
    )
    return shown


def _cell(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _present(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------
def pdf_table(frame: pd.DataFrame, widths: tuple[float, ...], width: float, styles: dict):
    """``frame`` as a boxed PDF table ``width`` wide, its columns shared by ``widths`` (relative): the pack's
    and the ward report's tables."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    if not len(frame):
        return Paragraph("Nothing to list.", styles["caveat"])
    col_widths = _column_widths(frame, widths, width)
    data = [[Paragraph(escape(str(c)), styles["th"]) for c in frame.columns]]
    data += [[Paragraph(escape(str(v)), styles["td"]) for v in row] for row in frame.itertuples(index=False)]
    grid = Table(data, colWidths=col_widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.85, 0.85, 0.85)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return grid


def render_pdf(pack: MeetingPack) -> bytes:
    """The pack as an A4 PDF (reportlab), fonts embedded, every page marked internal or public."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
    )

    styles = pdf_styles()
    margin = 14 * mm
    width = A4[0] - 2 * margin
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 4 * mm,
        title=pack.title,
        author="AreaSafe",
        subject="ACT meeting pack",
    )
    footer = ("PUBLIC" if pack.public else "INTERNAL: ACT members only") + f" | {pack.title}"

    def on_page(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(PDF_FONT, 9)
        canvas.drawString(margin, margin - 2 * mm, footer[:110])
        canvas.drawRightString(A4[0] - margin, margin - 2 * mm, f"page {document.page}")
        canvas.restoreState()

    def image(png: bytes, max_height: float) -> Image:
        from reportlab.lib.utils import ImageReader

        w, h = ImageReader(io.BytesIO(png)).getSize()
        scale = min(width / w, max_height / h)
        return Image(io.BytesIO(png), width=w * scale, height=h * scale)

    def table(frame: pd.DataFrame, widths: tuple[float, ...]):
        return pdf_table(frame, widths, width, styles)

    story = [
        Paragraph(escape(pack.title), styles["title"]),
        Paragraph(escape(pack.facts), styles["small"]),
        Spacer(1, 3 * mm),
        Table(
            [[Paragraph(escape(pack.notice), styles["notice"])]],
            colWidths=[width],
            style=[("BOX", (0, 0), (-1, -1), 1.2, colors.black), ("LEFTPADDING", (0, 0), (-1, -1), 5)],
        ),
        Paragraph("Agenda", styles["h2"]),
        ListFlowable(
            [ListItem(Paragraph(escape(s.title), styles["body"]), leftIndent=14) for s in pack.agenda],
            bulletType="1",
            bulletFontName=PDF_FONT,
            bulletFontSize=10,
        ),
        Paragraph("Annexes: " + escape("; ".join(f"{s.number}. {s.title}" for s in pack.annexes)), styles["small"]),
        # The map fills the rest of page 1 (a cover of a few lines left it mostly blank).
        Paragraph("Map", styles["h2"]),
        _fitted_image(pack.map_png, width, reserve=22 * mm, smallest=110 * mm),
        Paragraph(escape(pack.map_caption), styles["small"]),
        PageBreak(),
        Paragraph("Trends", styles["h2"]),
        image(pack.trend_png, 200 * mm),
        Paragraph(escape(pack.trend_caption), styles["small"]),
    ]
    for i, section in enumerate((*pack.agenda, *pack.annexes)):
        if i in (0, len(pack.agenda)):
            story.append(PageBreak())
        heading = Paragraph(f"{escape(section.number)}. {escape(section.title)}", styles["h2"])
        story.append(KeepTogether([heading, Paragraph(escape(section.summary), styles["body"]), Spacer(1, 2 * mm)]))
        story.append(table(section.table, section.widths))
        story.extend(Paragraph(escape(c), styles["caveat"]) for c in section.caveats)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def _fitted_image_class():
    from reportlab.platypus import Image

    class FittedImage(Image):
        """An image as large as the room left on the page allows (less ``reserve`` for its caption), never
        smaller than ``smallest`` high: with less room it goes to the next page whole."""

        def __init__(self, png: bytes, width: float, *, reserve: float, smallest: float) -> None:
            from reportlab.lib.utils import ImageReader

            self._size = ImageReader(io.BytesIO(png)).getSize()
            self._room = (width, reserve, smallest)
            super().__init__(io.BytesIO(png), width=width, height=width * self._size[1] / self._size[0])

        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            width, reserve, smallest = self._room
            w, h = self._size
            room = avail_height - reserve
            scale = min(min(width, avail_width) / w, (room if room >= smallest else 10 * smallest) / h)
            self.drawWidth, self.drawHeight = w * scale, h * scale
            self.hAlign = "CENTER"
            return self.drawWidth, self.drawHeight

    return FittedImage


def _fitted_image(png: bytes, width: float, *, reserve: float, smallest: float):
    """A flowable of ``png`` that fills the room left on its page (:func:`_fitted_image_class`)."""
    return _fitted_image_class()(png, width, reserve=reserve, smallest=smallest)


PDF_FONT = "DejaVuSans"
_PAD = 7.0  # left + right cell padding, points


def _column_widths(frame: pd.DataFrame, weights: tuple[float, ...], width: float) -> list[float]:
    """Column widths in points: in proportion to ``weights``, but never narrower than the longest word of a
    column (so dates and words are not broken mid-way), taking the room from the widest columns."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def longest(texts, font: str) -> float:
        words = (w for t in texts for w in str(t).split())
        return max((stringWidth(w, font, 9) for w in words), default=0.0) + _PAD

    minimum = [
        min(max(longest([c], f"{PDF_FONT}-Bold"), longest(frame[c].head(200), PDF_FONT)), width / 3)
        for c in frame.columns
    ]
    total = sum(weights)
    widths = [width * w / total for w in weights]
    for _ in range(len(widths)):
        short = [i for i, (w, m) in enumerate(zip(widths, minimum, strict=True)) if w < m - 0.01]
        if not short:
            break
        need = sum(minimum[i] - widths[i] for i in short)
        for i in short:
            widths[i] = minimum[i]
        donors = [i for i in range(len(widths)) if i not in short and widths[i] > minimum[i]]
        spare = sum(widths[i] - minimum[i] for i in donors)
        if spare <= 0:
            break
        for i in donors:
            widths[i] -= need * (widths[i] - minimum[i]) / spare
    scale = width / sum(widths)
    return [w * scale for w in widths]


def pdf_styles() -> dict:
    """Paragraph styles on the DejaVu fonts shipped with matplotlib (registered once, embedded in the PDF)."""
    from matplotlib import font_manager
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        folder = Path(font_manager.findfont("DejaVu Sans")).parent
        for name, file in (
            (PDF_FONT, "DejaVuSans.ttf"),
            (f"{PDF_FONT}-Bold", "DejaVuSans-Bold.ttf"),
            (f"{PDF_FONT}-Oblique", "DejaVuSans-Oblique.ttf"),
            (f"{PDF_FONT}-BoldOblique", "DejaVuSans-BoldOblique.ttf"),
        ):
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        pdfmetrics.registerFontFamily(
            PDF_FONT,
            normal=PDF_FONT,
            bold=f"{PDF_FONT}-Bold",
            italic=f"{PDF_FONT}-Oblique",
            boldItalic=f"{PDF_FONT}-BoldOblique",
        )
    base = ParagraphStyle("body", fontName=PDF_FONT, fontSize=10, leading=13.5, spaceAfter=3)
    return {
        "body": base,
        "title": ParagraphStyle(
            "title", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=18, leading=22, spaceAfter=4
        ),
        "h2": ParagraphStyle("h2", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=13.5, leading=17, spaceBefore=8),
        "small": ParagraphStyle("small", parent=base, fontSize=9.5, leading=12),
        "notice": ParagraphStyle("notice", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=10, leading=13),
        "caveat": ParagraphStyle("caveat", parent=base, fontName=f"{PDF_FONT}-Oblique", fontSize=9, leading=11.5),
        "th": ParagraphStyle("th", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=9, leading=11, spaceAfter=0),
        "td": ParagraphStyle("td", parent=base, fontSize=9, leading=11, spaceAfter=0),
    }
