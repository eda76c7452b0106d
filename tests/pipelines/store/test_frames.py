"""The frame rules both store backends share (pipelines.store.frames), and the one write path in base."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely

from pipelines import schemas
from pipelines.store import StoreError, _gpkg_write, frames
from pipelines.store.base import Store
from pipelines.store.gpkg import GeoPackageStore
from pipelines.store.postgis import PostGISStore

STORE_PACKAGE = Path(frames.__file__).parent


def test_commit_save_and_the_batch_write_loop_are_written_once():
    for backend in (GeoPackageStore, PostGISStore):
        assert backend.commit is Store.commit
        assert backend._write_stream is Store._write_stream
        assert backend._write_frames is Store._write_frames
        assert backend.save is Store.save and backend._save is Store._save


def test_store_error_is_one_of_the_errors_pages_show():
    from pipelines.errors import AreaSafeError
    from pipelines.store import base

    assert issubclass(StoreError, AreaSafeError) and base.StoreError is StoreError


def test_datetimes_are_one_text_on_both_backends():
    from pipelines.store import _pg_copy

    values = pd.Series(
        [pd.Timestamp("2025-03-04 10:00:00.123987", tz="Africa/Johannesburg"), pd.NaT, pd.Timestamp("1999-12-31")]
    )
    text, missing = frames.datetime_texts(values)
    assert missing.tolist() == [False, True, False]
    assert text[0] == frames.format_datetime(values[0]) == "2025-03-04T08:00:00.123Z"  # UTC, truncated to ms
    assert text[2] == frames.format_datetime(values[2]) == "1999-12-31T00:00:00.000Z"  # naive means UTC
    spec = schemas.INCIDENTS
    assert _gpkg_write.column_values(spec, "occurred_at", values) == [text[0], None, text[2]]
    assert _pg_copy._encode_column("datetime", values).to_pylist() == [text[0], None, text[2]]


def test_text_columns_store_non_text_as_its_str_on_both_backends():
    from pipelines.store import _pg_copy

    values = pd.Series([17, "a", None, 2.5, np.nan, "b"], dtype=object)
    expected = ["17", "a", None, "2.5", None, "b"]
    assert frames.text_values(values).tolist() == expected
    assert _gpkg_write.column_values(schemas.INCIDENTS, "external_id", values) == expected
    assert _pg_copy._encode_column("text", values).to_pylist() == expected


def test_dedupe_prefix_reads_the_same_in_arrow_and_pandas():
    keys = ["community|A|id:1", "community|A|", "municipal|B|row:ab|c", "no-prefix", "one|bar"]
    by_pandas = pd.Series(keys).str.extract(frames.DEDUPE_PREFIX, expand=False).tolist()
    by_arrow = [p or None for p in pc.extract_regex(pa.array(keys), frames.DEDUPE_PREFIX).field(0).to_pylist()]
    assert by_pandas[:3] == by_arrow[:3] == ["community|A|", "community|A|", "municipal|B|"]
    assert pd.isna(by_pandas[3]) and pd.isna(by_pandas[4]) and by_arrow[3:] == [None, None]


def _areas(crs: str) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: ["x"] for c in schemas.AREAS.columns})
    return gpd.GeoDataFrame(frame, geometry=[shapely.box(0, 0, 1, 1)], crs=crs)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        pytest.param(_areas("EPSG:4326").drop(columns="code"), r"columns \['code'\] are missing", id="missing-column"),
        pytest.param(_areas("EPSG:3857"), "CRS is EPSG:3857, expected EPSG:4326; call to_crs", id="wrong-crs"),
    ],
)
def test_frames_without_the_tables_columns_or_crs_are_refused(frame, match):
    with pytest.raises(StoreError, match=match):
        frames.check_frame(schemas.AREAS, frame)


def test_a_frame_in_the_store_crs_or_as_coordinates_passes():
    frames.check_frame(schemas.AREAS, _areas("EPSG:4326"))
    coordinates = pd.DataFrame({c: [None] for c in schemas.INCIDENTS.columns})  # no CRS: coordinates by contract
    frames.check_frame(schemas.INCIDENTS, coordinates)


def test_unknown_tables_are_named_with_the_tables_there_are():
    with pytest.raises(StoreError, match="unknown table 'people'; tables are areas, "):
        frames.check_table("people")


def test_outside_areas_means_no_code_of_any_placed_kind():
    incidents = pd.DataFrame({"precinct_code": ["P1", None, None], "neighbourhood_code": [None, "N1", None]})
    assert frames.outside_areas(incidents).tolist() == [False, False, True]


def _private_imports(path: Path) -> list[str]:
    """``from pipelines.x import _name`` where ``_name`` is not itself a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipelines"):
            for alias in node.names:
                if alias.name.startswith("_") and not _is_module(f"{node.module}.{alias.name}"):
                    found.append(f"{path.name}: from {node.module} import {alias.name}")
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def test_the_store_imports_no_private_names_from_other_modules():
    found = [hit for path in sorted(STORE_PACKAGE.glob("*.py")) for hit in _private_imports(path)]
    assert found == []


def test_the_postgis_store_does_not_import_the_geopackage_store():
    tree = ast.parse((STORE_PACKAGE / "postgis.py").read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "pipelines.store.gpkg" not in modules and "pipelines.store.frames" in modules
