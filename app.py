"""procure's app: ``streamlit run app.py`` opens the Plan page on the demo, already solved.

Pages (``procure/app/``, one module each): Data (upload, check, edit), Plan (solve and explore),
Nation view (one partner's side of the plan), Scenarios (what-if questions built without
Excel, kept in the scenario store), Compare (saved scenarios against a baseline), Fair shares
(Shapley, nucleolus, the core, the price of each rule). docs/app.md describes them.
"""

from __future__ import annotations

import streamlit as st


def main() -> None:
    from procure.app.shared import PAGE_FILES, current_workbook, guard

    st.set_page_config(page_title="procure", page_icon=":material/handshake:", layout="wide")
    pages = [
        st.Page(PAGE_FILES["data"], title="Data", icon=":material/table:"),
        st.Page(PAGE_FILES["plan"], title="Plan", icon=":material/account_tree:", default=True),
        st.Page(PAGE_FILES["nation"], title="Nation view", icon=":material/flag:",
                url_path="nation"),
        st.Page(PAGE_FILES["scenarios"], title="Scenarios", icon=":material/alt_route:"),
        st.Page(PAGE_FILES["compare"], title="Compare", icon=":material/compare_arrows:"),
        st.Page(PAGE_FILES["fair_shares"], title="Fair shares", icon=":material/balance:",
                url_path="fair-shares"),
    ]
    page = st.navigation(pages)
    current_workbook()  # a new session starts on the demo
    with guard(f"showing the {page.title} page"):
        page.run()
    with st.sidebar:  # after the page: it may have changed the workbook
        st.caption(f"Workbook: **{current_workbook().name}**")


# Streamlit runs this file as __main__; a worker process of the many-solve pool re-imports it
# as __mp_main__ (spawn) and must neither draw the app nor import it
if __name__ == "__main__":
    main()
