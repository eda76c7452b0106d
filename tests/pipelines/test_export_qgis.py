"""``areasafe export gpkg`` gives planners the same QGIS file from PostGIS as from the embedded store."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyogrio
import pytest

from pipelines.export import EXPORT_LAYERS


@pytest.fixture(scope="module")
def gpkg_demo(tmp_path_factory):
    """The demo built into a GeoPackage of this module's own (the session's demo store is written to
    by other tests)."""
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    path = tmp_path_factory.mktemp("export") / "demo.gpkg"
    with open_store(path) as store:
        build_demo(store)
    return str(path)


@pytest.fixture(scope="module")
def postgis_demo(pg_cluster, pg_demo_template):
    url = pg_cluster.create_database(template=pg_demo_template)
    yield url
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


def _export(store: str, layer: str, out) -> None:
    command = [sys.executable, "-m", "pipelines.cli", "--store", store, "export", "gpkg", str(out), "--layer", layer]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def _batch_names(store_url: str) -> dict[str, str]:
    """batch id -> "kind file": ids are random per ingest, the files they came from are not."""
    from pipelines.store import open_store

    with open_store(store_url) as store:
        batches = store.read_batches()
    return dict(zip(batches["batch_id"], batches["kind"] + " " + batches["file_name"], strict=True))


@pytest.mark.parametrize("layer", EXPORT_LAYERS)
def test_export_gpkg_is_the_same_from_both_backends(gpkg_demo, postgis_demo, tmp_path, layer):
    files = {"gpkg": tmp_path / "from_gpkg.gpkg", "postgis": tmp_path / "from_postgis.gpkg"}
    _export(gpkg_demo, layer, files["gpkg"])
    _export(postgis_demo, layer, files["postgis"])
    listed = {k: pyogrio.list_layers(f).tolist() for k, f in files.items()}
    assert listed["gpkg"] == listed["postgis"] == [[layer, listed["gpkg"][0][1]]]
    infos = {k: pyogrio.read_info(f, layer=layer) for k, f in files.items()}
    for key in ("fields", "dtypes", "geometry_type", "features"):
        assert list(infos["gpkg"][key]) == list(infos["postgis"][key]) if key != "features" else True, key
    assert infos["gpkg"]["features"] == infos["postgis"]["features"] > 0
    assert infos["gpkg"]["crs"] == infos["postgis"]["crs"] == "EPSG:4326"
    frames = {k: pyogrio.read_dataframe(f, layer=layer) for k, f in files.items()}
    gpkg, postgis = frames["gpkg"], frames["postgis"]
    names = {"gpkg": _batch_names(gpkg_demo), "postgis": _batch_names(postgis_demo)}
    for key, frame in frames.items():
        frame["batch_id"] = frame["batch_id"].map(names[key])  # compare where rows came from, not random ids
        assert frame["batch_id"].notna().all()
    # Same rows in the same order, same columns, same values, same geometries.
    pd.testing.assert_frame_equal(
        pd.DataFrame(gpkg.drop(columns="geometry")), pd.DataFrame(postgis.drop(columns="geometry"))
    )
    assert gpkg.geometry.geom_equals_exact(postgis.geometry, tolerance=0).all()
