"""pipelines.views: KPIs, ACT review and data-quality tables on hand-built frames."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines import views
from pipelines.hotspots.emerging import hotspot_classes


def _incidents(rows):
    frame = pd.DataFrame(rows, columns=["occurred_at", "category", "source"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["org"] = None
    return frame


def test_profile_kpis():
    incidents = _incidents(
        [
            ("2025-04-02", "murder", "municipal"),
            ("2025-04-03", "murder", "community"),
            ("2025-04-04", "assault_common", "community"),
            ("2025-04-05", "assault_common", "municipal"),
            ("2025-03-05", "assault_common", "municipal"),
        ]
    )
    kpis = views.profile_kpis(incidents, month=pd.Period("2025-04", "M"), population=2000)
    assert (kpis.incidents, kpis.previous, kpis.baseline) == (4, 1, 1)
    assert kpis.change.reading == "too few reports to tell"  # 4 against 1 in three months: too small to read
    assert kpis.rate_per_1000 == 2.0
    assert kpis.community_share == 0.5


def test_coverage_by_source_fills_missing_sources_in_words():
    """The coverage chart's axis read "value" and its legend "variable", with sources as codes (issue 18)."""
    incidents = _incidents([("2025-04-02", "murder", "municipal"), ("2025-03-31", "murder", "community")])
    table = views.coverage_by_source(incidents)
    assert table.to_dict("records") == [
        {"Month": "Mar 2025", "Source": "Municipal", "Incidents": 0},
        {"Month": "Mar 2025", "Source": "Community", "Incidents": 1},
        {"Month": "Apr 2025", "Source": "Municipal", "Incidents": 1},
        {"Month": "Apr 2025", "Source": "Community", "Incidents": 0},
    ]
    assert views.month_order(table) == {"Month": ["Mar 2025", "Apr 2025"]}


def test_rejections_over_time_names_each_month_and_reason_in_words():
    """All rejections in one month drew one wide bar with no date on its axis, and reasons as codes (issue
    18): each row now carries its local month in words (23:00 UTC on 30 April is May in South Africa)."""
    batches = pd.DataFrame(
        {"batch_id": ["b1", "b2"], "created_at": ["2025-04-30T23:00:00+00:00", "2025-06-02T08:00:00+00:00"]}
    )
    rejections = pd.DataFrame(
        {"batch_id": ["b2", "b1", "b1"], "reason": ["missing_location", "invalid_date", "invalid_date"]}
    )
    table = views.rejections_over_time(rejections, batches)
    assert table.to_dict("records") == [
        {"Month": "May 2025", "Reason": "Date not readable", "Rejected rows": 2},
        {"Month": "Jun 2025", "Reason": "No location", "Rejected rows": 1},
    ]


def test_reasons_and_warnings_have_short_words_and_a_sentence_each():
    """One place for the short words (pipelines.schemas.REASON_WORDS) beside the sentences of
    pipelines.ingest.rejections: every code a batch can record has both, and no code is shown as itself."""
    from pipelines.ingest.rejections import SENTENCES
    from pipelines.schemas import DUPLICATE_REASONS, REJECTION_REASONS, WARNING_CODES

    codes = {*REJECTION_REASONS, *DUPLICATE_REASONS, *WARNING_CODES}
    assert codes <= set(SENTENCES)
    words = {code: views.reason_words(code) for code in codes}
    assert not [w for w in words.values() if "_" in w or w.casefold() in codes], words
    assert len(set(words.values())) == len(words)  # no two codes read alike
    assert views.reason_words("redacted_pii") == "Personal details removed"


def _cells(rows):
    return pd.DataFrame(rows, columns=["cell_id", "count", "gi_z", "gi_bin", "emerging", "lat", "lon"])


def test_top_hotspots_lists_hot_cells_in_words_new_first():
    cells = _cells(
        [
            ("quiet", 3, 0.1, 0, "no_pattern", -34.0, 18.6),
            ("warm", 9, 1.8, 1, "sporadic_hot", -34.0, 18.6),
            ("hottest", 40, 4.2, 3, "consecutive_hot", -34.0, 18.6),
            ("new", 6, 1.2, 0, "new_hot", -34.0, 18.6),
            ("hot", 30, 3.1, 3, "persistent_hot", -34.0, 18.6),
            ("cold", 0, -2.5, -2, "persistent_cold", -34.0, 18.6),
        ]
    )
    cells["hotspot_class"] = hotspot_classes(cells["gi_bin"], cells["emerging"])
    table = views.top_hotspots(cells, n=10)
    assert table.columns.tolist() == ["Kind of hot spot", "What it means", "Reports"]  # no cell ids, no bins
    assert table["Kind of hot spot"].tolist() == ["New hot spot", "New hot spot", "Persistent hot spot"] + [
        "Persistent hot spot"
    ]
    assert table["Reports"].tolist() == ["40", "6", "30", "9"]
    assert "99%" not in table.to_csv()  # "hot spot, 99%" read as a 99% chance the spot is real (issue 17)
    analyst = views.top_hotspots(cells, n=2, statistics=True)
    assert analyst["Cell"].tolist() == ["hottest", "new"] and analyst["Gi* bin"].tolist() == [3, 0]
    assert views.top_hotspots(cells.iloc[0:0]).columns.tolist() == ["Kind of hot spot", "What it means", "Reports"]


def test_status_history_is_newest_first_in_local_time():
    interventions = pd.DataFrame({"intervention_id": ["I1"], "name": ["Lights"]})
    log = pd.DataFrame(
        {
            "intervention_id": ["I1", "I1", "I2"],
            "status": ["planned", "stalled", "complete"],
            "changed_at": ["2025-04-01T08:00:00+00:00", "2025-05-01T22:30:00+00:00", "2025-05-02T08:00:00+00:00"],
            "note": [None, "No cable", None],
            "user": ["demo", "ana", "demo"],
        }
    )
    table = views.status_history(log, interventions, intervention_id="I1")
    assert table[["when", "intervention", "status", "note"]].fillna("").to_dict("records") == [
        {"when": "2025-05-02 00:30", "intervention": "Lights", "status": "stalled", "note": "No cable"},
        {"when": "2025-04-01 10:00", "intervention": "Lights", "status": "planned", "note": ""},
    ]
    assert views.status_history(log, interventions)["intervention"].tolist() == ["I2", "Lights", "Lights"]


def test_blank_missing_shows_empty_cells_blank():
    frame = pd.DataFrame({"a": ["x", None], "b": [1.5, float("nan")], "c": [pd.NaT, pd.Timestamp("2025-01-01")]})
    shown = views.blank_missing(frame)
    assert shown.to_dict("list") == {"a": ["x", ""], "b": [1.5, ""], "c": ["", pd.Timestamp("2025-01-01")]}


def test_a_clicked_record_reads_as_text_for_people(demo_store):
    """The "Selected feature" table: every value text (mixed types made pyarrow raise ArrowTypeError),
    no internal field (batch_id, fid), population as a whole number, times local (issue 18)."""
    import pyarrow as pa

    areas = demo_store.read_areas()
    code = areas.loc[areas["kind"] == "neighbourhood", "code"].iloc[0]
    record = views.feature_record(
        "area", f"neighbourhood:{code}", areas=areas, assets=None, interventions=None, incidents=None
    )
    table = views.record_rows(record)
    pa.Table.from_pandas(table)  # what st.table does; raised on the mixed column before
    fields = dict(zip(table["field"], table["value"], strict=True))
    assert "Batch id" not in fields and "batch_id" not in fields
    assert "." not in fields["Population"] and "," in fields["Population"]
    cell = views.record_rows(views.feature_record("cell", "89ad361200bffff", areas=areas, assets=None,
                                                  interventions=None, incidents=None))  # fmt: skip
    assert list(cell["field"]) == ["What", "Centre"]  # no H3 id for planners and ACT members (a cell out of town)
    hot = pd.DataFrame({"cell_id": ["89ad361200bffff"], "count": [12], "gi_z": [3.1], "gi_p": [0.002], "gi_bin": [3],
                        "emerging": ["intensifying_hot"], "hotspot_class": ["worse"]})  # fmt: skip
    kwargs = {"areas": areas, "assets": None, "interventions": None, "incidents": None, "hotspots": hot}
    words = dict(views.record_rows(views.feature_record("cell", "89ad361200bffff", **kwargs)).values)
    assert words["Hot spot"].startswith("Hot spot getting worse: ") and words["Incidents in the period"] == "12"
    assert not {"Hexagon", "Gi* bin", "Z-score"} & set(words)
    figures = dict(views.record_rows(views.feature_record("cell", "89ad361200bffff", statistics=True, **kwargs)).values)
    assert figures["Hexagon"] == "89ad361200bffff" and figures["Gi* bin"] == "3" and figures["Z-score"] == "3.10"
    when = views.record_rows({"occurred_at": "2026-03-01 20:30:00+00:00"})
    assert list(when["value"]) == ["2026-03-01 22:30"]


def test_tables_for_people_show_local_times_short_ids_and_words():
    frame = pd.DataFrame(
        {
            "created_at": pd.to_datetime(["2026-03-01 20:30:00+00:00", None], utc=True),
            "batch_id": ["17682805b8c140619ce50893343d0a51", None],
            "detail": ['{"rows_deleted": 12, "reason": "consent withdrawn"}', None],
        }
    )
    shown = views.for_people(frame)
    assert list(shown.columns) == ["Created", "Batch", "Detail"]  # headers in words, not field names
    assert list(shown["Created"]) == ["2026-03-01 22:30", ""]
    assert list(shown["Batch"]) == ["17682805", ""]
    assert list(shown["Detail"]) == ["Rows deleted: 12; Reason: consent withdrawn", ""]
    assert list(views.for_people(frame, headers=False).columns) == ["created_at", "batch_id", "detail"]


def test_a_neighbourhoods_register_rows_are_its_own_only():
    frame = pd.DataFrame(
        {
            "name": ["Lights", "Park", "Hall"],
            "status": ["in_progress", "planned", "stalled"],
            "neighbourhood_code": ["KHA-X", "KHA-Y", "KHA-X"],
        }
    )
    shown = views.neighbourhood_rows(frame, "KHA-X", views.INTERVENTION_FIELDS)
    assert shown.to_dict("records") == [
        {"Name": "Lights", "Status": "in progress"},
        {"Name": "Hall", "Status": "stalled"},
    ]
    assert views.neighbourhood_rows(frame, "KHA-Z", views.INTERVENTION_FIELDS).empty


def test_an_areas_name_comes_from_its_code():
    areas = pd.DataFrame({"code": ["KHA-X", "PD1"], "name": ["Harare", "Lingelethu-West"]})
    assert views.area_name(areas, "PD1") == "Lingelethu-West"
    assert views.area_name(areas, "KHA-Z") is None and views.area_name(areas, None) is None


def test_a_display_table_is_named_down_the_left_by_its_first_column():
    table = pd.DataFrame({"Hot spot": ["New hot spot", "Fading"], "Hexagons": [3, 1]})
    shown = views.first_column_as_index(table)
    assert shown.index.name == "Hot spot" and list(shown.index) == ["New hot spot", "Fading"]
    assert list(shown.columns) == ["Hexagons"]
    assert list(views.first_column_as_index(table, head=1).index) == ["New hot spot"]


def test_register_rows_leave_out_ids_and_say_statuses_in_words():
    frame = pd.DataFrame(
        {
            "intervention_id": ["I-1"],
            "name": ["Lights"],
            "status": ["in_progress"],
            "budget_zar": [1250000.0],
            "neighbourhood_code": ["KHA-X"],
            "batch_id": ["17682805b8c1"],
        }
    )
    shown = views.register_rows(frame, views.INTERVENTION_FIELDS)
    assert shown.to_dict("records") == [{"Name": "Lights", "Status": "in progress", "Budget (ZAR)": "1,250,000"}]


def test_hotspot_summary_names_classes_as_the_map_does():
    cells = pd.DataFrame(
        {
            "count": [10, 4, 3, 0],
            "gi_bin": [3, 3, 0, -2],
            "emerging": ["consecutive_hot", "new_hot", "no_pattern", "no_pattern"],
            "hotspot_class": ["new", "new", "none", "cold"],
        }
    )
    table = views.hotspot_summary(cells)
    assert list(table.columns) == ["Hot spot", "Hexagons", "Reports", "What it means"]
    assert table.values.tolist()[0][:3] == ["New hot spot", 2, 14]
    assert table["Hot spot"].tolist() == ["New hot spot", "Cold spot"]  # no-pattern cells left out
    published = cells.assign(shown="<5")  # a viewer who sees small counts as <5 gets no report totals
    assert "Reports" not in views.hotspot_summary(published).columns


@pytest.mark.parametrize(("page", "role"), [("audit_log", "admin"), ("users", "admin"), ("batches", "planner"),
                                            ("data_quality", "planner")])  # fmt: skip
def test_admin_tables_show_no_utc_offsets_or_json(demo_store, monkeypatch, page, role):
    """Hex batch ids, "+00:00" times and raw JSON were all over these pages (issue 18)."""
    from pipelines.settings import STORE_ENV
    from tests._helpers import page_as

    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = page_as(demo_store, page, role)
    for table in at.dataframe:
        text = table.value.astype(str).to_string()
        assert "+00:00" not in text and '{"' not in text, page


def test_a_clicked_record_names_areas_and_hides_codes(demo_store):
    """No internal id or code on screen: areas by name, categories and area kinds in words; a hexagon says
    what it is, where it lies and its count as the map showed it (issue 18)."""
    import h3

    areas = demo_store.read_areas()
    incidents = demo_store.read_incidents()
    row = incidents.dropna(subset=["neighbourhood_code"]).iloc[0]
    kwargs = {"areas": areas, "assets": None, "interventions": None, "incidents": incidents}
    shown = views.record_rows(views.feature_record("incident", row["incident_id"], **kwargs), areas=areas)
    fields = dict(shown.values)
    names = areas.set_index(["kind", "code"])["name"]
    assert fields["Safe Neighbourhood"] == names[("neighbourhood", row["neighbourhood_code"])]
    assert fields["Police precinct"] == names[("precinct", row["precinct_code"])]
    assert fields["Category"] == views.category_labels()[row["category"]]
    assert row["incident_id"] not in shown["value"].tolist() and "Reference" not in fields
    area = dict(views.record_rows(views.feature_record("area", "precinct:PD199011", **kwargs), areas=areas).values)
    assert area == {"Name": "Harare", "What": "Police precinct", "Municipality": "City of Cape Town",
                    "Population": "180,564"}  # fmt: skip
    point = areas.set_index("code").geometry["KHA-HARARE-HOLOMISA"].representative_point()
    cell = h3.latlng_to_cell(point.y, point.x, 9)
    hexagon = dict(views.record_rows(views.feature_record("cell", cell, cell_counts={cell: "<5"}, **kwargs)).values)
    assert hexagon["What"] == "A hexagon of the map, about 400 m across"
    assert hexagon["Safe Neighbourhood"] == "Harare Holomisa" and hexagon["Incidents in the period"] == "<5"


def _batches() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "batch_id": ["b1", "b2", "b3"],
            "file_name": ["old.csv", "new.csv", "gone.csv"],
            "org": ["Harare CSF", None, "X"],
            "created_at": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01"], utc=True),
            "rejected": [0, 3, 2],
            "withdrawn_at": pd.to_datetime([None, None, "2025-04-02 10:00"], utc=True),
        }
    )


def test_batch_labels_name_the_file_and_local_time_and_number_twins():
    """The Batches page chose batches by hex id ("f824588a"); a person knows the file and when it came.
    Two uploads of one file in the same minute are told apart by their order, not by an id."""
    batches = pd.DataFrame(
        {
            "batch_id": ["f824588a-2", "245383b6-1", "c0ffee00-3"],
            "file_name": ["survey.csv", "survey.csv", None],
            "created_at": pd.to_datetime(
                ["2026-12-01 08:15:40", "2026-12-01 08:15:10", "2026-11-30 22:30:00"], utc=True
            ),
        }
    )
    assert views.batch_labels(batches) == {
        "c0ffee00-3": "entered on a form, 2026-12-01 00:30",
        "245383b6-1": "survey.csv, 2026-12-01 10:15, first upload",
        "f824588a-2": "survey.csv, 2026-12-01 10:15, second upload",
    }


def test_rows_with_narrows_only_when_values_are_chosen():
    frame = pd.DataFrame({"status": ["open", "done", "blocked"], "id": [1, 2, 3]})
    assert views.rows_with(frame, "status", ["open", "blocked"])["id"].tolist() == [1, 3]
    assert views.rows_with(frame, "status", [])["id"].tolist() == [1, 2, 3]  # nothing chosen: every row
    assert views.rows_with(frame, "status", None) is frame
    assert views.names_by_id(frame, "id", "status") == {1: "open", 2: "done", 3: "blocked"}


def test_batches_to_fix_and_to_delete_leave_out_withdrawn_ones():
    batches = _batches()
    # b1 has none, b3 is withdrawn; each named by its file and local upload time, newest first
    assert views.fixable_batches(batches) == {"b2": "new.csv, 2025-03-01 02:00 · 3 rejected"}
    assert views.live_batches(batches) == {
        "b2": "new.csv, 2025-03-01 02:00 · no organisation",
        "b1": "old.csv, 2025-01-01 02:00 · Harare CSF",
    }
    assert list(views.live_batches(batches)) == ["b2", "b1"]
    assert views.batch_file_stem(batches, "b2") == "new"
    assert views.batch_history(batches)["withdrawn"].tolist() == ["", "", "2025-04-02"]
    assert views.fixable_batches(batches.iloc[:0]) == {} and views.live_batches(batches.iloc[:0]) == {}
    assert views.batch_history(batches.iloc[:0])["withdrawn"].tolist() == []
    unnamed = batches.assign(file_name=[None, "new.csv", "x.csv"])  # a batch of records entered on a form
    assert views.live_batches(unnamed)["b1"] == "entered on a form, 2025-01-01 02:00 · Harare CSF"
    assert views.batch_file_stem(unnamed, "b1") == "form"


def test_first_rows_index_a_projector_table_by_its_first_column():
    table = pd.DataFrame({"Place": list("abcd"), "Reports": [4, 3, 2, 1]})
    shown = views.first_rows(table, 2)
    assert shown.index.tolist() == ["a", "b"] and shown.columns.tolist() == ["Reports"]


def test_data_quality_counts_what_is_outside_and_what_can_be_mapped():
    batches = _batches().assign(warnings=['{"no_date": 2}', "{}", "{}"])
    incidents = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2025-01-05", "2025-01-06", "2025-02-01"], utc=True),
            "source": ["community", "municipal", "community"],
            "org": ["A", None, "A"],
            "precinct_code": [None, "P1", None],
            "neighbourhood_code": [None, None, None],
        }
    )
    unmapped = pd.DataFrame({"term": ["", "skelm"], "raw_category": ["(no category)", "Skelm"], "incidents": [4, 2]})
    rejections = pd.DataFrame({"batch_id": ["b2", "b2"], "reason": ["no_date", "no_place"]})
    found = views.data_quality(batches, incidents, rejections, unmapped)
    assert found.incidents == 3 and found.outside_total == 2  # two community rows in neither area
    assert found.outside.to_dict("records") == [{"Source": "Community", "Organisation": "A", "Incidents": 2}]
    assert found.mappable == ["Skelm"]  # the empty term cannot be mapped
    assert set(found.coverage["Source"]) == {"Municipal", "Community"}
    assert found.rejections["Rejected rows"].sum() == 2
    assert found.warnings.to_dict("records") == [  # one warning code in one batch: its file and time, no id
        {"File": "old.csv", "Uploaded": "2025-01-01 02:00", "Warning": "No date", "Rows": 2}
    ]
    assert len(found.batches) == 3


def test_unbroken_positions_are_the_one_word_columns_as_drawn():
    """Dates, numbers and statuses stay on one line on the projector; a column of sentences wraps. The row
    names (a table's first column as its index) come first; row numbers are not drawn."""
    table = pd.DataFrame(
        {
            "Intervention": ["I2 Ncumo Road lights", "I1 Harare Square box"],
            "Status": ["stalled", "maintenance"],
            "Last update": ["2026-10-08", "2026-06-11"],
            "Weeks": [3, 20],
            "News": ["in progress -> stalled", "stale"],
            "Id": ["KHA-HARARE-HOLOMISA-2026-09-A01", "x"],  # one word, but too long to hold on one line
        }
    )
    assert views.unbroken_positions(table) == [2, 3, 4]
    assert views.unbroken_positions(views.first_column_as_index(table)) == [2, 3, 4]  # the names take place 1
    dates = views.first_rows(table[["Last update", "News"]], 15)  # a date as the row names: kept whole too
    assert views.unbroken_positions(dates) == [1]
    assert views.has_row_names(dates) and not views.has_row_names(table)


def test_a_cell_reference_that_is_no_h3_cell_has_no_record():
    """A click's reference is text from the browser: ``cell:zz`` gives nothing, not an error."""
    assert views.feature_record("cell", "zz", areas=None, assets=None, interventions=None, incidents=None) is None


def test_audit_rows_read_events_roles_and_details_in_words():
    """The audit log showed "view_sensitive", "act_member" and "org: None; sso only: False" (issue 18):
    events and roles in words, empty values left out, yes or no, area codes as names."""
    import geopandas as gpd

    log = pd.DataFrame(
        {
            "at": pd.to_datetime(["2026-12-01T08:00:00+00:00", "2026-12-01T09:30:00+00:00"]),
            "user": ["test-admin", "test-analyst"],
            "role": ["admin", "analyst"],
            "event": ["user_admin", "view_sensitive"],
            "target": ["ntombi", "incidents"],
            "detail": [
                '{"action": "add", "org": null, "role": "act_member", "sso_only": false}',
                '{"query": {"neighbourhood": "KHA-HARARE-1", "start": "2026-11-01T00:00:00+00:00"}, "rows": 12}',
            ],
        }
    )
    areas = gpd.GeoDataFrame({"kind": ["neighbourhood"], "code": ["KHA-HARARE-1"], "name": ["Harare 1"]})
    shown = views.audit_rows(log, areas=areas)
    assert list(shown.columns) == ["When", "User", "Role", "Event", "About", "Detail"]
    assert shown["When"].tolist() == ["2026-12-01 10:00", "2026-12-01 11:30"]
    assert shown["Role"].tolist() == ["Admin", "Analyst"]
    assert shown["Event"].tolist() == ["Changed an account", "Viewed sensitive detail"]
    assert shown["Detail"].tolist() == [
        "Action: add; Role: ACT member; Single sign-on only: no",
        "Query: Neighbourhood: Harare 1; Start: 2026-11-01 02:00; Rows: 12",
    ]


def test_a_viewer_is_named_with_its_role_in_words():
    from pipelines.privacy import Viewer

    assert Viewer("test-act_member", "act_member").label == "test-act_member (ACT member)"
    assert Viewer("ntombi", "cso", "Harare CSF").label == "ntombi (CSO, Harare CSF)"
    assert views.role_words("act_member") == "ACT member"


def test_no_sentence_hedges_its_plural():
    """Every sentence the pipelines write says its count through :func:`pipelines.plural.counted`, not
    "incident(s)" (people read "1 incident", "5 incidents"): no f-string in the package hedges a plural."""
    import ast
    from pathlib import Path

    hedged = []
    for path in sorted(Path("pipelines").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                if "(s)" in text:
                    hedged.append(f"{path}:{node.lineno}")
    assert not hedged, hedged
