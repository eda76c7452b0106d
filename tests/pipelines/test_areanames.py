"""Which stored area a name means (pipelines.areanames): names, codes, other names, closest names."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.areanames import Alias, AreaMatcher, name_key, shipped_aliases

AREAS = pd.DataFrame(
    {
        "code": ["Kwamashu_E", "Grahamstown", "Matlala", "Philippi", "Philippi_East", "PD1", "PD2"],
        "name": ["Kwamashu E", "Grahamstown", "Matlala", "Philippi", "Philippi East", "Kwa Dabeka", "Kwadabeka"],
    }
)
ALIASES = [
    Alias("precinct", "Grahamstown", "Makhanda", "renamed"),
    Alias("precinct", "Rhini", "Makhanda", "spelling"),  # a second name of the same station, chained
    Alias("precinct", "Phaudi", "Matlala", "merged"),
    Alias("precinct", "Matlala North", "Phaudi", "merged"),
]


@pytest.mark.parametrize(
    ("value", "code", "how"),
    [
        pytest.param("KWAMASHU E", "Kwamashu_E", "code", id="case-and-underscore"),
        pytest.param("Kwamashu_E", "Kwamashu_E", "code", id="code"),
        pytest.param("Kwa Mashu E", "Kwamashu_E", "spacing", id="spacing"),
        pytest.param("Makhanda", "Grahamstown", "alias", id="new-name-of-a-stored-old-name"),
        pytest.param("Rhini", "Grahamstown", "alias", id="chained-names-of-one-station"),
        pytest.param("Phaudi", "Matlala", "alias", id="merged-into"),
        pytest.param("Philippi East", "Philippi_East", "code", id="never-the-shorter-name"),
        pytest.param("Kwa-Dabeka", "PD1", "name", id="punctuation"),
        pytest.param("KwaDabeka", "PD2", "name", id="exact-beats-spacing"),
        pytest.param("Philipi", None, None, id="a-misspelling-is-not-guessed"),
        pytest.param("", None, None, id="empty"),
    ],
)
def test_match(value, code, how):
    found = AreaMatcher(AREAS, ALIASES).match(value)
    assert (found.code, found.how) == (code, how)


def test_a_merge_only_points_one_way():
    # Matlala took Phaudi over: a file's Matlala counts are not Phaudi's.
    areas = pd.DataFrame({"code": ["PH"], "name": ["Phaudi"]})
    assert AreaMatcher(areas, ALIASES).match("Matlala").code is None


def test_names_the_same_without_spaces_are_not_guessed_between():
    areas = pd.DataFrame({"code": ["A", "B"], "name": ["Kwa Dabeka", "Kwadabeka"]})
    assert AreaMatcher(areas).match("Kwa  dabeka").code == "A"  # exact after normalising
    assert AreaMatcher(areas).match("K wadabeka").code is None  # two stored areas share the letters


def test_closest_names_come_nearest_first():
    matcher = AreaMatcher(AREAS)
    assert matcher.closest("Philipi") == ["Philippi", "Philippi East"]
    assert matcher.closest("Kwamashu") == ["Kwamashu E"]
    assert matcher.closest("Zanzibar") == []


def test_shipped_aliases_are_read_from_data():
    renamed = {a.name: a.area for a in shipped_aliases("precinct") if a.change == "renamed"}
    assert renamed["Grahamstown"] == "Makhanda" and name_key("Kwa Mashu E") == name_key("Kwamashu_E")
