"""The ACT review's parts, drawn: the pack buttons, the month's numbers, hot spots, interventions and reports.

Place in the data flow: show. Every table comes ready from :func:`pipelines.act.review.month_review` (the
agenda's items as the pack shows them); the small maps are the pack's, through ``dashboard.common``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import common, loaders, panels
from pipelines import privacy, views
from pipelines.act import pack, review
from pipelines.act.agenda import Agenda

if TYPE_CHECKING:
    import pandas as pd

PACKS = (("Pack PDF", False, "pdf"), ("Pack HTML", False, "html"), ("Public PDF", True, "pdf"))


def pack_buttons(agendas: dict, *, stem: str) -> None:
    """The meeting pack and the public pack, each written when its button is clicked."""
    for label, public, kind in PACKS:  # each button as wide as its label: "Pack …" in columns at 1280 px
        st.download_button(
            label, data=partial(pack.render, agendas[public], kind), file_name=f"{stem}{'-public' if public else ''}.{kind}",
            mime="application/pdf" if kind == "pdf" else "text/html", on_click="ignore", icon=":material/download:",
            width="content", help="Meeting pack of this month, written when you click (a second or two).",
        )  # fmt: skip


def item_map(agenda: Agenda, kind: str, *, filters: loaders.Filters, month: pd.Period) -> None:
    """The small map of the agenda's first item of ``kind``, when it has a place."""
    item = review.first_item(agenda, kind)
    if item is None:
        return
    png = loaders.item_map(filters.neighbourhood, month, item.key, include_partial=filters.include_partial)
    if png is not None:
        with st.container(key=f"map_act_{kind}"):
            st.image(png, width="stretch")


def review_month(shown: review.MonthReview, stats: privacy.ProfileStats) -> None:
    """The month's numbers and its counts by category."""
    numbers, by_category = st.columns([2, 3])
    with numbers:
        with st.container(horizontal=True):  # as wide as their words: in three columns the change was cut off
            st.metric(
                "Incidents", f"{shown.kpis.incidents:,}", width="content", **common.change_delta(shown.kpis.change)
            )
            panels.rate_metric(stats.rate_per_1000, width="content")  # the smoothed rate, as on the profile page
            st.metric("New community reports", f"{len(shown.reports):,}", width="content")
        if term := common.change_term(shown.kpis.change):
            common.explain(term)
    with by_category:
        st.header("By category")
        st.caption(shown.by_category.summary)
        panels.projector_table(shown.category_table, key="act_table_categories", height=320)
        if shown.by_category.caveats:
            with st.expander("Notes on these numbers"):
                for caveat in shown.by_category.caveats:
                    st.caption(caveat)


def review_hotspots(shown: review.MonthReview, hot: loaders.HotspotCells, viewer: privacy.Viewer) -> None:
    """The hot spots of the 12 months to the meeting, in words; "no hot spot" only when they could be found."""
    for message in hot.messages:
        st.warning(message)
    common.explain("Hot spot")
    st.caption(
        f"{hot.months[0]} to {hot.months[-1]}, every source and category: small hexagons compared with those "
        "around them, in the same classes as the map."
    )
    if len(shown.hotspots):
        panels.projector_table(views.first_column_as_index(shown.hotspots), key="act_table_hotspots")
        for title in shown.hotspot_titles:
            st.markdown(f"- **{title}**")
    elif hot.sufficient:
        st.success("No hot spot in this neighbourhood over the last 12 months.")
    else:  # the warning above says why; "no hot spot" would claim a finding the data cannot support
        st.info("Hot spots could not be looked for: there is too little data. This is not the same as no hot spot.")
    panels.hotspot_statistics(hot, viewer, n=8)


def review_interventions(shown: review.MonthReview) -> None:
    """The agenda's interventions needing attention (meeting mode and the pack show the same rows), across the
    page's whole width: on a 1280 px projector its seven columns beside the map were squeezed to a word a
    line. The page puts the map under it."""
    table = shown.interventions.table
    if len(table):
        st.caption(shown.interventions.summary)
        panels.projector_table(
            views.first_column_as_index(table), key="act_table_interventions", height=min(330, 60 + 75 * len(table))
        )
    else:
        st.success(shown.interventions.summary)


def review_reports(shown: review.MonthReview) -> None:
    """The month's community reports in date order, the first screenful (the download has them all)."""
    if len(shown.reports):  # an if statement: Streamlit's magic would write a conditional expression's value out
        panels.projector_table(
            shown.report_table, key="act_table_reports", height=min(520, 50 + 44 * len(shown.report_table))
        )
    else:
        st.caption("None this month.")
