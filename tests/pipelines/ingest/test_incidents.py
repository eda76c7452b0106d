"""Incident ingest end to end on tiny hand-made files: every outcome, every hostile input."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.errors import MappingError, UnusableFileError
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from tests._helpers import write_csv

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
HEADER = "id,date,category,latitude,longitude,description\n"
GOOD = "1,2025-03-04 18:30,Robbery,-34.05,18.55,Phone taken at the taxi rank\n"


def _ingest(store, tmp_path, body: str, name="f.csv", **kw):
    path = write_csv(tmp_path, name, HEADER + body)
    kw.setdefault("source", "community")
    kw.setdefault("org", "CSO A")
    return ingest_incidents(store, path, now=NOW, **kw)


def _accounted(batch) -> None:
    assert batch.rows_read == batch.accepted + batch.rejected + batch.duplicates


def test_good_row_is_accepted_and_placed(any_area_store, tmp_path):
    batch = _ingest(any_area_store, tmp_path, GOOD)
    assert (batch.rows_read, batch.accepted, batch.rejected, batch.duplicates) == (1, 1, 0, 0)
    incidents = any_area_store.read_incidents()
    row = incidents.iloc[0]
    assert row["precinct_code"] == "P-WEST"
    assert row["neighbourhood_code"] == "N-1"
    assert row["category"] == "robbery_common" or row["category"].startswith("robbery")
    # 18:30 local (UTC+2) is 16:30 UTC
    assert row["occurred_at"] == pd.Timestamp("2025-03-04 16:30", tz="UTC")
    assert any_area_store.read_source_rows()["description"].iloc[0].startswith("Phone")


@pytest.mark.parametrize(
    ("row", "reason", "message"),
    [
        pytest.param("2,2025-03-04,Robbery,,,x\n", "missing_location", "No location", id="missing_location"),
        pytest.param("2,2025-03-04,Robbery,abc,18.5,x\n", "invalid_coordinates", "not a pair of numbers", id="text"),
        pytest.param("2,2025-03-04,Robbery,0,0,x\n", "invalid_coordinates", "placeholder", id="zero-zero"),
        pytest.param("2,2025-03-04,Robbery,-134.0,218.5,x\n", "invalid_coordinates", "out of range", id="range"),
        pytest.param("2,31/02/2025,Robbery,-34.05,18.55,x\n", "invalid_date", "not a date", id="impossible-date"),
        pytest.param("2,yesterday-ish,Robbery,-34.05,18.55,x\n", "invalid_date", "not a date", id="garbage-date"),
        pytest.param("2,1899-01-01,Robbery,-34.05,18.55,x\n", "invalid_date", "before", id="ancient-date"),
        pytest.param("2,2027-01-05,Robbery,-34.05,18.55,x\n", "future_date", "in the future", id="future_date"),
    ],
)
def test_each_rejection_reason(any_area_store, tmp_path, row, reason, message):
    batch = _ingest(any_area_store, tmp_path, GOOD + row)
    _accounted(batch)
    assert batch.accepted == 1 and batch.rejected == 1
    assert batch.rejections == {reason: 1}
    stored = any_area_store.read_rejections(batch.batch_id)
    assert list(stored["reason"]) == [reason]
    assert message in stored["message"].iloc[0]
    assert stored["row_number"].iloc[0] == 3  # header is row 1, GOOD is row 2
    assert json.loads(stored["raw"].iloc[0])["id"] == "2"


def test_day_first_dates_are_never_month_first(any_area_store, tmp_path):
    _ingest(any_area_store, tmp_path, "1,03/04/2025,Robbery,-34.05,18.55,x\n")
    occurred = any_area_store.read_incidents()["occurred_at"].iloc[0].tz_convert("Africa/Johannesburg")
    assert (occurred.year, occurred.month, occurred.day) == (2025, 4, 3)


@pytest.mark.parametrize(
    "date",
    [
        pytest.param("2025-03-04T18:30:00+02:00", id="offset"),
        pytest.param("04/03/2025 18:30", id="dd/mm/yyyy"),
        pytest.param("2025-03-04 16:30:00Z", id="zulu"),
        pytest.param("45720.7708333333", id="excel-serial"),
    ],
)
def test_date_forms_agree(any_area_store, tmp_path, date):
    _ingest(any_area_store, tmp_path, f"1,{date},Robbery,-34.05,18.55,x\n")
    occurred = any_area_store.read_incidents()["occurred_at"].iloc[0]
    assert abs(occurred - pd.Timestamp("2025-03-04 16:30", tz="UTC")) < pd.Timedelta(seconds=1)


def test_kobo_submission_time_is_utc_when_the_incident_date_is_empty(any_area_store, tmp_path):
    path = write_csv(
        tmp_path,
        "kobo.csv",
        "incident/incident_date,incident/incident_type,incident/_location_latitude,"
        "incident/_location_longitude,_uuid,_submission_time\n"
        ",Robbery,-34.05,18.55,u1,2025-03-04T16:30:00\n",
    )
    batch = ingest_incidents(any_area_store, path, source="community", org="cso")
    assert batch.accepted == 1
    occurred = any_area_store.read_incidents()["occurred_at"].iloc[0]
    assert occurred == pd.Timestamp("2025-03-04 16:30", tz="UTC")  # not 14:30: Kobo's server clock is UTC


def test_swapped_coordinates_are_fixed_inside_study_area(any_area_store, tmp_path):
    batch = _ingest(any_area_store, tmp_path, "1,2025-03-04,Robbery,18.65,-34.05,x\n")
    assert batch.accepted == 1 and batch.warnings.get("swapped_coordinates") == 1
    point = any_area_store.read_incidents().geometry.iloc[0]
    assert (round(point.x, 2), round(point.y, 2)) == (18.65, -34.05)
    assert any_area_store.read_incidents()["precinct_code"].iloc[0] == "P-EAST"


def test_point_outside_every_area_is_kept_and_counted(any_area_store, tmp_path):
    batch = _ingest(any_area_store, tmp_path, "1,2025-03-04,Robbery,-33.0,19.5,x\n")
    assert batch.accepted == 1 and batch.outside_areas == 1
    row = any_area_store.read_incidents().iloc[0]
    assert row["precinct_code"] is None and row["neighbourhood_code"] is None


def test_border_point_goes_to_smallest_code_deterministically(any_area_store, tmp_path):
    _ingest(any_area_store, tmp_path, "1,2025-03-04,Robbery,-34.05,18.6,x\n")
    assert any_area_store.read_incidents()["precinct_code"].iloc[0] == "P-EAST"  # "P-EAST" < "P-WEST"


def test_unknown_category_maps_to_other_with_warning(any_area_store, tmp_path):
    batch = _ingest(any_area_store, tmp_path, "1,2025-03-04,Zxqwv flumph,-34.05,18.55,x\n")
    assert batch.accepted == 1 and batch.warnings.get("unknown_category") == 1
    row = any_area_store.read_incidents().iloc[0]
    assert (row["category"], row["raw_category"]) == ("other", "Zxqwv flumph")


def test_misspelt_category_and_sensitive_flag(any_area_store, tmp_path):
    _ingest(
        any_area_store,
        tmp_path,
        "1,2025-03-04,illegal shebean,-34.05,18.55,x\n2,2025-03-04,Domestic violence,-34.05,18.55,y\n",
    )
    incidents = any_area_store.read_incidents().sort_values("external_id")
    assert incidents["category"].iloc[0] != "other"
    assert list(incidents["sensitive"]) == [False, True]


def test_pii_is_redacted_everywhere_before_storage(any_area_store, tmp_path):
    body = (
        '1,2025-03-04,Robbery,-34.05,18.55,"Call 072 123 4567 or +27 82 555 0101, id 8001015009087, a.b@example.org"\n'
        '2,2025-03-04,Robbery,,,"rejected row with 0821112222"\n'
    )
    batch = _ingest(any_area_store, tmp_path, body)
    assert batch.warnings.get("redacted_pii") == 2
    everything = any_area_store.read_table("incidents").astype(str).to_csv() + any_area_store.read_rejections().to_csv()
    for secret in ("072 123 4567", "555 0101", "8001015009087", "a.b@example.org", "0821112222"):
        assert secret not in everything
    assert "[PHONE]" in any_area_store.read_incidents()["description"].iloc[0]


def test_luhn_invalid_13_digits_are_kept(any_area_store, tmp_path):
    _ingest(any_area_store, tmp_path, "1,2025-03-04,Robbery,-34.05,18.55,ref 8001015009088\n")
    assert "8001015009088" in any_area_store.read_incidents()["description"].iloc[0]


def test_personal_columns_are_dropped(any_area_store, tmp_path):
    path = write_csv(
        tmp_path,
        "p.csv",
        "id,date,category,latitude,longitude,reporter_name,phone\n"
        "1,2025-03-04,Robbery,-34.05,18.55,Thandi Mokoena,0721234567\n",
    )
    ingest_incidents(any_area_store, path, source="community", org="A", now=NOW)
    kept = any_area_store.read_source_rows()
    assert list(kept.columns) == ["id", "date", "category", "latitude", "longitude"]
    raw = kept.to_csv()
    assert "Thandi" not in raw and "0721234567" not in raw and "phone" not in raw


def test_html_in_free_text_is_stored_literally(any_area_store, tmp_path):
    _ingest(any_area_store, tmp_path, '1,2025-03-04,Robbery,-34.05,18.55,"<img src=x onerror=alert(1)>"\n')
    assert any_area_store.read_incidents()["description"].iloc[0] == "<img src=x onerror=alert(1)>"


def test_duplicates_in_file_and_on_reupload(any_area_store, tmp_path):
    body = GOOD + GOOD + "3,2025-03-05,Robbery,-34.05,18.55,other\n" + "3,2025-03-06,Robbery,-34.05,18.55,edited\n"
    first = _ingest(any_area_store, tmp_path, body)
    assert (first.rows_read, first.accepted, first.duplicates) == (4, 2, 2)
    again = _ingest(any_area_store, tmp_path, body)
    assert (again.accepted, again.duplicates) == (0, 4)
    assert again.batch_id == first.batch_id  # an identical file stores nothing, not even a batch
    assert any_area_store.count("incidents") == 2 and any_area_store.count("batches") == 3  # 2 boundary batches + 1
    overlapping = _ingest(any_area_store, tmp_path, GOOD + "9,2025-03-07,Robbery,-34.05,18.55,new\n", name="g.csv")
    assert (overlapping.accepted, overlapping.duplicates) == (1, 1)
    other_org = _ingest(any_area_store, tmp_path, body, org="CSO B")
    assert other_org.accepted == 2  # another organisation's rows stay separate
    assert any_area_store.count("incidents") == 5


def test_a_key_hash_collision_is_not_a_duplicate(any_area_store, tmp_path, monkeypatch):
    """Repeated keys are found through their hashes first; equal hashes of different keys (forced
    here: every key hashes to 0) must not make a row a duplicate: the keys themselves decide."""
    import numpy as np

    from pipelines.ingest import validate

    monkeypatch.setattr(validate, "_key_hashes", lambda keys: np.zeros(len(keys), dtype=np.uint64))
    body = GOOD + "2,2025-03-05,Robbery,-34.05,18.55,x\n" + "3,2025-03-06,Robbery,-34.05,18.55,y\n" + GOOD
    path = write_csv(tmp_path, "f.csv", HEADER + body)
    prepared = prepare_incidents(any_area_store, path, source="community", org="CSO A", now=NOW)
    assert (prepared.batch.accepted, prepared.batch.duplicates) == (3, 1)
    assert prepared.rows["reason"].fillna("").tolist() == ["", "", "", "repeated_in_file"]


@pytest.mark.parametrize(
    ("name", "text", "encoding", "bom"),
    [
        pytest.param("bom.csv", HEADER + GOOD, "utf-8", True, id="utf8-bom"),
        pytest.param("semi.csv", (HEADER + GOOD).replace(",", ";"), "utf-8", False, id="semicolon"),
        pytest.param(
            "cp1252.csv",
            HEADER + "1,2025-03-04,Robbery,-34.05,18.55,Café “robbery” – €5\n",
            "cp1252",
            False,
            id="windows-1252",
        ),
        pytest.param(
            "comma-decimal.csv",
            "id;date;category;latitude;longitude\n1;04/03/2025;Robbery;-34,05;18,55\n",
            "utf-8",
            False,
            id="decimal-comma",
        ),
        pytest.param("crlf.csv", (HEADER + GOOD).replace("\n", "\r\n"), "utf-8", False, id="crlf"),
    ],
)
def test_hostile_encodings_and_delimiters(any_area_store, tmp_path, name, text, encoding, bom):
    path = write_csv(tmp_path, name, text, encoding=encoding, bom=bom)
    batch = ingest_incidents(any_area_store, path, source="community", org="A", now=NOW)
    assert (batch.accepted, batch.rejected) == (1, 0)
    incidents = any_area_store.read_incidents()
    assert incidents["precinct_code"].iloc[0] == "P-WEST"
    if encoding == "cp1252":
        assert incidents["description"].iloc[0] == "Café “robbery” – €5"


def test_ragged_row_is_rejected_not_lost(any_area_store, tmp_path):
    batch = _ingest(any_area_store, tmp_path, GOOD + "2,2025-03-04,Robbery,-34.05,18.55,x,EXTRA,MORE\n")
    _accounted(batch)
    assert batch.rejections == {"malformed_row": 1}


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        pytest.param("a,b,c\n1,2,3\n", UnusableFileError, "no location columns", id="no-location"),
        pytest.param("", UnusableFileError, "empty", id="empty"),
        pytest.param("PK\x03\x04binary", UnusableFileError, "zip archive but could not be opened", id="zip-as-csv"),
    ],
)
def test_unusable_files_raise_actionable_errors(any_area_store, tmp_path, text, error, match):
    path = write_csv(tmp_path, "bad.csv", text)
    with pytest.raises(error, match=match):
        ingest_incidents(any_area_store, path, source="community", now=NOW)
    assert any_area_store.count("batches") == 2  # only the boundary batches


def test_overrides_and_unknown_override_column(any_area_store, tmp_path):
    path = write_csv(tmp_path, "o.csv", "ref,when,what,northing_y,easting_x\n7,2025-03-04,Robbery,-34.05,18.55\n")
    batch = ingest_incidents(
        any_area_store,
        path,
        source="municipal",
        now=NOW,
        overrides={"lat": "northing_y", "lon": "easting_x", "id": "ref", "date": "when", "category": "what"},
    )
    assert batch.accepted == 1
    assert any_area_store.read_incidents()["external_id"].iloc[0] == "7"
    with pytest.raises(MappingError, match="--lat-col 'nope' is not a column"):
        ingest_incidents(any_area_store, path, source="municipal", overrides={"lat": "nope", "lon": "easting_x"})


def test_yaml_mapping_file_and_projected_xy(any_area_store, tmp_path):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32734, always_xy=True).transform(18.55, -34.05)
    path = write_csv(tmp_path, "xy.csv", f"no,stamp,kind,X,Y\n1,2025-03-04,Housebreaking,{x:.1f},{y:.1f}\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  x: X\n  y: Y\n  date: stamp\n  category: kind\n  id: 'no'\ncrs: EPSG:32734\n")
    batch = ingest_incidents(any_area_store, path, source="municipal", mapping_file=mapping, now=NOW)
    assert batch.accepted == 1
    point = any_area_store.read_incidents().geometry.iloc[0]
    assert abs(point.x - 18.55) < 1e-6 and abs(point.y + 34.05) < 1e-6


def test_dry_run_writes_nothing(any_area_store, tmp_path):
    path = write_csv(tmp_path, "d.csv", HEADER + GOOD + "2,2025-03-04,Robbery,,,x\n")
    prepared = prepare_incidents(any_area_store, path, source="community", org="A", now=NOW)
    assert list(prepared.rows["status"]) == ["accepted", "rejected"]
    assert any_area_store.count("incidents") == 0 and any_area_store.count("rejections") == 0


def test_redaction_sees_numbers_spaced_with_unicode_spaces():
    from pipelines.pii import redact_series

    values = pd.Series(
        ["call 072\u00a0123\u00a04567 now", "12 3 4", "mail me@example.org", ""], dtype="string[pyarrow]"
    )
    redacted, changed = redact_series(values)
    assert list(changed) == [True, False, True, False]
    assert list(redacted) == ["call [PHONE] now", "12 3 4", "mail [EMAIL]", ""]


def test_raw_copy_is_json_of_the_row_whatever_the_text_holds():
    from pipelines.ingest.validate import _raw_json

    texts = ['say "hi"', "back\\slash", "two\nlines\ttab", "bell\x07 and nul\x00", "plain", "", "émoji 🚨"]
    frame = pd.DataFrame({"a": texts, "b": ["1"] * len(texts), 'odd "name"': texts[::-1]}, dtype="string[pyarrow]")
    assert [json.loads(line) for line in _raw_json(frame).to_pylist()] == frame.to_dict("records")


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "tab\there", "nul\x00", "\x1f"])
def test_escaping_is_needed_wherever_the_special_byte_sits(text):
    """The byte check behind the raw JSON copy looks at exactly the values of an array, also when
    the array is a slice of a bigger buffer or comes in chunks."""
    import pyarrow as pa

    from pipelines.ingest.validate import _needs_escape

    clean = pa.array(["plain", "émoji 🚨", ""] * 3, pa.large_string())
    dirty = pa.array(["plain", text, "more"], pa.large_string())
    assert not _needs_escape(clean) and _needs_escape(dirty)
    assert not _needs_escape(dirty.slice(2)) and not _needs_escape(dirty.slice(0, 1))
    assert _needs_escape(dirty.slice(1, 1))
    assert _needs_escape(pa.chunked_array([clean, dirty])) and not _needs_escape(pa.chunked_array([clean]))
    assert not _needs_escape(pa.array(["", ""], pa.large_string()))
    small = pa.array(["plain", text, "more"], pa.string())  # 32-bit offsets
    assert _needs_escape(small) and not _needs_escape(small.slice(2)) and _needs_escape(small.slice(1, 1))


# --- dates in the file's own order, and identical rows (issue 16, items 1 and 4) ---
from pipelines.errors import DateOrderError  # noqa: E402

USHAHIDI = "#,INCIDENT TITLE,INCIDENT DATE,LOCATION,DESCRIPTION,CATEGORY,LATITUDE,LONGITUDE,APPROVED,VERIFIED\n"


def test_ushahidi_month_first_two_digit_years_are_all_accepted(any_area_store, tmp_path):
    path = write_csv(
        tmp_path,
        "ushahidi.csv",
        USHAHIDI
        + "35,Tech challenge,10/25/15 15:00,Boulder,Pitches,Robbery,-34.05,18.55,YES,YES\n"
        + "34,Workshop,7/9/15 12:02,Milan,Meeting,Robbery,-34.06,18.56,YES,NO\n"
        + "33,Launch,2/3/14 20:55,Dhaka,Launch,Robbery,-34.07,18.57,YES,YES\n",
    )
    batch = ingest_incidents(any_area_store, path, source="community", org="cso", now=NOW)
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 3, 0)
    assert "ambiguous_date_order" not in batch.warnings  # 10/25/15 settles the order for every row
    local = (
        any_area_store.read_incidents().sort_values("occurred_at")["occurred_at"].dt.tz_convert("Africa/Johannesburg")
    )
    assert [t.strftime("%Y-%m-%d %H:%M") for t in local] == ["2014-02-03 20:55", "2015-07-09 12:02", "2015-10-25 15:00"]


def test_a_file_whose_dates_disagree_is_refused_and_nothing_is_written(any_area_store, tmp_path):
    body = "1,25/10/2025,Robbery,-34.05,18.55,x\n2,10/26/2025,Robbery,-34.05,18.55,y\n3,03/04/2025,Robbery,-34.05,18.55,z\n"
    path = write_csv(tmp_path, "mixed.csv", HEADER + body)
    batches = any_area_store.count("batches")
    for run in (prepare_incidents, ingest_incidents):
        with pytest.raises(DateOrderError, match=r"row 2 can only be day first.*row 3 can only be month first"):
            run(any_area_store, path, source="community", org="cso", now=NOW)
    assert any_area_store.count("incidents") == 0 and any_area_store.count("batches") == batches
    batch = ingest_incidents(any_area_store, path, source="community", org="cso", now=NOW, date_format="dmy")
    assert (batch.accepted, batch.rejections) == (2, {"invalid_date": 1})
    message = any_area_store.read_rejections(batch.batch_id)["message"].iloc[0]
    assert "'10/26/2025'" in message and "day first (dd/mm/yyyy)" in message


def test_ambiguous_dates_are_read_day_first_and_the_batch_says_so(any_area_store, tmp_path):
    body = "1,03/04/2025,Robbery,-34.05,18.55,x\n2,05/05/2025,Robbery,-34.05,18.55,y\n3,2025-03-09,Robbery,-34.05,18.55,z\n"
    path = write_csv(tmp_path, "ambiguous.csv", HEADER + body)
    prepared = prepare_incidents(any_area_store, path, source="community", org="cso", now=NOW)
    assert prepared.batch.warnings == {"ambiguous_date_order": 1}  # 05/05 and the ISO date read one way only
    assert prepared.rows["warnings"].tolist() == [["ambiguous_date_order"], [], []]
    assert prepared.incidents["occurred_at"].iloc[0].tz_convert("Africa/Johannesburg").month == 4
    month_first = prepare_incidents(any_area_store, path, source="community", org="cso", now=NOW, date_format="mdy")
    assert month_first.batch.warnings == {}
    assert month_first.incidents["occurred_at"].iloc[0].tz_convert("Africa/Johannesburg").month == 3


def test_an_invalid_date_format_is_refused_before_reading_rows(any_area_store, tmp_path):
    path = write_csv(tmp_path, "f.csv", HEADER + GOOD)
    with pytest.raises(MappingError, match="has no year"):
        prepare_incidents(any_area_store, path, source="community", date_format="%d/%m")


IDENTICAL = (
    "date,category,latitude,longitude\n"
    + "2025-03-04 18:30,Robbery,-34.05,18.55\n" * 3
    + ("2025-03-05 18:30,Robbery,-34.05,18.55\n")
)


def test_identical_rows_are_dropped_by_default_and_counted(any_area_store, tmp_path):
    path = write_csv(tmp_path, "same.csv", IDENTICAL)
    batch = ingest_incidents(any_area_store, path, source="community", org="cso", now=NOW)
    assert (batch.rows_read, batch.accepted, batch.duplicates) == (4, 2, 2)
    assert batch.warnings == {"identical_row_dropped": 2}


def test_kept_identical_rows_are_separate_events_and_a_reupload_adds_nothing(any_area_store, tmp_path):
    path = write_csv(tmp_path, "same.csv", IDENTICAL)
    prepared = prepare_incidents(any_area_store, path, source="community", org="cso", now=NOW, keep_identical_rows=True)
    assert (prepared.batch.accepted, prepared.batch.duplicates) == (4, 0)
    assert prepared.batch.warnings == {"identical_row": 2}
    keys = prepared.incidents["dedupe_key"].tolist()
    assert len(set(keys)) == 4 and keys[1] == keys[0] + "#2" and keys[2] == keys[0] + "#3"
    first = ingest_incidents(any_area_store, path, source="community", org="cso", now=NOW, keep_identical_rows=True)
    assert first.accepted == 4 and any_area_store.count("incidents") == 4
    # the same rows in a renamed (so not byte-identical) file: every row is already stored, copies included
    again = write_csv(tmp_path, "same-again.csv", IDENTICAL + "\n")
    second = ingest_incidents(any_area_store, again, source="community", org="cso", now=NOW, keep_identical_rows=True)
    assert (second.accepted, second.duplicates) == (0, 4) and any_area_store.count("incidents") == 4


def test_copies_are_numbered_across_chunks(any_area_store, tmp_path, monkeypatch):
    import dataclasses

    from pipelines import settings

    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, chunk_rows=2))
    path = write_csv(tmp_path, "same.csv", IDENTICAL + "2025-03-04 18:30,Robbery,-34.05,18.55\n")
    prepared = prepare_incidents(any_area_store, path, source="community", org="cso", now=NOW, keep_identical_rows=True)
    keys = prepared.incidents["dedupe_key"].tolist()
    assert len(keys) == 5 and len(set(keys)) == 5 and keys[4] == keys[0] + "#4"
    assert prepared.batch.warnings == {"identical_row": 3}


def test_rows_with_the_same_id_stay_duplicates_when_identical_rows_are_kept(any_area_store, tmp_path):
    batch = _ingest(any_area_store, tmp_path, GOOD + GOOD, keep_identical_rows=True)
    assert (batch.accepted, batch.duplicates, batch.warnings) == (1, 1, {})


STOP_SEARCH = (
    "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
    "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
    "Outcome linked to object of search,Removal of more than just outer clothing\n"
)


def test_police_uk_stop_and_search_keeps_people_searched_together_and_drops_who_they_are(any_area_store, tmp_path):
    row = (
        "Person search,2025-01-01T01:05:00+00:00,False,,-34.05,18.55,{g},18-24,White - English,White,"
        "Misuse of Drugs Act 1971 (section 23),Controlled drugs,A no further action disposal,False,False\n"
    )
    path = write_csv(
        tmp_path, "2025-01-force-stop-and-search.csv", STOP_SEARCH + row.format(g="Male") * 2 + row.format(g="Female")
    )
    prepared = prepare_incidents(any_area_store, path, source="municipal", org="force", now=NOW)
    assert prepared.mapping.format == "police-uk" and prepared.mapping.category == "Object of search"
    assert set(prepared.mapping.personal) == {
        "Gender",
        "Age range",
        "Self-defined ethnicity",
        "Officer-defined ethnicity",
    }
    assert (prepared.batch.accepted, prepared.batch.duplicates) == (3, 0)
    assert prepared.batch.warnings.get("identical_row") == 2  # without who was searched, all three rows are alike
    assert prepared.incidents["occurred_at"].iloc[0] == pd.Timestamp("2025-01-01 01:05", tz="UTC")
    kept = prepared.validated.source_rows
    assert len(kept) == 3 and not {"Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity"} & set(
        kept
    )
    assert not kept.isin(["Male", "White", "18-24"]).any().any()
    dropped = prepare_incidents(
        any_area_store, path, source="municipal", org="force", now=NOW, keep_identical_rows=False
    )
    assert (dropped.batch.accepted, dropped.batch.duplicates) == (1, 2)
    assert dropped.batch.warnings.get("identical_row_dropped") == 2


def test_an_ingest_does_not_import_scipy_stats_or_the_postgres_driver():
    """Every ``areasafe ingest`` and every upload starts a process that imports the ingest and the store:
    ``scipy.stats`` (0.4 s, for the change test of the hot-spot pages) and ``psycopg`` (the PostGIS store)
    are imported only where used, which halved the imports of the 1M-row ingest benchmark."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pipelines.store import open_store\n"
        "from pipelines.ingest.incidents import ingest_incidents\n"
        "print(sorted(m for m in ('scipy.stats', 'psycopg') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
