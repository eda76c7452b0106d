"""The dry run in words (pipelines.ingest.report), the rejected rows as the file they came from
(rejections.as_original_file) and the CLI's ``ingest incidents --dry-run``."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from pipelines import cli
from pipelines.errors import MissingLocationError
from pipelines.ingest import report
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from pipelines.ingest.rejections import SENTENCES, as_original_file, download_label, reason_column
from pipelines.views import local_times

# Row 2 fine, 3 bad date, 4 no location, 5 outside every area with an unknown category and a formula,
# 6 latitude and longitude swapped; a personal column between the others.
MESSY = """Ref,Wanneer,Oos,Noord,Reporter phone,Soort,Wat het gebeur
1,02/11/2025,18.58,-34.05,0821234567,robbery,A man was robbed of his phone near the taxi rank
2,31/02/2025,18.61,-34.05,,gunshots,Shots fired at night behind the tavern on Mew Way
3,2025-11-04 21:30,,,,robbery,A woman was mugged on her way home from work
4,2025-11-05,19.9,-33.0,,skollies fighting,"=HYPERLINK(""http://x"") gang fight outside school"
5,2025-11-06 08:15,-34.06,18.62,,burglary,Someone broke into the spaza shop and took airtime
"""
CHOICES = {"lat": "Noord", "lon": "Oos", "date": "Wanneer", "category": "Soort"}


def prepare(store, text: str = MESSY, **overrides):
    return prepare_incidents(
        store, "messy.csv", source="community", org="Harare CSF", data=text.encode(), overrides={**CHOICES, **overrides}
    )


def fixed(text: str) -> str:
    """The rejected-rows file fixed as a person would: the cells edited, header and reason column left."""
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    table.loc[table["Ref"] == "2", "Wanneer"] = "28/02/2025"
    table.loc[table["Ref"] == "3", ["Noord", "Oos"]] = ["-34.05", "18.59"]
    return table.to_csv(index=False)


def test_dry_run_report_says_everything_in_words(area_store):
    found = report.dry_run_report(prepare(area_store))
    assert found.headline == "5 rows read: 3 will be stored, 2 rejected and 0 left out as duplicates."
    assert found.warnings[:3] == [
        "Row 5 is outside every area AreaSafe knows. It will be stored but counted in no area: check its latitude "
        "and longitude.",
        "Row 5 has a type of incident AreaSafe does not know ('skollies fighting'). It will be stored as 'other' and "
        "kept private until an analyst says what the type means.",
        "Row 6 has latitude and longitude the wrong way round; they were swapped. Check this row.",
    ]
    assert found.rejections == [
        f"1 row (row 3): {SENTENCES['invalid_date']}",
        f"1 row (row 4): {SENTENCES['missing_location']}",
    ]
    text = "\n".join(found.lines())
    assert not any(code in text for code in ("invalid_date", "missing_location", "outside_areas", "{"))


def test_rows_show_the_report_itself_in_local_time(area_store):
    rows = report.report_rows(prepare(area_store), areas=area_store.read_areas()).set_index("Row")
    assert list(rows.columns) == ["Outcome", "Why", "Date in the file", "Read as", "Type", "Where", "What happened"]
    assert rows.loc[2, "Read as"] == "2025-11-02"  # a date without a time stays a date
    assert rows.loc[6, "Read as"] == "2025-11-06 08:15"  # local time, no "+00:00"
    assert rows.loc[3, "Outcome"] == "Rejected" and rows.loc[3, "Why"] == SENTENCES["invalid_date"]
    assert rows.loc[3, "Date in the file"] == "31/02/2025" and rows.loc[3, "Where"] == "-34.05, 18.61"
    assert rows.loc[2, "What happened"] == "A man was robbed of his phone near the taxi rank"
    assert rows.loc[2, "Where"] == "Hood" and rows.loc[5, "Where"] == "Outside every area"
    problems = report.report_rows(prepare(area_store), only_problems=True)
    assert list(problems["Row"]) == [3, 4, 5, 6]


def test_local_times_drop_the_offset():
    when = pd.Series(pd.to_datetime(["2025-11-02T10:00:00+00:00", None], utc=True))
    assert list(local_times(when)) == ["2025-11-02 12:00", None]
    assert list(local_times(when, date_only=pd.Series([True, False]))) == ["2025-11-02", None]


def test_rejected_rows_come_back_as_the_uploaded_file(area_store):
    text = as_original_file(prepare(area_store).rejections, prepare(area_store).columns)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Ref", "Wanneer", "Oos", "Noord", "Reporter phone", "Soort", "Wat het gebeur", "reason"]
    assert lines[1] == [
        "2",
        "31/02/2025",
        "18.61",
        "-34.05",
        "",
        "gunshots",
        "Shots fired at night behind the tavern on Mew Way",
        SENTENCES["invalid_date"],
    ]
    assert lines[2][-1] == SENTENCES["missing_location"]


def test_the_download_label_counts_its_rows_in_words():
    """One row is "the rejected row", not "the 1 rejected rows" (the upload page and Batches both said so)."""
    assert download_label(1) == "Download the rejected row to fix (CSV)"
    assert download_label(3) == "Download the 3 rejected rows to fix (CSV)"
    assert download_label(1250) == "Download the 1,250 rejected rows to fix (CSV)"


def test_stored_rejections_recover_the_header_from_the_raw_copies(area_store):
    prepared = prepare(area_store, MESSY.replace("2025-11-04 21:30", "=1+1"))
    lines = list(csv.reader(io.StringIO(as_original_file(prepared.rejections))))
    assert lines[0] == ["Ref", "Wanneer", "Oos", "Noord", "Soort", "Wat het gebeur", "reason"]  # personal column gone
    assert lines[2][1] == "'=1+1"  # formulas neutralised, as every CSV AreaSafe writes


def test_a_row_the_parser_could_not_split_keeps_its_fields(area_store):
    broken = MESSY.replace("Reporter phone,", "").replace(",0821234567,", ",").replace(",,", ",", 4)
    broken += "6,2025-11-07,18.58,-34.05,robbery,Stolen bicycle, then, more fields\n"
    prepared = prepare(area_store, broken)  # no personal column: the whole row is kept
    assert prepared.mapping.personal == ()
    expected = ["6", "2025-11-07", "18.58", "-34.05", "robbery", "Stolen bicycle, then, more fields"]
    lines = list(csv.reader(io.StringIO(as_original_file(prepared.rejections, prepared.columns))))
    assert lines[-1] == [*expected, SENTENCES["malformed_row"]]
    assert list(csv.reader(io.StringIO(as_original_file(prepared.rejections))))[-1] == lines[-1]


# A row with one field too many, the name (personal, never stored) moved out of its column: by a stray
# comma before it, by a comma inside it, by a quoted field that joined two columns.
NAME_MOVED = [
    pytest.param("6,2025-11-07, 10:00,18.58,-34.05,Sipho Dlamini,robbery,Stolen bicycle", id="stray-comma-before"),
    pytest.param("6,2025-11-07,18.58,-34.05,Dlamini, Sipho,robbery,Stolen bicycle", id="comma-inside-the-name"),
    pytest.param('6,"2025-11-07,18.58",-34.05,Sipho Dlamini,robbery,Stolen bicycle,x,y', id="quote-joins-columns"),
    pytest.param(
        '6,2025-11-07,18.58,-34.05,,robbery,"Stolen\n7,2025-11-08,18.58,-34.05,Sipho Dlamini",x', id="line-joined"
    ),
]


@pytest.mark.parametrize("line", NAME_MOVED)
def test_a_row_the_parser_could_not_split_never_keeps_a_personal_value(area_store, line):
    prepared = prepare(area_store, MESSY.replace("0821234567", "") + line + "\n")
    malformed = prepared.rejections[prepared.rejections["reason"] == "malformed_row"]
    assert len(malformed) == 1
    assert not prepared.rejections["raw"].str.contains("Sipho").any()  # what the store keeps
    assert "left empty in the copy AreaSafe keeps" in malformed["message"].iloc[0]
    on_page = as_original_file(prepared.rejections, prepared.columns, empty=prepared.mapping.personal)
    on_batches = as_original_file(prepared.rejections)
    assert "Sipho" not in on_page and "Sipho" not in on_batches
    assert list(csv.reader(io.StringIO(on_page)))[-1][:1] == ["6"]  # what is safe comes back


def test_a_row_with_a_bad_byte_keeps_its_fields_but_the_personal_ones(area_store):
    text = MESSY.replace("taxi rank", "caf\u00e9") + "6,2025-11-07,18.58,-34.05,Sipho,robbery,Caf\u00e9\n"
    data = text.encode().replace("Caf\u00e9".encode(), b"Caf\xe9")  # UTF-8 but one byte
    prepared = prepare_incidents(
        area_store, "m.csv", source="community", org="Harare CSF", data=data, overrides=CHOICES
    )
    malformed = prepared.rejections[prepared.rejections["reason"] == "malformed_row"]
    assert list(malformed["row_number"]) == [7]
    assert "left empty" not in malformed["message"].iloc[0]  # in place: only the personal column is left out
    lines = list(csv.reader(io.StringIO(as_original_file(malformed))))
    assert lines[0] == ["Ref", "Wanneer", "Oos", "Noord", "Soort", "Wat het gebeur", "reason"]
    assert lines[1][:5] == ["6", "2025-11-07", "18.58", "-34.05", "robbery"] and "Sipho" not in lines[1]


def test_the_fixed_file_goes_straight_back_in(area_store):
    first = prepare(area_store)
    ingest_incidents(area_store, "messy.csv", source="community", data=MESSY.encode(), overrides=CHOICES)
    again = fixed(as_original_file(first.rejections, first.columns))
    second = prepare(area_store, again)
    assert "reason" not in second.columns and second.mapping.description == "Wat het gebeur"
    assert any("'reason' column" in note for note in report.dry_run_report(second).notes)
    assert (second.batch.accepted, second.batch.rejected) == (2, 0)
    assert first.batch.accepted + second.batch.accepted == first.batch.rows_read
    stored = second.incidents["description"].tolist()
    assert stored == [
        "Shots fired at night behind the tavern on Mew Way",
        "A woman was mugged on her way home from work",
    ]


def test_a_files_own_reason_column_is_kept():
    own = pd.DataFrame({"reason": ["Neighbour called it in", "Patrol saw it", ""]})
    assert reason_column(own) is None
    ours = pd.DataFrame({"reason": [SENTENCES["invalid_date"], "", SENTENCES["missing_location"]]})
    assert reason_column(ours) == "reason"


def test_a_file_with_its_own_reason_column_gets_a_second_one(area_store):
    text = MESSY.replace("Wat het gebeur\n", "Wat het gebeur,reason\n", 1)
    prepared = prepare(area_store, text)
    header = next(csv.reader(io.StringIO(as_original_file(prepared.rejections, prepared.columns))))
    assert header[-2:] == ["reason", "reason (AreaSafe)"]


def test_missing_location_carries_the_columns_and_a_redacted_preview(area_store):
    with pytest.raises(MissingLocationError, match="no location columns") as caught:
        prepare_incidents(area_store, "messy.csv", source="community", data=MESSY.encode())
    assert caught.value.columns[:4] == ["Ref", "Wanneer", "Oos", "Noord"]
    preview = caught.value.preview
    assert "Reporter phone" not in preview.columns and list(preview["Row"]) == [2, 3, 4, 5, 6]
    assert report.location_problem().startswith("We could not find where each report happened.")


def test_cli_dry_run_prints_the_report_and_writes_nothing(area_store, tmp_path, capsys, monkeypatch):
    path = tmp_path / "messy.csv"
    path.write_text(MESSY)
    monkeypatch.setenv("AREASAFE_STORE", str(area_store.url))
    before = {t: area_store.count(t) for t in ("incidents", "rejections", "batches", "audit_log")}
    args = ["ingest", "incidents", str(path), "--source", "community", "--lat-col", "Noord", "--lon-col", "Oos"]
    args += ["--category-col", "Soort"]
    assert cli.main([*args, "--date-col", "Wanneer", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "5 rows read: 3 will be stored, 2 rejected" in out
    assert f"1 row (row 3): {SENTENCES['invalid_date']}" in out
    assert "Row 5 is outside every area AreaSafe knows" in out and "Latitude: Noord" in out
    assert "invalid_date" not in out
    assert {t: area_store.count(t) for t in before} == before
    assert cli.main([*args, "--date-col", "Wanneer", "--dry-run", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["rejections"] == {"invalid_date": 1, "missing_location": 1} and printed["stored"] is False
    assert printed["in_words"]["rejections"][0].endswith(SENTENCES["invalid_date"])
    assert {t: area_store.count(t) for t in before} == before


def test_the_rejected_rows_file_runs_no_formula_in_any_cell_or_the_header(area_store):
    """A hostile uploader names a column as a formula, or hides one after a carriage return inside a cell
    (written unquoted, a spreadsheet starts a new row there); an analyst or admin opens the file from Batches."""
    header = 'Ref,Wanneer,Oos,Noord,Soort,"=HYPERLINK(""http://x"",""y"")",@SUM(A1),+1+1,-2+3\n'
    row = '1,31/02/2025,18.58,-34.05,"\tcmd","\r=1+1","@x",+cmd,"robbed\r=cmd|calc"\n'
    prepared = prepare(area_store, header + row)
    for text in (as_original_file(prepared.rejections, prepared.columns), as_original_file(prepared.rejections)):
        assert "\r" not in text
        lines = list(csv.reader(io.StringIO(text)))
        assert len(lines) == 2
        for cell in lines[0] + lines[1]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("+-").replace(".", "").isdigit()
