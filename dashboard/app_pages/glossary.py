"""What the words mean: the glossary an ACT member reads before (or during) a meeting.

The entries are ``pipelines.glossary.entries()``, the same sentences the pages and the meeting pack use.
"""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import glossary

common.require("glossary")
st.title("What the words mean")
st.caption("The words AreaSafe uses for its numbers, on every page and in the meeting pack.")
for entry in glossary.entries():
    st.subheader(entry.term)
    st.write(entry.means)
    with st.expander("How we know"):
        st.write(entry.how_we_know)
