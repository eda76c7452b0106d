"""Checks on the taxonomy data file ``data/taxonomy.yaml``.

Place in the data flow: the taxonomy is read by the ingest (category matching) and the dashboard
(labels, groups, sensitive flags). These tests check the file itself, independent of the loader, so an
edit by municipal staff that breaks a rule fails here with a message naming the offending entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TAXONOMY_PATH = REPO_ROOT / "data" / "taxonomy.yaml"
REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"

GROUPS = {
    "contact_crime",
    "contact_related",
    "property",
    "other_serious",
    "police_detected",
    "community_concern",
    "other",
}
CATEGORY_KEYS = {"code", "label", "group", "sensitive", "terms"}

# The exact raw category strings of the real test inputs. They are written out (not read from
# ../shared) so the test also runs where the shared data is absent; test_lists_match_real_files
# re-derives them from the files when they are present.
SAPS_CATEGORIES = (
    "All theft not mentioned elsewhere",
    "Arson",
    "Assault with the intent to inflict grievous bodily harm",
    "Attempted murder",
    "Bank robbery",
    "Burglary at non-residential premises",
    "Burglary at residential premises",
    "Carjacking",
    "Commercial crime",
    "Common assault",
    "Common robbery",
    "Driving under the influence of alcohol or drugs",
    "Drug-related crime",
    "Illegal possession of firearms and ammunition",
    "Malicious damage to property",
    "Murder",
    "Robbery at non-residential premises",
    "Robbery at residential premises",
    "Robbery of cash in transit",
    "Robbery with aggravating circumstances",
    "Sexual Offences",
    "Sexual offences as result of police action",
    "Shoplifting",
    "Stock-theft",
    "Theft of motor vehicle and motorcycle",
    "Theft out of or from motor vehicle",
    "Truck hijacking",
)
POLICE_UK_CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
SF_INCIDENT_CATEGORIES = (
    "Arson",
    "Assault",
    "Burglary",
    "Case Closure",
    "Civil Sidewalks",
    "Courtesy Report",
    "Disorderly Conduct",
    "Drug Offense",
    "Drug Violation",
    "Embezzlement",
    "Family Offense",
    "Fire Report",
    "Forgery And Counterfeiting",
    "Fraud",
    "Gambling",
    "Homicide",
    "Juvenile Offenses",
    "Larceny Theft",
    "Liquor Laws",
    "Lost Property",
    "Malicious Mischief",
    "Miscellaneous Investigation",
    "Missing Person",
    "Motor Vehicle Theft",
    "Motor Vehicle Theft?",
    "Non-Criminal",
    "Offences Against The Family And Children",
    "Other",
    "Other Miscellaneous",
    "Other Offenses",
    "Prostitution",
    "Rape",
    "Recovered Vehicle",
    "Robbery",
    "Sex Offense",
    "Stolen Property",
    "Suicide",
    "Suspicious",
    "Suspicious Occ",
    "Traffic Collision",
    "Traffic Violation Arrest",
    "Vandalism",
    "Vehicle Impounded",
    "Vehicle Misplaced",
    "Warrant",
    "Weapons Carrying Etc",
    "Weapons Offense",
)

# Codes that must be flagged sensitive: sexual offences, domestic violence, child abuse and GBV, and the
# fallback for unmatched terms (fail closed: an unmapped term is sensitive until someone maps it).
MUST_BE_SENSITIVE = (
    "other",
    "sexual_offences",
    "sexual_offences_police_action",
    "violence_sexual_combined",
    "domestic_violence",
    "child_abuse",
    "gender_based_violence",
)


def _norm(term: str) -> str:
    """Lower-case and collapse whitespace, the comparison the uniqueness rule is defined on."""
    return " ".join(term.lower().split())


@pytest.fixture(scope="module")
def taxonomy() -> dict:
    with TAXONOMY_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def categories(taxonomy: dict) -> list[dict]:
    return taxonomy["categories"]


@pytest.fixture(scope="module")
def term_to_code(categories: list[dict]) -> dict[str, str]:
    return {_norm(term): cat["code"] for cat in categories for term in cat["terms"]}


def test_header(taxonomy: dict) -> None:
    assert isinstance(taxonomy["version"], int) and taxonomy["version"] >= 1
    assert isinstance(taxonomy["updated"], dt.date), "`updated` must be an unquoted YYYY-MM-DD date"
    assert isinstance(taxonomy["description"], str) and taxonomy["description"].strip()


def test_category_shape(categories: list[dict]) -> None:
    problems = []
    for cat in categories:
        if set(cat) != CATEGORY_KEYS:
            problems.append(f"{cat.get('code')}: keys {sorted(cat)}, expected {sorted(CATEGORY_KEYS)}")
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]*", cat["code"]):
            problems.append(f"{cat['code']}: code is not snake_case")
        if cat["group"] not in GROUPS:
            problems.append(f"{cat['code']}: group {cat['group']!r} not in {sorted(GROUPS)}")
        if not isinstance(cat["sensitive"], bool):
            problems.append(f"{cat['code']}: sensitive must be true/false, got {cat['sensitive']!r}")
        if not isinstance(cat["label"], str) or not cat["label"].strip():
            problems.append(f"{cat['code']}: empty label")
        if not isinstance(cat["terms"], list) or not all(isinstance(t, str) and t.strip() for t in cat["terms"]):
            problems.append(f"{cat['code']}: terms must be a list of non-empty strings")
    assert not problems, "\n".join(problems)


def test_codes_unique(categories: list[dict]) -> None:
    codes = [cat["code"] for cat in categories]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    assert not duplicated, f"duplicated codes: {duplicated}"


def test_other_present_with_no_terms(categories: list[dict]) -> None:
    other = [cat for cat in categories if cat["code"] == "other"]
    assert len(other) == 1
    assert other[0]["label"] == "Other / unclassified"
    assert other[0]["terms"] == []


def test_no_term_in_two_categories(categories: list[dict]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for cat in categories:
        for term in cat["terms"]:
            owners[_norm(term)].add(cat["code"])
    clashes = {term: sorted(codes) for term, codes in owners.items() if len(codes) > 1}
    assert not clashes, f"terms in more than one category: {clashes}"


def test_no_term_repeated_within_category(categories: list[dict]) -> None:
    repeated = {}
    for cat in categories:
        normed = [_norm(t) for t in cat["terms"]]
        dupes = sorted({t for t in normed if normed.count(t) > 1})
        if dupes:
            repeated[cat["code"]] = dupes
    assert not repeated, f"terms listed twice in the same category: {repeated}"


@pytest.mark.parametrize(
    "source_terms",
    [
        pytest.param(SAPS_CATEGORIES, id="saps"),
        pytest.param(POLICE_UK_CRIME_TYPES, id="police_uk"),
        pytest.param(SF_INCIDENT_CATEGORIES, id="datasf"),
    ],
)
def test_real_source_categories_are_terms(source_terms: tuple[str, ...], term_to_code: dict[str, str]) -> None:
    missing = [t for t in source_terms if _norm(t) not in term_to_code]
    assert not missing, f"raw categories not mapped by any term: {missing}"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param("Sexual Offences", "sexual_offences", id="saps-sexual"),
        pytest.param("Burglary at residential premises", "housebreaking_residential", id="saps-burglary"),
        pytest.param("Drug-related crime", "drug_related", id="saps-drugs"),
        pytest.param("Illegal possession of firearms and ammunition", "illegal_firearms", id="saps-firearms"),
        pytest.param("Robbery with aggravating circumstances", "robbery_aggravated", id="saps-aggravated"),
        pytest.param("Common assault", "assault_common", id="saps-common-assault"),
        pytest.param("Violence and sexual offences", "violence_sexual_combined", id="police-uk-violence"),
        pytest.param("rape", "sexual_offences", id="community-rape"),
        pytest.param("illegal shebeen", "illegal_liquor_outlet", id="community-shebeen"),
        pytest.param("protection fees", "extortion", id="community-extortion"),
        pytest.param("skollies", "gang_violence", id="slang-skollies"),
        pytest.param("tik", "drug_related", id="slang-tik"),
        pytest.param("child rape", "sexual_offences", id="issue15-child-rape"),
        pytest.param("Statutory rape", "sexual_offences", id="issue15-statutory-rape"),
        pytest.param("Incest", "sexual_offences", id="issue15-incest"),
        pytest.param("Rape (child)", "sexual_offences", id="issue15-rape-child"),
        pytest.param("Rape/sexual assault", "sexual_offences", id="issue15-rape-sexual-assault"),
        pytest.param("Molestation", "sexual_offences", id="issue15-molestation"),
        pytest.param("Sexual exploitation", "sexual_offences", id="issue15-sexual-exploitation"),
    ],
)
def test_known_mappings(raw: str, code: str, term_to_code: dict[str, str]) -> None:
    assert term_to_code[_norm(raw)] == code


def test_sensitive_flags(categories: list[dict]) -> None:
    by_code = {cat["code"]: cat for cat in categories}
    not_flagged = [code for code in MUST_BE_SENSITIVE if not by_code[code]["sensitive"]]
    assert not not_flagged, f"must be sensitive: {not_flagged}"
    # The flag hides locations in the UI, so it must not spread to ordinary crime categories.
    unexpected = sorted(c for c, cat in by_code.items() if cat["sensitive"] and c not in MUST_BE_SENSITIVE)
    assert not unexpected, f"sensitive without being a sexual/domestic/child/GBV category: {unexpected}"


def _distinct_column(paths: list[Path], column: str) -> set[str]:
    values: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            values.update(row[column] for row in csv.DictReader(fh) if row[column])
    return values


def test_lists_match_real_files() -> None:
    """The hard-coded lists above are exactly the distinct values of the real files."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real data folder {REAL_DATA} is absent; the hard-coded lists are still checked")
    saps = _distinct_column(
        [REAL_DATA / "za-saps-station-crimestats-2005-2016" / "SouthAfricaCrimeStats_v2.csv"], "Category"
    )
    police_uk = _distinct_column(sorted((REAL_DATA / "uk-police-street-city-of-london").glob("*.csv")), "Crime type")
    sf = _distinct_column(sorted((REAL_DATA / "sf-police-incidents-2018-12").glob("*.csv")), "Incident Category")
    assert saps == set(SAPS_CATEGORIES)
    assert police_uk == set(POLICE_UK_CRIME_TYPES)
    assert sf == set(SF_INCIDENT_CATEGORIES)
