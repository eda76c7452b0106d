"""Checks on the committed demo data set in ``data/demo/`` and on its generator.

Place in the data flow: ``scripts/make_demo_data.py`` (the package ``scripts/demo_data/``, its specification
``spec.yaml``) writes ``data/demo/``; ``areasafe demo`` ingests it.
These tests read the committed files the way an independent user would (geopandas, csv, json), check
that they have the promised shape and that the planted features (emerging hotspot, dirty rows, PII) are
there in the numbers ``planted.json`` states, re-run the generator to prove the files are byte-for-byte
reproducible, and run it on an edited copy of the specification to prove the YAML is what drives them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from scripts.demo_data import FILES, load_spec
from tests.system.test_taxonomy_data import SAPS_CATEGORIES as TAXONOMY_SAPS_CATEGORIES

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "data" / "demo"
SHARED = REPO_ROOT.parent / "shared" / "data" / "real"
GENERATOR = REPO_ROOT / "scripts" / "make_demo_data.py"
TAXONOMY = REPO_ROOT / "data" / "taxonomy.yaml"

GENERATED = (*FILES, "PROVENANCE.md")  # what the generator writes, PROVENANCE.md (their sha256) last
PRECINCT_CODES = {
    "PD199011": "Harare",
    "PD199017": "Lingelethu-West",
    "PD199022": "Khayelitsha",
    "PD199024": "Philippi East",
    "PD199027": "Nyanga",
    "PD199030": "Gugulethu",
}
SAPS_CATEGORIES = set(TAXONOMY_SAPS_CATEGORIES)  # one list, kept in the taxonomy tests
WINDOW = ("2024-11-01", "2026-10-31")
SPEC = load_spec()  # scripts/demo_data/spec.yaml: the one list of the Kobo export columns, among others


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_csv(name: str) -> pd.DataFrame:
    """A demo CSV exactly as text: no type guessing, empty cells stay empty strings."""
    return pd.read_csv(DEMO / name, dtype=str, keep_default_na=False)


def _norm(term: str) -> str:
    return " ".join(term.lower().split())


def _luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _distance_m(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    north = (lat - lat0) * 111_320.0
    east = (lon - lon0) * 111_320.0 * math.cos(math.radians(lat0))
    return np.hypot(north, east)


@pytest.fixture(scope="module")
def planted() -> dict:
    return json.loads((DEMO / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def precincts() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO / "precincts.geojson")


@pytest.fixture(scope="module")
def hoods() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO / "neighbourhoods.geojson")


@pytest.fixture(scope="module")
def incidents() -> pd.DataFrame:
    return _read_csv("incidents_municipal.csv")


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return _read_csv("cso_survey_kobo.csv")


@pytest.fixture(scope="module")
def taxonomy_terms() -> set[str]:
    taxonomy = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    return {_norm(t) for cat in taxonomy["categories"] for t in cat["terms"]}


# ------------------------------------------------------------------------------------------- files
def test_files_present_and_small() -> None:
    missing = [name for name in GENERATED if not (DEMO / name).is_file()]
    assert not missing, f"missing demo files: {missing}; run python scripts/make_demo_data.py"
    # The budget covers the whole folder, including files other modules keep there (e.g. context roads).
    total = sum(p.stat().st_size for p in DEMO.iterdir() if p.is_file())
    assert total < 8 * 1024 * 1024, f"data/demo is {total / 1e6:.1f} MB, budget 8 MB"
    kobo_fixtures = {"good.csv", "bad.csv", "edit.csv", "single.csv", "export.csv", "tutorial_w_repeats.csv"}
    kobo_fixtures |= {"LICENSE.kobocat.txt", "all_geo_types_v1.json", "grouped_repeatable_v1.json"}
    copied = sorted(p.name for p in DEMO.iterdir() if p.name in kobo_fixtures)
    assert not copied, f"Kobo fixture files must not be copied into data/demo: {copied}"


def test_provenance_lists_sha256_of_every_generated_file() -> None:
    text = (DEMO / "PROVENANCE.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^    ([0-9a-f]{64})  (\S+)$", text.split("## sha256 of the generated files")[1], re.M))
    listed = {name: digest for digest, name in listed.items()}
    expected = {name: _sha256(DEMO / name) for name in GENERATED if name != "PROVENANCE.md"}
    assert listed == expected
    assert "SIMULATED" in text and "areal-weighting ESTIMATE" in text


@pytest.mark.slow
def test_generator_is_byte_reproducible(tmp_path: Path) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent, so the demo cannot be regenerated here; the committed files are checked")
    subprocess.run(
        [sys.executable, str(GENERATOR), "--shared", str(SHARED), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
    )
    differing = [name for name in GENERATED if _sha256(tmp_path / name) != _sha256(DEMO / name)]
    assert not differing, f"regenerated files differ from the committed ones: {differing}"


@pytest.mark.slow
def test_the_yaml_spec_drives_the_output(tmp_path: Path) -> None:
    """An edited copy of spec.yaml (700 fewer municipal rows, one asset renamed) changes exactly what it says."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent, so the demo cannot be regenerated here")
    text = (REPO_ROOT / "scripts" / "demo_data" / "spec.yaml").read_text(encoding="utf-8")
    assert text.count("\n  rows: 19700\n") == 1 and text.count("- name: Harare Library\n") == 1
    edited = text.replace("\n  rows: 19700\n", "\n  rows: 19000\n").replace(
        "- name: Harare Library\n", "- name: Harare Public Library\n"
    )
    (tmp_path / "spec.yaml").write_text(edited, encoding="utf-8")
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--shared", str(SHARED), "--out", str(out), "--spec", str(tmp_path / "spec.yaml")],
        check=True, capture_output=True, cwd=REPO_ROOT,
    )  # fmt: skip
    planted = json.loads((out / "planted.json").read_text(encoding="utf-8"))
    hotspot = sum(planted["emerging_hotspot"]["incidents_per_month"].values())
    duplicates = planted["incidents_municipal"]["dirty_rows"]["duplicate_rows"]
    incidents = pd.read_csv(out / "incidents_municipal.csv", dtype=str, keep_default_na=False)
    assert len(incidents) == planted["incidents_municipal"]["rows"] == 19_000 + hotspot + duplicates
    assets = pd.read_csv(out / "assets_other.csv", dtype=str, keep_default_na=False)
    assert "Harare Public Library" in set(assets["name"]) and "Harare Library" not in set(assets["name"])
    # Each file draws from its own random stream: what the edit does not touch stays byte for byte.
    same = [
        "precincts.geojson",
        "neighbourhoods.geojson",
        "schools.csv",
        "cso_survey_kobo.csv",
        "interventions.geojson",
    ]
    assert [name for name in same if _sha256(out / name) != _sha256(DEMO / name)] == []


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        pytest.param(
            "\n  rows: 1500\n", "\n  rows: 1500\n  row: 1600\n", r"Survey has unknown keys \['row'\]", id="typo"
        ),
        pytest.param("\n  duplicates: 8\n", "\n", r"Survey has .*missing keys \['duplicates'\]", id="missing"),
    ],
)
def test_the_spec_refuses_unknown_and_missing_keys(tmp_path: Path, old: str, new: str, match: str) -> None:
    text = (REPO_ROOT / "scripts" / "demo_data" / "spec.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    (tmp_path / "spec.yaml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        load_spec(tmp_path / "spec.yaml")


# ------------------------------------------------------------------------------------------- areas
def test_precincts(precincts: gpd.GeoDataFrame) -> None:
    assert precincts.crs.to_epsg() == 4326
    assert dict(zip(precincts["code"], precincts["name"], strict=True)) == PRECINCT_CODES
    assert list(precincts.columns) == ["code", "name", "municipality", "population", "geometry"]
    assert (precincts["municipality"] == "City of Cape Town").all()
    assert precincts.loc[precincts["code"] == "PD199011", "population"].item() == 180564
    assert precincts.is_valid.all()
    assert not re.search(r"\d\.\d{7,}", (DEMO / "precincts.geojson").read_text()), "coordinates beyond 6 decimals"


def test_neighbourhoods(hoods: gpd.GeoDataFrame, precincts: gpd.GeoDataFrame) -> None:
    assert len(hoods) == 30 and hoods["code"].is_unique
    assert list(hoods.columns) == ["code", "name", "municipality", "population", "geometry"]
    by_code = hoods.set_index("code")
    assert by_code.loc["KHA-HARARE-HOLOMISA", "name"] == "Harare Holomisa"
    assert by_code.loc["KHA-KHAYELITSHA-T2-V2B", "name"] == "Khayelitsha T2-V2B"
    assert by_code.loc["KHA-UNNAMED-1", "name"] == "Unnamed sub-area 1"
    # The unnamed features duplicate RR SECTION (west) and KHAYELITSHA SP (east) in the source.
    assert by_code.loc["KHA-UNNAMED-1", "geometry"].equals(by_code.loc["KHA-RR-SECTION", "geometry"])
    assert by_code.loc["KHA-UNNAMED-2", "geometry"].equals(by_code.loc["KHA-KHAYELITSHA-SP", "geometry"])
    assert (hoods["population"] > 0).all() and hoods.is_valid.all()
    # An areal-weighting estimate can never exceed the population of the precincts it overlaps.
    distinct = hoods[~hoods["code"].str.startswith("KHA-UNNAMED")]
    assert distinct["population"].sum() <= precincts["population"].sum()


def test_schools_are_real_rows() -> None:
    text = (DEMO / "schools.csv").read_text(encoding="utf-8")
    schools = _read_csv("schools.csv")
    assert len(schools.columns) == 45 and schools.columns[0] == "NatEmis"
    assert {"GIS_Longitude", "GIS_Latitude", "Institution_Name", "Learner_Number 2017"} <= set(schools.columns)
    lon = pd.to_numeric(schools["GIS_Longitude"], errors="coerce")
    lat = pd.to_numeric(schools["GIS_Latitude"], errors="coerce")
    usable = lon.between(16, 33) & lat.between(-35, -22)
    assert int((~usable).sum()) == 3 and len(schools) == 120
    if SHARED.is_dir():
        source = (SHARED / "za-schools-capetown-2017" / "wc_schools_city_of_cape_town_2017.csv").read_text("utf-8")
        source_lines = set(source.splitlines())
        assert all(line in source_lines for line in text.splitlines()), "schools.csv lines must be unmodified"


def test_assets(hoods: gpd.GeoDataFrame) -> None:
    from pipelines.schemas import ABCD_CATEGORIES

    assets = _read_csv("assets_other.csv")
    assert list(assets.columns) == [
        "name", "abcd_category", "type", "custodian", "sharing_consent", "latitude", "longitude"
    ]  # fmt: skip
    people = assets["abcd_category"] == "individuals"
    assert (assets.loc[~people, "sharing_consent"] == "").all() and (assets.loc[people, "sharing_consent"] != "").any()
    assert 20 <= len(assets) <= 30 and assets["name"].is_unique
    assert set(assets["abcd_category"]) == set(ABCD_CATEGORIES)
    union = hoods.union_all()
    inside = shapely.contains_xy(union, assets["longitude"].astype(float), assets["latitude"].astype(float))
    assert inside.all()


# ------------------------------------------------------------------------------------------- incidents
def _coordinate_dirt(frame: pd.DataFrame, lat_col: str, lon_col: str) -> pd.Series:
    lat = pd.to_numeric(frame[lat_col], errors="coerce")
    lon = pd.to_numeric(frame[lon_col], errors="coerce")
    kind = pd.Series("", index=frame.index)
    kind[(frame[lat_col] == "") & (frame[lon_col] == "")] = "empty"
    kind[(lat == 0) & (lon == 0)] = "zero"
    kind[lat.between(16, 33) & lon.between(-35, -22)] = "swapped"
    return kind


def test_incidents_shape(incidents: pd.DataFrame, planted: dict, taxonomy_terms: set[str]) -> None:
    assert list(incidents.columns) == [
        "case_number",
        "date_time",
        "crime_type",
        "latitude",
        "longitude",
        "description",
        "station",
    ]
    assert len(incidents) == planted["incidents_municipal"]["rows"]
    assert 19_000 <= len(incidents) <= 21_000
    assert set(incidents["crime_type"]) <= SAPS_CATEGORIES
    assert {_norm(t) for t in incidents["crime_type"]} <= taxonomy_terms
    assert set(incidents["station"]) == set(PRECINCT_CODES.values())
    assert incidents["date_time"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    assert incidents["date_time"].min() >= WINDOW[0] and incidents["date_time"].max() < "2026-11-01"


def test_incidents_dirty_rows(incidents: pd.DataFrame, planted: dict) -> None:
    expected = planted["incidents_municipal"]["dirty_rows"]
    kind = _coordinate_dirt(incidents, "latitude", "longitude").value_counts()
    assert int(kind.get("empty", 0)) == expected["empty_coordinates"] == 60
    assert int(kind.get("zero", 0)) == expected["zero_coordinates"] == 40
    assert int(kind.get("swapped", 0)) == expected["swapped_coordinates"] == 40
    assert int(incidents.duplicated().sum()) == expected["duplicate_rows"] == 50
    assert int(incidents["case_number"].duplicated().sum()) == 50, "only exact duplicates may share a case number"


def test_incidents_temporal_pattern(incidents: pd.DataFrame) -> None:
    when = pd.to_datetime(incidents["date_time"], format="%Y-%m-%d %H:%M")
    night = when.dt.hour.isin([18, 19, 20, 21, 22, 23, 0, 1])
    assert night.mean() > 0.45, "evening/night (18:00-02:00) should hold about half the incidents"
    weekend = when.dt.day_of_week >= 4
    assert weekend.mean() > 3 / 7 + 0.05, "Friday-Sunday should be above their 3/7 share"
    payday = (when.dt.day >= 25) | (when.dt.day == 1)
    per_day_payday = payday.sum() / 8
    per_day_other = (~payday).sum() / 22.4
    assert per_day_payday > 1.15 * per_day_other


def test_emerging_hotspot(incidents: pd.DataFrame, planted: dict, precincts, hoods) -> None:
    hot = planted["emerging_hotspot"]
    assert hot["months"] == ["2026-08", "2026-09", "2026-10"] and hot["radius_m"] == 150
    point = shapely.Point(hot["lon"], hot["lat"])
    assert precincts.loc[precincts.contains(point), "code"].tolist() == [hot["precinct_code"]] == ["PD199011"]
    assert hoods.loc[hoods.contains(point), "code"].tolist() == [hot["neighbourhood_code"]]
    assert "HARARE" in hot["neighbourhood_code"]

    kind = _coordinate_dirt(incidents, "latitude", "longitude")
    clean = incidents[kind == ""]
    lat, lon = clean["latitude"].astype(float).to_numpy(), clean["longitude"].astype(float).to_numpy()
    month = clean["date_time"].str[:7]
    near = pd.Series(_distance_m(lat, lon, hot["lat"], hot["lon"]) <= hot["radius_m"], index=clean.index)
    per_month = month[near].value_counts()
    for m in hot["months"]:
        assert per_month.get(m, 0) >= 60 and per_month.get(m, 0) >= hot["incidents_per_month"][m]
    before = per_month[per_month.index < hot["months"][0]]
    assert before.max() <= 3, f"the hotspot must be new, but earlier months had {before.to_dict()}"

    # At H3 resolution 9 the hotspot cell stands out in the last three months and is quiet before.
    cells = pd.Series([h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon, strict=True)], index=clean.index)
    hot_cell = h3.latlng_to_cell(hot["lat"], hot["lon"], 9)
    recent = month >= hot["months"][0]
    recent_counts = cells[recent].value_counts()
    assert recent_counts.index[0] == hot_cell and recent_counts.iloc[0] >= 150
    assert int((cells[~recent] == hot_cell).sum()) <= 21


# ------------------------------------------------------------------------------------------- survey
def test_survey_layout(survey: pd.DataFrame, planted: dict) -> None:
    assert list(survey.columns) == list(SPEC.survey.columns)
    assert list(survey.columns[:3]) == ["start", "end", "today"] and survey.columns[-1] == "_submitted_by"
    assert len(survey) == planted["cso_survey_kobo"]["rows"]
    assert 1_400 <= len(survey) <= 1_600
    assert (survey["meta/instanceID"] == "uuid:" + survey["_uuid"]).all()
    assert survey["_uuid"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()
    assert survey["_submission_time"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    assert survey["start"].str.endswith("+02:00").all()
    assert (survey["_validation_status"] == "{}").all()
    located = survey[survey["incident/location"] != ""]
    parts = located["incident/location"].str.split(" ", expand=True)
    assert (parts[0] == located["incident/_location_latitude"]).all()
    assert (parts[1] == located["incident/_location_longitude"]).all()
    filled = (survey["reporter/reporter_name"] != "").mean()
    assert 0.25 <= filled <= 0.35


def test_survey_dates_are_day_first(survey: pd.DataFrame) -> None:
    parsed = pd.to_datetime(survey["incident/incident_date"], format="%d/%m/%Y", errors="coerce")
    ok = parsed.notna() & (parsed <= pd.Timestamp(WINDOW[1]))
    assert (parsed[ok].dt.day > 12).mean() > 0.4, "days above 12 make the dd/mm order unambiguous"
    recent = (survey["today"] >= "2026-05-01").sum()
    early = (survey["today"] < "2025-05-01").sum()
    assert recent > 1.5 * early, "the survey should be denser in later months"


def test_survey_dirty_rows(survey: pd.DataFrame, planted: dict) -> None:
    expected = planted["cso_survey_kobo"]["dirty_rows"]
    assert expected == {
        "missing_location": 15,
        "swapped_coordinates": 10,
        "future_date": 5,
        "unparseable_date": 5,
        "duplicate_submission": 8,
    }
    first = survey.drop_duplicates()
    kind = _coordinate_dirt(first, "incident/_location_latitude", "incident/_location_longitude").value_counts()
    assert int(kind.get("empty", 0)) == expected["missing_location"]
    assert int(kind.get("swapped", 0)) == expected["swapped_coordinates"]
    parsed = pd.to_datetime(first["incident/incident_date"], format="%d/%m/%Y", errors="coerce")
    assert int(parsed.isna().sum()) == expected["unparseable_date"]
    assert int((parsed > pd.Timestamp("2030-01-01")).sum()) == expected["future_date"]
    assert int(survey["_uuid"].duplicated().sum()) == expected["duplicate_submission"]
    assert int(survey.duplicated().sum()) == expected["duplicate_submission"], "duplicates must be exact copies"


def test_survey_types_map_through_taxonomy(survey: pd.DataFrame, planted: dict, taxonomy_terms: set[str]) -> None:
    info = planted["cso_survey_kobo"]
    odd = set(info["misspelled_types"]) | set(info["unmatched_types"])
    counts = survey.drop_duplicates()["incident/incident_type"].value_counts()
    for term, n in {**info["misspelled_types"], **info["unmatched_types"]}.items():
        assert counts.get(term, 0) == n, term
    assert not ({_norm(t) for t in odd} & taxonomy_terms), "planted odd wording must not be an exact term"
    unmapped = sorted({t for t in counts.index if t not in odd and _norm(t) not in taxonomy_terms})
    assert not unmapped, f"survey types that are not taxonomy terms: {unmapped}"


def test_survey_planted_pii(survey: pd.DataFrame, planted: dict) -> None:
    pii = planted["cso_survey_kobo"]["pii_uuids"]
    text = survey.drop_duplicates().set_index("_uuid")["incident/description"]
    phone = re.compile(r"(\+27\s?\d{2}\s?\d{3}\s?\d{4}|0\d{2}\s?\d{3}\s?\d{4})")
    assert len(pii["phone"]) == 4 and all(phone.search(text[u]) for u in pii["phone"])
    assert "<b>tsotsis</b> at the corner" in text[pii["html"][0]]
    assert re.search(r"[\w.]+@example\.org", text[pii["email"][0]])
    (sa_id,) = re.findall(r"\b\d{13}\b", text[pii["sa_id"][0]])
    assert _luhn_valid(sa_id)
    assert dt.date(1900 + int(sa_id[:2]), int(sa_id[2:4]), int(sa_id[4:6]))  # a real date of birth


# ------------------------------------------------------------------------------------------- interventions
def test_interventions(hoods: gpd.GeoDataFrame) -> None:
    from pipelines.schemas import INTERVENTION_STATUSES

    # Read dates as text: GDAL would turn ISO strings into datetimes.
    interventions = gpd.read_file(DEMO / "interventions.geojson", datetime_as_string=True)
    expected = ["name", "type", "lead", "partners", "status", "budget_zar", "financial_year", "funding_sphere"]
    expected += ["start", "end"]
    assert list(interventions.columns) == [*expected, "geometry"]
    assert 10 <= len(interventions) <= 14
    assert set(interventions["status"]) <= set(INTERVENTION_STATUSES)
    assert (interventions["status"] == "stalled").sum() >= 2
    overdue = (interventions["status"] == "in_progress") & (interventions["end"] < WINDOW[1])
    assert overdue.sum() >= 1
    assert {"Point", "LineString", "Polygon"} <= set(interventions.geom_type)
    assert set(interventions["funding_sphere"]) == {"municipal", "provincial"}
    for start, fy, sphere in zip(
        interventions["start"], interventions["financial_year"], interventions["funding_sphere"], strict=True
    ):
        year, month = int(start[:4]), int(start[5:7])
        first = year if month >= (7 if sphere == "municipal" else 4) else year - 1  # July-June or April-March
        assert fy == f"{first}/{(first + 1) % 100:02d}"
    assert hoods.union_all().contains(interventions.geometry.representative_point()).all()
