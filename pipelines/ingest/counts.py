"""Counts per area, category and period (SAPS station statistics and similar)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import UnusableFileError
from pipelines.ingest.batches import commit_once, new_batch, read_bytes
from pipelines.ingest.columns import leaf
from pipelines.ingest.rejections import rejection_rows
from pipelines.sources.tabular import ROW_NUMBER, read_tabular
from pipelines.store.base import Batch, Store
from pipelines.taxonomy import Taxonomy, load_taxonomy, normalise_term

Progress = Callable[[str, float], None]


_PERIOD = re.compile(r"^(\d{4})\s*[-/]\s*(\d{2}|\d{4})$")
_AREA_NAME_FIELDS = ("station", "precinct", "area", "area_name", "name", "police_station", "code", "area_code")


def _period_bounds(label: str) -> tuple[str | None, str | None]:
    """SAPS financial years (``2015-2016``) run 1 April to 31 March."""
    m = _PERIOD.match(label.strip())
    if m:
        start = int(m.group(1))
        return f"{start}-04-01", f"{start + 1}-03-31"
    if re.fullmatch(r"\d{4}", label.strip()):
        return f"{label.strip()}-01-01", f"{label.strip()}-12-31"
    return None, None


def ingest_counts(
    store: Store,
    path: str | Path,
    *,
    source: str = "municipal",
    org: str | None = None,
    user: str | None = None,
    area_kind: str = "precinct",
    area_field: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> Batch:
    """Load counts per area, category and period (wide SAPS layout or long ``period``/``count`` columns).

    Rows are matched to stored areas of ``area_kind`` by code, then by name ignoring case, ``_``
    and ``-``; rows whose area matches nothing are rejected as ``unknown_area``.
    """
    path = Path(path)
    content = read_bytes(path, None)
    raw = read_tabular(path, data=content)
    frame = raw.frame
    columns = [c for c in frame.columns if c != ROW_NUMBER]
    by_leaf = {leaf(c): c for c in columns}
    area_col = area_field or next((by_leaf[k] for k in _AREA_NAME_FIELDS if k in by_leaf), None)
    if area_col is None or area_col not in columns:
        raise UnusableFileError(
            f"{path.name}: no station/area column found; name it with --area-field. Columns are: {', '.join(columns)}"
        )
    category_col = next((by_leaf[k] for k in ("category", "crime_category", "crime_type") if k in by_leaf), None)
    if category_col is None:
        raise UnusableFileError(f"{path.name}: no category column found; columns are: {', '.join(columns)}")
    period_cols = [c for c in columns if _PERIOD.match(c.strip()) or re.fullmatch(r"\d{4}", c.strip())]
    if period_cols:
        long = frame.melt(
            id_vars=[ROW_NUMBER, area_col, category_col], value_vars=period_cols, var_name="period", value_name="count"
        )
    elif "period" in by_leaf and "count" in by_leaf:
        long = frame.rename(columns={by_leaf["period"]: "period", by_leaf["count"]: "count"})[
            [ROW_NUMBER, area_col, category_col, "period", "count"]
        ]
    else:
        raise UnusableFileError(f"{path.name}: no period columns (like 2015-2016) and no period/count columns found.")

    areas = store.read_areas(area_kind)
    lookup = {normalise_term(c): c for c in areas["code"]}
    lookup.update({normalise_term(n): c for n, c in zip(areas["name"], areas["code"], strict=True)})
    area_codes = frame[area_col].map(lambda v: lookup.get(normalise_term(v)))
    matched = area_codes.notna().to_numpy()
    counts_numeric = pd.to_numeric(long["count"].astype("object").replace("", np.nan), errors="coerce")
    long = long.assign(
        count=counts_numeric, area_code=long[ROW_NUMBER].map(dict(zip(frame[ROW_NUMBER], area_codes, strict=True)))
    )
    long = long[long["area_code"].notna() & long["count"].notna()]
    category, _, unknown = (taxonomy or load_taxonomy()).map_series(long[category_col])
    bounds = {p: _period_bounds(p) for p in long["period"].unique()}
    counts = pd.DataFrame(
        {
            "area_kind": area_kind,
            "area_code": long["area_code"].to_numpy(dtype=object),
            "area_name": long[area_col].to_numpy(dtype=object),
            "category": category.to_numpy(dtype=object),
            "raw_category": long[category_col].to_numpy(dtype=object),
            "period": long["period"].to_numpy(dtype=object),
            "period_start": [bounds[p][0] for p in long["period"]],
            "period_end": [bounds[p][1] for p in long["period"]],
            "count": long["count"].astype("int64").to_numpy(),
            "source": source,
            "org": org,
            "batch_id": None,
        }
    )
    unmatched = frame.loc[~matched]
    known = ", ".join(sorted(areas["name"].astype(str))[:15]) or "(no areas of this kind are loaded yet)"
    rejections = rejection_rows(
        unmatched[ROW_NUMBER].to_numpy(),
        "unknown_area",
        [
            f"Area {v!r} matches no stored {area_kind}; load its boundary first or fix the name (known: {known}...)."
            for v in unmatched[area_col]
        ],
        org=org,
        raw=unmatched.drop(columns=[ROW_NUMBER]),
    )
    warnings = {"unknown_category": int(unknown.sum())} if unknown.any() else {}
    batch = new_batch(
        "counts",
        path.name,
        content,
        source=source,
        org=org,
        user=user,
        format="counts",
        rows_read=len(frame),
        accepted=int(matched.sum()),
        rejected=int((~matched).sum()),
        warnings=warnings,
        rejections={"unknown_area": int((~matched).sum())} if (~matched).any() else {},
    )
    return commit_once(
        store,
        batch,
        area_counts=counts.assign(batch_id=batch.batch_id),
        rejections=rejections.assign(batch_id=batch.batch_id),
    )
