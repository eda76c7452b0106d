"""The data contracts' names: every stored column has exactly one spelling, ``COLUMNS.<name>``; a misspelt
one fails where it is written; each table's key and each area kind's code column are named once."""

from __future__ import annotations

import pickle

import pytest

from pipelines.schemas import (
    CODE_COLUMN,
    COLUMNS,
    GEOMETRY,
    LAT,
    LON,
    PLACED_KINDS,
    TABLES,
    Columns,
)

STORED = sorted({(table.name, name) for table in TABLES.values() for name in table.columns})


@pytest.mark.parametrize(("table", "name"), STORED, ids=[f"{t}.{n}" for t, n in STORED])
def test_every_stored_column_has_its_constant(table, name):
    assert name in COLUMNS
    assert getattr(COLUMNS, name) == name


def test_the_constants_are_the_stored_columns_and_the_point_columns_only():
    stored = {name for _, name in STORED}
    assert set(COLUMNS) == stored | {GEOMETRY, LON, LAT}
    assert (COLUMNS.geometry, COLUMNS.lon, COLUMNS.lat) == (GEOMETRY, LON, LAT)
    assert list(COLUMNS) == sorted(COLUMNS) and len(COLUMNS) == len(stored) + 3
    assert {name: getattr(COLUMNS, name) for name in dir(COLUMNS)} == {name: name for name in COLUMNS}


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        pytest.param("neighbourhod_code", "did you mean 'neighbourhood_code'", id="misspelt"),
        pytest.param("ward_code", "did you mean", id="not-stored"),
        pytest.param("zzz", "add the field to its Table", id="nothing-close"),
        pytest.param("_hidden", "_hidden", id="private"),
    ],
)
def test_an_unknown_name_raises_attribute_error(typed, hint):
    with pytest.raises(AttributeError, match=hint):
        getattr(COLUMNS, typed)


def test_a_misspelt_name_fails_at_import_not_in_a_frame(tmp_path, monkeypatch):
    (tmp_path / "misspelt_module.py").write_text(
        "from pipelines.schemas import COLUMNS\nSORT = [COLUMNS.neighbourhood_code, COLUMNS.ocurred_at]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AttributeError, match="'ocurred_at'; did you mean 'occurred_at'"):
        __import__("misspelt_module")


def test_the_names_are_read_only_and_one_object():
    with pytest.raises(AttributeError, match="read-only"):
        COLUMNS.neighbourhood_code = "hood"
    with pytest.raises(AttributeError, match="read-only"):
        COLUMNS.brand_new = "brand_new"
    assert COLUMNS.neighbourhood_code == "neighbourhood_code"
    assert pickle.loads(pickle.dumps(COLUMNS)) is COLUMNS
    assert "neighbourhood_code" in Columns(["neighbourhood_code"]) and "x" not in Columns(["neighbourhood_code"])


def test_each_placed_kind_has_one_code_column_in_every_placed_table():
    assert tuple(CODE_COLUMN) == PLACED_KINDS
    for kind, column in CODE_COLUMN.items():
        assert column in COLUMNS, kind
        for table in (TABLES["incidents"], TABLES["assets"]):
            assert column in table.columns, (kind, table.name)
    assert CODE_COLUMN["neighbourhood"] in TABLES["interventions"].columns


def test_every_table_key_is_one_of_its_unique_columns():
    keyed = {name: table for name, table in TABLES.items() if table.key}
    assert {"assets", "interventions", "users", "actions", "meetings"} <= set(keyed)
    for table in keyed.values():
        assert table.field(table.key).unique or table.key == "batch_id", table.name
