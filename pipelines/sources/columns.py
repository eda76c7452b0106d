"""Which column is which: the one place that matches a file's column names to what we look for.

The incident mapping (:mod:`pipelines.sources.mapping`), the registers, the boundaries and the counts all
guess columns through these functions, so a name is normalised the same way everywhere:
:func:`key` lower-cases and joins separators with ``_``, :func:`leaf` drops a Kobo ``group/`` path.
"""

from __future__ import annotations

import re

import pandas as pd

from pipelines.errors import MappingError


def key(name: str) -> str:
    """A column name reduced for matching: lower case, ``_`` for separators."""
    return re.sub(r"[^a-z0-9/_\[\]]+", "_", str(name).strip().lower())


def leaf(name: str) -> str:
    """The field name without its Kobo (``group/field``) group path."""
    return key(name).split("/")[-1]


def odk_leaf(name: str) -> str:
    """The field name without its ODK Central (``group-field``) group path."""
    return key(name.rsplit("-", 1)[-1]) if "-" in name else leaf(name)


def first(columns: list[str], names: tuple[str, ...], *, by=leaf, exclude=frozenset()) -> str | None:
    """The first of ``names`` (in their order of preference) that a column of ``columns`` matches."""
    by_key: dict[str, str] = {}
    for c in columns:
        if c not in exclude:
            by_key.setdefault(by(c), c)
    return next((by_key[name] for name in names if name in by_key), None)


def coordinate_pair(
    columns: list[str], lat_pattern: str, lon_pattern: str, *, by=leaf
) -> tuple[str | None, str | None]:
    """The first column whose name (reduced by ``by``) fully matches ``lat_pattern``, and the first
    matching ``lon_pattern``: a geopoint split into two columns (Kobo ``_gps_latitude``, ODK
    ``gps-Latitude``)."""
    lat = next((c for c in columns if re.fullmatch(lat_pattern, by(c))), None)
    lon = next((c for c in columns if re.fullmatch(lon_pattern, by(c))), None)
    return lat, lon


#: Columns only a repeat group's table has: ODK Central's ``PARENT_KEY`` (with ``KEY`` like
#: ``uuid:.../group[1]``), Kobo's ``_parent_index``, ``_parent_table_name`` and ``_submission__uuid``.
_REPEAT_MARKERS = {"parent_key", "_parent_index", "_parent_table_name", "_submission__uuid"}


def is_repeat_table(columns: list[str]) -> bool:
    """Whether ``columns`` are those of a repeat group's table (one row per repeated answer of a
    submission) rather than of the submissions themselves."""
    return bool(_REPEAT_MARKERS & {key(c) for c in columns})


def explicit_or_first(
    columns: list[str], names: tuple[str, ...], explicit: str | None = None, *, option: str = "field"
) -> str | None:
    """``explicit`` when the user named a column (it must exist), else the first match of ``names``."""
    if explicit:
        if explicit not in columns:
            raise MappingError(
                f"{option} {explicit!r} is not a column of this file; columns are: {', '.join(map(str, columns))}"
            )
        return explicit
    return first(columns, names)


def name_like(columns: list[str]) -> str | None:
    """The first column whose name says it holds names (``WARD_NAME``, ``SUBURB_NAME``, ``LAD11NM``,
    ``name_long``), for when none of the expected names is present."""
    return next((c for c in columns if re.search(r"(^|_|\d)(name|nm)(_|$)|^name|name$", leaf(c))), None)


def with_values(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The columns that hold at least one value (the SAPS TopoJSON has ``id`` and an all-empty ``ID``)."""
    return [c for c in columns if frame[c].notna().any() and frame[c].astype(str).str.strip().ne("").any()]


def most_unique(frame: pd.DataFrame | None, candidates: list[str]) -> str | None:
    """The candidate with the most distinct non-empty values (ties go to the earlier candidate)."""
    if not candidates:
        return None
    if frame is None or not len(frame):
        return candidates[0]
    sample = frame.head(5000)
    return max(
        candidates, key=lambda c: (sample[c].astype(str).replace("", pd.NA).dropna().nunique(), -candidates.index(c))
    )


def longest_text(frame: pd.DataFrame | None, candidates: list[str], *, min_words: float = 3.0) -> str | None:
    """The free-text column: the candidate whose values are longest, when they read as sentences
    (on average at least ``min_words`` words and mostly distinct). ``None`` when no column does."""
    if frame is None or not len(frame):
        return None
    sample = frame.head(2000)
    best, best_len = None, 0.0
    for c in candidates:
        values = sample[c].astype(str).str.strip()
        values = values[values.ne("") & values.str.lower().ne("nan")]
        if len(values) < max(1, len(sample) // 10):
            continue
        if re.fullmatch(r"[-+\d.,:;/ TZ\[\]()]*", "".join(values.head(50))):
            continue  # numbers, dates, coordinates, geoshapes ("lat lon alt acc; lat lon ...")
        words = values.str.split().str.len().mean()
        if words < min_words or values.nunique() < 0.5 * len(values):
            continue
        length = values.str.len().mean()
        if length > best_len:
            best, best_len = c, length
    return best
