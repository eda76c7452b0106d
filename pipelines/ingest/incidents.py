"""Ingest recipes: read -> validate + normalise -> place -> store, one function per kind of file.

Place in the data flow: the public entry points that the CLI and the dashboard's upload page call.
Each recipe checks its arguments, reads the file, runs the pure steps, and hands the frames to
``Store.commit`` (one transaction). :func:`prepare_incidents` stops before the commit, so the upload
page can show a dry run; :func:`commit_incidents` commits what it prepared.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import plural, schemas, settings
from pipelines.areanames import AreaMatcher, aliases
from pipelines.dates import DateFormat, resolve_date_format
from pipelines.errors import MappingError, MissingLocationError
from pipelines.ingest.batches import commit_once, earlier_identical_batch, new_batch, read_bytes
from pipelines.ingest.rejections import reason_column
from pipelines.ingest.validate import (
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    WARNING_BITS,
    Validated,
    closest_area_notes,
    count_warnings,
    validate_incidents,
)
from pipelines.place import AreaIndex, place_incidents, snap_degrees
from pipelines.schemas import COLUMNS
from pipelines.sources.archive import holds_tables
from pipelines.sources.geofile import read_vector
from pipelines.sources.mapping import (
    ColumnMapping,
    apply_overrides,
    detect_mapping,
    load_mapping_file,
    refuse_repeat_table,
    require_location,
)
from pipelines.sources.tabular import ROW_NUMBER, RawTable, is_geo_file, preview_rows, read_tabular
from pipelines.store.base import Batch, Store
from pipelines.taxonomy import Taxonomy
from pipelines.terms import store_taxonomy

Progress = Callable[[str, float], None]


@dataclass
class PreparedIncidents:
    """A validated and placed file, ready to commit (or to show as a dry run)."""

    batch: Batch
    mapping: ColumnMapping
    validated: Validated
    incidents: gpd.GeoDataFrame
    columns: list[str]
    already_ingested: str | None = None  # batch id of an identical earlier upload
    raw: RawTable | None = None  # the file as read, for the row-by-row dry run (pipelines.ingest.report)

    @property
    def rows(self) -> pd.DataFrame:
        return self.validated.rows

    @property
    def rejections(self) -> pd.DataFrame:
        return self.validated.rejections


def read_incident_file(path: str | Path, *, data: bytes | None = None, sheet: str | None = None) -> RawTable:
    """Read an incident file (CSV, Excel, either gzipped or zipped, or a vector file with points) into a
    raw text frame; ``sheet`` names the Excel sheet to read (default: the submissions' sheet).

    With ``data`` (an upload's bytes) ``path`` is only a label whose suffix picks the vector reader; it
    is never opened. A zip archive of tables (``submissions.csv.zip``) is read as a table.
    """
    path = Path(path)
    if is_geo_file(path) and not holds_tables(data if data is not None else _head_of_zip(path)):
        frame = read_vector(path, data=data)
        points = frame.geometry
        if len(frame) and not (shapely.get_type_id(points.to_numpy()) == 0).all():
            points = points.representative_point()
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype("string[pyarrow]").fillna("")
        table["latitude"] = pd.Series(points.y.to_numpy(), index=frame.index).map("{:.7f}".format)
        table["longitude"] = pd.Series(points.x.to_numpy(), index=frame.index).map("{:.7f}".format)
        table = table.reset_index(drop=True).astype("string[pyarrow]")
        table[ROW_NUMBER] = np.arange(1, len(table) + 1)
        return RawTable(table, notes=["read as a vector file (feature numbers start at 1)"])
    return read_tabular(path, data=data, sheet=sheet)


def _head_of_zip(path: Path) -> bytes:
    """A zip file's bytes, to tell a zip of tables from a zipped vector dataset (a Shapefile folder: none)."""
    return path.read_bytes() if path.suffix.lower() == ".zip" and path.is_file() else b""


def resolve_mapping(
    raw: RawTable,
    *,
    format: str = "auto",
    mapping_file: str | Path | None = None,
    overrides: dict[str, str | None] | None = None,
    file_name: str = "file",
) -> ColumnMapping:
    """Detected mapping, then the YAML mapping file, then explicit overrides (each wins over the last)."""
    columns = [c for c in raw.frame.columns if c != ROW_NUMBER]
    from_file = load_mapping_file(mapping_file) if mapping_file else {}
    fmt = from_file.pop("format", None) or format
    mapping = detect_mapping(columns, raw.frame, format=fmt)
    mapping = apply_overrides(mapping, columns, **from_file)
    mapping = apply_overrides(mapping, columns, **(overrides or {}))
    chosen = {**from_file, **{k: v for k, v in (overrides or {}).items() if v}}
    refuse_repeat_table(columns, raw.frame, file_name, date_given=bool(chosen.get("date")))
    try:
        require_location(mapping, columns, file_name)
    except MissingLocationError as exc:  # what a page needs to let the person choose the columns
        exc.preview = preview_rows(raw.frame, personal=mapping.personal)
        raise
    return mapping


def without_reason_column(raw: RawTable) -> RawTable:
    """The file without the ``reason`` column of a rejected-rows file (:func:`rejections.as_original_file`)
    that comes back fixed: it is AreaSafe's own note, not part of the report."""
    column = reason_column(raw.frame)
    if column is None:
        return raw
    note = f"the '{column}' column AreaSafe added to the rejected rows was left out"
    return replace(raw, frame=raw.frame.drop(columns=column), notes=[*raw.notes, note])


@dataclass
class _IncidentRun:
    """A file read and mapped, before its rows are worked on; the batch still has no counts."""

    raw: RawTable
    mapping: ColumnMapping
    batch: Batch
    index: AreaIndex
    taxonomy: Taxonomy
    now: dt.datetime
    report: Progress
    date_format: DateFormat
    keep_identical_rows: bool
    areas: AreaMatcher | None = None  # the stored areas the mapping's area column names
    snap_m: float | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.raw.frame.columns if c != ROW_NUMBER]


@dataclass
class _Part:
    """One chunk of the file, validated and placed (points as longitude and latitude columns)."""

    validated: Validated
    placed: pd.DataFrame
    outside: int


def _start_incidents(
    store: Store,
    path: str | Path,
    *,
    source: str,
    org: str | None = None,
    user: str | None = None,
    format: str = "auto",
    mapping_file: str | Path | None = None,
    overrides: dict[str, str | None] | None = None,
    data: bytes | None = None,
    file_name: str | None = None,
    taxonomy: Taxonomy | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    sheet: str | None = None,
    date_format: str = "auto",
    keep_identical_rows: bool | None = None,
    area_kind: str | None = None,
    snap_m: float | None = None,
) -> _IncidentRun:
    """Read the file and settle its mapping, date order and batch, before any row is validated; the options
    of :func:`prepare_incidents` and :func:`ingest_incidents`, typed here once and documented there."""
    if source not in schemas.SOURCES:
        raise MappingError(f"--source must be one of {', '.join(schemas.SOURCES)}; got {source!r}")
    area_kind = settings.SETTINGS.area_kind if area_kind is None else area_kind
    if area_kind not in schemas.PLACED_KINDS:  # incidents keep the codes of these kinds (wards: when read)
        raise MappingError(f"--area-kind must be one of {', '.join(schemas.PLACED_KINDS)}; got {area_kind!r}")
    try:
        snap_degrees(snap_m)
    except ValueError as exc:
        raise MappingError(f"--snap-m: {exc}") from exc
    path = Path(path)
    file_name = file_name or path.name
    report = progress or (lambda step, fraction: None)
    report("reading", 0.05)
    content = read_bytes(path, data)
    # A vector file on the disk is read where it is (a Shapefile needs the files beside it); an upload
    # and every table are read from their bytes.
    raw = without_reason_column(read_incident_file(path, data=data if is_geo_file(path) else content, sheet=sheet))
    mapping = resolve_mapping(raw, format=format, mapping_file=mapping_file, overrides=overrides, file_name=file_name)
    # One order for the whole file, settled before any chunk is read (a file that contradicts itself is refused).
    dates = raw.frame[mapping.date] if mapping.date else pd.Series([], dtype="string[pyarrow]")
    date_format = resolve_date_format(
        dates, date_format, row_numbers=raw.frame[ROW_NUMBER] if mapping.date else None, column=mapping.date
    )
    if keep_identical_rows is None:  # police.uk rows have no id where identical rows are separate events
        keep_identical_rows = mapping.format == "police-uk"
    batch = new_batch(
        "incidents",
        file_name,
        content,
        source=source,
        org=org,
        user=user,
        format=mapping.format,
        rows_read=0,
        notes=tuple(raw.notes),
    )
    areas = store.read_areas()
    return _IncidentRun(
        raw,
        mapping,
        batch,
        AreaIndex.build(areas),
        store_taxonomy(store, taxonomy),  # with the terms analysts have mapped in this store
        now or dt.datetime.now(dt.UTC),  # one "now" for every chunk
        report,
        date_format,
        keep_identical_rows,
        AreaMatcher.for_kind(areas, area_kind, aliases(store, area_kind)) if mapping.area else None,
        snap_m,
    )


def _parts(run: _IncidentRun, *, place: bool = True) -> Iterator[_Part]:
    """Validate and place the file in chunks of ``Settings.chunk_rows`` rows, so memory stays bounded
    and a writer can store one chunk while the next is prepared. Duplicates across chunks are caught
    through the set of dedupe keys seen so far; malformed rows are reported with the first chunk.
    Without ``place`` the chunks stay unplaced: the store places them (``Store.places_in_database``)."""
    frame = run.raw.frame
    n, seen = len(frame), set()
    for start, stop in _chunk_bounds(n, settings.SETTINGS.chunk_rows):
        raw = replace(
            run.raw,
            frame=frame.iloc[start:stop].reset_index(drop=True),
            malformed=run.raw.malformed if start == 0 else [],
        )
        validated = validate_incidents(
            raw,
            run.mapping,
            source=run.batch.source,
            org=run.batch.org,
            taxonomy=run.taxonomy,
            now=run.now,
            seen=seen,
            date_format=run.date_format,
            keep_identical_rows=run.keep_identical_rows,
            areas=run.areas,
            index=None if run.index.empty else run.index,
            snap_m=run.snap_m,
        )
        if place:
            placed, placement = place_incidents(validated.incidents, run.index, snap_m=run.snap_m)
            _flag_placement(validated.outcomes, placed, placement)
            outside = int(placement.outside.sum())
        else:
            placed, outside = validated.incidents, 0
        run.report("validating and placing", 0.1 + 0.8 * stop / max(n, 1))
        yield _Part(validated, placed, outside)


def _chunk_bounds(n: int, step: int) -> Iterator[tuple[int, int]]:
    """Row ranges of the chunks of an ``n``-row file: ``step`` rows each, except that in a file with
    several chunks the first is cut in a fifth and the rest, and the last ``step`` rows go in tapering
    pieces (4, 3, 2 and 1 tenths).

    The writer inserts a chunk while the next is prepared, so it waits for the first chunk to be
    prepared and, after the last piece is prepared, has that piece left to insert that nothing
    overlaps: a small first piece starts the writer ~1 s sooner in a 1M-row ingest, and a tenth of a
    last chunk takes under 0.1 s to insert where a full one took ~0.85 s.
    """
    if n <= step:
        yield 0, n  # one chunk, possibly empty (an empty file still gets its batch)
        return
    taper_from = n - step
    head = step // 5
    bounds = sorted({0, *range(step, taper_from, step), taper_from, *([head] if 0 < head < taper_from else [])})
    yield from itertools.pairwise(bounds)
    start = taper_from
    for tenths in (4, 7, 9, 10):
        stop = taper_from + step * tenths // 10
        if stop > start:
            yield start, stop
            start = stop


def _flag_placement(outcomes: pd.DataFrame, placed: gpd.GeoDataFrame, placement) -> None:
    positions = _positions(outcomes, placed[COLUMNS.row_number])
    flags = outcomes["flags"].to_numpy(copy=True)
    for hit, code in (
        (placement.swapped, "swapped_coordinates"),
        (placement.outside, "outside_areas"),
        (placement.near_edge, "near_boundary"),
    ):
        flags[positions[hit]] |= WARNING_BITS[code]
    outcomes["flags"] = flags


def _positions(outcomes: pd.DataFrame, row_numbers: pd.Series) -> np.ndarray:
    """Positions in ``outcomes`` of the given row numbers (each present once)."""
    numbers = outcomes[COLUMNS.row_number].to_numpy()
    if len(numbers) and np.all(numbers[1:] > numbers[:-1]):  # sorted: the usual case, no hash table
        return np.searchsorted(numbers, row_numbers.to_numpy())
    return pd.Index(numbers).get_indexer(row_numbers.to_numpy())


class _Totals:
    """Batch counts summed over the chunks of a file."""

    def __init__(self) -> None:
        self.rows_read = self.outside = 0
        self.status: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self.closest_areas: dict[str, tuple[str, int]] = {}

    def add(self, part: _Part) -> None:
        self.rows_read += part.validated.rows_read
        self.outside += part.outside
        self.status.update(part.validated.counts())
        self.warnings.update(part.validated.warning_counts())
        self.rejections.update(part.validated.rejection_counts())
        for value, (name, rows) in part.validated.closest_areas.items():
            self.closest_areas[value] = (name, self.closest_areas.get(value, (name, 0))[1] + rows)

    def batch(self, batch: Batch) -> Batch:
        return batch.with_counts(
            rows_read=self.rows_read,
            accepted=self.status[ACCEPTED],
            rejected=self.status[REJECTED],
            duplicates=self.status[DUPLICATE],
            outside_areas=self.outside,
            warnings=dict(sorted((k, v) for k, v in self.warnings.items() if v)),
            rejections=dict(sorted((k, v) for k, v in self.rejections.items() if v)),
        )


def prepare_incidents(store: Store, path: str | Path, **options: Any) -> PreparedIncidents:
    """Read, validate and place an incident file without writing anything.

    Parameters
    ----------
    store
        Where areas are read from (for placing) and duplicates are looked up.
    path
        The file; with ``data`` given, only its name and suffix are used.
    source
        ``municipal`` or ``community``.
    org
        Supplying organisation; duplicates are detected per source and org.
    user
        Who uploaded the file (stored with the batch).
    format
        ``auto``, ``kobo``, ``odk``, ``police-uk`` or ``plain``.
    mapping_file
        A YAML mapping file (see ``docs``), winning over detection.
    overrides
        Role to column name (``lat``, ``lon``, ``geopoint``, ``x``, ``y``, ``crs``, ``date``, ``category``,
        ``id``, ``description``, ``area``), winning over detection and the mapping file.
    data, file_name
        File content and name, when it came from an upload rather than the disk.
    taxonomy, now, progress
        Category taxonomy (default: the project's), the time "future" dates are judged against, and a
        ``(step, fraction)`` progress callback.
    sheet
        The Excel sheet to read (default: the one holding the submissions, never a repeat group's;
        :func:`pipelines.sources.tabular.default_sheet`). The notes say which was read.
    date_format
        How the date column is written: ``auto`` (decided by the file's dates; a file whose dates prove
        both orders is refused), ``dmy`` (day first), ``mdy`` (month first), ``ymd``, or a strptime
        pattern such as ``%m/%d/%y %H:%M`` (:mod:`pipelines.dates`).
    keep_identical_rows
        Whether rows without a record id that are identical to an earlier row are separate events (kept)
        or copies (duplicates). ``None``: kept for the police-uk layout, dropped otherwise. Either way
        the batch's warnings count them (``identical_row``, ``identical_row_dropped``).
    area_kind
        Which stored areas the ``area`` column names: ``neighbourhood`` or ``precinct`` (default
        ``Settings.area_kind``). A row without a usable point is placed in the area it names, with no point.
    snap_m
        Points outside every area but this many metres from one are placed in the nearest
        (default ``Settings.edge_tolerance_m``; 0: never).
    """
    return _prepared(store, _start_incidents(store, path, **options))


def _prepared(store: Store, run: _IncidentRun) -> PreparedIncidents:
    parts = list(_parts(run))
    totals = _Totals()
    for part in parts:
        totals.add(part)
    if len(parts) == 1:
        validated, placed = parts[0].validated, parts[0].placed
    else:
        rows = pd.concat([p.validated.outcomes for p in parts], ignore_index=True)
        rejections = pd.concat([p.validated.rejections for p in parts], ignore_index=True)
        if run.raw.malformed:  # reported with the first chunk; put them back in file order
            rows = rows.sort_values(COLUMNS.row_number, ignore_index=True)
            rejections = rejections.sort_values(COLUMNS.row_number, ignore_index=True)
        incidents = pd.concat([p.validated.incidents for p in parts], ignore_index=True)
        originals = pd.concat([p.validated.source_rows for p in parts])
        validated = Validated(incidents, rejections, rows, parts[0].validated.notes, source_rows=originals)
        placed = pd.concat([p.placed for p in parts], ignore_index=True)
    placed = schemas.as_geoframe(placed)  # a preview and a commit of the whole file want geometries
    prepared = PreparedIncidents(totals.batch(run.batch), run.mapping, validated, placed, run.columns, raw=run.raw)
    run.report("checking duplicates", 0.95)
    prepared = _mark_stored_duplicates(store, prepared)
    return replace(prepared, batch=_with_notes(prepared.batch, run, totals))


def _with_notes(batch: Batch, run: _IncidentRun, totals: _Totals) -> Batch:
    """``batch`` with sentences for the rows placed other than by their own point: snapped to the nearest
    area, placed by the area they name, or by the closest area name (each to check)."""
    notes = []
    metres = settings.SETTINGS.edge_tolerance_m if run.snap_m is None else run.snap_m
    snapped = batch.warnings.get("near_boundary", 0)
    if snapped:
        notes.append(
            f"{plural.counted(snapped, 'point')} just outside every area {'was' if snapped == 1 else 'were'} placed in the "
            f"nearest area (within {metres:g} m; --snap-m sets the distance, 0 turns this off)."
        )
    if batch.outside_areas and not metres and not run.index.empty:
        one = batch.outside_areas == 1
        notes.append(
            f"{plural.counted(batch.outside_areas, 'point')} {'is' if one else 'are'} outside every area (kept, and on the "
            f"map, but in no area's total). Check the latitude and longitude. If {'it lies' if one else 'they lie'} "
            "just outside your boundaries (a beach, a bridge, a river bank) and no other council's areas are "
            f"there, loading the file with a snap distance of 150 m places {'it' if one else 'each'} in the nearest "
            "area (areasafe ingest incidents --snap-m 150)."
        )
    by_area = batch.warnings.get("placed_by_area", 0)
    if by_area and run.areas is not None:
        notes.append(
            f"{plural.counted(by_area, 'row')} had no exact place and {'was' if by_area == 1 else 'were'} placed in the "
            f"{run.areas.kind} {'it names' if by_area == 1 else 'they name'}: "
            f"{'it counts' if by_area == 1 else 'they count'} in area totals, not on the map or in hot spots."
        )
    if run.areas is not None:
        notes += closest_area_notes(totals.closest_areas, run.areas.kind)
    return batch.with_counts(notes=(*batch.notes, *notes))


def _mark_stored_duplicates(store: Store, prepared: PreparedIncidents) -> PreparedIncidents:
    """Dry-run view of ``already_stored`` duplicates (the commit re-checks inside its transaction)."""
    stored = store.existing_dedupe_keys(prepared.incidents[COLUMNS.dedupe_key])
    prepared.already_ingested = earlier_identical_batch(store, prepared.batch)
    if not stored:
        return prepared
    is_stored = prepared.incidents[COLUMNS.dedupe_key].isin(stored).to_numpy()
    rows = prepared.validated.outcomes
    hit = _positions(rows, prepared.incidents[COLUMNS.row_number][is_stored])
    rows.loc[hit, COLUMNS.status] = DUPLICATE
    rows.loc[hit, COLUMNS.reason] = "already_stored"
    rows.loc[hit, COLUMNS.message] = "Already in AreaSafe from an earlier upload (same record id or identical row)."
    outside = prepared.incidents[COLUMNS.precinct_code].isna() & prepared.incidents[COLUMNS.neighbourhood_code].isna()
    batch = prepared.batch.with_counts(
        accepted=prepared.batch.accepted - int(is_stored.sum()),
        duplicates=prepared.batch.duplicates + int(is_stored.sum()),
        outside_areas=prepared.batch.outside_areas - int((outside.to_numpy() & is_stored).sum()),
    )
    # rows now found already stored carry no warnings; copies dropped within the file keep theirs
    warnings = count_warnings(rows["flags"].to_numpy()[(rows[COLUMNS.reason] != "already_stored").to_numpy()])
    batch = batch.with_counts(warnings=warnings)
    incidents = prepared.incidents.loc[~is_stored]
    return replace(prepared, batch=batch, incidents=incidents)


def commit_incidents(store: Store, prepared: PreparedIncidents) -> Batch:
    """Commit a prepared file as one batch; an identical re-upload stores nothing and returns its report."""
    batch_id = prepared.batch.batch_id
    incidents = prepared.incidents.assign(batch_id=batch_id)
    rejections = prepared.rejections.assign(batch_id=batch_id)
    return commit_once(
        store, prepared.batch, incidents=incidents, rejections=rejections, source_rows=prepared.validated.source_rows
    )


def ingest_incidents(store: Store, path: str | Path, **options) -> Batch:
    """Prepare and commit an incident file as one batch; see :func:`prepare_incidents` for the options.

    The file is validated, placed and written chunk by chunk through :meth:`Store.batch_writer`, still
    in one transaction, so memory stays bounded and the store writes one chunk while the next is
    prepared. A store that places incidents itself (PostGIS) is handed them unplaced. An identical
    re-upload stores nothing and returns its report (as :func:`commit_incidents`).
    """
    run = _start_incidents(store, path, **options)
    if earlier_identical_batch(store, run.batch):
        return commit_incidents(store, _prepared(store, run))
    totals = _Totals()
    batch_id = run.batch.batch_id
    in_database = store.places_in_database
    with store.batch_writer(expected_rows=len(run.raw.frame), place=in_database, snap_m=run.snap_m) as writer:
        for part in _parts(run, place=not in_database):
            totals.add(part)
            writer.add(
                incidents=part.placed.assign(batch_id=batch_id),
                rejections=part.validated.rejections.assign(batch_id=batch_id),
                source_rows=part.validated.source_rows,
            )
            del part
        run.report("committing", 0.95)
        return _with_notes(writer.finish(totals.batch(run.batch)), run, totals)
