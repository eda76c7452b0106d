"""Sensitivity fails closed (issue 15, finding 3): wording that names a sensitive offence, and any term the
taxonomy cannot place, is sensitive until an analyst or admin maps it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from pipelines import privacy as access  # issue 15 moves pipelines.access.read_incidents here
from pipelines import terms, views
from pipelines.ingest.incidents import commit_incidents, prepare_incidents
from pipelines.privacy import AccessDenied, Viewer
from pipelines.taxonomy import load_taxonomy, sensitive_wording
from tests._helpers import write_csv

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
HEADER = "id,date,category,latitude,longitude,description\n"
PLANNER = Viewer(username="p", role="planner")
ANALYST = Viewer(username="a", role="analyst")

# (wording, the category it belongs in)
SENSITIVE = [
    ("child rape", "sexual_offences"),
    ("Statutory rape", "sexual_offences"),
    ("Incest", "sexual_offences"),
    ("Rape (child)", "sexual_offences"),
    ("Rape/sexual assault", "sexual_offences"),
    ("Molestation", "sexual_offences"),
    ("Sexual exploitation", "sexual_offences"),
    ("RAPE", "sexual_offences"),
    ("rapes", "sexual_offences"),
    ("raped", "sexual_offences"),
    ("rapist", "sexual_offences"),
    ("raipst", "sexual_offences"),
    ("attempted rape", "sexual_offences"),
    ("rape, attempted", "sexual_offences"),
    ("sexual assault of a minor", "child_abuse"),
    ("assault (sexual)", "sexual_offences"),
    ("sexualy assaulted", "sexual_offences"),
    ("indecent assault", "sexual_offences"),
    ("sodomy", "sexual_offences"),
    ("sodomised", "sexual_offences"),
    ("molested", "sexual_offences"),
    ("molistation", "sexual_offences"),
    ("sextortion", "sexual_offences"),
    ("SA", "sexual_offences"),
    ("verkragting", "sexual_offences"),
    ("Verkragting (poging)", "sexual_offences"),
    ("ukudlwengula", "sexual_offences"),
    ("wadlwengulwa", "sexual_offences"),
    ("seksuele aanranding", "sexual_offences"),
    ("domestic violence", "domestic_violence"),
    ("Domestic Violance", "domestic_violence"),
    ("violence - domestic", "domestic_violence"),
    ("intimate partner violence", "domestic_violence"),
    ("DV", "domestic_violence"),
    ("gesinsgeweld", "domestic_violence"),
    ("child abuse", "child_abuse"),
    ("abuse of a child", "child_abuse"),
    ("children abused", "child_abuse"),
    ("kindermishandeling", "child_abuse"),
    ("GBV", "gender_based_violence"),
    ("gender-based violence", "gender_based_violence"),
    ("human trafficking", "gender_based_violence"),
    ("trafficking in persons", "gender_based_violence"),
    ("femicide", "gender_based_violence"),
    ("prostitution", "sexual_offences_police_action"),
    ("sex work", "sexual_offences_police_action"),
]
NOT_SENSITIVE = [
    "burglary",
    "theft of motor vehicle",
    "grape theft",
    "therapist's car broken into",
    "drape stolen from shop",
    "scraped car",
    "rating of the tavern",
    "stalling taxi blocking road",
    "drug trafficking",
    "the robbers assaulted the home owner",
    "sa police station robbery",
    "rapeseed oil stolen",
    "",
]


@pytest.mark.parametrize(("wording", "category"), [pytest.param(w, c, id=w) for w, c in SENSITIVE])
def test_sensitive_wording_is_detected(wording, category):
    offence = sensitive_wording(wording)
    assert offence is not None and offence.category == category


@pytest.mark.parametrize(("wording", "category"), [pytest.param(w, c, id=w) for w, c in SENSITIVE])
def test_sensitive_wording_as_a_category_is_sensitive(wording, category):
    match = load_taxonomy().match(wording)
    assert match.sensitive and load_taxonomy().categories[match.category].sensitive
    assert match.category == category or match.how == "exact"  # a listed term keeps its listed category


@pytest.mark.parametrize("text", [pytest.param(t, id=t or "empty") for t in NOT_SENSITIVE])
def test_ordinary_wording_is_not_sensitive(text):
    assert sensitive_wording(text) is None


@pytest.mark.parametrize("raw", ["Burglary", "Theft of motor vehicle and motorcycle", "car theft"])
def test_known_ordinary_terms_stay_not_sensitive(raw):
    assert not load_taxonomy().match(raw).sensitive


@pytest.mark.parametrize("raw", ["Zxqwv flumph", "stray dogs", "grape theft", ""])
def test_a_term_that_matches_nothing_is_sensitive(raw):
    match = load_taxonomy().match(raw)
    assert (match.category, match.sensitive, match.how) == ("other", True, "unknown")


def _ingest(store, tmp_path, body: str, name: str = "f.csv"):
    path = write_csv(tmp_path, name, HEADER + body)
    prepared = prepare_incidents(store, path, source="community", org="CSO A", now=NOW)
    return commit_incidents(store, prepared)


def _row(viewer: Viewer, store, external_id: str) -> pd.Series:
    rows = access.read_incidents(store, viewer)
    return rows.set_index("external_id", drop=False).loc[external_id] if viewer.sees_sensitive else rows.iloc[0]


def test_unknown_term_is_generalised_for_planners_until_an_analyst_maps_it(any_area_store, tmp_path):
    _ingest(any_area_store, tmp_path, "1,2025-03-04,Zxqwv flumph,-34.05,18.55,Something odd near the school\n")
    stored = any_area_store.read_incidents().iloc[0]
    assert (stored["category"], bool(stored["sensitive"])) == ("other", True)

    seen = access.read_incidents(any_area_store, PLANNER).iloc[0]
    assert bool(seen["generalised"]) and seen["description"] is None
    assert (seen.geometry.x, seen.geometry.y) != (18.55, -34.05)

    unmapped = terms.unmapped_terms(any_area_store)
    assert unmapped.to_dict("records") == [{"term": "zxqwv flumph", "raw_category": "Zxqwv flumph", "incidents": 1}]
    with pytest.raises(AccessDenied, match="analyst and admin"):
        terms.map_term(any_area_store, PLANNER, "Zxqwv flumph", "anti_social_behaviour")

    version = any_area_store.data_version()
    result = terms.map_term(any_area_store, ANALYST, "ZXQWV  flumph!", "anti_social_behaviour", now=NOW)
    assert (result.term, result.category, result.incidents, result.previous) == (
        "zxqwv flumph",
        "anti_social_behaviour",
        1,
        None,
    )
    assert any_area_store.data_version() != version  # dashboards reload what they cached
    months = any_area_store.incident_months()  # a maintained summary follows the new category
    assert months.groupby("category")["incidents"].sum().to_dict() == {"anti_social_behaviour": 1}
    stored = any_area_store.read_incidents().iloc[0]
    assert (stored["category"], bool(stored["sensitive"])) == ("anti_social_behaviour", False)
    seen = access.read_incidents(any_area_store, PLANNER).iloc[0]
    assert not bool(seen["generalised"]) and seen["description"] == "Something odd near the school"
    assert (round(seen.geometry.x, 6), round(seen.geometry.y, 6)) == (18.55, -34.05)
    assert not len(terms.unmapped_terms(any_area_store))

    log = any_area_store.read_table("audit_log", where={"event": "map_term"})
    assert list(log["target"]) == ["term:zxqwv flumph"] and list(log["user"]) == ["a"]
    assert '"incidents": 1' in log["detail"].iloc[0]

    # a later upload with the term uses the mapping
    _ingest(any_area_store, tmp_path, "2,2025-03-05,zxqwv flumph,-34.05,18.55,again\n", name="g.csv")
    later = any_area_store.read_incidents().set_index("external_id").loc["2"]
    assert (later["category"], bool(later["sensitive"])) == ("anti_social_behaviour", False)


def test_description_naming_an_offence_makes_the_row_sensitive(any_area_store, tmp_path):
    _ingest(
        any_area_store,
        tmp_path,
        "1,2025-03-04,assault,-34.05,18.55,she was raped behind the hall\n"
        "2,2025-03-04,Burglary,-34.05,18.56,grape theft from the farm stall\n"
        "3,2025-03-04,theft of motor vehicle,-34.05,18.57,car taken by the therapist's neighbour\n",
    )
    rows = any_area_store.read_incidents().set_index("external_id")
    assert rows.loc["1", "category"] == "assault_common" and bool(rows.loc["1", "sensitive"])
    assert not rows.loc["2", "sensitive"] and not rows.loc["3", "sensitive"]
    seen = access.read_incidents(any_area_store, PLANNER).set_index("external_id", drop=False)
    assert seen["generalised"].sum() == 1 and seen.loc[seen["generalised"], "description"].isna().all()


def test_mapping_keeps_a_row_sensitive_when_its_description_names_an_offence(any_area_store, tmp_path):
    _ingest(
        any_area_store,
        tmp_path,
        "1,2025-03-04,Case 7,-34.05,18.55,domestic violence reported by neighbour\n"
        "2,2025-03-04,case 7,-34.05,18.55,dog barking all night\n",
    )
    result = terms.map_term(any_area_store, ANALYST, "Case 7", "non_crime")
    assert result.incidents == 2  # both move category; only the second stops being sensitive
    rows = any_area_store.read_incidents().set_index("external_id")
    assert list(rows.loc[["1", "2"], "category"]) == ["non_crime", "non_crime"]
    assert [bool(v) for v in rows.loc[["1", "2"], "sensitive"]] == [True, False]


@pytest.mark.parametrize(
    ("term", "category", "message"),
    [
        pytest.param("child rape", "theft_other", "names a sensitive offence", id="sensitive-wording"),
        pytest.param("Zxqwv", "other", "where unplaced terms wait", id="fallback"),
        pytest.param("Zxqwv", "no_such_code", "one of the taxonomy codes", id="unknown-code"),
        pytest.param("!!", "theft_other", "no letters or digits", id="empty-term"),
    ],
)
def test_mapping_refuses(any_area_store, term, category, message):
    with pytest.raises(terms.TermMappingError, match=message):
        terms.map_term(any_area_store, ANALYST, term, category)
    assert not len(any_area_store.read_table("term_mappings"))


def test_sensitive_wording_may_map_to_a_sensitive_category_only():
    codes = terms.mappable_categories(term="Rape/sexual assault")
    assert "sexual_offences" in codes and "theft_other" not in codes and "other" not in codes
    assert "theft_other" in terms.mappable_categories(term="Zxqwv")


def test_remapping_moves_rows_from_the_previous_mapping(any_area_store, tmp_path):
    _ingest(any_area_store, tmp_path, "1,2025-03-04,Zxqwv,-34.05,18.55,x\n")
    terms.map_term(any_area_store, ANALYST, "Zxqwv", "non_crime")
    result = terms.map_term(any_area_store, ANALYST, "zxqwv", "anti_social_behaviour")
    assert (result.previous, result.incidents) == ("non_crime", 1)
    assert any_area_store.read_incidents()["category"].tolist() == ["anti_social_behaviour"]
    assert terms.mapped_terms(any_area_store) == {"zxqwv": "anti_social_behaviour"}
    assert len(any_area_store.read_table("term_mappings")) == 2  # the history stays


def test_reclassify_stored_rows_only_ever_adds_sensitivity(any_area_store, tmp_path):
    _ingest(
        any_area_store, tmp_path, "1,2025-03-04,Robbery,-34.05,18.55,phone taken\n2,2025-03-04,Zxqwv,-34.05,18.55,y\n"
    )
    # as an older AreaSafe stored them: an unknown term not sensitive, a row with offence wording not flagged
    changes = pd.DataFrame(
        {"incident_id": any_area_store.read_incidents()["incident_id"], "category": ["robbery_common", "other"]}
    ).assign(sensitive=False)
    any_area_store.reclassify_incidents(changes)
    assert not any_area_store.read_incidents()["sensitive"].any()
    assert terms.reclassify_stored(any_area_store, ANALYST) == 1
    rows = any_area_store.read_incidents().set_index("external_id")
    assert [bool(rows.loc["1", "sensitive"]), bool(rows.loc["2", "sensitive"])] == [False, True]
    assert terms.reclassify_stored(any_area_store, ANALYST) == 0


def _data_quality(store, role: str):
    from streamlit.testing.v1 import AppTest

    from tests._helpers import app_login

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app_login(at, store, role)
    at.run()
    at.switch_page("app_pages/data_quality.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_data_quality_page_lists_unmapped_terms_and_lets_analysts_map_them(demo_store, tmp_path, monkeypatch):
    from pipelines.settings import STORE_ENV
    from tests._helpers import copy_store

    store = copy_store(demo_store, tmp_path / "demo.gpkg")
    monkeypatch.setenv(STORE_ENV, store.url)
    unmapped = terms.unmapped_terms(store)
    assert {"stray dogs", "burst water pipe", "potholes"} <= set(unmapped["term"])  # planted in the demo

    at = _data_quality(store, "planner")
    notice = next(c.value for c in at.caption if "treated as sensitive" in c.value)
    assert "Analyst and admin accounts" in notice and "ask one of them" in notice
    assert terms.MAP_COMMAND.split()[0] not in notice  # a planner cannot run the command: no shell line
    assert not [b for b in at.button if b.key == "map_button"]  # planners see the list, not the control

    at = _data_quality(store, "analyst")
    notice = next(c.value for c in at.caption if "treated as sensitive" in c.value)
    assert terms.MAP_COMMAND in notice  # those who may map are told how
    at.selectbox(key="map_term").set_value("stray dogs").run()
    options = at.selectbox(key="map_category").options
    assert "Other / unclassified" not in options  # not the fallback
    assert "Murder" in options  # category names in words, not "Murder (murder)"
    assert not [o for o in options if o.endswith(")") and o.rsplit("(", 1)[-1][:-1] in views.category_labels()]
    at.selectbox(key="map_category").set_value("anti_social_behaviour").run()
    at.button(key="map_button").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("re-classified" in s.value for s in at.success)
    assert "stray dogs" not in set(terms.unmapped_terms(store)["term"])
    rows = store.read_incidents()
    dogs = rows[rows["raw_category"].str.lower().eq("stray dogs")]
    assert len(dogs) and dogs["category"].eq("anti_social_behaviour").all() and not dogs["sensitive"].any()
    store.close()
