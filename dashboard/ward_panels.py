"""The ward page's parts, drawn: the ward's month in numbers, its trend, its tables, and the report downloads.

Place in the data flow: show. Everything comes ready from :func:`pipelines.ward.ward_view` (through the
disclosure core) and :func:`pipelines.wardreport.build_report`.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common
from pipelines import views, ward, wardreport
from pipelines.act import figures
from pipelines.periods import month_words
from pipelines.schemas import COLUMNS

WARD_TABLES = (
    ("Interventions in the ward", "interventions"),
    ("Budget by financial year", "budget"),
    ("Assets", "assets"),
    ("Open ACT actions (neighbourhoods this ward overlaps)", "actions"),
    ("Community reports this month", "reports"),
    ("SAPS crime statistics, shared out to the ward", "saps"),
    ("Police precincts the ward takes figures from", "precincts"),
)
REPORT_FORMATS = (("pdf", "application/pdf"), ("html", "text/html"), ("png", "image/png"))


def ward_headline(view: ward.WardView) -> None:
    """The ward's month in four numbers, how its figures were made, and what the rates mean."""
    st.header(view.title)
    st.caption(view.method)
    if view.public:
        st.caption(
            "Shown by the public rules: counts of 1 to 4 read <5, and counts that would give a few incidents away "
            "are withheld."
        )
    head, cols = view.headline, st.columns(4)
    cols[0].metric(f"Incidents in {month_words(view.month)}", head[COLUMNS.incidents])
    cols[1].metric("Per 1,000 residents (smoothed)", head["rate"])
    cols[2].metric("Whole area per 1,000 residents", head["city_rate"])
    cols[3].metric("Residents (estimate)", head["residents_count"], help=head["residents"])
    meaning = st.columns(2)
    common.explain("Smoothed rate (per 1,000 residents)", where=meaning[0])
    common.explain("Shared out to the ward", where=meaning[1])


def ward_trend(view: ward.WardView) -> None:
    """The ward's rate against the whole area's, month by month, and the numbers behind it."""
    chart = px.line(
        ward.trend_lines(view), x=COLUMNS.month, y="rate", color="where", markers=True,
        title="Incidents per 1,000 residents, per month",
    )  # fmt: skip
    st.plotly_chart(
        chart.update_layout(xaxis_title="Month", yaxis_title="per 1,000 residents", legend_title=""), width="stretch"
    )
    with st.expander("The numbers behind the chart"):
        st.dataframe(view.trend, hide_index=True, width="stretch")


def ward_details(view: ward.WardView) -> None:
    """Hot spots touching the ward beside its map, then its interventions, budget, assets, actions, reports and
    SAPS figures, and the notes on what was left out."""
    left, right = st.columns(2)
    left.subheader("Hot spots touching the ward")
    common.explain("Hot spot", where=left)
    left.table(views.first_column_as_index(view.hotspots))
    right.image(figures.neighbourhood_map(view.map_input), caption=f"{view.name}: hot spots, assets and interventions")
    for title, name in WARD_TABLES:
        st.subheader(title)
        table = getattr(view, name)
        if len(table):
            st.dataframe(table, hide_index=True, width="stretch")
        else:
            st.caption("Nothing recorded.")
    for note in view.notes:
        st.caption(note)


def report_downloads(report: wardreport.WardReport) -> None:
    """The councillor's report as PDF, HTML and a WhatsApp picture."""
    for place, (kind, mime) in zip(st.columns(3), REPORT_FORMATS, strict=True):
        place.download_button(
            f"Download {kind.upper()}",
            wardreport.render(report, kind),
            file_name=f"{report.file_stem}.{kind}",
            mime=mime,
        )
