"""Violence-prevention interventions and their status updates from a file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import schemas
from pipelines.errors import UnusableFileError
from pipelines.ingest.batches import read_bytes
from pipelines.ingest.registers import commit_file, location_problems, read_register, stable_id
from pipelines.place import AreaIndex, place_points
from pipelines.schemas import COLUMNS
from pipelines.sources.columns import first
from pipelines.sources.tabular import ROW_NUMBER, read_tabular
from pipelines.store.base import Batch, Store

_INTERVENTION_FIELDS = {
    "name": ("name", "intervention", "project", "title"),
    "type": ("type", "intervention_type", "category"),
    "lead": ("lead", "lead_department", "owner", "department"),
    "partners": ("partners", "partner"),
    "status": ("status", "state", "progress"),
    "budget_zar": ("budget_zar", "budget", "budget_rand", "amount"),
    "financial_year": ("financial_year", "fy", "budget_year"),
    "funding_sphere": ("funding_sphere", "sphere", "funder", "budget_sphere"),
    "start": ("start", "start_date", "begin"),
    "end": ("end", "end_date", "due", "due_date", "completion_date"),
    "external_id": ("intervention_id", "id", "project_id", "code"),
}
_STATUS_SYNONYMS = {
    "planned": "planned",
    "plan": "planned",
    "proposed": "planned",
    "not started": "planned",
    "in progress": "in_progress",
    "in_progress": "in_progress",
    "ongoing": "in_progress",
    "underway": "in_progress",
    "started": "in_progress",
    "implementation": "in_progress",
    "active": "in_progress",
    "complete": "complete",
    "completed": "complete",
    "done": "complete",
    "finished": "complete",
    "stalled": "stalled",
    "on hold": "stalled",
    "blocked": "stalled",
    "delayed": "stalled",
    "stopped": "stalled",
    "maintenance": "maintenance",
    "operational": "maintenance",
    "operating": "maintenance",
}


def normalise_status(value: str) -> str | None:
    """Map a delivered status (``In progress``, ``on hold``...) to the controlled vocabulary."""
    return _STATUS_SYNONYMS.get(re.sub(r"[\s_\-]+", " ", str(value).strip().lower()))


def ingest_interventions(
    store: Store,
    path: str | Path,
    *,
    user: str | None = None,
    org: str | None = None,
    data: bytes | None = None,
    now: dt.datetime | None = None,
) -> Batch:
    """Load interventions (any geometry), logging a dated status entry for each new or changed status."""
    path = Path(path)
    table, geoms, content = read_register(path, data)
    columns = [c for c in table.columns if c != ROW_NUMBER]
    fields = {role: first(columns, names) for role, names in _INTERVENTION_FIELDS.items()}
    for required in ("name", "status"):
        if fields[required] is None:
            raise UnusableFileError(f"{path.name}: no {required} column found; columns are: {', '.join(columns)}")

    def col(role: str) -> pd.Series:
        c = fields[role]
        return table[c].astype(str).str.strip() if c else pd.Series("", index=table.index)

    names, status = col("name"), col("status").map(normalise_status)
    reasons = location_problems(geoms)
    reasons[((names == "") | status.isna()).to_numpy() & pd.isna(reasons)] = "invalid_value"
    ok = pd.isna(reasons)
    ext = col("external_id")
    ids = np.asarray([stable_id("I", e or n) for e, n in zip(ext, names, strict=True)], dtype=object)
    index = AreaIndex.build(store.read_areas())
    anchors = shapely.point_on_surface(geoms[ok]) if ok.any() else np.array([], dtype=object)
    placement = place_points(anchors, index) if ok.any() else None
    budget = pd.to_numeric(col("budget_zar").str.replace(r"[R\s,]", "", regex=True), errors="coerce")
    interventions = gpd.GeoDataFrame(
        {
            COLUMNS.intervention_id: ids[ok],
            COLUMNS.name: names[ok].to_numpy(dtype=object),
            COLUMNS.type: col("type")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.lead: col("lead")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.partners: col("partners")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.status: status[ok].to_numpy(dtype=object),
            COLUMNS.budget_zar: budget[ok].to_numpy(dtype=float),
            COLUMNS.financial_year: col("financial_year")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.funding_sphere: funding_sphere(col("funding_sphere")[ok]),
            COLUMNS.start: col("start")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.end: col("end")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.external_id: ext[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.neighbourhood_code: placement.codes.get("neighbourhood") if placement else None,
            COLUMNS.batch_id: None,
        },
        geometry=geoms[ok] if ok.any() else [],
        crs=schemas.STORE_CRS,
    ).drop_duplicates(COLUMNS.intervention_id)
    log = status_changes(store.read_interventions(), interventions, user=user, now=now)
    bad = np.flatnonzero(~ok)
    messages = [
        f"Intervention {names.iat[i]!r}: "
        + (
            "status must be one of " + ", ".join(schemas.INTERVENTION_STATUSES)
            if r == "invalid_value"
            else "no usable location (add a point, line or polygon)"
        )
        for i, r in zip(bad, reasons[bad], strict=True)
    ]
    return commit_file(
        store,
        "interventions",
        path,
        content,
        table,
        ok,
        reasons,
        messages,
        user=user,
        org=org,
        interventions=interventions,
        intervention_log=log,
    )


def status_changes(
    stored: pd.DataFrame,
    incoming: pd.DataFrame,
    *,
    user: str | None = None,
    now: dt.datetime | None = None,
    note: str | None = None,
) -> pd.DataFrame:
    """Log entries for interventions that are new or whose status differs from the stored one."""
    previous = dict(zip(stored[COLUMNS.intervention_id], stored[COLUMNS.status], strict=True)) if len(stored) else {}
    changed = [
        previous.get(i) != s for i, s in zip(incoming[COLUMNS.intervention_id], incoming[COLUMNS.status], strict=True)
    ]
    subset = incoming.loc[changed]
    return pd.DataFrame(
        {
            COLUMNS.intervention_id: subset[COLUMNS.intervention_id].to_numpy(dtype=object),
            COLUMNS.status: subset[COLUMNS.status].to_numpy(dtype=object),
            COLUMNS.changed_at: pd.Timestamp(now or dt.datetime.now(dt.UTC)),
            COLUMNS.note: note,
            COLUMNS.user: user,
            COLUMNS.batch_id: None,
        }
    )


_UPDATE_FIELDS = {
    "intervention": ("intervention_id", "intervention", "name", "project"),
    "status": ("status", "state", "progress"),
    "changed_at": ("changed_at", "date", "updated", "updated_at", "when"),
    "note": ("note", "notes", "comment", "update"),
    "user": ("user", "by", "recorded_by", "reported_by"),
}


def ingest_status_updates(
    store: Store,
    path: str | Path,
    *,
    user: str | None = None,
    org: str | None = None,
    data: bytes | None = None,
) -> Batch:
    """Load dated status updates of stored interventions (a project tracker's history) into the status log.

    The file (CSV or Excel) has one row per update: the intervention (its ``intervention_id`` or exact
    ``name``), its ``status`` from that date on, ``changed_at`` (a date, or date and time, local time)
    and an optional ``note`` and ``user``. Rows naming an unknown intervention, an unknown status or an
    unreadable date are rejected with a reason. The register's current status is not changed by this
    history: an update dated after every stored entry must therefore agree with the current status
    (edit the intervention to change it), or it is rejected.
    """
    from pipelines.dates import parse_dates

    path = Path(path)
    content = read_bytes(path, data)
    table = read_tabular(path, data=content).frame
    fields = _update_fields(table, path)

    def col(role: str) -> pd.Series:
        c = fields[role]
        return table[c].astype(str).str.strip() if c else pd.Series("", index=table.index)

    stored = store.read_interventions()
    by_name = dict(zip(stored[COLUMNS.name], stored[COLUMNS.intervention_id], strict=True))
    known = set(stored[COLUMNS.intervention_id])
    ids = col("intervention").map(lambda v: v if v in known else by_name.get(v))
    status = col("status").map(normalise_status)
    changed_at, _ = parse_dates(col("changed_at"))
    reasons, messages = _update_problems(
        stored, store.read_table("intervention_log"), col("intervention"), ids, status, changed_at, col("changed_at")
    )
    ok = pd.isna(reasons)
    updates = pd.DataFrame(
        {
            COLUMNS.intervention_id: ids[ok].to_numpy(dtype=object),
            COLUMNS.status: status[ok].to_numpy(dtype=object),
            COLUMNS.changed_at: changed_at[ok].to_numpy(),
            COLUMNS.note: col("note")[ok].replace("", None).to_numpy(dtype=object),
            COLUMNS.user: [v or user for v in col("user")[ok]],
            COLUMNS.batch_id: None,
        }
    )
    return commit_file(
        store,
        "interventions",
        path,
        content,
        table,
        ok,
        reasons,
        [m for m in messages if m],
        user=user,
        org=org,
        intervention_log=updates,
    )


def _update_fields(table: pd.DataFrame, path: Path) -> dict[str, str | None]:
    """The column of each role of a status-update file; refused without an intervention, status or
    date column."""
    columns = [c for c in table.columns if c != ROW_NUMBER]
    fields = {role: first(columns, names) for role, names in _UPDATE_FIELDS.items()}
    for required in ("intervention", "status", "changed_at"):
        if fields[required] is None:
            names = " or ".join(_UPDATE_FIELDS[required][:2])
            raise UnusableFileError(f"{path.name}: no {names} column found; columns are: {', '.join(columns)}")
    return fields


def _update_problems(
    stored: pd.DataFrame,
    log: pd.DataFrame,
    names: pd.Series,
    ids: pd.Series,
    status: pd.Series,
    changed_at: pd.Series,
    dates: pd.Series,
) -> tuple[np.ndarray, list[str]]:
    """Each update's rejection reason (None: accepted) and message ("" when accepted)."""
    reasons = np.full(len(ids), None, dtype=object)
    messages = [""] * len(ids)
    last_logged = (
        pd.to_datetime(log[COLUMNS.changed_at], utc=True).groupby(log[COLUMNS.intervention_id]).max()
        if len(log)
        else {}
    )
    latest_in_file = changed_at.groupby(ids).transform("max") if ids.notna().any() else changed_at
    current = dict(zip(stored[COLUMNS.intervention_id], stored[COLUMNS.status], strict=True))
    for i in range(len(ids)):
        problem = _update_problem(
            names.iat[i],
            ids.iat[i],
            status.iat[i],
            changed_at.iat[i],
            dates.iat[i],
            latest=latest_in_file.iat[i],
            last_logged=last_logged,
            current=current,
        )
        if problem is not None:
            reasons[i], messages[i] = problem
    return reasons, messages


def _update_problem(
    name: str, iid, status, changed_at, date_text: str, *, latest, last_logged, current: dict
) -> tuple[str, str] | None:
    """Why one update is rejected, and the message (None: it is accepted). The latest update of an
    intervention, later than every logged one, must agree with the register's current status."""
    if iid is None or pd.isna(iid):
        return "invalid_value", f"Intervention {name!r} is not in the register; add it first."
    if status is None or pd.isna(status):
        return "invalid_value", f"{name}: status must be one of {', '.join(schemas.INTERVENTION_STATUSES)}."
    if pd.isna(changed_at):
        return "invalid_date", f"{name}: changed_at {date_text!r} is not a date; write it as YYYY-MM-DD."
    if changed_at == latest and (iid not in last_logged or changed_at > last_logged[iid]) and status != current[iid]:
        return "invalid_value", (
            f"{name}: this is the latest update but says {status!r} while the register says "
            f"{current[iid]!r}; edit the intervention to change its status."
        )
    return None


# --------------------------------------------------------------------------------------------------
# Forms: one record at a time (the dashboard's registers page)
# --------------------------------------------------------------------------------------------------


def funding_sphere(values: pd.Series) -> list[str | None]:
    """Funding spheres, lower-cased; anything else (blank, unknown) is left empty, not guessed."""
    lowered = values.fillna("").astype(str).str.strip().str.lower()
    return [v if v in schemas.FUNDING_SPHERES else None for v in lowered]
