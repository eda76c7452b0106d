"""The ACT actions register: who does what by when, kept with its full history.

Place in the data flow: validate -> store. A form (dashboard), a CLI call or a file hands records to
:func:`save_action` / :func:`import_actions`; they are checked here, at the boundary, and written with one
``store.save(actions=..., action_log=...)`` call, i.e. in one transaction: the current version replaces
the stored one (``actions`` is keyed by ``action_id``) and the same version, with a note, is appended to
``action_log`` (append-only in the database), so the register and its history can never disagree.

Rules (each broken rule is an :class:`ActionError` that names the field and says what to enter):

- ``decision`` and ``owner_org`` are required; ``status`` is one of :data:`~pipelines.schemas.ACTION_STATUSES`.
- A ``blocked`` action records what blocks it (``blocked_by``) and who can unblock it (``unblocker``): that
  is the bottleneck the ACT exists to clear, so it must be visible, not buried.
- ``due`` is a date (``YYYY-MM-DD``). ``financial_year`` needs a ``funding_sphere`` (a municipal "2025/26"
  starts 1 July 2025, a national one 1 April 2025); with a sphere and a due date but no year, the year
  containing the due date is recorded (:mod:`pipelines.act.finance`).
- Links must point at something stored: ``intervention_id``, ``asset_id``; ``hotspot_cell`` must be an
  H3 cell index. The neighbourhood must be stored, and the meeting, when given, must be of that
  neighbourhood (a meeting that is not stored yet is created with the action, in the same transaction).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.act.finance import normalise_financial_year
from pipelines.errors import AreaSafeError
from pipelines.periods import FinancialYearError, check_sphere, parse_month, to_local
from pipelines.schemas import ACTION_LOG, ACTION_STATUSES, ACTIONS, COLUMNS, MEETINGS
from pipelines.sources.tabular import ROW_NUMBER, read_tabular
from pipelines.store.base import Store

OPEN_STATUSES = ("open", "blocked")  # still to be done: these can be overdue
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT_FIELDS = (
    COLUMNS.decision,
    COLUMNS.owner_org,
    COLUMNS.owner_person,
    COLUMNS.blocked_by,
    COLUMNS.unblocker,
    COLUMNS.intervention_id,
    COLUMNS.hotspot_cell,
    COLUMNS.asset_id,
    COLUMNS.meeting_id,
)
#: Fields a person edits; the others (ids, times, who) are set by :func:`save_action`.
EDITABLE = (
    COLUMNS.decision,
    COLUMNS.owner_org,
    COLUMNS.owner_person,
    COLUMNS.due,
    COLUMNS.status,
    COLUMNS.blocked_by,
    COLUMNS.unblocker,
    COLUMNS.financial_year,
    COLUMNS.funding_sphere,
    COLUMNS.intervention_id,
    COLUMNS.hotspot_cell,
    COLUMNS.asset_id,
)
HISTORY_COLUMNS = ("when", "action_id", "status", "changes", "note", "by")


class ActionError(AreaSafeError):
    """An action or meeting record is invalid; the message names the field and what to enter."""


# --------------------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------------------
def meeting_id(neighbourhood_code: str, month: str | pd.Period) -> str:
    """``KHA-HARARE-HOLOMISA-2026-10``: one meeting per neighbourhood and month."""
    return f"{neighbourhood_code}-{_month(month)}"


def meeting_record(
    neighbourhood_code: str,
    month: str | pd.Period,
    *,
    held_on: str | dt.date | None = None,
    chair: str | None = None,
    notes: str | None = None,
) -> dict:
    """A checked ``meetings`` row (not stored; pass it to :func:`save_meeting` or :func:`save_action`)."""
    period = _month(month)
    held = _date_text(held_on, "held_on")
    if held is not None and pd.Period(held, freq="M") != period:
        raise ActionError(f"held_on {held} is not in the meeting month {period}; correct the date or the month.")
    return {
        "meeting_id": meeting_id(neighbourhood_code, period),
        "neighbourhood_code": neighbourhood_code,
        "month": str(period),
        "held_on": held,
        "chair": _text(chair),
        "notes": _text(notes),
    }


def _meeting_from(record: Mapping) -> dict:
    """:func:`meeting_record` from a form or CSV row (``neighbourhood_code``, ``month``, optional fields)."""
    return meeting_record(
        record[COLUMNS.neighbourhood_code],
        record[COLUMNS.month],
        held_on=record.get(COLUMNS.held_on),
        chair=record.get(COLUMNS.chair),
        notes=record.get(COLUMNS.notes),
    )


def save_meeting(store: Store, record: Mapping) -> dict:
    """Add or update one meeting (date held, chair, minutes). Returns the stored row."""
    _check_neighbourhood(store, record[COLUMNS.neighbourhood_code])
    row = _meeting_from(record)
    store.save(meetings=pd.DataFrame([row]))
    return row


def read_meetings(store: Store, neighbourhood_code: str | None = None) -> pd.DataFrame:
    """Meetings, oldest first."""
    meetings = store.read_table(
        "meetings", where={"neighbourhood_code": neighbourhood_code} if neighbourhood_code else None
    )
    return meetings.sort_values([COLUMNS.neighbourhood_code, COLUMNS.month], ignore_index=True)


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------
def read_actions(store: Store, neighbourhood_code: str | None = None) -> pd.DataFrame:
    """The register (current versions), oldest action first."""
    where = {"neighbourhood_code": neighbourhood_code} if neighbourhood_code else None
    actions = store.read_table("actions", where=where)
    return actions.sort_values(COLUMNS.action_id, ignore_index=True)


def read_history(store: Store, *, action_id: str | None = None, neighbourhood_code: str | None = None) -> pd.DataFrame:
    """Every stored version (``action_log``), oldest first."""
    where = {k: v for k, v in (("action_id", action_id), ("neighbourhood_code", neighbourhood_code)) if v}
    log = store.read_table("action_log", where=where or None)
    return log.sort_values([COLUMNS.updated_at, COLUMNS.action_id], kind="stable", ignore_index=True)


def save_action(
    store: Store,
    record: Mapping,
    *,
    user: str | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Add or edit one action, with its history entry, in one transaction. Returns the stored version.

    Parameters
    ----------
    record
        The editable fields (:data:`EDITABLE`), ``neighbourhood_code`` and optionally ``meeting_id``
        (or ``month``: the meeting of that neighbourhood and month, created if it is not stored). With
        ``action_id`` the stored action is updated (fields missing from ``record`` keep their stored
        value); without it a new action is added with the next free id.
    user, note
        Who is recording this version, and why it changed (kept in ``action_log``).

    Raises
    ------
    ActionError
        A rule of the module docstring is broken, or ``action_id`` is not stored. Nothing is written.
    """
    now = _utc(now)
    clean = {k: _text(v) if isinstance(v, str) or v is None else v for k, v in dict(record).items()}
    stored = None
    if clean.get(COLUMNS.action_id):
        found = store.read_table("actions", where={COLUMNS.action_id: clean[COLUMNS.action_id]})
        if not len(found):
            raise ActionError(f"action_id {clean['action_id']!r} is not stored; leave it empty to add a new action.")
        stored = found.iloc[0].to_dict()
        clean = {**{k: stored.get(k) for k in (*EDITABLE, "neighbourhood_code", "meeting_id")}, **clean}
    code = clean.get(COLUMNS.neighbourhood_code)
    if not code:
        raise ActionError("neighbourhood_code is required; choose the Safe Neighbourhood the action belongs to.")
    _check_neighbourhood(store, code)
    if clean.get(COLUMNS.month) and not clean.get(COLUMNS.meeting_id):
        clean[COLUMNS.meeting_id] = meeting_id(code, clean[COLUMNS.month])
    meetings = _meeting_for(store, code, clean.get(COLUMNS.meeting_id))
    row = validate_action(clean, links=_links(store))
    if stored is not None:
        row[COLUMNS.action_id] = stored[COLUMNS.action_id]
        if _same(row, stored) and not _text(note):
            return {k: stored.get(k) for k in ACTIONS.columns}
    else:
        row[COLUMNS.action_id] = next_action_id(store, code, row.get(COLUMNS.meeting_id))
    row[COLUMNS.updated_at] = now
    row[COLUMNS.updated_by] = _text(user)
    version = pd.DataFrame([row], columns=list(ACTIONS.columns))
    store.save(
        meetings=meetings if len(meetings) else None, actions=version, action_log=version.assign(note=_text(note))
    )
    return row


def validate_action(record: Mapping, *, links: Mapping[str, set[str]] | None = None) -> dict:
    """Check one action record and return it as an ``actions`` row (without ``action_id``/``updated_*``).

    ``links`` maps ``intervention_id`` and ``asset_id`` to the stored ids; without it links are not
    checked against the store (used for tests of the rules alone).
    """
    clean = {k: (_text(v) if isinstance(v, str) or v is None else v) for k, v in dict(record).items()}
    decision = clean.get(COLUMNS.decision)
    _check_required(clean)
    status = _checked_status(clean)
    due = _date_text(clean.get(COLUMNS.due), "due")
    sphere, year = _checked_funding(clean, due)
    cell = clean.get(COLUMNS.hotspot_cell)
    _check_cell(cell)
    _check_links(clean, links)
    return {
        "neighbourhood_code": clean.get(COLUMNS.neighbourhood_code),
        "meeting_id": clean.get(COLUMNS.meeting_id),
        "decision": decision,
        "owner_org": clean[COLUMNS.owner_org],
        "owner_person": clean.get(COLUMNS.owner_person),
        "due": due,
        "status": status,
        "blocked_by": clean.get(COLUMNS.blocked_by),
        "unblocker": clean.get(COLUMNS.unblocker),
        "financial_year": year,
        "funding_sphere": sphere,
        "intervention_id": clean.get(COLUMNS.intervention_id),
        "hotspot_cell": cell,
        "asset_id": clean.get(COLUMNS.asset_id),
    }


def _check_required(clean: Mapping) -> None:
    """Raise :class:`ActionError` unless the action says what was decided and who will do it."""
    if not clean.get(COLUMNS.decision):
        raise ActionError(
            "decision is required; write what was decided, e.g. 'Repair the 6 broken lights on Ncumo Rd'."
        )
    if not clean.get(COLUMNS.owner_org):
        raise ActionError("owner_org is required; name the department or organisation that will do it.")


def _checked_status(clean: Mapping) -> str:
    """The action's status in lower case (``open`` by default); a blocked action must say what blocks it
    and who can unblock it."""
    status = (clean.get(COLUMNS.status) or "open").lower()
    if status not in ACTION_STATUSES:
        raise ActionError(f"status must be one of {', '.join(ACTION_STATUSES)}; got {clean.get('status')!r}.")
    if status == "blocked":
        missing = [f for f in ("blocked_by", "unblocker") if not clean.get(f)]
        if missing:
            raise ActionError(
                "a blocked action must say what blocks it (blocked_by) and who can unblock it (unblocker); "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty."
            )
    return status


def _checked_funding(clean: Mapping, due: object) -> tuple[str | None, object]:
    """The funding sphere and the financial year (from the due date when not given), checked."""
    try:
        sphere = None if not clean.get(COLUMNS.funding_sphere) else check_sphere(clean[COLUMNS.funding_sphere])
        year = normalise_financial_year(clean.get(COLUMNS.financial_year), sphere, due)
    except FinancialYearError as exc:
        raise ActionError(str(exc)) from None
    return sphere, year


def _check_cell(cell: object) -> None:
    """Raise :class:`ActionError` when a hot-spot cell is given that is not an H3 cell index."""
    if cell:
        import h3

        if not h3.is_valid_cell(str(cell)):
            raise ActionError(f"hotspot_cell must be an H3 cell index such as 8aad3689eceffff; got {cell!r}.")


def _check_links(clean: Mapping, links: Mapping[str, set[str]] | None) -> None:
    """Raise :class:`ActionError` when a linked intervention or asset is not in the store (when ``links``
    is given)."""
    for field, what in (("intervention_id", "intervention"), ("asset_id", "asset")):
        value = clean.get(field)
        if value and links is not None and value not in links.get(field, set()):
            raise ActionError(
                f"{field} {value!r} is not a stored {what}; choose one from the register or leave it empty."
            )


def short_action_id(action_id: str, code: str) -> str:
    """``KHA-HARARE-HOLOMISA-2026-06-A01`` -> ``2026-06-A01``: an action's id as people read it where the
    neighbourhood is already said (the pack, meeting mode, the agenda's tables)."""
    return str(action_id).removeprefix(f"{code}-")


def next_action_id(store: Store, neighbourhood_code: str, meeting: str | None = None) -> str:
    """The next free id: ``<meeting id>-A01``, ``-A02``... (or ``<code>-A01`` without a meeting)."""
    prefix = f"{meeting or neighbourhood_code}-A"
    ids = store.read_table("actions", where={COLUMNS.neighbourhood_code: neighbourhood_code})[COLUMNS.action_id].astype(
        str
    )
    numbers = ids[ids.str.startswith(prefix)].str.removeprefix(prefix)
    taken = pd.to_numeric(numbers, errors="coerce").dropna()
    return f"{prefix}{int(taken.max()) + 1 if len(taken) else 1:02d}"


def overdue(actions: pd.DataFrame, *, as_of: dt.date) -> pd.Series:
    """True for open or blocked actions whose due date is before ``as_of``."""
    if not len(actions):
        return pd.Series([], dtype=bool)
    due = pd.to_datetime(actions[COLUMNS.due], errors="coerce").dt.date
    return (actions[COLUMNS.status].isin(OPEN_STATUSES) & due.notna() & (due < as_of)).fillna(False).astype(bool)


#: The columns of the actions register as the page lists them.
REGISTER_COLUMNS = (
    "action_id", "status", "overdue", "due", "decision", "owner_org", "owner_person", "blocked_by", "unblocker",
    "financial_year", "funding_sphere", "meeting_id", "updated_at", "updated_by",
)  # fmt: skip


@dataclass(frozen=True)
class RegisterView:
    """The actions register as a page lists it: the actions of the chosen statuses and their counts."""

    shown: pd.DataFrame  # :data:`REGISTER_COLUMNS`, ``overdue`` as of the day asked
    overdue: int
    blocked: int
    decisions: dict[str, str]  # every action's id -> its decision, for choosing one to edit


def register_view(actions: pd.DataFrame, *, statuses, as_of: dt.date) -> RegisterView:
    """``actions`` (:func:`read_actions`) with those of ``statuses`` shown (all when none is chosen), each
    marked overdue or not on ``as_of`` (:func:`overdue`)."""
    marked = actions.assign(overdue=overdue(actions, as_of=as_of))
    shown = marked[marked[COLUMNS.status].isin(list(statuses))] if statuses else marked
    return RegisterView(
        shown=shown[list(REGISTER_COLUMNS)],
        overdue=int(shown["overdue"].sum()),
        blocked=int((shown[COLUMNS.status] == "blocked").sum()),
        decisions=dict(zip(actions[COLUMNS.action_id], actions[COLUMNS.decision], strict=True)),
    )


def history_table(log: pd.DataFrame, *, local_timezone: str | None = None) -> pd.DataFrame:
    """The history for people: one row per version, newest first, with what changed from the previous one.

    Columns :data:`HISTORY_COLUMNS`; ``changes`` reads "status: open -> blocked; due: 2026-09-30 ->
    2026-11-30" (``created`` for the first version).
    """

    if not len(log):
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    log = log.sort_values([COLUMNS.action_id, COLUMNS.updated_at], kind="stable")
    rows = []
    for _, versions in log.groupby(COLUMNS.action_id, sort=False):
        previous = None
        for version in versions.to_dict("records"):
            if previous is None:
                changes = "created"
            else:
                changes = (
                    "; ".join(
                        f"{f}: {_shown(previous.get(f))} -> {_shown(version.get(f))}"
                        for f in (*EDITABLE, "meeting_id")
                        if _shown(previous.get(f)) != _shown(version.get(f))
                    )
                    or "note only"
                )
            rows.append(
                {
                    "_at": version[COLUMNS.updated_at],
                    "action_id": version[COLUMNS.action_id],
                    "status": version[COLUMNS.status],
                    "changes": changes,
                    "note": _text(version.get(COLUMNS.note)),
                    "by": _text(version.get(COLUMNS.updated_by)),
                }
            )
            previous = version
    table = pd.DataFrame(rows).sort_values("_at", ascending=False, kind="stable", ignore_index=True)
    when = to_local(table.pop("_at"), timezone=local_timezone)
    table.insert(0, "when", when.dt.strftime("%Y-%m-%d %H:%M"))
    return table[list(HISTORY_COLUMNS)]


def import_actions(store: Store, path: str | Path, *, meetings: str | Path | None = None) -> tuple[int, int]:
    """Load an actions file (CSV or Excel), one row per version, and optionally a meetings file.

    The actions file has the ``action_log`` columns (``action_id``, ``neighbourhood_code``,
    ``decision``, ``owner_org``, ``status``, ``updated_at``... and ``note``); several rows with the same
    ``action_id`` are its history, oldest first by ``updated_at``. Every row is checked with the rules of
    :func:`validate_action` (links against the store) and the whole file is written in one transaction,
    or nothing is: an :class:`ActionError` names the file, the row and the problem. Versions already in
    the log (same ``action_id`` and ``updated_at``) are skipped, so importing the same file twice adds
    nothing. Returns ``(meetings written, versions added)``.
    """
    meeting_rows = pd.DataFrame()
    if meetings is not None:
        raw_meetings = _read(meetings)
        codes = _neighbourhoods(store)
        checked = []
        for number, record in enumerate(raw_meetings.to_dict("records"), start=2):
            try:
                if record.get(COLUMNS.neighbourhood_code) not in codes:
                    raise ActionError(f"neighbourhood_code {record.get('neighbourhood_code')!r} is not stored")
                row = _meeting_from(record)
            except (AreaSafeError, KeyError) as exc:
                raise ActionError(f"{Path(meetings).name} line {number}: {exc}") from None
            checked.append(row)
        meeting_rows = pd.DataFrame(checked, columns=list(MEETINGS.columns))
    raw = _read(path)
    missing = [c for c in ("action_id", "updated_at") if c not in raw.columns]
    if missing:
        raise ActionError(
            f"{Path(path).name}: {'column' if len(missing) == 1 else 'columns'} {', '.join(missing)} missing; columns are {', '.join(raw.columns)}."
        )
    links = _links(store)
    codes = _neighbourhoods(store)
    known_meetings = set(store.read_table("meetings")[COLUMNS.meeting_id]) | set(
        meeting_rows.get(COLUMNS.meeting_id, [])
    )
    when = pd.to_datetime(raw[COLUMNS.updated_at], utc=True, errors="coerce", format="ISO8601")
    versions = []
    for number, (record, at) in enumerate(zip(raw.to_dict("records"), when, strict=True), start=2):
        try:
            if pd.isna(at):
                raise ActionError(f"updated_at {record.get('updated_at')!r} is not a date and time")
            if record.get(COLUMNS.neighbourhood_code) not in codes:
                raise ActionError(f"neighbourhood_code {record.get('neighbourhood_code')!r} is not stored")
            if record.get(COLUMNS.meeting_id) and record[COLUMNS.meeting_id] not in known_meetings:
                raise ActionError(f"meeting_id {record['meeting_id']!r} is neither stored nor in the meetings file")
            row = validate_action(record, links=links)
        except AreaSafeError as exc:
            raise ActionError(f"{Path(path).name} line {number}: {exc}") from None
        versions.append(
            {
                **row,
                "action_id": record[COLUMNS.action_id],
                "updated_at": at,
                "updated_by": _text(record.get(COLUMNS.updated_by)),
                "note": _text(record.get(COLUMNS.note)),
            }
        )
    log = pd.DataFrame(versions, columns=list(ACTION_LOG.columns)).sort_values([COLUMNS.updated_at], kind="stable")
    stored = store.read_table("action_log")
    seen = set(zip(stored[COLUMNS.action_id], pd.to_datetime(stored[COLUMNS.updated_at], utc=True), strict=True))
    new = log[[(a, t) not in seen for a, t in zip(log[COLUMNS.action_id], log[COLUMNS.updated_at], strict=True)]]
    # the register holds each touched action's latest version, whether that came from this file or not
    everything = (
        pd.concat([stored.assign(updated_at=pd.to_datetime(stored[COLUMNS.updated_at], utc=True)), new])
        if len(stored)
        else new
    )
    latest = everything[everything[COLUMNS.action_id].isin(set(new[COLUMNS.action_id]))]
    latest = latest.sort_values(COLUMNS.updated_at, kind="stable").groupby(COLUMNS.action_id).tail(1)
    store.save(
        meetings=meeting_rows if len(meeting_rows) else None,
        actions=latest[list(ACTIONS.columns)] if len(latest) else None,
        action_log=new if len(new) else None,
    )
    return len(meeting_rows), len(new)


# --------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------
def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _shown(value: object) -> str:
    return _text(value) or ""


def _date_text(value: object, field: str) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        if not _DATE.match(text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise ActionError(f"{field} must be a date written YYYY-MM-DD, e.g. 2026-11-30; got {text!r}.") from None
    return text


def _same(row: Mapping, stored: Mapping) -> bool:
    return all(_shown(row.get(f)) == _shown(stored.get(f)) for f in (*EDITABLE, "meeting_id"))


def _neighbourhoods(store: Store) -> set[str]:
    return set(store.read_table("areas", where={COLUMNS.kind: "neighbourhood"})[COLUMNS.code])


def _check_neighbourhood(store: Store, code: str) -> None:
    codes = _neighbourhoods(store)
    if code not in codes:
        known = ", ".join(sorted(codes)[:8]) or "none (load neighbourhood boundaries first)"
        raise ActionError(f"neighbourhood_code {code!r} is not stored; known codes include {known}.")


def _links(store: Store) -> dict[str, set[str]]:
    return {
        "intervention_id": set(store.read_table("interventions")[COLUMNS.intervention_id]),
        "asset_id": set(store.read_table("assets")[COLUMNS.asset_id]),
    }


def _meeting_for(store: Store, code: str, meeting: str | None) -> pd.DataFrame:
    """The meetings row to write with an action: none when stored, a new one when the id names a month."""
    if not meeting:
        return pd.DataFrame()
    stored = store.read_table("meetings", where={COLUMNS.meeting_id: meeting})
    if len(stored):
        if stored[COLUMNS.neighbourhood_code].iloc[0] != code:
            raise ActionError(f"meeting_id {meeting!r} belongs to {stored['neighbourhood_code'].iloc[0]}, not {code}.")
        return pd.DataFrame()
    month = meeting.removeprefix(f"{code}-")
    if month == meeting:
        raise ActionError(f"meeting_id {meeting!r} is not stored; meeting ids read <neighbourhood code>-YYYY-MM.")
    return pd.DataFrame([meeting_record(code, month)])


def _month(month: str | pd.Period) -> pd.Period:
    try:
        return parse_month(str(month), argument="month")
    except AreaSafeError as exc:
        raise ActionError(str(exc)) from None


def _utc(now: dt.datetime | pd.Timestamp | None) -> pd.Timestamp:
    stamp = pd.Timestamp(now if now is not None else dt.datetime.now(dt.UTC))
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _read(path: str | Path) -> pd.DataFrame:
    """A register file as text columns (empty cells as None), rows numbered as in the file (header = 1)."""
    raw = read_tabular(Path(path))
    if raw.malformed:
        number, _ = raw.malformed[0]
        raise ActionError(f"{Path(path).name} line {number} has the wrong number of cells; fix the file and retry.")
    table = raw.frame.drop(columns=[ROW_NUMBER]).astype(object)
    return table.where(table.map(lambda v: _text(v) is not None), None)
