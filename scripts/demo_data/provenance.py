"""What the run planted and where it came from: ``planted.json`` and ``PROVENANCE.md``.

Place in the data flow: the last step of ``generate``. ``planted.json`` is the machine-readable record the tests
check the files against; ``PROVENANCE.md`` states sources, licences, what is simulated, and the sha256 of every
file written.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import shapely

from .geometry import METRIC_CRS, WGS84, distance_m
from .spec import Spec


def misspelled_rows(spec: Spec) -> dict[str, int]:
    """Planted misspelled survey type -> how many rows carry it."""
    return {term: m.rows for term, m in spec.survey.misspelled.items()}


def _hotspot_record(
    precincts: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, per_month: dict[str, int], spec: Spec
) -> dict:
    """The ``emerging_hotspot`` entry, checking the centre lies well inside Harare and HARARE HOLOMISA."""
    hot = spec.hotspot
    record = {"lat": hot.lat, "lon": hot.lon, "radius_m": int(hot.radius_m), "months": list(hot.months)}
    metric = gpd.GeoSeries([shapely.Point(hot.lon, hot.lat)], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    disc = metric.buffer(hot.radius_m)
    for areas, key, label in ((precincts, "precinct_code", "Harare"), (hoods, "neighbourhood_code", "HARARE")):
        names = areas["name"].str.upper()
        area = areas[names.str.contains(label.upper())].to_crs(METRIC_CRS)
        inside = area[area.contains(disc)]
        if len(inside) != 1:
            raise ValueError(f"hotspot disc is not inside exactly one {label} area; move hotspot lat/lon in spec.yaml")
        record[key] = inside["code"].iloc[0]
    hubs = spec.interchanges
    far = distance_m(hot.lat, hot.lon, [a.lat for a in hubs], [a.lon for a in hubs])
    if far.min() < hot.min_distance_from_interchanges_m:
        raise ValueError(
            f"hotspot is {far.min():.0f} m from an interchange; it must stand apart "
            f"(>= {hot.min_distance_from_interchanges_m:.0f} m)"
        )
    record["crime_types"] = sorted(hot.crime_types)
    record["incidents_per_month"] = per_month
    return record


def planted_record(
    precincts: gpd.GeoDataFrame,
    hoods: gpd.GeoDataFrame,
    municipal: pd.DataFrame,
    municipal_info: dict,
    survey: pd.DataFrame,
    survey_info: dict,
    spec: Spec,
) -> dict:
    """The contents of planted.json."""
    municipal_dirt = municipal["dirt"].value_counts()
    survey_dirt = survey["dirt"].value_counts()
    survey_kinds = (*spec.survey.dirty, "duplicate_submission")
    return {
        "emerging_hotspot": _hotspot_record(precincts, hoods, municipal_info["per_month"], spec),
        "incidents_municipal": {
            "rows": len(municipal),
            "dirty_rows": {k: int(municipal_dirt.get(k, 0)) for k in spec.municipal.dirty},
            "empty_descriptions": municipal_info["empty_descriptions"],
        },
        "cso_survey_kobo": {
            "rows": len(survey),
            "dirty_rows": {k: int(survey_dirt.get(k, 0)) for k in survey_kinds},
            "misspelled_types": misspelled_rows(spec),
            "unmatched_types": spec.survey.unmatched,
            "hotspot_reports": survey_info["hotspot_reports"],
            "pii_uuids": survey_info["pii_uuids"],
        },
    }


def provenance_text(context: dict, spec: Spec) -> str:
    """PROVENANCE.md for data/demo, filled from the specification and what the run computed."""
    c, s = context, spec
    inputs = "\n".join(f"    {r.sha256}  {r.folder}/{r.file}" for r in s.real_inputs.values())
    outputs = "\n".join(f"    {digest}  {name}" for name, digest in c["sha256"].items())
    hot = c["planted"]["emerging_hotspot"]
    md = c["planted"]["incidents_municipal"]["dirty_rows"]
    sd = c["planted"]["cso_survey_kobo"]["dirty_rows"]
    hubs = "\n".join(f"  - {a.name}: {a.lat:.5f}, {a.lon:.5f} ({a.note})" for a in s.interchanges)
    pr, nr = c["repairs"]["precincts"], c["repairs"]["neighbourhoods"]
    areas = "\n".join(
        f"| {row.code} | {row.name} | {row.population:,} | {row.area_2015:.2f} | {row.area_km2_2022:.2f} |"
        for row in c["precinct_areas"].itertuples()
    )
    return f"""# AreaSafe demo data (`data/demo/`)

Regenerate with `python scripts/make_demo_data.py` (options `--shared PATH`, default `../shared/data/real`
next to the repository, and `--out PATH`, default `data/demo`). Seed {s.seed}; simulation window
{s.window_start:%Y-%m-%d} .. {s.window_end:%Y-%m-%d} inclusive (24 months). No clock is read: the same inputs and
library versions (numpy, shapely/GEOS, pyogrio/GDAL, pandas) give byte-identical files, which
`tests/system/test_demo_data.py` checks against the sha256 list at the end of this file.

Files marked **SIMULATED** are invented for demonstration. They must never be presented as real crime,
survey or project data. Names of real places are used for orientation only. This script writes only the
files listed at the end; any other file in this folder comes from another module and has its own provenance note.

## Real inputs (all from `../shared/data/real`, sha256 as recorded in each folder's PROVENANCE.md)

{inputs}

Licences and attribution, as stated by the source folders:
- `za-saps-precincts-2015`: SAPS "Police_bounds" layer (2015-10-30, v1.1.3) via EthanMarrs/crimevis. Licence:
  none stated; SAPS public-sector information. Confirm before any public release.
- `za-police-stations-census2022`: afrith/crime-stats `police_stations.csv`; cleaning ODC PDDL 1.0;
  SAPS/Stats SA data have no explicit terms.
- `khayelitsha-subdistricts-sjc`: Social Justice Coalition, eviction-tracking-toolkit; City of Cape Town
  SDI&GIS-derived. Licence: none stated; internal demo/testing use; ask SJC / check City terms before public release.
- `za-schools-capetown-2017`: DBE EMIS master list 2017 (Western Cape) via MeganBeckett/sa_schools, a subset
  with contact columns already removed. Licence: none stated (DBE). Confirm before public release.
- `za-saps-station-crimestats-2005-2016`: SAPS station statistics via the Kaggle "Crime Statistics for South
  Africa" mirror. Licence: none stated; public-sector statistics.
- The KoboCAT CSV fixtures (BSD-2) were only *read* to copy the export layout; no Kobo file (and none of the
  GPL-3 formpack JSON) is copied into this folder, so no Kobo licence file is needed here.

## precincts.geojson (REAL)
The 6 SAPS precincts of the 2015 release (`policeBounds3.json`, read as TopoJSON by GDAL): Khayelitsha, Harare,
Lingelethu-West, Nyanga, Gugulethu, Philippi_East. Properties: `code` (Census-2022 police-district code from
`police_stations.csv`, matched on name case-insensitively with `_` read as a space), `name` (the CSV's name),
`municipality` ("{s.municipality}"), `population` (Census 2022, from the same CSV). EPSG:4326, coordinates
rounded to 6 decimals, rings counter-clockwise (RFC 7946). Geometries repaired with `shapely.make_valid`:
{pr["invalid_as_read"]} invalid as read, {pr["invalid_after_rounding"]} invalid after rounding.

Caveat: the populations belong to the **2022** police districts, the polygons to the **2015** release, and
the boundaries moved in between. The 2022 list also has Makhaza (PD199016, population 110,708), which the 2015
release lacks; its area lies within the 2015 Khayelitsha-area polygons. So rates per precinct are indicative
only. Areas (2015 computed in EPSG:32734; 2022 from `area_km2` in the CSV):

| code | name | population 2022 | km^2 (2015 polygon) | km^2 (2022 district) |
|---|---|---|---|---|
{areas}

## neighbourhoods.geojson (REAL boundaries, ESTIMATED population)
The 30 features of layer `Sub_districts` in `Sub_dist_Khayelitsha.gdb.zip` (read through
`/vsizip/.../Sub_dist_Khayelitsha.gdb`). `code` = `KHA-` + the NAME in upper case with non-alphanumerics as
`-` (e.g. `KHA-HARARE-HOLOMISA`); the 2 features with a null NAME are `KHA-UNNAMED-1` and `KHA-UNNAMED-2`
(named "Unnamed sub-area 1/2"), numbered west to east by centroid. `name` is the NAME in title case (codes
such as `T2-V2B`, `RR`, `SP` kept upper-case). `population` is an **areal-weighting ESTIMATE, not a census
count**: the sum over the demo precincts of Census-2022 population x (area of overlap / precinct area),
areas in EPSG:32734, rounded to an integer. Geometries repaired with `make_valid`: {nr["invalid_as_read"]}
invalid as read, {nr["invalid_after_rounding"]} invalid after rounding.
Things found in the source that users of this file should know:
- The two unnamed features are exact geometric duplicates of RR SECTION (`KHA-UNNAMED-1`) and KHAYELITSHA SP
  (`KHA-UNNAMED-2`). They are kept as delivered, so neighbourhoods overlap there and summing `population` over
  all 30 features double-counts those two areas.
- The source attribute AREA_IN_SQKM is about 1.45x the true area (it looks like a Web-Mercator area); it is
  not carried over. True total: 43.9 km^2 for the 30 features, 38.2 km^2 without the duplicates.

## schools.csv (REAL)
Rows of `wc_schools_city_of_cape_town_2017.csv` whose `GIS_Longitude`/`GIS_Latitude` fall inside the demo
precincts ({c["schools"]["inside"]} rows), plus {c["schools"]["dirty"]} real dirty rows kept on purpose
for the ingest's rejection path: NatEmis 100000593 and 100000578 (coordinates "."), 100000127 (longitude
118.677419). Header and every line are byte-for-byte copies of the source, in source order.

## assets_other.csv (SIMULATED)
{len(s.assets)} illustrative Asset-Based Community Development assets (`name,abcd_category,type,custodian,
sharing_consent,latitude,longitude`). `sharing_consent` is filled only for people's assets (ABCD `individuals`):
who the person agreed may see it (`act`: officials), blank for none recorded (admins only); the public never
sees a person's asset. Names, custodians and positions are **SIMULATED/illustrative**: points are placed at
fixed offsets from sub-district representative points or interchanges. Where a name resembles a real facility
(Harare Library and Harare Square, built with VPUU; Kuyasa Library; clinics), the position is approximate and the
record is not an inventory of that facility.

## incidents_municipal.csv (SIMULATED)
{c["counts"]["incidents_municipal"]} rows (`case_number,date_time,crime_type,latitude,longitude,description,station`),
UTF-8, comma, `date_time` = `YYYY-MM-DD HH:MM` local time (SAST).
- Crime types: SAPS category names. Row (station, category) pairs are drawn in proportion to the real
  {s.crimestats_year} SAPS counts of the six stations (so volume per precinct and type mix are realistic);
  categories with zero counts do not occur.
- Places: a mixture per category of (a) a diffuse background, uniform inside the precinct (rejection sampling),
  (b) Gaussian clusters (sigma {s.municipal.interchange_sigma_m:.0f} m) around transport interchanges:
{hubs}
  and (c) tight clusters (sigma {s.taverns.sigma_m:.0f} m) around {s.taverns.count} SIMULATED taverns/shebeens (not written
  out), placed at least {s.taverns.min_distance_from_hotspot_m:.0f} m from the hotspot. Cluster points are not
  clipped: {c["counts"]["outside_precincts"]} clean rows fall outside all six precincts. `station` is the precinct
  containing the point (the generating precinct for points outside).
- Time: evening/night peak (18:00-02:00) for violent and drug crime, a commuter profile (05:00-07:00 and
  17:00-20:00) for robbery/theft at interchanges, a daytime profile for burglary/theft/shoplifting/fraud;
  Friday-Sunday peaks; a +/-{s.profiles.season_amplitude:.0%} seasonal cycle peaking in late December; x{s.profiles.payday_factor} on
  payday days (25th to the 1st).
- Case numbers `ABR/CAS/NNNN/MM/YYYY`, numbered per station and month in time order.
- {c["planted"]["incidents_municipal"]["empty_descriptions"]} descriptions (about {s.municipal.empty_description_share:.0%}) are
  empty.
- **Emerging hotspot**: centre {hot["lat"]}, {hot["lon"]}, radius {hot["radius_m"]:.0f} m, months
  {", ".join(hot["months"])}, neighbourhood `{hot["neighbourhood_code"]}`, precinct `{hot["precinct_code"]}`;
  {sum(hot["incidents_per_month"].values())} robbery/assault incidents ({json.dumps(hot["incidents_per_month"])})
  that exist only in those months. Also in `planted.json`.
- Dirty rows for the rejection path (none touch the hotspot): {md["empty_coordinates"]} with empty coordinates,
  {md["zero_coordinates"]} with `0,0`, {md["swapped_coordinates"]} with latitude and longitude swapped, and
  {md["duplicate_rows"]} exact duplicate rows (same case number, directly after the original).

## cso_survey_kobo.csv (SIMULATED)
{c["counts"]["cso_survey_kobo"]} rows in the KoboCAT (legacy) CSV export layout, modelled on the real KoboCAT
fixtures `tutorial_w_repeats.csv` and `good.csv`: group paths (`incident/...`, `reporter/...`), a geopoint
column `incident/location` holding "lat lon altitude precision" plus its split `_location_*` columns,
`meta/instanceID` = "uuid:" + `_uuid`, `_submission_time` in UTC without zone, `start`/`end` local with
`+02:00`, `_validation_status` "{{}}", `_status` "submitted_via_web". UUIDs are drawn from the seeded generator.
- `incident/incident_date` is dd/mm/yyyy (South African order). Reports are denser in later months
  (tripling over the window), concentrated in the Harare, Khayelitsha and Lingelethu-West precincts near
  interchanges and taverns; {s.survey.hotspot_rows} reports fall within 250 m of the planted hotspot in its months.
- `incident/incident_type` is community wording; every value is a term of `data/taxonomy.yaml` except the
  planted misspellings (value: rows) {json.dumps(misspelled_rows(s))} and the terms that match nothing
  {json.dumps(s.survey.unmatched)}.
- Personal data the ingest must drop or redact: `reporter/reporter_name` and `reporter/reporter_phone` are
  filled for about 30 % of rows (fake names; phone numbers in 555 blocks); descriptions contain 4 phone numbers,
  one Luhn-valid 13-digit SA ID number, one e-mail address (example.org) and one HTML fragment
  (`<b>tsotsis</b>`); their `_uuid`s are in `planted.json`.
- Dirty rows: {sd["missing_location"]} missing location, {sd["swapped_coordinates"]} swapped coordinates,
  {sd["future_date"]} future incident dates (year typed as 2062), {sd["unparseable_date"]} unparseable dates,
  {sd["duplicate_submission"]} exact duplicate submissions (same `_uuid` and `_id`) appended at the end.

## interventions.geojson (SIMULATED)
{len(s.interventions)} illustrative VPUU-style interventions (Points, LineStrings, one Polygon) with `name, type,
lead, partners, status, budget_zar, financial_year, funding_sphere, start, end`; `financial_year` is the year of
`start` in the budget of `funding_sphere`: the City's July-June year for `municipal` (all but one), the Western
Cape's April-March year for the `provincial` "Mandela Park neighbourhood watch support". Line geometries follow real road centrelines (roads layer of the SJC geodatabase: NCUMO, WALTER
SISULU, JEFF MASEMOLA, LWANDLE), clipped to a sub-district and cut to a length; every attribute is invented. Two
are `stalled`; "Jeff Masemola Road safe walkway" is overdue (`in_progress`, ended 2026-06-30).

## planted.json
Machine-readable record of what was planted (hotspot, dirty-row counts, PII rows) for tests.

## sha256 of the generated files

{outputs}
"""
