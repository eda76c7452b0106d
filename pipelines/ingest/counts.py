"""Counts per area, category and period (SAPS station statistics and similar).

Place in the data flow: a counts file is read into long rows (station, category, period, count), each
station is matched to a stored area (:mod:`pipelines.areanames`), and the counts are stored in
``area_counts`` with their financial year. Three layouts are read:

- **long**: one row per station, category and period (``station, category, period, count``);
- **wide**: one row per station and category, one column per year (``Province, Station, Category,
  2005-2006, ...`` as in the Kaggle mirror of SAPS's statistics, or ``station, province, crime, 2003,
  2004, ...`` as in Adrian Frith's reformatting of SAPS's 2013 release);
- **SAPS's own tables** (``police_station_figures_per_province.xls`` and its CSV exports): a title row
  ``Crime in Albertinia (WC) for April to March 2003/2004 - 2012/2013`` above a block whose header row
  is ``Crime Category, April 2003 to March 2004, ...``, one block per station, one below the other (and
  in the workbook one sheet per province).

SAPS counts by financial year, 1 April to 31 March, and labels it ``2015/16``; every year column or
period is stored under that label with its first and last day. A column headed by one year, ``2003``,
is the financial year that *starts* in it (2003/04, April 2003 to March 2004): SAPS's 2013 release runs
``April 2003 to March 2004`` ... ``April 2012 to March 2013``, and its reformatting names those columns
``2003`` ... ``2012``; the Kaggle mirror's ``2005-2006`` ... ``2015-2016`` say the same in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.areanames import HOW, AreaMatcher, Match
from pipelines.errors import UnusableFileError
from pipelines.ingest.batches import commit_once, earlier_identical_batch, new_batch, read_bytes
from pipelines.ingest.rejections import rejection_rows
from pipelines.periods import FinancialYear
from pipelines.schemas import COLUMNS
from pipelines.sources.columns import explicit_or_first, first, key
from pipelines.sources.tabular import ROW_NUMBER, read_grid, read_tabular
from pipelines.store.base import Batch, Store
from pipelines.taxonomy import Taxonomy, load_taxonomy
from pipelines.terms import store_taxonomy

Progress = Callable[[str, float], None]

AREA_NAMES = ("station", "police_station", "precinct", "area", "area_name", "name", "code", "area_code")
CATEGORY_NAMES = ("category", "crime_category", "crime_type", "crime")
_YEAR_SPAN = re.compile(r"^((?:19|20)\d{2})\s*[-/]\s*(\d{2}|\d{4})$")
_MONTH_SPAN = re.compile(
    r"^(?:apr(?:il)?)\.?\s+((?:19|20)\d{2})\s*(?:to|-|–)\s*(?:mar(?:ch)?)\.?\s+((?:19|20)\d{2})$", re.I
)
#: The title row of a block in SAPS's own tables: "Crime in  Albertinia (WC)  for April to March ...".
#: The markers after the province ("[169]": one of the 169 high-crime stations) are left out.
_TITLE = re.compile(
    r"^\s*crime\s+in\s+(?P<name>.+?)\s*(?:\((?P<province>[A-Za-z]{2,3})\))?(?:\s*\[[^\]]*\])*\s+for\s+", re.I
)
#: Blocks of these names are totals, not stations.
_TOTALS = frozenset(
    key(n)
    for n in (
        "RSA",
        "South Africa",
        "Eastern Cape",
        "Free State",
        "Gauteng",
        "KwaZulu-Natal",
        "KwaZulu Natal",
        "Limpopo",
        "Mpumalanga",
        "North West",
        "Northern Cape",
        "Western Cape",
    )
)


def financial_year(label: object) -> int | None:
    """The first calendar year of the SAPS financial year ``label`` names, or ``None``.

    ``2015``, ``2015-2016``, ``2015/16`` and ``April 2015 to March 2016`` are all 2015/16: 1 April 2015
    to 31 March 2016. A single year is the year the financial year starts in (see the module docstring).
    """
    text = " ".join(str(label).split())
    if re.fullmatch(r"(?:19|20)\d{2}", text):
        return int(text)
    m = _YEAR_SPAN.match(text) or _MONTH_SPAN.match(text)
    if m is None:
        return None
    start, end = int(m.group(1)), m.group(2)
    following = start + 1
    if (len(end) == 2 and int(end) != following % 100) or (len(end) == 4 and int(end) != following):
        return None  # 2015-2017 is no financial year
    return start


def period_bounds(label: object) -> tuple[str, str | None, str | None]:
    """The stored label and first and last day of a period as delivered (unknown periods kept as they are).

    SAPS counts by the national financial year (1 April to 31 March, :mod:`pipelines.periods`)."""
    start = financial_year(label)
    if start is None:
        return str(label).strip(), None, None
    year = FinancialYear("national", start)
    return year.label, year.start.isoformat(), year.end.isoformat()


@dataclass
class _Long:
    """A counts file as rows (``rows``: one per file row, with the station, province and category) and
    counts (``counts``: one per row and period, ``_id`` pointing at the row; the row number shown to
    users may repeat across the sheets of a workbook, ``_id`` does not)."""

    rows: pd.DataFrame  # _id, ROW_NUMBER, station, category, province (may be None), raw (dict per row)
    counts: pd.DataFrame  # _id (of the row), period, count
    layout: str
    notes: list[str]


def ingest_counts(
    store: Store,
    path: str | Path,
    *,
    source: str = "municipal",
    org: str | None = None,
    user: str | None = None,
    area_kind: str = "precinct",
    area_field: str | None = None,
    category_col: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> Batch:
    """Load counts per area, category and financial year (long, wide or SAPS's own layout).

    Parameters
    ----------
    area_field, category_col
        The columns naming the station (area) and the crime category; detected when not given
        (``station``/``precinct``/``area``...; ``category``/``crime_category``/``crime_type``/``crime``).

    Each station is matched to a stored area of ``area_kind`` (:class:`~pipelines.areanames.AreaMatcher`:
    code or name, a known other name, or the same letters ignoring spaces; the batch notes say which
    were matched other than by name). A row whose station matches nothing is rejected as
    ``unknown_area`` with the closest stored names; rows of two stations that match the same area are
    rejected as ``ambiguous_area``.
    """
    path = Path(path)
    content = read_bytes(path, None)
    long = _read_counts(path, content, area_field=area_field, category_col=category_col)
    rows = long.rows
    matcher = AreaMatcher.from_store(store, area_kind)
    blocks = rows.drop_duplicates("block")
    matches = {
        b: _match(matcher, station, province)
        for b, station, province in blocks[["block", "station", "province"]].itertuples(index=False)
    }
    rows = rows.assign(area_code=rows["block"].map({b: m.code for b, m in matches.items()}))
    unknown = rows[COLUMNS.area_code].isna().to_numpy()
    counts = long.counts.merge(
        rows.loc[~unknown, ["_id", "block", "station", COLUMNS.category, COLUMNS.area_code]], on="_id"
    )
    values = pd.to_numeric(counts[COLUMNS.count].astype("object").replace("", np.nan), errors="coerce")
    counts = counts.assign(count=values)[values.notna()]
    bounds = {p: period_bounds(p) for p in counts[COLUMNS.period].unique()}
    counts = counts.assign(
        period=[bounds[p][0] for p in counts[COLUMNS.period]],
        period_start=[bounds[p][1] for p in counts[COLUMNS.period]],
        period_end=[bounds[p][2] for p in counts[COLUMNS.period]],
    )
    clashes = _clashes(rows, counts)
    ambiguous = rows["block"].isin(clashes).to_numpy() & ~unknown
    accepted = ~unknown & ~ambiguous
    counts = counts[~counts["block"].isin(clashes)]
    category, _, unknown_category = (taxonomy or store_taxonomy(store, load_taxonomy())).map_series(
        counts[COLUMNS.category]
    )
    area_counts = pd.DataFrame(
        {
            COLUMNS.area_kind: area_kind,
            COLUMNS.area_code: counts[COLUMNS.area_code].to_numpy(dtype=object),
            COLUMNS.area_name: counts["station"].to_numpy(dtype=object),
            COLUMNS.category: category.to_numpy(dtype=object),
            COLUMNS.raw_category: counts[COLUMNS.category].to_numpy(dtype=object),
            COLUMNS.period: counts[COLUMNS.period].to_numpy(dtype=object),
            COLUMNS.period_start: counts[COLUMNS.period_start].to_numpy(dtype=object),
            COLUMNS.period_end: counts[COLUMNS.period_end].to_numpy(dtype=object),
            COLUMNS.count: counts[COLUMNS.count].astype("int64").to_numpy(),
            COLUMNS.source: source,
            COLUMNS.org: org,
            COLUMNS.batch_id: None,
        }
    )
    rejections = pd.concat(
        [
            _rejected(rows[unknown], "unknown_area", lambda r: matcher.unknown_message(r.station, kind=area_kind), org),
            _rejected(rows[ambiguous], "ambiguous_area", lambda r: clashes[r.block], org),
        ],
        ignore_index=True,
    )
    otherwise = {b: m for b, m in matches.items() if m.how in HOW}
    named = {b: _station_words(row, at=False) for b, row in blocks.set_index("block").iterrows()}
    notes = long.notes + _match_notes({named[b]: m for b, m in otherwise.items()}, matcher, area_kind)
    warnings = {"unknown_category": int(unknown_category.sum())} if unknown_category.any() else {}
    by_alias = int((rows["block"].isin(list(otherwise)).to_numpy() & accepted).sum())
    if by_alias:
        warnings["matched_by_alias"] = by_alias
    reasons = {"unknown_area": int(unknown.sum()), "ambiguous_area": int(ambiguous.sum())}
    batch = new_batch(
        "counts",
        path.name,
        content,
        source=source,
        org=org,
        user=user,
        format=long.layout,
        rows_read=len(rows),
        accepted=int(accepted.sum()),
        rejected=int((~accepted).sum()),
        warnings=warnings,
        rejections={k: v for k, v in reasons.items() if v},
        notes=tuple(notes),
    )
    frames = {
        "area_counts": area_counts.assign(batch_id=batch.batch_id),
        "rejections": rejections.assign(batch_id=batch.batch_id),
    }
    if _earlier_had_rejections(store, batch):
        # The same file again after its stations were fixed in the store (boundaries loaded, an alias
        # added): stored counts are replaced by key, so loading it again is safe and is what was asked.
        return store.commit(batch, **frames)
    return commit_once(store, batch, **frames)


def _earlier_had_rejections(store: Store, batch: Batch) -> bool:
    earlier = earlier_identical_batch(store, batch)
    if earlier is None:
        return False
    stored = store.read_table("batches", where={COLUMNS.batch_id: earlier})
    return bool(len(stored)) and int(stored[COLUMNS.rejected].iloc[0]) > 0


def _match(matcher: AreaMatcher, station: object, province: object) -> Match:
    """The area ``station`` names; with its province added (``Heidelberg WC``) when the name alone
    matches none (SAPS has several stations called Heidelberg, Balfour, Richmond, Middelburg)."""
    found = matcher.match(station)
    if found.code is None and isinstance(province, str) and province.strip():
        found = matcher.match(f"{station} {province}")
        if found.how in ("code", "name"):
            found = Match(found.code, "province")
    return found


def _rejected(rows: pd.DataFrame, reason: str, message: Callable, org: str | None) -> pd.DataFrame:
    return rejection_rows(
        rows[ROW_NUMBER].to_numpy(),
        reason,
        [message(r) for r in rows.itertuples(index=False)],
        org=org,
        raw=pd.DataFrame(list(rows[COLUMNS.raw])) if len(rows) else [],
    )


def _clashes(rows: pd.DataFrame, counts: pd.DataFrame) -> dict[str, str]:
    """Blocks (a station of the file, with its province) whose counts share an area, category and year
    with other counts of the file: block -> the message for its rows. Which count is right cannot be
    told, so none of those blocks is stored (two stations called Balfour, one in the Eastern Cape and one
    in Mpumalanga, both match a stored precinct called Balfour)."""
    repeated = counts[counts.duplicated([COLUMNS.area_code, COLUMNS.category, COLUMNS.period], keep=False)]
    if not len(repeated):
        return {}
    described = rows.drop_duplicates("block").set_index("block")
    messages = {}
    for code, group in repeated.groupby(COLUMNS.area_code, sort=False):
        blocks = list(dict.fromkeys(group["block"]))
        if len(blocks) == 1:
            station = described.loc[blocks[0]]
            text = (
                f"{station['station']!r} has more than one count for the same category and year (first at row "
                f"{station['first_row']}), so which is right cannot be told. Keep one row per category and year"
            )
        else:
            names = " and ".join(_station_words(described.loc[b]) for b in blocks)
            text = (
                f"{names} all match the stored area {code!r}, so their counts cannot be told apart. Name the "
                "stations as the stored areas name them (e.g. add the province: 'Balfour MP')"
            )
        for block in blocks:
            messages[block] = f"{text}, then load the file again."
    return messages


def _station_words(station: pd.Series, *, at: bool = True) -> str:
    """A station of the file in words: its name, its province if the file gives one, and its first row."""
    province = station["province"]
    where = f" ({province})" if isinstance(province, str) and province else ""
    return f"{station['station']!r}{where}" + (f" from row {station['first_row']}" if at else "")


def _match_notes(matched: dict, matcher: AreaMatcher, kind: str) -> list[str]:
    if not matched:
        return []
    parts = []
    for station, m in sorted(matched.items(), key=lambda item: str(item[0])):
        why = HOW[m.how] if m.via is None else m.via.change + (f", {m.via.note}" if m.via.note else "")
        parts.append(f"{station} as {matcher.names[m.code]!r} ({why})")
    names = "1 station name" if len(parts) == 1 else f"{len(parts)} station names"
    return [f"{names} matched a stored {kind} other than by its name: " + "; ".join(parts) + "."]


# --------------------------------------------------------------------------------------------------
# Reading: each layout into rows and counts
# --------------------------------------------------------------------------------------------------
def _read_counts(path: Path, content: bytes, *, area_field: str | None, category_col: str | None) -> _Long:
    if not area_field:
        published = _published_tables(path, content)
        if published is not None:
            return published
    raw = read_tabular(path, data=content)
    frame = raw.frame
    columns = [c for c in frame.columns if c != ROW_NUMBER]
    area_col, category = _station_and_category(path, columns, area_field=area_field, category_col=category_col)
    province = first([c for c in columns if c not in (area_col, category)], ("province", "prov"))
    base = pd.DataFrame(
        {
            "_id": np.arange(len(frame)),
            ROW_NUMBER: frame[ROW_NUMBER].to_numpy(),
            "station": frame[area_col].astype(object).str.strip().to_numpy(),
            COLUMNS.category: frame[category].astype(object).str.strip().to_numpy(),
            "province": frame[province].astype(object).to_numpy() if province else None,
            COLUMNS.raw: frame.drop(columns=[ROW_NUMBER]).astype(object).to_dict(orient="records"),
        }
    )
    counts, layout = _period_counts(path, frame, columns, base["_id"].to_numpy())
    return _Long(_with_blocks(base), counts, layout, [])


def _published_tables(path: Path, content: bytes) -> _Long | None:
    """Every sheet in SAPS's own table layout, as one set of rows and counts (None: no sheet is)."""
    tables, start = [], 0
    for sheet, grid in read_grid(path, data=content):
        table = _published(grid, sheet, start=start)
        if table is not None:
            tables.append(table)
            start += len(table.rows)
    if not tables:
        return None
    return _Long(
        pd.concat([t.rows for t in tables], ignore_index=True),
        pd.concat([t.counts for t in tables], ignore_index=True),
        "saps-tables",
        [note for t in tables for note in t.notes],
    )


def _station_and_category(
    path: Path, columns: list[str], *, area_field: str | None, category_col: str | None
) -> tuple[str, str]:
    """The station (area) column and the crime category column; a file without either is refused."""
    area_col = explicit_or_first(columns, AREA_NAMES, area_field, option="--area-field")
    if area_col is None:
        raise UnusableFileError(
            f"{path.name}: no station or area column found in the first row (columns: {', '.join(columns)}). "
            "If the stations are in a column, name it with --area-field COLUMN. If each station's name stands "
            "in a title row above its block of categories and years (SAPS's own tables), the blocks were not "
            "recognised: each needs a title like 'Crime in Harare (WC) for April to March ...' and a header "
            "row starting 'Crime Category' followed by years such as 'April 2015 to March 2016' or 2015/2016."
        )
    category = explicit_or_first(
        [c for c in columns if c != area_col], CATEGORY_NAMES, category_col, option="--category-col"
    )
    if category is None:
        raise UnusableFileError(
            f"{path.name}: no crime category column found (looked for {', '.join(CATEGORY_NAMES)}); columns are: "
            f"{', '.join(columns)}. Name it with --category-col COLUMN."
        )
    return area_col, category


def _period_counts(path: Path, frame: pd.DataFrame, columns: list[str], ids: np.ndarray) -> tuple[pd.DataFrame, str]:
    """The counts, one row per row ``_id`` and period, and the layout: a column per year
    (``counts-wide``) or a period and a count column (``counts-long``); a file with neither is refused."""
    period_cols = [c for c in columns if financial_year(c) is not None]
    period = first(columns, ("period", "year", "financial_year"))
    count = first(columns, ("count", "counts", "incidents", "value", "number"))
    if period_cols:
        counts = frame.assign(_id=ids).melt(
            id_vars=["_id"], value_vars=period_cols, var_name="period", value_name="count"
        )
        return counts, "counts-wide"
    if period and count:
        counts = pd.DataFrame(
            {"_id": ids, COLUMNS.period: frame[period].to_numpy(), COLUMNS.count: frame[count].to_numpy()}
        )
        return counts, "counts-long"
    raise UnusableFileError(
        f"{path.name}: no year columns (like 2015/2016, 2015-2016 or 2015) and no period and count columns "
        f"found; columns are: {', '.join(columns)}."
    )


def _with_blocks(rows: pd.DataFrame) -> pd.DataFrame:
    """``block`` (one per station and province of the file) and ``first_row`` (its first row number)."""
    block = pd.Series(
        [f"{s}\x1f{'' if pd.isna(p) else p}" for s, p in zip(rows["station"], rows["province"], strict=True)],
        index=rows.index,
    )
    first_row = rows.groupby(block)[ROW_NUMBER].transform("min")
    return rows.assign(block=block.to_numpy(), first_row=first_row.to_numpy())


def _published(grid: list[list[str]], sheet: str | None, *, start: int = 0) -> _Long | None:
    """SAPS's own table layout (see the module docstring), or ``None`` when ``grid`` is not in it."""
    rows, counts, totals = [], [], []
    title: tuple[str, str | None] | None = None
    periods: list[tuple[int, str]] | None = None
    in_total = False
    for i, cells in enumerate(grid):
        cells = [str(c).strip() for c in cells]
        first_cell = cells[0] if cells else ""
        found = _TITLE.match(first_cell)
        if found:
            title, in_total = _block_title(found, totals)
            periods = None
            continue
        if key(first_cell) in CATEGORY_NAMES:
            periods = _header_periods(cells)
            continue
        if title is None or periods is None or in_total or not first_cell:
            continue
        values = _period_values(cells, periods)
        if values is None:
            continue  # a section heading ("CONTACT CRIME ...") or a blank row
        rows.append(_published_row(i + 1, title, first_cell, values, sheet, row_id=start + len(rows)))
        counts += [{"_id": start + len(rows) - 1, "period": label, "count": v} for label, v in values.items()]
    if not rows:
        return None
    return _Long(_with_blocks(pd.DataFrame(rows)), pd.DataFrame(counts), "saps-tables", _totals_notes(totals, sheet))


def _header_periods(cells: list[str]) -> list[tuple[int, str]] | None:
    """The year columns (position and label) of a block's header row (None: it has none)."""
    header = [(j, c) for j, c in enumerate(cells) if j and financial_year(c) is not None]
    return header or None


def _period_values(cells: list[str], periods: list[tuple[int, str]]) -> dict[str, str] | None:
    """A category row's value under each year column (None: no values, a heading or a blank row)."""
    values = {label: cells[j] if j < len(cells) else "" for j, label in periods}
    if not any(v for v in values.values()):
        return None
    return values


def _block_title(found: re.Match, totals: list[str]) -> tuple[tuple[str, str | None], bool]:
    """A block's station and province from its title row, and whether it is a total block (then
    its name is added to ``totals``)."""
    title = (" ".join(found.group("name").split()), found.group("province"))
    in_total = key(title[0]) in _TOTALS and not title[1]
    if in_total:
        totals.append(title[0])
    return title, in_total


def _published_row(
    number: int, title: tuple[str, str | None], category: str, values: dict, sheet: str | None, *, row_id: int
) -> dict:
    """One category row of a station's block, with the copy of it kept as ``raw``."""
    raw = {"station": title[0], "province": title[1], "category": category, **values}
    if sheet is not None:
        raw = {"sheet": sheet, **raw}
    return {
        "_id": row_id,
        ROW_NUMBER: number,
        "station": title[0],
        "category": category,
        "province": title[1],
        "raw": raw,
    }


def _totals_notes(totals: list[str], sheet: str | None) -> list[str]:
    """The note that the total blocks were left aside (none when there were none)."""
    if not totals:
        return []
    where = f" on sheet {sheet}" if sheet else ""
    return [f"Left aside the total block{'s' if len(totals) > 1 else ''} {', '.join(totals)}{where}: not a station."]
