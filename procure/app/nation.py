"""Nation view: one partner's side of the pooled plan, the page a national delegation reads.

Its demand and deliveries, its cost under each way of sharing, what pooling saves it, the
rules that bind it and the suppliers it depends on. Like the Plan page, the page is a list of
panels (:data:`PANELS`), each ``panel(view)`` with a :class:`PartnerView`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from procure.app import fair_shares as fair_shares_page
from procure.app import resilience, shared
from procure.charts import plan as charts
from procure.engine.results import Result

PARTNER_KEY = "procure_nation_partner"


@dataclass(frozen=True)
class PartnerView:
    """What every panel of the page gets."""

    wb: shared.Workbook
    result: Result
    options: shared.SolveOptions
    partner: str

    @property
    def currency(self) -> str:
        return self.result.currency


def render() -> None:
    st.title("Nation view")
    wb = shared.current_workbook()
    shared.workbook_caption(wb)
    if not shared.require_valid(wb):
        return
    options = shared.current_options(wb)
    result = shared.solve_plan(wb, options)
    if not result.has_plan:
        st.error(f"{result.message}. The Plan page says why.")
        st.page_link(shared.PAGE_FILES["plan"], label="Go to the Plan page",
                     icon=":material/account_tree:")
        return
    partners = wb.data.partners
    names = dict(zip(partners["partner"], partners["name"], strict=True))
    ids = list(partners["partner"])
    partner = st.selectbox("Partner", ids, key=PARTNER_KEY,
                           format_func=lambda p: f"{p} - {names[p]}" if isinstance(names.get(p), str) else p)
    view = PartnerView(wb, result, options, partner)
    for panel in PANELS:
        panel(view)


# --------------------------------------------------------------------------- panels


def cost_panel(view: PartnerView) -> None:
    """Its cost (proportional sharing), its budget, and what pooling saves it."""
    row = view.result.partner_costs.set_index("partner").loc[view.partner]
    saved = shared.pooling_savings(view.wb, view.result, view.options)
    mine = saved.set_index("partner").loc[view.partner]
    cur = view.currency
    a, b, c = st.columns(3)
    a.metric("Its cost in the pool", shared.money(row["total"], cur),
             help="Proportional sharing: each offer's purchase and setup cost split by the "
                  "quantity it takes, plus its own transport and shortfall.")
    if mine["status"] == "optimal":
        b.metric("Alone it would pay", shared.money(mine["standalone_cost"], cur))
        c.metric("Pooling saves it", shared.money(mine["saving"], cur),
                 delta=f"{mine['saving_pct']:.1%}" if mine["saving_pct"] == mine["saving_pct"] else None)
    else:
        b.metric("Alone it would pay", "no plan alone")
        c.metric("Pooling saves it", "-")
        st.warning(f"{view.partner} alone has no {mine['status']} plan, so no saving is shown.")
    if row["budget"] == row["budget"]:
        st.caption(f"Budget {shared.money(row['budget'], cur)}; the plan spends "
                   f"{shared.money(row['budget_value'], cur)} of it (base prices plus transport).")
    st.subheader("Its cost under each way of sharing")
    st.plotly_chart(charts.sharing_methods(sharing_table(view, saved), cur), width="stretch",
                    key="nation_sharing")
    st.caption("What it would pay alone, and its share of the pooled plan under each way of "
               "sharing computed so far (Shapley and the nucleolus once the Fair shares page "
               "has computed them).")


def sharing_table(view: PartnerView, saved: pd.DataFrame) -> pd.DataFrame:
    """method, cost: alone and proportional, then Shapley and the nucleolus once the Fair
    shares page has computed them for this workbook."""
    mine = saved.set_index("partner").loc[view.partner]
    rows = []
    if mine["status"] == "optimal":
        rows.append(("alone", float(mine["standalone_cost"])))
    rows.append(("proportional", float(view.result.partner_costs.set_index("partner")
                                       .loc[view.partner, "total"])))
    shares = fair_shares_page.shares_for(view.wb)
    if shares is not None:
        row = shares.set_index("partner").loc[view.partner]
        for column, label in (("shapley", "Shapley"), ("nucleolus", "nucleolus")):
            if row[column] == row[column]:
                rows.append((label, float(row[column])))
    return pd.DataFrame(rows, columns=["method", "cost"])


def deliveries_panel(view: PartnerView) -> None:
    st.subheader("Demand and deliveries")
    fulfil = view.result.fulfilment
    st.plotly_chart(charts.partner_deliveries(fulfil, view.partner), width="stretch",
                    key="nation_deliveries")
    st.caption("Per item and period: what it asked for (outline) and what the plan delivers "
               "(filled); a gap is demand left unmet at the item's shortfall penalty.")
    mine = fulfil[fulfil["partner"].astype(str) == view.partner]
    with st.expander("The table"):
        st.dataframe(mine, hide_index=True, width="stretch")


def rules_panel(view: PartnerView) -> None:
    st.subheader("Rules that bind it")
    rules = view.result.rules
    if rules.empty:
        st.info("The workbook has no rules.")
        return
    own, pool = partner_rules(rules, view.partner)
    binding = own[own["binds"] & (own["rule"] != "ban")]
    bans = own[own["rule"] == "ban"]
    if len(binding):
        st.markdown("\n".join(f"- **{r.name}**: required {_level(r.rule, r.target)}, achieved "
                              f"{_level(r.rule, r.achieved)}" for r in binding.itertuples()))
    else:
        st.markdown(f"No rule on {view.partner} binds: its plan would be the same without them.")
    if len(bans):
        st.markdown("Bans on it: " + "; ".join(dict.fromkeys(bans["name"].astype(str))) + ".")
    pool_binding = pool[pool["binds"] & (pool["rule"] != "ban")]
    if len(pool_binding):
        st.caption("Pool rules that bind everyone: "
                   + "; ".join(dict.fromkeys(pool_binding["name"].astype(str))) + ".")


def partner_rules(rules: pd.DataFrame, partner: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows of rules on this partner, rows of rules on the whole pool). A workshare or ban
    with no partner applies to each partner (its row's subject, or every partner)."""
    on_partner = rules["partner"].astype(object).eq(partner)
    per_partner = rules["partner"].isna() & rules["rule"].isin(["workshare", "ban"])
    subject = rules["subject"].astype(object)
    own = on_partner | (per_partner & (subject.eq(partner) | subject.isna()))
    pool = rules["partner"].isna() & ~per_partner
    return rules[own], rules[pool]


def _level(rule: str, value: float) -> str:
    if rule in ("min_suppliers", "max_suppliers"):
        return f"{value:g} suppliers"
    if rule in ("min_quantity", "max_quantity"):
        return f"{value:,.0f} units"
    return f"{value:.1%}"


def suppliers_panel(view: PartnerView) -> None:
    st.subheader("Suppliers it depends on")
    st.plotly_chart(charts.partner_spend_by_supplier(view.result.allocation, view.partner,
                                                     view.currency),
                    width="stretch", key="nation_suppliers")
    st.caption("What it spends with each supplier (price paid times quantity plus transport), "
               "by item, largest first.")
    table = supplier_dependence(view.result.allocation, view.partner)
    st.dataframe(shared.to_units(table, ["cost"]), hide_index=True, width="stretch",
                 column_config={
        "quantity": st.column_config.NumberColumn(format="localized"),
        "cost": st.column_config.NumberColumn(format="localized"),
        "share": st.column_config.NumberColumn("share of its spend", format="percent")})


def supplier_dependence(allocation: pd.DataFrame, partner: str) -> pd.DataFrame:
    """supplier, country, items, quantity, cost, share (of the partner's spend), largest first."""
    mine = allocation[allocation["partner"].astype(str) == partner]
    if mine.empty:
        return pd.DataFrame(columns=["supplier", "country", "items", "quantity", "cost", "share"])
    table = mine.groupby("supplier", sort=False).agg(
        country=("supplier_country", "first"),
        items=("item", lambda s: ", ".join(dict.fromkeys(s.astype(str)))),
        quantity=("quantity", "sum"), cost=("cost", "sum")).reset_index()
    table["share"] = table["cost"] / table["cost"].sum()
    return table.sort_values("cost", ascending=False, kind="stable").reset_index(drop=True)


#: the page's panels, top to bottom
PANELS = (cost_panel, deliveries_panel, rules_panel, suppliers_panel, resilience.nation_panel)


if __name__ == "__main__":
    render()
