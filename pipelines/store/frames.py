"""Frames on their way into a store: the checks and value conversions both backends share.

Place in the data flow: between the frames ``place`` hands to :meth:`Store.commit` and the rows a
backend writes (:mod:`pipelines.store.gpkg` binds them through ``sqlite3``, :mod:`pipelines.store.postgis`
COPYs them). Whatever both must agree on lives here once: which tables exist, that a frame has the
table's columns in the store's CRS, how a datetime is written (UTC, milliseconds, sortable as text),
how a non-text value in a text column becomes text, and where a dedupe key's "source|org|" prefix ends.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.errors import StoreError
from pipelines.schemas import CODE_COLUMN, STORE_CRS, TABLES, Table

#: The "source|org|" prefix of a dedupe key (a named group, for Arrow's ``extract_regex``).
DEDUPE_PREFIX = r"^(?P<prefix>[^|]*\|[^|]*\|)"


def check_table(name: str) -> Table:
    """The table called ``name``, or a :class:`StoreError` that lists the tables."""
    try:
        return TABLES[name]
    except KeyError:
        raise StoreError(f"unknown table {name!r}; tables are {', '.join(TABLES)}") from None


def check_frame(table: Table, frame: pd.DataFrame) -> None:
    """The frame has every column of ``table``, and its geometry (if it has one) is in the store's CRS.

    A frame with point coordinate columns instead of a geometry has no CRS: those are in
    :data:`~pipelines.schemas.STORE_CRS` by contract.
    """
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise StoreError(f"cannot store {table.name}: columns {missing} are missing from the frame")
    if table.geometry_type:
        crs = getattr(frame, "crs", None)
        if crs is not None and not crs.equals(STORE_CRS):
            raise StoreError(f"{table.name} CRS is {crs.to_string()}, expected {STORE_CRS}; call to_crs() first")


def with_optional_columns(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every nullable column it lacks added as empty (required ones are checked on insert)."""
    missing = [f.name for f in table.fields if f.nullable and f.name not in frame.columns]
    return frame.assign(**dict.fromkeys(missing)) if missing else frame


def outside_areas(incidents: pd.DataFrame) -> np.ndarray:
    """Which incidents lie in no placed area (no code of any :data:`~pipelines.schemas.CODE_COLUMN` kind)."""
    outside = np.ones(len(incidents), dtype=bool)
    for column in CODE_COLUMN.values():
        outside &= incidents[column].isna().to_numpy()
    return outside


def format_datetime(value: dt.datetime | pd.Timestamp) -> str:
    """The stored DATETIME text form, UTC with milliseconds (``2025-03-04T10:00:00.000Z``): sortable as text."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def datetime_texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`format_datetime` for a whole column (milliseconds truncated, as there), as a NumPy string
    array, and the mask of missing values (whose text is meaningless)."""
    utc = pd.to_datetime(values, utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[ms]")
    return np.datetime_as_string(utc, unit="ms", timezone="UTC"), np.isnat(utc)


def text_values(values: pd.Series) -> np.ndarray:
    """A text column as an object array of ``str`` and ``None``: a value that is not text is stored as
    ``str(value)`` (an id read as a number stays its digits)."""
    missing = values.isna().to_numpy(dtype=bool)
    out = values.astype(object).to_numpy(copy=True)
    if not missing.all():
        present = out[~missing]
        not_str = np.fromiter((not isinstance(v, str) for v in present), bool, len(present))
        if not_str.any():
            idx = np.flatnonzero(~missing)[not_str]
            out[idx] = [str(v) for v in out[idx]]
    out[missing] = None
    return out
