"""Row-level validation and normalisation of incident rows.

Place in the data flow: ``read -> validate + normalise -> place -> store``. :func:`validate_incidents`
takes a raw frame and its column mapping and decides, for every input row, one of three outcomes:

- **accepted** (possibly with warnings: ``unknown_category``, ``redacted_pii``, ``missing_date``,
  ``ambiguous_date_order``, ``identical_row``),
- **rejected** with a reason code (``missing_location``, ``invalid_coordinates``, ``invalid_date``,
  ``future_date``, ``malformed_row``) and a message that says how to fix the row,
- **duplicate** (``repeated_in_file``; ``already_stored`` is decided by the store at commit).

Rows without a record id that are identical to an earlier row are the same report sent twice, or, in
some exports (police.uk stop-and-search: people searched together), separate events. With
``keep_identical_rows`` they are kept, each with its own dedupe key (the copy's number in the file, so
the same file uploaded again still adds nothing), and flagged ``identical_row``; without it they are
duplicates flagged ``identical_row_dropped``. Either way the batch counts them.

``rows_read == accepted + rejected + duplicates`` holds by construction: :class:`Validated` keeps
one status per input row. Personal columns are dropped and every kept column (free text, record id,
date, category, coordinates) is redacted (:mod:`pipelines.pii`) before the ``raw`` JSON copy, the
external id, the dedupe key or a rejection message is made from it, so nothing personal reaches the
store, rejected rows included.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from pipelines import schemas, settings
from pipelines.areanames import AreaMatcher
from pipelines.dates import DateFormat, ambiguous_dates, parse_dates, resolve_date_format
from pipelines.errors import MappingError
from pipelines.ingest.rejections import rejection_rows, unsplit_row
from pipelines.pii import redact_frame
from pipelines.place import AreaIndex, lands_in_areas
from pipelines.schemas import COLUMNS
from pipelines.sources.mapping import ColumnMapping
from pipelines.sources.tabular import ROW_NUMBER, RawTable
from pipelines.taxonomy import Taxonomy, sensitive_wording, sensitive_wording_mask

ACCEPTED, REJECTED, DUPLICATE = "accepted", "rejected", "duplicate"
# Values are stripped first; no \s here, so pandas keeps the (much faster) Arrow regex engine.
_NUMBER = r"^[+-]?\d+([.,]\d+)?$"


#: One bit per warning code, so per-row warnings are set and counted with array operations.
WARNING_BITS = {code: np.uint16(1 << i) for i, code in enumerate(schemas.WARNING_CODES)}


def warning_lists(flags: np.ndarray) -> list[list[str]]:
    """The warning codes of each row, from its bits (in ``WARNING_CODES`` order)."""
    flags = np.asarray(flags, dtype=np.uint16)
    by_value = {int(v): [c for c, bit in WARNING_BITS.items() if v & bit] for v in np.unique(flags)}
    return [list(by_value[v]) for v in flags.tolist()]


def count_warnings(flags: np.ndarray) -> dict[str, int]:
    """Rows carrying each warning code (codes no row carries are left out)."""
    flags = np.asarray(flags, dtype=np.uint16)
    counts = {code: int(np.count_nonzero(flags & bit)) for code, bit in WARNING_BITS.items()}
    return dict(sorted((code, n) for code, n in counts.items() if n))


@dataclass
class Validated:
    """The outcome of validating one file.

    Attributes
    ----------
    incidents
        Accepted candidates with the ``incidents`` columns (area codes empty until the place step)
        and each point as :data:`schemas.LON`/:data:`schemas.LAT` columns (EPSG:4326), not as a
        geometry: :func:`schemas.as_geoframe` makes one.
    rejections
        Rejected rows with the ``rejections`` columns (``batch_id`` filled at commit).
    outcomes
        One row per input row: ``row_number``, ``status``, ``reason``, ``message`` and ``flags``
        (the row's warnings as bits of :data:`WARNING_BITS`); :attr:`rows` spells the warnings out.
    notes
        Sentences about the file as a whole (how it was read).
    closest_areas
        Area values that matched no stored area exactly and were read as the closest stored name:
        value -> (that name, rows); :func:`closest_area_notes` says them in words.
    """

    incidents: pd.DataFrame
    rejections: pd.DataFrame
    outcomes: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: Area names read as the closest stored name (:func:`_place_by_area`): value -> (stored name, rows).
    closest_areas: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Each accepted row as the file gave it, after PII redaction and without the personal columns:
    #: the file's columns, indexed by incident id (what the store keeps: :meth:`Store.read_source_rows`).
    source_rows: pd.DataFrame | None = None

    @property
    def rows(self) -> pd.DataFrame:
        """One row per input row: ``row_number``, ``status``, ``reason``, ``message``, ``warnings``."""
        rows = self.outcomes.drop(columns="flags")
        rows[COLUMNS.warnings] = warning_lists(self.outcomes["flags"].to_numpy())
        return rows

    @property
    def rows_read(self) -> int:
        return len(self.outcomes)

    def counts(self) -> dict[str, int]:
        status = self.outcomes[COLUMNS.status]
        return status.value_counts().reindex([ACCEPTED, REJECTED, DUPLICATE], fill_value=0).to_dict()

    def warning_counts(self) -> dict[str, int]:
        return count_warnings(self.outcomes["flags"].to_numpy())

    def rejection_counts(self) -> dict[str, int]:
        outcomes = self.outcomes
        return outcomes.loc[outcomes[COLUMNS.status] == REJECTED, COLUMNS.reason].value_counts().sort_index().to_dict()


#: Values that mean "no value" in survey and spreadsheet exports (Kobo writes n/a, the DBE lists ".").
NULL_MARKERS = ("", ".", "-", "n/a", "na", "null", "none", "nan", "#n/a")


def _text(frame: pd.DataFrame, column: str | None, *, nulls: bool = False) -> pd.Series:
    if column is None:
        return pd.Series("", index=frame.index, dtype="string[pyarrow]")
    text = frame[column].astype("string[pyarrow]").fillna("").str.strip()
    if nulls:
        text = text.where(~text.str.lower().isin(NULL_MARKERS), "")
    return text


_PLAIN_NUMBER = r"^-?\d+(\.\d+)?$"


def to_float(values: pd.Series) -> pd.Series:
    """Numbers as delivered, tolerating decimal commas from South African Excel.

    Plain decimals (nearly every value) are converted by Arrow's parser; anything else goes through
    ``pd.to_numeric`` (NaN where it is not a number)."""
    cleaned = (
        values.astype("string[pyarrow]").str.replace(",", ".", regex=False).str.replace("\u2212", "-", regex=False)
    )
    plain = cleaned.str.match(_PLAIN_NUMBER).fillna(False).to_numpy(dtype=bool)
    numbers = pa.array(cleaned.where(plain)).cast(pa.float64()).to_numpy(zero_copy_only=False)
    rest = ~plain & cleaned.notna().to_numpy(dtype=bool)
    if rest.any():
        numbers[rest] = pd.to_numeric(cleaned[rest].astype(object), errors="coerce").astype("float64").to_numpy()
    return pd.Series(numbers, index=values.index, dtype="float64")


def split_geopoint(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``"lat lon alt acc"`` (Kobo/ODK geopoint), ``"[lat, lon]"`` or ``"(lat, lon)"`` to two columns."""
    parts = values.str.replace(r"[\[\]()]", " ", regex=True).str.strip().str.split(r"[\s,;]+", regex=True)
    lat = parts.str.get(0).fillna("")
    lon = parts.str.get(1).fillna("")
    return to_float(lat.astype("string[pyarrow]")), to_float(lon.astype("string[pyarrow]"))


def _coordinates(frame: pd.DataFrame, mapping: ColumnMapping) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Latitude, longitude (EPSG:4326), a "location given" flag and a "values are numbers" flag."""
    if mapping.lat and mapping.lon:
        lat_text, lon_text = _text(frame, mapping.lat, nulls=True), _text(frame, mapping.lon, nulls=True)
        given = lat_text.ne("") | lon_text.ne("")
        numeric = lat_text.str.match(_NUMBER) & lon_text.str.match(_NUMBER)
        return to_float(lat_text), to_float(lon_text), given, numeric
    if mapping.geopoint:
        text = _text(frame, mapping.geopoint, nulls=True)
        given = text.ne("")
        lat, lon = split_geopoint(text)
        return lat, lon, given, lat.notna() & lon.notna()
    if mapping.x and mapping.y:
        if not mapping.crs:
            raise MappingError("x/y columns need their CRS: pass --crs EPSG:XXXX (or 'crs:' in the mapping file)")
        try:
            transformer = Transformer.from_crs(CRS.from_user_input(mapping.crs), "EPSG:4326", always_xy=True)
        except CRSError as exc:
            raise MappingError(f"--crs {mapping.crs!r} is not a CRS pyproj knows ({exc}); use e.g. EPSG:32734") from exc
        x_text, y_text = _text(frame, mapping.x, nulls=True), _text(frame, mapping.y, nulls=True)
        given = x_text.ne("") | y_text.ne("")
        numeric = x_text.str.match(_NUMBER) & y_text.str.match(_NUMBER)
        lon, lat = transformer.transform(to_float(x_text).to_numpy(), to_float(y_text).to_numpy())
        return pd.Series(lat, index=frame.index), pd.Series(lon, index=frame.index), given, numeric
    if mapping.area:  # rows are placed by the area they name; no point to read
        nothing = pd.Series(np.nan, index=frame.index, dtype="float64")
        no = pd.Series(False, index=frame.index)
        return nothing, nothing.copy(), no, no.copy()
    raise MappingError("no location columns mapped")


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_LARGE = pa.large_string()


def _needs_escape(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any value holds a control character, a quote or a backslash: byte comparisons on the
    text buffer (~25x faster than a regex match per value; UTF-8 never uses these bytes inside a
    multi-byte character)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        if not len(chunk) or chunk.buffers()[2] is None:
            continue
        offsets = np.frombuffer(
            chunk.buffers()[1], dtype=np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        )
        text = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        text = text[offsets[chunk.offset] : offsets[chunk.offset + len(chunk)]]
        if (text < 0x20).any() or (text == ord('"')).any() or (text == ord("\\")).any():
            return True
    return False


def _json_escape(values: pa.Array) -> pa.Array:
    for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        values = pc.replace_substring(values, old, new)
    return values


def _raw_json(frame: pd.DataFrame) -> pa.Array:
    """Each row as a JSON object of its (text) values, built column-wise in Arrow: ~10x faster than
    ``DataFrame.to_json`` on a million rows. Columns with nothing to escape (dates, numbers, ids)
    skip the escaping passes; rows with rare control characters go through ``json``."""
    if frame.shape[1] == 0 or not len(frame):
        return pa.array(["{}"] * len(frame), _LARGE)
    parts: list = []
    columns = [pa.array(frame[c].astype("string[pyarrow]").fillna("")).cast(_LARGE) for c in frame.columns]
    odd = np.zeros(len(frame), bool)
    for i, (name, values) in enumerate(zip(frame.columns, columns, strict=True)):
        prefix = ("{" if i == 0 else ",") + json.dumps(str(name), ensure_ascii=False) + ':"'
        if _needs_escape(values):
            odd |= pc.match_substring_regex(values, _CONTROL).to_numpy(zero_copy_only=False)
            values = _json_escape(values)
        parts += [pa.scalar(prefix, _LARGE), values, pa.scalar('"', _LARGE)]
    parts.append(pa.scalar("}", _LARGE))
    lines = pc.binary_join_element_wise(*parts, pa.scalar("", _LARGE))
    if not odd.any():
        return lines
    fixed = lines.to_pylist()
    for i in np.flatnonzero(odd):
        fixed[i] = json.dumps(
            {str(c): v[i].as_py() for c, v in zip(frame.columns, columns, strict=True)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
    return pa.array(fixed, _LARGE)


def _hash(lines: list[str]) -> list[str]:
    return [hashlib.blake2b(line.encode("utf-8"), digest_size=12).hexdigest() for line in lines]


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _key_hashes(keys: np.ndarray) -> np.ndarray:
    """SipHash of each key (an object array of strings): the same values as pandas'
    ``hash_pandas_object`` of the keys as text, ~2x faster than hashing an Arrow text column."""
    return pd.util.hash_array(keys, categorize=False)


def _short_ids(hashed: np.ndarray) -> pd.Series:
    """A 16-hex-digit id per key hash (:func:`_key_hashes`), formatted without a Python loop."""
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    text = _HEX_DIGITS[(hashed[:, None] >> shifts) & np.uint64(0xF)]
    offsets = np.arange(0, 16 * len(hashed) + 1, 16, dtype=np.int64)
    ids = pa.LargeStringArray.from_buffers(len(hashed), pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))
    return _arrow_text(ids)


def _arrow_text(values: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas text column, without making Python strings."""
    return pd.Series(pd.arrays.ArrowStringArray(values))


def _take_text(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """Rows ``positions`` of a text column, Arrow-backed; empty text becomes missing."""
    taken = values.astype("string[pyarrow]").iloc[positions].reset_index(drop=True)
    return taken.mask(taken.eq(""))


@dataclass
class _Outcomes:
    """Each input row's status, reason, message and warning bits, filled in as the checks run."""

    status: np.ndarray
    reason: np.ndarray
    message: np.ndarray
    flags: np.ndarray

    @classmethod
    def all_accepted(cls, n: int) -> _Outcomes:
        """``n`` rows, every one accepted with no warning until a check says otherwise."""
        return cls(
            np.full(n, ACCEPTED, dtype=object),
            np.full(n, None, dtype=object),
            np.full(n, None, dtype=object),
            np.zeros(n, dtype=np.uint16),
        )

    def reject(self, mask: np.ndarray, code: str, build_message) -> None:
        """Reject the still-accepted rows of ``mask`` as ``code``, each with ``build_message(row)``."""
        mask = mask & (self.status == ACCEPTED)
        if not mask.any():
            return
        self.status[mask] = REJECTED
        self.reason[mask] = code
        for i in np.flatnonzero(mask):
            self.message[i] = build_message(i)

    def warn(self, mask: np.ndarray, code: str) -> None:
        """Flag the still-accepted rows of ``mask`` with the warning ``code``."""
        self.flags[mask & (self.status == ACCEPTED)] |= WARNING_BITS[code]


def validate_incidents(
    raw: RawTable,
    mapping: ColumnMapping,
    *,
    source: str,
    org: str | None,
    taxonomy: Taxonomy,
    now: dt.datetime | None = None,
    seen: set[str] | None = None,
    date_format: str | DateFormat = "auto",
    keep_identical_rows: bool = False,
    areas: AreaMatcher | None = None,
    index: AreaIndex | None = None,
    snap_m: float | None = None,
) -> Validated:
    """Validate and normalise every row of ``raw`` (see the module docstring for the outcomes).

    ``seen`` carries the dedupe keys of earlier parts of the same file when a file is validated in
    chunks: a row whose key is in it is ``repeated_in_file``; this part's keys are added to it.
    ``date_format`` is how the date column is read (:func:`pipelines.dates.parse_dates`); a file
    validated in chunks passes the :class:`DateFormat` resolved for the whole file, so every chunk
    reads the same order. ``keep_identical_rows`` keeps rows without an id that repeat an earlier row
    as separate events (module docstring).

    ``areas`` are the stored areas of the kind the mapping's ``area`` column names: a row with no
    usable point but an area is placed there, with no point (``placed_by_area``), or rejected as
    ``unknown_area``. ``index`` holds the stored areas: with areas loaded, a latitude beyond 90 whose
    swapped point lands in none of them (nor within ``snap_m`` metres) is rejected, not swapped.
    """
    if source not in schemas.SOURCES:
        raise MappingError(f"source must be one of {', '.join(schemas.SOURCES)}; got {source!r}")
    now = _as_utc(pd.Timestamp(now or dt.datetime.now(dt.UTC)))
    frame = raw.frame
    row_number = frame[ROW_NUMBER].to_numpy(dtype=np.int64)
    kept = [c for c in frame.columns if c != ROW_NUMBER and c not in set(mapping.personal)]
    # Values are parsed from ``frame``; whatever is stored or shown comes from ``redacted``.
    redacted, redacted_flag = redact_frame(frame[kept], kept)
    n = len(frame)
    outcomes = _Outcomes.all_accepted(n)

    # 1. Duplicates within the file: the same external id, or the same row content, seen earlier.
    external_id, has_id, dedupe = _dedupe_keys(frame, redacted, redacted_flag, mapping, prefix=f"{source}|{org or ''}|")
    key_hashes = _mark_repeats(outcomes, dedupe, has_id, seen=seen, keep_identical_rows=keep_identical_rows)
    # 2. Location: a point, or else the area the row names.
    lat_v, lon_v, area_codes, closest_areas = _check_location(
        outcomes, frame, redacted, mapping, areas=areas, index=index, snap_m=snap_m
    )
    # 3. Date, falling back to the submission time when the incident date is empty (or "n/a").
    occurred = _check_dates(outcomes, frame, redacted, mapping, date_format=date_format, now=now, row_number=row_number)
    # 4. Category through the taxonomy (unknown terms become 'other', sensitive, with a warning).
    category, sensitive = _map_categories(outcomes, frame, mapping, taxonomy)
    outcomes.flags[redacted_flag.to_numpy(dtype=bool) & (outcomes.status != DUPLICATE)] |= WARNING_BITS["redacted_pii"]

    description = redacted[mapping.description] if mapping.description in redacted.columns else None
    if description is not None:
        # the text as stored (after PII redaction), so a later re-classification reads the same words
        sensitive |= sensitive_wording_mask(description)
    accepted = outcomes.status == ACCEPTED
    idx = np.flatnonzero(accepted)
    incidents = pd.DataFrame(
        {
            COLUMNS.incident_id: _short_ids(key_hashes[idx]),
            COLUMNS.source: source,
            COLUMNS.org: org,
            COLUMNS.batch_id: None,
            COLUMNS.external_id: _take_text(external_id, idx),
            COLUMNS.occurred_at: occurred.iloc[idx].reset_index(drop=True),
            COLUMNS.category: _take_text(category, idx),
            COLUMNS.raw_category: _take_text(_text(redacted, mapping.category), idx),
            COLUMNS.description: None if description is None else _take_text(description, idx),
            COLUMNS.sensitive: sensitive.iloc[idx].to_numpy(dtype=bool),
            COLUMNS.precinct_code: _area_column(area_codes, areas, "precinct", idx),
            COLUMNS.neighbourhood_code: _area_column(area_codes, areas, "neighbourhood", idx),
            COLUMNS.raw: None,  # the row as the file gave it travels in source_rows
            COLUMNS.dedupe_key: dedupe.iloc[idx].reset_index(drop=True),
            COLUMNS.row_number: row_number[idx],
            schemas.LON: lon_v[idx],
            schemas.LAT: lat_v[idx],
        }
    )
    incidents[COLUMNS.occurred_at] = pd.to_datetime(incidents[COLUMNS.occurred_at], utc=True)

    rejected_idx = np.flatnonzero(outcomes.status == REJECTED)
    rejections = rejection_rows(
        row_number[rejected_idx],
        outcomes.reason[rejected_idx],
        outcomes.message[rejected_idx],
        org=org,
        raw=_raw_json(redacted.iloc[rejected_idx]),
    )
    rows = pd.DataFrame(
        {
            COLUMNS.row_number: row_number,
            COLUMNS.status: outcomes.status,
            COLUMNS.reason: outcomes.reason,
            COLUMNS.message: outcomes.message,
            "flags": outcomes.flags,
        }
    )
    # indexed by incident id: a file may have a column of any name, incident_id too
    ids = pd.Index(incidents[COLUMNS.incident_id].to_numpy(dtype=object), name=COLUMNS.incident_id)
    originals = redacted.iloc[idx].set_axis(ids)
    validated = Validated(
        incidents, rejections, rows, notes=list(raw.notes), closest_areas=closest_areas, source_rows=originals
    )
    return _with_malformed(validated, raw, org, personal=mapping.personal)


def _as_utc(now: pd.Timestamp) -> pd.Timestamp:
    """``now`` in UTC; a time without a zone is read as UTC."""
    return now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")


def _dedupe_keys(
    frame: pd.DataFrame,
    redacted: pd.DataFrame,
    redacted_flag: pd.Series,
    mapping: ColumnMapping,
    *,
    prefix: str,
) -> tuple[pd.Series, np.ndarray, pd.Series]:
    """Each row's external id, whether it has a usable one, and its dedupe key.

    Rows without an id, or whose id held personal data, are keyed by a hash of their (redacted)
    content: still the same key when the same file comes again, and no personal data in it.
    """
    external_id = _text(redacted, mapping.id)
    has_id = external_id.ne("").to_numpy(dtype=bool)
    if mapping.id is not None and redacted_flag.any():
        has_id &= external_id.eq(_text(frame, mapping.id)).to_numpy(dtype=bool)
    dedupe = (prefix + "id:" + external_id).reset_index(drop=True)
    no_id = np.flatnonzero(~has_id)
    if len(no_id):
        hashes = _hash(_raw_json(redacted.iloc[no_id]).to_pylist())
        dedupe.iloc[no_id] = [prefix + "row:" + h for h in hashes]
    return external_id, has_id, dedupe


def _repeated_keys(dedupe_key: np.ndarray, key_hashes: np.ndarray, seen: set[str] | None) -> np.ndarray:
    """Which keys appeared earlier in this part, or in an earlier part (``seen``)."""
    # Equal keys have equal hashes, so no repeated hash means no repeated key (the usual case, and
    # cheaper to find out than with strings); otherwise the strings decide, so a hash collision changes nothing.
    repeated = pd.Series(key_hashes).duplicated().to_numpy(dtype=bool, copy=True)
    if repeated.any():
        repeated = pd.Series(dedupe_key, dtype=object).duplicated().to_numpy(dtype=bool, copy=True)
    keys = dedupe_key.tolist()
    if seen is not None and not seen.isdisjoint(keys):
        # a C loop (100k keys: 0.01 s); the usual answer spares the per-row one
        repeated |= np.fromiter((key in seen for key in keys), bool, len(keys))
    return repeated


def _mark_repeats(
    outcomes: _Outcomes,
    dedupe: pd.Series,
    has_id: np.ndarray,
    *,
    seen: set[str] | None,
    keep_identical_rows: bool,
) -> np.ndarray:
    """Mark rows repeated in the file as duplicates (step 1), numbering kept identical rows'
    ``dedupe`` keys in place; returns the hash of each row's final key."""
    dedupe_key = dedupe.to_numpy(dtype=object)  # Python strings, for the set of keys seen so far
    key_hashes = _key_hashes(dedupe_key)
    repeated = _repeated_keys(dedupe_key, key_hashes, seen)
    identical = repeated & ~has_id
    if keep_identical_rows and identical.any():
        _number_copies(dedupe, identical, taken=set(dedupe_key.tolist()) | (seen or set()))
        dedupe_key = dedupe.to_numpy(dtype=object)
        key_hashes = _key_hashes(dedupe_key)
        repeated &= ~identical
        outcomes.flags[identical] |= WARNING_BITS["identical_row"]
    else:
        outcomes.flags[identical] |= WARNING_BITS["identical_row_dropped"]
    if seen is not None:
        seen.update(dedupe_key.tolist())
    outcomes.status[repeated] = DUPLICATE
    outcomes.reason[repeated] = "repeated_in_file"
    outcomes.message[repeated] = "The same record appears earlier in this file; only the first copy is kept."
    outcomes.message[identical & repeated] = (
        "This row is identical to an earlier row of the file and has no record id, so it was dropped as a copy. "
        "If identical rows are separate events (people searched together, say), upload the file again keeping "
        "identical rows."
    )
    return key_hashes


def _unswap(
    lat_v: np.ndarray, lon_v: np.ndarray, index: AreaIndex | None, snap_m: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latitudes and longitudes with swapped pairs put right, which rows were swapped, and which of
    those land in no stored area (nor within ``snap_m`` metres of one) read either way round.

    A latitude beyond +-90 with a longitude that would be a valid latitude reads as swapped; with areas
    loaded, only if the swapped point lands in (or within the snap distance of) one of them.
    """
    swap_now = (np.abs(lat_v) > 90) & (np.abs(lat_v) <= 180) & (np.abs(lon_v) <= 90)
    lat_v, lon_v = np.where(swap_now, lon_v, lat_v), np.where(swap_now, lat_v, lon_v)
    bad_swap = np.zeros(len(lat_v), bool)
    if index is not None and swap_now.any():
        rows = np.flatnonzero(swap_now)
        bad_swap[rows] = ~lands_in_areas(lon_v[rows], lat_v[rows], index, snap_m=snap_m)
    return lat_v, lon_v, swap_now, bad_swap


def _check_location(
    outcomes: _Outcomes,
    frame: pd.DataFrame,
    redacted: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    areas: AreaMatcher | None,
    index: AreaIndex | None,
    snap_m: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, tuple[str, int]]]:
    """Step 2: reject rows with no usable point and no area to place them by; return each row's
    latitude and longitude (missing where placed by area), area code and the closest-name reads."""
    lat, lon, given, numeric = _coordinates(frame, mapping)
    given_v, numeric_v = given.to_numpy(dtype=bool), numeric.to_numpy(dtype=bool)
    # The text of a row's location is only needed to explain a rejection: made on first use.
    location_text = functools.cache(lambda: _location_text(redacted, mapping))
    lat_v, lon_v, swap_now, bad_swap = _unswap(lat.to_numpy(dtype=float), lon.to_numpy(dtype=float), index, snap_m)
    zero = (np.abs(lat_v) < 1e-9) & (np.abs(lon_v) < 1e-9)
    out_of_range = ~((np.abs(lat_v) <= 90) & (np.abs(lon_v) <= 180)) | np.isnan(lat_v) | np.isnan(lon_v)
    area_text = _text(frame, mapping.area, nulls=True)
    no_point = ~given_v | ~numeric_v | bad_swap | zero | out_of_range
    by_area = no_point & area_text.ne("").to_numpy(dtype=bool)
    empty = "the GPS/latitude/longitude fields" + (f" and the area column {mapping.area!r}" if mapping.area else "")
    reject = outcomes.reject
    reject(
        ~given_v & ~by_area,
        "missing_location",
        lambda i: f"No location: {empty} are empty. Add the point (or the area) and upload the row again.",
    )
    reject(
        ~numeric_v & ~by_area,
        "invalid_coordinates",
        lambda i: (
            f"Location {location_text()[i]!r} is not a pair of numbers; use decimal degrees such as -34.05, 18.65."
        ),
    )
    reject(
        bad_swap & ~by_area,
        "invalid_coordinates",
        lambda i: (
            f"Location {location_text()[i]!r} has a latitude beyond 90, and read the other way round it is "
            "still outside every stored area, so it is not simply swapped; check both numbers and upload the "
            "row again."
        ),
    )
    outcomes.warn(swap_now & ~bad_swap & ~by_area, "swapped_coordinates")
    reject(
        zero & ~by_area,
        "invalid_coordinates",
        lambda i: "Location 0, 0 is a GPS placeholder, not a real place; record the point again and re-upload.",
    )
    reject(
        out_of_range & ~by_area,
        "invalid_coordinates",
        lambda i: (
            f"Location {location_text()[i]!r} is out of range (latitude must be -90..90, longitude "
            "-180..180); check for a missing decimal point or swapped columns."
        ),
    )
    lat_v[by_area], lon_v[by_area] = np.nan, np.nan
    area_codes, closest_areas = _place_by_area(
        by_area & (outcomes.status == ACCEPTED), area_text, _text(redacted, mapping.area), areas, reject
    )
    outcomes.warn(pd.notna(area_codes), "placed_by_area")
    return lat_v, lon_v, area_codes, closest_areas


def _fall_back_dates(
    outcomes: _Outcomes,
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    occurred: pd.Series,
    date_missing: pd.Series,
    *,
    now: pd.Timestamp,
) -> tuple[pd.Series, pd.Series]:
    """Fill the rows with no incident date from the mapping's fallback (submission time) column,
    flagged ``missing_date``; returns the dates and which rows still have none."""
    rows_missing = date_missing[date_missing].index
    # Kobo's _submission_time is the server's UTC clock written without a zone.
    zone = "UTC" if mapping.fallback_date.rsplit("/", 1)[-1].lower() == "_submission_time" else None
    # Submission times are ISO; any other form of them is read day first, never refused.
    fallback_text = _text(frame, mapping.fallback_date).loc[rows_missing]
    fallback, _ = parse_dates(fallback_text, timezone=zone, date_format=DateFormat("dmy"), now=now)
    use_fallback = pd.Series(False, index=frame.index)
    use_fallback.loc[rows_missing] = fallback.notna().to_numpy()
    occurred = occurred.copy()
    occurred.loc[use_fallback] = fallback[fallback.notna()].to_numpy()
    date_missing = date_missing & ~use_fallback
    outcomes.warn(use_fallback.to_numpy(dtype=bool), "missing_date")
    return occurred, date_missing


def _date_advice(fmt: DateFormat) -> tuple[str, str, str]:
    """What a date that cannot be read does wrong, what to do about it, and the order dates are read in."""
    if fmt.pattern:
        expected = f"does not fit the date format {fmt.pattern!r} chosen for this file"
        advice = "fix the row, or choose the date format that fits the file"
        order = f"the file's dates are read with {fmt.describe()}"
    else:
        expected = "is not a date AreaSafe can read"
        advice = f"this file's dates are read {fmt.describe()}; write it that way or as yyyy-mm-dd"
        order = f"this file's dates are read {fmt.describe()}"
    return expected, advice, order


def _check_dates(
    outcomes: _Outcomes,
    frame: pd.DataFrame,
    redacted: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    date_format: str | DateFormat,
    now: pd.Timestamp,
    row_number: np.ndarray,
) -> pd.Series:
    """Step 3: each row's date, falling back to the submission time when the incident date is empty
    (or "n/a"); unreadable, too early and future dates are rejected."""
    date_text = _text(frame, mapping.date)
    fmt = resolve_date_format(date_text, date_format, row_numbers=row_number, column=mapping.date)
    occurred, date_missing = parse_dates(date_text, date_format=fmt, now=now)
    unread = np.flatnonzero(occurred.isna().to_numpy() & ~date_missing.to_numpy())
    if len(unread):  # "n/a" and the like are no date, not a bad one (looked for only where no date was read)
        date_missing.iloc[unread] = date_text.iloc[unread].str.lower().isin(NULL_MARKERS).to_numpy()
    if mapping.fallback_date and date_missing.any():
        occurred, date_missing = _fall_back_dates(outcomes, frame, mapping, occurred, date_missing, now=now)
    date_missing_v = date_missing.to_numpy(dtype=bool)
    outcomes.warn(date_missing_v, "missing_date")
    # The text of a row's date is only needed to explain a rejection: made on first use.
    date_values = functools.cache(lambda: _text(redacted, mapping.date).to_numpy(dtype=object))
    earliest = pd.Timestamp(settings.SETTINGS.earliest_date, tz="UTC")
    invalid_date = (~date_missing_v & occurred.isna().to_numpy()) | (occurred < earliest).fillna(False).to_numpy()
    expected, advice, order = _date_advice(fmt)
    outcomes.reject(
        invalid_date,
        "invalid_date",
        lambda i: f"Date {date_values()[i]!r} {expected} (or is before {settings.SETTINGS.earliest_date}); {advice}.",
    )
    latest = now + pd.Timedelta(hours=settings.SETTINGS.future_tolerance_hours)
    future = (occurred > latest).fillna(False).to_numpy(dtype=bool)
    outcomes.reject(
        future,
        "future_date",
        lambda i: f"Date {date_values()[i]!r} is in the future; check the year, and the order: {order}.",
    )
    if fmt.guessed:  # every date in the file reads both ways: say which rows the day-first guess decided
        outcomes.warn(ambiguous_dates(date_text), "ambiguous_date_order")
    return occurred


def _map_categories(
    outcomes: _Outcomes, frame: pd.DataFrame, mapping: ColumnMapping, taxonomy: Taxonomy
) -> tuple[pd.Series, pd.Series]:
    """Step 4: each row's category and sensitivity through the taxonomy and the mapping's overrides;
    unknown terms become 'other', sensitive, flagged ``unknown_category``.

    Sensitivity fails closed: wording that names a sensitive offence, in the raw category or the
    description, makes the row sensitive whatever category it maps to (an override cannot undo it).
    """
    raw_category = _text(frame, mapping.category)
    overrides = {k.strip().lower(): v for k, v in mapping.category_overrides.items()}
    category, sensitive, unknown = taxonomy.map_series(raw_category)
    if overrides:
        lowered = raw_category.str.lower()
        for term, code in overrides.items():
            hit = lowered.eq(term).to_numpy(dtype=bool)
            category[hit] = code
            sensitive[hit] = code in taxonomy.sensitive_codes or sensitive_wording(term) is not None
            unknown[hit] = False
    outcomes.warn(unknown.to_numpy(dtype=bool), "unknown_category")
    return category, sensitive


def _number_copies(dedupe: pd.Series, copies: np.ndarray, *, taken: set[str]) -> None:
    """Give each of the ``copies`` (rows identical to an earlier one) its own dedupe key, in place.

    The n-th copy of a row gets the row's key with ``#n``: the same keys each time the same file comes,
    so uploading it again still finds every row already stored.
    """
    for i in np.flatnonzero(copies):
        base, n = dedupe.iat[i], 2
        while f"{base}#{n}" in taken:
            n += 1
        dedupe.iat[i] = f"{base}#{n}"
        taken.add(dedupe.iat[i])


def _place_by_area(
    rows: np.ndarray, values: pd.Series, shown: pd.Series, areas: AreaMatcher | None, reject
) -> tuple[np.ndarray, dict[str, tuple[str, int]]]:
    """The code of the stored area each of ``rows`` names (by code, name or closest name), and the
    values read as a closest name; a row whose area matches nothing is rejected as ``unknown_area``
    with the three closest names (``shown`` is the redacted text, for messages)."""
    codes = np.full(len(values), None, dtype=object)
    positions = np.flatnonzero(rows)
    if not len(positions):
        return codes, {}
    kind = areas.kind if areas is not None else "area"
    wanted = values.to_numpy(dtype=object)[positions]
    matches = {} if areas is None else {v: areas.place(v) for v in pd.unique(wanted)}
    unknown = np.zeros(len(values), bool)
    closest: dict[str, tuple[str, int]] = {}
    for position, value in zip(positions.tolist(), wanted.tolist(), strict=True):
        match = matches.get(value)
        if match is None or match.code is None:
            unknown[position] = True
            continue
        codes[position] = match.code
        if match.how == "closest":
            name, count = closest.get(value, (match.name, 0))
            closest[value] = (name, count + 1)
    shown_values = shown.to_numpy(dtype=object)

    def message(i: int) -> str:
        value, match = shown_values[i], matches.get(values.iloc[i])
        if match is not None and match.other_kind:
            return (
                f"Area {value!r} is a stored {match.other_kind}, not a {kind}: upload the file again with the "
                f"area kind {match.other_kind} (--area-kind {match.other_kind})."
            )
        if match is None or areas is None or areas.empty:
            return (
                f"Area {value!r} cannot be placed: no {kind} boundaries are loaded. Load them "
                "(areasafe ingest boundaries) and upload the row again, or add the point."
            )
        return (
            f"Area {value!r} matches no stored {kind}; the closest {'is' if len(match.closest) == 1 else 'are'} "
            f"{_spoken_list(match.closest)}. "
            "Correct the name (or add the point) and upload the row again."
        )

    reject(unknown, "unknown_area", message)
    return codes, closest


def _spoken_list(names: tuple[str, ...]) -> str:
    """``'A', 'B' and 'C'``."""
    quoted = [repr(n) for n in names]
    if len(quoted) < 2:
        return "".join(quoted) or "none"
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _area_column(codes: np.ndarray, areas: AreaMatcher | None, kind: str, idx: np.ndarray) -> pd.Series | None:
    """The accepted rows' codes of ``kind`` from placing by area (None: nothing placed by area)."""
    if areas is None or areas.kind != kind or not pd.notna(codes).any():
        return None
    return pd.Series(codes[idx], dtype=object)


def closest_area_notes(closest: dict[str, tuple[str, int]], kind: str) -> list[str]:
    """One sentence per area value read as the closest stored name, to check before trusting it."""
    kind_word = "Safe Neighbourhood" if kind == "neighbourhood" else kind
    return [
        f"Area {value!r} \u2192 {name} ({kind}): no stored {kind_word} has that name exactly, so the closest one "
        f"was used for {count} row{'s' if count != 1 else ''}; check it."
        for value, (name, count) in sorted(closest.items())
    ]


def _location_text(frame: pd.DataFrame, mapping: ColumnMapping) -> np.ndarray:
    if mapping.geopoint:
        return _text(frame, mapping.geopoint).to_numpy(dtype=object)
    a, b = (mapping.lat, mapping.lon) if mapping.lat else (mapping.x, mapping.y)
    return (_text(frame, a) + ", " + _text(frame, b)).to_numpy(dtype=object)


def _with_malformed(validated: Validated, raw: RawTable, org: str | None, *, personal: Sequence[str] = ()) -> Validated:
    """Add rows the CSV parser could not read (wrong number of fields, a byte that is not text) as
    ``malformed_row`` rejections. Their fields are not where the header says, so the copy kept of each
    leaves empty every field a personal column's value could have moved to (:func:`unsplit_row`)."""
    if not raw.malformed:
        return validated
    numbers = [n for n, _ in raw.malformed]
    header = [c for c in raw.frame.columns if c != ROW_NUMBER]
    msg = (
        f"This row does not have the {len(header)} fields the header names (a stray delimiter or quote?); "
        "fix it in a spreadsheet and upload it again."
    )
    messages = [raw.malformed_messages.get(n, msg) for n in numbers]  # e.g. a byte that is not UTF-8
    texts = []
    for i, (_, text) in enumerate(raw.malformed):
        fields = json.loads(text)
        copy, emptied = unsplit_row(
            fields if isinstance(fields, list) else [text], header, personal, delimiter=raw.delimiter
        )
        texts.append(copy)
        if emptied:
            messages[i] += (
                " The file has personal columns and this row's fields are out of place, so the cells that "
                "may hold them are left empty in the copy AreaSafe keeps: take them from your own file."
            )
    extra_rej = rejection_rows(numbers, "malformed_row", messages, org=org, raw=texts)
    extra_rows = pd.DataFrame(
        {
            COLUMNS.row_number: numbers,
            COLUMNS.status: REJECTED,
            COLUMNS.reason: "malformed_row",
            COLUMNS.message: messages,
            "flags": np.zeros(len(numbers), dtype=np.uint16),
        }
    )
    rows = pd.concat([validated.outcomes, extra_rows], ignore_index=True).sort_values(
        COLUMNS.row_number, ignore_index=True
    )
    rejections = pd.concat([validated.rejections, extra_rej], ignore_index=True).sort_values(
        COLUMNS.row_number, ignore_index=True
    )
    return replace(validated, rejections=rejections, outcomes=rows)
