"""Boundary files (pipelines.ingest.boundaries): which layer, merged codes, names."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from pipelines.cli import main
from pipelines.errors import UnusableFileError
from pipelines.ingest.boundaries import ingest_boundaries
from tests._helpers import EAST, HOOD, WEST

REAL_EXPORTS = Path(__file__).resolve().parents[2] / "data" / "real"
WORLD = REAL_EXPORTS / "world-atlas-topojson" / "countries-110m.json"


def test_topojson_with_two_objects_is_refused_with_both_listed(store):
    """world-atlas: `countries` (177) and `land` (1). Loading `land` silently made one unnamed area."""
    with pytest.raises(UnusableFileError) as caught:
        ingest_boundaries(store, WORLD, kind="precinct")
    assert str(caught.value) == (
        "countries-110m.json holds 2 layers that could be the areas: countries (177 features), land (1 feature). "
        "Nothing was loaded. Choose one with --layer NAME, e.g. --layer countries."
    )
    assert store.count("areas") == 0 and store.count("batches") == 0


def test_layer_picks_a_topojson_object(store):
    batch = ingest_boundaries(store, WORLD, kind="precinct", layer="countries")
    assert (batch.rows_read, batch.accepted) == (177, 177)
    areas = store.read_areas("precinct").set_index("code")
    assert areas.loc["710", "name"] == "South Africa"
    assert (areas["name"].str.startswith("Unnamed")).sum() == 0
    # `land` is no GeometryCollection: GDAL reads it into a layer called TopoJSON; the user's name works.
    land = ingest_boundaries(store, WORLD, kind="neighbourhood", layer="land")
    assert land.accepted == 1 and store.read_areas("neighbourhood").geometry.iloc[0].area > 10_000


def test_an_unknown_layer_lists_the_layers(store):
    with pytest.raises(UnusableFileError, match="layer 'states' not found; its layers are: countries, land"):
        ingest_boundaries(store, WORLD, kind="precinct", layer="states")


def test_cli_layer_option(tmp_path, capsys):
    store = str(tmp_path / "s.gpkg")
    assert main(["--store", store, "ingest", "boundaries", str(WORLD), "--kind", "precinct"]) == 2
    assert "Choose one with --layer NAME" in capsys.readouterr().err
    assert (
        main(["--store", store, "ingest", "boundaries", str(WORLD), "--kind", "precinct", "--layer", "countries"]) == 0
    )
    assert "177 rows read, 177 accepted" in capsys.readouterr().out


def _geopackage(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    for name, frame in layers.items():
        frame.to_file(path, layer=name, driver="GPKG")
    return path


def test_geopackage_with_two_polygon_layers_is_refused_one_with_points_is_not(store, tmp_path):
    precincts = gpd.GeoDataFrame({"name": ["West", "East"]}, geometry=[WEST, EAST], crs=4326)
    hoods = gpd.GeoDataFrame({"name": ["Hood"]}, geometry=[HOOD], crs=4326)
    points = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(18.55, -34.05)], crs=4326)
    two = _geopackage(tmp_path / "two.gpkg", {"precincts": precincts, "hoods": hoods})
    with pytest.raises(UnusableFileError, match=r"2 layers .*: precincts \(2 features\), hoods \(1 feature\)"):
        ingest_boundaries(store, two, kind="precinct")
    one = _geopackage(tmp_path / "one.gpkg", {"stations": points, "precincts": precincts})
    assert ingest_boundaries(store, one, kind="precinct").accepted == 2


def _geojson(path: Path, features: list[tuple[dict, shapely.Geometry]]) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": p, "geometry": json.loads(shapely.to_geojson(g))} for p, g in features
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def test_features_sharing_a_code_are_merged_and_reported(store, tmp_path, capsys):
    path = _geojson(
        tmp_path / "wards.geojson",
        [
            ({"code": "W1", "name": "Ward 1 north"}, WEST),
            ({"code": "W1", "name": "Ward 1 south"}, shapely.box(18.5, -34.2, 18.6, -34.1)),
            ({"code": "W2", "name": "Ward 2"}, EAST),
        ],
    )
    batch = ingest_boundaries(store, path, kind="precinct")
    assert (batch.rows_read, batch.accepted, batch.warnings) == (3, 3, {"merged_features": 2})
    assert batch.notes == (
        "2 features shared 1 code in the column 'code' and were stored as one area per code: 'W1' (2 features, "
        "named 'Ward 1 north', 'Ward 1 south'). If features with one code are different areas, load the file "
        "again with --code-field naming the column that tells them apart.",
        "3 features read, stored as 2 areas.",
    )
    areas = store.read_areas("precinct").set_index("code")
    assert len(areas) == 2 and areas.loc["W1"].geometry.area == pytest.approx(0.02)
    assert json.loads(store.read_batches()["notes"].iloc[0])[1] == "3 features read, stored as 2 areas."
    assert (
        main(["--store", str(tmp_path / "store.gpkg"), "ingest", "boundaries", str(path), "--kind", "neighbourhood"])
        == 0
    )
    assert "  note: 2 features shared 1 code" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("properties", "name"),
    [
        pytest.param({"id": "a1", "title": "Site B"}, "Site B", id="geojson-title"),
        pytest.param({"OBJECTID": 7, "name_en": "Harare"}, "Harare", id="name_en"),
        pytest.param({"iso": "ZA", "ADMIN": "South Africa"}, "South Africa", id="ADMIN"),
        pytest.param({"LAD11CD": "E09000001", "LAD11NM": "City of London"}, "City of London", id="LAD11NM"),
        pytest.param({"code": "S1", "SUBURB_NAME": "Makhaza"}, "Makhaza", id="name-like-column"),
    ],
)
def test_a_name_like_property_names_the_area(store, tmp_path, properties, name):
    path = _geojson(tmp_path / "a.geojson", [(properties, WEST)])
    ingest_boundaries(store, path, kind="neighbourhood")
    assert store.read_areas("neighbourhood")["name"].tolist() == [name]


def test_one_file_loaded_as_another_layer_or_kind_is_not_skipped_as_identical(store):
    first = ingest_boundaries(store, WORLD, kind="precinct", layer="countries")
    again = ingest_boundaries(store, WORLD, kind="neighbourhood", layer="countries")
    assert again.batch_id != first.batch_id and len(store.read_areas("neighbourhood")) == 177
    assert ingest_boundaries(store, WORLD, kind="neighbourhood", layer="countries").batch_id == again.batch_id


OVERPASS = REAL_EXPORTS / "overpass-turbo-geojson" / "edinburgh-bicycle-parking-2015.geojson"


def test_an_overpass_export_loads_its_polygons_and_accounts_for_its_points(tmp_path):
    """overpass-turbo mixes points of interest with polygons: the polygons are the areas, every point is a
    rejected row with its reason, and nothing is lost (it used to refuse the file, pointing at --layer,
    which cannot help a file of one layer)."""
    from pipelines.store import open_store

    store = open_store(tmp_path / "s.gpkg")
    batch = ingest_boundaries(store, OVERPASS, kind="neighbourhood")
    assert (batch.rows_read, batch.accepted, batch.rejected) == (625, 9, 616)
    assert batch.rejections == {"not_an_area": 616}
    assert any("Left aside 616 features that are not areas (616 Point)" in n for n in batch.notes)
    assert len(store.read_areas("neighbourhood")) == 9
    stored = store.read_table("rejections", where={"batch_id": batch.batch_id})
    assert len(stored) == 616 and set(stored["reason"]) == {"not_an_area"}
    assert json.loads(stored["raw"].iloc[0])["@id"].startswith("node/")


def test_a_file_of_points_is_refused_with_where_it_goes(tmp_path):
    points = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(18.6, -34.0)], crs=4326)
    path = tmp_path / "points.geojson"
    points.to_file(path)
    from pipelines.store import open_store

    with pytest.raises(UnusableFileError, match="only Point features: boundaries are polygons.*ingest assets"):
        ingest_boundaries(open_store(tmp_path / "s.gpkg"), path, kind="neighbourhood")
