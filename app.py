"""procure's app: ``streamlit run app.py`` opens the Plan page on the demo, already solved.

Pages (``procure/app/``, one module each): Data (upload, check, edit), Plan (solve and explore),
Nation view (one partner's side of the plan), Scenarios (what-if questions built without
Excel, kept in the scenario store), Compare (saved scenarios against a baseline). docs/app.md
describes them.
"""

from __future__ import annotations

import streamlit as st

from procure.app.shared import PAGE_FILES, current_workbook, guard

st.set_page_config(page_title="procure", page_icon=":material/handshake:", layout="wide")

pages = [
    st.Page(PAGE_FILES["data"], title="Data", icon=":material/table:"),
    st.Page(PAGE_FILES["plan"], title="Plan", icon=":material/account_tree:", default=True),
    st.Page(PAGE_FILES["nation"], title="Nation view", icon=":material/flag:", url_path="nation"),
    st.Page(PAGE_FILES["scenarios"], title="Scenarios", icon=":material/alt_route:"),
    st.Page(PAGE_FILES["compare"], title="Compare", icon=":material/compare_arrows:"),
]
page = st.navigation(pages)
current_workbook()  # a new session starts on the demo
with guard(f"showing the {page.title} page"):
    page.run()
with st.sidebar:  # after the page: it may have changed the workbook
    st.caption(f"Workbook: **{current_workbook().name}**")
