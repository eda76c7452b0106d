"""pipelines.mapview: bounded payload, local assets, legend outside the map."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines import mapview
from pipelines.hotspots.emerging import HOTSPOT_CLASS
from pipelines.mapview.model import REF_CLASS, REF_STYLE, hidden_reference


def _areas():
    return gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["Alpha", "Beta"], "kind": "neighbourhood", "population": [2000.0, None]},
        geometry=[shapely.box(18.60, -34.05, 18.62, -34.03), shapely.box(18.62, -34.05, 18.64, -34.03)],
        crs=4326,
    )


def _incidents(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(18.60, 18.64, n), rng.uniform(-34.05, -34.03, n)
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "category": "assault_common",
            "occurred_at": pd.Timestamp("2025-05-01", tz="UTC"),
            "source": "municipal",
            "neighbourhood_code": np.where(lon < 18.62, "A", "B"),
            "precinct_code": None,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def test_area_summary_counts_and_rates():
    incidents = pd.DataFrame({"neighbourhood_code": ["A", "A", "A", "B"]})
    summary = mapview.area_summary(_areas(), incidents, kind="neighbourhood").set_index("code")
    assert summary["count"].to_dict() == {"A": 3, "B": 1}
    assert summary.loc["A", "crude_rate"] == 1.5  # 3 per 2,000 residents = 1.5 per 1,000
    assert summary.loc["A", "rate"] == 1.5  # one area with residents: nothing to smooth towards
    assert np.isnan(summary.loc["B", "rate"])  # no population, no rate


@pytest.mark.parametrize("n", [10, 5_000, 60_000])
def test_payload_is_bounded_and_assets_are_local(n):
    options = mapview.MapOptions(layers=mapview.LAYERS, max_points=2_000)
    result = mapview.build_map(_areas(), _incidents(n), options=options)
    assert result.stats["points"] == min(n, 2_000)
    assert result.stats["points_sampled"] == (n > 2_000)
    assert result.stats["heat_cells"] <= options.max_heat_cells
    assert result.stats["hexagons"] <= options.max_hexagons
    assert mapview.payload_bytes(result.map) < 1_000_000
    links = mapview.asset_links(result.map)
    assert links and all(link.startswith("/app/static/vendor/") for link in links)
    assert "d3" not in " ".join(links)  # no branca colormap: the legend is drawn outside the map


def test_hexagon_counts_sum_to_the_number_of_points():
    incidents = _incidents(1_000)
    counts = mapview.map_counts(incidents, _areas(), resolution=9).cells["count"]
    assert counts.sum() == 1_000
    assert counts.is_monotonic_decreasing


def test_legend_is_html_outside_the_map():
    result = mapview.build_map(_areas(), _incidents(50), options=mapview.MapOptions(layers=("areas",)))
    html = mapview.legend_html(result.legend)
    assert "Safe Neighbourhoods" in html and "#" in html
    assert "legend" not in result.map.get_root().render().lower().replace("leaflet-control-layers", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Area Alpha Ref area:neighbourhood:A", ("area", "neighbourhood:A"), id="area"),
        pytest.param("School · asset:A-1", ("asset", "A-1"), id="asset"),
        pytest.param("Incidents 4 Ref cell:89ad3689e53ffff", ("cell", "89ad3689e53ffff"), id="cell"),
        pytest.param("no reference here", None, id="none"),
        # a description comes before the reference the map adds: its reference-shaped words choose nothing
        pytest.param("Robbery · near area:1, see cell:zz · incident:abc123", ("incident", "abc123"), id="text-first"),
        pytest.param(None, None, id="empty"),
    ],
)
def test_parse_ref(text, expected):
    assert mapview.parse_ref(text) == expected


@pytest.mark.parametrize(
    ("options", "match"),
    [
        pytest.param({"layers": ("satellite",)}, "unknown", id="unknown-layer"),
        pytest.param({"metric": "density"}, "metric must be one of", id="unknown-metric"),
    ],
)
def test_invalid_options(options, match):
    with pytest.raises(mapview.MapError, match=match):
        mapview.MapOptions(**options)


def _hot_cells():
    import h3

    ids = list(h3.grid_disk(h3.latlng_to_cell(-34.04, 18.62, 10), 2))
    bins = [3, 2, 1, -1, -3] + [0] * (len(ids) - 5)
    emerging = ["consecutive_hot"] + ["no_pattern"] * (len(ids) - 1)
    return gpd.GeoDataFrame(
        {
            "cell_id": ids,
            "count": np.arange(len(ids)),
            "gi_z": np.linspace(3, -3, len(ids)),
            "gi_bin": bins,
            "emerging": emerging,
        },
        geometry=[shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)]) for c in ids],
        crs=4326,
    )


def _features(result, layer_name):
    layer = next(c for c in mapview.walk(result.map) if getattr(c, "layer_name", None) == layer_name)
    return layer, layer.data["features"]


def test_hotspot_layer_draws_one_class_per_cell_in_words_with_a_cap():
    cells = _hot_cells()  # bins 3, 2, 1, -1, -3; the first cell is also "consecutive hot"
    options = mapview.MapOptions(layers=("hotspots",), max_hotspot_cells=4)
    result = mapview.build_map(_areas(), _incidents(10), hotspots=cells, options=options)
    layer, features = _features(result, "Hot spots")
    assert result.stats["hotspot_cells"] == 4  # the no-pattern cells are not drawn; the cap drops the least urgent
    by_label = {f["properties"]["label"]: f["properties"]["colour"] for f in features}
    assert by_label == {
        "New hot spot": HOTSPOT_CLASS["new"].colour,
        "Persistent hot spot": HOTSPOT_CLASS["persistent"].colour,
        "Cold spot": HOTSPOT_CLASS["cold"].colour,
    }
    # one colour per class and the same thin outline for every cell: fill and outline cannot disagree
    styles = {json.dumps({k: v for k, v in layer.style_function(f).items() if k != "fillColor"}) for f in features}
    assert len(styles) == 1
    legend = next(s for s in result.legend if s.title == "Hot spots")
    assert [label.split(":")[0] for label, _ in legend.entries] == ["New hot spot", "Persistent hot spot", "Cold spot"]
    assert "under-reporting" in legend.entries[-1][0]
    assert any("4 of 5" in note for note in result.notes)
    page = result.map.get_root().render()
    for jargon in ("Gi*", "z-score", "gi_bin", "FDR", *cells["cell_id"]):
        assert jargon not in page and jargon not in mapview.legend_html(result.legend), jargon
    assert all(link.startswith("/app/static/vendor/") for link in mapview.asset_links(result.map))


def test_a_click_on_a_hot_spot_reads_back_without_an_h3_id():
    cells = _hot_cells()
    result = mapview.build_map(
        _areas(), _incidents(10), hotspots=cells, options=mapview.MapOptions(layers=("hotspots",))
    )
    _, features = _features(result, "Hot spots")
    ref = _hidden(features[0]["properties"]["ref"])
    assert ref == "hotspot:1" and result.clicked(f"Hot spot New hot spot {ref}") == ("cell", cells["cell_id"][0])
    analyst = mapview.build_map(
        _areas(), _incidents(10), hotspots=cells, options=mapview.MapOptions(layers=("hotspots",), statistics=True)
    )
    _, features = _features(analyst, "Hot spots (Gi*, emerging)")
    assert _hidden(features[0]["properties"]["ref"]) == f"cell:{cells['cell_id'][0]}"
    assert {"gi", "z", "trend"} <= set(features[0]["properties"])  # analysts keep the figures


_HIDDEN_REF = re.compile(rf'<span class="{REF_CLASS}" aria-hidden="true" style="{re.escape(REF_STYLE)}">(.*?)</span>')
#: What a popup must not show a person: a reference (an internal id, an H3 id) or its "Ref" label.
_REFERENCE_SHOWN = re.compile(r"\b(area|asset|intervention|incident|cell|hotspot|hexagon):|\bRef\b")


def _hidden(popup_html: str) -> str:
    """The reference a popup's HTML carries out of sight."""
    return html.unescape(_HIDDEN_REF.search(popup_html).group(1)).strip()


def _on_screen(popup_html: str) -> str:
    """What a popup's HTML shows on screen: without the element clipped out of sight, tags as line breaks."""
    return html.unescape(re.sub(r"<[^>]+>", "\n", _HIDDEN_REF.sub("", popup_html)))


def _popups(result) -> dict[str, list[tuple[str, str]]]:
    """Each clickable feature's popup per layer, as (what it shows, the text a click returns)."""
    popups = {}
    for layer in mapview.walk(result.map):
        name = getattr(layer, "layer_name", None)
        popup = next((c for c in layer._children.values() if isinstance(c, folium.GeoJsonPopup)), None)
        if isinstance(layer, folium.GeoJson) and popup is not None:
            rows = [
                "".join(
                    f"<tr><th>{a}</th><td>{f['properties'][k]}</td></tr>"
                    for k, a in zip(popup.fields, popup.aliases, strict=True)
                )
                for f in layer.data["features"]
            ]
        elif name == "ABCD assets":  # row[5]: the popup's HTML
            rows = [row[5] for row in layer.data]
        elif name == "Incidents (clustered points)":  # row[2] as text, row[3] in the script's hidden element
            rows = [f"{html.escape(row[2])}{hidden_reference(row[3])}" for row in layer.data]
        else:
            continue
        popups[name] = [(_on_screen(row), re.sub(r"<[^>]+>", "\n", html.unescape(row))) for row in rows]
    return popups


def test_popups_show_no_internal_reference_and_a_click_still_reads_it_back():
    """A planner or ACT member reads words in a popup, not ``asset:A-1`` or a "Ref" line (issue 18); the
    reference is still in the popup's text, which a click returns, and reads back to the right feature."""
    assets = gpd.GeoDataFrame(
        {"asset_id": ["A-1"], "name": ["Library"], "abcd_category": ["institutions"], "type": ["library"]},
        geometry=[shapely.Point(18.61, -34.04)],
        crs=4326,
    )
    interventions = gpd.GeoDataFrame(
        {"intervention_id": ["I-1"], "name": ["Lights"], "status": ["stalled"], "lead": ["Energy"]},
        geometry=[shapely.Point(18.63, -34.04)],
        crs=4326,
    )
    layers = ("areas", "hotspots", "hexagons", "points", "assets", "interventions")
    for statistics in (False, True):  # an analyst's popups hold no id either: the record beside the map has it
        options = mapview.MapOptions(layers=layers, statistics=statistics)
        result = mapview.build_map(
            _areas(), _incidents(5), hotspots=_hot_cells(), assets=assets, interventions=interventions, options=options
        )
        popups = _popups(result)
        assert len(popups) == 6, sorted(popups)
        for name, shown in popups.items():
            for on_screen, text in shown:
                assert not _REFERENCE_SHOWN.search(on_screen), (name, on_screen)
                assert result.clicked(text) is not None, (name, text)
        assert result.clicked(popups["ABCD assets"][0][1]) == ("asset", "A-1")
        assert result.clicked(popups["Interventions (by status)"][0][1]) == ("intervention", "I-1")
        assert result.clicked(popups["Incidents (clustered points)"][0][1]) == ("incident", "i0")
        assert "Common assault · 2025-05-01" in popups["Incidents (clustered points)"][0][0]  # the category in words
        assert "clip:rect(0 0 0 0)" in REF_STYLE and "width:1px" in REF_STYLE  # out of sight, yet rendered


def test_public_map_shows_no_class_when_its_caption_says_none_are_shown(demo_store):
    """On the demo the public's coarser grid has too few cells: the caption says no hot or cold spots are shown,
    so the map must draw none (it used to outline the planted spot as "consecutive hot")."""
    from pipelines.hotspots.recipe import hotspots_for_neighbourhood
    from pipelines.privacy import PUBLIC, Viewer

    code = "KHA-HARARE-HOLOMISA"
    public = hotspots_for_neighbourhood(demo_store, code, viewer=PUBLIC, resolution=None)
    assert any("no hot or cold spots are shown" in m for m in public.messages)
    assert (public.cells["emerging"] == "consecutive_hot").any()  # the space-time test alone would show it
    areas = demo_store.read_areas()
    options = mapview.MapOptions(layers=("hotspots",))
    result = mapview.build_map(areas, areas.iloc[0:0], hotspots=public.cells, focus=code, options=options)
    assert result.stats["hotspot_cells"] == 0 and not [s for s in result.legend if s.title == "Hot spots"]
    planner = hotspots_for_neighbourhood(demo_store, code, viewer=Viewer("p", "planner"), resolution=None)
    result = mapview.build_map(areas, areas.iloc[0:0], hotspots=planner.cells, focus=code, options=options)
    _, features = _features(result, "Hot spots")
    assert {f["properties"]["label"] for f in features} == {"New hot spot"}  # the planted Aug-Oct spot


# --------------------------------------------------------------------------------------------------
# Rates and legends
# --------------------------------------------------------------------------------------------------
def _town():
    """Four neighbourhoods; "Tiny" has 150 residents and 3 incidents: 20 per 1,000, the alarming crude rate."""
    names = ["Tiny", "Big", "Mid", "Large"]
    return gpd.GeoDataFrame(
        {
            "code": names,
            "name": names,
            "kind": "neighbourhood",
            "population": [150.0, 20_000.0, 10_000.0, 15_000.0],
        },
        geometry=[shapely.box(18.60 + 0.01 * i, -34.05, 18.61 + 0.01 * i, -34.04) for i in range(4)],
        crs=4326,
    ), pd.DataFrame({"neighbourhood_code": ["Tiny"] * 3 + ["Big"] * 200 + ["Mid"] * 30 + ["Large"] * 60})


def test_rates_are_smoothed_so_a_tiny_area_does_not_top_the_map():
    areas, incidents = _town()
    summary = mapview.area_summary(areas, incidents, kind="neighbourhood").set_index("code")
    assert summary["crude_rate"].idxmax() == "Tiny"  # 20 per 1,000: what the map used to colour darkest
    assert summary["rate"].idxmax() == "Big"  # smoothed: Tiny is pulled to the overall rate
    assert summary.loc["Tiny", "rate"] < 10  # 3 of 150 residents: pulled most of the way from 20 to 6.5
    options = mapview.MapOptions(layers=("areas",), metric="rate")
    result = mapview.build_map(
        areas, incidents.assign(geometry=None), options=options, population_source="Residents: X."
    )
    _, features = _features(result, "Safe Neighbourhoods (incidents per 1,000 residents)")
    top = max(features, key=lambda f: float(f["properties"]["per_1000"]))["properties"]
    legend = result.legend[0]
    assert top["name"] == "Big" and top["colour"] == legend.entries[-1][1]
    assert legend.title.endswith("(smoothed)") and "Residents: X." in legend.note
    tiny = next(f["properties"] for f in features if f["properties"]["name"] == "Tiny")
    assert "150 residents" in tiny["note"]  # the tooltip says why the rate is uncertain
    crude = mapview.build_map(areas, incidents.assign(geometry=None), options=replace(options, metric="crude_rate"))
    _, features = _features(crude, "Safe Neighbourhoods (incidents per 1,000 residents)")
    top = max(features, key=lambda f: float(f["properties"]["per_1000"]))["properties"]
    assert top["name"] == "Tiny" and top["colour"] == crude.legend[0].entries[-1][1]  # the choice is still there
    assert "crude" in crude.legend[0].title


def test_a_withheld_count_gets_no_rate_and_moves_no_other_rate():
    """A "<5" area has no rate, and the rates shown are the same whatever its hidden count is: it is left out
    of the smoothing, so no rate (with the populations) gives it back."""
    from pipelines.privacy.published import PublishedCounts

    areas, incidents = _town()
    shown = {}
    for hidden in (1, 2, 3, 4):
        counts = PublishedCounts(
            total=np.nan,
            total_shown="withheld",
            areas=pd.DataFrame(
                {
                    "kind": "neighbourhood",
                    "code": ["Tiny", "Big", "Mid", "Large"],
                    "count": [np.nan, 200.0, 30.0, 60.0],
                    "shown": ["<5", "200", "30", "60"],
                }
            ),
            cells=pd.DataFrame(columns=["cell", "count", "shown"]),
            resolution=9,
        )
        summary = mapview.area_summary(areas, incidents, kind="neighbourhood", counts=counts).set_index("code")
        assert np.isnan(summary.loc["Tiny", "rate"]) and np.isnan(summary.loc["Tiny", "crude_rate"])
        assert "no rate" in summary.loc["Tiny", "rate_note"].lower()
        shown[hidden] = summary["rate"].drop("Tiny").to_dict()
    assert all(rates == shown[1] for rates in shown.values())
    assert shown[1] != {"Big": 10.0, "Mid": 3.0, "Large": 4.0}  # smoothed, not the crude rates


@pytest.mark.parametrize(
    ("values", "decimals", "first", "expected"),
    [
        pytest.param([0, 0, 3, 7, 12, 44, 100, 423], 0, None, ["0–4", "5–9", "10–39", "40–99", "100+"], id="counts"),
        pytest.param([0, 3, 4, 8, 15, 30, 60], 0, 5, ["0–4", "5–14", "15–29", "30+"], id="suppressed-first-class"),
        pytest.param(
            [0.4, 1.2, 1.6, 2.9, 5.5, 7.1], 1, None, ["0.0–0.9", "1.0–1.4", "1.5–2.4", "2.5–4.9", "5.0+"], id="rates"
        ),
        pytest.param([0, 0], 0, None, ["0"], id="nothing"),
    ],
)
def test_legend_breaks_are_round_real_ranges(values, decimals, first, expected):
    lows = mapview.nice_breaks(values, decimals=decimals, first=first)
    assert mapview.class_labels(lows, decimals=decimals) == expected
    classes = mapview.class_of(values, lows, decimals=decimals)
    assert set(classes) == set(range(len(lows))) or len(lows) == 1  # every class holds data


def test_area_and_hexagon_legends_have_at_most_five_real_ranges():
    incidents = _incidents(3_000)
    result = mapview.build_map(_areas(), incidents, options=mapview.MapOptions(layers=("areas", "hexagons")))
    for section in result.legend:
        labels = [label for label, _ in section.entries]
        assert 1 <= len(labels) <= 5, section.title
        assert all(re.fullmatch(r"[\d,.]+(–[\d,.]+|\+)?", label) for label in labels), labels
        assert not any("≤" in label or ">" in label for label in labels)


def test_pick_map_is_local_and_marks_the_point():
    m = mapview.pick_map(_areas(), point=(18.61, -34.04))
    assert all(link.startswith("/app/static/vendor/") for link in mapview.asset_links(m))
    assert "[-34.04, 18.61]" in m.get_root().render()


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        pytest.param({"last_clicked": {"lat": -34.0591234567, "lng": 18.674}}, (18.674, -34.059123), id="click"),
        pytest.param({"last_clicked": None}, None, id="no-click"),
        pytest.param(None, None, id="nothing"),
    ],
)
def test_clicked_point(returned, expected):
    assert mapview.clicked_point(returned) == expected


def test_heat_layer_peaks_on_the_densest_cluster():
    """The heat layer is the kernel density surface: its strongest point sits on the planted cluster."""
    background = _incidents(2_000, seed=1)
    rng = np.random.default_rng(2)
    cluster = gpd.GeoDataFrame(
        background.iloc[:500].drop(columns="geometry"),
        geometry=gpd.points_from_xy(18.61 + rng.normal(0, 0.0005, 500), -34.04 + rng.normal(0, 0.0005, 500)),
        crs=4326,
    )
    incidents = pd.concat([background, cluster], ignore_index=True)
    result = mapview.build_map(_areas(), incidents, options=mapview.MapOptions(layers=("heat",)))
    heat = next(c for c in mapview.walk(result.map) if type(c).__name__ == "HeatMap")
    lat, lon, weight = max(heat.data, key=lambda row: row[2])
    assert weight == 1.0
    assert abs(lat + 34.04) < 0.002 and abs(lon - 18.61) < 0.002  # within ~200 m of the cluster centre


# --------------------------------------------------------------------------------------------------
# Hostile text and published counts
# --------------------------------------------------------------------------------------------------
XSS = "<img src=x onerror=alert(1)>"
TEMPLATE_INJECTION = "${alert(2)}`"


def test_uploaded_text_never_reaches_the_map_as_markup():
    areas = _areas().assign(name=[XSS, TEMPLATE_INJECTION])
    incidents = _incidents(3).assign(description=[XSS, None, "plain"])
    assets = gpd.GeoDataFrame(
        {"asset_id": ["a1"], "name": [XSS], "abcd_category": ["physical"], "type": [TEMPLATE_INJECTION]},
        geometry=[shapely.Point(18.61, -34.04)],
        crs=4326,
    )
    interventions = gpd.GeoDataFrame(
        {"intervention_id": ["i1"], "name": [XSS], "status": ["planned"], "lead": [TEMPLATE_INJECTION]},
        geometry=[shapely.Point(18.63, -34.04)],
        crs=4326,
    )
    options = mapview.MapOptions(layers=mapview.LAYERS)
    result = mapview.build_map(areas, incidents, assets=assets, interventions=interventions, options=options)
    page = result.map.get_root().render()
    assert "<img src=x" not in page and "${alert(2)}" not in page
    # escaped where folium inserts HTML, and where the assets' popups are filled in (their data is JSON)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page or "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
    assert "textContent = row[2]" in page  # incident popups are text, and their data is plain JSON
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page or '"<img' not in page
    picker = mapview.pick_map(areas, assets=assets, interventions=interventions).get_root().render()
    assert "<img src=x" not in picker and "${alert(2)}" not in picker


def test_safe_text():
    assert mapview.safe_text(XSS) == "&lt;img src=x onerror=alert(1)&gt;"
    assert mapview.safe_text(TEMPLATE_INJECTION) == "&#36;{alert(2)}&#96;"
    assert mapview.safe_text(None) == "" and mapview.safe_text(np.nan) == "" and mapview.safe_text(3) == "3"


def test_point_labels_carry_description_and_generalisation():
    frame = _incidents(2).assign(description=[XSS, None], generalised=[False, True])
    labels = mapview.point_labels(frame)
    assert labels.iloc[0].endswith("\n" + XSS)
    assert labels.iloc[1].endswith("Location generalised to its hexagon centre")


def test_map_draws_published_counts_for_suppressed_viewers():
    from pipelines.privacy import PublishedCounts

    counts = PublishedCounts(
        total=float("nan"),
        total_shown="<5",
        areas=pd.DataFrame({"kind": "neighbourhood", "code": ["A", "B"], "count": [np.nan, 0.0], "shown": ["<5", "0"]}),
        cells=pd.DataFrame({"cell": ["89ad361200bffff"], "count": [np.nan], "shown": ["<5"]}),
        resolution=9,
    )
    empty = _incidents(0)
    options = mapview.MapOptions(layers=("areas", "hexagons", "points", "heat"))
    result = mapview.build_map(_areas(), empty, counts=counts, options=options)
    summary = mapview.area_summary(_areas(), empty, kind="neighbourhood", counts=counts).set_index("code")
    assert summary.loc["A", "shown"] == "<5" and np.isnan(summary.loc["A", "rate"])  # no rate to divide back
    assert result.stats["hexagons"] == 1 and "points" not in result.stats and "heat_cells" not in result.stats
    assert '"count": "\\u003c5"' in result.map.get_root().render() or '"count": "<5"' in result.map.get_root().render()


def test_allowed_layers_by_viewer():
    from pipelines.privacy import PUBLIC, Viewer

    assert mapview.allowed_layers(Viewer("p", "planner")) == mapview.LAYERS
    assert "heat" not in mapview.allowed_layers(Viewer("c", "cso", "X"))
    assert "points" in mapview.allowed_layers(Viewer("c", "cso", "X"))
    assert not {"heat", "points"} & set(mapview.allowed_layers(PUBLIC))


def test_areas_outside_the_chosen_neighbourhood_say_so_instead_of_zero():
    """Filtered to Alpha, Beta was not counted: it shows its name and says why, not "0" (issue 18)."""
    alpha = _incidents(20).query("neighbourhood_code == 'A'")
    summary = mapview.area_summary(_areas(), alpha, kind="neighbourhood", counted_in="A").set_index("code")
    assert summary.loc["A", "shown"] == f"{len(alpha):,}" and not summary.loc["A", "outside"]
    assert summary.loc["B", "shown"] == mapview.OUTSIDE_WORDS and np.isnan(summary.loc["B", "count"])
    result = mapview.build_map(_areas(), alpha, counted_in="A", options=mapview.MapOptions(layers=("areas",)))
    html = result.map.get_root().render()
    assert mapview.OUTSIDE_WORDS in html and '"count": "0"' not in html
    assert "outside the chosen Safe Neighbourhood" in result.legend[0].note
    everywhere = mapview.area_summary(_areas(), _incidents(20), kind="neighbourhood").set_index("code")
    assert not everywhere["outside"].any()  # all areas: every count is real


def test_area_tooltips_wrap_and_an_outside_area_says_why_it_has_no_rate():
    """Leaflet's tooltips never wrap: "not counted: outside the chosen Safe Neighbourhood" ran off the map, and
    on a 390 px phone an area's name was cut; the map's own style lets them wrap within the screen. An area
    outside the chosen one said nothing at all on its rate row (issue 18's screenshot review)."""
    alpha = _incidents(20).query("neighbourhood_code == 'A'")
    for metric in ("count", "rate", "crude_rate"):
        options = mapview.MapOptions(layers=("areas",), metric=metric)
        result = mapview.build_map(_areas(), alpha, counted_in="A", options=options)
        header = result.map.get_root().header.render()
        style = re.search(r"\.leaflet-container \.leaflet-tooltip\{([^}]*)\}", header)
        assert style and "white-space:normal" in style.group(1) and "max-width:min(280px,80vw)" in style.group(1)
        layer = next(c for c in mapview.walk(result.map) if isinstance(c, folium.GeoJson))
        rows = {f["properties"]["name"]: f["properties"]["per_1000"] for f in layer.data["features"]}
        assert rows["Beta"] == "none: its incidents were not counted"  # in words, never a blank row
        assert rows["Alpha"] not in ("", "none: its incidents were not counted")


def test_area_names_are_drawn_as_escaped_text_and_read_back_by_short_reference():
    areas = _areas().assign(name=["Alpha <b>x</b>", "Beta"])
    result = mapview.build_map(areas, _incidents(10), options=mapview.MapOptions(layers=("areas",)))
    html = result.map.get_root().render()
    labels = [json.loads(f'"{text}"') for text in re.findall(r'L\.divIcon\(\{\s*"html": "((?:[^"\\]|\\.)*)"', html)]
    assert len(labels) == 2 and "areasafe-name" in html
    assert labels[0].endswith(">Alpha &lt;b&gt;x&lt;/b&gt;</div>")  # shown as text, never parsed
    assert "area:neighbourhood:A" not in html  # no area code on screen
    assert result.clicked("Area\tBeta\nRef\tarea:2") == ("area", "neighbourhood:B")


def _layer(result, name: str):
    return next(child for child in result.map._children.values() if getattr(child, "layer_name", None) == name)


def test_context_roads_are_read_and_converted_once_per_process():
    if mapview.load_context_roads() is None:
        pytest.skip("data/demo/context_roads.fgb is absent")
    options = mapview.MapOptions(layers=("roads",))
    first, second = (
        mapview.build_map(_areas(), _incidents(3), roads=mapview.load_context_roads(), options=options)
        for _ in range(2)
    )
    name = "Roads (offline context)"
    assert _layer(first, name).data is _layer(second, name).data  # one GeoJSON per extent, not one per page run
    plain = mapview.load_context_roads()
    plain.attrs.clear()  # any other frame of lines is converted as it comes, to the same lines
    third = mapview.build_map(_areas(), _incidents(3), roads=plain, options=options)
    assert _layer(third, name).data == _layer(first, name).data
    assert first.stats["road_lines"] == len(_layer(first, name).data["features"]) > 0


def test_context_roads_can_be_loaded_by_url_instead_of_carried_in_every_map(tmp_path):
    if mapview.load_context_roads() is None:
        pytest.skip("data/demo/context_roads.fgb is absent")
    roads = mapview.load_context_roads()
    inline = mapview.build_map(_areas(), _incidents(3), roads=roads, options=mapview.MapOptions(layers=("roads",)))
    options = mapview.MapOptions(layers=("roads",), roads_files=(str(tmp_path / "static"), "/app/static/x"))
    by_url = mapview.build_map(_areas(), _incidents(3), roads=roads, options=options)
    files = list((tmp_path / "static").glob("roads-*.geojson"))
    assert len(files) == 1  # written once, named by its content
    assert json.loads(files[0].read_text()) == _layer(inline, "Roads (offline context)").data  # the same lines
    page = by_url.map.get_root().render()
    assert f"/app/static/x/{files[0].name}" in page
    assert '"LineString"' not in page and "Roads (offline context)" in page  # in the layer list, not the map
    assert by_url.stats["road_lines"] == inline.stats["road_lines"] and by_url.legend == inline.legend
    assert len(page) < len(inline.map.get_root().render()) / 3


def test_assets_are_one_layer_with_their_icons_tooltips_and_popups():
    assets = gpd.GeoDataFrame(
        {
            "asset_id": [f"A-{i}" for i in range(40)],
            "name": [f"Asset {i}" for i in range(40)],
            "abcd_category": ["institutions", "physical"] * 20,
            "type": ["school", "park"] * 20,
        },
        geometry=[shapely.Point(18.6 + i / 1000, -34.04) for i in range(40)],
        crs=4326,
    )
    result = mapview.build_map(_areas(), _incidents(3), assets=assets, options=mapview.MapOptions(layers=("assets",)))
    elements = list(mapview.walk(result.map))
    assert not [e for e in elements if isinstance(e, folium.Marker)]  # no element (and template) per asset
    page = result.map.get_root().render()
    assert page.count("asset:A-") == 40 and "L.AwesomeMarkers.icon" in page and "bindTooltip" in page
    assert '"darkblue", "school"' in page and '"green", "tree"' in page  # each category's colour and icon
    assert result.stats["assets"] == 40
    assert mapview.parse_ref("Asset 3\ninstitutions · school\nasset:A-3") == ("asset", "A-3")


def test_a_group_of_assets_says_assets_not_a_bare_number():
    """A coloured bubble with a number on a safety map reads as a count of incidents: asset groups are
    labelled "N assets" (issue 18: the public map showed bubbles of 4, 5, 6 that were schools)."""
    assets = gpd.GeoDataFrame(
        {"asset_id": ["A-1", "A-2"], "name": ["School", "Park"], "abcd_category": ["institutions", "physical"]},
        geometry=[shapely.Point(18.6, -34.04), shapely.Point(18.601, -34.04)],
        crs=4326,
    ).assign(type=["school", "park"])
    result = mapview.build_map(_areas(), _incidents(3), assets=assets, options=mapview.MapOptions(layers=("assets",)))
    page = result.map.get_root().render()
    assert "iconCreateFunction" in page and "' assets</div>'" in page
    assets_legend = next(section for section in result.legend if section.title == "ABCD assets")
    assert "assets, not incidents" in assets_legend.note


def _drawn_counts(result, kind: str) -> dict[str, str]:
    """What the map shows per area (``kind="area"``, by code) or hexagon (``"hexagon"``, by H3 cell), read back
    from the drawn layers' popups through the map's references, as a click would read them."""
    drawn = {}
    for element in mapview.walk(result.map):
        data = getattr(element, "data", None)
        if not isinstance(data, dict):
            continue
        for feature in data.get("features", []):
            properties = feature.get("properties", {})
            ref = _hidden(properties["ref"]) if "ref" in properties else ""  # out of sight in the popup
            if ref.startswith(f"{kind}:") and "count" in properties:
                drawn[result.clicked(ref)[1]] = str(properties["count"])
    return drawn


@pytest.mark.parametrize("role", [None, "cso", "planner", "analyst"])
@pytest.mark.parametrize("area_kind", ["neighbourhood", "precinct"])
def test_the_maps_numbers_are_the_published_counts(demo_store, role, area_kind):
    """One counting path: every number the map shows for an area or a hexagon is the viewer's published count
    (:func:`pipelines.privacy.published_counts`), a suppressed one ("<5") staying suppressed, whether the
    page hands the map the published counts (suppressed viewers) or only the rows (the others)."""
    from tests._helpers import published_map

    viewer, published, rows, result = published_map(demo_store, role, area_kind=area_kind)
    areas = demo_store.read_areas()

    expected = published.area_counts(area_kind)
    shown = _drawn_counts(result, "area")
    assert shown == {f"{area_kind}:{code}": s for code, s in zip(expected["code"], expected["shown"], strict=True)}
    cells = _drawn_counts(result, "hexagon")
    assert cells == dict(zip(published.cells["cell"], published.cells["shown"], strict=True))
    assert cells and shown
    if viewer.suppressed and area_kind == "neighbourhood":
        hidden = expected.loc[expected["count"].isna(), "code"]
        assert len(hidden) and {shown[f"neighbourhood:{code}"] for code in hidden} == {"<5"}
        summary = mapview.area_summary(areas, rows, kind=area_kind, counts=published).set_index("code")
        assert summary.loc[hidden, "count"].isna().all() and summary.loc[hidden, "rate"].isna().all()


@pytest.mark.parametrize("threshold", [5, 10])
def test_the_legends_first_class_is_the_suppression_threshold(threshold):
    """A suppressed viewer's lowest class holds every hidden count, whatever the threshold is set to: the map
    reads it from the disclosure core, not a 5 of its own."""
    from pipelines import settings
    from pipelines.privacy import PublishedCounts

    counts = PublishedCounts(
        total=200.0,
        total_shown="200",
        areas=pd.DataFrame(
            {"kind": "neighbourhood", "code": ["A", "B"], "count": [np.nan, 150.0], "shown": ["<", "150"]}
        ),
        cells=pd.DataFrame(
            {"cell": ["89ad361200bffff", "89ad361200fffff"], "count": [np.nan, 40.0], "shown": ["<", "40"]}
        ),
        resolution=9,
    )
    with settings.override(min_published_count=threshold):
        result = mapview.build_map(
            _areas(), _incidents(0), counts=counts, options=mapview.MapOptions(layers=("areas", "hexagons"))
        )
    firsts = [section.entries[0][0] for section in result.legend if section.entries]
    assert len(firsts) == 2 and all(label == f"0–{threshold - 1}" for label in firsts), firsts
