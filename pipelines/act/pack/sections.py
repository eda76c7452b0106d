"""The meeting pack's contents: one :class:`Section` per agenda item and per annex, and the
:class:`MeetingPack` they make.

Place in the data flow: show. Tables here are display strings headed for people; :mod:`.html_doc` and
:mod:`.pdf_doc` draw them. Every table's columns (which, their headings and relative widths) are in
:data:`_COLUMNS`, one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipelines import glossary
from pipelines.act import figures, finance
from pipelines.act.actions import OPEN_STATUSES, overdue, short_action_id
from pipelines.act.agenda import Agenda, AgendaItem
from pipelines.periods import local_days
from pipelines.plural import counted
from pipelines.schemas import COLUMNS

MAX_REPORT_ROWS = 25
#: The heading of each column the pack shows (a table may rename one: annex D's ``date``).
HEADINGS = {
    "action": "Action",
    "decision": "Decision",
    "owner": "Owner",
    "due": "Due",
    "status": "Status",
    "overdue_days": "Days overdue",
    "bottleneck": "Bottleneck",
    "intervention": "Intervention",
    "lead": "Lead",
    "flags": "Why on the agenda",
    "last_update": "Last update",
    "weeks": "Weeks",
    "news": "News",
    "question": "Question",
    "answer": "Answer",
    "category": "Category",
    "this_month": "This month",
    "previous_month": "Previous month",
    "baseline_mean": "Average of 3 months before",
    "reading": "Reading",
    "date": "Date",
    "in_hotspot": "Hot spot",
    "description": "What was reported",
    "reports": "Reports",
    "days": "Days",
    "sphere": "Sphere",
    "financial_year": "Year",
    "what": "What",
    "source": "Source",
    "budget": "Budget year",
    "link": "Linked to",
    "label": "Map",
    "name": "Intervention",
    "type": "Type",
    "dates": "Start to end",
    "budget_zar": "Budget",
    "period": "Runs",
    "state": "On the meeting day",
    "interventions": "Interventions",
    "actions": "Actions",
    "open_actions": "Open actions",
    "flagged": "Flagged",
    "kind": "Kind",
    "id": "Id",
    "title": "What",
    "note": "Note",
}
_Columns = tuple[tuple[str, str, float], ...]


def _columns(headings: dict[str, str] | None = None, /, **widths: float) -> _Columns:
    """(column, heading, relative width) for each column of a table, in order."""
    named = {**HEADINGS, **(headings or {})}
    return tuple((column, named[column], width) for column, width in widths.items())


# Per agenda item kind, then per annex.
_COLUMNS: dict[str, _Columns] = {
    "actions": _columns(action=1.1, decision=3.0, owner=1.8, due=1.05, status=1.0, overdue_days=0.8, bottleneck=2.4),
    "interventions": _columns(intervention=2.2, lead=1.5, status=1.0, flags=1.4, last_update=1.05, weeks=0.6, news=2.8),
    "hotspot": _columns(question=1.3, answer=4.5),
    "counts": _columns(category=3.0, this_month=0.9, previous_month=0.9, baseline_mean=1.1, reading=1.8),
    "reports": _columns(date=1.0, category=2.0, in_hotspot=0.7, description=4.0),
    "reports_public": _columns(category=3.0, reports=1.0),
    "budget": _columns(date=1.0, days=0.6, sphere=1.0, financial_year=0.8, what=3.6, source=1.6),
    "decisions": _columns(action=1.1, decision=3.2, owner=1.8, due=1.0, status=0.9),
    "annex_actions": _columns(action=1.1, decision=3.0, owner=1.8, due=1.05, status=2.2, budget=1.2, link=1.4),
    "annex_interventions": _columns(
        label=0.5, name=2.4, type=1.3, lead=1.5, status=1.0, budget=1.2, dates=1.6, budget_zar=1.1, last_update=1.0
    ),
    "annex_cycles": _columns(
        sphere=1.0,
        financial_year=0.8,
        period=2.0,
        state=1.0,
        interventions=1.0,
        actions=0.8,
        open_actions=0.8,
        flagged=0.7,
    ),
    "annex_items": _columns(
        {"date": "Due or end"}, kind=1.0, id=1.2, title=3.0, sphere=0.9, financial_year=0.7, date=1.0, note=2.2
    ),
}


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


def agenda_section(number: str, item: AgendaItem, agenda: Agenda, *, labels: dict[str, str] | None = None) -> Section:
    """One agenda item as the pack shows it (short action ids, map labels, display headings); meeting mode
    shows the same. ``labels`` are the interventions' map labels
    (:func:`~pipelines.act.figures.intervention_labels`), worked out here when not given."""
    if labels is None:
        labels = figures.intervention_labels(agenda.context.neighbourhood_interventions)
    table = item.table.copy()
    kind = item.kind
    caveats = list(item.caveats)
    code = agenda.context.code
    if kind in ("actions", "decisions") and len(table):
        table["action"] = table["action"].map(lambda a: short_action_id(a, code))
    if kind == "budget" and len(table):
        table[COLUMNS.source] = table[COLUMNS.source].replace(_short_sources(agenda, labels))
    if kind == "interventions" and len(table):
        by_name = {n: labels.get(i, "") for n, i in zip(*_names_ids(agenda), strict=True)}
        table["intervention"] = [f"{by_name.get(n, '')} {n}".strip() for n in table["intervention"]]
    if kind == "reports" and agenda.public:
        kind = "reports_public"
    elif kind == "reports" and len(table):
        withheld = table[COLUMNS.sensitive].astype(bool)
        table[COLUMNS.description] = table[COLUMNS.description].where(
            ~withheld, "(sensitive category: not shown in the pack)"
        )
        if len(table) > MAX_REPORT_ROWS:
            caveats.append(
                f"The {MAX_REPORT_ROWS} newest of {len(table)} reports are listed; the dashboard has them all."
            )
            table = table.head(MAX_REPORT_ROWS)
    columns = _COLUMNS[kind]
    return Section(
        number, item.title, item.summary, _display(table, columns), tuple(w for _, _, w in columns), tuple(caveats)
    )


def annexes(agenda: Agenda, labels: dict[str, str]) -> tuple[Section, ...]:
    """The pack's annexes: A actions register, B interventions (``labels`` are their map labels), C budget
    cycles, D what falls in which budget cycle, E what the words mean."""
    return (
        _actions_annex(agenda, labels),
        _interventions_annex(agenda, labels),
        _cycles_annex(agenda),
        _items_annex(agenda),
        _glossary_annex(),
    )


def _actions_annex(agenda: Agenda, labels: dict[str, str]) -> Section:
    actions = agenda.context.actions.copy()
    code = agenda.context.code
    as_of = agenda.context.as_of
    late = overdue(actions, as_of=as_of)
    assets = dict(zip(agenda.context.assets[COLUMNS.asset_id], agenda.context.assets[COLUMNS.name], strict=True))
    groups = {
        c: g
        for g, cells in zip(agenda.hotspot_groups.get("label", []), agenda.hotspot_groups.get("cells", []), strict=True)
        for c in cells
    }
    rank = [
        0 if is_late else 1 if s in OPEN_STATUSES else 2
        for is_late, s in zip(late, actions[COLUMNS.status], strict=True)
    ]
    actions = actions.assign(_rank=rank).sort_values(["_rank", COLUMNS.due, COLUMNS.action_id], na_position="last")
    late = late.reindex(actions.index)
    rows = []
    for record, is_late in zip(actions.to_dict("records"), late, strict=True):
        link = []
        if _present(record.get(COLUMNS.intervention_id)):
            link.append(labels.get(record[COLUMNS.intervention_id], record[COLUMNS.intervention_id]))
        if _present(record.get(COLUMNS.hotspot_cell)):
            link.append(f"hot spot {groups.get(record['hotspot_cell'], 'cell ' + record['hotspot_cell'])}")
        if _present(record.get(COLUMNS.asset_id)):
            link.append(assets.get(record[COLUMNS.asset_id], record[COLUMNS.asset_id]))
        status = record[COLUMNS.status] + (" (overdue)" if is_late else "")
        if record[COLUMNS.status] == "blocked":
            status += (
                f": {record['blocked_by']}; can unblock: {record['unblocker']}"
                if _present(record.get(COLUMNS.blocked_by))
                else " (details not published)"
            )
        owner = record[COLUMNS.owner_org] + (
            f" ({record['owner_person']})" if _present(record.get(COLUMNS.owner_person)) else ""
        )
        year = (
            f"{record['funding_sphere']} {record['financial_year']}"
            if _present(record.get(COLUMNS.financial_year))
            else ""
        )
        rows.append(
            {
                "action": short_action_id(record[COLUMNS.action_id], code),
                "decision": record[COLUMNS.decision],
                "owner": owner,
                "due": record.get(COLUMNS.due) or "",
                "status": status,
                "budget": year,
                "link": "; ".join(link),
            }
        )
    columns = _COLUMNS["annex_actions"]
    n_open = sum(r < 2 for r in rank)
    summary = f"{counted(len(rows), 'action')} in the register of {agenda.context.name}; {n_open} open or blocked, {int(late.sum())} overdue on {short_day(as_of)}."
    table = pd.DataFrame(rows, columns=[c for c, _, _ in columns])
    return Section("A", "Actions register", summary, _display(table, columns), tuple(w for _, _, w in columns))


def _interventions_annex(agenda: Agenda, labels: dict[str, str]) -> Section:
    interventions = agenda.context.neighbourhood_interventions.sort_values(COLUMNS.name)
    log = agenda.context.intervention_log
    as_of = agenda.context.as_of
    last = {}
    if len(log):
        day = local_days(log[COLUMNS.changed_at])
        kept = log.assign(_day=day)[day <= as_of]
        last = kept.groupby(COLUMNS.intervention_id)["_day"].max().astype(str).to_dict()
    rows = [
        {
            "label": labels.get(r[COLUMNS.intervention_id], ""),
            "name": r[COLUMNS.name],
            "type": r.get(COLUMNS.type) or "",
            "lead": r.get(COLUMNS.lead) or "",
            "status": r[COLUMNS.status],
            "budget": f"{r['funding_sphere'] or 'sphere not recorded'} {r['financial_year'] or ''}".strip(),
            "dates": f"{r.get('start') or '?'} to {r.get('end') or '?'}",
            "budget_zar": "" if pd.isna(r.get(COLUMNS.budget_zar)) else f"R {r['budget_zar']:,.0f}",
            "last_update": last.get(r[COLUMNS.intervention_id], ""),
        }
        for r in interventions.drop(columns=COLUMNS.geometry).to_dict("records")
    ]
    columns = _COLUMNS["annex_interventions"]
    total = interventions[COLUMNS.budget_zar].sum()
    summary = f"{counted(len(rows), 'intervention')} in {agenda.context.name}, budgets totalling R {total:,.0f}."
    table = pd.DataFrame(rows, columns=[c for c, _, _ in columns])
    return Section("B", "Interventions", summary, _display(table, columns), tuple(w for _, _, w in columns))


def _cycles_annex(agenda: Agenda) -> Section:
    columns = _COLUMNS["annex_cycles"]
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
        items["id"] = [_item_label(i, code, labels) for i in items["id"]]
    columns = _COLUMNS["annex_items"]
    summary = f"{counted(len(items), 'record')} with their budget cycle; {int((items['note'] != '').sum()) if len(items) else 0} flagged."
    return Section(
        "D", "What falls in which budget cycle", summary, _display(items, columns), tuple(w for _, _, w in columns)
    )


def _glossary_annex() -> Section:
    """The words of the pack, as the dashboard's glossary page says them (:mod:`pipelines.glossary`)."""
    table = pd.DataFrame([(e.term, e.means) for e in glossary.entries()], columns=["Term", "What it means"])
    return Section("E", "What the words mean", "The words this pack uses for its numbers.", table, (1.6, 5.4))


def _item_label(item_id: object, code: str, labels: dict[str, str]) -> str:
    """A budget item's id as the pack says it: an intervention's map label, an action's short id."""
    return labels.get(item_id) or short_action_id(str(item_id), code)


def _short_sources(agenda: Agenda, labels: dict[str, str]) -> dict[str, str]:
    """Each budget item's deadline source (:func:`pipelines.act.finance.item_source`) -> the same with the
    item's id as the pack says it (:func:`_item_label`)."""
    items, code = agenda.budget_items, agenda.context.code
    if not len(items):
        return {}
    return {
        finance.item_source(kind, i): finance.item_source(kind, _item_label(i, code, labels))
        for kind, i in zip(items[COLUMNS.kind], items["id"], strict=True)
    }


def _names_ids(agenda: Agenda) -> tuple[list[str], list[str]]:
    frame = agenda.context.neighbourhood_interventions
    return list(frame[COLUMNS.name]), list(frame[COLUMNS.intervention_id])


def _display(table: pd.DataFrame, columns: _Columns) -> pd.DataFrame:
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


def short_day(day: dt.date) -> str:
    """A day as the pack writes it: ``31 Oct 2026``."""
    return f"{day.day} {day:%b %Y}"
