"""The disclosure attacks of issue #15, performed from outside as an attacker would, on the real demo.

Each test takes only what a role is shown (the published numbers, the rows it receives) and tries to
get more: a suppressed count back by subtraction, or a sensitive incident placed more finely than its
generalised cell. They fail on the code before the disclosure core (pipelines/privacy).
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines import export, privacy
from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.periods import local_months as month_of
from pipelines.periods import month_bounds
from pipelines.privacy import PUBLIC, Viewer, suppress
from pipelines.store import IncidentQuery

PLANNER = Viewer(username="attacker-planner", role="planner")
ACT = Viewer(username="attacker-act", role="act_member")
TOTAL = ("total",)


# --------------------------------------------------------------------------------------------------
# The attacker's arithmetic
# --------------------------------------------------------------------------------------------------
def narrowed(equations: list[tuple[dict, float]]) -> dict:
    """Which hidden values the equations give away, and what is learnt of each.

    ``equations`` are ``({hidden name: coefficient}, right-hand side)`` after the shown numbers were
    moved to the right. A hidden value is given away when it is fixed by the equations (linear algebra:
    its unit vector lies in their row space), or when an equation over hidden counts only, each at
    least 1, leaves one of them at most 3 (so ``"<5"`` is sharpened).
    """
    names = sorted({n for coefs, _ in equations for n in coefs}, key=str)
    if not names:
        return {}
    index = {n: i for i, n in enumerate(names)}
    a = np.zeros((len(equations), len(names)))
    b = np.zeros(len(equations))
    for row, (coefs, rhs) in enumerate(equations):
        for n, c in coefs.items():
            a[row, index[n]] += c
        b[row] = rhs
    rank = np.linalg.matrix_rank(a)
    found = {}
    solution = np.linalg.lstsq(a, b, rcond=None)[0]
    for n, i in index.items():
        unit = np.zeros(len(names))
        unit[i] = 1
        # A total the map states elsewhere is no secret; any other fixed value, or a small total, is.
        value = round(float(solution[i]), 6)
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank and (n[0] != "total" or value < suppress.threshold()):
            found[n] = value
    for coefs, rhs in equations:
        # Hidden values shown as "<5" are at least 1; "withheld" ones (a name ending in "?") at least 0.
        hidden = [n for n, c in coefs.items() if c == 1]
        at_least_one = [n for n in hidden if not str(n[-1]).endswith("?")]
        if len(hidden) == len(coefs) and at_least_one and rhs - (len(at_least_one) - 1) < suppress.threshold() - 1:
            bound = rhs - (len(at_least_one) - 1)
            found.update({n: f"at most {bound:g}" for n in at_least_one if n not in found})
    return found


def table_equation(values: pd.Series, total: float | None, prefix: str, *, total_name=TOTAL) -> tuple[dict, float]:
    """``sum(table) = total`` with shown values moved right; a hidden total is itself unknown."""
    coefs = {(prefix, k): 1.0 for k, v in values.items() if pd.isna(v)}
    rhs = -float(values.dropna().sum())
    if total is None or pd.isna(total):
        coefs[total_name] = -1.0
    else:
        rhs += float(total)
    return coefs, rhs


def public_view_equations(counts: privacy.PublishedCounts, hot_cells: pd.DataFrame | None, code: str | None):
    """What the public map of one view shows, as equations: the total, the hexagons, the areas and the
    hot-spot cells all count the same incidents."""
    equations = []
    cells = counts.cells.set_index("cell")["count"]
    if hot_cells is not None and len(hot_cells):
        # A hot-spot cell that shows a number adds it to what is known of that hexagon.
        shown = pd.to_numeric(hot_cells.set_index("cell_id")["count"], errors="coerce").dropna()
        for cell, value in shown.items():
            if cell in cells.index and pd.isna(cells[cell]) or cell not in cells.index and value:
                equations.append(({("hex", cell): 1.0}, float(value)))
    equations.append(table_equation(cells, counts.total, "hex"))
    precincts = counts.area_counts("precinct").set_index("code")["count"]
    equations.append(table_equation(precincts, counts.total, "precinct"))
    if code is not None:
        hood = counts.area_counts("neighbourhood").set_index("code")["count"]
        equations.append(table_equation(hood[[code]], counts.total, "hood"))
    return equations


def windows(months: list[pd.Period]) -> list[tuple[pd.Period, pd.Period]]:
    """The dashboard's default window (the last 12 months) and every single month."""
    newest = months[0]
    return [(months[min(11, len(months) - 1)], newest), *[(m, m) for m in months]]


def query_for(code: str | None, window: tuple[pd.Period, pd.Period]) -> IncidentQuery:
    return IncidentQuery(neighbourhood=code, start=month_bounds(window[0])[0], end=month_bounds(window[1])[1])


# --------------------------------------------------------------------------------------------------
# Finding 4: public differencing, over every neighbourhood and period of the demo
# --------------------------------------------------------------------------------------------------
def test_attacker_arithmetic_finds_the_reported_attack():
    # Bongweni as reported: total 24, hot-spot cells 8, 7, 6 shown, one cell hidden -> 3.
    equations = [({("hex", "d"): 1.0}, 24 - 8 - 7 - 6)]
    assert narrowed(equations) == {("hex", "d"): 3.0}
    two_ones = [({("hex", "a"): 1.0, ("hex", "b"): 1.0}, 2.0)]
    assert set(narrowed(two_ones)) == {("hex", "a"), ("hex", "b")}
    assert narrowed([({("hex", "a"): 1.0, ("hex", "b"): 1.0}, 9.0)]) == {}


def test_public_map_views_cannot_be_differenced(demo_store):
    months, _ = privacy.filter_choices(demo_store)
    hoods = demo_store.read_areas("neighbourhood")["code"].tolist()
    views, leaks = 0, []
    for code in [None, *hoods]:
        for window in windows(months):
            counts = privacy.published_counts(demo_store, PUBLIC, query_for(code, window))
            views += 1
            found = narrowed(public_view_equations(counts, None, code))
            if found:
                leaks.append((code, str(window[0]), str(window[1]), found))
    assert views == (len(hoods) + 1) * (len(months) + 1)
    assert not leaks, f"{len(leaks)} of {views} public views give a suppressed count away: {leaks[:5]}"


def test_public_hotspot_cells_add_nothing_to_the_hexagons(demo_store):
    months, _ = privacy.filter_choices(demo_store)
    hoods = demo_store.read_areas("neighbourhood")["code"].tolist()
    leaks, with_cells = [], 0
    for code in hoods:
        for window in windows(months)[:4]:  # the default year and the three newest months
            span = (window[1] - window[0]).n + 1
            hot = hotspots_for_neighbourhood(demo_store, code, viewer=PUBLIC, months=span, until=str(window[1]))
            counts = privacy.published_counts(demo_store, PUBLIC, query_for(code, window))
            with_cells += len(hot.cells) > 0
            assert hot.cells["count"].isna().all() and hot.cells["gi_z"].isna().all(), code
            assert hot.grid.spec.resolution <= privacy.location_resolution(demo_store)
            found = narrowed(public_view_equations(counts, hot.cells, code))
            if found:
                leaks.append((code, str(window[1]), found))
    assert with_cells, "no neighbourhood had hot-spot cells: the test would prove nothing"
    assert not leaks, leaks[:5]


def test_public_export_cannot_be_differenced(demo_store):
    months, _ = privacy.filter_choices(demo_store)
    for window in windows(months)[:4]:
        features = export.public_view(demo_store, query_for(None, window))
        shown = features["incidents"].map(lambda v: np.nan if v == suppress.suppressed_label() else float(v))
        hexes = shown[features["feature"] == "hexagon"].set_axis(features.loc[features["feature"] == "hexagon", "code"])
        precincts = shown[features["kind"] == "precinct"].set_axis(features.loc[features["kind"] == "precinct", "code"])
        # The export states no total: the attacker takes it as unknown, the same in both tables.
        equations = [table_equation(hexes, None, "hex"), table_equation(precincts, None, "precinct")]
        assert not narrowed(equations), window


# --------------------------------------------------------------------------------------------------
# Finding 2: sensitive locations recoverable by planners and ACT members
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("viewer", [PLANNER, ACT], ids=["planner", "act_member"])
def test_fine_hotspot_counts_place_no_sensitive_incident_finer_than_its_cell(demo_store, viewer):
    """Count minus the visible points of each fine cell: whatever is left must sit at a generalised
    location (the centre of a resolution-9 cell), never at a sensitive incident's own point."""
    resolution = privacy.location_resolution(demo_store)
    placed, fine_views, generalised = 0, 0, 0
    for code in demo_store.read_areas("neighbourhood")["code"]:
        hot = hotspots_for_neighbourhood(demo_store, code, viewer=viewer, resolution=None)
        if hot.grid.spec.resolution <= resolution or not len(hot.cells):
            continue
        fine_views += 1
        start, end = month_bounds(hot.months[0])[0], month_bounds(hot.months[-1])[1]
        seen = privacy.read_incidents(demo_store, viewer, IncidentQuery(neighbourhood=code, start=start, end=end))
        points = seen.geometry.to_numpy()
        fine = hot.grid.spec.resolution
        cells = [
            h3.latlng_to_cell(y, x, fine) for x, y in zip(shapely.get_x(points), shapely.get_y(points), strict=True)
        ]
        visible = pd.Series(cells, dtype=object).value_counts()
        generalised += int(seen[privacy.GENERALISED].sum())
        counts = hot.cells.set_index("cell_id")["count"]
        # Every count the viewer is shown is exactly the points the viewer is shown (sensitive ones at
        # their generalised centre): nothing is left over to place.
        left = counts.sub(visible.reindex(counts.index).fillna(0))
        placed += int((left > 0).sum())
    assert fine_views and generalised, "no fine grid or no sensitive incident in it: the test proves nothing"
    assert placed == 0


def test_the_fine_cell_attack_works_on_exact_rows(demo_store):
    """Control: the same subtraction on hot spots counted from the stored rows (what a planner was shown
    before the disclosure core) places sensitive incidents, so the test above can fail."""
    from pipelines.hotspots.recipe import neighbourhood_hotspots

    placed = 0
    areas = demo_store.read_areas("neighbourhood")
    for code in areas["code"]:
        area = areas[areas["code"] == code]
        stored = demo_store.read_incidents(IncidentQuery(neighbourhood=code))
        hot = neighbourhood_hotspots(stored, area, resolution=None)
        if hot.grid.spec.resolution <= privacy.location_resolution(demo_store) or not len(hot.cells):
            continue
        start, end = month_bounds(hot.months[0])[0], month_bounds(hot.months[-1])[1]
        seen = privacy.read_incidents(demo_store, PLANNER, IncidentQuery(neighbourhood=code, start=start, end=end))
        fine = hot.grid.spec.resolution
        xs, ys = shapely.get_x(seen.geometry.to_numpy()), shapely.get_y(seen.geometry.to_numpy())
        visible = pd.Series([h3.latlng_to_cell(y, x, fine) for x, y in zip(xs, ys, strict=True)], dtype=object)
        counts = hot.cells.set_index("cell_id")["count"]
        placed += int((counts.sub(visible.value_counts().reindex(counts.index).fillna(0)) > 0).sum())
    assert placed > 0


def test_the_differencing_attack_works_on_separately_suppressed_hotspot_counts(demo_store):
    """Control: public hot-spot cells that carry their own primary-suppressed counts (as before the
    disclosure core) give hidden hexagon counts back, so the hot-spot test above can fail."""
    months, _ = privacy.filter_choices(demo_store)
    leaks = 0
    for code in demo_store.read_areas("neighbourhood")["code"]:
        window = windows(months)[0]
        hot = hotspots_for_neighbourhood(
            demo_store, code, viewer=PLANNER, resolution=privacy.location_resolution(demo_store)
        )
        counts = privacy.published_counts(demo_store, PUBLIC, query_for(code, window))
        own = hot.cells.assign(
            count=suppress.suppress(hot.cells["count"].to_numpy(), secondary=False)["count"].to_numpy()
        )
        leaks += bool(narrowed(public_view_equations(counts, own, code)))
    assert leaks > 0


def _pack_equations(table: pd.DataFrame, baseline_months: int) -> list[tuple[dict, float]]:
    equations = []
    label = suppress.suppressed_label()
    # The baseline is left out: categories with no report this month or last are not listed, so the
    # listed baselines need not add up to the total's (the suppression still treats them as if they did).
    for column, factor in (("this_month", 1), ("previous_month", 1)):
        text = table[column].astype(str)
        values = text.map(lambda v: np.nan if v in (label, "", suppress.WITHHELD) else float(v.replace(",", "")))
        values = values * factor
        names = [f"{c}?" if t == suppress.WITHHELD else c for c, t in zip(table["category"], text, strict=True)]
        parts = values.iloc[1:].set_axis(names[1:])
        equations.append(table_equation(parts, values.iloc[0], column, total_name=("total", column)))
    return equations


def test_public_pack_counts_cannot_be_differenced(demo_store):
    """The public pack's "Changes in counts" table: the categories add up to "All incidents"."""
    from pipelines.act.agenda import BASELINE_MONTHS, agenda_for
    from pipelines.plural import counted

    months, _ = privacy.filter_choices(demo_store)
    leaks, small_totals = [], 0
    for code in demo_store.read_areas("neighbourhood")["code"]:
        for month in months[:2]:
            item = agenda_for(demo_store, code, month, viewer=PUBLIC, public=True).item("counts")
            found = narrowed(_pack_equations(item.table, BASELINE_MONTHS))
            if found:
                leaks.append((code, str(month), found))
            total = item.table["this_month"].iloc[0]
            small_totals += total == suppress.suppressed_label()
            assert item.summary.startswith(counted(total, "incident")), (
                item.summary
            )  # the sentence says what the table says
    assert not leaks, leaks[:5]


def test_the_pack_attack_works_on_primary_suppression_alone(demo_store):
    """Control: the same table with only primary suppression (the public pack before the disclosure core)
    gives hidden category counts back, so the test above can fail."""
    from pipelines.act.agenda import BASELINE_MONTHS, agenda_for

    months, _ = privacy.filter_choices(demo_store)
    leaks = 0
    for code in demo_store.read_areas("neighbourhood")["code"]:
        table = agenda_for(demo_store, code, months[0], viewer=PUBLIC, public=False).item("counts").table
        old = suppress.suppress_counts(table, ["this_month", "previous_month", "baseline_mean"], derived=["change"])
        leaks += bool(narrowed(_pack_equations(old, BASELINE_MONTHS)))
    assert leaks > 0


def test_public_profile_cannot_be_differenced(demo_store):
    """The profile shows the month's total (and its change on the month before) beside the trend per
    category and month: the trend's categories of those months must not be given back."""
    months, _ = privacy.filter_choices(demo_store)
    leaks, checked, equations_made = [], 0, 0
    for code in demo_store.read_areas("neighbourhood")["code"]:
        for month in months[:3]:
            window = (months[min(11, len(months) - 1)], months[0])
            start, end = month_bounds(window[0])[0], month_bounds(window[1])[1]
            stats = privacy.profile_stats(
                demo_store, PUBLIC, IncidentQuery(neighbourhood=code), month=month, population=None,
                trend_start=start, trend_end=end,
            )  # fmt: skip
            total = np.nan if stats.incidents.startswith("<") else float(stats.incidents.replace(",", ""))
            previous = np.nan  # the change is a reading in words against the months before, not a difference
            if stats.change is not None:  # it states their average: none of those months may be a small count
                rows = privacy.counting_rows(demo_store, PUBLIC, IncidentQuery(neighbourhood=code))
                local = month_of(rows["occurred_at"])
                before = [int((local == month - i).sum()) for i in range(1, 4)]
                assert not any(0 < n < 5 for n in before), (code, str(month), before)
            trend = stats.trend.assign(month=pd.to_datetime(stats.trend["month"]).dt.to_period("M").astype(str))
            equations, checked = [], checked + 1
            for when, value in ((month, total), (month - 1, previous)):
                rows = trend[trend["month"] == str(when)]
                if len(rows):
                    parts = rows.set_index("category")["count"]
                    equations.append(table_equation(parts, value, str(when), total_name=("total", str(when))))
            equations_made += len(equations)
            found = narrowed(equations)
            if found:
                leaks.append((code, str(month), found))
    assert equations_made > checked, "the trend's months were not matched: the test would prove nothing"
    assert not leaks, leaks[:5]


# --------------------------------------------------------------------------------------------------
# Found by a red-team pass over the disclosure core
# --------------------------------------------------------------------------------------------------
def _case_numbers(row, stations) -> np.ndarray:
    """Every SAPS-style case number of the row's month and the stations seen: HAR/CAS/0122/03/2026."""
    local = row.occurred_at.tz_convert("Africa/Johannesburg")
    candidates = [
        f"{row.source}|{row.org}|id:{s}/CAS/{n:04d}/{local.month:02d}/{local.year}"
        for s in stations
        for n in range(1, 10000)
    ]
    return pd.util.hash_array(np.array(candidates, dtype=object), categorize=False)


def test_a_generalised_rows_id_does_not_give_its_case_number_back(demo_store):
    """incident_id is a plain hash of the record id; a planner who sees it could hash every case number of
    the row's month until one matches. Generalised rows carry a keyed stand-in instead."""
    rows = privacy.read_incidents(demo_store, PLANNER)
    visible = rows[~rows["generalised"] & (rows["source"] == "municipal")]
    stations = sorted(visible["external_id"].str.extract(r"^([A-Z]{3})/CAS/")[0].dropna().unique())
    assert stations, "no case-number format to guess from: the test proves nothing"
    hidden = rows[rows["generalised"] & (rows["source"] == "municipal")].head(3)
    stored = set(demo_store.read_incidents(IncidentQuery(columns=["incident_id"]))["incident_id"])
    for row in hidden.itertuples():
        assert row.incident_id not in stored
        hashes = _case_numbers(row, stations)
        assert not (hashes == np.uint64(int(row.incident_id.removeprefix("g"), 16))).any()
    # Control: the stored id of such a row is found this way.
    truth = demo_store.read_incidents(IncidentQuery(sources=["municipal"]))
    exact = truth[truth["sensitive"]].iloc[0]
    assert (_case_numbers(exact, stations) == np.uint64(int(exact.incident_id, 16))).any()


def test_public_hexagons_are_listed_in_an_order_that_hides_the_suppressed_counts(demo_store):
    """Listed by true count, k hidden cells adding up to S are non-increasing, which pins the last ones
    (all areas, 2026-10: 113 cells pinned to exactly 1). Shown counts come first, hidden ones by cell id."""
    months, _ = privacy.filter_choices(demo_store)
    for code in [None, "KHA-BONGWENI"]:
        for window in windows(months)[:3]:
            cells = privacy.published_counts(demo_store, PUBLIC, query_for(code, window)).cells
            hidden = cells["count"].isna().to_numpy()
            assert not (hidden[:-1] & ~hidden[1:]).any(), "a shown cell after a hidden one"
            assert list(cells.loc[hidden, "cell"]) == sorted(cells.loc[hidden, "cell"])
            shown = cells.loc[~hidden, "count"].to_numpy()
            assert (shown[:-1] >= shown[1:]).all()
            features = export.public_view(demo_store, query_for(code, window))
            hexes = features[features["feature"] == "hexagon"]
            assert list(hexes["code"]) == list(cells["cell"])


def test_every_month_of_the_public_trend_is_protected_against_its_total(demo_store):
    """Any month's total is public (the map with that one month chosen), so every month of the profile's
    trend must hold against it, not only the months the profile's KPIs state."""
    months, _ = privacy.filter_choices(demo_store)
    window = windows(months)[0]
    start, end = month_bounds(window[0])[0], month_bounds(window[1])[1]
    leaks, equations_made = [], 0
    for code in demo_store.read_areas("neighbourhood")["code"]:
        stats = privacy.profile_stats(
            demo_store, PUBLIC, IncidentQuery(neighbourhood=code), month=months[0], population=None,
            trend_start=start, trend_end=end,
        )  # fmt: skip
        trend = stats.trend.assign(month=pd.to_datetime(stats.trend["month"]).dt.to_period("M"))
        for month, rows in trend.groupby("month"):
            total = privacy.published_counts(demo_store, PUBLIC, query_for(code, (month, month))).total
            parts = rows.set_index("category")["count"]
            found = narrowed([table_equation(parts, total, str(month), total_name=("total", str(month)))])
            equations_made += 1
            if found:
                leaks.append((code, str(month), found))
    assert equations_made > 100
    assert not leaks, leaks[:5]
