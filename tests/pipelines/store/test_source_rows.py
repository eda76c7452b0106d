"""The copy kept of each accepted incident's row as the file gave it: packed in blocks, read back exactly,
only for the incidents a store actually stored, gone with its batch, and old per-row copies still read."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pandas as pd
import pytest

from pipelines import settings
from pipelines.access import delete_batch
from pipelines.ingest.incidents import commit_incidents, ingest_incidents, prepare_incidents
from pipelines.privacy import operator
from pipelines.store import open_store, source_rows
from pipelines.store._gpkg_schema import SCHEMA_VERSION
from tests._helpers import write_csv

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
HEADER = "id,date,category,latitude,longitude,description\n"
ROWS = [
    '1,2025-03-04 18:30,Robbery,-34.05,18.55,"Phone taken, at the ""taxi"" rank"\n',
    '2,2025-03-05 18:30,Robbery,-34.05,18.56,"two\nlines"\n',
    "3,2025-03-06 18:30,Robbery,-34.05,18.57,Ünïcödé and 007\n",
]
AWKWARD = pd.DataFrame(
    {
        "name, with comma": ["", "a,b", 'say "hi"', "line1\nline2"],
        'quote"d': ["007", "1e5", "NULL", "NaN"],
        "group/q 1": ["  spaces  ", "ñ", "\t", "x"],
        "incident_id": ["f1", "f2", "=1+1", ""],  # a file's own column of that name is just a column
    },
    index=pd.Index(["a1", "a2", "a3", "a4"], name="incident_id"),
)


def test_awkward_values_and_names_come_back_exactly_as_text():
    packed = source_rows.pack(AWKWARD, "b1")
    assert list(packed.blocks.columns) == ["batch_id", "block_rows", "block_ids", "block_csv"]
    back = source_rows.unpack(packed.blocks)
    assert list(back.columns) == list(AWKWARD.columns) and back.index.tolist() == ["a1", "a2", "a3", "a4"]
    assert back.to_dict("records") == AWKWARD.to_dict("records")  # "007" stays "007", "NULL" is not missing


def test_blocks_hold_at_most_chunk_rows_and_keep_the_order():
    with settings.override(chunk_rows=3):
        packed = source_rows.pack(pd.concat([AWKWARD, AWKWARD.set_axis(pd.Index(list("bcde")))]), "b1")
    assert packed.blocks["block_rows"].tolist() == [3, 3, 2]
    assert source_rows.unpack(packed.blocks).index.tolist() == ["a1", "a2", "a3", "a4", *"bcde"]


def test_only_the_incidents_written_are_kept():
    packed = source_rows.pack(AWKWARD, "b1")
    assert source_rows.blocks(packed, AWKWARD.index.to_series(), "b1") is packed.blocks  # all written: as packed
    kept = source_rows.unpack(source_rows.blocks(packed, pd.Series(["a2", "a4"]), "b1"))
    assert kept.index.tolist() == ["a2", "a4"] and kept['quote"d'].tolist() == ["1e5", "NaN"]
    unpacked = source_rows.unpack(source_rows.blocks(AWKWARD, pd.Series(["a3"]), "b1"))
    assert unpacked["name, with comma"].tolist() == ['say "hi"']


def test_two_batches_compress_their_blocks_at_the_same_time():
    """Each writer thread compresses its own chunk's blocks (``Packed.blocks``, on first read) without waiting
    for another's: two uploads at once on one server. (``functools.cached_property`` held one lock for every
    ``Packed`` until Python 3.12: the second upload's writer waited for the first one's compression.)"""
    import dataclasses
    import threading

    released = threading.Event()

    class Stalling(list):  # a compression that takes until released
        def __iter__(self):
            released.wait(10)
            return super().__iter__()

    slow = dataclasses.replace(source_rows.pack(AWKWARD, "b1"), texts=Stalling(source_rows.pack(AWKWARD, "b1").texts))
    fast = source_rows.pack(AWKWARD, "b2")
    first = threading.Thread(target=lambda: slow.blocks)
    first.start()
    try:
        second = threading.Thread(target=lambda: fast.blocks)
        second.start()
        second.join(5)
        assert not second.is_alive(), "the second batch's blocks waited for the first batch's"
    finally:
        released.set()
        first.join()
    assert slow.blocks["batch_id"].tolist() == ["b1"] and fast.blocks["batch_id"].tolist() == ["b2"]


def test_a_block_is_gzip_then_base64_and_holds_no_plain_value():
    block = source_rows.pack(AWKWARD, "b1").blocks.iloc[0]
    assert "say" not in block["block_csv"] and block["block_csv"].isascii()
    import base64
    import gzip

    assert gzip.decompress(base64.b64decode(block["block_ids"])).decode() == "a1\na2\na3\na4"


def test_a_file_with_its_own_incident_id_column_is_kept_whole(any_area_store, tmp_path):
    path = write_csv(tmp_path, "own.csv", "incident_id," + HEADER + "".join(f"X-{r[0]},{r}" for r in ROWS))
    batch = ingest_incidents(any_area_store, path, source="community", org="CSO A", now=NOW)
    assert batch.accepted == 3
    kept = any_area_store.read_source_rows(batch.batch_id)
    assert sorted(kept["incident_id"]) == ["X-1", "X-2", "X-3"]  # the file's column, as it gave it
    assert sorted(kept.index) == sorted(any_area_store.read_table("incidents")["incident_id"])


def _ingest(store, tmp_path, rows, name="f.csv", **kw):
    path = write_csv(tmp_path, name, HEADER + "".join(rows))
    return ingest_incidents(store, path, source="community", org="CSO A", now=NOW, **kw)


@pytest.mark.parametrize("chunk_rows", [100_000, 1])  # one block, and the batch writer's one block per chunk
def test_a_store_keeps_each_stored_row_as_the_file_gave_it(any_area_store, tmp_path, chunk_rows):
    with settings.override(chunk_rows=chunk_rows):
        batch = _ingest(any_area_store, tmp_path, ROWS)
    stored = any_area_store.read_table("incidents")
    kept = any_area_store.read_source_rows(batch.batch_id)
    assert stored["raw"].isna().all()  # no per-row copy any more
    assert sorted(kept.index) == sorted(stored["incident_id"])
    by_id = kept.loc[stored.sort_values("external_id")["incident_id"]]
    assert by_id["description"].tolist() == ['Phone taken, at the "taxi" rank', "two\nlines", "Ünïcödé and 007"]
    assert list(kept.columns) == ["id", "date", "category", "latitude", "longitude", "description"]
    assert len(any_area_store.read_table("source_rows")) == (1 if chunk_rows > 3 else 3)


@pytest.mark.parametrize("how", ["batch writer", "commit"])
def test_rows_found_already_stored_are_not_kept_again(any_area_store, tmp_path, how):
    first = _ingest(any_area_store, tmp_path, ROWS[:2], name="a.csv")
    if how == "commit":  # the upload page: a dry run, then Confirm
        path = write_csv(tmp_path, "b.csv", HEADER + "".join(ROWS[1:]))
        prepared = prepare_incidents(any_area_store, path, source="community", org="CSO A", now=NOW)
        second = commit_incidents(any_area_store, prepared)
    else:
        second = _ingest(any_area_store, tmp_path, ROWS[1:], name="b.csv")
    assert (second.accepted, second.duplicates) == (1, 1)
    assert any_area_store.read_source_rows(second.batch_id)["id"].tolist() == ["3"]
    assert any_area_store.read_source_rows(first.batch_id)["id"].tolist() == ["1", "2"]
    assert sorted(any_area_store.read_source_rows()["id"]) == ["1", "2", "3"]


def test_erasing_a_batch_erases_its_rows_and_counts_only_data_rows(any_area_store, tmp_path):
    keep = _ingest(any_area_store, tmp_path, ROWS[:1], name="a.csv")
    gone = _ingest(any_area_store, tmp_path, [*ROWS[1:], "4,2025-03-06,Robbery,,,no place\n"], name="b.csv")
    assert (gone.accepted, gone.rejected) == (2, 1)
    removed = delete_batch(any_area_store, operator("admin"), gone.batch_id, now=NOW)
    assert removed == 3  # two incidents and one rejection; the block is a copy, not a row
    assert len(any_area_store.read_source_rows(gone.batch_id)) == 0
    assert not len(any_area_store.read_table("source_rows", where={"batch_id": gone.batch_id}))
    assert any_area_store.read_source_rows(keep.batch_id)["id"].tolist() == ["1"]


def test_rows_copied_before_schema_10_are_still_read(area_store, tmp_path):
    """A store written by an older AreaSafe holds each incident's row as JSON in ``raw``; opened by this one
    it gains ``source_rows``, and ``read_source_rows`` reads old and new copies alike."""
    old = _ingest(area_store, tmp_path, ROWS[:1], name="a.csv")
    incident_id = area_store.read_table("incidents")["incident_id"].iloc[0]
    with area_store._transaction() as conn:  # the GeoPackage functions its triggers call
        conn.execute("UPDATE incidents SET raw = ?", (json.dumps({"id": "1", "description": "as JSON"}),))
    path = area_store.path
    area_store.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE source_rows; DELETE FROM gpkg_contents WHERE table_name = 'source_rows';"
        "UPDATE areasafe_meta SET value = '9' WHERE key = 'schema_version';"
    )
    conn.commit()
    conn.close()
    store = open_store(path)
    assert store._conn.execute("SELECT value FROM areasafe_meta WHERE key = 'schema_version'").fetchone()[0] == (
        SCHEMA_VERSION
    )
    new = _ingest(store, tmp_path, ROWS[2:], name="b.csv")
    old_rows = store.read_source_rows(old.batch_id)
    assert old_rows.index.tolist() == [incident_id]
    assert old_rows.to_dict("records") == [{"id": "1", "description": "as JSON"}]
    both = store.read_source_rows()
    assert sorted(both["id"]) == ["1", "3"] and set(both.columns) >= {"date", "description"}
    assert store.read_source_rows(new.batch_id)["date"].tolist() == ["2025-03-06 18:30"]
    store.close()
