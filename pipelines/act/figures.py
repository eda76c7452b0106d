"""The meeting pack's figures: the neighbourhood map and the trend charts, drawn with matplotlib.

Place in the data flow: show. Each function takes an :class:`~pipelines.act.agenda.Agenda` and returns PNG
bytes; no browser, no tiles, no network. Everything must read on a black-and-white printout, so nothing is
told apart by colour alone: hot spots by grey level *and* hatching, assets by marker shape, interventions
by marker, line style or hatching, trend lines by line style and marker. Text is at least 9 pt at the
printed size (figures are drawn at the size they are placed in the pack).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # no display, no browser: files only

import matplotlib.patheffects as path_effects  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from pipelines.act.agenda import Agenda, AgendaItem  # noqa: E402
from pipelines.hotspots.coverage import WALKING_DISTANCE_M  # noqa: E402
from pipelines.hotspots.emerging import HOTSPOT_CLASSES, hotspot_classes  # noqa: E402
from pipelines.hotspots.months import first_data_month  # noqa: E402
from pipelines.periods import local_months  # noqa: E402
from pipelines.privacy import suppress  # noqa: E402
from pipelines.schemas import ABCD_CATEGORIES, COLUMNS  # noqa: E402
from pipelines.views import monthly_trend  # noqa: E402

FONT_PT = 9.5
DPI = 200
#: Marker per ABCD asset category: shape alone tells them apart in black and white.
ASSET_MARKERS = dict(zip(ABCD_CATEGORIES, ("o", "^", "s", "D", "v", "P"), strict=True))
#: The map's hot-spot classes (:data:`pipelines.hotspots.emerging.HOTSPOT_CLASSES`, the web map's words) in
#: print: a grey fill and a hatching each, so they tell apart in black and white. "No pattern" is not drawn.
HOT_STYLES = {
    "new": ("0.35", "////"),
    "worse": ("0.15", "xxxx"),
    "persistent": ("0.6", "\\\\"),
    "fading": ("0.85", ".."),
    "cold": ("1.0", "--"),
}
LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))
TREND_MARKERS = ("o", "s", "^", "D", "v", "x", "P")
TREND_MONTHS = 24
STYLE = {
    "text.parse_math": False,  # names are text: "$...$" in a name is not a formula (it failed the drawing)
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT + 1.5,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "legend.fontsize": FONT_PT,
    "hatch.linewidth": 0.6,
    "font.family": "DejaVu Sans",
    "svg.fonttype": "none",
}


def intervention_labels(interventions: pd.DataFrame) -> dict[str, str]:
    """``intervention_id`` -> ``I1``, ``I2``... in name order: the map and the interventions table share them."""
    ordered = interventions.sort_values(COLUMNS.name)[COLUMNS.intervention_id]
    return {iid: f"I{i}" for i, iid in enumerate(ordered, start=1)}


@dataclass(frozen=True)
class MapFigure:
    """What a printed map shows: the one renderer behind the pack's map and the dashboard's map image.

    Attributes
    ----------
    area : geopandas.GeoDataFrame
        The area(s) in view, outlined; everything outside is greyed.
    area_label : str
        The outline's legend entry ("Harare boundary").
    metric_crs : str or pyproj.CRS
        A metric CRS to draw in (metres for the scale bar).
    hotspots : geopandas.GeoDataFrame or None
        Hot-spot cells with ``hotspot_class`` (or ``gi_bin`` and ``emerging``), drawn by class.
    sufficient : bool
        Whether hot spots could be looked for at all (:func:`hotspot_classes`).
    groups : geopandas.GeoDataFrame or None
        The agenda's hot spots (``label`` H1..., geometry), outlined and labelled.
    hexagons : geopandas.GeoDataFrame or None
        Incident counts per hexagon as the viewer may see them: ``label`` (the class, "5–9") and ``grey``.
    assets, interventions : geopandas.GeoDataFrame or None
        Drawn by ABCD category (marker shape) and by geometry kind; ``intervention_labels`` names them I1....
    title, note : str
        A heading above the map and a line under the legend (the period, what was hidden and why).
    """

    area: gpd.GeoDataFrame
    area_label: str
    metric_crs: object
    hotspots: gpd.GeoDataFrame | None = None
    sufficient: bool = True
    groups: gpd.GeoDataFrame | None = None
    hexagons: gpd.GeoDataFrame | None = None
    hexagon_title: str = "Incidents per hexagon"
    assets: gpd.GeoDataFrame | None = None
    interventions: gpd.GeoDataFrame | None = None
    intervention_labels: dict[str, str] = field(default_factory=dict)
    title: str = ""
    note: str = ""


def neighbourhood_map(
    agenda: Agenda,
    *,
    roads_path: str | Path | None = None,
    width_in: float = 7.0,
    height_in: float = 7.6,
    focus: gpd.GeoSeries | None = None,
    dpi: int = DPI,
) -> bytes:
    """The neighbourhood with its hot spots by class (as the web map names them), the agenda's hot spots
    (H1...), assets and interventions (I1...).

    ``roads_path`` is the offline road file (default ``data/demo/context_roads.fgb``); roads are left out
    when it is absent. ``focus`` (a geometry series) zooms the view to it and the walking distance
    around it (meeting mode's map of one hot spot); the legend takes as many rows as it needs.
    """
    context = agenda.context
    figure = MapFigure(
        area=context.area,
        area_label=f"{context.name} boundary",
        metric_crs=context.hotspots.grid.metric_crs,
        hotspots=context.hotspots.cells,
        sufficient=bool(context.hotspots.hotspots.sufficient),
        groups=agenda.hotspot_groups,
        assets=context.assets,
        interventions=context.interventions,
        intervention_labels=intervention_labels(context.neighbourhood_interventions),
    )
    return map_png(figure, roads_path=roads_path, width_in=width_in, height_in=height_in, focus=focus, dpi=dpi)


def map_png(
    figure: MapFigure,
    *,
    roads_path: str | Path | None = None,
    width_in: float = 7.0,
    height_in: float = 7.6,
    focus: gpd.GeoSeries | None = None,
    dpi: int = DPI,
) -> bytes:
    """``figure`` drawn offline (no tiles, no network) as a PNG with its legend below the map, readable in
    black and white: the meeting pack's map and the dashboard's map image. ``focus`` (a geometry series)
    zooms the view to it and the walking distance around it; the legend takes as many rows as it needs."""
    crs = figure.metric_crs
    area = figure.area.to_crs(crs)
    view, pad = _map_view(area, focus, crs)
    top = 0.93 if figure.title else 0.99

    with plt.rc_context(STYLE):
        fig, ax, legend_ax = _map_axes(figure.title, view, width_in=width_in, height_in=height_in, dpi=dpi, top=top)
        handles: list = []
        _draw_roads(ax, handles, roads_path, view, crs)
        _draw_hexagons(ax, handles, figure, crs)
        _draw_hotspot_cells(ax, handles, figure, crs)
        _draw_area(ax, handles, figure, area, pad, crs)
        _draw_groups(ax, handles, figure.groups, crs)
        _draw_assets(ax, handles, figure.assets, view, crs)
        _draw_interventions(ax, handles, figure, view, crs)
        _scale_bar(ax, view)
        _north_arrow(ax)
        ax.set_xlabel("")
        ax.set_ylabel("")
        _place_legend(ax, legend_ax, handles, figure.note, width_in=width_in, height_in=height_in, top=top)
        return png_bytes(fig, dpi)


def _map_view(
    area: gpd.GeoDataFrame, focus: gpd.GeoSeries | None, crs: object
) -> tuple[tuple[float, float, float, float], float]:
    """The map's extent in ``crs`` (the focus and the walking distance around it, or the padded area) and
    the padding it added."""
    if focus is not None and len(focus):
        minx, miny, maxx, maxy = focus.to_crs(crs).total_bounds
        pad = WALKING_DISTANCE_M + 100  # the nearest assets the item lists are within walking distance
    else:
        minx, miny, maxx, maxy = area.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.08 + 150
    return (minx - pad, miny - pad, maxx + pad, maxy + pad), pad


def _map_axes(title: str, view: tuple, *, width_in: float, height_in: float, dpi: int, top: float) -> tuple:
    """The figure, its map axes (set to ``view``, no ticks) and the legend axes below, with the title."""
    fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes((0.01, 0.22, 0.98, top - 0.22))
    legend_ax = fig.add_axes((0.01, 0.0, 0.98, 0.2))
    legend_ax.axis("off")
    if title:
        fig.text(0.5, 0.965, title, ha="center", va="center", fontsize=FONT_PT + 2.5, fontweight="bold")
    ax.set_xlim(view[0], view[2])
    ax.set_ylim(view[1], view[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig, ax, legend_ax


def _draw_roads(ax, handles: list, roads_path: str | Path | None, view: tuple, crs: object) -> None:
    """The offline context roads in the view (left out when the road file is absent)."""
    from pipelines.mapview import CONTEXT_ROADS_PATH, load_context_roads

    lonlat = gpd.GeoSeries(gpd.points_from_xy(view[::2], view[1::2]), crs=crs).to_crs(4326)
    bbox = (lonlat.x.min(), lonlat.y.min(), lonlat.x.max(), lonlat.y.max())
    roads = load_context_roads(roads_path or CONTEXT_ROADS_PATH, bbox=bbox)
    if roads is not None and len(roads):
        roads.to_crs(crs).plot(ax=ax, color="0.72", linewidth=0.5, zorder=1)
        handles.append(Line2D([], [], color="0.72", linewidth=0.8, label="Roads"))


def _draw_hexagons(ax, handles: list, figure: MapFigure, crs: object) -> None:
    """The incident counts per hexagon, one grey per class."""
    hexagons = figure.hexagons
    if hexagons is None or not len(hexagons):
        return
    hexagons = hexagons.to_crs(crs)
    for label, chosen in hexagons.groupby("label", sort=False):
        grey = chosen["grey"].iloc[0]
        chosen.plot(ax=ax, facecolor=grey, edgecolor="0.45", linewidth=0.3, zorder=2)
        handles.append(Patch(facecolor=grey, edgecolor="0.45", label=f"{figure.hexagon_title}: {label}"))


def _draw_hotspot_cells(ax, handles: list, figure: MapFigure, crs: object) -> None:
    """The hot-spot cells by class, each a grey and a hatching (:data:`HOT_STYLES`)."""
    cells = figure.hotspots
    if cells is None or not len(cells):
        return
    classes = (
        cells["hotspot_class"]
        if "hotspot_class" in cells
        else hotspot_classes(cells["gi_bin"], cells["emerging"], sufficient=figure.sufficient)
    )
    cells = cells.assign(hotspot_class=np.asarray(classes)).to_crs(crs)
    for kind in HOTSPOT_CLASSES:
        chosen = cells[cells["hotspot_class"] == kind.key]
        if kind.key in HOT_STYLES and len(chosen):
            grey, hatch = HOT_STYLES[kind.key]
            chosen.plot(ax=ax, facecolor=grey, edgecolor="0.3", hatch=hatch, linewidth=0.3, zorder=2)
            label = "Cold spot (may be under-reporting)" if kind.key == "cold" else kind.label
            handles.append(Patch(facecolor=grey, edgecolor="0.3", hatch=hatch, label=label))


def _draw_area(ax, handles: list, figure: MapFigure, area: gpd.GeoDataFrame, pad: float, crs: object) -> None:
    """The area's outline, with everything outside it greyed."""
    shape = area.geometry.union_all()
    outside = shape.envelope.buffer(pad * 3).difference(shape)
    gpd.GeoSeries([outside], crs=crs).plot(ax=ax, facecolor="white", alpha=0.55, edgecolor="none", zorder=3)
    area.boundary.plot(ax=ax, color="black", linewidth=2.2 if len(area) == 1 else 1.0, zorder=4)
    handles.append(Line2D([], [], color="black", linewidth=2.2 if len(area) == 1 else 1.0, label=figure.area_label))


def _draw_groups(ax, handles: list, groups: gpd.GeoDataFrame | None, crs: object) -> None:
    """The agenda's hot spots, outlined dashed and labelled H1...."""
    if groups is None or not len(groups):
        return
    groups = groups.to_crs(crs)
    for row in groups.itertuples():
        gpd.GeoSeries([row.geometry], crs=crs).boundary.plot(
            ax=ax, color="black", linewidth=2.6, linestyle=(0, (4, 2)), zorder=5
        )
        x, y = row.geometry.centroid.x, row.geometry.centroid.y
        ax.annotate(
            row.label,
            (x, y),
            xytext=(-46, 34),
            textcoords="offset points",
            ha="center",
            va="center",
            arrowprops={"arrowstyle": "-", "color": "black", "linewidth": 1.2},
            fontsize=FONT_PT + 3,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "black", "linewidth": 1.2},
            zorder=9,
        )
    handles.append(
        Line2D(
            [],
            [],
            color="black",
            linewidth=2.6,
            linestyle=(0, (4, 2)),
            label="Agenda hot spot (H1...)",
        )
    )


def _draw_assets(ax, handles: list, assets: gpd.GeoDataFrame | None, view: tuple, crs: object) -> None:
    """The assets in view, one marker shape per ABCD category (:data:`ASSET_MARKERS`)."""
    if assets is None or not len(assets):
        return
    in_view = _in_view(assets.to_crs(crs), view)
    for category, marker in ASSET_MARKERS.items():
        chosen = in_view[in_view[COLUMNS.abcd_category] == category]
        if len(chosen):
            ax.scatter(
                chosen.geometry.x,
                chosen.geometry.y,
                marker=marker,
                s=34,
                facecolor="white",
                edgecolor="black",
                linewidth=1.0,
                zorder=6,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    linestyle="",
                    markersize=6,
                    markerfacecolor="white",
                    markeredgecolor="black",
                    label=f"Asset: {category}",
                )
            )


def _draw_interventions(ax, handles: list, figure: MapFigure, view: tuple, crs: object) -> None:
    """The interventions in view by geometry kind (star, dash-dot route, hatched area), labelled I1...,
    with a legend entry for each kind drawn."""
    kinds = set()
    if figure.interventions is not None and len(figure.interventions):
        interventions = _in_view(figure.interventions.to_crs(crs), view)
        for row in interventions.itertuples():
            kinds.add(_draw_intervention(ax, row.geometry, figure.intervention_labels.get(row.intervention_id), crs))
    for kind, handle in (
        (
            "Point",
            Line2D([], [], marker="*", linestyle="", markersize=11, color="black", label="Intervention (point)"),
        ),
        ("LineString", Line2D([], [], color="black", linewidth=2.4, linestyle="-.", label="Intervention (route)")),
        ("Polygon", Patch(facecolor="none", edgecolor="black", hatch="xx", label="Intervention (area)")),
    ):
        if kind in kinds:
            handles.append(handle)


def _draw_intervention(ax, geom, label: str | None, crs: object) -> str:
    """One intervention drawn by its geometry kind and labelled; returns the kind (``Point``, ``LineString``
    or ``Polygon``)."""
    kind = geom.geom_type.removeprefix("Multi")
    if kind == "Point":
        ax.scatter([geom.x], [geom.y], marker="*", s=170, facecolor="black", edgecolor="white", zorder=7)
    elif kind == "LineString":
        gpd.GeoSeries([geom], crs=crs).plot(ax=ax, color="black", linewidth=2.4, linestyle="-.", zorder=7)
    else:
        gpd.GeoSeries([geom], crs=crs).plot(
            ax=ax, facecolor="none", edgecolor="black", hatch="xx", linewidth=1.4, zorder=7
        )
    if label:
        anchor = geom.representative_point() if kind != "Point" else geom
        text = ax.annotate(
            label,
            (anchor.x, anchor.y),
            xytext=(7, 7),
            textcoords="offset points",
            fontsize=FONT_PT + 1,
            fontweight="bold",
            zorder=9,
        )
        text.set_path_effects([path_effects.withStroke(linewidth=3, foreground="white")])
    return kind


def _north_arrow(ax) -> None:
    """The north arrow in the map's lower right corner."""
    ax.annotate(
        "N",
        xy=(0.95, 0.16),
        xytext=(0.95, 0.05),
        xycoords="axes fraction",
        ha="center",
        fontsize=FONT_PT + 3,
        fontweight="bold",
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5},
        zorder=10,
    )


def _place_legend(ax, legend_ax, handles: list, note: str, *, width_in: float, height_in: float, top: float) -> None:
    """The legend (and the note under it) below the map, given as many rows as it needs and no blank band."""
    ncols = 3 if width_in >= 6 else 2
    rows = -(-len(handles) // ncols)
    note_rows = 2 if note else 0
    share = min(0.4, ((rows + note_rows) * FONT_PT * 1.5 / 72 + 0.1) / height_in)  # no blank band
    ax.set_position((0.01, share + 0.01, 0.98, top - share - 0.01))
    legend_ax.set_position((0.01, 0.0, 0.98, share))
    legend_ax.legend(handles=handles, loc="upper center", ncols=ncols, frameon=False, handlelength=2.4, borderaxespad=0)
    if note:
        legend_ax.text(0.5, 0.02, note, ha="center", va="bottom", fontsize=FONT_PT - 1, wrap=True)


#: Agenda item kinds that are about places, each drawn on its own small map in meeting mode: a hot spot
#: (zoomed to it), the interventions (labelled I1... as in the item's table) and the counts of the area.
MAPPED_KINDS = ("hotspot", "interventions", "counts")


def item_map(
    agenda: Agenda,
    item: AgendaItem,
    *,
    roads_path: str | Path | None = None,
    width_in: float = 4.4,
    height_in: float = 4.6,
    dpi: int = 150,
) -> bytes | None:
    """The small map of one agenda item (meeting mode, ACT review), drawn as the pack draws its map from the
    agenda, which holds only what its viewer may see; ``None`` for an item with no place
    (:data:`MAPPED_KINDS`). A hot spot's map is zoomed to the hot spot, the interventions' map to those the
    item lists, each with the walking distance around it; the counts' map shows the whole neighbourhood."""
    if item.kind not in MAPPED_KINDS:
        return None
    focus = None
    groups = agenda.hotspot_groups
    if item.kind == "hotspot" and len(groups):
        focus = groups[groups["label"] == item.key.removeprefix("hotspot-")].geometry
    elif item.kind == "interventions" and "intervention" in item.table:
        listed = agenda.context.neighbourhood_interventions
        focus = listed[listed[COLUMNS.name].isin(item.table["intervention"])].geometry
    return neighbourhood_map(
        agenda, roads_path=roads_path, width_in=width_in, height_in=height_in, focus=focus, dpi=dpi
    )


def missing_before(values: pd.Series, began: pd.Period | None) -> pd.Series:
    """A monthly series (indexed by month) with the months before the data ``began`` as missing, not 0
    (:func:`pipelines.hotspots.months.first_data_month`): a line that starts at zero reads as a rise."""
    if began is None:
        return values.where(pd.Series(False, index=values.index))
    return values.where(pd.PeriodIndex(values.index, freq="M") >= began)


def trend_chart(agenda: Agenda, *, public: bool = False, width_in: float = 7.0, height_in: float = 6.4) -> bytes:
    """Monthly incidents over the :data:`TREND_MONTHS` months to the meeting month.

    Top panel: all incidents by source (municipal records, community reports). Bottom panel (not in the
    public pack, where categories could single out small or sensitive counts): the five most frequent
    categories. In the public pack months with 1-4 incidents are not drawn (rule 2 of
    :mod:`pipelines.privacy.public`).
    """
    context = agenda.context
    months = pd.period_range(end=context.month, periods=TREND_MONTHS, freq="M")
    incidents = context.incidents
    began = first_data_month(incidents)  # months before it have no data: not drawn, never drawn as 0
    local = local_months(incidents[COLUMNS.occurred_at]) if len(incidents) else pd.Series(dtype="period[M]")
    window = incidents[local.isin(months).to_numpy()]
    with plt.rc_context(STYLE):
        panels = 1 if public else 2
        fig, axes = plt.subplots(panels, 1, figsize=(width_in, height_in if panels == 2 else height_in * 0.55), dpi=DPI)
        axes = np.atleast_1d(axes)
        x = months.to_timestamp()
        by_source = pd.crosstab(local[local.isin(months)], window[COLUMNS.source]).reindex(months, fill_value=0)
        for i, (source, label) in enumerate((("municipal", "Municipal records"), ("community", "Community reports"))):
            values = by_source[source].astype(float) if source in by_source else pd.Series(0.0, index=months)
            values = missing_before(values, began)
            if public:
                values = values.where(~suppress.is_small(values.to_numpy()))
            axes[0].plot(
                x,
                values.to_numpy(),
                linestyle=LINE_STYLES[i],
                marker=TREND_MARKERS[i],
                markersize=4,
                markerfacecolor="white" if i else "black",
                color="black",
                linewidth=1.4,
                label=label,
            )
        axes[0].set_title("Incidents per month by source")
        month_axis(axes[0], x, context.month)
        note = f" Months with 1-{suppress.threshold() - 1} incidents are not drawn." if public else ""
        axes[0].text(0, -0.3, f"Local calendar months.{note}", transform=axes[0].transAxes, fontsize=FONT_PT)
        if not public:
            trend = monthly_trend(window, top=5)
            trend = trend[trend[COLUMNS.category] != "Other"]
            for i, (category, group) in enumerate(trend.groupby(COLUMNS.category, sort=False)):
                series = group.set_index(COLUMNS.month)[COLUMNS.count].reindex(x, fill_value=0).astype(float)
                series = missing_before(series.set_axis(months), began)
                axes[1].plot(
                    x,
                    series.to_numpy(),
                    linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                    marker=TREND_MARKERS[i % len(TREND_MARKERS)],
                    markersize=4,
                    markerfacecolor="white",
                    color="black" if i % 2 == 0 else "0.35",
                    linewidth=1.2,
                    label=_short(category),
                )
            axes[1].set_title("Five most frequent categories")
            month_axis(axes[1], x, context.month)
        fig.tight_layout(h_pad=2.5)
        return png_bytes(fig)


def month_axis(ax, x: pd.DatetimeIndex, month: pd.Period) -> None:
    """The trend charts' month axis: incidents from 0, a tick every third month, the meeting month marked
    (the pack's and the ward report's charts)."""
    ax.set_ylabel("incidents")
    ax.set_ylim(bottom=0)
    ticks = x[::3]
    ax.set_xticks(ticks)
    ax.set_xticklabels([t.strftime("%b\n%Y") for t in ticks])
    ax.axvline(month.to_timestamp(), color="0.4", linestyle=":", linewidth=1)
    ax.grid(axis="y", color="0.85", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, loc="upper left")


def _scale_bar(ax, view: tuple[float, float, float, float]) -> None:
    width = view[2] - view[0]
    length = next(v for v in (2000, 1000, 500, 250, 100) if v <= width / 4)
    x0, y0 = view[0] + width * 0.04, view[1] + (view[3] - view[1]) * 0.04
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    text = ax.text(x0 + length / 2, y0 + width * 0.012, f"{length:g} m", ha="center", va="bottom", zorder=9)
    text.set_path_effects([path_effects.withStroke(linewidth=3, foreground="white")])


def _in_view(frame: gpd.GeoDataFrame, view: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    if not len(frame):
        return frame
    usable = frame[~(frame.geometry.is_empty | frame.geometry.isna())]
    return usable.cx[view[0] : view[2], view[1] : view[3]]


def _short(text: str, n: int = 42) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def png_bytes(fig, dpi: int = DPI) -> bytes:
    """A matplotlib figure as PNG bytes on white, closed after: every figure of the pack and the ward report."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    plt.close(fig)
    return buffer.getvalue()
