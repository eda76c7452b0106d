"""What an incident upload will do, in words: the one dry-run report of the upload page and the CLI.

Place in the data flow: after :func:`pipelines.ingest.incidents.prepare_incidents` (read -> validate
-> place, nothing written) and before the commit. The upload page and ``areasafe ingest incidents
--dry-run`` both show :func:`dry_run_report`, so a coordinator and an operator read the same
sentences: counts, each rejection reason and each warning in words with the rows it concerns, never a
reason code alone. :func:`report_rows` is the report row by row, with each row's own fields (date,
type, text, place) as the file gave them; :func:`mapping_notes` and :func:`location_problem` say what
the column mapping found, or could not find, in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipelines.dates import HAS_TIME
from pipelines.ingest.rejections import describe
from pipelines.ingest.validate import ACCEPTED, DUPLICATE, REJECTED
from pipelines.pii import redact_frame
from pipelines.plural import counted
from pipelines.schemas import COLUMNS
from pipelines.sources.mapping import ColumnMapping
from pipelines.sources.tabular import ROW_NUMBER, preview_rows  # noqa: F401 - the upload page's preview
from pipelines.views import local_times

if TYPE_CHECKING:
    from pipelines.ingest.incidents import PreparedIncidents

#: Each mapping role in words, as the upload page labels its column choices.
ROLE_LABELS = {
    "lat": "Latitude",
    "lon": "Longitude",
    "geopoint": "GPS point (latitude and longitude in one column)",
    "x": "Projected x (easting)",
    "y": "Projected y (northing)",
    "date": "Date of the incident",
    "fallback_date": "Date the form was sent (used when the incident date is empty)",
    "category": "Type of incident",
    "id": "Record number (a repeated number is a duplicate)",
    "description": "What happened (free text)",
    "area": "Area name or code (for rows without a point)",
}
#: Each row outcome in words.
OUTCOMES = {ACCEPTED: "Will be stored", REJECTED: "Rejected", DUPLICATE: "Duplicate, left out"}
#: Warnings a coordinator must see before confirming, first, in this order.
_FIRST = ("outside_areas", "unknown_category", "swapped_coordinates", "missing_date")
_WARNING_SENTENCES = {
    "outside_areas": (
        "{rows} outside every area AreaSafe knows. {They} will be stored but counted in no area: "
        "check {their} latitude and longitude."
    ),
    "unknown_category": (
        "{rows} a type of incident AreaSafe does not know{terms}. {They} will be stored as 'other' and kept "
        "private until an analyst says what the type means."
    ),
    "swapped_coordinates": "{rows} latitude and longitude the wrong way round; they were swapped. Check {these}.",
    "missing_date": "{rows} no date of the incident; the time the form was sent is used instead.",
    "redacted_pii": "{rows} a phone number, ID number or e-mail address; it was removed and will not be stored.",
}
_VERBS = {"outside_areas": ("is", "are")}  # "row 4 is outside ...", otherwise "row 4 has ..."


def rows_text(numbers: Iterable[int], *, limit: int = 8) -> str:
    """Row numbers in words: ``row 4``, ``rows 4 and 7``, ``rows 4, 7, 9 and 12 more``."""
    numbers = sorted(int(n) for n in numbers)
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    shown, rest = numbers[:limit], len(numbers) - limit
    if rest > 0:
        return f"rows {', '.join(map(str, shown))} and {rest:,} more"
    return f"rows {', '.join(map(str, shown[:-1]))} and {shown[-1]}"


@dataclass(frozen=True)
class DryRunReport:
    """What committing the file would do, in words.

    Attributes
    ----------
    rows_read, accepted, rejected, duplicates
        The batch's counts (``rows_read == accepted + rejected + duplicates``).
    headline
        The counts as one sentence.
    warnings
        Accepted rows that need a look, one sentence per kind with its rows; those that matter first.
    rejections
        One sentence per rejection reason, with its rows.
    duplicates
        One sentence per kind of duplicate, with its rows.
    notes
        How the file was read (encoding, sheet, rows left aside) and whether it was uploaded before.
    """

    rows_read: int
    accepted: int
    rejected: int
    duplicates: int
    headline: str
    warnings: list[str] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    duplicate_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as lines of text (``areasafe ingest incidents --dry-run`` prints them)."""
        out = [self.headline]
        for title, sentences in (
            ("Check before storing:", self.warnings),
            ("Rejected:", self.rejections),
            ("Left out as duplicates:", self.duplicate_reasons),
            ("Notes:", self.notes),
        ):
            if sentences:
                out += ["", title, *(f"  - {s}" for s in sentences)]
        return out


def dry_run_report(prepared: PreparedIncidents) -> DryRunReport:
    """The dry run of a prepared incident file in words (see :class:`DryRunReport`)."""
    batch, rows = prepared.batch, prepared.rows
    headline = (
        f"{counted(batch.rows_read, 'row')} read: {batch.accepted:,} will be stored, {batch.rejected:,} rejected "
        f"and {batch.duplicates:,} left out as duplicates."
    )
    said = dict.fromkeys([*batch.notes, *prepared.validated.notes])  # the reader's, the placing's, in order
    notes = [note[:1].upper() + note[1:] for note in said]
    if prepared.already_ingested:
        notes.append(
            f"This file was already uploaded (batch {prepared.already_ingested[:8]}); storing it again adds nothing."
        )
    return DryRunReport(
        rows_read=batch.rows_read,
        accepted=batch.accepted,
        rejected=batch.rejected,
        duplicates=batch.duplicates,
        headline=headline,
        warnings=_warnings(prepared, rows),
        rejections=_by_reason(rows[rows[COLUMNS.status] == REJECTED]),
        duplicate_reasons=_by_reason(rows[rows[COLUMNS.status] == DUPLICATE]),
        notes=notes,
    )


def _by_reason(rows: pd.DataFrame) -> list[str]:
    out = []
    for code, group in rows.groupby(COLUMNS.reason, sort=False):
        out.append(f"{counted(len(group), 'row').capitalize()} ({rows_text(group['row_number'])}): {describe(code)}")
    return out


def _warnings(prepared: PreparedIncidents, rows: pd.DataFrame) -> list[str]:
    """One sentence per warning code the kept (not duplicate) rows carry, the usual codes first."""
    kept = rows[rows[COLUMNS.status] != DUPLICATE]
    by_code = _rows_by_warning(kept)
    order = [c for c in _FIRST if c in by_code] + [c for c in by_code if c not in _FIRST]
    return [_warning_sentence(code, by_code[code], prepared, kept) for code in order]


def _rows_by_warning(kept: pd.DataFrame) -> dict[str, list[int]]:
    """The row numbers carrying each warning code, codes in the order first met."""
    by_code: dict[str, list[int]] = {}
    for number, codes in zip(kept[COLUMNS.row_number], kept[COLUMNS.warnings], strict=True):
        for code in codes:
            by_code.setdefault(code, []).append(int(number))
    return by_code


def _warning_template(code: str, numbers: list[int], prepared: PreparedIncidents, kept: pd.DataFrame) -> str | None:
    """The sentence template for ``code`` (None: no sentence, the code's description is used)."""
    template = _WARNING_SENTENCES.get(code)
    if code == "missing_date" and not prepared.mapping.fallback_date:
        template = "{rows} no date of the incident; {They_lower} will be stored without one."
    if template is None:
        return None
    if (
        code == "swapped_coordinates"
        and len(numbers) > 1
        and len(numbers) == len(kept[kept[COLUMNS.status] == ACCEPTED])
    ):
        template += (
            " Every row was: the latitude and longitude columns may be the wrong way round. If so, swap them "
            "under 'Which column is which' (or in the file)."
        )
    return template


def _unknown_terms(code: str, numbers: list[int], prepared: PreparedIncidents) -> str:
    """For ``unknown_category``, the first five distinct category terms of those rows in brackets."""
    if code != "unknown_category":
        return ""
    found = prepared.incidents.loc[prepared.incidents[COLUMNS.row_number].isin(numbers), COLUMNS.raw_category]
    distinct = list(dict.fromkeys(str(t) for t in found.dropna() if str(t).strip()))
    if not distinct:
        return ""
    return " (" + ", ".join(f"'{t}'" for t in distinct[:5]) + (", ..." if len(distinct) > 5 else "") + ")"


def _warning_sentence(code: str, numbers: list[int], prepared: PreparedIncidents, kept: pd.DataFrame) -> str:
    """The sentence about the rows ``numbers`` carrying the warning ``code``."""
    template = _warning_template(code, numbers, prepared, kept)
    if template is None:
        return f"{rows_text(numbers).capitalize()}: {describe(code)}"
    singular, plural = _VERBS.get(code, ("has", "have"))
    subject = f"{rows_text(numbers).capitalize()} {singular if len(numbers) == 1 else plural}"
    one = len(numbers) == 1
    return template.format(
        rows=subject,
        terms=_unknown_terms(code, numbers, prepared),
        They="It" if one else "They",
        They_lower="it" if one else "they",
        their="its" if one else "their",
        these="this row" if one else "these rows",
    )


# --------------------------------------------------------------------------------------------------
# The mapping in words
# --------------------------------------------------------------------------------------------------
def location_problem() -> str:
    """What to do when no location columns were found, for a person (no command-line flags)."""
    return (
        "We could not find where each report happened. Choose the column with the latitude and the column "
        "with the longitude below (or the one column that holds both, as a GPS point). If each report names "
        f"its ward, suburb or police station instead, choose that column under '{ROLE_LABELS['area']}' (under "
        "'More columns'). If the file has no location at all, add latitude and longitude columns in a "
        "spreadsheet and upload it again."
    )


def mapping_notes(mapping: ColumnMapping) -> list[str]:
    """What the column mapping found, or did not, in sentences for the person checking it."""
    notes = []
    if mapping.description:
        notes.append(f"We think the column '{mapping.description}' holds the report's text (what happened).")
    else:
        notes.append(
            "We found no column with the report's own words. If the file has one, choose it under "
            f"'{ROLE_LABELS['description']}'; otherwise the reports are stored without their text."
        )
    if not mapping.date:
        notes.append(
            f"We found no date column. Choose it under '{ROLE_LABELS['date']}'; otherwise the reports "
            "are stored without the day they happened."
        )
    if not mapping.category:
        notes.append(
            f"We found no column with the type of incident. Choose it under '{ROLE_LABELS['category']}'; "
            "otherwise every report is stored as 'other'."
        )
    if mapping.personal:
        names = ", ".join(f"'{c}'" for c in mapping.personal)
        notes.append(f"These columns look like personal information and will not be stored (POPIA): {names}.")
    return notes


def mapping_lines(mapping: ColumnMapping) -> list[str]:
    """Which column plays which role, one ``Label: column`` line each (roles without a column left out)."""
    return [f"{ROLE_LABELS.get(role, role)}: {column}" for role, column in mapping.roles().items() if column]


# --------------------------------------------------------------------------------------------------
# Row by row
# --------------------------------------------------------------------------------------------------
ROW_COLUMNS = ("Row", "Outcome", "Why", "Date in the file", "Read as", "Type", "Where", "What happened")


def report_rows(
    prepared: PreparedIncidents,
    *,
    areas: pd.DataFrame | None = None,
    only_problems: bool = False,
    limit: int | None = 200,
) -> pd.DataFrame:
    """The dry run row by row, each with the report itself: its date (as the file wrote it, and as read
    in local time: a date without a time stays a date), type, text and place, beside its outcome and why
    in words. ``only_problems`` keeps rejected and duplicate rows and rows with warnings. ``areas``
    names the area each stored row falls in (codes without it). Values are redacted as stored."""
    rows = prepared.rows
    if only_problems:
        rows = rows[(rows[COLUMNS.status] != ACCEPTED) | rows[COLUMNS.warnings].map(bool)]
    if limit is not None:
        rows = rows.head(limit)
    rows = rows.reset_index(drop=True)
    mapping = prepared.mapping
    fields = _fields(prepared, rows[COLUMNS.row_number])
    why = [
        describe(reason) if status != ACCEPTED else " ".join(describe(w) for w in warnings)
        for status, reason, warnings in zip(
            rows[COLUMNS.status], rows[COLUMNS.reason], rows[COLUMNS.warnings], strict=True
        )
    ]
    stored = prepared.incidents.set_index(COLUMNS.row_number) if len(prepared.incidents) else None
    read_as = pd.Series([None] * len(rows), dtype=object)
    where = fields["location"].copy()
    if stored is not None:
        hit = rows[COLUMNS.row_number].isin(stored.index).to_numpy()
        numbers = rows.loc[hit, COLUMNS.row_number]
        date_only = fields.loc[hit, "date"].fillna("").map(lambda t: bool(t) and not re.search(HAS_TIME, t))
        read_as[hit] = local_times(
            stored.loc[numbers, COLUMNS.occurred_at].reset_index(drop=True), date_only=date_only.reset_index(drop=True)
        ).to_numpy()
        where[hit] = _area_names(stored.loc[numbers], areas).to_numpy()
    return pd.DataFrame(
        {
            "Row": rows[COLUMNS.row_number].to_numpy(),
            "Outcome": rows[COLUMNS.status].map(OUTCOMES).to_numpy(),
            "Why": why,
            "Date in the file": fields["date"].to_numpy() if mapping.date else None,
            "Read as": read_as.to_numpy(),
            "Type": fields[COLUMNS.category].to_numpy(),
            "What happened": fields[COLUMNS.description].to_numpy(),
            "Where": where.to_numpy(),
        },
        columns=list(ROW_COLUMNS),
    )


def _fields(prepared: PreparedIncidents, numbers: pd.Series) -> pd.DataFrame:
    """The mapped fields of the rows ``numbers`` as the file gave them (redacted); empty for rows the
    parser could not split."""
    mapping = prepared.mapping
    empty = pd.DataFrame({k: [None] * len(numbers) for k in ("date", "category", "description", "location")})
    raw = getattr(prepared, "raw", None)
    if raw is None or not len(numbers):
        return empty
    frame = raw.frame
    picked = frame.set_index(ROW_NUMBER).reindex(numbers.to_numpy())
    used = [
        c
        for c in dict.fromkeys(_location_columns(mapping) + [mapping.date, mapping.category, mapping.description])
        if c
    ]
    text = picked[used].astype("string").fillna("").apply(lambda s: s.str.strip()) if used else picked[[]]
    text, _ = redact_frame(text, used)

    def column(name: str | None) -> np.ndarray:
        return text[name].to_numpy(dtype=object) if name else np.full(len(numbers), None, dtype=object)

    location_columns = _location_columns(mapping)
    if location_columns:
        location = text[location_columns].agg(", ".join, axis=1).str.strip(", ").to_numpy(dtype=object)
    else:
        location = np.full(len(numbers), None, dtype=object)
    return pd.DataFrame(
        {
            "date": column(mapping.date),
            COLUMNS.category: column(mapping.category),
            COLUMNS.description: column(mapping.description),
            "location": location,
        }
    ).replace("", None)


def _location_columns(mapping: ColumnMapping) -> list[str]:
    if mapping.geopoint:
        return [mapping.geopoint]
    if mapping.lat and mapping.lon:
        return [mapping.lat, mapping.lon]
    if mapping.x and mapping.y:
        return [mapping.x, mapping.y]
    area = getattr(mapping, "area", None)  # incidents placed by an area name (issue 16, item 5)
    return [area] if area else []


def _area_names(stored: pd.DataFrame, areas: pd.DataFrame | None) -> pd.Series:
    names = {}
    if areas is not None and len(areas):
        names = dict(
            zip(
                areas[COLUMNS.kind] + ":" + areas[COLUMNS.code],
                areas[COLUMNS.name].fillna(areas[COLUMNS.code]),
                strict=True,
            )
        )
    hood = stored[COLUMNS.neighbourhood_code].map(lambda c: names.get(f"neighbourhood:{c}", c) if pd.notna(c) else None)
    precinct = stored[COLUMNS.precinct_code].map(lambda c: names.get(f"precinct:{c}", c) if pd.notna(c) else None)
    place = hood.where(hood.notna(), precinct)
    return place.where(place.notna(), "Outside every area").reset_index(drop=True)
