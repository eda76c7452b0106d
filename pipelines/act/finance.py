"""Financial years and budget cycles: which budget an intervention or action falls in, and what is due when.

Place in the data flow: analyse. Pure functions over the interventions and actions frames; the agenda
and the meeting pack call them.

South Africa's spheres of government budget on different years:

- **municipal** (Municipal Finance Management Act, MFMA): 1 July to 30 June; "2025/26" starts 1 July 2025.
- **provincial** and **national** (Public Finance Management Act, PFMA): 1 April to 31 March; "2025/26"
  starts 1 April 2025.

So the same day can fall in different financial years: 15 May 2026 is municipal 2025/26 but national
2026/27. :func:`pipelines.periods.financial_year_of` and :func:`pipelines.periods.parse_financial_year`
(the one place for financial years) turn days and labels into :class:`~pipelines.periods.FinancialYear`
objects that know their first and last day; this module places budgets and deadlines in them.

Deadlines (:func:`statutory_deadlines`). Every sphere's year end. For the municipal budget, only dates
fixed in law, each with its source:

- 1 September: time schedule for the next budget tabled, at least 10 months before it starts (MFMA s21(1)(b));
- 25 January: mid-year budget and performance assessment (MFMA s72(1));
- 28 February: last day to table an adjustments budget that adds revenue, shifts savings or fixes errors
  (Municipal Budget and Reporting Regulations, 2009, reg 23(1), for MFMA s28(2)(b), (d) and (f));
- 2 April: next year's budget tabled, at least 90 days before 1 July (MFMA s16(2));
- 1 June: council considers approving next year's budget, at least 30 days before 1 July (MFMA s24(1));
- 30 June: next year's budget approved, before the year starts (MFMA s16(1), s24(2)(a)).

National and provincial budget calendars are set by each treasury rather than by a fixed date in law,
so only their year end (31 March) is listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipelines.periods import (
    FY_START_MONTH,
    FinancialYear,
    FinancialYearError,
    as_date,
    check_sphere,
    financial_year_of,
    parse_financial_year,
)
from pipelines.schemas import ACTIONS, COLUMNS, FUNDING_SPHERES, INTERVENTIONS

NOT_RECORDED = "not recorded"

_SPHERE = ACTIONS.field("funding_sphere").name
_FY = ACTIONS.field("financial_year").name
_DUE = ACTIONS.field("due").name
_END = INTERVENTIONS.field("end").name
_START = INTERVENTIONS.field("start").name

ITEM_COLUMNS = ("kind", "id", "title", "status", "sphere", "financial_year", "fy_start", "fy_end", "date", "note")
DEADLINE_COLUMNS = ("date", "days", "sphere", "financial_year", "what", "source")


def normalise_financial_year(label: str | None, sphere: str | None, day: object = None) -> str | None:
    """The canonical financial-year label of a record (an action), checked against its sphere.

    With no label, a ``sphere`` and a ``day`` give the year containing that day; with neither, None.

    Raises
    ------
    FinancialYearError
        A label without a sphere (the year cannot be placed: is "2025/26" July or April?), an unreadable
        label, or an unknown sphere.
    """
    if _blank(label):
        if _blank(sphere) or _blank(day):
            return None
        return financial_year_of(day, sphere).label
    if _blank(sphere):
        raise FinancialYearError(
            f"financial_year {label!r} needs a funding_sphere ({', '.join(FUNDING_SPHERES)}): a municipal year "
            "starts on 1 July, a provincial or national one on 1 April."
        )
    return parse_financial_year(label, sphere).label


@dataclass(frozen=True)
class Deadline:
    """A dated budget milestone."""

    date: dt.date
    sphere: str
    financial_year: str
    what: str
    source: str


def statutory_deadlines(sphere: str, start: dt.date, end: dt.date) -> list[Deadline]:
    """Budget milestones of ``sphere`` from ``start`` to ``end`` inclusive (see the module docstring)."""
    sphere = check_sphere(sphere)
    start, end = as_date(start), as_date(end)
    found: list[Deadline] = []
    fy = financial_year_of(start, sphere)
    while fy.start <= end:
        found.append(Deadline(fy.end, sphere, fy.label, f"{sphere.capitalize()} {fy.label} year ends", "year end"))
        if sphere == "municipal":
            nxt = fy.next()
            y0, y1 = fy.first_year, fy.first_year + 1
            found += [
                Deadline(
                    dt.date(y0, 9, 1),
                    sphere,
                    nxt.label,
                    f"Time schedule for the {nxt.label} budget tabled (at least 10 months before 1 July)",
                    "MFMA s21(1)(b)",
                ),
                Deadline(
                    dt.date(y1, 1, 25),
                    sphere,
                    fy.label,
                    f"Mid-year budget and performance assessment of {fy.label}",
                    "MFMA s72(1)",
                ),
                Deadline(
                    dt.date(y1, 2, 28),
                    sphere,
                    fy.label,
                    f"Last day to table the {fy.label} adjustments budget (new revenue, savings, corrections)",
                    "MBRR reg 23(1); MFMA s28(2)(b), (d) and (f)",
                ),
                Deadline(
                    nxt.start - dt.timedelta(days=90),
                    sphere,
                    nxt.label,
                    f"{nxt.label} budget tabled in council (at least 90 days before 1 July)",
                    "MFMA s16(2)",
                ),
                Deadline(
                    nxt.start - dt.timedelta(days=30),
                    sphere,
                    nxt.label,
                    f"Council considers approving the {nxt.label} budget (at least 30 days before 1 July)",
                    "MFMA s24(1)",
                ),
                Deadline(
                    fy.end,
                    sphere,
                    nxt.label,
                    f"{nxt.label} budget approved (before the year starts)",
                    "MFMA s16(1), s24(2)(a)",
                ),
            ]
        fy = fy.next()
    return sorted((d for d in found if start <= d.date <= end), key=lambda d: (d.date, d.what))


def budget_items(interventions: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Interventions and actions with the budget cycle each falls in: what falls in which financial year.

    Returns one row per record (:data:`ITEM_COLUMNS`): ``kind`` (intervention or action), ``id``,
    ``title``, ``status``, ``sphere`` (``not recorded`` when missing), ``financial_year``, ``fy_start``,
    ``fy_end`` (dates; empty when the cycle cannot be placed), ``date`` (an action's due date, an
    intervention's end) and ``note``: when the year was taken from the date, when the sphere is missing,
    when the label is unreadable, or when the date falls after the year ends (money may lapse; plan a
    roll-over or next year's allocation).
    """
    rows = []
    for kind, frame, id_col, title_col, date_col, fallback_col in (
        ("intervention", interventions, "intervention_id", "name", _END, _START),
        ("action", actions, "action_id", "decision", _DUE, _DUE),
    ):
        if frame is None or not len(frame):
            continue
        for record in pd.DataFrame(frame).drop(columns=COLUMNS.geometry, errors="ignore").to_dict("records"):
            rows.append(_item(kind, record, id_col, title_col, date_col, fallback_col))
    return pd.DataFrame(rows, columns=list(ITEM_COLUMNS))


def budget_cycles(items: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Per sphere and financial year: dates, where it stands on ``as_of``, and what falls in it.

    Columns: ``sphere``, ``financial_year``, ``period`` ("1 Jul 2025 to 30 Jun 2026"), ``state``
    (``past``, ``current``, ``next``, ``later``), ``interventions``, ``actions``, ``open_actions``,
    ``flagged`` (records with a note). Rows in sphere order, oldest year first; records whose cycle
    cannot be placed are summed in a last row per sphere (``financial_year`` ``not recorded``).
    """
    columns = ["sphere", "financial_year", "period", "state", "interventions", "actions", "open_actions", "flagged"]
    if not len(items):
        return pd.DataFrame(columns=columns)
    as_of = as_date(as_of)
    rows = []
    order = {s: i for i, s in enumerate((*FUNDING_SPHERES, NOT_RECORDED))}
    for (sphere, label), group in items.groupby(["sphere", items[COLUMNS.financial_year].fillna(NOT_RECORDED)]):
        start, end = group["fy_start"].iloc[0], group["fy_end"].iloc[0]
        placed = not pd.isna(start)
        if placed:
            current = financial_year_of(as_of, sphere) if sphere in FY_START_MONTH else None
            first = int(str(label)[:4])
            state = (
                "past"
                if end < as_of
                else "current"
                if current and first == current.first_year
                else "next"
                if current and first == current.first_year + 1
                else "later"
            )
            period = f"{start:%d %b %Y} to {end:%d %b %Y}"
        else:
            state, period = "", "cannot be placed"
        is_action = group[COLUMNS.kind] == "action"
        rows.append(
            {
                "sphere": sphere,
                "financial_year": label if placed else NOT_RECORDED,
                "period": period,
                "state": state,
                "interventions": int((~is_action).sum()),
                "actions": int(is_action.sum()),
                "open_actions": int((is_action & group[COLUMNS.status].isin(["open", "blocked"])).sum()),
                "flagged": int((group[COLUMNS.note] != "").sum()),
                "_order": (order.get(sphere, len(order)), not placed, str(label)),
            }
        )
    rows.sort(key=lambda row: row["_order"])
    return pd.DataFrame(rows, columns=columns)


def upcoming_deadlines(items: pd.DataFrame, *, as_of: dt.date, months: int = 6) -> pd.DataFrame:
    """Deadlines from ``as_of`` to ``months`` months ahead, per budget cycle (:data:`DEADLINE_COLUMNS`).

    Statutory milestones (:func:`statutory_deadlines`) of the municipal sphere and of every sphere the
    items use, plus the due dates of open or blocked actions and the planned end of interventions that
    are not complete, each with its sphere and financial year. ``days`` counts from ``as_of``.
    """
    if months < 1:
        raise FinancialYearError(f"months must be at least 1; got {months}.")
    as_of = as_date(as_of)
    until = (pd.Timestamp(as_of) + pd.DateOffset(months=months)).date()
    spheres = ["municipal", *sorted(set(items["sphere"]) & set(FUNDING_SPHERES) - {"municipal"})] if len(items) else []
    spheres = spheres or ["municipal"]
    rows = [vars(d) for s in spheres for d in statutory_deadlines(s, as_of, until)]
    if len(items):
        due = pd.to_datetime(items["date"], errors="coerce").dt.date
        pending = (items[COLUMNS.kind] == "action") & items[COLUMNS.status].isin(["open", "blocked"])
        pending |= (items[COLUMNS.kind] == "intervention") & ~items[COLUMNS.status].isin(["complete"])
        chosen = items[pending & due.notna() & (due >= as_of) & (due <= until)]
        for row, day in zip(chosen.itertuples(index=False), due[chosen.index], strict=True):
            what = f"Action due: {row.title}" if row.kind == "action" else f"Planned end: {row.title}"
            rows.append(
                {
                    "date": day,
                    "sphere": row.sphere,
                    "financial_year": row.financial_year or NOT_RECORDED,
                    "what": what,
                    "source": item_source(row.kind, row.id),
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in DEADLINE_COLUMNS if c != "days"])
    table.insert(1, "days", [(d - as_of).days for d in table["date"]])
    return table.sort_values(["date", "sphere", "what"], ignore_index=True)[list(DEADLINE_COLUMNS)]


def item_source(kind: str, item_id: object) -> str:
    """Where a deadline of a budget item comes from: its kind and id (``"action KHA-...-2026-06-A01"``); the
    pack and meeting mode say the id shorter (:func:`pipelines.act.pack.agenda_section`)."""
    return f"{kind} {item_id}"


# --------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------
def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


def _item(kind: str, record: dict, id_col: str, title_col: str, date_col: str, fallback_col: str) -> dict:
    sphere = None if _blank(record.get(_SPHERE)) else str(record[_SPHERE]).strip().lower()
    label = record.get(_FY)
    day = None if _blank(record.get(date_col)) else record[date_col]
    fallback = None if _blank(record.get(fallback_col)) else record[fallback_col]
    notes: list[str] = []
    fy: FinancialYear | None = None
    try:
        if sphere in FY_START_MONTH and not _blank(label):
            fy = parse_financial_year(label, sphere)
        elif sphere in FY_START_MONTH and fallback is not None:
            fy = financial_year_of(fallback, sphere)
            notes.append("financial year taken from the date")
        elif not _blank(label):
            notes.append("funding sphere not recorded, so the budget cycle is unknown")
        else:
            notes.append("no financial year recorded")
    except FinancialYearError:
        notes.append(f"financial year {label!r} is not readable (write it like 2025/26)")
    if fy is not None and day is not None:
        try:
            if as_date(day) > fy.end:
                notes.append(f"date is after {fy.label} ends on {fy.end:%d %b %Y}")
        except FinancialYearError:
            notes.append(f"date {day!r} is not readable")
    return {
        "kind": kind,
        "id": record.get(id_col),
        "title": record.get(title_col),
        "status": record.get(COLUMNS.status),
        "sphere": sphere if sphere in FY_START_MONTH else NOT_RECORDED,
        "financial_year": fy.label if fy else (None if _blank(label) else str(label)),
        "fy_start": fy.start if fy else None,
        "fy_end": fy.end if fy else None,
        "date": None if day is None else str(day)[:10],
        "note": "; ".join(notes),
    }
