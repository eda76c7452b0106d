"""The store interface: the only way the rest of AreaSafe reads or writes persisted data.

Place in the data flow: ``place`` hands frames to :meth:`Store.commit`, which writes one batch in
one transaction; ``analyse`` and the dashboard read frames back through the ``read_*`` methods. The
GeoPackage store (:mod:`pipelines.store.gpkg`) is the embedded default; a PostGIS store implements
the same interface.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines import schemas, settings
from pipelines.errors import StoreError
from pipelines.schemas import COLUMNS
from pipelines.store import source_rows
from pipelines.store.frames import check_table, with_optional_columns


@dataclass(frozen=True)
class Batch:
    """One ingest: what came in and what became of each row.

    ``rows_read == accepted + rejected + duplicates`` holds for every committed batch.
    """

    batch_id: str
    kind: str
    file_name: str
    sha256: str
    created_at: dt.datetime
    source: str | None = None
    org: str | None = None
    user: str | None = None
    format: str | None = None
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    outside_areas: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)
    #: Sentences on what the import did that the counts do not say (which sheet or table was read and
    #: what was left aside, the encoding, features merged under one code, names matched through an alias,
    #: rows placed by area): shown with the report and stored with the batch.
    notes: tuple[str, ...] = ()
    withdrawn_at: dt.datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_reason: str | None = None

    def with_counts(self, **changes) -> Batch:
        return replace(self, **changes)

    def to_record(self) -> dict:
        """The batch as a flat record for storage (counts dicts and notes as JSON)."""
        record = asdict(self)
        record[COLUMNS.warnings] = json.dumps(self.warnings, sort_keys=True)
        record[COLUMNS.rejections] = json.dumps(self.rejections, sort_keys=True)
        record[COLUMNS.notes] = json.dumps(list(self.notes)) if self.notes else None
        record[COLUMNS.created_at] = self.created_at.astimezone(dt.UTC).isoformat()
        if self.withdrawn_at is not None:
            record[COLUMNS.withdrawn_at] = self.withdrawn_at.astimezone(dt.UTC).isoformat()
        return record

    def summary(self) -> dict:
        """The JSON shape printed by ``areasafe ingest ... --json``."""
        return {
            "batch_id": self.batch_id,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "outside_areas": self.outside_areas,
            "warnings": dict(self.warnings),
            "rejections": dict(self.rejections),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class IncidentQuery:
    """Filters for :meth:`Store.read_incidents`. ``None`` means no filter.

    ``start`` is inclusive and ``end`` exclusive, both timezone-aware or naive UTC.
    """

    neighbourhood: str | None = None
    precinct: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    categories: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    orgs: Sequence[str] | None = None
    batch_id: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    columns: Sequence[str] | None = None  # None: every column except ``raw`` and ``dedupe_key``

    def read_columns(self) -> list[str]:
        """The incident columns this query reads (every one but ``raw`` and ``dedupe_key`` by default), each
        checked against the schema: what both stores select."""
        table = schemas.INCIDENTS
        columns = list(self.columns) if self.columns else [c for c in table.columns if c not in ("raw", "dedupe_key")]
        for column in columns:
            table.field(column)
        return columns

    def equal_to(self) -> list[tuple[str, str]]:
        """The ``(column, value)`` filters that are one value (neighbourhood, precinct, batch)."""
        pairs = (
            ("neighbourhood_code", self.neighbourhood),
            ("precinct_code", self.precinct),
            ("batch_id", self.batch_id),
        )
        return [(column, value) for column, value in pairs if value is not None]

    def widened(self) -> IncidentQuery | None:
        """This query without its category and source filters, whose rows :meth:`narrow` brings back to this
        query's in memory (a cache of the wider read then serves every choice of those two filters); ``None``
        when there is nothing to widen or the columns read would not hold ``category`` and ``source``."""
        if self.categories is None and self.sources is None:
            return None
        if self.columns is not None and not {"category", "source"} <= set(self.columns):
            return None
        return replace(self, categories=None, sources=None)

    def narrow(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows, read with :meth:`widened`, that this query reads: those of its categories and sources
        (the same test as the stores' ``IN (...)``), in their order, numbered from 0 as a read numbers them."""
        keep = pd.Series(True, index=rows.index)
        for column, values in (("category", self.categories), ("source", self.sources)):
            if values is not None:
                keep &= rows[column].isin(list(values))
        return rows[keep.to_numpy()].reset_index(drop=True)


@dataclass(frozen=True)
class LoginCount:
    """A name's failed logins in a row, as :meth:`Store.claim_login_attempt` left them.

    ``claimed``: the attempt may go ahead, and is already counted (``failed`` includes it and
    ``last_failed_at`` is its time); otherwise the stored count, unchanged.
    """

    claimed: bool
    failed: int
    last_failed_at: pd.Timestamp | None

    @classmethod
    def from_row(cls, claimed: bool, row: tuple) -> LoginCount:
        """From a stored ``(failed_logins, last_failed_at)``."""
        failed, last = row
        return cls(claimed, int(failed or 0), None if last is None else pd.Timestamp(last))


class Store(abc.ABC):
    """Everything AreaSafe persists, behind one interface.

    Writes go through :meth:`commit` only: one call is one transaction, so a batch is either wholly
    stored or not at all, and readers never see part of one.
    """

    url: str
    #: The store can place incidents itself (area codes, swapped coordinates, near-boundary points)
    #: inside its write transaction: :meth:`batch_writer` accepts ``place=True`` and ingest then
    #: skips the Python spatial join (:mod:`pipelines.place`), with the same codes and counts.
    places_in_database: bool = False

    # -- lifecycle ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def initialise(self) -> None:
        """Create the schema if it is missing. Safe to call on an existing store."""

    @abc.abstractmethod
    def is_empty(self) -> bool:
        """True when no area and no incident is stored."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------------
    def commit(
        self,
        batch: Batch,
        *,
        incidents: gpd.GeoDataFrame | None = None,
        rejections: pd.DataFrame | None = None,
        areas: gpd.GeoDataFrame | None = None,
        area_counts: pd.DataFrame | None = None,
        assets: gpd.GeoDataFrame | None = None,
        interventions: gpd.GeoDataFrame | None = None,
        intervention_log: pd.DataFrame | None = None,
        source_rows: pd.DataFrame | None = None,
    ) -> Batch:
        """Write a batch and its rows in one transaction and return the batch as stored.

        Incidents whose ``dedupe_key`` is already stored are skipped and counted as duplicates;
        that check runs inside the transaction, so overlapping uploads cannot both store a row.
        Areas replace stored areas with the same kind and code; assets and interventions replace
        rows with the same id. Rejections whose raw content was already rejected for the same org
        are not stored twice. ``source_rows`` are the incidents' rows as the file gave them
        (the file's columns after PII redaction, indexed by incident id): the store keeps those of the
        incidents it stores (:mod:`pipelines.store.source_rows`).
        """
        frames = {
            "incidents": incidents,
            "rejections": rejections,
            "areas": areas,
            "area_counts": area_counts,
            "assets": assets,
            "interventions": interventions,
            "intervention_log": intervention_log,
            "source_rows": source_rows,
        }
        expected = len(incidents) if incidents is not None else 0
        return self._write_stream(iter([frames, batch]), expected_rows=expected)

    def batch_writer(
        self, *, expected_rows: int | None = None, place: bool = False, snap_m: float | None = None
    ) -> BatchWriter:
        """A writer that stores one batch from frames handed over in chunks, still in one transaction.

        Use it as a context manager; :meth:`BatchWriter.finish` writes the batch record and commits.
        Leaving the block without ``finish`` (or with an exception) stores nothing. ``expected_rows``
        is a hint (the number of incident rows to come) that lets a store choose a bulk strategy.
        With ``place`` (only where :attr:`places_in_database`), incidents arrive without area codes
        and the store places them; ``finish`` then adds the placement counts (``outside_areas``, the
        ``swapped_coordinates``, ``near_boundary`` and ``outside_areas`` warnings) to the batch; ``snap_m``
        is their near-boundary distance (:func:`pipelines.place.place_xy`). Rows without a point keep the
        area codes they arrive with (placed by the area they name).

        This default collects the chunks and calls :meth:`commit` once; stores that can write while
        the caller prepares the next chunk override it.
        """
        self._check_place(place)
        return _CollectingWriter(self)

    def _check_place(self, place: bool) -> None:
        if place and not self.places_in_database:
            raise StoreError(
                f"{type(self).__name__} cannot place incidents itself; place them with pipelines.place "
                "before writing (open the batch writer without place=True)."
            )

    # The one batch write path (commit and the batch writers): the loop and the order of the tables here,
    # each backend's statements in the methods below it.
    def _write_stream(
        self,
        items: Iterator[dict | Batch],
        *,
        expected_rows: int = 0,
        place: bool = False,
        snap_m: float | None = None,
    ) -> Batch:
        """Write chunks of frames, then the batch record, in one transaction.

        ``items`` yields frame dicts and ends with the :class:`Batch`; ending without one raises
        :class:`WriterAborted`, which rolls the transaction back.
        """
        with self._batch_session(expected_rows=expected_rows, place=place, snap_m=snap_m) as session:
            for item in items:
                if isinstance(item, Batch):
                    return self._finish_batch(session, session.corrected(item))
                if isinstance(item, Prepared):
                    session.bound, item = item.bound, item.frames
                self._write_frames(session, item)
                session.bound = {}
            raise WriterAborted

    def _prepare(self, frames: dict[str, pd.DataFrame | None]) -> dict | Prepared:
        """What a batch writer can do with a chunk in the caller's thread, before handing it to its
        writer thread: pack its ``source_rows`` (:func:`source_rows.pack`); a backend may add its own work."""
        copies, incidents = frames.get("source_rows"), frames.get("incidents")
        if copies is None or incidents is None or not len(incidents) or isinstance(copies, source_rows.Packed):
            return frames
        return {**frames, "source_rows": source_rows.pack(copies, str(incidents[COLUMNS.batch_id].iloc[0]))}

    def _write_frames(self, session: WriteSession, frames: dict[str, pd.DataFrame | None]) -> None:
        """One chunk's frames, table by table (the same order on every backend)."""
        check_frame_kinds(frames)

        def present(name: str) -> pd.DataFrame | None:
            frame = frames.get(name)
            return frame if frame is not None and len(frame) else None

        written = None
        if (incidents := present("incidents")) is not None:
            written = self._write_incidents(session, incidents)
        if (copies := frames.get("source_rows")) is not None and written is not None and len(written):
            batch_id = str(written[COLUMNS.batch_id].iloc[0])
            self._append(
                session, schemas.SOURCE_ROWS, source_rows.blocks(copies, written[COLUMNS.incident_id], batch_id)
            )
        if (areas := present("areas")) is not None:
            self._replace(session, schemas.AREAS, areas, ("kind", "code"))
        for table in (schemas.ASSETS, schemas.INTERVENTIONS):
            if (frame := present(table.name)) is not None:
                self._replace(session, table, frame, (table.key,))
        if (area_counts := present("area_counts")) is not None:
            self._replace(session, schemas.AREA_COUNTS, area_counts, schemas.AREA_COUNTS.unique_together[0])
        for table in (schemas.INTERVENTION_LOG, schemas.REJECTIONS):
            if (frame := present(table.name)) is not None:
                self._append(session, table, frame)

    @abc.abstractmethod
    def _batch_session(
        self, *, expected_rows: int, place: bool, snap_m: float | None
    ) -> contextlib.AbstractContextManager[WriteSession]:
        """Open the write transaction of one batch and its session; leaving with an exception rolls it back."""

    @abc.abstractmethod
    def _write_incidents(self, session: WriteSession, incidents: pd.DataFrame) -> pd.DataFrame:
        """Insert a chunk of incidents, skipping (and counting in ``session``) keys already stored;
        return the rows inserted."""

    @abc.abstractmethod
    def _replace(self, session: WriteSession, table: schemas.Table, frame: pd.DataFrame, key: Sequence[str]) -> None:
        """Rows of ``frame`` replace stored rows of ``table`` with the same ``key`` columns."""

    @abc.abstractmethod
    def _append(self, session: WriteSession, table: schemas.Table, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` to ``table``."""

    @abc.abstractmethod
    def _finish_batch(self, session: WriteSession, batch: Batch) -> Batch:
        """Write the batch record (``batch`` already corrected for stored keys) and what goes with it;
        return the batch as stored."""

    def save(self, **frames: pd.DataFrame | None) -> None:
        """Write rows of record tables (``users``, ``audit_log``, ``meetings``, ``actions``, ...) in one transaction.

        Each keyword names a table. Rows of a table with a ``key`` replace stored rows with the same
        key; rows of other tables are appended. Nullable columns missing from a frame are stored
        empty. Append-only tables (``audit_log``, ``action_log``) refuse updates and deletes at the
        database level, so even a bug elsewhere cannot rewrite history.
        """
        for name in frames:
            check_table(name)
        with self._record_session() as session:
            self._save(session, frames)

    def _save(self, session: WriteSession, frames: dict[str, pd.DataFrame | None]) -> None:
        """:meth:`save` inside an open transaction (also the ``then`` of a deletion or a reclassification)."""
        # Sorted by name: two saves of the same tables lock them in the same order (no deadlock).
        for name in sorted(frames):
            frame = frames[name]
            if frame is None or not len(frame):
                continue
            table = check_table(name)
            frame = with_optional_columns(table, frame)
            if table.key:
                self._replace(session, table, frame, (table.key,))
            else:
                self._append(session, table, frame)

    @abc.abstractmethod
    def _record_session(self) -> contextlib.AbstractContextManager[WriteSession]:
        """Open a write transaction for record tables (no batch) and its session."""

    @abc.abstractmethod
    def claim_login_attempt(
        self, username: str, *, at: dt.datetime, cutoffs: Sequence[dt.datetime | None]
    ) -> LoginCount:
        """Count a login attempt for ``username`` as failed *before* its password is checked, unless it must wait.

        ``cutoffs[n]`` says when an attempt after ``n`` failures in a row may go ahead: ``None`` at
        once, else only if the last failure was at or before that time; the last entry applies to
        every larger ``n`` (see :func:`login_allowed_sql`). The check and the count are one atomic
        statement, so however many attempts arrive at once, from threads, processes or replicas, no
        more go ahead than the cutoffs allow. An account is counted on its ``users`` row; any other
        name in ``login_failures``, under :func:`login_key` of the name and the store's salt (never
        the typed text), with the same rule, so the count says nothing about which accounts exist.
        """

    @abc.abstractmethod
    def clear_login_failures(self, username: str) -> None:
        """Set an account's count of failed logins back to zero (after a correct password)."""

    # -- sessions (pipelines.auth) -------------------------------------------------------------------
    # A session row is written with :meth:`save` (``sessions``, keyed by ``session_id``); these change
    # one column of it, or delete it, without rewriting the rest: a page view and the ticket exchange
    # may touch the same row at the same moment.
    def exchange_session_ticket(self, ticket_hash: str, token_hash: str, *, at: dt.datetime) -> str | None:
        """Give the session whose one-time ticket hashes to ``ticket_hash`` the cookie token ``token_hash``
        and forget the ticket, in one atomic statement; return the session's id, or ``None`` when no
        session holds that ticket or it expired before ``at``. A ticket therefore works once."""
        return self._session_statement(
            "UPDATE sessions SET token_hash = {p}, ticket_hash = NULL, ticket_expires_at = NULL "
            "WHERE ticket_hash = {p} AND ticket_expires_at >= {p} RETURNING session_id",
            (token_hash, ticket_hash, at),
        )

    def touch_session(self, session_id: str, *, at: dt.datetime) -> None:
        """Record a page view of a session (its ``last_seen_at``). It never waits for a long write (an upload
        holding the GeoPackage's lock): that view then goes unrecorded, and the next one records it."""
        self._session_statement(
            "UPDATE sessions SET last_seen_at = {p} WHERE session_id = {p}", (at, session_id), wait=False
        )

    def end_sessions(
        self,
        *,
        session_id: str | None = None,
        username: str | None = None,
        seen_before: dt.datetime | None = None,
        started_before: dt.datetime | None = None,
    ) -> None:
        """Delete the sessions that match any of the conditions given: this id, this account's, last seen
        before ``seen_before`` or started before ``started_before`` (expired ones)."""
        tests = {
            "session_id = {p}": session_id,
            "username = {p}": username,
            "last_seen_at < {p}": seen_before,
            "created_at < {p}": started_before,
        }
        given = {test: value for test, value in tests.items() if value is not None}
        if not given:
            raise StoreError("end_sessions needs session_id, username, seen_before or started_before")
        self._session_statement(f"DELETE FROM sessions WHERE {' OR '.join(given)}", tuple(given.values()))

    @abc.abstractmethod
    def _session_statement(self, statement: str, params: tuple, *, wait: bool = True) -> str | None:
        """Run one statement on ``sessions`` (``{p}`` marks each parameter; datetimes are UTC) in its own
        transaction; return the first column of its first row, if it returns one. Without ``wait``, a
        statement that would wait for another writer's lock is skipped."""

    @abc.abstractmethod
    def existing_dedupe_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are already stored (for dry runs; :meth:`commit` re-checks)."""

    @abc.abstractmethod
    def delete_batch(self, batch_id: str, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None) -> int:
        """Remove a batch and every row it wrote (append-only tables excepted); return the number of rows
        removed. ``then`` gets that number and returns frames to save (as :meth:`save` does) in the same
        transaction: the tombstone and the audit entry are stored with the deletion, or nothing is."""

    @abc.abstractmethod
    def reclassify_incidents(
        self, changes: pd.DataFrame, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None
    ) -> int:
        """Set the ``category`` and ``sensitive`` of stored incidents, by ``incident_id``; return the number
        of rows changed. ``changes`` has those three columns; ids no longer stored are ignored. ``then``
        gets the number and returns frames to save (as :meth:`save` does) in the same transaction: the
        mapping and its audit entry are stored with the change, or nothing is. Derived tables (a
        month summary) are kept in step."""

    # -- reads -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def read_areas(self, kind: str | None = None) -> gpd.GeoDataFrame:
        """Areas (all kinds, or one), EPSG:4326."""

    @abc.abstractmethod
    def read_incidents(self, query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
        """Incidents matching ``query``; ``occurred_at`` is tz-aware UTC, geometry EPSG:4326."""

    @abc.abstractmethod
    def read_table(self, table: str, *, where: dict[str, object] | None = None) -> pd.DataFrame:
        """Any table (a GeoDataFrame if it has geometry), filtered by equality on columns."""

    def read_source_rows(self, batch_id: str | None = None) -> pd.DataFrame:
        """Each stored incident's row as the file gave it (after PII redaction), of batch ``batch_id`` or
        of every batch: the files' columns, every value text (empty where a row's file had no such
        column), indexed by incident id. For audits and re-reading a batch; no page shows it."""
        where = {COLUMNS.batch_id: batch_id} if batch_id else None
        kept = source_rows.unpack(self.read_table(schemas.SOURCE_ROWS.name, where=where))
        old = self.read_table(schemas.INCIDENTS.name, where=where)  # batches stored before schema version 10
        old = old[old[COLUMNS.raw].notna()]
        return pd.concat([kept, source_rows.from_json(old[COLUMNS.incident_id], old[COLUMNS.raw])]).fillna("")

    @abc.abstractmethod
    def count(self, table: str) -> int:
        """Number of rows in ``table``."""

    @abc.abstractmethod
    def data_version(self) -> tuple[int, int]:
        """A value that changes whenever incident, area, count or register data changes (accounts and
        the audit log do not count): every such write adds a batch or a term mapping, and deleting a
        batch withdraws it.
        Dashboards key their caches on it, so every replica sees deletions and uploads at once."""

    def incident_months(self) -> pd.DataFrame:
        """Incidents per local month (``Settings.local_timezone``), Safe Neighbourhood, category, source and org.

        Columns ``month`` (``Period[M]``, missing for incidents without a date), ``neighbourhood_code``,
        ``category``, ``source``, ``org`` and ``incidents`` (the count): what filters and overviews need
        without reading every incident. This default counts the stored incidents;
        a store with a maintained summary overrides it.
        """
        columns = ["occurred_at", *MONTH_KEYS]
        return count_months(
            self.read_incidents(IncidentQuery(columns=columns)), timezone=settings.SETTINGS.local_timezone
        )

    def read_batches(self) -> pd.DataFrame:
        """Batch history, newest first."""
        batches = self.read_table("batches")
        return batches.sort_values(COLUMNS.created_at, ascending=False, ignore_index=True)

    def read_assets(self) -> gpd.GeoDataFrame:
        return self.read_table("assets")

    def read_interventions(self) -> gpd.GeoDataFrame:
        return self.read_table("interventions")

    def read_rejections(self, batch_id: str | None = None) -> pd.DataFrame:
        return self.read_table("rejections", where={"batch_id": batch_id} if batch_id else None)


def login_key(salt: str, name: str) -> str:
    """The key under which failed logins for a name without an account are counted: an HMAC-SHA256
    of the typed name with the store's salt, so the store never holds what was typed."""
    return hmac.new(salt.encode(), name.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def login_allowed_sql(table: str, cutoffs: Sequence[object | None], placeholder: str) -> tuple[str, list]:
    """The SQL condition of :meth:`Store.claim_login_attempt` on the ``failed_logins`` and
    ``last_failed_at`` of a row of ``table``, and its parameters (the cutoffs that are not ``None``, in order).
    Columns are qualified by the table: in an upsert they would otherwise be ambiguous."""
    failed, last = f"{table}.failed_logins", f"{table}.last_failed_at"

    def test(cutoff: object | None) -> str:
        return "TRUE" if cutoff is None else f"{last} <= {placeholder}"

    *each, rest = cutoffs
    condition = test(rest)
    if each:
        whens = " ".join(f"WHEN {n} THEN {test(cutoff)}" for n, cutoff in enumerate(each))
        condition = f"CASE COALESCE({failed}, 0) {whens} ELSE {condition} END"
    return f"({last} IS NULL OR {condition})", [c for c in cutoffs if c is not None]


def claim_login_in(
    execute: Callable[[str, tuple], tuple | None],
    username: str,
    *,
    stamp: object,
    cutoffs: Sequence[object | None],
    salt_sql: str,
    placeholder: str,
) -> LoginCount:
    """The statements of :meth:`Store.claim_login_attempt`, for either backend, run through ``execute``
    (SQL and parameters -> the first row or ``None``) inside the caller's transaction.

    The account's row is counted by one conditional ``UPDATE ... RETURNING``; a name without an account
    by one upsert into ``login_failures`` under :func:`login_key`. A statement that returns no row did not
    claim, and the stored count is read back instead. ``cutoffs`` and ``stamp`` arrive in the backend's
    own time representation; ``salt_sql`` reads the store's login salt.
    """
    p = placeholder
    allowed, params = login_allowed_sql("users", cutoffs, p)
    row = execute(
        f"UPDATE users SET {count_failure_sql('users', p)} WHERE username = {p} AND {allowed} "
        "RETURNING failed_logins, last_failed_at",
        (stamp, username, *params),
    )
    if row is not None:
        return LoginCount.from_row(True, row)
    row = execute(f"SELECT failed_logins, last_failed_at FROM users WHERE username = {p}", (username,))
    if row is not None:
        return LoginCount.from_row(False, row)
    key = login_key(execute(salt_sql, ())[0], username)
    allowed, params = login_allowed_sql("login_failures", cutoffs, p)
    row = execute(
        f"INSERT INTO login_failures (name_key, failed_logins, last_failed_at) VALUES ({p}, 1, {p}) "
        f"ON CONFLICT (name_key) DO UPDATE SET {count_failure_sql('login_failures', p)} "
        f"WHERE {allowed} RETURNING failed_logins, last_failed_at",
        (key, stamp, stamp, *params),
    )
    if row is not None:
        return LoginCount.from_row(True, row)
    return LoginCount.from_row(
        False, execute(f"SELECT failed_logins, last_failed_at FROM login_failures WHERE name_key = {p}", (key,))
    )


def count_failure_sql(table: str, placeholder: str) -> str:
    """``SET`` assignments that count one more failed login on a row of ``table`` (its time is the parameter)."""
    return f"failed_logins = COALESCE({table}.failed_logins, 0) + 1, last_failed_at = {placeholder}"


#: What :meth:`Store.incident_months` counts by, besides the month.
MONTH_KEYS = (COLUMNS.neighbourhood_code, COLUMNS.category, COLUMNS.source, COLUMNS.org)


#: Batches recorded plus terms mapped (each mapping re-classifies stored incidents), and batches
#: withdrawn: see :meth:`Store.data_version`.
DATA_VERSION_SQL = (
    "SELECT (SELECT count(*) FROM batches) + (SELECT count(*) FROM term_mappings), "
    "(SELECT count(withdrawn_at) FROM batches)"
)


def count_months(incidents: pd.DataFrame, *, timezone: str) -> pd.DataFrame:
    """Incidents counted per local month in ``timezone`` and :data:`MONTH_KEYS` (the shape of
    :meth:`Store.incident_months`); missing dates and codes are groups of their own."""
    from pipelines.periods import local_months

    keys = list(MONTH_KEYS)
    counted = (
        incidents[keys]
        .assign(month=local_months(incidents[COLUMNS.occurred_at], timezone=timezone))
        .groupby([COLUMNS.month, *keys], dropna=False)
        .size()
        .rename(COLUMNS.incidents)
        .reset_index()
    )
    for key in keys:  # plain objects with None for missing, as stores return text
        counted[key] = counted[key].astype(object).where(counted[key].notna(), None)
    return counted[[COLUMNS.month, *keys, COLUMNS.incidents]].astype({COLUMNS.incidents: "int64"})


#: The frames :meth:`Store.commit` and :meth:`BatchWriter.add` take.
FRAME_KINDS = (
    "incidents",
    "rejections",
    "areas",
    "area_counts",
    "assets",
    "interventions",
    "intervention_log",
    "source_rows",
)


def check_frame_kinds(frames: dict[str, object]) -> None:
    """A ``TypeError`` for a frame name that is not one of :data:`FRAME_KINDS` (a programming error)."""
    unknown = [kind for kind in frames if kind not in FRAME_KINDS]
    if unknown:
        raise TypeError(f"unknown frame {unknown[0]!r}; expected one of {', '.join(FRAME_KINDS)}")


@dataclass(frozen=True)
class Prepared:
    """A chunk's frames and what a backend already made of them in the caller's thread
    (:meth:`Store._prepare`), by table name; the writer thread hands ``bound`` to its session."""

    frames: dict[str, pd.DataFrame | None]
    bound: dict[str, object]


class WriteSession:
    """What every backend counts in one batch's write transaction: the incidents found already stored
    (skipped, and counted as duplicates instead of accepted). Backends add their own state."""

    def __init__(self) -> None:
        self.stored = 0
        self.outside_dropped = 0
        self.months: list[pd.DataFrame] = []
        self.bound: dict[str, object] = {}  # the chunk being written, as prepared (Prepared.bound)

    def count_written(self, incidents: pd.DataFrame, *, timezone: str) -> None:
        """Count a chunk of incidents just written into the batch's month summary (as they are
        written, so the summary never reads the batch back)."""
        if len(incidents):
            self.months.append(count_months(incidents, timezone=timezone))

    def month_counts(self) -> pd.DataFrame:
        """The batch's month counts (the shape of :func:`count_months`), summed over its chunks (at
        least one chunk counted: check :attr:`months`)."""
        months = pd.concat(self.months, ignore_index=True)
        summed = (
            months.groupby([COLUMNS.month, *MONTH_KEYS], dropna=False, sort=False)[COLUMNS.incidents]
            .sum()
            .reset_index()
        )
        for key in MONTH_KEYS:
            summed[key] = summed[key].astype(object).where(summed[key].notna(), None)
        return summed.astype({COLUMNS.incidents: "int64"})

    def count_stored(self, stored: np.ndarray, outside: np.ndarray) -> None:
        """Count the rows of a chunk marked ``stored``, and those of them ``outside`` every area."""
        self.stored += int(stored.sum())
        self.outside_dropped += int((stored & outside).sum())

    def corrected(self, batch: Batch) -> Batch:
        """``batch`` with the rows found already stored moved from accepted (and outside) to duplicates."""
        if not self.stored:
            return batch
        return batch.with_counts(
            accepted=batch.accepted - self.stored,
            duplicates=batch.duplicates + self.stored,
            outside_areas=batch.outside_areas - self.outside_dropped,
        )


class BatchWriter(abc.ABC):
    """One batch written chunk by chunk (see :meth:`Store.batch_writer`).

    ``add`` takes the same frames as :meth:`Store.commit`; the store's duplicate check runs inside
    the write transaction, and the counts of the batch given to ``finish`` are corrected for
    incidents found already stored, as :meth:`Store.commit` does.
    """

    @abc.abstractmethod
    def add(self, **frames: pd.DataFrame | None) -> None:
        """Write (or queue) one chunk of frames."""

    @abc.abstractmethod
    def finish(self, batch: Batch) -> Batch:
        """Write the batch record, commit, and return the batch as stored."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Give up: nothing of this batch is stored."""

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.abort()


class WriterAborted(Exception):
    """A batch writer was left without ``finish``: the store rolls the batch back."""


_DONE = object()


class ThreadedWriter(BatchWriter):
    """Writes chunks on a thread of its own while the caller prepares the next one.

    ``write_stream`` runs on that thread with an iterator of frame dicts that ends with the
    :class:`Batch`; it writes them in one transaction and returns the stored batch, or raises
    :class:`WriterAborted` when the iterator ends without a batch (the caller left without
    ``finish``). At most one chunk waits in the queue, which bounds memory. ``prepare`` runs on the
    caller's thread for each chunk before it is queued (:meth:`Store._prepare`), so that work overlaps
    the writer's inserts. ``on_exit`` runs on the thread when it ends (to close a connection that belongs to it).
    """

    def __init__(
        self,
        write_stream: Callable[[Iterator[dict | Prepared | Batch]], Batch],
        *,
        name: str,
        prepare: Callable[[dict[str, pd.DataFrame | None]], dict | Prepared] | None = None,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        self._write_stream = write_stream
        self._prepare = prepare
        self._name = name
        self._on_exit = on_exit
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._result: Batch | None = None

    def _run(self) -> None:
        ended = False  # the caller has sent its last item (the batch, or _DONE)

        def items() -> Iterator[dict | Batch]:
            nonlocal ended
            while (item := self._queue.get()) is not _DONE:
                ended = isinstance(item, Batch)
                yield item
                if ended:
                    return
            ended = True

        try:
            self._result = self._write_stream(items())
        except WriterAborted:
            pass
        except BaseException as exc:  # handed to the caller by add()/finish()
            self._error = exc
            # Let the caller's put() return; once the last item is taken (a failure while finishing
            # the batch) nothing more comes, and waiting for it would hang the caller's join().
            while not ended:
                item = self._queue.get()
                ended = item is _DONE or isinstance(item, Batch)
        finally:
            if self._on_exit is not None:
                self._on_exit()

    def _put(self, item: object) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._queue.put(item)

    def add(self, **frames: pd.DataFrame | None) -> None:
        check_frame_kinds(frames)
        self._put(frames if self._prepare is None else self._prepare(frames))

    def finish(self, batch: Batch) -> Batch:
        self._put(batch)
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise self._error
        return self._result

    def abort(self) -> None:
        if self._thread is not None:
            self._queue.put(_DONE)
            self._thread.join()
            self._thread = None


class _CollectingWriter(BatchWriter):
    def __init__(self, store: Store) -> None:
        self._store = store
        self._parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in FRAME_KINDS}

    def add(self, **frames: pd.DataFrame | None) -> None:
        check_frame_kinds(frames)
        for kind, frame in frames.items():
            if frame is not None and len(frame):
                self._parts[kind].append(frame)

    def finish(self, batch: Batch) -> Batch:
        frames = {kind: pd.concat(parts, ignore_index=True) for kind, parts in self._parts.items() if parts}
        self._parts = {}
        return self._store.commit(batch, **frames)

    def abort(self) -> None:
        self._parts = {}
