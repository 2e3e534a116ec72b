"""Resilience panels: the stress test on the Plan page, and on the Nation view the suppliers
whose loss would hurt that nation most.

The stress test re-plans once per supplier (procure.analysis.security.stress_test), so it
runs when asked, not on the page's first render; its result is cached per workbook content
and options and shared by both panels.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from procure.app import shared
from procure.charts import security as charts

RUN_KEY = "procure_stress_runs"


@st.cache_data(show_spinner=False, max_entries=8)
def _stress(key: str, time_limit: float | None, mip_gap: float, diagnose: bool, _data):
    from procure.analysis.security import stress_test

    return stress_test(_data, countries=True, time_limit=time_limit, mip_gap=mip_gap,
                       diagnose=diagnose)


def _run_key(wb: shared.Workbook, options: shared.SolveOptions, diagnose: bool) -> tuple:
    return (wb.fingerprint, options.time_limit, options.mip_gap, diagnose)


def stress_result(wb: shared.Workbook, options: shared.SolveOptions, diagnose: bool):
    """The stress test of the session's workbook (computed once per content and options)."""
    runs = st.session_state.setdefault(RUN_KEY, set())
    runs.add(_run_key(wb, options, diagnose))
    n = wb.data.offers["supplier"].nunique()
    with st.spinner(f"Re-planning without each of the {n} suppliers ...", show_time=True):
        return _stress(wb.fingerprint, options.time_limit, options.mip_gap, diagnose, _data=wb.data)


def _done(wb: shared.Workbook, options: shared.SolveOptions):
    """The stress test already run this session for this workbook and options, else None."""
    runs = st.session_state.get(RUN_KEY, set())
    for diagnose in (True, False):
        if _run_key(wb, options, diagnose) in runs:
            return stress_result(wb, options, diagnose)
    return None


def stress_table(table: pd.DataFrame) -> pd.DataFrame:
    """The rows a planner reads: what was lost, the outcome, the cost increase, what goes
    unmet, and why there is no plan."""
    if table.empty:
        return table
    out = table[["kind", "lost", "suppliers", "status", "delta", "delta_share", "shortfall_units",
                 "diagnosis"]].copy()
    out["status"] = out["status"].replace({"infeasible": "no plan"})
    return out


def plan_panel(wb: shared.Workbook, result) -> None:
    """Plan page: re-plan without each supplier and each supplier country."""
    if not result.has_plan:
        return
    st.subheader("Resilience: losing a supplier")
    options = shared.current_options(wb)
    found = _done(wb, options)
    if found is None:
        st.caption("Re-plan without each supplier and without every supplier of each country: "
                   "what each loss costs, what goes unmet, and when there is no plan at all.")
        diagnose = st.checkbox("Explain the losses that leave no plan (slower)", value=False,
                               key="procure_stress_diagnose")
        if not st.button("Run the stress test", icon=":material/bolt:", key="procure_stress_run"):
            return
        found = stress_result(wb, options, diagnose)
    cur = result.currency
    tabs = st.tabs(["Suppliers", "Countries"])
    for tab, kind in zip(tabs, ("supplier", "country"), strict=True):
        with tab:
            st.plotly_chart(charts.stress_bars(found.table, currency=cur, kind=kind),
                            width="stretch", key=f"stress_{kind}")
            rows = stress_table(found.table[found.table["kind"] == kind])
            st.dataframe(rows.drop(columns="kind"), hide_index=True, width="stretch", column_config={
                "delta": st.column_config.NumberColumn(f"cost increase ({cur})", format="localized"),
                "delta_share": st.column_config.NumberColumn("increase", format="percent"),
                "shortfall_units": st.column_config.NumberColumn("units unmet", format="localized")})
    worst = found.table[(found.table["kind"] == "supplier")
                        & found.table["status"].isin(["optimal", "feasible"])]
    lost = found.table[(found.table["kind"] == "supplier") & (found.table["status"] == "infeasible")]
    lines = []
    if len(worst):
        top = worst.sort_values("delta", ascending=False).iloc[0]
        lines.append(f"The costliest loss with a plan left: **{top['lost']}** "
                     f"(+{shared.money(top['delta'], cur)}).")
    if len(lost):
        lines.append(f"{len(lost)} of {int((found.table['kind'] == 'supplier').sum())} suppliers "
                     "cannot be lost without leaving some hard demand or rule unmet: "
                     + ", ".join(lost["lost"]) + ".")
    if lines:
        st.markdown(" ".join(lines))


def nation_panel(view) -> None:
    """Nation view: the suppliers whose loss would hurt this partner most."""
    st.subheader(f"Suppliers whose loss would hurt {view.partner} most")
    found = _done(view.wb, view.options)
    if found is None:
        st.caption("Needs the stress test (each supplier removed in turn).")
        if not st.button("Run the stress test", icon=":material/bolt:", key="procure_stress_run_nation"):
            return
        found = stress_result(view.wb, view.options, False)
    worst = found.worst_for(view.partner)
    st.plotly_chart(charts.partner_exposure_bars(worst, view.partner, currency=view.currency),
                    width="stretch", key="nation_exposure")
    st.dataframe(worst.assign(status=worst["status"].replace({"infeasible": "no plan"})),
                 hide_index=True, width="stretch", column_config={
                     "delta": st.column_config.NumberColumn(f"its cost increase ({view.currency})",
                                                            format="localized"),
                     "shortfall_units": st.column_config.NumberColumn("its units unmet",
                                                                      format="localized")})
