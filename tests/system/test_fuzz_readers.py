"""Hypothesis fuzzing of every reader: arbitrary bytes give a clean AreaSafeError, never a crash.

Each reader gets pure noise and noise behind the magic bytes or header of its format (so the fuzzer
gets past the first check and into the parser). Runtime is kept modest: ~100-150 examples per reader.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.errors import AreaSafeError
from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.boundaries import read_boundaries
from pipelines.ingest.incidents import prepare_incidents, read_incident_file
from pipelines.sources.geofile import read_vector
from pipelines.sources.mapping import load_mapping_file
from pipelines.sources.tabular import read_tabular
from pipelines.taxonomy import load_taxonomy

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NOISE = st.binary(max_size=1_500)
PREFIXES = {
    ".csv": [b"", b"id,date,category,latitude,longitude,description\n", b"\xef\xbb\xbfa;b;c\n", b'"a","b\n'],
    ".xlsx": [b"", b"PK\x03\x04\x14\x00\x06\x00"],
    ".xls": [b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
    ".geojson": [b"", b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":', b"{"],
    ".json": [b"", b'{"type":"Topology","objects":{'],
    ".gpkg": [b"", b"SQLite format 3\x00"],
    ".fgb": [b"", b"fgb\x03fgb\x00"],
    ".kml": [b"", b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'],
    ".shp": [b"", b"\x00\x00'\n\x00\x00\x00\x00"],
    ".zip": [b"", b"PK\x03\x04"],
    ".yaml": [b"", b"columns:\n  lat: ", b"format: kobo\ncategories:\n"],
}


def _payload(suffix: str):
    return st.tuples(st.sampled_from(PREFIXES[suffix]), NOISE).map(lambda parts: parts[0] + parts[1])


def _file(folder: Path, suffix: str, data: bytes) -> Path:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


def _clean(call) -> None:
    """The call returns, or raises an AreaSafeError; anything else is a crash."""
    try:
        call()
    except AreaSafeError as exc:
        assert str(exc).strip(), "an error with no message is not actionable"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".xls"])
@FUZZ
@given(data=st.data())
def test_read_tabular(suffix, data):
    payload = data.draw(_payload(suffix))
    _clean(lambda: read_tabular(f"upload{suffix}", data=payload))


@pytest.mark.parametrize("suffix", [".geojson", ".json", ".gpkg", ".fgb", ".kml", ".shp", ".zip"])
@FUZZ
@given(data=st.data())
def test_read_vector(suffix, data):
    payload = data.draw(_payload(suffix))
    with tempfile.TemporaryDirectory() as folder:
        path = _file(Path(folder), suffix, payload)
        _clean(lambda: read_vector(path))
        _clean(lambda: read_boundaries(path, kind="neighbourhood"))


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".xlsx"])
@FUZZ
@given(data=st.data())
def test_read_incident_file(suffix, data):
    payload = data.draw(_payload(suffix))
    with tempfile.TemporaryDirectory() as folder:
        path = _file(Path(folder), suffix, payload)
        _clean(lambda: read_incident_file(path, data=payload))


@FUZZ
@given(payload=_payload(".yaml"))
def test_load_mapping_file(payload):
    with tempfile.TemporaryDirectory() as folder:
        path = _file(Path(folder), ".yaml", payload)
        _clean(lambda: load_mapping_file(path))


@settings(max_examples=60, deadline=None)
@given(payload=_payload(".yaml"))
def test_load_taxonomy(payload):
    with tempfile.TemporaryDirectory() as folder:
        path = _file(Path(folder), ".yaml", b"categories:\n" + payload)
        _clean(lambda: load_taxonomy(path))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@FUZZ
@given(data=st.data())
def test_upload_dry_run(area_store, suffix, data):
    """The dashboard's upload path (read, map, validate, place) on arbitrary bytes: nothing is written."""
    payload = data.draw(_payload(suffix))
    _clean(lambda: prepare_incidents(area_store, f"survey{suffix}", source="community", data=payload))
    assert area_store.count("incidents") == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_payload(".csv"))
def test_register_import(area_store, payload):
    _clean(lambda: ingest_assets(area_store, "assets.csv", data=payload, abcd_category="physical"))


# --------------------------------------------------------------------------------------------------
# Zip archives: path traversal and bombs (pipelines.sources.geofile)
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "member", ["../evil.geojson", "/etc/passwd.geojson", "a/../../evil.shp", "C:/evil.geojson"], ids=str
)
def test_zip_path_traversal_is_refused(tmp_path, member):
    path = tmp_path / "areas.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, b'{"type":"FeatureCollection","features":[]}')
    with pytest.raises(AreaSafeError, match="unsafe path"):
        read_vector(path)


def test_zip_bomb_is_refused_without_unpacking(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("areas.geojson", b" " * 50_000_000)  # 50 MB of spaces packs to ~50 kB
    assert path.stat().st_size < 200_000
    with pytest.raises(AreaSafeError, match="zip bomb"):
        read_vector(path)


# zipfile itself cannot write a member name holding NUL, so the names leave it out.
@FUZZ
@given(
    names=st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    body=NOISE,
)
def test_zip_with_arbitrary_member_names(names, body):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "areas.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name in names:
                archive.writestr(name + ".geojson", body)
        _clean(lambda: read_vector(path))
        assert sorted(p.name for p in Path(folder).iterdir()) == ["areas.zip"]  # nothing was extracted
