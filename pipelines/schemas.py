"""Data contracts: every stored column is defined once, here.

Place in the data flow: readers produce raw frames; ``validate``/``normalise`` turn them into frames
that match these tables; the store creates its tables from these definitions and pandera validators
are generated from them (:func:`validator`). Nothing else in the code base spells a column name as a
string literal: import the constants below instead, :data:`COLUMNS` (``COLUMNS.neighbourhood_code``)
for every column name, ``Table.key`` for a table's key and :data:`CODE_COLUMN` for an area kind's code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

# --------------------------------------------------------------------------------------------------
# Controlled vocabularies
# --------------------------------------------------------------------------------------------------
AREA_KINDS = ("precinct", "neighbourhood", "ward")
#: The kinds every incident, asset and intervention is placed in when stored (their ``<kind>_code`` columns).
#: Wards are not: a ward demarcation changes every five years, so points are placed in the version the
#: reader picks when it is read (:mod:`pipelines.crosswalk`).
PLACED_KINDS = ("precinct", "neighbourhood")
#: The column that holds a placed kind's area code, in every table placed in areas: the one map.
CODE_COLUMN = {"precinct": "precinct_code", "neighbourhood": "neighbourhood_code"}
assert tuple(CODE_COLUMN) == PLACED_KINDS
SOURCES = ("municipal", "community")
SOURCE_WORDS = {"municipal": "Municipal", "community": "Community"}  # each source as people say it
ABCD_CATEGORIES = ("individuals", "associations", "institutions", "physical", "economic", "cultural")
# Who a person (an ABCD "individuals" asset) agreed may see their asset: admins only, the officials
# (ACT members, planners, analysts), or every partner including CSOs. Never the public.
ASSET_CONSENT = ("none", "act", "partners")
INTERVENTION_STATUSES = ("planned", "in_progress", "complete", "stalled", "maintenance")
#: Statuses as people say them, where the stored code is not already a word.
STATUS_WORDS = {"in_progress": "in progress"}
BATCH_KINDS = ("incidents", "boundaries", "counts", "assets", "interventions")
REJECTION_REASONS = (
    "missing_location",
    "invalid_coordinates",
    "invalid_date",
    "future_date",
    "malformed_row",
    "unknown_area",
    "invalid_value",
    "ambiguous_area",
    "not_an_area",
)
DUPLICATE_REASONS = ("repeated_in_file", "already_stored")
USER_ROLES = ("admin", "analyst", "planner", "act_member", "cso")  # the public is "not logged in", not a role
#: Each role as people say it, wherever a role is shown (the sign-in line, the Users page).
ROLE_WORDS = {"admin": "Admin", "analyst": "Analyst", "planner": "Planner", "act_member": "ACT member", "cso": "CSO"}
assert tuple(ROLE_WORDS) == USER_ROLES
AUDIT_EVENTS = (
    "login",
    "login_failed",
    "logout",
    "upload",
    "edit",
    "export",
    "view_sensitive",
    "delete_batch",
    "user_admin",
    "map_term",
)
#: Each audit event as the audit log shows it.
AUDIT_EVENT_WORDS = {
    "login": "Logged in",
    "login_failed": "Login failed",
    "logout": "Logged out",
    "upload": "Uploaded a file",
    "edit": "Edited a record",
    "export": "Downloaded data",
    "view_sensitive": "Viewed sensitive detail",
    "delete_batch": "Deleted a batch",
    "user_admin": "Changed an account",
    "map_term": "Mapped a category term",
}
assert tuple(AUDIT_EVENT_WORDS) == AUDIT_EVENTS
ACTION_STATUSES = ("open", "done", "blocked", "dropped")
# Whose budget pays: municipal financial years run July-June, national and provincial ones April-March.
FUNDING_SPHERES = ("municipal", "provincial", "national")
# How an area's other name came about: the station was renamed, merged into another, or the name is
# spelt another way (``JHB Central`` for ``Johannesburg Central``).
ALIAS_CHANGES = ("renamed", "merged", "spelling")
WARNING_CODES = (
    "swapped_coordinates",
    "unknown_category",
    "redacted_pii",
    "missing_date",
    "outside_areas",
    "repaired_geometry",
    "unmatched_area",
    "near_boundary",
    "merged_features",
    "matched_by_alias",
    "ambiguous_date_order",
    "identical_row",
    "identical_row_dropped",
    "placed_by_area",
)
#: Each rejection reason, duplicate reason and warning in a few words, wherever one is listed (charts,
#: tables); :data:`pipelines.ingest.rejections.SENTENCES` says what each means in a sentence.
REASON_WORDS = {
    "missing_location": "No location",
    "invalid_coordinates": "Coordinates not usable",
    "invalid_date": "Date not readable",
    "future_date": "Date in the future",
    "malformed_row": "Row not readable",
    "unknown_area": "Area not known",
    "invalid_value": "Value not allowed",
    "ambiguous_area": "Two stations, one area",
    "not_an_area": "Not an area shape",
    "repeated_in_file": "Repeated in the file",
    "already_stored": "Already stored",
    "swapped_coordinates": "Latitude and longitude swapped",
    "unknown_category": "Type of incident not known",
    "redacted_pii": "Personal details removed",
    "missing_date": "No date",
    "outside_areas": "Outside every area",
    "repaired_geometry": "Shape repaired",
    "unmatched_area": "In no Safe Neighbourhood",
    "near_boundary": "Placed in the nearest area",
    "merged_features": "Shapes merged into one area",
    "matched_by_alias": "Area found by another name",
    "ambiguous_date_order": "Day and month order unclear",
    "identical_row": "Identical row kept",
    "identical_row_dropped": "Identical row dropped",
    "placed_by_area": "Placed by area name",
}
assert set(REASON_WORDS) == {*REJECTION_REASONS, *DUPLICATE_REASONS, *WARNING_CODES}

STORE_CRS = "EPSG:4326"
STORE_SRID = 4326


@dataclass(frozen=True)
class Field:
    """One column: its storage type, meaning and allowed values.

    ``dtype`` is one of ``text``, ``int``, ``float``, ``bool``, ``datetime`` (UTC, stored as ISO-8601
    text) or ``date`` (stored as ``YYYY-MM-DD`` text).
    """

    name: str
    dtype: str
    description: str
    nullable: bool = True
    isin: tuple[str, ...] | None = None
    unique: bool = False


@dataclass(frozen=True)
class Table:
    """A stored table: ordered fields plus an optional geometry column."""

    name: str
    description: str
    fields: tuple[Field, ...]
    geometry_type: str | None = None  # GeoPackage geometry type name, or None for attribute tables
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_together: tuple[tuple[str, ...], ...] = ()
    key: str | None = None  # rows written by Store.save replace stored rows with the same key
    append_only: bool = False  # the store refuses UPDATE and DELETE (audit trail)
    copies: str | None = None  # a table whose rows this one keeps a copy of: not counted as rows of a batch
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(f.name for f in self.fields))

    @property
    def unique_key(self) -> str | None:
        """The first single-column unique key (``unique_together``), if any."""
        return next((group[0] for group in self.unique_together if len(group) == 1), None)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"table {self.name!r} has no column {name!r}; columns are {', '.join(self.columns)}")


GEOMETRY = "geometry"
#: A point table (incidents) may travel from the pipeline steps to a store's writer as a plain frame
#: with each point's longitude and latitude (EPSG:4326) in these columns instead of a geometry: a
#: shapely point per row costs ~0.08 s per 100k rows with the interpreter lock held, and the stores
#: encode points from coordinates anyway. :func:`as_geoframe` turns such a frame into a GeoDataFrame.
LON, LAT = "lon", "lat"

# --------------------------------------------------------------------------------------------------
# Field definitions (shared fields are defined once and reused across tables)
# --------------------------------------------------------------------------------------------------
_batch_id = Field("batch_id", "text", "Identifier of the ingest batch that wrote the row.", nullable=False)
_org = Field("org", "text", "Organisation that supplied the data (a CSO, a municipal department).")
_precinct_code = Field("precinct_code", "text", "Code of the police precinct containing the point.")
_neighbourhood_code = Field("neighbourhood_code", "text", "Code of the Safe Neighbourhood containing the point.")
_raw = Field("raw", "text", "The original input row as JSON, after PII redaction.")
_row_number = Field("row_number", "int", "1-based data row number in the uploaded file.", nullable=False)

AREAS = Table(
    "areas",
    "Police precincts, Safe Neighbourhood and ward polygons.",
    (
        Field("code", "text", "Stable area code, unique within its kind.", nullable=False),
        Field("name", "text", "Human-readable area name.", nullable=False),
        Field("kind", "text", "Area kind.", nullable=False, isin=AREA_KINDS),
        Field("municipality", "text", "Municipality the area belongs to."),
        Field("population", "float", "Resident population, the denominator for rates."),
        _batch_id,
    ),
    geometry_type="MULTIPOLYGON",
    unique_together=(("kind", "code"),),
)

INCIDENTS = Table(
    "incidents",
    "Point incidents from municipal systems and community surveys.",
    (
        Field("incident_id", "text", "AreaSafe identifier of the incident.", nullable=False, unique=True),
        Field("source", "text", "Who recorded it.", nullable=False, isin=SOURCES),
        _org,
        _batch_id,
        Field("external_id", "text", "Identifier in the source system (Kobo _uuid, Crime ID, ...)."),
        Field("occurred_at", "datetime", "When it happened (UTC)."),
        Field("category", "text", "Canonical category from the taxonomy.", nullable=False),
        Field("raw_category", "text", "Category exactly as delivered."),
        Field("description", "text", "Free-text description, PII redacted."),
        Field("sensitive", "bool", "Category is sensitive (sexual offences, domestic violence, ...).", nullable=False),
        _precinct_code,
        _neighbourhood_code,
        Field(
            "raw",
            "text",
            "Empty since schema version 10 (the row as the file gave it is kept in source_rows); before, the "
            "original input row as JSON, after PII redaction.",
        ),
        Field("dedupe_key", "text", "source|org|external id (or row hash); unique in the store.", nullable=False),
    ),
    geometry_type="POINT",
    # Every read filters by area and period, so those are the indexes; uniqueness of incident_id
    # follows from that of dedupe_key (it is a hash of it) and is checked by the validator.
    indexes=(("neighbourhood_code", "occurred_at"), ("precinct_code", "occurred_at"), ("batch_id",)),
    unique_together=(("dedupe_key",),),
)

AREA_COUNTS = Table(
    "area_counts",
    "Counts per area, category and period for sources that publish counts rather than points.",
    (
        Field("area_kind", "text", "Kind of the matched area.", nullable=False, isin=AREA_KINDS),
        Field("area_code", "text", "Code of the matched area.", nullable=False),
        Field("area_name", "text", "Area name as delivered."),
        Field("category", "text", "Canonical category.", nullable=False),
        Field("raw_category", "text", "Category as delivered."),
        Field("period", "text", "Period label, e.g. 2015/16 (a SAPS financial year, April to March).", nullable=False),
        Field("period_start", "date", "First day of the period."),
        Field("period_end", "date", "Last day of the period."),
        Field("count", "int", "Number of incidents.", nullable=False),
        Field("source", "text", "Who published the counts.", nullable=False, isin=SOURCES),
        _org,
        _batch_id,
    ),
    unique_together=(("area_kind", "area_code", "category", "raw_category", "period", "source", "org"),),
)

ASSETS = Table(
    "assets",
    "Community assets in the sense of Asset-Based Community Development.",
    (
        Field("asset_id", "text", "AreaSafe identifier of the asset.", nullable=False, unique=True),
        Field("name", "text", "Asset name.", nullable=False),
        Field("abcd_category", "text", "ABCD asset category.", nullable=False, isin=ABCD_CATEGORIES),
        Field("type", "text", "Asset type, e.g. school, church, sports field."),
        Field("custodian", "text", "Who looks after it."),
        Field("external_id", "text", "Identifier in the source data."),
        _precinct_code,
        _neighbourhood_code,
        _batch_id,
        Field(
            "sharing_consent",
            "text",
            "For a person's asset (ABCD individuals): who the person agreed may see it: none (admins only), act "
            "(officials: ACT members, planners, analysts) or partners (also CSOs). Empty counts as none; never public.",
            isin=ASSET_CONSENT,
        ),
    ),
    geometry_type="POINT",
    key="asset_id",
)

INTERVENTIONS = Table(
    "interventions",
    "Violence-prevention interventions (lighting, walkways, active boxes, youth programmes).",
    (
        Field("intervention_id", "text", "AreaSafe identifier.", nullable=False, unique=True),
        Field("name", "text", "Intervention name.", nullable=False),
        Field("type", "text", "Intervention type."),
        Field("lead", "text", "Lead department or organisation."),
        Field("partners", "text", "Partners, semicolon separated."),
        Field("status", "text", "Delivery status.", nullable=False, isin=INTERVENTION_STATUSES),
        Field("budget_zar", "float", "Budget in rand."),
        Field("financial_year", "text", "Financial year of the funding sphere's budget, e.g. 2025/26."),
        Field("funding_sphere", "text", "Whose budget pays (sets the financial-year cycle).", isin=FUNDING_SPHERES),
        Field("start", "date", "Start date."),
        Field("end", "date", "Planned or actual end date."),
        Field("external_id", "text", "Identifier in the source data."),
        _neighbourhood_code,
        _batch_id,
    ),
    geometry_type="GEOMETRY",
    key="intervention_id",
)

BATCHES = Table(
    "batches",
    "One row per ingest: what was read, from whom, and what became of each row.",
    (
        Field("batch_id", "text", "Batch identifier.", nullable=False, unique=True),
        Field("kind", "text", "What was ingested.", nullable=False, isin=BATCH_KINDS),
        Field("file_name", "text", "Uploaded file name.", nullable=False),
        Field("sha256", "text", "SHA-256 of the file bytes.", nullable=False),
        Field("source", "text", "municipal or community (incidents and counts)."),
        Field("org", "text", "Supplying organisation."),
        Field("user", "text", "Who ran the ingest."),
        Field("created_at", "datetime", "When the batch was committed (UTC).", nullable=False),
        Field("format", "text", "Detected or chosen input format/preset."),
        Field("rows_read", "int", "Data rows in the file.", nullable=False),
        Field("accepted", "int", "Rows stored.", nullable=False),
        Field("rejected", "int", "Rows rejected (stored in rejections).", nullable=False),
        Field("duplicates", "int", "Rows skipped as duplicates.", nullable=False),
        Field("outside_areas", "int", "Accepted rows outside every area."),
        Field("warnings", "text", "JSON object: warning code to count."),
        Field("rejections", "text", "JSON object: rejection reason to count."),
        Field("notes", "text", "JSON list of sentences: what the import did that the counts do not say."),
        # A withdrawn batch keeps this record as a tombstone; every row it wrote is deleted.
        Field("withdrawn_at", "datetime", "When an admin deleted the batch's rows (UTC); empty while live."),
        Field("withdrawn_by", "text", "The admin who deleted them."),
        Field("withdrawn_reason", "text", "Why, e.g. the CSO withdrew consent."),
    ),
)

REJECTIONS = Table(
    "rejections",
    "Rows that could not be accepted, with the original (redacted) content so they can be fixed.",
    (
        _batch_id,
        _row_number,
        Field("reason", "text", "Reason code.", nullable=False, isin=REJECTION_REASONS),
        Field("message", "text", "What is wrong and how to fix it.", nullable=False),
        _org,
        _raw,
    ),
    indexes=(("batch_id",),),
)

SOURCE_ROWS = Table(
    "source_rows",
    "Each accepted incident's row as the file gave it (after PII redaction), in compressed blocks "
    "(pipelines.store.source_rows).",
    (
        _batch_id,
        Field("block_rows", "int", "How many incidents the block holds.", nullable=False),
        Field("block_ids", "text", "Their incident ids, one per line; gzip, then base64.", nullable=False),
        Field(
            "block_csv",
            "text",
            "Their rows as CSV with the file's header, in the same order; gzip, then base64.",
            nullable=False,
        ),
    ),
    indexes=(("batch_id",),),
    copies="incidents",
)

INTERVENTION_LOG = Table(
    "intervention_log",
    "Dated status history of interventions, so the ACT can see progress over time.",
    (
        Field("intervention_id", "text", "The intervention.", nullable=False),
        Field("status", "text", "Status from this date on.", nullable=False, isin=INTERVENTION_STATUSES),
        Field("changed_at", "datetime", "When the status was recorded (UTC).", nullable=False),
        Field("note", "text", "Why it changed, what blocks it."),
        Field("user", "text", "Who recorded it."),
        _batch_id,
    ),
    indexes=(("intervention_id",),),
)

_neighbourhood_required = Field(
    "neighbourhood_code", "text", "Code of the Safe Neighbourhood the record belongs to.", nullable=False
)

USERS = Table(
    "users",
    "Local accounts. Passwords are stored as argon2 hashes only.",
    (
        Field("username", "text", "Login name.", nullable=False, unique=True),
        Field("role", "text", "What the account may see and do.", nullable=False, isin=USER_ROLES),
        Field("org", "text", "Organisation of a cso account (its rows and batches)."),
        Field("password_hash", "text", "argon2 hash; never the password."),
        Field("disabled", "bool", "A disabled account cannot log in.", nullable=False),
        Field("failed_logins", "int", "Failed logins since the last success (throttling)."),
        Field("last_failed_at", "datetime", "Time of the last failed login (UTC)."),
        Field("created_at", "datetime", "When the account was created (UTC).", nullable=False),
        Field("updated_at", "datetime", "When the account last changed (UTC)."),
    ),
    key="username",
)

LOGIN_FAILURES = Table(
    "login_failures",
    "Failed logins for names that have no account, counted as on an account (throttling); keyed by a "
    "salted hash of the typed name, never the text.",
    (
        Field(
            "name_key",
            "text",
            "HMAC-SHA256 of the typed name with the store's login salt.",
            nullable=False,
            unique=True,
        ),
        Field("failed_logins", "int", "Failed logins in a row."),
        Field("last_failed_at", "datetime", "Time of the last one (UTC)."),
    ),
    key="name_key",
)

SESSIONS = Table(
    "sessions",
    "Logged-in dashboard sessions (pipelines.auth). The browser holds the session token in an HttpOnly "
    "cookie; the store holds only its SHA-256 hash, and of the one-time login ticket likewise.",
    (
        Field(
            "session_id",
            "text",
            "Random id of the session (not a secret: it opens nothing).",
            nullable=False,
            unique=True,
        ),
        Field("token_hash", "text", "SHA-256 of the cookie's token; empty until the ticket is exchanged.", unique=True),
        Field("ticket_hash", "text", "SHA-256 of the one-time login ticket; empty once exchanged.", unique=True),
        Field("ticket_expires_at", "datetime", "When the ticket stops working (UTC)."),
        Field("username", "text", "The account.", nullable=False),
        Field("role", "text", "The account's role when the session began.", nullable=False, isin=USER_ROLES),
        Field("org", "text", "The account's organisation when the session began."),
        Field("via", "text", "How the user logged in.", nullable=False, isin=("password", "sso")),
        Field("created_at", "datetime", "When the session began (UTC).", nullable=False),
        Field("last_seen_at", "datetime", "The last page view (UTC).", nullable=False),
    ),
    key="session_id",
    indexes=(("username",),),
)

AUDIT_LOG = Table(
    "audit_log",
    "Who logged in, uploaded, edited, exported or viewed sensitive detail, and when. Append-only.",
    (
        Field("at", "datetime", "When it happened (UTC).", nullable=False),
        Field("user", "text", "Account name; empty for the public."),
        Field("role", "text", "Role at the time."),
        Field("event", "text", "What happened.", nullable=False, isin=AUDIT_EVENTS),
        Field("target", "text", "What it happened to (batch id, file, table, username, ...)."),
        Field("detail", "text", "JSON with the particulars."),
    ),
    indexes=(("at",),),
    append_only=True,
)

MEETINGS = Table(
    "meetings",
    "Area Coordinating Team meetings, one per neighbourhood and month.",
    (
        Field("meeting_id", "text", "Meeting identifier, e.g. KHA-HARARE-2025-06.", nullable=False, unique=True),
        _neighbourhood_required,
        Field("month", "text", "Meeting month, YYYY-MM.", nullable=False),
        Field("held_on", "date", "Date of the meeting."),
        Field("chair", "text", "Who chaired it."),
        Field("notes", "text", "Free-text minutes."),
    ),
    key="meeting_id",
    unique_together=(("neighbourhood_code", "month"),),
)

TERM_MAPPINGS = Table(
    "term_mappings",
    "Raw category terms mapped to a taxonomy category by an analyst or admin, oldest first; the latest "
    "row of a term is its mapping. Append-only.",
    (
        Field("term", "text", "The raw term, normalised (lower case, no accents or punctuation).", nullable=False),
        Field("raw_term", "text", "The raw term as it was mapped."),
        Field("category", "text", "Taxonomy category code it maps to.", nullable=False),
        Field("mapped_at", "datetime", "When it was mapped (UTC).", nullable=False),
        Field("mapped_by", "text", "Who mapped it."),
        Field("incidents", "int", "Stored incidents re-classified by the mapping."),
    ),
    indexes=(("term",),),
    append_only=True,
)

AREA_ALIASES = Table(
    "area_aliases",
    "Other names of areas (police station renames and merges, other spellings), so a file that uses one "
    "still matches; they add to the shipped list in data/area_aliases.yaml. The latest row of an alias "
    "wins. Append-only.",
    (
        Field("kind", "text", "Kind of area the alias names.", nullable=False, isin=AREA_KINDS),
        Field("alias", "text", "The other name, as typed.", nullable=False),
        Field("alias_key", "text", "The other name, normalised (no case, spacing or punctuation).", nullable=False),
        Field("area", "text", "The stored area it means: its current name or code.", nullable=False),
        Field("change", "text", "How the other name came about.", nullable=False, isin=ALIAS_CHANGES),
        Field("note", "text", "Why, e.g. the date of the rename or the source."),
        Field("added_at", "datetime", "When it was added (UTC).", nullable=False),
        Field("added_by", "text", "Who added it."),
    ),
    indexes=(("kind", "alias_key"),),
    append_only=True,
)

_action_fields = (
    Field("action_id", "text", "Action identifier.", nullable=False),
    _neighbourhood_required,
    Field("meeting_id", "text", "Meeting the action came from."),
    Field("decision", "text", "What was decided.", nullable=False),
    Field("owner_org", "text", "Owning department or organisation.", nullable=False),
    Field("owner_person", "text", "Person responsible."),
    Field("due", "date", "Due date."),
    Field("status", "text", "Action status.", nullable=False, isin=ACTION_STATUSES),
    Field("blocked_by", "text", "What blocks it (required when blocked)."),
    Field("unblocker", "text", "Who can unblock it (required when blocked)."),
    Field("financial_year", "text", "Financial year it is budgeted in, e.g. 2025/26."),
    Field("funding_sphere", "text", "Whose budget (sets the financial-year cycle).", isin=FUNDING_SPHERES),
    Field("intervention_id", "text", "Linked intervention."),
    Field("hotspot_cell", "text", "Linked hotspot cell (H3 index)."),
    Field("asset_id", "text", "Linked asset."),
    Field("updated_at", "datetime", "When this version was recorded (UTC).", nullable=False),
    Field("updated_by", "text", "Who recorded this version."),
)

ACTIONS = Table(
    "actions",
    "The ACT actions register: the current version of each action.",
    tuple(replace(f, unique=True) if f.name == "action_id" else f for f in _action_fields),
    indexes=(("neighbourhood_code", "status"),),
    key="action_id",
)

ACTION_LOG = Table(
    "action_log",
    "Every version of every action, oldest first: the register's full history. Append-only.",
    (*_action_fields, Field("note", "text", "Why it changed.")),
    indexes=(("action_id",),),
    append_only=True,
)

BOUNDARY_VERSIONS = Table(
    "boundary_versions",
    "Which demarcation each boundary file is (CCT wards 2021, 2026 ...): one row per boundary batch, so every "
    "figure on wards can say which version it used.",
    (
        _batch_id,
        Field("kind", "text", "Kind of area the file holds.", nullable=False, isin=AREA_KINDS),
        Field("version", "text", "The version in words, e.g. CCT wards 2021 demarcation.", nullable=False),
        Field("year", "int", "Year the demarcation took effect, when the file says."),
        Field("file_name", "text", "The file it was loaded from.", nullable=False),
        Field("sha256", "text", "SHA-256 of the file bytes.", nullable=False),
        Field("loaded_at", "datetime", "When it was loaded (UTC).", nullable=False),
        Field("loaded_by", "text", "Who loaded it."),
        Field("areas", "int", "Areas stored from it.", nullable=False),
    ),
    key="batch_id",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        AREAS,
        INCIDENTS,
        AREA_COUNTS,
        ASSETS,
        INTERVENTIONS,
        INTERVENTION_LOG,
        BATCHES,
        REJECTIONS,
        SOURCE_ROWS,
        USERS,
        LOGIN_FAILURES,
        SESSIONS,
        AUDIT_LOG,
        MEETINGS,
        ACTIONS,
        ACTION_LOG,
        TERM_MAPPINGS,
        AREA_ALIASES,
        BOUNDARY_VERSIONS,
    )
}


class Columns:
    """Every column name this module defines, as attributes: ``COLUMNS.neighbourhood_code`` is
    ``"neighbourhood_code"``.

    Built from the tables' fields (and :data:`GEOMETRY`, :data:`LON`, :data:`LAT`), so a name exists
    here exactly when a table stores it, and a misspelt one raises :class:`AttributeError` where it is
    written (at import, for a module-level use) instead of a ``KeyError`` or an empty frame later.
    Read-only; iterating gives the names in sorted order.
    """

    __slots__ = ("_names",)

    def __init__(self, names: Iterable[str]) -> None:
        object.__setattr__(self, "_names", frozenset(names))

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):  # copy, pickle and friends probing for hooks; no column starts so
            raise AttributeError(name)
        if name in self._names:
            return name
        close = difflib.get_close_matches(name, self._names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; add the field to its Table in pipelines/schemas.py"
        raise AttributeError(f"no stored column is called {name!r}{hint}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("COLUMNS is read-only: a column is added by adding its Field to a Table")

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __dir__(self) -> list[str]:
        return sorted(self._names)

    def __repr__(self) -> str:
        return f"Columns({len(self._names)} names)"

    def __reduce__(self) -> str:
        return "COLUMNS"  # pickled by reference to the one instance


#: Every stored column's name (and the geometry and point-coordinate columns), e.g.
#: ``frame[COLUMNS.neighbourhood_code]``: the one spelling of each column outside this module.
COLUMNS = Columns([*(name for table in TABLES.values() for name in table.columns), GEOMETRY, LON, LAT])
assert set(CODE_COLUMN.values()) <= set(COLUMNS)


@cache
def validator(table_name: str):
    """Build the pandera schema for ``table_name`` from its field definitions.

    Dtypes are not coerced: the schema checks presence, nullability, uniqueness and allowed values,
    which is what differs between a frame that is safe to store and one that is not.
    """
    import pandera.pandas as pa

    table = TABLES[table_name]
    columns = {}
    for f in table.fields:
        checks = [pa.Check.isin(list(f.isin))] if f.isin else []
        columns[f.name] = pa.Column(nullable=f.nullable, unique=f.unique, checks=checks, required=True)
    return pa.DataFrameSchema(columns, strict=False, name=table_name)


def empty_frame(table_name: str) -> pd.DataFrame:
    """A zero-row frame with the table's columns (no geometry)."""
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in TABLES[table_name].columns})


def has_coordinates(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` carries its points as :data:`LON`/:data:`LAT` columns, not a geometry."""
    return LON in frame.columns and LAT in frame.columns and GEOMETRY not in frame.columns


def as_geoframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """``frame`` as a GeoDataFrame in :data:`STORE_CRS`: point columns (:func:`has_coordinates`)
    become a point geometry (missing where a coordinate is); a GeoDataFrame is returned as it is."""
    if not has_coordinates(frame):
        return frame
    points = points_from_xy(frame[LON].to_numpy(dtype=float), frame[LAT].to_numpy(dtype=float))
    return gpd.GeoDataFrame(frame.drop(columns=[LON, LAT]), geometry=points, crs=STORE_CRS)


def points_from_xy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Shapely points of ``(x, y)``; ``None`` where a coordinate is NaN."""
    points = np.full(len(x), None, dtype=object)
    present = ~(np.isnan(x) | np.isnan(y))
    points[present] = shapely.points(x[present], y[present])
    return points
