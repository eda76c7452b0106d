"""Counts per station, category and financial year (pipelines.ingest.counts), on real SAPS files and small ones."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.cli import main
from pipelines.errors import UnusableFileError
from pipelines.ingest.boundaries import ingest_boundaries
from pipelines.ingest.counts import financial_year, ingest_counts, period_bounds
from pipelines.sources.tabular import read_grid
from pipelines.store import open_store
from pipelines.store._gpkg_schema import SCHEMA_VERSION
from tests._helpers import write_csv

#: Real third-party exports kept with the tests (each folder has its PROVENANCE.md).
REAL_EXPORTS = Path(__file__).resolve().parents[2] / "data" / "real"
SAPS_2013 = REAL_EXPORTS / "za-saps-station-stats-2003-2013"


@pytest.fixture
def precincts(store, real_data):
    """The store with SAPS's 1,143 precincts of 2015 (ids are station names, `_` for spaces)."""
    ingest_boundaries(store, real_data / "za-saps-precincts-2015" / "policeBounds3.json", kind="precinct")
    return store


def _counts(store, batch) -> pd.DataFrame:
    return store.read_table("area_counts", where={"batch_id": batch.batch_id})


# --------------------------------------------------------------------------------------------------
# Financial years
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "start"),
    [
        pytest.param("2003", 2003, id="one-year-is-the-year-it-starts"),
        pytest.param("2015-2016", 2015, id="kaggle"),
        pytest.param("2015/2016", 2015, id="slash"),
        pytest.param("2015/16", 2015, id="saps-label"),
        pytest.param("April 2007 to March 2008 ", 2007, id="saps-table-header"),
        pytest.param("2015-2017", None, id="two-years-apart"),
        pytest.param("2015/17", None, id="short-two-years-apart"),
        pytest.param("Q1", None, id="not-a-year"),
    ],
)
def test_financial_year(label, start):
    assert financial_year(label) == start


def test_a_year_column_is_stored_as_the_saps_financial_year_starting_in_it():
    assert period_bounds("2003") == ("2003/04", "2003-04-01", "2004-03-31")
    assert period_bounds("2015-2016") == ("2015/16", "2015-04-01", "2016-03-31")
    assert period_bounds("2024-Q1") == ("2024-Q1", None, None)  # not a financial year: kept as delivered


# --------------------------------------------------------------------------------------------------
# Real SAPS files
# --------------------------------------------------------------------------------------------------
def test_saps_published_tables_are_read_station_by_station(precincts):
    """SAPS's own layout: 'Crime in Aggeneys (NC) for April to March ...' above each block (nc.csv)."""
    batch = ingest_counts(precincts, SAPS_2013 / "nc.csv")
    # 92 blocks of 29 categories; the first block is the Northern Cape total, not a station.
    assert (batch.format, batch.rows_read, batch.accepted, batch.rejected) == ("saps-tables", 2639, 2639, 0)
    assert batch.notes[0] == "Left aside the total block Northern Cape: not a station."
    assert "'Bathlaros' (NC) as 'Batlharos' (spelling)" in batch.notes[1]
    counts = _counts(precincts, batch)
    assert counts["area_code"].nunique() == 91
    murder = counts[(counts["area_code"] == "Aggeneys") & (counts["raw_category"] == "Murder")].set_index("period")
    assert list(murder.index) == [f"{y}/{(y + 1) % 100:02d}" for y in range(2003, 2013)]
    assert murder.loc["2003/04", ["period_start", "period_end"]].tolist() == ["2003-04-01", "2004-03-31"]
    assert murder["count"].tolist() == [0, 0, 1, 1, 1, 0, 1, 0, 1, 0]


def test_the_two_layouts_of_one_release_give_the_same_counts(precincts):
    """The wide reformatting (`station, province, crime, 2003, ...`) and SAPS's tables hold the same
    Northern Cape counts: a column `2003` is the year April 2003 to March 2004."""
    tables = ingest_counts(precincts, SAPS_2013 / "nc.csv", org="tables")
    wide = ingest_counts(precincts, SAPS_2013 / "crime-stats-wide-subset.csv", org="wide")
    assert wide.format == "counts-wide"
    keys = ["area_code", "raw_category", "period", "period_start", "period_end", "count"]
    from_tables = _counts(precincts, tables)[keys].sort_values(keys, ignore_index=True)
    from_wide = _counts(precincts, wide)
    from_wide = from_wide[from_wide["area_code"].isin(from_tables["area_code"])][keys]
    pd.testing.assert_frame_equal(from_tables, from_wide.sort_values(keys, ignore_index=True))


def test_renamed_and_respaced_stations_match_and_the_rest_get_the_closest_names(precincts):
    batch = ingest_counts(precincts, SAPS_2013 / "crime-stats-wide-subset.csv")
    assert batch.rows_read == batch.accepted + batch.rejected == 3944
    assert batch.rejections == {"unknown_area": 29}  # Esikhawini only
    notes = batch.notes[0]
    assert "'Kwa Mashu E' (KZN) as 'Kwamashu E' (ignoring spaces)" in notes
    assert "'Bisho' (EC) as 'Bhisho' (spelling)" in notes  # data/area_aliases.yaml
    assert "'Heidelberg' (GP) as 'Heidelberg (Gp)'" in notes and "'Heidelberg' (WC) as 'Heidelberg(C)'" in notes
    rejected = precincts.read_rejections()
    message = rejected["message"].iloc[0]
    assert message.startswith(
        "Station 'Esikhawini' matches no stored precinct. The closest stored names are 'Esikhaleni'"
    )
    assert 'areasafe areas alias "NAME IN THE FILE" "STORED NAME" --kind precinct' in message
    assert json.loads(rejected["raw"].iloc[0])["crime"] == "Murder"


# --------------------------------------------------------------------------------------------------
# Columns, aliases and clashes (small files)
# --------------------------------------------------------------------------------------------------
def test_category_column_named_by_the_user(area_store, tmp_path):
    path = write_csv(tmp_path, "c.csv", "Station,Offence,2014,2015\nWest,Murder,3,4\n")
    with pytest.raises(UnusableFileError, match="no crime category column found.*--category-col"):
        ingest_counts(area_store, path)
    batch = ingest_counts(area_store, path, category_col="Offence")
    counts = _counts(area_store, batch).set_index("period")
    assert counts.loc["2015/16", "count"] == 4 and counts.loc["2014/15", "category"] == "murder"


def test_crime_is_a_category_header_and_long_periods_become_financial_years(area_store, tmp_path):
    path = write_csv(tmp_path, "c.csv", "station,crime,period,count\nEast,Murder,2015-2016,2\nEast,Murder,2016/17,5\n")
    batch = ingest_counts(area_store, path)
    assert (batch.format, batch.accepted) == ("counts-long", 2)
    assert sorted(_counts(area_store, batch)["period"]) == ["2015/16", "2016/17"]


def test_an_unknown_station_gets_the_closest_names_not_an_alphabetical_list(area_store, tmp_path):
    path = write_csv(
        tmp_path, "c.csv", "station,category,2015\nWset,Murder,1\nZanzibar,Murder,1\nWest,Murder,2\nEast,Murder,3\n"
    )
    batch = ingest_counts(area_store, path)
    assert (batch.accepted, batch.rejections) == (2, {"unknown_area": 2})
    messages = area_store.read_rejections().sort_values("row_number")["message"].tolist()
    assert "The closest stored names are 'West'." in messages[0]
    assert "No stored name is close" in messages[1]


def test_an_alias_added_from_the_command_line_is_used_by_the_next_upload(area_store, tmp_path):
    store_path = str(tmp_path / "store.gpkg")
    path = write_csv(tmp_path, "c.csv", "station,category,2015\nWest Old,Murder,7\n")
    assert ingest_counts(area_store, path).rejected == 1
    assert (
        main(["--store", store_path, "areas", "alias", "West Old", "West", "--kind", "precinct", "--note", "2019"]) == 0
    )
    batch = ingest_counts(area_store, write_csv(tmp_path, "d.csv", "station,category,2015\nWest Old,Murder,7\n"))
    assert (batch.accepted, batch.warnings["matched_by_alias"]) == (1, 1)
    assert batch.notes == (
        "1 station name matched a stored precinct other than by its name: 'West Old' as 'West' (renamed, 2019).",
    )
    assert _counts(area_store, batch)["area_code"].tolist() == ["P-WEST"]


@pytest.mark.parametrize(
    ("name", "area", "match"),
    [
        pytest.param("West Old", "Nowhere", "'Nowhere' is not a stored precinct", id="area-not-stored"),
        pytest.param("East", "West", "'East' is already the stored precinct 'East'", id="name-of-another-area"),
        pytest.param("P-EAST", "West", "'P-EAST' is already the stored precinct 'East'", id="code-of-another-area"),
        # Spaced apart it still matches East (spacing is ignored), so pointing it at West moves East's rows.
        pytest.param("E a s t", "West", "'E a s t' is already the stored precinct 'East'", id="spacing-of-another"),
    ],
)
def test_an_alias_that_would_mislead_is_refused(area_store, tmp_path, capsys, name, area, match):
    code = main(["--store", str(tmp_path / "store.gpkg"), "areas", "alias", name, area, "--kind", "precinct"])
    assert code == 2 and match in capsys.readouterr().err
    assert area_store.count("area_aliases") == 0


def test_two_stations_matching_one_area_are_both_rejected(area_store, tmp_path):
    body = "station,province,category,2015\nWest,EC,Murder,1\nWest,MP,Murder,9\nEast,EC,Murder,2\n"
    batch = ingest_counts(area_store, write_csv(tmp_path, "c.csv", body))
    assert (batch.rows_read, batch.accepted, batch.rejections) == (3, 1, {"ambiguous_area": 2})
    message = area_store.read_rejections()["message"].iloc[0]
    assert "'West' (EC) from row 2 and 'West' (MP) from row 3 all match the stored area 'P-WEST'" in message
    assert _counts(area_store, batch)["area_code"].tolist() == ["P-EAST"]


def test_saps_tables_in_a_workbook_are_read_from_every_sheet(area_store, tmp_path):
    """The SAPS workbook has one sheet per province; here two sheets of real SAPS blocks, renamed West and East."""
    grid = read_grid(SAPS_2013 / "nc.csv")[0][1]
    first_block = next(i for i, row in enumerate(grid[1:], 1) if row[0].startswith("Crime Research"))
    block = grid[first_block : first_block + 45]  # the Aggeneys block
    book = openpyxl.Workbook()
    for sheet, station in ((book.active, "West"), (book.create_sheet("MP"), "East")):
        sheet.title = sheet.title if station == "East" else "NC"
        for row in block:
            sheet.append([row[0].replace("Aggeneys", station), *row[1:]])
    path = tmp_path / "police_station_figures_per_province.xlsx"
    book.save(path)
    batch = ingest_counts(area_store, path)
    assert (batch.format, batch.rows_read, batch.accepted) == ("saps-tables", 58, 58)
    counts = _counts(area_store, batch)
    assert set(counts["area_code"]) == {"P-WEST", "P-EAST"} and set(counts["period"]) >= {"2003/04", "2012/13"}


def test_a_file_in_no_layout_says_what_each_option_can_fix(area_store, tmp_path):
    path = write_csv(tmp_path, "c.csv", "Report for the cluster,,\nfoo,bar,baz\n")
    with pytest.raises(UnusableFileError) as caught:
        ingest_counts(area_store, path)
    message = str(caught.value)
    assert "name it with --area-field COLUMN" in message and "SAPS's own tables" in message
    assert "'Crime in Harare (WC) for April to March ...'" in message


def test_cli_counts_with_category_col_prints_notes(area_store, tmp_path, capsys):
    path = write_csv(tmp_path, "c.csv", "Station,Offence,2015\nW est,Murder,3\n")
    code = main(["--store", str(tmp_path / "store.gpkg"), "ingest", "counts", str(path), "--category-col", "Offence"])
    out = capsys.readouterr().out
    assert code == 0 and "1 accepted" in out
    assert (
        "note: 1 station name matched a stored precinct other than by its name: 'W est' as 'West' (ignoring spaces)."
        in out
    )


def test_a_schema_7_store_gains_aliases_and_batch_notes_when_opened(tmp_path):
    path = tmp_path / "old.gpkg"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE area_aliases; DELETE FROM gpkg_contents WHERE table_name = 'area_aliases';"
        'ALTER TABLE batches DROP COLUMN "notes";'
        "UPDATE areasafe_meta SET value = '7' WHERE key = 'schema_version';"
    )
    conn.close()
    with open_store(path) as store:
        assert store.count("area_aliases") == 0 and "notes" in store.read_batches().columns
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM areasafe_meta WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION
    conn.close()
