"""Plan page: solve the session's workbook and explore the plan.

The page is a list of panels (:data:`PANELS`), each a function ``panel(wb, result)`` that
draws one part of the page from the :class:`procure.Result` and returns early when it has
nothing to show. To add a panel (e.g. resilience), write such a function and add it to
:data:`PANELS` where it should appear.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from procure.app import resilience, shared
from procure.charts import plan as charts
from procure.engine.results import DUALS_BASIS, Result, marginal_sentences
from procure.engine.status import Status

OPTIONS_FORM = "procure_solve_options_form"


def render() -> None:
    st.title("Plan")
    wb = shared.current_workbook()
    shared.workbook_caption(wb)
    if not shared.require_valid(wb):
        return
    first = st.container()  # an infeasible plan's diagnosis goes above everything else
    options = options_panel(wb)
    result = shared.solve_plan(wb, options)
    with first:
        diagnosis_panel(wb, result)
    for panel in PANELS:
        panel(wb, result)


def options_panel(wb: shared.Workbook) -> shared.SolveOptions:
    """Time limit and gap; Solve applies them (the workbook's Settings are the defaults)."""
    options = shared.current_options(wb)
    tag = wb.fingerprint[:12]  # a new workbook's options start from its own Settings
    with st.expander(f"Solver options: {options.describe()}"):
        with st.form(OPTIONS_FORM, border=False):
            left, right = st.columns(2)
            left.number_input(
                "Time limit (seconds, 0 = none)", min_value=0.0,
                value=float(options.time_limit or 0.0), step=10.0, key=f"plan_time_limit_{tag}",
                help="The solver stops here and reports the best plan found and how far from "
                     "the best possible it may be.")
            right.selectbox(
                "Optimality gap", shared.gap_choices(options.mip_gap),
                index=shared.gap_choices(options.mip_gap).index(options.mip_gap),
                format_func=shared.gap_label, key=f"plan_gap_{tag}",
                help="The solver may stop once the plan is proven this close to the cheapest "
                     "possible plan; a looser gap is faster on large workbooks.")
            st.form_submit_button("Solve", type="primary", icon=":material/play_arrow:",
                                  on_click=_apply_options, args=(wb, tag))
    return options


def _apply_options(wb: shared.Workbook, tag: str) -> None:
    """The form's values become the session's options (before the page is drawn again)."""
    limit = float(st.session_state[f"plan_time_limit_{tag}"])
    gap = float(st.session_state[f"plan_gap_{tag}"])
    shared.set_options(wb, shared.SolveOptions(None if limit == 0 else limit, gap))


# --------------------------------------------------------------------------- panels


def diagnosis_panel(wb: shared.Workbook, result: Result) -> None:
    """No plan: why, in planners' words, before anything else."""
    if result.has_plan:
        return
    st.error(result.message)
    diagnosis = result.diagnosis
    if diagnosis is None:
        return
    st.subheader("Why there is no plan")
    st.markdown("Relaxing these together would make a plan possible:")
    st.markdown("\n".join(f"- {c.message}" for c in diagnosis.conflicts + diagnosis.binding))
    if diagnosis.note:
        st.caption(diagnosis.note)
    if not diagnosis.proven_minimal:
        st.caption("The diagnosis hit its time limit: these rows explain the conflict, but a "
                   "smaller set may exist.")
    st.dataframe(diagnosis.table(), hide_index=True, width="stretch",
                 column_config={"amount": st.column_config.NumberColumn(format="localized")})


def status_panel(wb: shared.Workbook, result: Result) -> None:
    """The status sentence: optimal, feasible within a gap, or why not."""
    if not result.has_plan:
        return
    if result.status == Status.OPTIMAL:
        st.success(result.message, icon=":material/check_circle:")
    else:
        st.warning(result.message, icon=":material/warning:")
    shared.show_warnings(result.warnings)
    check = result.check
    if check is not None and check.ok:
        st.caption(f"Re-checked from its own tables: {check.headline()}.")
    elif check is not None:
        st.error(f"The plan fails its re-check from its own tables: {check.headline()}. Do not "
                 "use it; report it with the workbook.")
        st.dataframe(check.table(), hide_index=True, width="stretch")


def kpi_panel(wb: shared.Workbook, result: Result) -> None:
    """Total cost in full and its parts."""
    if not result.has_plan:
        return
    cur = result.currency
    st.metric("Total cost", shared.money(result.total_cost, cur))
    columns = st.columns(2) + st.columns(2)  # two by two: the sums are shown in full
    for column, part in zip(columns, charts.COST_PARTS, strict=True):
        column.metric(part.capitalize(), shared.money(getattr(result, part), cur))
    size = result.model_size
    gap = "" if result.mip_gap is None else f"gap {result.mip_gap:.3%}, "
    st.caption(f"{gap}solved by {result.solver} in {result.solve_seconds:.2f} s (model built in "
               f"{result.build_seconds:.2f} s; {size.get('variables', '?'):,} variables, "
               f"{size.get('constraints', '?'):,} constraints).")


def cost_panel(wb: shared.Workbook, result: Result) -> None:
    if not result.has_plan:
        return
    st.subheader("Cost per partner")
    st.plotly_chart(charts.cost_per_partner(result.partner_costs, result.currency),
                    width="stretch", key="plan_cost_per_partner")
    st.caption("What each partner pays under proportional sharing: each offer's purchase and "
               "setup cost split by the quantity it takes, plus its own transport and shortfall.")


def flow_panel(wb: shared.Workbook, result: Result) -> None:
    if not result.has_plan:
        return
    st.subheader("Who supplies whom")
    st.plotly_chart(charts.supply_sankey(result.allocation, result.currency), width="stretch",
                    key="plan_sankey")
    st.caption("Money from each partner (right) to the suppliers (middle) and their countries "
               "(left): widths are the value delivered, price paid times quantity plus "
               "transport; setup costs are not deliveries and are left out.")


def utilisation_panel(wb: shared.Workbook, result: Result) -> None:
    if not result.has_plan:
        return
    st.subheader("Supplier utilisation")
    st.plotly_chart(charts.utilisation_heatmap(result.supplier_use, result.offer_use),
                    width="stretch", key="plan_utilisation")
    st.caption("Share of each supplier's tightest capacity used per period (its shared "
               "capacity or an offer's own): 100 % is a bottleneck; blank means no limit or no "
               "offer in that period.")


def rules_panel(wb: shared.Workbook, result: Result) -> None:
    if not result.has_plan or result.rules.empty:
        return
    st.subheader("Rules: required and achieved")
    st.plotly_chart(charts.rule_achievement(result.rules), width="stretch", key="plan_rules")
    st.caption("Each rule's required level (tick) and what the plan achieves (bar); red bars "
               "are rules that bind, i.e. the plan would be cheaper without them. Bans are in "
               "the table below.")
    table = result.rules[["rule_id", "name", "rule", "partner", "item", "group", "subject",
                          "sense", "target", "achieved", "binds", "dual"]]
    with st.expander(f"All {len(table)} rule rows ({int(table['binds'].sum())} bind)"):
        st.dataframe(table, hide_index=True, width="stretch")


def marginal_panel(wb: shared.Workbook, result: Result) -> None:
    if not result.has_plan:
        return
    st.subheader("Marginal costs")
    if result.duals_basis is None:
        st.info("No marginal costs for this plan: the solver gave no duals.")
        return
    cur = result.currency
    st.caption(f"Marginal costs: {DUALS_BASIS[result.duals_basis]}.")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.demand_marginal_costs(result.demand_duals, cur), width="stretch",
                        key="plan_demand_duals")
        st.caption("What one more unit demanded would cost, per partner and item (the mean over "
                   "the periods); each item's column is shaded against its own highest cost.")
    with right:
        st.plotly_chart(charts.capacity_marginal_values(result.capacity_duals,
                                                        result.budget_duals, cur),
                        width="stretch", key="plan_capacity_duals")
        st.caption("What one more unit of a supplier's capacity or of a partner's budget would "
                   "save: the 15 limits that hold the plan back most (all of them in the "
                   "CapacityDuals and BudgetDuals sheets of the results workbook).")
    sentences = marginal_sentences(result, items=wb.data.items)
    if sentences:
        with st.expander("The dearest units, in words"):
            st.markdown("\n".join(f"- {s}" for s in sentences))


def allocation_panel(wb: shared.Workbook, result: Result) -> None:
    if not result.has_plan:
        return
    st.subheader("Allocation")
    alloc = result.allocation
    filters = {}
    columns = st.columns(4)
    for column, name in zip(columns, ("partner", "item", "supplier", "period"), strict=True):
        choices = sorted(alloc[name].astype(str).unique()) if len(alloc) else []
        filters[name] = column.multiselect(name.capitalize(), choices, key=f"plan_filter_{name}",
                                           placeholder="all")
    shown = filter_rows(alloc, filters)
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="localized")
        for c in ("quantity", "unit_price", "base_price", "transport", "cost")})
    st.caption(f"{len(shown):,} of {len(alloc):,} deliveries; they cost "
               f"{shared.money(shown['cost'].sum() if len(shown) else 0.0, result.currency)} "
               "(setup costs are on the Offers sheet of the results workbook).")


def filter_rows(table: pd.DataFrame, filters: dict[str, list[str]]) -> pd.DataFrame:
    """Rows whose columns hold one of the chosen values (no choice: every value)."""
    keep = pd.Series(True, index=table.index)
    for column, chosen in filters.items():
        if chosen:
            keep &= table[column].astype(str).isin(chosen)
    return table[keep]


def download_panel(wb: shared.Workbook, result: Result) -> None:
    stem = wb.name.removesuffix(" (edited)").removesuffix(".xlsx")
    st.download_button(
        "Download the results workbook", data=lambda: shared.results_workbook(result),
        file_name=f"{stem}-results.xlsx", mime=shared.XLSX_MIME, icon=":material/download:",
        help="A Summary sheet, then every table of the plan (and the Diagnosis sheet when "
             "there is no plan).", key="plan_download")


#: the page's panels, top to bottom
PANELS = (status_panel, kpi_panel, cost_panel, flow_panel, utilisation_panel, rules_panel,
          marginal_panel, resilience.plan_panel, allocation_panel, download_panel)


if __name__ == "__main__":
    render()
