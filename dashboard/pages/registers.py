"""Registers: the ABCD asset register and the intervention register (read-only for now)."""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines.schemas import ABCD_CATEGORIES, INTERVENTION_STATUSES

st.title("Registers")
st.caption("Load or update registers with `areasafe ingest assets|interventions`; editing here is not built yet.")
assets_tab, interventions_tab = st.tabs(["ABCD assets", "Interventions"])

with assets_tab:
    assets = common.table("assets")
    kinds = st.multiselect("ABCD category", ABCD_CATEGORIES, key="r_abcd", placeholder="All categories")
    shown = assets[assets["abcd_category"].isin(kinds)] if kinds else assets
    st.metric("Assets", f"{len(shown):,}")
    st.dataframe(shown.drop(columns="geometry"), hide_index=True, use_container_width=True)

with interventions_tab:
    interventions = common.table("interventions")
    statuses = st.multiselect("Status", INTERVENTION_STATUSES, key="r_status", placeholder="All statuses")
    shown = interventions[interventions["status"].isin(statuses)] if statuses else interventions
    st.metric("Interventions", f"{len(shown):,}")
    st.dataframe(shown.drop(columns="geometry"), hide_index=True, use_container_width=True)
    st.subheader("Status history")
    st.dataframe(common.table("intervention_log"), hide_index=True, use_container_width=True)
