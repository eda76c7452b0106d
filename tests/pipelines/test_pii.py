"""Personal data does not survive ingestion (POPIA; issue #15, finding 6).

:mod:`pipelines.pii` finds SA ID numbers, phone numbers and e-mail addresses in every kept column,
rejected row, file name and failed-login entry; :func:`pipelines.sources.mapping.is_personal` drops
personal columns by what their names mean.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import audit, auth, export
from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.counts import ingest_counts
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from pipelines.ingest.interventions import ingest_interventions
from pipelines.pii import luhn_valid, redact_file_name, redact_text, sa_id_valid
from pipelines.sources.mapping import detect_mapping, is_personal
from pipelines.store import open_store
from tests._helpers import load_areas, write_csv

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
ID = "8001015009087"  # 1980-01-01, citizen, Luhn-valid
PHONE = "0825550199"


def sa_id(birth: dt.date, sequence: int, citizenship: int) -> str:
    """A valid SA ID number: YYMMDD SSSS C 8 Z with the Luhn digit Z."""
    body = f"{birth:%y%m%d}{sequence:04d}{citizenship}8"
    return body + next(str(z) for z in range(10) if luhn_valid(body + str(z)))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def stored_text(store) -> dict[str, str]:
    """Everything a store keeps that a person could read, one text per table (the rows kept as the
    file gave them unpacked: their blocks are compressed)."""
    tables = ("incidents", "rejections", "batches", "audit_log")
    texts = {t: store.read_table(t).drop(columns="geometry", errors="ignore").astype(str).to_csv() for t in tables}
    return {**texts, "source_rows": store.read_source_rows().astype(str).to_csv()}


def assert_absent(store, secrets: list[str]) -> None:
    texts = stored_text(store)
    fields = [
        str(v)
        for t in ("incidents", "rejections", "batches", "audit_log")
        for v in store.read_table(t).to_numpy().ravel()
    ] + [str(v) for v in store.read_source_rows().to_numpy().ravel()]
    for secret in secrets:
        for table, text in texts.items():
            assert secret not in text, (secret, table)
        # Digits only, cell by cell: no partly redacted copy ("082 555 [PHONE]") either.
        needle = digits(secret)[-9:]
        leaked = [f for f in fields if len(needle) == 9 and needle in digits(f)]
        assert not leaked, (secret, leaked[:3])


# --------------------------------------------------------------------------------------------------
# 1. Structural columns: record id, date, category and coordinates
# --------------------------------------------------------------------------------------------------
STRUCTURAL = (
    "id,date,category,latitude,longitude,description\n"
    f"{PHONE},2025-03-04,Robbery,-34.05,18.55,id is a phone\n"  # accepted: external_id and dedupe_key
    f"r2,2025-03-04,call +27 82 555 0123,-34.05,18.55,category is a phone\n"  # accepted: raw_category
    f"r3,{ID},Robbery,-34.05,18.55,date is an id\n"  # invalid_date: the message quotes the date
    "r4,2025-03-04,Robbery,0821234567,8305055009083,coordinates are a phone and an id\n"  # invalid_coordinates
    "r5,2025-03-04,Robbery,-34.05,18.55,clean\n"
)
STRUCTURAL_SECRETS = [PHONE, "+27 82 555 0123", ID, "0821234567", "8305055009083"]


def test_pii_in_structural_columns_is_redacted_in_every_stored_copy(area_store, tmp_path):
    path = write_csv(tmp_path, "s.csv", STRUCTURAL)
    prepared = prepare_incidents(area_store, path, source="community", org="A", now=NOW)
    assert list(prepared.rows["status"]) == ["accepted", "accepted", "rejected", "rejected", "accepted"]
    assert not any(s in str(m) for s in STRUCTURAL_SECRETS for m in prepared.rows["message"])
    batch = ingest_incidents(area_store, path, source="community", org="A", now=NOW)
    assert (batch.accepted, batch.rejected) == (3, 2)
    assert_absent(area_store, STRUCTURAL_SECRETS)
    incidents = area_store.read_table("incidents").sort_values("external_id")
    assert list(incidents["external_id"]) == ["[PHONE]", "r2", "r5"]
    assert incidents["raw_category"].iloc[1] == "call [PHONE]"
    assert "[ID NUMBER]" in " ".join(area_store.read_rejections()["message"])
    analyst_csv = export.csv_text(area_store.read_incidents())
    assert not any(s in analyst_csv or digits(s)[-9:] in digits(analyst_csv) for s in STRUCTURAL_SECRETS)


def test_a_redacted_record_id_still_finds_its_duplicate_on_reupload(area_store, tmp_path):
    first = write_csv(tmp_path, "a.csv", STRUCTURAL)
    ingest_incidents(area_store, first, source="community", org="A", now=NOW)
    keys = set(area_store.read_table("incidents")["dedupe_key"])
    assert not any(digits(PHONE) in digits(k) for k in keys)
    # Other bytes (a new row), same records: the phone-number id is recognised without being stored.
    again = write_csv(tmp_path, "b.csv", STRUCTURAL + "r6,2025-03-05,Robbery,-34.05,18.55,new\n")
    batch = ingest_incidents(area_store, again, source="community", org="A", now=NOW)
    assert (batch.accepted, batch.duplicates) == (1, 3)
    # Two rows whose ids are different phone numbers are two records, not duplicates of "[PHONE]".
    other = write_csv(
        tmp_path, "c.csv", "id,date,category,latitude,longitude\n0821110000,2025-03-04,Robbery,-34.05,18.55\n"
    )
    assert ingest_incidents(area_store, other, source="community", org="A", now=NOW).accepted == 1


# --------------------------------------------------------------------------------------------------
# 2. Written forms
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ID8001015009087", "ID[ID NUMBER]", id="id-glued-to-ID"),
        pytest.param("ID no.8001015009087", "ID no.[ID NUMBER]", id="id-after-no-dot"),
        pytest.param("800101-5009-087", "[ID NUMBER]", id="id-hyphen-grouped"),
        pytest.param("800101 5009 087", "[ID NUMBER]", id="id-space-grouped"),
        pytest.param("0027 82 555 0199", "[PHONE]", id="phone-0027"),
        pytest.param("27825550199", "[PHONE]", id="phone-27-no-plus"),
        pytest.param("082.555.0199", "[PHONE]", id="phone-dots"),
        pytest.param("+27.82.555.0199", "[PHONE]", id="phone-plus27-dots"),
        pytest.param("tel0825550199", "tel[PHONE]", id="phone-glued-to-tel"),
        pytest.param("+27 (0)82 555 0199", "[PHONE]", id="phone-plus27-trunk"),
        pytest.param("(021) 555-1234", "[PHONE]", id="phone-brackets"),
        pytest.param("082 555 01 99", "[PHONE]", id="phone-2-3-2-2"),
        pytest.param("0825550199,0821234567", "[PHONE],[PHONE]", id="phone-list"),
        pytest.param("call 0825550199 123 Main Rd", "call [PHONE] 123 Main Rd", id="phone-before-house-number"),
        pytest.param("Thandi_M@example.org", "[EMAIL]", id="email-underscore"),
    ],
)
def test_written_forms_are_redacted(text, expected):
    assert redact_text(text) == expected
    assert redact_text(f"see {text}; thanks") == f"see {expected}; thanks"


# --------------------------------------------------------------------------------------------------
# 3. False positives: photo names, timestamps, coordinates, dates, machine ids
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1568786958640.jpg", id="kobo-photo-name"),
        pytest.param("1568786958640", id="ms-timestamp-invalid-month"),
        pytest.param("1501011234567", id="valid-date-citizenship-5"),
        pytest.param("8013015009083", id="month-13"),
        pytest.param("8001015009088", id="luhn-invalid"),
        pytest.param("-33.8001015009087", id="decimals-of-a-coordinate"),
        pytest.param("27.825550199", id="longitude-27"),
        pytest.param("0.825550199", id="fraction"),
        pytest.param("05-01-2024 08:30", id="dd-mm-yyyy-time"),
        pytest.param("2024-01-15 10:30:00", id="iso-datetime"),
        pytest.param("uuid:3f2c0825-5501-4999-a123-e0825550199f", id="uuid"),
        pytest.param("a1b2c3d40825550199e5f60718293a4b", id="hex-token"),
    ],
)
def test_things_that_are_not_personal_are_kept(text):
    assert redact_text(text) == text


def test_an_id_number_needs_a_real_date_a_citizenship_digit_and_luhn():
    assert sa_id_valid(ID)
    assert sa_id_valid(sa_id(dt.date(2000, 2, 29), 1234, 0)) and sa_id_valid(sa_id(dt.date(1955, 7, 31), 5, 1))
    citizenship_9 = "800101500998"
    assert not any(sa_id_valid(citizenship_9 + str(z)) for z in range(10))
    assert sa_id_valid(sa_id(dt.date(2001, 1, 1), 1, 2))  # refugees' numbers have 2: they are found too
    thirtieth_february = "800230500908"
    assert not any(sa_id_valid(thirtieth_february + str(z)) for z in range(10))


def test_a_child_born_in_2015_named_in_a_photo_file_is_an_edge_we_accept():
    # A 13-digit photo name is a millisecond timestamp (Kobo/ODK); an ID number of someone born in
    # 2015 used as a photo's file name is the one case left unredacted. Without the extension it is found.
    child = sa_id(dt.date(2015, 6, 1), 1, 0)
    assert redact_text(child) == "[ID NUMBER]"
    assert redact_text(f"{child}.jpg") == f"{child}.jpg"
    assert redact_text(f"{ID}.jpg") == "[ID NUMBER].jpg"  # 2223 is not a capture time


# --------------------------------------------------------------------------------------------------
# 4. Personal columns by meaning
# --------------------------------------------------------------------------------------------------
PERSONAL = [
    "complainant", "victimName", "msisdn", "whatsapp", "WhatsApp", "contact", "dob", "reporter", "enumerator",
    "interviewer", "respondent", "group/victim_name", "victim-name", "Victim Name", "witness_details", "informant",
    "reporter/reporter_phone", "_submitted_by", "SubmitterName", "SubmitterID", "DeviceID", "meta-deviceid",
    "username", "E-mail", "date_of_birth", "IDNumber", "id_no", "home_address", "cell_no", "simserial",
    "subscriberid", "imei", "respondent_id", "kids/kids_details[1]/kids_name",
]  # fmt: skip
NOT_PERSONAL = [
    "description", "crime_type", "_id", "_uuid", "instanceID", "meta/instanceID", "meta-instanceID", "KEY",
    "incident_id", "case_number", "station_name", "street_name", "file_name", "category_name", "contact_crime",
    "number_of_victims", "victim_age", "respondent_gender", "_submission_time", "SubmissionDate", "_geolocation",
    "location", "what_happened", "incident_address", "h3_cell", "name_of_school", "Institution_Name", "photo",
    "DMunName", "comments",
]  # fmt: skip


@pytest.mark.parametrize("column", PERSONAL)
def test_personal_columns_are_recognised_by_meaning(column):
    assert is_personal(column)


@pytest.mark.parametrize("column", NOT_PERSONAL)
def test_incident_columns_are_kept(column):
    assert not is_personal(column)


def test_personal_columns_are_dropped_and_the_roles_still_found(area_store, tmp_path):
    body = (
        "_uuid,date,crime_type,_gps_latitude,_gps_longitude,description,complainant,victimName,msisdn,dob,"
        "enumerator,victim_age\n"
        "u1,2025-03-04,Robbery,-34.05,18.55,bag taken,Sipho Dlamini,Thandi Mokoena,27825550199,1980-01-01,Nomsa,34\n"
    )
    path = write_csv(tmp_path, "k.csv", body)
    mapping = detect_mapping(pd.read_csv(path, dtype=str).columns.tolist())
    assert (mapping.id, mapping.category, mapping.description) == ("_uuid", "crime_type", "description")
    ingest_incidents(area_store, path, source="community", org="A", now=NOW)
    kept = area_store.read_source_rows()
    raw = kept.to_csv()
    for gone in ("Sipho", "Thandi", "825550199", "1980-01-01", "Nomsa", "complainant", "msisdn"):
        assert gone not in raw
    assert kept["victim_age"].tolist() == ["34"]


# --------------------------------------------------------------------------------------------------
# 5. Rejected rows of the registers and the counts
# --------------------------------------------------------------------------------------------------
def test_rejected_register_and_count_rows_are_redacted(area_store, tmp_path):
    secret = "Thandi 082 555 0199 thandi@example.org 8001015009087"
    assets = write_csv(tmp_path, "assets.csv", f'name,category,latitude,longitude\n"{secret}",individuals,,\n')
    interventions = write_csv(tmp_path, "iv.csv", f'name,status,latitude,longitude\n"{secret}",planned,,\n')
    counts = write_csv(tmp_path, "counts.csv", f'station,category,period,count\n"{secret}",Robbery,2024-2025,3\n')
    assert ingest_assets(area_store, assets).rejected == 1
    assert ingest_interventions(area_store, interventions).rejected == 1
    assert ingest_counts(area_store, counts).rejected == 1
    rejections = area_store.read_rejections()
    assert len(rejections) == 3
    assert_absent(area_store, ["082 555 0199", "thandi@example.org", "8001015009087"])
    assert all("[PHONE]" in raw and "[EMAIL]" in raw for raw in rejections["raw"])


# --------------------------------------------------------------------------------------------------
# 6. A password typed as a username
# --------------------------------------------------------------------------------------------------
def test_a_password_typed_as_username_is_not_in_the_audit_log(store):
    admin = auth.Viewer("root", "admin")
    auth.add_user(store, "ana", role="analyst", actor=admin, password="correct horse battery")
    for typed in ("S3cret!passw0rd", "ana"):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, typed, "wrong guess here", now=NOW)
    log = store.read_table("audit_log")
    failed = log[log["event"] == "login_failed"]
    assert "S3cret" not in log.astype(str).to_csv()
    assert sorted(failed["user"]) == ["(unknown user: 15 characters)", "ana"]
    assert sorted(failed["target"]) == ["(unknown user: 15 characters)", "ana"]


# --------------------------------------------------------------------------------------------------
# 7. File names
# --------------------------------------------------------------------------------------------------
def test_file_names_are_redacted_before_they_are_stored(tmp_path):
    name = f"statement_{PHONE}_thandi@example.org_{ID}.csv"
    assert redact_file_name(name) == "[EMAIL]_[ID NUMBER].csv"  # the phone is in the address's local part
    assert redact_file_name(f"statement {PHONE}.xlsx") == "statement [PHONE].xlsx"
    assert redact_file_name(f"C:\\Users\\t\\{ID}.xlsx") == "[ID NUMBER].xlsx"
    store_path = tmp_path / "cli.gpkg"
    path = write_csv(tmp_path, name, "id,date,category,latitude,longitude\n1,2025-03-04,Robbery,-34.05,18.55\n")
    cli = [sys.executable, "-m", "pipelines.cli", "--store", str(store_path)]
    result = subprocess.run(
        [*cli, "ingest", "incidents", str(path), "--source", "community"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    store = open_store(store_path)
    try:
        file_names = list(store.read_table("batches")["file_name"])
        assert file_names == [redact_file_name(name)] and file_names[0].endswith(".csv")
        assert_absent(store, [PHONE, "thandi@example.org", ID])
        assert "[EMAIL]_[ID NUMBER].csv" in store.read_table("audit_log")["detail"].iloc[0]
    finally:
        store.close()


# --------------------------------------------------------------------------------------------------
# Fuzz: generated ID numbers, phone numbers and e-mail addresses in every column of a real ingest
# --------------------------------------------------------------------------------------------------
PHONE_FORMS = (
    "0{a}{b}{c}",
    "0{a} {b} {c}",
    "0{a}-{b}-{c}",
    "(0{a}) {b} {c}",
    "0{a}.{b}.{c}",
    "+27{a}{b}{c}",
    "+27 {a} {b} {c}",
    "+27 (0){a} {b} {c}",
    "+27.{a}.{b}.{c}",
    "0027 {a} {b} {c}",
    "0027{a}{b}{c}",
    "27{a}{b}{c}",
    "tel0{a}{b}{c}",
    "cell:0{a}\u00a0{b}\u00a0{c}",
)
ID_FORMS = ("{id}", "ID{id}", "ID no.{id}", "{d6}-{d4}-{d3}", "{d6} {d4} {d3}", "id:{id}")
COLUMNS = ("id", "date", "category", "latitude", "longitude", "description", "notes", "photo")


def _phone(rng: random.Random) -> tuple[str, str]:
    a = f"{rng.randint(1, 8)}{rng.randint(0, 9)}"
    b, c = f"{rng.randint(0, 999):03d}", f"{rng.randint(0, 9999):04d}"
    return rng.choice(PHONE_FORMS).format(a=a, b=b, c=c), a + b + c


def _id(rng: random.Random) -> tuple[str, str]:
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 90))
    number = sa_id(birth, rng.randint(0, 9999), rng.choice((0, 1)))
    form = rng.choice(ID_FORMS)
    return form.format(id=number, d6=number[:6], d4=number[6:10], d3=number[10:]), number


def _email(rng: random.Random) -> tuple[str, str]:
    user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz._") for _ in range(rng.randint(3, 12))).strip("._") or "x"
    address = f"{user}@{rng.choice(('example.org', 'mail.co.za', 'gmail.com'))}"
    return address, address


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    timestamps=st.lists(st.integers(1_500_000_000_000, 1_800_000_000_000), min_size=6, max_size=6),
)
def test_fuzz_generated_pii_never_reaches_the_store(tmp_path_factory, seed, timestamps):
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("fuzz")
    store = open_store(folder / "fuzz.gpkg")
    try:
        load_areas(store, folder)
        rows, secrets, written = [], [], []
        for i, ts in enumerate(timestamps):
            row = {
                "id": f"r{i}",
                "date": "2025-03-04",
                "category": "Robbery",
                "latitude": "-34.05",
                "longitude": f"18.5{i}",
                "description": "bag taken",
                "notes": "",
                "photo": f"{ts}.jpg",
            }
            column = rng.choice(COLUMNS)
            text, plain = rng.choice((_phone, _id, _email))(rng)
            row[column] = text if column in ("latitude", "longitude", "date") else f"{row[column]} {text}".strip()
            rows.append(row)
            secrets.append(plain)
            written.append(text)
        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        path = folder / f"fuzz-{written[0]}.csv"
        path.write_text(frame.to_csv(index=False), encoding="utf-8")
        batch = ingest_incidents(store, path, source="community", org="F", now=NOW)
        audit.record(store, "upload", user="fuzz", target=batch.batch_id, detail={"file": batch.file_name})
        assert batch.rows_read == len(rows)
        for plain in secrets:
            needle = plain if "@" in plain else plain[-9:]
            for table, text in stored_text(store).items():
                assert needle not in (text if "@" in plain else digits(text)) or _by_chance(needle, store, table), (
                    plain,
                    table,
                )
        kept = store.read_source_rows().to_csv() + " ".join(store.read_rejections()["raw"])
        for ts in timestamps:
            assert f"{ts}.jpg" in kept  # millisecond photo names are not ID numbers
    finally:
        store.close()


def _by_chance(needle: str, store, table: str) -> bool:
    """True when the digits are only found across the joined digits of different cells (not a leak)."""
    values = store.read_table(table).drop(columns="geometry", errors="ignore").astype(str).to_numpy().ravel()
    return not any(needle in digits(v) for v in values)
