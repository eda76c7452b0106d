"""Crosswalks (pipelines.crosswalk) on the real City of Cape Town 2021 wards and the real 2015 SAPS precincts,
and on tiny boxes whose shares can be worked out on paper."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from pipelines import crosswalk
from pipelines.ingest.boundaries import ingest_boundaries
from pipelines.ingest.counts import ingest_counts
from pipelines.settings import DEMO_DIR
from tests._helpers import REAL

WARDS = REAL / "cct-wards-2021" / "Wards.shp"
PRECINCTS = DEMO_DIR / "precincts.geojson"  # the real 2015 SAPS precincts (data/demo/PROVENANCE.md)
SAPS = DEMO_DIR / "saps_station_stats.csv"  # real SAPS station statistics of those precincts


@pytest.fixture
def cape_town(store):
    if not WARDS.exists():
        pytest.skip(f"{WARDS} is not present")
    ingest_boundaries(store, WARDS, kind="ward", municipality="City of Cape Town")
    ingest_boundaries(store, PRECINCTS, kind="precinct")
    ingest_counts(store, SAPS, org="SAPS")
    return store


def test_real_wards_load_as_a_versioned_third_kind(cape_town):
    wards = cape_town.read_areas("ward")
    assert len(wards) == 116 and set(wards["kind"]) == {"ward"}
    assert wards.set_index("code").loc["2021-099", "name"] == "Ward 99"
    versions = crosswalk.boundary_versions(cape_town)
    assert versions[["version", "year", "file_name", "areas"]].to_dict("records") == [
        {"version": "City of Cape Town wards, 2021 demarcation", "year": 2021, "file_name": "Wards.shp", "areas": 116}
    ]
    # Wards are not precincts or neighbourhoods: no incident is placed in them when stored.
    assert len(cape_town.read_areas("precinct")) == 6


def test_apportioned_counts_add_up_to_the_precinct_totals(cape_town):
    wards, version = crosswalk.ward_areas(cape_town)
    walk = crosswalk.store_crosswalk(cape_town, wards, version)
    counts = cape_town.read_table("area_counts")
    shared = crosswalk.apportion(counts, walk, by=["period", "category"])
    by_precinct = counts.groupby(["period", "category"])["count"].sum()
    by_wards = shared.groupby(["period", "category"])["count"].sum()
    assert len(by_precinct) == 11 * 27
    assert_allclose(by_wards.reindex(by_precinct.index).to_numpy(), by_precinct.to_numpy(), rtol=1e-12)
    assert set(walk.methods.values()) == {crosswalk.BY_AREA}  # no finer population is loaded
    # Every precinct's shares add up to 1, even where 2015 precinct lines run past the 2021 wards (Harare).
    assert_allclose(walk.pieces.groupby("source")["weight"].sum().to_numpy(), 1.0)
    assert walk.uncovered["PD199011"] == pytest.approx(0.0085, abs=0.001)


def test_a_ward_that_straddles_two_precincts_gets_its_share_from_both(cape_town):
    wards, version = crosswalk.ward_areas(cape_town)
    walk = crosswalk.store_crosswalk(cape_town, wards, version)
    pieces = walk.for_target("2021-099").set_index("source")
    assert set(pieces.index) == {"PD199011", "PD199017"}  # Harare and Lingelethu-West
    # By hand, in a metric CRS: each precinct's share is the part of it inside ward 99 over its part inside any ward.
    utm = 32734
    precincts = cape_town.read_areas("precinct").set_index("code").to_crs(utm)
    all_wards = wards.to_crs(utm).union_all()
    ward = wards[wards["code"] == "2021-099"].to_crs(utm).geometry.iloc[0]
    for code in pieces.index:
        shape = precincts.geometry[code]
        expected = shape.intersection(ward).area / shape.intersection(all_wards).area
        assert pieces.loc[code, "weight"] == pytest.approx(expected, rel=2e-3)
    counts = cape_town.read_table("area_counts")
    year = counts[counts["period"] == "2015/16"].groupby("area_code")["count"].sum()
    shared = crosswalk.apportion(year.rename("count").reset_index(), walk)
    ward_99 = shared.set_index("target").loc["2021-099"]
    assert ward_99["sources"] == 2
    assert ward_99["count"] == pytest.approx(
        pieces.loc["PD199011", "weight"] * year["PD199011"] + pieces.loc["PD199017", "weight"] * year["PD199017"]
    )
    assert "Harare, Lingelethu-West" in walk.sentence(list(pieces.index)) and "in proportion to area" in walk.sentence()


def test_the_rate_over_several_wards_is_total_incidents_over_total_residents(cape_town):
    wards, version = crosswalk.ward_areas(cape_town)
    walk = crosswalk.store_crosswalk(cape_town, wards, version)
    precincts = cape_town.read_areas("precinct").rename(columns={"code": "area_code"})
    population = crosswalk.apportion(precincts, walk, value="population").set_index("target")["population"]
    counts = cape_town.read_table("area_counts")
    year = counts[counts["period"] == "2015/16"].groupby("area_code")["count"].sum().rename("count").reset_index()
    shared = crosswalk.apportion(year, walk).set_index("target")["count"]
    chosen = ["2021-093", "2021-097", "2021-098", "2021-099"]  # Harare, Lingelethu-West and Khayelitsha wards
    rate = crosswalk.combined_rate(shared[chosen], population[chosen])
    assert rate == pytest.approx(shared[chosen].sum() / population[chosen].sum() * 1000)
    rates = shared[chosen] / population[chosen] * 1000
    assert abs(rate - rates.mean()) > 0.5 and abs(rate - rates.sum()) > 100  # neither a mean nor a sum of rates
    # Over every ward, the rate is the precincts' own: total SAPS crimes over total residents.
    everything = crosswalk.combined_rate(shared, population.reindex(shared.index))
    assert everything == pytest.approx(year["count"].sum() / precincts["population"].sum() * 1000)


# -- on paper: residents or area ------------------------------------------------------------------------
def _frame(codes, shapes, **columns):
    return gpd.GeoDataFrame({"code": codes, "name": codes, **columns}, geometry=shapes, crs="EPSG:4326")


P_RES = shapely.box(18.50, -34.02, 18.52, -34.00)  # a precinct whose residents are known finer
P_AREA = shapely.box(18.52, -34.02, 18.54, -34.00)  # one whose residents are not
W_LEFT = shapely.box(18.50, -34.02, 18.51, -34.00)
W_RIGHT = shapely.box(18.51, -34.02, 18.54, -34.00)


def test_residents_weight_a_precinct_where_a_finer_layer_covers_it_and_area_elsewhere():
    precincts = _frame(["P1", "P2"], [P_RES, P_AREA])
    wards = _frame(["W1", "W2"], [W_LEFT, W_RIGHT])
    residents = _frame(["F1", "F2"], [W_LEFT, shapely.box(18.51, -34.02, 18.52, -34.00)], population=[900, 100])
    walk = crosswalk.crosswalk(precincts, wards, version="test wards", residents=residents, residents_from="test")
    weights = walk.pieces.set_index(["source", "target"])["weight"]
    assert weights[("P1", "W1")] == pytest.approx(0.9) and weights[("P1", "W2")] == pytest.approx(0.1)
    assert weights[("P2", "W2")] == pytest.approx(1.0)
    assert walk.methods == {"P1": crosswalk.BY_RESIDENTS, "P2": crosswalk.BY_AREA}
    sentence = walk.sentence()
    assert "P1 are shared out to wards in proportion to the residents" in sentence
    assert "P2 are shared out to wards in proportion to area" in sentence and "test wards" in sentence
    by_area = crosswalk.crosswalk(precincts, wards, version="test wards")
    assert by_area.pieces.set_index(["source", "target"])["weight"][("P1", "W1")] == pytest.approx(0.5, rel=1e-3)


def test_points_are_placed_in_wards_directly():
    wards = _frame(["W2", "W1"], [W_RIGHT, W_LEFT])
    points = [shapely.Point(18.505, -34.01), shapely.Point(18.51, -34.01), shapely.Point(19.0, -34.0), None]
    assert crosswalk.ward_of_points(points, wards).tolist() == ["W1", "W1", None, None]  # border: smaller code
    lines = _frame(["a", "b"], [shapely.LineString([(18.505, -34.01), (18.53, -34.01)]), shapely.Point(19, -34)])
    assert list(crosswalk.in_ward(lines, wards.iloc[0])["code"]) == ["a"]


@pytest.mark.parametrize(
    ("ward", "version", "message"),
    [
        pytest.param("999", None, r"--ward '999' is not a stored ward of this version; give a ward number", id="ward"),
        pytest.param(
            "99", "2031", r"--boundary-version '2031' is not stored; stored ward versions: 'City", id="version"
        ),
    ],
)
def test_unknown_wards_and_versions_are_refused_with_what_is_stored(cape_town, ward, version, message):
    with pytest.raises(crosswalk.WardError, match=message):
        wards, _ = crosswalk.ward_areas(cape_town, version)
        crosswalk.resolve_ward(wards, ward)


def test_no_wards_says_how_to_load_them(store):
    with pytest.raises(crosswalk.WardError, match="areasafe ingest boundaries --kind ward"):
        crosswalk.ward_areas(store)


def test_two_demarcations_side_by_side_and_the_user_picks(cape_town, tmp_path):
    later = json.loads((DEMO_DIR / "wards.geojson").read_text())
    for feature in later["features"]:
        feature["properties"]["WARD_YEAR"] = 2026
    path = tmp_path / "wards2026.geojson"
    path.write_text(json.dumps(later))
    ingest_boundaries(cape_town, path, kind="ward", version="CCT wards 2026 demarcation (test copy)")
    assert list(crosswalk.boundary_versions(cape_town)["version"]) == [
        "CCT wards 2026 demarcation (test copy)",
        "City of Cape Town wards, 2021 demarcation",
    ]
    assert crosswalk.version_names(cape_town) == list(crosswalk.boundary_versions(cape_town)["version"])
    latest, label = crosswalk.ward_areas(cape_town)
    assert label.startswith("CCT wards 2026") and len(latest) == 34 and latest["code"].str.startswith("2026-").all()
    older, label = crosswalk.ward_areas(cape_town, "2021")
    assert len(older) == 116 and label == "City of Cape Town wards, 2021 demarcation"
    walk = crosswalk.store_crosswalk(cape_town, older, label)
    assert walk.sentence().endswith("Wards: City of Cape Town wards, 2021 demarcation.")
    assert np.isclose(crosswalk.combined_rate([1, 2], [0, 0]), np.nan, equal_nan=True)
    assert isinstance(crosswalk.apportion(pd.DataFrame(columns=["area_code", "count"]), walk), pd.DataFrame)


def test_points_are_not_stored_in_wards_on_either_backend(any_store, tmp_path, capsys):
    """A ward covers the metro; an incident inside a ward but outside every precinct is still outside the
    areas, and nothing swaps or snaps to a ward, in Python and in PostGIS's own placement."""
    from pipelines import cli
    from pipelines.ingest.incidents import ingest_incidents
    from tests._helpers import write_csv

    if not WARDS.exists():
        pytest.skip(f"{WARDS} is not present")
    assert cli.main(["--store", any_store.url, "ingest", "boundaries", str(WARDS), "--kind", "ward"]) == 0
    assert "116 accepted" in capsys.readouterr().out
    ingest_boundaries(any_store, PRECINCTS, kind="precinct")
    rows = "id,date,category,lat,lon\n1,2025-03-01,Robbery,-34.04,18.66\n2,2025-03-01,Robbery,-33.92,18.42\n"
    rows += "3,2025-03-01,Robbery,18.42,-33.92\n"  # swapped, in a ward (Cape Town centre) and no precinct
    batch = ingest_incidents(any_store, write_csv(tmp_path, "i.csv", rows), source="community", org="A")
    assert batch.outside_areas == 2 and "swapped_coordinates" not in batch.warnings
    stored = any_store.read_incidents().set_index("external_id").sort_index()
    assert stored["precinct_code"].tolist() == ["PD199017", None, None]  # Lingelethu-West
    assert list(crosswalk.boundary_versions(any_store)["version"]) == ["Wards, 2021 demarcation"]
