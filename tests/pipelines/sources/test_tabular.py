"""Tables as CSOs bring them (pipelines.sources.tabular): containers, encodings, line endings, Excel sheets
and ODK Central's zipped export, on real exports where they exist and tiny hand-made files for the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipelines import settings
from pipelines.errors import AreaSafeError, UnusableFileError
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from pipelines.sources import limits
from pipelines.sources.tabular import ROW_NUMBER, default_sheet, detect_encoding, read_tabular, sheet_names

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
DATA = Path(__file__).parents[2] / "data"
ODK_REAL = DATA / "real" / "odk-central-csv-central-backend"
ODK_FIXTURE = DATA / "odk-central-incidents"
RNI = DATA / "real" / "ushahidi-rni-2015-month-first"
HEADER = "id,date,category,latitude,longitude,description\n"
GOOD = "1,2025-03-04 18:30,Robbery,-34.05,18.55,Café robbery at the taxi rank\n"
SECOND = "2,2025-03-05 10:00,Assault,-34.06,18.56,Fight outside the café\n"


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _values(raw) -> list[list[str]]:
    return raw.frame.drop(columns=ROW_NUMBER).astype(str).values.tolist()


def _workbook(sheets: dict[str, list[list[str]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Containers: the bytes decide, the name is a label
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data"),
    [
        pytest.param("survey.csv.gz", gzip.compress((HEADER + GOOD + SECOND).encode()), id="csv.gz"),
        pytest.param("survey.zip", _zip({"survey.csv": HEADER + GOOD + SECOND}), id="zip-of-one-csv"),
        pytest.param("survey.csv", gzip.compress((HEADER + GOOD + SECOND).encode()), id="gz-named-csv"),
        pytest.param(
            "export.zip",
            _zip({"__MACOSX/._survey.csv": b"\x00\x05", "folder/survey.csv": HEADER + GOOD + SECOND}),
            id="zip-from-a-mac",
        ),
    ],
)
def test_compressed_tables_are_read_as_the_table(name, data):
    raw = read_tabular(name, data=data)
    assert _values(raw)[0] == ["1", "2025-03-04 18:30", "Robbery", "-34.05", "18.55", "Café robbery at the taxi rank"]
    assert len(raw.frame) == 2
    assert raw.notes  # says what was unpacked


def test_zip_holding_a_workbook_is_read_as_the_workbook():
    book = _workbook({"Incidents": [HEADER.strip().split(","), GOOD.strip().split(",")]})
    raw = read_tabular("survey.zip", data=_zip({"survey.xlsx": book}))
    assert _values(raw) == [GOOD.strip().split(",")]
    assert "read survey.xlsx from survey.zip" in raw.notes


def _symlink_zip(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system, info.external_attr = 3, 0o120777 << 16
        archive.writestr(info, target)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(_zip({"a.csv": HEADER, "b.csv": HEADER}), r"holds 2 tables \(a.csv, b.csv\)", id="two-tables"),
        pytest.param(_zip({"readme.pdf": b"%PDF"}), "holds no table", id="no-table"),
        pytest.param(_zip({"../evil.csv": HEADER + GOOD}), "unsafe path", id="traversal"),
        pytest.param(gzip.compress(b" " * 5_000_000), "zip bomb", id="gzip-bomb"),
        pytest.param(gzip.compress((HEADER + GOOD).encode())[:-12], "cut short", id="gzip-cut-short"),
        pytest.param(gzip.compress(_zip({"a.csv": HEADER})), "archive inside an archive", id="zip-in-gzip"),
        pytest.param(_zip({"a.csv": _zip({"a.csv": HEADER + GOOD})}), "archive inside the archive", id="zip-in-zip"),
        pytest.param(_zip({"a.csv": gzip.compress((HEADER + GOOD).encode())}), "archive inside", id="gzip-in-zip"),
        pytest.param(_symlink_zip("a.csv", "/etc/passwd"), r"holds a link \('a.csv'\), not a file", id="symlink"),
    ],
)
def test_hostile_containers_are_refused_in_words(data, match):
    """A zip inside a zip was "a zip archive that holds no table"; a link's target was read as the header."""
    with pytest.raises(UnusableFileError, match=match):
        read_tabular("upload.zip", data=data)


def test_upload_limits_apply_to_the_unpacked_table(monkeypatch):
    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, max_upload_rows=3))
    body = HEADER + "".join(GOOD.replace("1,", f"{i},", 1) for i in range(5))
    packed = gzip.compress(body.encode())
    with pytest.raises(AreaSafeError, match="Row limit: survey.csv.gz has at least 4 data rows"):
        limits.check_upload("survey.csv.gz", packed)
    with pytest.raises(AreaSafeError, match="Row limit: survey.zip has at least 4 data rows"):
        limits.check_upload("survey.zip", _zip({"survey.csv": body}))
    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, max_upload_unzipped_bytes=10_000))
    with pytest.raises(AreaSafeError, match="zip bomb"):
        limits.check_upload("big.csv.gz", gzip.compress(HEADER.encode() + b"1" * 20_000))
    assert limits.check_upload("ok.csv.gz", gzip.compress((HEADER + GOOD).encode())).name == "ok.csv.gz"


def test_zipped_and_gzipped_uploads_go_through_the_upload_path(area_store):
    from pipelines.access import prepare_upload
    from pipelines.privacy import operator

    for name, data in (
        ("survey.csv.gz", gzip.compress((HEADER + GOOD + SECOND).encode())),
        ("survey.zip", _zip({"survey.csv": HEADER + GOOD + SECOND})),
    ):
        prepared = prepare_upload(area_store, operator(), name, data, source="community", now=NOW)
        assert (prepared.batch.accepted, prepared.batch.rejected) == (2, 0), name


# --------------------------------------------------------------------------------------------------
# Line endings and parse failures
# --------------------------------------------------------------------------------------------------
def test_cr_only_line_endings_are_read(area_store):
    data = (HEADER + GOOD + SECOND).replace("\n", "\r").encode()
    raw = read_tabular("mac.csv", data=data)
    assert [r[0] for r in _values(raw)] == ["1", "2"]
    limits.check_upload("mac.csv", data)  # one line of the whole file would trip the line limit
    batch = ingest_incidents(area_store, "mac.csv", data=data, source="community", now=NOW)
    assert (batch.accepted, batch.rejected) == (2, 0)


def test_real_old_mac_excel_export_cr_lines_and_mac_roman(real_data):
    """Ushahidi RNI 2015: records end in CR, one quoted cell holds LF line breaks, bytes are Mac Roman."""
    raw = read_tabular(RNI / "RNI_Download_20151007.csv")
    assert len(raw.frame) == 29 and not raw.malformed
    assert raw.frame["INCIDENT DATE"].iloc[0] == "7/13/15 12:12"
    assert raw.frame["INCIDENT TITLE"].iloc[-1] == "Ushahidi hires RNI director!"
    assert raw.frame["DESCRIPTION"].str.contains("\n").sum() == 1  # the LF inside the quoted cell stays in it
    assert raw.encoding == "mac_roman"
    # The file holds UTF-8 text once mis-read as Windows-1252 ('’' as 'â€™'): Mac Roman gives that back
    # exactly, where Windows-1252/Latin-1 would add a second layer of garbling.
    assert "Ushahidiâ€™s" in raw.frame["DESCRIPTION"].iloc[0]
    assert any("old Mac" in note for note in raw.notes)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param(
            HEADER + GOOD + '2,2025-03-05,Robbery,-34.05,18.55,"never closed\n3,2025-03-05,Robbery,-34.05,18.55,x\n',
            r"quote mark \(\"\) opened on line 3 is never closed",
            id="unclosed-quote",
        ),
        pytest.param(
            HEADER + GOOD + '2,2025-03-05,Robbery,-34.05,18.55,"' + "x" * 200_000 + "\n" + SECOND,
            r"the row that starts on line 3 could not be read: it holds a cell longer than",
            id="quote-swallowing-a-huge-cell",
        ),
    ],
)
def test_parse_failures_are_sentences_naming_the_line(text, match):
    with pytest.raises(UnusableFileError, match=match) as caught:
        read_tabular("f.csv", data=text.encode())
    message = str(caught.value)
    assert "Error" not in message and "ArrowInvalid" not in message and "new-line character" not in message


# --------------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param((HEADER + GOOD).encode("utf-16"), "utf-16-le", id="utf-16-bom"),
        pytest.param((HEADER + GOOD).encode("utf-16-be"), "utf-16-be", id="utf-16-be-no-bom"),
        pytest.param((HEADER + GOOD).encode("utf-16-le"), "utf-16-le", id="utf-16-le-no-bom"),
    ],
)
def test_the_encoding_that_fits_is_found(data, encoding):
    assert detect_encoding(data) == encoding
    raw = read_tabular("f.csv", data=data)
    assert raw.frame["description"].iloc[0] == "Café robbery at the taxi rank"
    assert not raw.malformed


def test_a_stray_byte_in_a_utf8_file_rejects_its_row_not_the_file(area_store):
    """The old reader decoded the whole file as cp1252 ("Café" became "CafÃ©") without a word."""
    data = (HEADER + GOOD).encode() + "3,2025-03-05,Robbery,-34.05,18.55,Caf\xe9 again\n".encode("cp1252")
    data += SECOND.encode()
    raw = read_tabular("mixed.csv", data=data)
    assert raw.frame["description"].tolist() == ["Café robbery at the taxi rank", "Fight outside the café"]
    prepared = prepare_incidents(area_store, "mixed.csv", data=data, source="community", now=NOW)
    batch = prepared.batch
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 2, 1)
    assert batch.rejections == {"malformed_row": 1}
    message = prepared.rejections["message"].iloc[0]
    assert "Line 3, column 'description': the byte 0xE9 is not UTF-8" in message
    assert "'é'" in message
    assert prepared.rejections["row_number"].tolist() == [3]


def test_windows_1252_file_with_a_few_utf8_characters_is_named_in_the_notes():
    data = (HEADER + "1,x,x,1,1,déjà vu\n2,x,x,1,1,señor\n").encode("cp1252") + "3,x,x,1,1,café\n".encode()
    raw = read_tabular("f.csv", data=data)
    assert raw.encoding == "cp1252"
    assert raw.frame["description"].tolist()[:2] == ["déjà vu", "señor"]
    assert any("line 4 holds characters written as UTF-8" in note for note in raw.notes)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document", id="pdf"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "picture", id="png"),
        pytest.param(b"<html><table><tr><td>a</td></tr></table></html>", "web page", id="html-as-xls"),
        pytest.param(b"\x01\x02\x00\x00binary\x00\x00stuff", "binary", id="binary"),
    ],
)
def test_files_that_are_not_tables_say_what_they_are(data, match):
    with pytest.raises(UnusableFileError, match=match):
        read_tabular("survey.xls", data=data)


# --------------------------------------------------------------------------------------------------
# Excel sheets
# --------------------------------------------------------------------------------------------------
KOBO_MAIN = [["start", "incident_date", "incident_type", "_location_latitude", "_location_longitude", "_id", "_uuid"]]
KOBO_MAIN += [["2025-03-04", "2025-03-04", "Robbery", "-34.05", "18.55", "1", "u1"]]
KOBO_REPEAT = [["witness_age", "_parent_table_name", "_parent_index", "_submission__uuid"], ["34", "main", "1", "u1"]]


def test_default_sheet_is_the_submissions_never_a_repeat_group():
    book = _workbook({"witnesses": KOBO_REPEAT, "choices": [["list_name"], ["x"]], "survey data": KOBO_MAIN})
    assert sheet_names(book) == ["witnesses", "choices", "survey data"]
    assert default_sheet(book) == "survey data"
    raw = read_tabular("export.xlsx", data=book)
    assert raw.frame["incident_type"].tolist() == ["Robbery"]
    (note,) = raw.notes
    assert "sheet 'survey data'" in note
    assert "'witnesses' (a repeat group's table, 1 rows)" in note and "'choices'" in note


def test_sheet_option_and_a_wrong_sheet_name_lists_the_sheets(area_store):
    book = _workbook({"Incidents": [HEADER.strip().split(","), GOOD.strip().split(",")], "Other": [["a"], ["b"]]})
    assert read_tabular("b.xlsx", data=book, sheet="Other").frame["a"].tolist() == ["b"]
    with pytest.raises(UnusableFileError, match=r"no sheet named 'Nope'; its sheets are: 'Incidents', 'Other'"):
        read_tabular("b.xlsx", data=book, sheet="Nope")
    batch = ingest_incidents(area_store, "b.xlsx", data=book, source="community", sheet="Incidents", now=NOW)
    assert batch.accepted == 1
    assert any("sheet 'Incidents'" in note for note in batch.notes)


def test_a_repeat_sheet_chosen_on_its_own_is_refused(area_store):
    book = _workbook({"main": KOBO_MAIN, "witnesses": KOBO_REPEAT})
    with pytest.raises(UnusableFileError, match="table of a repeat group"):
        prepare_incidents(area_store, "k.xlsx", data=book, source="community", sheet="witnesses", now=NOW)


def test_real_xls_workbook_sheets(real_data):
    data = (real_data / "kobo-odk-export-fixtures" / "kobocat" / "transportation.xls").read_bytes()
    assert sheet_names(data) == ["survey", "choices", "settings"]
    assert default_sheet(data) == "survey"
    raw = read_tabular("transportation.xls", data=data, sheet="choices")
    assert "list name" in raw.frame.columns or "list_name" in raw.frame.columns
    with pytest.raises(UnusableFileError, match="its sheets are: 'survey', 'choices', 'settings'"):
        read_tabular("transportation.xls", data=data, sheet="data")


def test_broken_workbook_message_has_no_library_text():
    with pytest.raises(UnusableFileError, match="could not be read as an Excel workbook") as caught:
        read_tabular("x.xls", data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert str(caught.value).endswith("save it as CSV UTF-8, and upload that.")


# --------------------------------------------------------------------------------------------------
# ODK Central
# --------------------------------------------------------------------------------------------------
def _central_zip(folder: Path, *, media: bool = False) -> bytes:
    """A submissions.csv.zip as Central writes it: the form's table first, then each repeat table."""
    tables = sorted(folder.glob("*.csv"), key=lambda p: ("-" in p.stem.removeprefix(folder.name), p.name))
    members: dict[str, bytes | str] = {p.name: p.read_bytes() for p in tables}
    if media:
        members["media/1741158760113.jpg"] = b"\xff\xd8\xff\xe0 a photo"
    return _zip(members)


def test_real_central_export_reads_the_main_table_and_names_the_repeat_tables():
    raw = read_tabular("submissions.csv.zip", data=_central_zip(ODK_REAL / "multirepeat"))
    assert raw.frame["name"].tolist() == ["Alice", "Bob", "Chelsea"]
    assert raw.notes[0] == "read multirepeat.csv from submissions.csv.zip"
    assert "multirepeat-child.csv (4 rows), multirepeat-toy.csv (6 rows)" in raw.notes[1]


def test_real_central_repeat_table_alone_is_refused(area_store):
    path = ODK_REAL / "singlerepeat" / "singlerepeat-child.csv"
    with pytest.raises(
        UnusableFileError, match=r"singlerepeat-child.csv is the table of a repeat group 'child' \(3 rows\)"
    ):
        prepare_incidents(area_store, path, source="community", now=NOW)
    assert area_store.count("incidents") == 0


def test_central_columns_are_recognised_on_the_real_export():
    from pipelines.sources.mapping import detect_format, detect_mapping

    raw = read_tabular(ODK_REAL / "all-data-types" / "all-data-types.csv")
    mapping = detect_mapping(list(raw.frame.columns), raw.frame)
    assert (mapping.format, mapping.lat, mapping.lon) == ("odk", "some_geopoint-Latitude", "some_geopoint-Longitude")
    assert (mapping.id, mapping.fallback_date, mapping.date) == ("KEY", "SubmissionDate", None)
    assert set(mapping.personal) == {"SubmitterID", "SubmitterName", "DeviceID"}
    # Central names split select-multiple columns "q1/a" (submissions.js test): still ODK, not Kobo.
    header = "SubmissionDate,meta-instanceID,q1,q1/a,q1/b,g1-q2,g1-q2/m,KEY,SubmitterID,SubmitterName,"
    header += "AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion"
    assert detect_format(header.split(",")) == "odk"


def test_central_export_ingests_end_to_end(area_store):
    data = _central_zip(ODK_FIXTURE, media=True)
    limits.check_upload("safety_walk.zip", data)
    batch = ingest_incidents(area_store, "safety_walk.zip", data=data, source="community", org="CSO", now=NOW)
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 3, 0)
    assert batch.format == "odk"
    assert batch.warnings.get("missing_date") == 1  # row 3 has no incident date: SubmissionDate is used
    notes = " | ".join(batch.notes)
    assert "read safety_walk.csv from safety_walk.zip" in notes
    assert "safety_walk-witness.csv (3 rows)" in notes and "media/1741158760113.jpg" in notes
    stored = area_store.read_table("incidents")
    assert sorted(stored["external_id"]) == [f"uuid:5b0e6a0c-1d2f-4a57-9c0e-0f6a1b2c3d0{i}" for i in (1, 2, 3)]
    kept = area_store.read_source_rows().to_csv()
    assert "Field Worker" not in kept and "Thandi" not in kept and "collect:" not in kept  # personal columns dropped


def test_a_gzip_bomb_is_refused_before_it_is_unpacked():
    """40 MB of rows packed into 40 KB: refused at 200 times the packed size, not after unpacking it all."""
    import tracemalloc

    from pipelines.sources.archive import MAX_RATIO, gunzip

    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * 10_000_000, 9)
    tracemalloc.start()
    try:
        with pytest.raises(UnusableFileError, match=r"more than 200x its size; the limits are 200 MB and 200x"):
            gunzip(bomb, "rows.csv.gz", max_unzipped_bytes=200 * 2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_RATIO * len(bomb)  # was twice the 40 MB
