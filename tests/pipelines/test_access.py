"""Who sees what, for every role and every data path: hand-built stores whose answers are known, and the real demo."""

from __future__ import annotations

import datetime as dt
import json

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines import access, audit, privacy
from pipelines.demo import CSO_ORG, MUNICIPAL_ORG
from pipelines.errors import AreaSafeError
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from pipelines.privacy import PUBLIC, AccessDenied, Viewer
from pipelines.store import IncidentQuery
from tests._helpers import copy_store, file_bytes, write_csv

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
HEADER = "id,date,category,latitude,longitude,description\n"
HOSTILE = "<img src=x onerror=alert(1)>"
CSO_A = Viewer("a", "cso", "CSO A")
CSO_B = Viewer("b", "cso", "CSO B")
PLANNER = Viewer("p", "planner")
ACT = Viewer("m", "act_member")
ANALYST = Viewer("n", "analyst")
ADMIN = Viewer("d", "admin")
EVERYONE = [PUBLIC, CSO_A, CSO_B, PLANNER, ACT, ANALYST, ADMIN]


@pytest.fixture
def two_csos(area_store, tmp_path):
    """CSO A: 3 robberies and 1 rape (sensitive) in the west; CSO B: 6 robberies in the east."""
    rows_a = [
        "a1,2025-03-04,Robbery,-34.05,18.56,Phone taken at the taxi rank",
        "a2,2025-03-05,Robbery,-34.05,18.56,Bag snatched",
        "a3,2025-03-06,Robbery,-34.05,18.56,Shop robbed",
        f"a4,2025-03-07,Rape,-34.04123,18.57321,{HOSTILE} behind house 12",
    ]
    rows_b = [f"b{i},2025-03-0{i},Robbery,-34.05,18.64,B report {i}" for i in range(1, 7)]
    for org, rows in (("CSO A", rows_a), ("CSO B", rows_b)):
        path = write_csv(tmp_path, f"{org}.csv", HEADER + "\n".join(rows) + "\n")
        ingest_incidents(area_store, path, source="community", org=org, now=NOW)
    return area_store


# --------------------------------------------------------------------------------------------------
# Viewer and permissions
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"username": "x", "role": "boss"}, "role must be one of", id="unknown-role"),
        pytest.param({"username": "x", "role": "cso"}, "must belong to an organisation", id="cso-without-org"),
        pytest.param({"username": "x"}, "without a role", id="name-without-role"),
    ],
)
def test_invalid_viewers_are_refused(kwargs, match):
    with pytest.raises(AccessDenied, match=match):
        Viewer(**kwargs)


def test_permission_table_matches_the_issue():
    may = {action: {v.role for v in EVERYONE if v.may(action)} for action in privacy.PERMISSIONS}
    assert may["map"] == may["profile"] == {None, "cso", "planner", "act_member", "analyst", "admin"}
    assert may["upload"] == {"cso", "planner", "analyst", "admin"}
    assert may["act_review"] == may["registers"] == {"planner", "act_member", "analyst", "admin"}
    assert may["users"] == may["audit"] == may["delete_batch"] == {"admin"}
    with pytest.raises(AccessDenied, match="log in as one of: admin"):
        PLANNER.require("users")
    with pytest.raises(KeyError, match="unknown action"):
        PLANNER.may("fly")


# --------------------------------------------------------------------------------------------------
# Rows, per role, on a hand-built store
# --------------------------------------------------------------------------------------------------
def test_public_receives_no_row_point_or_text(two_csos):
    rows = privacy.read_incidents(two_csos, PUBLIC)
    assert len(rows) == 0
    assert len(privacy.read_incidents(two_csos, PUBLIC, IncidentQuery(columns=["description"]))) == 0


def test_cso_reads_only_its_own_rows_in_full(two_csos):
    rows = privacy.read_incidents(two_csos, CSO_A)
    assert sorted(rows["external_id"]) == ["a1", "a2", "a3", "a4"]
    assert set(rows["org"]) == {"CSO A"}
    rape = rows[rows["category"] == "sexual_offences"].iloc[0]
    assert rape["description"].startswith(HOSTILE)  # its own sensitive row, in full
    assert (rape.geometry.x, rape.geometry.y) == pytest.approx((18.57321, -34.04123))
    assert not rows["generalised"].any()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(IncidentQuery(orgs=["CSO B"]), id="asks-for-other-org"),
        pytest.param(IncidentQuery(orgs=["CSO A", "CSO B"]), id="asks-for-both"),
        pytest.param(IncidentQuery(precinct="P-EAST"), id="other-orgs-area"),
        pytest.param(IncidentQuery(columns=["org", "description"]), id="columns-only"),
    ],
)
def test_cso_never_reads_another_orgs_rows(two_csos, query):
    rows = privacy.read_incidents(two_csos, CSO_A, query)
    assert "CSO B" not in set(rows.get("org", pd.Series(dtype=object)))
    assert not any(str(d).startswith("B report") for d in rows.get("description", []))
    assert len(privacy.read_incidents(two_csos, CSO_B, query)) <= 6


@pytest.mark.parametrize("viewer", [PLANNER, ACT], ids=["planner", "act_member"])
def test_sensitive_rows_are_generalised_below_analyst(two_csos, viewer):
    rows = privacy.read_incidents(two_csos, viewer, IncidentQuery(columns=None))
    assert len(rows) == 10
    sensitive = rows[rows["sensitive"]]
    assert len(sensitive) == 1 and sensitive["generalised"].all()
    row = sensitive.iloc[0]
    resolution = privacy.location_resolution(two_csos)
    cell = h3.latlng_to_cell(-34.04123, 18.57321, resolution)
    lat, lon = h3.cell_to_latlng(cell)
    assert (row.geometry.x, row.geometry.y) == pytest.approx((lon, lat))
    assert (row.geometry.x, row.geometry.y) != pytest.approx((18.57321, -34.04123), abs=1e-6)
    assert row["description"] is None and row["external_id"] is None
    # everything else stays exact, with its free text
    other = rows[~rows["sensitive"]]
    assert not other["generalised"].any() and other["description"].notna().all()
    raw = privacy.read_incidents(two_csos, viewer, IncidentQuery(columns=["raw", "category"]))
    assert raw.loc[raw["category"] == "sexual_offences", "raw"].isna().all()
    assert "sensitive" not in raw.columns  # asked-for columns only (plus ``generalised``)


@pytest.mark.parametrize("viewer", [ANALYST, ADMIN], ids=["analyst", "admin"])
def test_analysts_see_sensitive_rows_exactly_and_it_is_audited(two_csos, viewer):
    before = len(two_csos.read_table("audit_log", where={"event": "view_sensitive"}))
    rows = privacy.read_incidents(two_csos, viewer)
    row = rows[rows["sensitive"]].iloc[0]
    assert (row.geometry.x, row.geometry.y) == pytest.approx((18.57321, -34.04123))
    assert row["description"].startswith(HOSTILE)
    log = two_csos.read_table("audit_log", where={"event": "view_sensitive"})
    assert len(log) == before + 1
    assert log["user"].iloc[-1] == viewer.username and '"sensitive_rows": 1' in log["detail"].iloc[-1]
    # a read without sensitive rows is not audited
    privacy.read_incidents(two_csos, viewer, IncidentQuery(categories=["robbery_common"]))
    assert len(two_csos.read_table("audit_log", where={"event": "view_sensitive"})) == before + 1


def test_opening_a_sensitive_record_is_audited_for_analysts_only(two_csos):
    record = {"incident_id": "abc", "sensitive": "True"}
    assert privacy.note_detail_view(two_csos, ANALYST, "incident", record)
    assert not privacy.note_detail_view(two_csos, PLANNER, "incident", record)
    assert not privacy.note_detail_view(two_csos, ANALYST, "incident", {"sensitive": "False"})
    log = two_csos.read_table("audit_log", where={"event": "view_sensitive"})
    assert list(log["target"]) == ["incident:abc"]


# --------------------------------------------------------------------------------------------------
# Aggregates
# --------------------------------------------------------------------------------------------------
def test_published_counts_suppress_for_public_and_cso_only(two_csos):
    for viewer in (PUBLIC, CSO_A):
        counts = privacy.published_counts(two_csos, viewer)
        precincts = counts.area_counts("precinct").set_index("code")
        # West has 4; East has 6, but it is the table's only other cell: secondary suppression. "<5" on the 6
        # would be untrue, and "<5" beside "5 or more" would give both back: both read "withheld".
        assert precincts.loc["P-WEST", "shown"] == "withheld" and np.isnan(precincts.loc["P-WEST", "count"])
        assert precincts.loc["P-EAST", "shown"] == "withheld" and np.isnan(precincts.loc["P-EAST", "count"])
        assert counts.total_shown == "10"
        assert set(counts.cells.columns) == {"cell", "count", "shown"}
    exact = privacy.published_counts(two_csos, PLANNER).area_counts("precinct").set_index("code")
    assert exact.loc["P-WEST", "shown"] == "4" and exact.loc["P-EAST", "count"] == 6


def test_published_hotspots_carry_no_counts_or_z_scores_for_the_public():
    # Hot-spot cells are the hexagon layer's cells again: a second copy of their counts, suppressed on its
    # own, would give the hexagon layer's hidden cells back by subtraction from the total.
    cells = pd.DataFrame({"cell_id": ["a", "b"], "count": [3, 9], "gi_z": [1.0, 2.5], "gi_p": [0.3, 0.01]})
    public = privacy.published_hotspots(cells, PUBLIC)
    assert public["count"].isna().all() and set(public["shown"]) == {privacy.COUNT_NOT_SHOWN}
    assert public["gi_z"].isna().all() and public["gi_p"].isna().all()
    planner = privacy.published_hotspots(cells, PLANNER)
    assert "shown" not in planner and list(planner["count"]) == [3, 9] and list(planner["gi_z"]) == [1.0, 2.5]


def test_profile_stats_withhold_what_would_reveal_a_small_count(two_csos):
    query = IncidentQuery(precinct="P-WEST")  # CSO A's 4 incidents
    month = pd.Period("2025-03", "M")
    public = privacy.profile_stats(two_csos, PUBLIC, query, month=month, population=500)
    planner = privacy.profile_stats(two_csos, PLANNER, query, month=month, population=500)
    assert planner.incidents == "4" and planner.change.reading == "too few reports to tell"  # no month before
    # smoothed among the precincts (West 4 per 1,000, East 3 per 1,000 residents: too close to tell apart,
    # so both read the overall 10 per 3,000), not the crude 4 per 500 the page used to show
    assert planner.rate_per_1000 == "3.33"
    assert public.incidents == "<5"
    assert public.rate_per_1000 == "n/a" and public.change is None and public.community_share == "n/a"
    assert public.trend["count"].isna().all() and set(public.trend["shown"]) == {"<5"}


# --------------------------------------------------------------------------------------------------
# The real demo store: every role, every path
# --------------------------------------------------------------------------------------------------
def test_demo_every_role_gets_only_what_it_may(demo_store):
    cso = Viewer("k", "cso", CSO_ORG)
    truth = demo_store.read_incidents()
    assert truth["sensitive"].sum() > 100  # the demo has sensitive incidents to protect
    assert len(privacy.read_incidents(demo_store, PUBLIC)) == 0
    own = privacy.read_incidents(demo_store, cso)
    assert len(own) == (truth["org"] == CSO_ORG).sum() and set(own["org"]) == {CSO_ORG}
    assert len(privacy.read_incidents(demo_store, cso, IncidentQuery(orgs=[MUNICIPAL_ORG]))) == 0
    for viewer in (PLANNER, ACT):
        rows = privacy.read_incidents(demo_store, viewer)
        sensitive = rows["sensitive"].to_numpy()
        # A generalised row's id is a keyed stand-in: the stored id is a plain hash of the source's
        # record id, so a planner could otherwise try case-number formats until one matches.
        assert not set(rows.loc[rows["generalised"], "incident_id"]) & set(truth["incident_id"])
        masked = privacy.rows.masked_ids(truth["incident_id"])
        exact = truth.assign(incident_id=np.where(truth["sensitive"], masked, truth["incident_id"]))
        exact = exact.set_index("incident_id").loc[rows["incident_id"]]
        moved = ~shapely.equals(rows.geometry.to_numpy(), exact.geometry.to_numpy())
        assert sensitive.sum() == truth["sensitive"].sum()
        # no sensitive point is exact (a point exactly on its cell centre would be a coincidence)
        assert moved[sensitive].mean() > 0.99 and not moved[~sensitive].any()
        assert rows.loc[sensitive, "description"].isna().all()
    rows = privacy.read_incidents(demo_store, ANALYST)
    assert shapely.equals(rows.geometry.to_numpy(), truth.geometry.to_numpy()).all()


def test_demo_public_counts_hold_no_count_below_five(demo_store):
    counts = privacy.published_counts(demo_store, PUBLIC)
    for table in (counts.areas, counts.cells):
        shown = table["count"].dropna()
        assert ((shown == 0) | (shown >= 5)).all()
        assert (table.loc[table["count"].isna(), "shown"] == "<5").all()
    assert counts.cells["shown"].eq("<5").any()
    assert counts.resolution == 9  # Khayelitsha's least dense Safe Neighbourhood: ~210 households per cell


# --------------------------------------------------------------------------------------------------
# Batches, uploads and erasure
# --------------------------------------------------------------------------------------------------
def test_cso_sees_its_own_batches_only(two_csos):
    assert set(privacy.read_batches(two_csos, CSO_A)["org"]) == {"CSO A"}
    assert {"CSO A", "CSO B"} <= set(privacy.read_batches(two_csos, PLANNER)["org"])
    with pytest.raises(AccessDenied):
        privacy.read_batches(two_csos, PUBLIC)


@pytest.mark.parametrize(
    ("viewer", "org", "expected"),
    [
        pytest.param(CSO_A, None, "CSO A", id="cso-default"),
        pytest.param(CSO_A, "CSO A", "CSO A", id="cso-own"),
        pytest.param(PLANNER, "Ward 9 office", "Ward 9 office", id="planner-any"),
    ],
)
def test_upload_org(viewer, org, expected):
    assert access.upload_org(viewer, org) == expected


def test_a_cso_cannot_upload_as_another_org(two_csos):
    with pytest.raises(AccessDenied, match="own organisation 'CSO A' only"):
        access.upload_org(CSO_A, "CSO B")
    with pytest.raises(AccessDenied, match="may not use upload"):
        access.upload_org(ACT, None)


def test_upload_limits_say_what_to_do(two_csos):
    with pytest.raises(AreaSafeError, match=r"accepts files up to 0 MB.*areasafe ingest"):
        access.check_upload_size("big.csv", b"x" * 2_000, max_bytes=1_000)
    with pytest.raises(AreaSafeError, match=r"has 3 data rows; the dashboard accepts up to 2"):
        access.check_upload_rows("big.csv", 3, max_rows=2)


def test_upload_through_access_is_audited_under_the_csos_org(two_csos):
    data = (HEADER + "c1,2025-03-09,Robbery,-34.05,18.56,Taken\n").encode()
    prepared = access.prepare_upload(two_csos, CSO_A, "new.csv", data, source="community", now=NOW)
    batch = access.commit_upload(two_csos, CSO_A, prepared)
    assert batch.org == "CSO A" and batch.accepted == 1 and batch.user == "a"
    entry = two_csos.read_table("audit_log", where={"event": "upload"}).iloc[-1]
    assert entry["user"] == "a" and entry["target"] == batch.batch_id


def test_the_dashboard_and_the_command_line_audit_an_upload_alike(two_csos, tmp_path):
    """One upload audit entry (:func:`access.record_upload`): the dashboard's used to leave out the kind of
    file and the command line's the organisation."""
    data = (HEADER + "c2,2025-03-09,Robbery,-34.05,18.56,Taken\n").encode()
    page = access.commit_upload(
        two_csos, CSO_A, access.prepare_upload(two_csos, CSO_A, "p.csv", data, source="community", now=NOW)
    )
    path = write_csv(tmp_path, "cli.csv", HEADER + "c3,2025-03-09,Robbery,-34.05,18.56,Taken\n")
    cli = ingest_incidents(two_csos, path, source="community", org="CSO A", now=NOW)
    access.record_upload(two_csos, privacy.operator("ops"), cli)
    for batch in (page, cli):
        entry = _audited(two_csos, "upload", batch.batch_id)
        assert json.loads(entry["detail"]) == {
            "kind": "incidents", "file": batch.file_name, "org": "CSO A", "accepted": 1, "rejected": 0,
        }  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Services: what the pages and the CLI do, each one call that checks, changes the store and audits
# --------------------------------------------------------------------------------------------------
IN_WEST = {"lon": 18.56, "lat": -34.05}  # inside precinct West and neighbourhood N-1 of the test areas
ASSET = {"name": "Church hall", "abcd_category": "associations", "type": "hall", **IN_WEST}
ASSETS_CSV = (
    b"name,abcd_category,type,latitude,longitude\nChurch,associations,church,-34.05,18.55\nNo place,physical,field,,\n"
)
ACTION = {
    "neighbourhood_code": "N-1",
    "month": "2026-10",
    "decision": "Fix the lights on Main Road",
    "owner_org": "Energy",
}
MEETING = {"neighbourhood_code": "N-1", "month": "2026-10", "held_on": dt.date(2026, 10, 29), "chair": "T. Chair"}


def _audited(store, event: str, target: str) -> pd.Series:
    found = store.read_table("audit_log", where={"event": event, "target": target})
    assert len(found) == 1, (event, target, len(found))
    return found.iloc[0]


def _stored(store) -> dict[str, int]:
    return {t: store.count(t) for t in ("assets", "batches", "actions", "action_log", "meetings", "audit_log")}


@pytest.mark.parametrize(
    ("call", "refused"),
    [
        pytest.param(lambda s, v: access.save_register_record(s, v, "assets", ASSET), (PUBLIC, CSO_A), id="asset"),
        pytest.param(lambda s, v: access.import_register(s, v, "assets", "a.csv", ASSETS_CSV), (PUBLIC, CSO_A), id="import"),
        pytest.param(lambda s, v: access.save_action(s, v, ACTION), (PUBLIC, CSO_A), id="action"),
        pytest.param(lambda s, v: access.save_meeting(s, v, MEETING), (PUBLIC, CSO_A), id="meeting"),
    ],
)  # fmt: skip
def test_services_refuse_a_role_that_may_not_and_change_nothing(area_store, call, refused):
    before = _stored(area_store)
    for viewer in refused:
        with pytest.raises(AccessDenied, match="may not use"):
            call(area_store, viewer)
    assert _stored(area_store) == before


def test_saving_a_register_record_stores_it_under_the_account_and_audits_it(area_store):
    batch = access.save_register_record(area_store, ACT, "assets", ASSET)
    asset = area_store.read_assets().iloc[-1]
    assert (asset["name"], asset["neighbourhood_code"], batch.user) == ("Church hall", "N-1", "m")
    entry = _audited(area_store, "edit", batch.batch_id)
    assert entry["user"] == "m" and json.loads(entry["detail"])["register"] == "assets"

    edited = access.save_register_record(
        area_store, PLANNER, "assets", {**ASSET, "name": "Hall", "asset_id": asset["asset_id"]}
    )
    assert area_store.read_assets()["name"].tolist() == ["Hall"]
    assert json.loads(_audited(area_store, "edit", edited.batch_id)["detail"])["id"] == asset["asset_id"]
    with pytest.raises(AreaSafeError, match="kind must be one of assets, interventions; got 'actions'"):
        access.save_register_record(area_store, PLANNER, "actions", ASSET)


def test_importing_a_register_file_stores_its_rows_and_audits_it(area_store):
    batch = access.import_register(area_store, ACT, "assets", "a.csv", ASSETS_CSV)
    assert (batch.accepted, batch.rejected, batch.user) == (1, 1, "m")
    assert area_store.read_assets()["name"].tolist() == ["Church"]
    detail = json.loads(_audited(area_store, "edit", batch.batch_id)["detail"])
    assert detail == {"register": "assets import", "accepted": 1, "rejected": 1}


def test_saving_an_action_records_the_account_and_audits_it(area_store):
    saved = access.save_action(area_store, ACT, ACTION, note="agreed")
    stored = area_store.read_table("actions").iloc[0]
    assert (stored["action_id"], stored["updated_by"]) == (saved["action_id"], "m")
    assert area_store.read_table("action_log")["note"].tolist() == ["agreed"]
    entry = _audited(area_store, "edit", saved["action_id"])
    assert entry["user"] == "m" and json.loads(entry["detail"]) == {"table": "actions"}
    # the command line records the name it was given, and audits as its operator
    again = access.save_action(area_store, privacy.operator("ops"), {**ACTION, "decision": "Second"}, user="clerk")
    assert area_store.read_table("actions", where={"action_id": again["action_id"]})["updated_by"].item() == "clerk"
    assert _audited(area_store, "edit", again["action_id"])["user"] == "cli:ops"


def test_saving_a_meeting_stores_it_and_audits_it(area_store):
    saved = access.save_meeting(area_store, PLANNER, MEETING)
    stored = area_store.read_table("meetings").iloc[0]
    assert (stored["meeting_id"], stored["chair"]) == (saved["meeting_id"], "T. Chair")
    entry = _audited(area_store, "edit", saved["meeting_id"])
    assert entry["user"] == "p" and json.loads(entry["detail"]) == {"table": "meetings"}


@pytest.fixture
def demo_copy(demo_store, tmp_path):
    store = copy_store(demo_store, tmp_path / "copy.gpkg")
    yield store
    store.close()


def test_admin_deletes_a_batch_everywhere_and_it_is_audited(demo_copy):
    batches = demo_copy.read_batches()
    cso_batch = batches.loc[batches["org"] == CSO_ORG, "batch_id"].iloc[0]
    text = demo_copy.read_incidents(IncidentQuery(orgs=[CSO_ORG]))["description"].dropna().iloc[0]
    assert text.encode() in file_bytes(demo_copy)
    # the rows as the file gave them are compressed: look for the blocks' own bytes
    blocks = demo_copy.read_table("source_rows", where={"batch_id": cso_batch})
    assert len(blocks) and all(b[-64:].encode() in file_bytes(demo_copy) for b in blocks["block_csv"])
    incidents, rejections = demo_copy.count("incidents"), demo_copy.count("rejections")
    for viewer in (PLANNER, ANALYST, CSO_A):
        with pytest.raises(AccessDenied):
            access.delete_batch(demo_copy, viewer, cso_batch)

    removed = access.delete_batch(demo_copy, ADMIN, cso_batch, reason="CSO withdrew consent", now=NOW)

    assert len(demo_copy.read_incidents(IncidentQuery(batch_id=cso_batch))) == 0
    assert len(demo_copy.read_rejections(cso_batch)) == 0
    assert removed == (incidents - demo_copy.count("incidents")) + (rejections - demo_copy.count("rejections"))
    tombstone = demo_copy.read_table("batches", where={"batch_id": cso_batch}).iloc[0]
    assert tombstone["withdrawn_at"] == pd.Timestamp(NOW) and tombstone["withdrawn_by"] == "d"
    assert tombstone["withdrawn_reason"] == "CSO withdrew consent"
    entry = audit.read_log(demo_copy, ADMIN, event="delete_batch").iloc[0]
    assert entry["target"] == cso_batch and f'"rows_deleted": {removed}' in entry["detail"]
    # erased from the file itself, not only unlinked (SQLite secure_delete + WAL checkpoint)
    assert text.encode() not in file_bytes(demo_copy)
    assert not any(b[-64:].encode() in file_bytes(demo_copy) for b in blocks["block_csv"])
    assert not len(demo_copy.read_source_rows(cso_batch))
    with pytest.raises(AreaSafeError, match="already deleted"):
        access.delete_batch(demo_copy, ADMIN, cso_batch)
    with pytest.raises(AreaSafeError, match="no batch 'nope'"):
        access.delete_batch(demo_copy, ADMIN, "nope")


def test_a_withdrawn_file_can_be_uploaded_again(two_csos, tmp_path):
    path = write_csv(tmp_path, "again.csv", HEADER + "z1,2025-03-09,Robbery,-34.05,18.56,Taken\n")
    first = ingest_incidents(two_csos, path, source="community", org="CSO A", now=NOW)
    access.delete_batch(two_csos, ADMIN, first.batch_id)
    prepared = prepare_incidents(two_csos, path, source="community", org="CSO A", now=NOW)
    assert prepared.already_ingested is None
    second = ingest_incidents(two_csos, path, source="community", org="CSO A", now=NOW)
    assert second.batch_id != first.batch_id and second.accepted == 1


def test_hot_spot_grid_is_no_finer_than_generalisation_for_suppressed_viewers(demo_store):
    assert privacy.hotspot_resolution(demo_store, PUBLIC) == privacy.location_resolution(demo_store) == 9
    assert privacy.hotspot_resolution(demo_store, CSO_A) == 9
    assert privacy.hotspot_resolution(demo_store, PLANNER) is None
