"""pipelines.sources.limits and the upload paths that call it (issue #15, findings 1 and 7).

Finding 1: an upload's name reached the disk (``read_vector(name)``), so a client that rewrote it to a
server path imported that server file. Finding 7: the row limit was checked after parsing, so a small
hostile file cost minutes and gigabytes before it was refused. Both are tested from outside: through
the real Streamlit page and the real upload functions, with the files an attacker would send.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import access, settings
from pipelines.errors import AreaSafeError
from pipelines.privacy.viewer import Viewer
from pipelines.settings import SETTINGS, STORE_ENV
from pipelines.sources import limits
from pipelines.sources.geofile import read_vector
from pipelines.sources.tabular import read_tabular
from tests import _hostile as hostile
from tests._helpers import app_login, copy_store

APP = str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py")
IN_HARARE = (18.674, -34.0592)  # inside the demo's Harare neighbourhood
FAST = 2.0  # seconds; refusing these files took 79-113 s before


def _parks(name: str) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": name, "status": "planned", "type": "park"},
                    "geometry": {"type": "Point", "coordinates": list(IN_HARARE)},
                }
            ],
        }
    ).encode()


@pytest.fixture
def server_file(tmp_path):
    """A real GeoJSON file on the server that nobody uploaded."""
    path = tmp_path / "server-only.geojson"
    path.write_bytes(_parks("SERVER SECRET PARK"))
    return path


@pytest.fixture
def demo_copy(demo_store, tmp_path):
    return copy_store(demo_store, tmp_path / "copy.gpkg")


# --------------------------------------------------------------------------------------------------
# Finding 1: an upload is its bytes
# --------------------------------------------------------------------------------------------------
def _import_on_page(store, monkeypatch, name: str, data: bytes) -> AppTest:
    monkeypatch.setenv(STORE_ENV, store.url)
    at = AppTest.from_file(APP, default_timeout=120)
    app_login(at, store, "act_member")
    at.run()
    at.switch_page("app_pages/registers.py").run()
    at.radio(key="r_kind").set_value("interventions").run()
    at.file_uploader(key="r_interventions_file").set_value((name, data, "application/geo+json")).run()
    at.button(key="r_interventions_import").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_an_honest_geojson_import_through_the_page_works(demo_copy, monkeypatch):
    at = _import_on_page(demo_copy, monkeypatch, "parks.geojson", _parks("Uploaded park"))
    assert not at.error, [e.value for e in at.error]
    assert any("1 accepted" in s.value for s in at.success)
    assert "Uploaded park" in set(demo_copy.read_interventions()["name"])


@pytest.mark.parametrize("as_path", [True, False], ids=["server-geojson-path", "etc-passwd"])
def test_a_server_path_as_the_file_name_is_only_a_label(demo_copy, monkeypatch, server_file, as_path):
    name = str(server_file) if as_path else "/etc/passwd.geojson"
    at = _import_on_page(demo_copy, monkeypatch, name, _parks("Uploaded park"))
    names = set(demo_copy.read_interventions()["name"])
    assert "SERVER SECRET PARK" not in names  # the server file was never read
    assert "Uploaded park" in names  # the bytes that were sent were
    batch = demo_copy.read_batches().iloc[0]
    assert batch["file_name"] == Path(name).name and "/" not in batch["file_name"]
    assert not at.error


def test_incident_uploads_read_the_bytes_not_the_name(demo_copy, server_file):
    incidents = json.loads(_parks("x"))
    incidents["features"][0]["properties"] = {"date": "2025-11-02", "category": "stabbing", "id": "u-1"}
    prepared = access.prepare_upload(
        demo_copy, Viewer("p", "planner"), str(server_file), json.dumps(incidents).encode(), source="municipal"
    )
    assert prepared.batch.rows_read == 1
    assert "stabbing" in json.dumps(prepared.incidents.drop(columns="geometry").to_dict("records"), default=str)
    assert prepared.batch.file_name == server_file.name


@pytest.mark.parametrize(
    "content",
    [
        b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{path}</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>',
        b'{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! read {path} ! write --of stream x"}',
    ],
    ids=["vrt", "gdalg"],
)
@pytest.mark.parametrize("name", ["parks.geojson", "parks.json", "parks.gpkg", "parks.fgb"])
def test_uploaded_bytes_cannot_make_gdal_open_a_server_file(server_file, content, name):
    data = content.replace(b"{path}", str(server_file).encode())
    for padded in (data, b" " * 5000 + data):  # also past the 4 kB the marker check looks at
        with pytest.raises(AreaSafeError):
            read_vector(name, data=padded)


@pytest.mark.parametrize(
    "name, label",
    [("/etc/passwd.geojson", "passwd.geojson"), ("C:\\Users\\x\\a.csv", "a.csv"), ("../..", "upload"), ("", "upload")],
)
def test_upload_name_drops_directories(name, label):
    assert limits.upload_name(name) == label


# --------------------------------------------------------------------------------------------------
# Finding 7: limits before work
# --------------------------------------------------------------------------------------------------
def _gap_workbook() -> bytes:
    """Two rows, the second numbered 1,000,000: openpyxl fills the gap with empty rows."""
    return hostile.sheet_workbook(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1000000"><c r="A1000000"><v>2</v></c></row>'
    )


def _wide_ref_workbook() -> bytes:
    """One cell, at column XFD (16,384): openpyxl fills the row with empty cells up to it."""
    return hostile.sheet_workbook('<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="XFD2"><v>2</v></c></row>')


HOSTILE = [
    pytest.param(
        "rows.xlsx", hostile.million_row_workbook, r"Row limit: .* at least 100,001 data rows", id="1M-row-xlsx"
    ),
    pytest.param(
        "wide.csv", hostile.wide_csv, r"Column limit: .* 100,000 columns .* up to 1,000", id="100k-column-csv"
    ),
    pytest.param(
        "line.csv", lambda: hostile.long_line_csv(50 * 2**20), r"Size limit: .* 50.0 MB; .* up to 25 MB", id="50MB-line"
    ),
    pytest.param(
        "line.csv",
        lambda: hostile.long_line_csv(20 * 2**20),
        r"Line length limit: .* 20 MB .* up to 1 MB",
        id="20MB-line",
    ),
    pytest.param(
        "park.geojson",
        lambda: hostile.geojson_polygon(2_000_000),
        r"Vertex limit: .* 2,000,000 vertices; .* up to 1,000,000",
        id="2M-vertex-polygon",
    ),
    pytest.param("areas.zip", hostile.zip_bomb, r"zip bomb", id="zip-bomb"),
    pytest.param(
        "rows.xlsx",
        _gap_workbook,
        r"Row limit: .* at least 999,999 data rows",
        id="xlsx-row-reference-gap",
    ),
    pytest.param("wide.xlsx", _wide_ref_workbook, r"Column limit: .* 16,384", id="xlsx-XFD"),
    pytest.param(
        "sheets.xlsx",
        lambda: hostile.many_sheets_workbook(3_000),
        r"Sheet limit: sheets.xlsx has 3,000 sheets; the dashboard accepts up to 100",
        id="3000-sheets",
    ),
    pytest.param(
        "strings.xlsx",
        lambda: hostile.shared_strings_workbook(200_000, used=2),
        r"Shared text limit: .* more than 10,002 pieces of text while its sheets have 2 cells of text",
        id="unused-shared-strings",
    ),
    pytest.param(
        "rows.csv", lambda: b"a,b\n" + b"1,2\n" * 1_000_000, r"Row limit: .* at least 100,001", id="1M-row-csv"
    ),
    pytest.param(
        "ragged.csv",
        lambda: b"a,b\n1,2\n" + b"," * 500_000 + b"\n",
        r"Column limit: .* 500,001 columns on line 3",
        id="ragged",
    ),
]


@pytest.mark.parametrize("name, make, message", HOSTILE)
def test_hostile_files_are_refused_quickly_and_say_what_to_do(name, make, message):
    data = make()
    started = time.perf_counter()
    with pytest.raises(AreaSafeError, match=message) as refused:
        limits.check_upload(name, data)
    assert time.perf_counter() - started < FAST
    text = str(refused.value)
    assert "zip bomb" in text or "areasafe ingest" in text


@pytest.mark.parametrize("name, make, message", [HOSTILE[0], HOSTILE[4], HOSTILE[5]])
def test_hostile_register_imports_store_nothing(demo_copy, name, make, message):
    before = {table: demo_copy.count(table) for table in ("interventions", "batches", "rejections")}
    data = make()
    started = time.perf_counter()
    with pytest.raises(AreaSafeError, match=message):
        access.import_register(demo_copy, Viewer("attacker", "planner"), "interventions", name, data)
    assert time.perf_counter() - started < FAST
    assert {table: demo_copy.count(table) for table in before} == before


def test_a_hostile_file_on_the_page_shows_the_limit_and_stores_nothing(demo_copy, monkeypatch):
    before = demo_copy.count("batches")
    at = _import_on_page(demo_copy, monkeypatch, "park.geojson", hostile.geojson_polygon(2_000_000))
    assert any("Vertex limit" in e.value and "2,000,000" in e.value for e in at.error)
    assert demo_copy.count("batches") == before


def test_files_at_the_limits_pass(monkeypatch):
    small = dataclasses.replace(SETTINGS, max_upload_rows=3, max_upload_columns=3, max_line_bytes=20)
    monkeypatch.setattr(settings, "SETTINGS", small)
    limits.check_upload("ok.csv", b'a,b,c\n1,2,3\n4,"x\ny",6\n7,8,9\n')  # a quoted line break is one row
    limits.check_upload("ok.xlsx", hostile.workbook([["a", "b", "c"], ["1", "2", "3"], ["4"], ["7"]]))
    with pytest.raises(AreaSafeError, match="Row limit: ok.csv has at least 4 data rows"):
        limits.check_upload("ok.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n")
    with pytest.raises(AreaSafeError, match="Row limit: ok.xlsx has at least 4 data rows"):
        limits.check_upload("ok.xlsx", hostile.workbook([["a"], ["1"], ["2"], ["3"], ["4"]]))
    with pytest.raises(AreaSafeError, match="Column limit: ok.csv has 4 columns in its header row"):
        limits.check_upload("ok.csv", b"a,b,c,d\n1,2,3,4\n")


def test_workbooks_whose_sheets_use_their_shared_text_pass():
    limits.check_upload("ok.xlsx", hostile.shared_strings_workbook(20_000, used=20_000))
    limits.check_upload("ok.xlsx", hostile.many_sheets_workbook(SETTINGS.max_upload_sheets))
    raw = read_tabular("ok.xlsx", data=hostile.many_sheets_workbook(30))
    assert raw.notes[0].endswith("'S11' and 19 more (choose another with the sheet option)")  # not all 29 named


def test_size_message_says_mb_as_the_docs_do():
    with pytest.raises(AreaSafeError, match=r"is 26.0 MB; the dashboard accepts files up to 25 MB"):
        limits.check_size("big.csv", 26 * 2**20)
    limits.check_size("ok.csv", SETTINGS.max_upload_bytes)
    docs = (Path(__file__).resolve().parents[3] / "docs" / "dashboard.md").read_text()
    for field in (
        "max_upload_bytes",
        "max_upload_rows",
        "max_upload_columns",
        "max_line_bytes",
        "max_upload_vertices",
        "max_upload_sheets",
    ):
        assert f"`{field}`" in docs  # every limit is documented
    assert "| `max_upload_bytes` | 25 MB |" in docs
