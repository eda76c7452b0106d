"""The dashboard's caches (dashboard.loaders, dashboard.maps, dashboard.warming): keyed on what the disclosure rules depend on, warmed at start, and showing
exactly what the disclosure core gives each role (also after a batch was erased)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dashboard import loaders, maps, sidebar, warming
from pipelines import access, privacy
from pipelines.demo import CSO_ORG
from pipelines.periods import month_bounds
from pipelines.privacy import PUBLIC, Viewer
from pipelines.settings import STORE_ENV
from tests._helpers import copy_store, ensure_user, page_as

ROLES = (None, "cso", "planner", "act_member", "analyst")


@pytest.fixture(scope="module")
def erased_store(demo_store, tmp_path_factory):
    """The demo with its community survey batch erased."""
    store = copy_store(demo_store, tmp_path_factory.mktemp("erased") / "erased.gpkg")
    batches = store.read_batches()
    survey = batches.loc[batches["source"].eq("community") & batches["kind"].eq("incidents"), "batch_id"].iloc[0]
    access.delete_batch(store, privacy.operator("tests"), survey, reason="test erasure")
    yield store
    store.close()


def _viewer(store, role: str | None) -> Viewer:
    if role is None:
        return PUBLIC
    org = CSO_ORG if role == "cso" else None
    return Viewer(ensure_user(store, role), role, org)


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _default_filters(store) -> loaders.Filters:
    months = sorted(store.incident_months()["month"].dropna().unique(), reverse=True)
    areas = store.read_areas()
    code = sidebar.default_neighbourhood(areas)
    population = areas.set_index("code")["population"].get(code)
    return loaders.Filters(code, float(population), sidebar.default_period(months), None, None)


@pytest.mark.parametrize("which", ["demo", "erased"])
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "public")
def test_pages_show_what_the_disclosure_core_gives_each_role(request, monkeypatch, which, role):
    store = request.getfixturevalue("demo_store" if which == "demo" else "erased_store")
    monkeypatch.setenv(STORE_ENV, store.url)
    who = _viewer(store, role)
    filters = _default_filters(store)

    at = page_as(store, "map_explorer", role)
    if who.suppressed:
        expected = privacy.published_counts(store, who, filters.query()).total_shown
    else:
        expected = f"{len(privacy.read_incidents(store, who, filters.query(), audit_view=False)):,}"
    assert _metric(at, "Incidents matching the filters") == expected

    at = page_as(store, "profile", role)
    month = filters.months[1]
    start, end = (month_bounds(filters.months[0])[0], month_bounds(month)[1])
    stats = privacy.profile_stats(
        store,
        who,
        filters.query(whole_period=True),
        month=month,
        population=filters.population,
        trend_start=start,
        trend_end=end,
    )
    assert _metric(at, f"Incidents in {month:%B %Y}") == stats.incidents
    assert _metric(at, "Per 1,000 residents") == stats.rate_per_1000
    assert _metric(at, "Community share of reports") == stats.community_share
    period = at.select_slider(key="f_period")
    assert [str(m) for m in period.options] == [str(m) for m in sorted(store.incident_months()["month"].unique())]


def _counting(monkeypatch, module, name: str) -> list:
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_row_roles_share_one_cached_read_and_analysts_keep_their_own(demo_store, tmp_path, monkeypatch):
    store = copy_store(demo_store, tmp_path / "shared.gpkg")  # a store no other test has cached reads of
    monkeypatch.setenv(STORE_ENV, store.url)
    reads = _counting(monkeypatch, privacy, "read_incidents")
    page_as(store, "map_explorer", "planner", username="planner-one")
    page_as(store, "map_explorer", "planner", username="planner-two")
    reads[:] = [args for args in reads if not args[1].is_public]
    assert len(reads) == 1  # the second planner gets the first one's read: the same rows by the same rules
    page_as(store, "map_explorer", "analyst", username="analyst-one")
    page_as(store, "map_explorer", "analyst", username="analyst-two")
    reads[:] = [args for args in reads if not args[1].is_public]
    assert len(reads) == 3  # an analyst's read of sensitive rows is their own, and audited as theirs
    audited = store.read_table("audit_log", where={"event": "view_sensitive"})
    assert {"analyst-one", "analyst-two"} <= set(audited["user"])


def test_warming_fills_the_first_public_page(demo_store, tmp_path, monkeypatch):
    store = copy_store(demo_store, tmp_path / "warm.gpkg")
    monkeypatch.setenv(STORE_ENV, store.url)
    warming.warm()
    counts = _counting(monkeypatch, privacy, "published_counts")
    hotspots = _counting(monkeypatch, loaders, "hotspots_for_neighbourhood")
    choices = _counting(monkeypatch, privacy, "filter_choices")
    from pipelines import mapview

    maps = _counting(monkeypatch, mapview, "build_map")
    at = page_as(store, "map_explorer", None)
    assert at.metric[0].value and not at.exception
    # everything the page needed was computed at start, the map built and rendered too
    assert (counts, hotspots, choices, maps) == ([], [], [], [])
    page_as(store, "map_explorer", "planner")
    assert maps == []  # and the planners' first map


def test_rendered_maps_are_shared_only_within_an_audience_and_a_data_version(demo_store, tmp_path, monkeypatch):
    from pipelines import mapview

    store = copy_store(demo_store, tmp_path / "maps.gpkg")
    monkeypatch.setenv(STORE_ENV, store.url)
    builds = _counting(monkeypatch, mapview, "build_map")

    def script(role, **account):
        at = page_as(store, "map_explorer", role, **account)
        drawn = [d for key, d in maps._MAPS.items() if key[0] == store.url]
        sent = drawn[-1].args  # the base, and the layers the frame evaluates in place
        return at, sent["script"] + sent["feature_group"] + sent["layer_control"]

    _, public = script(None)
    _, planner = script("planner", username="planner-one")
    assert len(builds) == 2 and public != planner  # the public never gets a planner's map, nor the reverse
    at, again = script("planner", username="planner-two")
    assert len(builds) == 2 and again == planner  # the second planner gets the same map, rendered once
    at.run()
    assert len(builds) == 2  # a rerun (a click) does not build the map again
    _, cso = script("cso")
    _, analyst = script("analyst", username="analyst-one")
    assert len(builds) == 4 and len({public, planner, cso, analyst}) == 4
    batches = store.read_batches()
    survey = batches.loc[batches["source"].eq("community") & batches["kind"].eq("incidents"), "batch_id"].iloc[0]
    access.delete_batch(store, privacy.operator("tests"), survey, reason="test erasure")
    script("planner", username="planner-one")
    assert len(builds) == 5  # an erased batch makes a new map at once


@pytest.mark.parametrize(
    "sources, categories",
    [
        (["community"], None),
        (["municipal"], None),
        (None, ["assault_common", "carjacking"]),
        (["community"], ["domestic_violence", "arson"]),
        ([], None),
    ],
)
def test_a_narrowed_wide_read_is_the_read_itself(demo_store, sources, categories):
    query = _default_filters(demo_store).query()
    query = replace(query, sources=sources, categories=categories)
    wide = query.widened()
    assert wide is not None and wide.sources is None and wide.categories is None
    direct = demo_store.read_incidents(query)
    assert len(direct) > 0 or sources == []
    narrowed = query.narrow(demo_store.read_incidents(wide))
    assert list(narrowed.index) == list(range(len(direct)))
    assert narrowed["incident_id"].tolist() == direct["incident_id"].tolist()
    assert narrowed.geometry.to_wkb().tolist() == direct.geometry.to_wkb().tolist()


def test_nothing_to_widen_without_those_filters_or_their_columns(demo_store):
    query = _default_filters(demo_store).query()
    assert query.widened() is None
    assert replace(query, sources=["community"], columns=["incident_id", "category"]).widened() is None


@pytest.mark.parametrize("role", ["cso", "planner", "act_member"])
def test_changing_source_reads_no_rows_again_and_shows_the_same_rows(demo_store, tmp_path, monkeypatch, role):
    store = copy_store(demo_store, tmp_path / "narrow.gpkg")
    monkeypatch.setenv(STORE_ENV, store.url)
    at = page_as(store, "map_explorer", role)
    reads = _counting(monkeypatch, privacy, "read_incidents")
    who = _viewer(store, role)
    for choice in ("Community", "Municipal", "Both"):
        at.radio(key="f_source").set_value(choice).run()
        assert not at.exception
        query = _default_filters(store).query()
        if choice != "Both":
            query = replace(query, sources=[choice.lower()])
        if not who.suppressed:
            expected = f"{len(privacy.read_incidents(store, who, query, audit_view=False)):,}"
            reads.pop()  # the test's own read
            assert _metric(at, "Incidents matching the filters") == expected
    assert reads == []  # the three choices were narrowed from the page's first read


def test_an_analysts_source_choice_is_read_and_audited_as_asked(demo_store, tmp_path, monkeypatch):
    store = copy_store(demo_store, tmp_path / "analyst.gpkg")
    monkeypatch.setenv(STORE_ENV, store.url)
    at = page_as(store, "map_explorer", "analyst")
    reads = _counting(monkeypatch, privacy, "read_incidents")
    at.radio(key="f_source").set_value("Community").run()
    assert [list(args[2].sources) for args in reads] == [["community"]]


def test_a_page_reads_a_table_for_the_viewer_it_names(demo_store, monkeypatch):
    """``loaders.table`` takes whose eyes the read is for (issue 19, item 8): the named viewer gets what the
    disclosure core gives it, whoever the session is, and a read without a viewer is refused."""
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    for role in ROLES + ("admin",):
        who = _viewer(demo_store, role)
        for name in ("assets", "interventions", "intervention_log"):
            shown = loaders.table(name, who)
            expected = privacy.read_table(demo_store, who, name)
            assert shown.equals(expected), (role, name)
    public, admin = loaders.table("assets", PUBLIC), loaders.table("assets", _viewer(demo_store, "admin"))
    assert len(public) < len(admin)  # people's assets: never for the public, every one for an admin
    with pytest.raises(TypeError):
        loaders.table("assets")  # no read of a table without naming the viewer
