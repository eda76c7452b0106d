"""ACT meeting review: one neighbourhood, one month, large type for the projector."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from dashboard import common
from pipelines import views
from pipelines.act import pack

# Projector mode: larger type and high-contrast tables; nothing else on the page. Streamlit puts the
# heading text in a <span class="st-emotion-cache-...">, which the `[class*='st-']` rule would shrink
# to body size whatever size the <h1> has: the spans inherit the heading's size instead.
st.markdown(
    "<style>html, body, [class*='st-'] {font-size: 1.25rem;} [data-testid='stMetricValue'] {font-size: 3rem;}"
    " [data-testid='stMain'] [data-testid='stHeading'] h1 {font-size: 3.2rem; font-weight: 800; color: #000;"
    " line-height: 1.15;} [data-testid='stMain'] [data-testid='stHeading'] h2 {font-size: 2rem; color: #000;}"
    " [data-testid='stHeading'] h1 span, [data-testid='stHeading'] h2 span {font-size: inherit;}"
    " [data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 1.2rem; color: #000;}</style>",
    unsafe_allow_html=True,
)
common.require("act_review")
filters = common.sidebar()
incidents, months = common.neighbourhood_incidents(filters)
month = st.selectbox("Meeting month", months, key="act_month", format_func=str)
name = common.areas().set_index("code")["name"].get(filters.neighbourhood)
st.title(f"ACT review: {name}, {month}")
agendas = {public: common.agenda(filters.neighbourhood, month, public=public) for public in (False, True)}
stem = f"meeting-pack-{filters.neighbourhood}-{month}"
PACKS = (
    ("Pack PDF", False, "pdf"),
    ("Pack HTML", False, "html"),
    ("Public PDF", True, "pdf"),
)
packs = st.columns([1, 1, 1, 2], vertical_alignment="center")
for col, (label, public, kind) in zip(packs, PACKS, strict=False):
    col.download_button(
        label, data=partial(pack.render, agendas[public], kind), file_name=f"{stem}{'-public' if public else ''}.{kind}",
        mime="application/pdf" if kind == "pdf" else "text/html", on_click="ignore", icon=":material/download:",
    )  # fmt: skip
packs[3].caption("Meeting pack of this month, written when you click (a second or two).")

kpis = views.profile_kpis(incidents, month=month, population=filters.population)
cols = st.columns(3)
cols[0].metric("Incidents", f"{kpis.incidents:,}", **common.change_delta(kpis.change))
cols[1].metric("Per 1,000 residents", "n/a" if kpis.rate_per_1000 is None else f"{kpis.rate_per_1000:.2f}")
reports = views.new_community_reports(incidents, month=month)
cols[2].metric("New community reports", f"{len(reports):,}")
if term := common.change_term(kpis.change):
    common.explain(term)

st.header("By category")
counts = next(item for item in agendas[False].items if item.kind == "counts")  # the agenda's one reading
section = pack.agenda_section("", counts, agendas[False])
st.caption(section.summary)
st.table(section.table.head(11).set_index(section.table.columns[0]))
for caveat in section.caveats:
    st.caption(caveat)
st.header("Hot spots: new and persisting")
hot = common.hotspots(filters.neighbourhood, months=12, until=month)
for message in hot.messages:
    st.warning(message)
common.explain("Hot spot")
statistics = common.viewer().may("statistics")
hot_cells = views.top_hotspots(hot.cells, n=8, statistics=statistics)
st.caption(
    f"Hot spots over {pd.Period(hot.months[0], 'M'):%B %Y} to {pd.Period(hot.months[-1], 'M'):%B %Y}, from every "
    "source and kind of incident. "
    "'What the words mean' explains each kind."
)
if len(hot_cells):
    st.table(hot_cells.set_index("Kind of hot spot"))
elif hot.sufficient:
    st.success("No hot spot in this neighbourhood over the last 12 months.")
else:  # the warning above says why; "no hot spot" would claim a finding the data cannot support
    st.info("Hot spots could not be looked for: there is too little data. This is not the same as no hot spot.")
st.header("Interventions needing attention")
review = views.intervention_review(
    common.table("interventions").query("neighbourhood_code == @filters.neighbourhood"),
    common.table("intervention_log"),
    month=month,
)
if len(review):
    st.table(views.register_table(review).set_index("Name"))
else:
    st.success("No intervention changed status, is overdue or stalled.")
st.header("Community reports this month")
if len(reports):  # an if statement: Streamlit's magic would write a conditional expression's value out
    st.table(views.register_table(reports.head(15)))
else:
    st.caption("None this month.")
