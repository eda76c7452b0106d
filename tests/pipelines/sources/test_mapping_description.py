"""The free-text description column is guessed from the content when no column name says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.sources.mapping import detect_mapping
from pipelines.sources.tabular import read_tabular
from tests._helpers import REAL

USHAHIDI = Path(__file__).resolve().parents[2] / "data" / "real" / "ushahidi-haiti-2010" / "Haiti_first472.csv"

TEXTS = [
    "A man was robbed of his phone near the taxi rank",
    "Shots fired at night behind the tavern on Mew Way",
    "A woman was mugged on her way home from work",
    "Someone broke into the spaza shop and took airtime",
]


def survey(**extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "latitude": ["-34.05"] * 4,
            "longitude": ["18.65"] * 4,
            "date": ["2025-11-02"] * 4,
            "category": ["robbery", "gunshots", "robbery", "burglary"],
            "ward": ["93", "93", "94", "94"],
            "Wat het gebeur": TEXTS,
        }
    )
    return frame.assign(**extra)


def test_the_longest_free_text_column_is_the_description():
    frame = survey()
    assert detect_mapping(list(frame.columns), frame).description == "Wat het gebeur"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"note": ["ok", "ok", "checked", "ok"]}, id="short-words"),
        pytest.param(
            {"reported": ["2025-11-02 10:00", "2025-11-03 11:00", "2025-11-04 12:00", "2025-11-05 13:00"]}, id="dates"
        ),
    ],
)
def test_short_or_structured_columns_are_not_the_description(extra):
    frame = survey(**extra)
    assert detect_mapping(list(frame.columns), frame).description == "Wat het gebeur"


def test_a_named_description_column_wins_and_no_text_means_none():
    frame = survey(details=["see notes"] * 4)
    assert detect_mapping(list(frame.columns), frame).description == "details"
    bare = survey().drop(columns="Wat het gebeur")
    assert detect_mapping(list(bare.columns), bare).description is None


def test_a_personal_column_is_never_the_description():
    frame = survey(reporter_name=[t + " and more words" for t in TEXTS]).drop(columns="Wat het gebeur")
    assert detect_mapping(list(frame.columns), frame).description is None


@pytest.mark.skipif(not (REAL / "kobo-odk-export-fixtures").exists(), reason="real Kobo fixtures absent")
def test_real_kobo_export_without_free_text_gets_no_description():
    """KoboCAT's own fixture has no free text: none of its ids, uuids and flags is taken for it."""
    raw = read_tabular(REAL / "kobo-odk-export-fixtures" / "kobocat" / "good.csv")
    assert detect_mapping(list(raw.frame.columns), raw.frame).description is None


def test_real_ushahidi_reports_under_an_unusual_name():
    """A real Ushahidi export with its DESCRIPTION (and LOCATION, a name the mapping knows) columns
    renamed: the report texts, not their shorter titles or the place names, are found by their content."""
    raw = read_tabular(USHAHIDI)
    frame = raw.frame.rename(columns={"DESCRIPTION": "Wat het gebeur", "LOCATION": "Lieu"})
    assert detect_mapping(list(frame.columns), frame).description == "Wat het gebeur"


def test_a_geoshape_is_not_the_report_text():
    """ODK's geoshape answers ("lat lon alt acc; lat lon ...") are long but are coordinates, not words."""
    from pipelines.sources.columns import longest_text

    frame = pd.DataFrame(
        {
            "some_geoshape": ["-34.01 18.6 0 0; -34.02 18.61 0 0; -34.03 18.62 0 0"] * 4,
            "note": ["A car was broken into near the taxi rank", "Lights out on the walkway again", "x y z", "q r s"],
        }
    )
    assert longest_text(frame, ["some_geoshape", "note"]) == "note"
