"""Real public data, real answers (the files live in ../shared/data/real)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.boundaries import ingest_boundaries, read_boundaries
from pipelines.ingest.counts import ingest_counts
from pipelines.ingest.incidents import ingest_incidents
from pipelines.sources.mapping import detect_mapping
from pipelines.sources.tabular import read_tabular


def test_all_saps_precincts_load_and_invalid_ones_are_repaired(store, real_data):
    batch = ingest_boundaries(store, real_data / "za-saps-precincts-2015" / "policeBounds3.json", kind="precinct")
    assert (batch.rows_read, batch.accepted) == (1143, 1143)
    assert batch.warnings == {"repaired_geometry": 2}
    areas = store.read_areas("precinct")
    assert len(areas) == 1143 and areas.is_valid.all()
    assert {"Khayelitsha", "Harare", "Philippi_East", "Lingelethu-West"} <= set(areas["code"])
    assert areas.set_index("code").loc["Philippi_East", "name"] == "Philippi East"
    _, _, notes = read_boundaries(real_data / "za-saps-precincts-2015" / "policeBounds3.json", kind="precinct")
    assert "Mtubatuba" in notes[0] and "Hluhluwe" in notes[0]


def test_zipped_file_geodatabase_loads(store, real_data):
    zipped = real_data / "khayelitsha-subdistricts-sjc" / "Sub_dist_Khayelitsha.gdb.zip"
    batch = ingest_boundaries(store, zipped, kind="neighbourhood", code_field="NAME")
    assert batch.accepted == 30  # the two features without a NAME get generated codes
    areas = store.read_areas("neighbourhood")
    assert "HARARE HOLOMISA" in set(areas["code"])


def test_police_uk_points_land_in_the_msoa_their_lsoa_implies(store, real_data):
    batch = ingest_boundaries(
        store,
        real_data / "london-msoa-2011" / "MSOA_2011_London_gen_MHW.shp",
        kind="neighbourhood",
        code_field="MSOA11CD",
        name_field="MSOA11NM",
    )
    assert batch.accepted == 983 and batch.warnings == {"repaired_geometry": 4}
    names = store.read_areas("neighbourhood").set_index("code")["name"]
    for month in ("2018-12", "2021-12"):
        csv = real_data / "uk-police-street-city-of-london" / f"{month}-city-of-london-street.csv"
        # Every MSOA around the City is loaded, so points just outside one (bridges and the river bank,
        # 30-104 m outside the shoreline-clipped boundaries) are the City's or its neighbours': snap them.
        result = ingest_incidents(store, csv, source="municipal", org=f"City of London Police {month}", snap_m=150)
        assert result.rows_read == result.accepted + result.rejected + result.duplicates
        assert result.outside_areas == 0 and result.warnings["near_boundary"] == {"2018-12": 11, "2021-12": 10}[month]
        raw = pd.read_csv(csv, dtype=str)
        assert result.rows_read == len(raw)
        # rows without coordinates are rejected, unless an identical row came first (then a duplicate)
        assert set(result.rejections) == {"missing_location"}
        assert result.rejections["missing_location"] <= int(raw["Latitude"].isna().sum())
    incidents = store.read_table("incidents")
    lsoa = incidents["incident_id"].map(store.read_source_rows()["LSOA name"])
    expected = lsoa.str[:-1]
    got = incidents["neighbourhood_code"].map(names)
    share = (got == expected).mean()
    assert share >= 0.97, f"only {share:.1%} of points in the MSOA their LSOA implies"


def test_sf_incidents_every_row_accounted_for(store, real_data):
    csv = real_data / "sf-police-incidents-2018-12" / "Police_Department_Incident_Reports__2018_to_Present.csv"
    batch = ingest_incidents(store, csv, source="municipal", org="SFPD")
    assert batch.rows_read == 11884
    assert batch.rows_read == batch.accepted + batch.rejected + batch.duplicates
    assert batch.rejections == {"missing_location": 608}
    assert batch.accepted == 11884 - 608
    assert store.count("incidents") == batch.accepted and store.count("rejections") == 608
    incidents = store.read_incidents()
    local = incidents["occurred_at"].dt.tz_convert("America/Los_Angeles")
    # The SF times are local Pacific time read as SAST (the configured zone): dates stay within a day.
    assert incidents["occurred_at"].min() >= pd.Timestamp("2018-11-30", tz="UTC")
    assert local.dt.month.isin([11, 12]).all()
    assert (incidents["category"] != "other").mean() > 0.95


@pytest.mark.parametrize(
    ("name", "lat_col", "rows", "accepted"),
    [
        pytest.param("good.csv", "_location_latitude", 9, 9, id="good"),  # "n/a" date: submission time
        pytest.param("tutorial_w_repeats.csv", "_gps_latitude", 1, 1, id="repeats"),
        pytest.param("nested_repeats.csv", "_gps_latitude", 2, 2, id="nested-groups"),
        pytest.param("tutorial_w_repeats_flattened.csv", "_gps_latitude", 2, 1, id="flattened-repeat-is-dup"),
    ],
)
def test_real_kobo_exports_parse(store, real_data, name, lat_col, rows, accepted):
    csv = real_data / "kobo-odk-export-fixtures" / "kobocat" / name
    raw = read_tabular(csv)
    mapping = detect_mapping(list(raw.frame.columns), raw.frame)
    assert mapping.format == "kobo" and mapping.lat == lat_col
    batch = ingest_incidents(store, csv, source="community", org="Kobo test")
    assert (batch.rows_read, batch.accepted) == (rows, accepted)
    assert batch.rows_read == batch.accepted + batch.rejected + batch.duplicates
    kept = store.read_source_rows(batch.batch_id)
    assert len(kept) == batch.accepted
    assert any("/" in c for c in kept.columns) or name == "good.csv"


def test_kobo_geopoint_column_and_trailing_delimiters(store, real_data):
    csv = real_data / "kobo-odk-export-fixtures" / "kobocat" / "tutorial_w_repeats.csv"
    batch = ingest_incidents(
        store, csv, source="community", format="kobo", overrides={"lat": "", "lon": "", "geopoint": "gps"}
    )
    point = store.read_incidents().geometry.iloc[0]
    assert batch.accepted == 1 and (round(point.y, 4), round(point.x, 4)) == (-1.2626, 36.7922)
    transport = real_data / "kobo-odk-export-fixtures" / "kobocat" / "transportation.csv"
    assert read_tabular(transport).frame.shape[0] == 4  # rows carry one trailing comma more than the header


def test_kobo_api_json_geolocation_pairs(real_data):
    """The GPL Kobo JSON is read in place (never copied): its ``_geolocation`` "[lat, lon]" parses."""
    from pipelines.ingest.validate import split_geopoint

    doc = json.loads((real_data / "kobo-odk-export-fixtures" / "formpack-gpl3" / "all_geo_types_v1.json").read_text())
    values = pd.Series([str(s["_geolocation"]) for s in doc["submissions"]], dtype="string[pyarrow]")
    lat, lon = split_geopoint(values)
    assert (lat.iloc[0], lon.iloc[0]) == (39.306938, -76.60869)


def test_saps_station_statistics_load_by_tolerant_name(store, real_data):
    ingest_boundaries(store, real_data / "za-saps-precincts-2015" / "policeBounds3.json", kind="precinct")
    batch = ingest_counts(store, real_data / "za-saps-station-crimestats-2005-2016" / "SouthAfricaCrimeStats_v2.csv")
    assert batch.rows_read == 30861
    assert batch.rows_read == batch.accepted + batch.rejected
    # Every station matches a precinct id: by name, ignoring spaces, or through data/area_aliases.yaml
    # (Bathlaros is Batlharos in the boundaries).
    assert (batch.accepted, batch.warnings) == (30861, {"matched_by_alias": 27})
    assert batch.notes == (
        "1 station name matched a stored precinct other than by its name: 'Bathlaros' (Northern Cape) as "
        "'Batlharos' (spelling).",
    )
    counts = store.read_table("area_counts")
    # The columns 2005-2006 ... 2015-2016 are SAPS financial years, stored as SAPS labels them.
    assert set(counts["period"]) == {f"{y}/{(y + 1) % 100:02d}" for y in range(2005, 2016)}
    harare = counts[(counts["area_code"] == "Harare") & (counts["period"] == "2015/16")]
    assert harare["category"].nunique() == 27 and (harare["category"] != "other").all()
    assert (harare["period_start"].iloc[0], harare["period_end"].iloc[0]) == ("2015-04-01", "2016-03-31")


def test_cape_town_schools_as_assets(store, real_data):
    ingest_boundaries(store, real_data / "za-saps-precincts-2015" / "policeBounds3.json", kind="precinct")
    batch = ingest_assets(store, real_data / "za-schools-capetown-2017" / "wc_schools_city_of_cape_town_2017.csv")
    assert batch.rows_read == 928
    # 6 rows without coordinates ("." in the DBE list); the row at lon 118.68 is valid but outside every precinct
    assert (batch.accepted, batch.rejected, batch.rejections) == (922, 6, {"missing_location": 6})
    assert store.read_assets()["precinct_code"].isna().sum() == 2
    assets = store.read_assets()
    assert (assets["abcd_category"] == "institutions").all()
    assert assets["precinct_code"].value_counts()["Harare"] == 20


# --- real third-party exports kept in the repository (tests/data/real, each with its PROVENANCE.md) ---
EXPORTS = Path(__file__).resolve().parents[1] / "data" / "real"


def test_real_ushahidi_month_first_export_is_read_month_first(store):
    """Ushahidi v2 download re-saved in Excel: ``10/25/15 15:00``; 23 of 35 rows prove month first."""
    csv = EXPORTS / "ushahidi-rni-2015-month-first" / "RNI_download_20160811.csv"
    batch = ingest_incidents(store, csv, source="community", org="RNI")
    assert (batch.rows_read, batch.accepted, batch.rejected) == (35, 35, 0)
    assert "ambiguous_date_order" not in batch.warnings
    raw = pd.read_csv(csv, dtype=str)
    expected = pd.to_datetime(raw["INCIDENT DATE"], format="%m/%d/%y %H:%M")
    stored = store.read_table("incidents")
    written = stored["incident_id"].map(store.read_source_rows()["INCIDENT DATE"])
    got = pd.to_datetime(stored["occurred_at"], utc=True).dt.tz_convert("Africa/Johannesburg").dt.tz_localize(None)
    assert (got.to_numpy() == expected.set_axis(raw["INCIDENT DATE"]).loc[written].to_numpy()).all()


def test_real_ushahidi_day_first_export_stays_day_first(store):
    csv = EXPORTS / "ushahidi-haiti-2010" / "Haiti_first472.csv"
    batch = ingest_incidents(store, csv, source="community", org="Ushahidi Haiti")
    assert (batch.rows_read, batch.accepted) == (472, 472)
    assert "ambiguous_date_order" not in batch.warnings
    occurred = store.read_incidents()["occurred_at"].dt.tz_convert("Africa/Johannesburg")
    assert occurred.min() >= pd.Timestamp("2010-01-12", tz="Africa/Johannesburg")  # the earthquake
    assert occurred.max() < pd.Timestamp("2010-07-06", tz="Africa/Johannesburg")


PERSON = ["Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity"]


@pytest.mark.parametrize(
    ("name", "located"),
    [
        pytest.param("2020-01-derbyshire-stop-and-search.csv", 181, id="derbyshire"),
        pytest.param("2020-01-leicestershire-stop-and-search.csv", 336, id="leicestershire"),
        pytest.param("2019-12-south-yorkshire-stop-and-search.csv", 0, id="south-yorkshire-no-coordinates"),
    ],
)
def test_real_police_uk_stop_and_search_keeps_every_search(store, name, located):
    csv = EXPORTS / "uk-police-stop-and-search" / name
    raw = pd.read_csv(csv, dtype=str)
    identical = int(raw.drop(columns=PERSON).duplicated().sum())  # alike in what AreaSafe keeps
    batch = ingest_incidents(store, csv, source="municipal", org=name)
    assert batch.format == "police-uk"
    assert (batch.rows_read, batch.accepted, batch.duplicates) == (len(raw), located, 0)
    assert batch.rows_read == batch.accepted + batch.rejected
    assert batch.warnings["identical_row"] == identical > 0
    assert not set(PERSON) & set(store.read_source_rows().columns)
    assert not store.read_table("rejections")["raw"].map(lambda r: set(PERSON) & set(json.loads(r))).any()
    again = ingest_incidents(store, csv, source="municipal", org=name, keep_identical_rows=False)
    assert again.batch_id == batch.batch_id  # the same file again adds nothing


def test_real_police_uk_stop_and_search_can_drop_identical_rows(store):
    csv = EXPORTS / "uk-police-stop-and-search" / "2020-01-leicestershire-stop-and-search.csv"
    raw = pd.read_csv(csv, dtype=str)
    identical = int(raw.drop(columns=PERSON).duplicated().sum())
    batch = ingest_incidents(store, csv, source="municipal", org="Leicestershire", keep_identical_rows=False)
    assert (batch.accepted, batch.duplicates) == (len(raw) - identical, identical)
    assert batch.warnings["identical_row_dropped"] == identical


def test_real_police_uk_street_crime_keeps_identical_antisocial_behaviour_rows(store, real_data):
    csv = real_data / "uk-police-street-city-of-london" / "2018-12-city-of-london-street.csv"
    raw = pd.read_csv(csv, dtype=str)
    no_id = raw[raw["Crime ID"].isna()]
    batch = ingest_incidents(store, csv, source="municipal", org="City of London Police")
    assert batch.duplicates == int(raw["Crime ID"].dropna().duplicated().sum())  # same crime id: one record
    assert batch.warnings["identical_row"] == int(no_id.duplicated().sum()) == 35
    assert batch.rows_read == batch.accepted + batch.rejected + batch.duplicates == len(raw)


def test_real_kobo_form_date_question_wins_over_form_metadata(real_data):
    """KoboCAT's fixture has ``date`` (the form's question), ``today``, ``start_time`` and ``_submission_time``."""
    raw = read_tabular(real_data / "kobo-odk-export-fixtures" / "kobocat" / "good.csv")
    mapping = detect_mapping(list(raw.frame.columns), raw.frame)
    assert (mapping.date, mapping.fallback_date) == ("date", "_submission_time")
    renamed = raw.frame.rename(columns={"date": "date_of_event"})
    mapping = detect_mapping(list(renamed.columns), renamed)
    assert mapping.date == "date_of_event"  # not Kobo's own "today"
