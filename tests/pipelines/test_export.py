"""Exports: the public view holds only published counts, every CSV neutralises formulas, exports are audited."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from pipelines import audit, export, privacy
from pipelines.errors import AreaSafeError
from pipelines.ingest.incidents import ingest_incidents
from pipelines.privacy import PUBLIC, AccessDenied, Viewer
from pipelines.store import IncidentQuery
from tests._helpers import write_csv

ADMIN = privacy.operator("tests")
HOSTILE = '=HYPERLINK("http://evil","x") <script>alert(1)</script>'


@pytest.fixture
def hostile_store(area_store, tmp_path):
    body = "id,date,category,latitude,longitude,description\n" + "".join(
        f'h{i},2025-03-0{i},{"Rape" if i == 1 else "Robbery"},-34.05,18.5{i},"{HOSTILE.replace(chr(34), chr(34) * 2)}"\n'
        for i in range(1, 8)
    )
    ingest_incidents(area_store, write_csv(tmp_path, "h.csv", body), source="community", org="@SUM(A1)")
    return area_store


def test_public_export_holds_no_point_and_no_text(demo_store, tmp_path):
    out = tmp_path / "public.geojson"
    n = export.export_public(demo_store, "geojson", out)
    features = json.loads(out.read_text())["features"]
    assert len(features) == n
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    assert {tuple(f["properties"]) for f in features} == {export.PUBLIC_COLUMNS}
    shown = [f["properties"]["incidents"] for f in features]
    assert "<5" in shown
    assert all(s == "<5" or int(s) == 0 or int(s) >= 5 for s in shown)
    descriptions = demo_store.read_incidents(IncidentQuery(columns=["description"]))["description"].dropna()
    text = out.read_text()
    assert not any(d in text for d in descriptions.sample(200, random_state=1))
    # the totals are right: areas of one kind add up to the incidents inside them
    public = export.public_view(demo_store)
    exact = privacy.published_counts(demo_store, Viewer("p", "planner")).areas
    merged = public.merge(exact, on=["kind", "code"])
    visible = merged[merged["incidents"] != "<5"]
    assert (visible["incidents"].astype(int) == visible["count"]).all()


def test_public_csv_export_with_filters(demo_store, tmp_path):
    out = tmp_path / "public.csv"
    query = IncidentQuery(categories=["sexual_offences"])
    export.export_public(demo_store, "csv", out, query=query, period="2025")
    table = pd.read_csv(out, dtype=str)
    assert list(table.columns) == [*export.PUBLIC_COLUMNS, "wkt"]
    assert set(table["categories"]) == {"sexual_offences"} and set(table["period"]) == {"2025"}
    assert not table["wkt"].str.startswith("POINT").any()


@pytest.mark.parametrize("fmt", ["gpkg", "shp"])
def test_public_export_formats(demo_store, tmp_path, fmt):
    with pytest.raises(AreaSafeError, match="a public export is geojson or csv"):
        export.export_public(demo_store, fmt, tmp_path / "x")


def test_full_export_needs_an_analyst_and_is_audited(hostile_store, tmp_path):
    for viewer in (PUBLIC, Viewer("p", "planner"), Viewer("c", "cso", "@SUM(A1)")):
        with pytest.raises(AccessDenied, match="may not use export"):
            export.export_layer(hostile_store, "csv", tmp_path / "x.csv", viewer=viewer)
    n = export.export_layer(hostile_store, "csv", tmp_path / "all.csv", viewer=ADMIN)
    entry = audit.read_log(hostile_store, ADMIN, event="export").iloc[0]
    assert entry["target"] == "all.csv" and f'"features": {n}' in entry["detail"]
    assert '"sensitive_rows": 1' in entry["detail"]


def test_every_csv_neutralises_formulas(hostile_store, tmp_path):
    export.export_layer(hostile_store, "csv", tmp_path / "all.csv", viewer=ADMIN)
    table = pd.read_csv(tmp_path / "all.csv", dtype=str)
    assert (table["description"] == "'" + HOSTILE).all()
    assert (table["org"] == "'@SUM(A1)").all()
    frame = pd.DataFrame({"a": ["=1+1", "-3", "+x", "@y", "\tz", "ok", None], "n": [1, 2, 3, 4, 5, 6, 7]})
    back = pd.read_csv(io.StringIO(export.csv_text(frame)), dtype=str, keep_default_na=False)
    assert list(back["a"]) == ["'=1+1", "-3", "'+x", "'@y", "'\tz", "ok", ""]
    assert list(back["n"]) == [str(i) for i in range(1, 8)]


def test_geojson_export_keeps_hostile_text_as_plain_data(hostile_store, tmp_path):
    out = tmp_path / "all.geojson"
    export.export_layer(hostile_store, "geojson", out, viewer=ADMIN)
    descriptions = {f["properties"]["description"] for f in json.loads(out.read_text())["features"]}
    assert descriptions == {HOSTILE}
