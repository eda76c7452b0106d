"""Page data for the dashboard: KPIs, trends, ACT review tables and data-quality tables.

Place in the data flow: show. Each function takes frames read from the store (incidents, areas,
interventions, batches) and returns a small frame or dict that a page renders as is; pages hold no
pandas logic. Months are local calendar months (:mod:`pipelines.periods`): 00:30 on 1 April in
Khayelitsha is 22:30 on 31 March in UTC, and the ACT counts it in April.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pandas as pd

from pipelines import hexes
from pipelines.hotspots import change as change_rule
from pipelines.hotspots._columns import HOTSPOT_CLASS as HOTSPOT_CLASS_COLUMN
from pipelines.hotspots.emerging import HOTSPOT_CLASS
from pipelines.hotspots.months import baseline_months
from pipelines.periods import local_months, to_local
from pipelines.schemas import (
    AUDIT_EVENT_WORDS,
    CODE_COLUMN,
    COLUMNS,
    REASON_WORDS,
    ROLE_WORDS,
    SOURCE_WORDS,
    SOURCES,
    STATUS_WORDS,
)
from pipelines.taxonomy import load_taxonomy

MONTH = "month"
#: The column names of the data-quality charts, in words.
MONTH_WORD, REASON_WORD, SOURCE_WORD, INCIDENTS_WORD = "Month", "Reason", "Source", "Incidents"


def available_months(incidents: pd.DataFrame) -> list[pd.Period]:
    """Local months that hold at least one incident, newest first."""
    if not len(incidents):
        return []
    return sorted(local_months(incidents[COLUMNS.occurred_at].dropna()).unique(), reverse=True)


def category_labels() -> dict[str, str]:
    return {code: c.label for code, c in load_taxonomy().categories.items()}


# --------------------------------------------------------------------------------------------------
# Safe Neighbourhood profile
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kpis:
    month: pd.Period
    incidents: int
    previous: int
    rate_per_1000: float | None
    community_share: float | None  # 0..1 of this month's reports
    baseline: int = 0  # incidents over the ``baseline_months`` months before ``month``
    baseline_months: int = change_rule.BASELINE_MONTHS  # fewer when the data began inside them

    @property
    def change(self) -> change_rule.Change:
        """This month read against the average of the months before (:mod:`pipelines.hotspots.change`)."""
        if not self.baseline_months:  # no earlier month of data: nothing to compare with
            return change_rule.Change(self.incidents, float("nan"), float("nan"), 0.0, change_rule.TOO_FEW)
        return change_rule.read_change(self.incidents, self.baseline, self.baseline_months)


def profile_kpis(incidents: pd.DataFrame, *, month: pd.Period, population: float | None) -> Kpis:
    """This month against the months before, the rate per 1,000 residents and the community share."""
    months = local_months(incidents[COLUMNS.occurred_at]) if len(incidents) else pd.Series(dtype="period[M]")
    this = incidents[months == month]
    previous = int((months == month - 1).sum())
    before = baseline_months(incidents, month, change_rule.BASELINE_MONTHS)  # none before the data began
    baseline = int(months.isin(before).sum())
    rate = round(len(this) / population * 1000, 2) if population and population > 0 else None
    share = round(float((this[COLUMNS.source] == "community").mean()), 3) if len(this) else None
    return Kpis(month, len(this), previous, rate, share, baseline, len(before))


def monthly_trend(incidents: pd.DataFrame, *, top: int = 6) -> pd.DataFrame:
    """Counts per local month and category (the ``top`` categories; the rest as ``Other``), long format."""
    if not len(incidents):
        return pd.DataFrame(columns=[MONTH, COLUMNS.category, COLUMNS.count])
    labels = category_labels()
    category = incidents[COLUMNS.category].map(labels).fillna(incidents[COLUMNS.category])
    leaders = category.value_counts().head(top).index
    category = category.where(category.isin(leaders), "Other")
    frame = pd.DataFrame(
        {MONTH: local_months(incidents[COLUMNS.occurred_at]).dt.start_time, COLUMNS.category: category}
    )
    return frame.groupby([MONTH, COLUMNS.category]).size().rename(COLUMNS.count).reset_index()


#: Emerging hot spot categories the ACT acts on, in plain words (new or persisting heat).
HOT_TRENDS = {
    "new_hot": "new: hot for the first time this month",
    "consecutive_hot": "new run: hot in the last months in a row",
    "intensifying_hot": "persisting and getting hotter",
    "persistent_hot": "persisting: hot most months",
    "sporadic_hot": "on and off",
    "oscillating_hot": "hot now, was cold before",
    "diminishing_hot": "persisting but cooling",
    "historical_hot": "was hot, not now",
}


#: The classes listed as hot spots, in the order people act on them (:data:`HOTSPOT_CLASSES`).
_HOT_ORDER = ("new", "worse", "persistent", "fading")


def top_hotspots(cells: pd.DataFrame, *, n: int = 10, statistics: bool = False) -> pd.DataFrame:
    """The hot cells of :func:`pipelines.hotspots.hotspots_for_neighbourhood` for people to read.

    A cell is listed when its class (``hotspot_class``, :func:`pipelines.hotspots.emerging.hotspot_classes`:
    the one class the map draws) is a hot one, new hot spots first, then by reports: ``Kind of hot spot``,
    ``What it means`` and ``Reports`` (as shown to the viewer: ``"<5"`` for suppressed viewers, from
    :func:`pipelines.privacy.published_hotspots`). With ``statistics`` (analysts) the figures behind the
    words follow: ``Cell``, ``Gi* bin``, ``z``, ``Emerging category``, ``Latitude``, ``Longitude``.
    """
    columns = ["Kind of hot spot", "What it means", "Reports"]
    if statistics:
        columns += ["Cell", "Gi* bin", "z", "Emerging category", "Latitude", "Longitude"]
    if not len(cells) or HOTSPOT_CLASS_COLUMN not in cells:
        return pd.DataFrame(columns=columns)
    hot = cells[cells[HOTSPOT_CLASS_COLUMN].isin(_HOT_ORDER)].copy()
    hot["_rank"] = hot[HOTSPOT_CLASS_COLUMN].map(_HOT_ORDER.index)
    hot = hot.sort_values(["_rank", COLUMNS.count], ascending=[True, False], na_position="last").head(n)
    kinds = hot[HOTSPOT_CLASS_COLUMN].map(HOTSPOT_CLASS)
    table = pd.DataFrame(
        {
            "Kind of hot spot": [k.label for k in kinds],
            "What it means": [k.meaning[:1].upper() + k.meaning[1:] for k in kinds],
            "Reports": (hot["shown"] if "shown" in hot else hot[COLUMNS.count].astype(int)).astype(str).to_numpy(),
        }
    )
    if statistics:
        table["Cell"] = hot["cell_id"].to_numpy()
        table["Gi* bin"] = hot["gi_bin"].to_numpy()
        table["z"] = hot["gi_z"].round(2).to_numpy()
        table["Emerging category"] = hot["emerging"].to_numpy()
        table["Latitude"] = hot[COLUMNS.lat].round(5).to_numpy()
        table["Longitude"] = hot[COLUMNS.lon].round(5).to_numpy()
    return table[columns]


#: What the profile lists of a neighbourhood's assets and interventions: what a person reads, no ids or codes.
ASSET_FIELDS = (COLUMNS.name, COLUMNS.abcd_category, COLUMNS.type, COLUMNS.custodian)
INTERVENTION_FIELDS = (
    COLUMNS.name,
    COLUMNS.type,
    COLUMNS.lead,
    COLUMNS.partners,
    COLUMNS.status,
    COLUMNS.budget_zar,
    COLUMNS.financial_year,
    COLUMNS.start,
    COLUMNS.end,
)


def register_rows(frame: pd.DataFrame, fields: tuple[str, ...]) -> pd.DataFrame:
    """Assets or interventions for a person's screen: only ``fields`` (no record ids, area codes or batch
    ids), statuses in words, budgets as whole rands, headers in words (:func:`for_people`)."""
    shown = pd.DataFrame(frame)[[f for f in fields if f in frame]].copy()
    if COLUMNS.status in shown:
        shown[COLUMNS.status] = shown[COLUMNS.status].map(status_words)
    if COLUMNS.budget_zar in shown:
        budget = pd.to_numeric(shown[COLUMNS.budget_zar], errors="coerce")
        shown[COLUMNS.budget_zar] = budget.map(lambda v: f"{v:,.0f}" if pd.notna(v) else None)
    return for_people(shown.reset_index(drop=True))


def neighbourhood_rows(frame: pd.DataFrame, code: str | None, fields: tuple[str, ...]) -> pd.DataFrame:
    """The assets or interventions of the Safe Neighbourhood ``code``, as :func:`register_rows` shows them."""
    return register_rows(frame[frame[CODE_COLUMN["neighbourhood"]] == code], fields)


def area_name(areas: pd.DataFrame, code: str | None) -> str | None:
    """The name of the stored area ``code`` (``None`` when there is no such area)."""
    return areas.set_index(COLUMNS.code)[COLUMNS.name].get(code)


#: Longest value a column may hold and still be kept on one line (a date, a number, a status, a short id).
UNBROKEN_MAX_CHARS = 16


def unbroken_positions(table: pd.DataFrame) -> list[int]:
    """Where a display table's one-word columns sit in each row as the dashboard draws it (1-based, the row
    names first when the table has them: :func:`first_column_as_index`): the columns whose every value is
    one short word (no space, at most :data:`UNBROKEN_MAX_CHARS` characters: a date, a number, a status), to
    be kept on one line. A browser squeezing a table into a projector's width otherwise breaks "2026-10-08"
    after a hyphen. A default row number (0, 1, 2 ...) is not drawn and takes no place."""
    named = has_row_names(table)
    values = ([table.index.to_series()] if named else []) + [table[column] for column in table.columns]
    positions = []
    for position, column in enumerate(values, start=1):
        text = column.astype(str)
        if len(text) and not text.str.contains(r"\s").any() and text.str.len().max() <= UNBROKEN_MAX_CHARS:
            positions.append(position)
    return positions


def has_row_names(table: pd.DataFrame) -> bool:
    """Whether a display table's rows have names to draw (:func:`first_column_as_index`), not row numbers."""
    return not isinstance(table.index, pd.RangeIndex)


def first_column_as_index(table: pd.DataFrame, *, head: int | None = None) -> pd.DataFrame:
    """A display table with its first column as the row names, so a page's table reads it in bold down
    the left (``Hot spot``, ``Category``), its first ``head`` rows when given."""
    shown = table if head is None else table.head(head)
    return shown.set_index(shown.columns[0])


def hotspot_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """The hot-spot cells of one neighbourhood in the map's words, one row per class that occurs (most
    urgent first): ``Hot spot`` (the class's name), ``Hexagons``, ``Reports`` (left out when the viewer
    sees counts below 5 as "<5", :func:`pipelines.privacy.published_hotspots`) and ``What it means``.

    The same classes, names and meanings as the map legend, the agenda and the pack
    (:data:`pipelines.hotspots.emerging.HOTSPOT_CLASSES`); cells with no pattern are left out. Nothing here
    names a cell id, a Gi* bin or a z-score: that is the analyst's table (:func:`top_hotspots`).
    """
    from pipelines.hotspots.emerging import HOTSPOT_CLASSES, hotspot_classes

    suppressed = "shown" in cells
    columns = ["Hot spot", "Hexagons", *([] if suppressed else ["Reports"]), "What it means"]
    if not len(cells):
        return pd.DataFrame(columns=columns)
    classes = (
        cells["hotspot_class"]
        if "hotspot_class" in cells
        else pd.Series(hotspot_classes(cells["gi_bin"], cells["emerging"]), index=cells.index)
    )
    rows = []
    for kind in HOTSPOT_CLASSES:
        mine = classes == kind.key
        if kind.key == "none" or not mine.any():
            continue
        reports = [] if suppressed else [int(cells.loc[mine, COLUMNS.count].sum())]
        rows.append([kind.label, int(mine.sum()), *reports, kind.meaning[0].upper() + kind.meaning[1:]])
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------------
# ACT meeting review
# --------------------------------------------------------------------------------------------------
def new_community_reports(incidents: pd.DataFrame, *, month: pd.Period) -> pd.DataFrame:
    """Community-sourced incidents of the month (the CSO's voice at the ACT)."""
    if not len(incidents):
        return pd.DataFrame(columns=["date", COLUMNS.category, COLUMNS.org, COLUMNS.description])
    months = local_months(incidents[COLUMNS.occurred_at])
    rows = incidents[(months == month) & (incidents[COLUMNS.source] == "community")].sort_values(COLUMNS.occurred_at)
    labels = category_labels()
    local = to_local(rows[COLUMNS.occurred_at])
    return pd.DataFrame(
        {
            "date": local.dt.strftime("%Y-%m-%d"),
            COLUMNS.category: rows[COLUMNS.category].map(labels).fillna(rows[COLUMNS.category]),
            COLUMNS.org: rows[COLUMNS.org],
            COLUMNS.description: rows.get(COLUMNS.description),
        }
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Data quality
# --------------------------------------------------------------------------------------------------
def batch_table(batches: pd.DataFrame) -> pd.DataFrame:
    """Batch history for display, newest first: the file, when, and what became of its rows first (what a
    phone shows without scrolling sideways), then where it came from."""
    columns = [
        COLUMNS.file_name,
        COLUMNS.created_at,
        COLUMNS.rows_read,
        COLUMNS.accepted,
        COLUMNS.rejected,
        COLUMNS.duplicates,
        COLUMNS.outside_areas,
        COLUMNS.kind,
        COLUMNS.source,
        COLUMNS.org,
        COLUMNS.format,
        COLUMNS.batch_id,
    ]
    if not len(batches):
        return pd.DataFrame(columns=columns)
    return batches[[c for c in columns if c in batches]].reset_index(drop=True)


def rejections_over_time(rejections: pd.DataFrame, batches: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows per local month of the batch's upload and reason, in words (long format): ``Month``
    ("Dec 2026", oldest first: a chart draws it as a category, :func:`month_order`, so one month is one
    labelled bar), ``Reason`` (:func:`reason_words`) and ``Rejected rows``."""
    columns = [MONTH_WORD, REASON_WORD, "Rejected rows"]
    if not len(rejections):
        return pd.DataFrame(columns=columns)
    created = batches.set_index(COLUMNS.batch_id)[COLUMNS.created_at]
    when = pd.to_datetime(rejections[COLUMNS.batch_id].map(created), utc=True)
    frame = pd.DataFrame({MONTH: local_months(when), COLUMNS.reason: rejections[COLUMNS.reason].map(reason_words)})
    counted = frame.groupby([MONTH, COLUMNS.reason]).size().rename("rows").reset_index()
    return pd.DataFrame(
        {
            MONTH_WORD: counted[MONTH].map(month_words),
            REASON_WORD: counted[COLUMNS.reason],
            "Rejected rows": counted["rows"],
        }
    )


def outside_areas(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents outside every precinct and neighbourhood, by source and org, headers and sources in words."""
    outside = incidents[incidents[COLUMNS.precinct_code].isna() & incidents[COLUMNS.neighbourhood_code].isna()]
    counted = outside.groupby([COLUMNS.source, COLUMNS.org], dropna=False).size().rename(COLUMNS.incidents)
    counted = counted.reset_index()
    counted[COLUMNS.source] = counted[COLUMNS.source].map(source_words)
    return for_people(counted)


def coverage_by_source(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents per local month and source, in words (long format, every source in every month, so gaps
    show months a source did not report): ``Month`` ("Dec 2026", oldest first), ``Source`` ("Municipal",
    "Community") and ``Incidents``."""
    columns = [MONTH_WORD, SOURCE_WORD, INCIDENTS_WORD]
    if not len(incidents):
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {MONTH: local_months(incidents[COLUMNS.occurred_at]), COLUMNS.source: incidents[COLUMNS.source]}
    )
    table = frame.groupby([MONTH, COLUMNS.source]).size().unstack(fill_value=0)
    table = table.reindex(columns=list(SOURCES), fill_value=0).sort_index()
    long = table.stack().rename(INCIDENTS_WORD).reset_index()
    return pd.DataFrame(
        {
            MONTH_WORD: long[MONTH].map(month_words),
            SOURCE_WORD: long[COLUMNS.source].map(source_words),
            INCIDENTS_WORD: long[INCIDENTS_WORD].astype("int64"),
        }
    )


def month_order(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The months of a chart frame (:func:`rejections_over_time`, :func:`coverage_by_source`) in their
    order, for plotly's ``category_orders``: a month axis drawn as categories keeps its words and order."""
    return {MONTH_WORD: list(dict.fromkeys(frame[MONTH_WORD])) if len(frame) else []}


def month_words(month: pd.Period) -> str:
    """A local month as people write it: "Dec 2026"."""
    return pd.Period(month, "M").strftime("%b %Y")


def reason_words(code: object) -> object:
    """A rejection reason, duplicate reason or warning code in a few words (:data:`pipelines.schemas.REASON_WORDS`)."""
    if not isinstance(code, str):
        return code
    return REASON_WORDS.get(code, code.replace("_", " ").capitalize())


def source_words(source: object) -> object:
    """A source as people say it ("Municipal", "Community")."""
    return SOURCE_WORDS.get(source, source) if isinstance(source, str) else source


def batch_labels(batches: pd.DataFrame) -> dict[str, str]:
    """Each batch as a person knows it: its file and when it was uploaded, in local time
    ("survey.csv, 2026-12-01 10:15"; "entered on a form" for a batch without a file). Batches with the same
    file and time are told apart by their order of upload ("survey.csv, 2026-12-01 10:15, second upload"),
    never by their internal id."""
    if not len(batches):
        return {}
    ordered = batches.sort_values([COLUMNS.created_at, COLUMNS.batch_id], kind="stable")
    names = ordered[COLUMNS.file_name].fillna("entered on a form").astype(str)
    base = names + ", " + local_times(ordered[COLUMNS.created_at]).fillna("time not known").astype(str)
    nth = base.groupby(base).cumcount() + 1
    shared = base.map(base.value_counts()) > 1
    labels = base.where(~shared, base + ", " + nth.map(_nth_upload))
    return dict(zip(ordered[COLUMNS.batch_id], labels, strict=True))


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _nth_upload(n: int) -> str:
    return f"{_ORDINALS[n - 1]} upload" if n <= len(_ORDINALS) else f"upload {n:,}"


def batch_warnings(batches: pd.DataFrame) -> pd.DataFrame:
    """Warning counts per batch, one row per (batch, warning), in words: ``File``, ``Uploaded`` (local
    time), ``Warning`` (:func:`reason_words`) and ``Rows``. No batch id: a person knows the file."""
    rows = []
    for file_name, created_at, text in zip(
        batches.get(COLUMNS.file_name, []),
        batches.get(COLUMNS.created_at, []),
        batches.get(COLUMNS.warnings, []),
        strict=True,
    ):
        for code, count in json.loads(text or "{}").items():
            rows.append({"File": file_name, "Uploaded": created_at, "Warning": reason_words(code), "Rows": count})
    table = pd.DataFrame(rows, columns=["File", "Uploaded", "Warning", "Rows"])
    table["Uploaded"] = local_times(table["Uploaded"]) if len(table) else []
    return blank_missing(table)


def feature_record(
    kind: str | None,
    ref: str | None = None,
    *,
    areas,
    assets,
    interventions,
    incidents,
    hotspots: pd.DataFrame | None = None,
    cell_counts: dict[str, str] | None = None,
    statistics: bool = False,
) -> dict | None:
    """The stored record behind a clicked map feature (see :meth:`pipelines.mapview.MapResult.clicked`);
    ``None`` when nothing (``kind`` None) or nothing known was clicked. ``incidents`` are the viewer's rows,
    so an incident the viewer may not see has no record.

    A hexagon reads as what it is, the Safe Neighbourhood it lies in and its count as the map showed it
    (``cell_counts``, :attr:`pipelines.mapview.MapResult.cell_counts`, made from what the viewer may see);
    a cell of the hot-spot layer (``hotspots``) also as its class in words. With ``statistics`` (analysts)
    also its H3 id, Gi* bin, z-score, p-value and emerging category. Without it no H3 id is shown."""
    if kind is None:
        return None
    if kind == "area":
        area_kind, _, code = ref.partition(":")
        match = areas[(areas[COLUMNS.kind] == area_kind) & (areas[COLUMNS.code] == code)]
    elif kind == "asset":
        match = assets[assets[COLUMNS.asset_id] == ref]
    elif kind == "intervention":
        match = interventions[interventions[COLUMNS.intervention_id] == ref]
    elif kind == "incident":
        match = incidents[incidents[COLUMNS.incident_id] == ref]
    elif kind == "cell":
        import h3

        if not h3.is_valid_cell(ref):  # a reference read from a click is text from the browser
            return None
        return _cell_record(ref, hotspots, areas=areas, cell_counts=cell_counts, statistics=statistics)
    else:
        return None
    if not len(match):
        return None
    record = pd.DataFrame(match).drop(columns=[COLUMNS.geometry], errors="ignore").iloc[0]
    return {k: (None if pd.isna(v) else str(v)) for k, v in record.items() if not isinstance(v, list | dict)}


def _cell_record(
    cell: str, hotspots: pd.DataFrame | None, *, areas, cell_counts: dict[str, str] | None, statistics: bool
) -> dict:
    import h3
    import shapely

    from pipelines.hotspots.emerging import HOTSPOT_CLASS

    lat, lon = h3.cell_to_latlng(cell)
    record = {"what": f"A hexagon of the map, {hexes.across_words(h3.get_resolution(cell))}"}
    if statistics:
        record["hexagon"] = cell
    hoods = areas[areas[COLUMNS.kind] == "neighbourhood"] if areas is not None and len(areas) else None
    if hoods is not None:
        inside = hoods[hoods.geometry.contains(shapely.Point(lon, lat))]
        if len(inside):
            record["safe neighbourhood"] = str(inside[COLUMNS.name].iloc[0])
    found = hotspots[hotspots["cell_id"] == cell] if hotspots is not None and len(hotspots) else None
    if cell_counts and cell in cell_counts:
        record["incidents in the period"] = cell_counts[cell]
    if found is None or not len(found):
        record["centre"] = f"{lat:.5f}, {lon:.5f}"
        return record
    row = found.iloc[0]
    kind = HOTSPOT_CLASS[row.get("hotspot_class", "none")]
    record["hot spot"] = f"{kind.label}: {kind.meaning}"
    record["incidents in the period"] = str(row["shown"]) if "shown" in row else f"{int(row['count']):,}"
    record["centre"] = f"{lat:.5f}, {lon:.5f}"
    if statistics:
        record |= {
            "Gi* bin": str(int(row["gi_bin"])),
            "z-score": "" if pd.isna(row.get("gi_z")) else f"{row['gi_z']:.2f}",
            "p-value (FDR-corrected bins)": "" if pd.isna(row.get("gi_p")) else f"{row['gi_p']:.4f}",
            "emerging category": str(row["emerging"]),
        }
    return record


#: Stored columns that mean nothing to the person who clicked a feature (the analyst export keeps them):
#: internal keys and codes. An area's code is replaced by its name.
_INTERNAL_FIELDS = (
    "fid", "batch_id", "dedupe_key", "raw", "generalised", "sensitive", "code", "asset_id", "intervention_id",
    "incident_id",
)  # fmt: skip
_AREA_FIELDS = {"precinct_code": "precinct", "neighbourhood_code": "neighbourhood"}
_AREA_KIND_WORDS = {"neighbourhood": "Safe Neighbourhood", "precinct": "Police precinct"}
_FIELD_LABELS = {
    "occurred_at": "When",
    "abcd_category": "ABCD asset category",
    "external_id": "Id in the source data",
    "precinct_code": "Police precinct",
    "neighbourhood_code": "Safe Neighbourhood",
    "incident_id": "Reference",
    "budget_zar": "Budget (ZAR)",
    "last_note": "Last note",
    "flags": "Why it is listed",
    "created_at": "Created",
    "file_name": "File",
    "org": "Organisation",
    "kind": "What",
    "format": "Layout",
    "outside_areas": "Outside every area",
    "batch_id": "Batch",
    "withdrawn": "Withdrawn",
    "disabled_at": "Disabled",
    "last_login_at": "Last login",
    "at": "When",
    "lat": "Latitude",
    "lon": "Longitude",
    "raw_category": "Category as reported",
    "sharing_consent": "Consent to share",
    "safe neighbourhood": "Safe Neighbourhood",
    "sso_only": "Single sign-on only",
    "sensitive_rows": "Sensitive rows",
    "event": "Event",
    "target": "About",
}


def status_words(status: object) -> object:
    """An intervention or action status as people say it ("in progress", not "in_progress")."""
    return STATUS_WORDS.get(status, status) if isinstance(status, str) else status


def field_label(field: str) -> str:
    """A stored column's name in words for a person ("ABCD asset category", not "Abcd category")."""
    return _FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def record_rows(record: dict, *, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """A clicked feature's record as a two-column table of text for people: internal fields and codes left
    out, an area's code shown as its name (from ``areas``), names and categories in words, times in local
    time, whole numbers with thousands separators and without a decimal point."""
    names = {}
    if areas is not None and len(areas):
        names = {
            (kind, code): name
            for kind, code, name in zip(areas[COLUMNS.kind], areas[COLUMNS.code], areas[COLUMNS.name], strict=True)
        }
    categories = category_labels()
    rows = []
    for field, value in record.items():
        if field in _INTERNAL_FIELDS or value is None or value == "":
            continue
        text = str(value)
        if field in _AREA_FIELDS:
            text = str(names.get((_AREA_FIELDS[field], text), "")) or "not named"
        elif field == "kind" and text in _AREA_KIND_WORDS:
            text = _AREA_KIND_WORDS[text]
        elif field == "category":
            text = categories.get(text, text)
        elif (
            field == "raw_category"
            and text.casefold() == str(categories.get(record.get(COLUMNS.category), "")).casefold()
        ):
            continue  # the file's own word for it says nothing more
        elif field == "status":
            text = str(status_words(text))
        elif field.endswith("_at"):
            when = pd.to_datetime(text, utc=True, errors="coerce")
            text = text if pd.isna(when) else to_local(when).strftime("%Y-%m-%d %H:%M")
        elif field in ("population", "budget_zar", "count"):
            number = pd.to_numeric(text, errors="coerce")
            text = text if pd.isna(number) else f"{number:,.0f}"
        rows.append((field_label(field), text))
    return pd.DataFrame(rows, columns=["field", "value"])


def status_history(
    log: pd.DataFrame, interventions: pd.DataFrame, *, intervention_id: str | None = None
) -> pd.DataFrame:
    """Dated status entries (local time), newest first, with the intervention's name: progress over time."""
    columns = ["when", "intervention", "status", "note", "user"]
    if intervention_id is not None and len(log):
        log = log[log[COLUMNS.intervention_id] == intervention_id]
    if not len(log):
        return pd.DataFrame(columns=columns)
    names = dict(zip(interventions[COLUMNS.intervention_id], interventions[COLUMNS.name], strict=True))
    when = pd.to_datetime(log[COLUMNS.changed_at], utc=True, format="ISO8601")
    table = pd.DataFrame(
        {
            "when": to_local(when).dt.strftime("%Y-%m-%d %H:%M"),
            "intervention": log[COLUMNS.intervention_id].map(names).fillna(log[COLUMNS.intervention_id]),
            COLUMNS.status: log[COLUMNS.status],
            COLUMNS.note: log[COLUMNS.note],
            COLUMNS.user: log[COLUMNS.user],
            "_at": when,
        }
    )
    return table.sort_values("_at", ascending=False, kind="stable").drop(columns="_at").reset_index(drop=True)


def for_people(
    frame: pd.DataFrame, *, json_columns: tuple[str, ...] = ("detail", "warnings"), headers: bool = True
) -> pd.DataFrame:
    """A table for an admin's or planner's screen: times in local time without a UTC offset, batch ids
    shortened to 8 characters, JSON details as ``Key: value`` words, roles in words, empty
    cells blank (:func:`blank_missing`), and (``headers``) column names in words (:func:`field_label`:
    "File", "Rows read", not ``file_name``, ``rows_read``)."""
    shown = pd.DataFrame(frame).drop(columns=[COLUMNS.geometry], errors="ignore").copy()
    for column in shown.columns:
        values = shown[column]
        if column.endswith("_at") or pd.api.types.is_datetime64_any_dtype(values):
            shown[column] = local_times(values)
        elif column == "batch_id" or column.endswith("_batch_id"):
            shown[column] = values.map(lambda v: v[:8] if isinstance(v, str) else v)
        elif column in json_columns:
            shown[column] = values.map(_json_words)
        elif column == COLUMNS.role:
            shown[column] = values.map(role_words)
    if headers:
        shown = shown.rename(columns=field_label)
    return blank_missing(shown)


def local_times(values: pd.Series, *, date_only: pd.Series | None = None) -> pd.Series:
    """Times as a person reads them: local time (``Settings.local_timezone``) as ``YYYY-MM-DD HH:MM``,
    without a UTC offset; where ``date_only`` is true (the report gave a day and no time) as
    ``YYYY-MM-DD``. Missing or unreadable values become ``None``."""
    when = pd.to_datetime(pd.Series(values), utc=True, errors="coerce", format="mixed")
    local = to_local(when)
    text = local.dt.strftime("%Y-%m-%d %H:%M")
    if date_only is not None:
        day_only = pd.Series(date_only, index=text.index).fillna(False).astype(bool)
        text = text.where(~day_only, local.dt.strftime("%Y-%m-%d"))
    return text.astype(object).where(when.notna(), None)


def _json_words(value: object, names: dict | None = None) -> object:
    if not isinstance(value, str) or not value.startswith("{"):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return _words(parsed, names=names or {}) if isinstance(parsed, dict) else value


#: Keys of an audit detail whose values are roles, and area codes (shown by the area's name).
_ROLE_KEYS = ("role", "from")
_AREA_KEYS = ("neighbourhood", "precinct", "neighbourhood_code", "precinct_code")
_CODE_LIKE = re.compile(r"^[a-z]+(_[a-z]+)+$")


def _words(value: object, *, key: str | None = None, names: dict | None = None) -> str:
    """A JSON value as plain text: ``Key: value`` pairs with keys in words (:func:`field_label`, reason and
    warning codes by :func:`reason_words`), empty values left out, booleans as yes or no, roles in words,
    area codes as the area's name (``names``: code -> name), lists joined, ISO times in local time."""
    if isinstance(value, dict):
        pairs = [(k, v) for k, v in value.items() if v is not None and v != "" and v != [] and v != {}]
        return "; ".join(f"{_key_words(k)}: {_words(v, key=k, names=names)}" for k, v in pairs)
    if isinstance(value, list):
        return ", ".join(_words(v, key=key, names=names) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _text_words(value, key=key, names=names or {}) if isinstance(value, str) else str(value)


def _text_words(value: str, *, key: str | None, names: dict) -> str:
    if key in _ROLE_KEYS and value in ROLE_WORDS:
        return ROLE_WORDS[value]
    if key in _AREA_KEYS and value in names:
        return str(names[value])
    if re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", value):
        when = pd.to_datetime(value, utc=True, errors="coerce")
        if pd.notna(when):
            return to_local(when).strftime("%Y-%m-%d %H:%M")
    if _CODE_LIKE.match(value):
        return str(reason_words(value)) if value in REASON_WORDS else value.replace("_", " ")
    return value


def _key_words(key: str) -> str:
    return str(reason_words(key)) if key in REASON_WORDS else field_label(key)


def audit_rows(log: pd.DataFrame, *, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """The audit log for an admin's screen (:func:`pipelines.audit.read_log`): :func:`for_people`, with
    each event and role in words ("Viewed sensitive detail", "ACT member") and each detail as
    ``Key: value`` words (empty values left out, yes or no, area codes as names from ``areas``)."""
    names = {}
    if areas is not None and len(areas):
        names = dict(zip(areas[COLUMNS.code], areas[COLUMNS.name], strict=True))
    shown = pd.DataFrame(log).copy()
    if COLUMNS.event in shown:
        shown[COLUMNS.event] = shown[COLUMNS.event].map(lambda e: AUDIT_EVENT_WORDS.get(e, e))
    if COLUMNS.detail in shown:
        shown[COLUMNS.detail] = shown[COLUMNS.detail].map(lambda d: _json_words(d, names))
    return for_people(shown, json_columns=())


def role_words(role: object) -> object:
    """A role as people say it ("ACT member", not ``act_member``; :data:`pipelines.schemas.ROLE_WORDS`)."""
    return ROLE_WORDS.get(role, role) if isinstance(role, str) else role


def blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame for display: empty cells shown blank, not as ``None``/``NaN`` (geometry dropped)."""
    shown = pd.DataFrame(frame).drop(columns=[COLUMNS.geometry], errors="ignore")
    return shown.astype(object).where(shown.notna(), "")


# --------------------------------------------------------------------------------------------------
# Data pages: registers, batches, data quality, the meeting screen
# --------------------------------------------------------------------------------------------------
def rows_with(frame: pd.DataFrame, column: str, values) -> pd.DataFrame:
    """The rows whose ``column`` is one of ``values``; every row when ``values`` is empty (a filter nobody set)."""
    if values is None or not len(values):
        return frame
    return frame[frame[column].isin(list(values))]


def names_by_id(frame: pd.DataFrame, id_column: str, name_column: str = "name") -> dict:
    """``{id: name}`` for a choice box that shows names and returns ids."""
    return dict(zip(frame[id_column], frame[name_column], strict=True))


def batch_history(batches: pd.DataFrame) -> pd.DataFrame:
    """:func:`batch_table` with the day each withdrawn batch was withdrawn (blank for a live one)."""
    shown = batch_table(batches)
    shown["withdrawn"] = batches[COLUMNS.withdrawn_at].dt.strftime("%Y-%m-%d").fillna("") if len(batches) else []
    return shown


def fixable_batches(batches: pd.DataFrame) -> dict[str, str]:
    """Live batches with rejected rows to fix, newest first, each as :func:`batch_labels` names it:
    ``{batch_id: "file.csv, 2026-12-01 10:15 · 3 rejected"}``."""
    if not len(batches):
        return {}
    named = batch_labels(batches)
    fixable = batches[(batches[COLUMNS.rejected] > 0) & batches[COLUMNS.withdrawn_at].isna()]
    fixable = fixable.sort_values(COLUMNS.created_at, ascending=False, kind="stable")
    rejected = fixable[COLUMNS.rejected].map("{:,} rejected".format)
    return {b: f"{named[b]} · {n}" for b, n in zip(fixable[COLUMNS.batch_id], rejected, strict=True)}


def live_batches(batches: pd.DataFrame) -> dict[str, str]:
    """Batches not withdrawn, that an admin may delete, newest first, each as :func:`batch_labels` names it
    with its organisation: ``{batch_id: "file.csv, 2026-12-01 10:15 · Harare CSF"}``."""
    if not len(batches):
        return {}
    named = batch_labels(batches)
    live = batches[batches[COLUMNS.withdrawn_at].isna()].sort_values(COLUMNS.created_at, ascending=False, kind="stable")
    orgs = live[COLUMNS.org].fillna("no organisation")
    return {b: f"{named[b]} · {org}" for b, org in zip(live[COLUMNS.batch_id], orgs, strict=True)}


def batch_file_stem(batches: pd.DataFrame, batch_id: str) -> str:
    """The name of a batch's file without its extension ("survey" for survey.csv; "form" without a file),
    for the name of a file made from it."""
    names = names_by_id(batches, COLUMNS.batch_id, COLUMNS.file_name)
    name = names.get(batch_id)
    return str(name).rsplit(".", 1)[0] if isinstance(name, str) and name else "form"


def first_rows(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` rows of a table, indexed by its first column (what a projector table shows)."""
    return table.head(n).set_index(table.columns[0])


@dataclass(frozen=True)
class DataQuality:
    """What the data-quality page shows, each part a table it draws as is."""

    batches: pd.DataFrame  # newest first, in words
    incidents: int
    outside: pd.DataFrame  # incidents outside every area, by source and organisation, in words
    outside_total: int
    rejections: pd.DataFrame  # rejected rows per month and reason, in words
    warnings: pd.DataFrame  # per file and warning, in words
    unmapped: pd.DataFrame  # category terms the taxonomy cannot place
    mappable: list[str]  # their spellings that can be mapped (not the empty term)
    coverage: pd.DataFrame  # incidents per month and source, in words


def data_quality(
    batches: pd.DataFrame, incidents: pd.DataFrame, rejections: pd.DataFrame, unmapped: pd.DataFrame
) -> DataQuality:
    """The data-quality page's tables from what the viewer may read of the store."""
    outside = outside_areas(incidents)
    coverage = coverage_by_source(incidents)
    return DataQuality(
        batches=for_people(batch_table(batches.sort_values(COLUMNS.created_at, ascending=False))),
        incidents=len(incidents),
        outside=outside,
        outside_total=int(outside[field_label(COLUMNS.incidents)].sum()),
        rejections=rejections_over_time(rejections, batches),
        warnings=batch_warnings(batches),
        unmapped=unmapped,
        mappable=unmapped.loc[unmapped[COLUMNS.term].ne(""), COLUMNS.raw_category].tolist(),
        coverage=coverage,
    )
