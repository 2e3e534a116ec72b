"""procure.charts.plan: each figure draws exactly the table it is given (sums, labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import procure
from procure.charts import plan as charts

try:
    from tests.tiny import rule, tiny
except ImportError:  # tests/ is not a package
    from tiny import rule, tiny


@pytest.fixture(scope="module")
def demo():
    return procure.solve(procure.datasets.load_demo())


@pytest.fixture(scope="module")
def lp():
    """A pure LP with hand-checkable duals.

    P needs 40 x in period 1. A (FR) sells x at 10 with capacity 30, B (DE) at 12 without limit.
    The plan: 30 from A, 10 from B, cost 30*10 + 10*12 = 420. One more unit of demand comes
    from B: marginal cost 12. One more unit of A's capacity replaces a unit from B: it saves
    12 - 10 = 2.
    """
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10, capacity=30),
                        dict(supplier="B", item="x", unit_price=12)],
                demand=[("P", "x", 1, 40)], suppliers={"A": "FR", "B": "DE"})
    result = procure.solve(data)
    assert result.total_cost == pytest.approx(420)
    return result


def all_y(fig) -> float:
    return float(sum(np.nansum(np.asarray(t.y, dtype=float)) for t in fig.data))


def test_cost_per_partner_stacks_the_four_parts(demo):
    fig = charts.cost_per_partner(demo.partner_costs)
    assert [t.name for t in fig.data] == list(charts.COST_PARTS)
    for trace in fig.data:
        assert list(trace.x) == list(demo.partner_costs["partner"])
        np.testing.assert_allclose(trace.y, demo.partner_costs[trace.name])
    assert fig.layout.barmode == "stack"
    # the stacks add up to each partner's total, and all of them to the plan's cost
    assert all_y(fig) == pytest.approx(demo.partner_costs["total"].sum())
    assert all_y(fig) == pytest.approx(demo.total_cost)


def test_supply_sankey_links_carry_the_allocation_value(demo):
    alloc = demo.allocation
    fig = charts.supply_sankey(alloc)
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    src, dst, value = (np.asarray(sankey.link.source), np.asarray(sankey.link.target),
                       np.asarray(sankey.link.value, dtype=float))
    countries = sorted(alloc["supplier_country"].unique())
    assert labels[:len(countries)] == [f"made in {c}" for c in countries]
    assert set(labels) >= set(alloc["supplier"]) | set(alloc["partner"])
    first = src < len(countries)
    # every unit of money leaves a country and reaches a partner
    assert value[first].sum() == pytest.approx(alloc["cost"].sum())
    assert value[~first].sum() == pytest.approx(alloc["cost"].sum())
    for supplier, spent in alloc.groupby("supplier")["cost"].sum().items():
        node = labels.index(supplier)
        assert value[dst == node].sum() == pytest.approx(spent)
        assert value[src == node].sum() == pytest.approx(spent)
    for partner, spent in alloc.groupby("partner")["cost"].sum().items():
        node = len(labels) - list(reversed(labels)).index(partner) - 1  # the partner column
        assert value[dst == node].sum() == pytest.approx(spent)


def test_utilisation_is_the_tightest_of_shared_and_offer_capacity():
    """A's shared capacity is half used in 1 while its x line is at 80 %: 80 %. B has no limit
    in 1 (NaN) and its y line is full in 2."""
    supplier_use = pd.DataFrame({"supplier": ["A", "A", "B"], "period": ["1", "2", "1"],
                                 "utilisation": [0.5, 0.9, np.nan]})
    offer_use = pd.DataFrame({"supplier": ["A", "A", "B", "B"], "item": ["x", "x", "y", "y"],
                              "period": ["1", "2", "1", "2"],
                              "utilisation": [0.8, 0.1, np.nan, 1.0]})
    grid = charts.tightest_utilisation(supplier_use, offer_use)
    assert list(grid.columns) == ["1", "2"] and list(grid.index) == ["A", "B"]
    np.testing.assert_allclose(grid.to_numpy(), [[0.8, 0.9], [np.nan, 1.0]])
    heat = charts.utilisation_heatmap(supplier_use, offer_use).data[0]
    np.testing.assert_allclose(np.asarray(heat.z, dtype=float), grid.to_numpy())
    assert list(heat.y) == ["A", "B"] and list(heat.x) == ["1", "2"]


def test_utilisation_heatmap_of_the_demo(demo):
    heat = charts.utilisation_heatmap(demo.supplier_use, demo.offer_use).data[0]
    assert set(heat.y) == set(demo.offer_use["supplier"]) | set(demo.supplier_use["supplier"])
    z = np.asarray(heat.z, dtype=float)
    assert np.nanmax(z) <= 1 + 1e-9
    shared = demo.supplier_use.dropna(subset=["utilisation"])
    for row in shared.itertuples():
        cell = z[list(heat.y).index(row.supplier), list(heat.x).index(row.period)]
        assert cell >= row.utilisation - 1e-12


def test_rule_chart_draws_every_rule_row_but_bans(demo):
    rows = charts.rule_rows(demo.rules)
    assert len(rows) == (demo.rules["rule"] != "ban").sum()
    assert rows["label"].is_unique
    fig = charts.rule_achievement(demo.rules)
    bars = [t for t in fig.data if t.type == "bar"]
    ticks = [t for t in fig.data if t.type == "scatter"]
    drawn = {y: x for t in bars for y, x in zip(t.y, t.x, strict=True)}
    assert set(drawn) == set(rows["label"])
    for r in rows.itertuples():
        assert drawn[r.label] == pytest.approx(r.achieved)
    targets = {y: x for t in ticks for y, x in zip(t.y, t.x, strict=True)}
    assert targets == pytest.approx(dict(zip(rows["label"], rows["target"], strict=True)))
    binding = {y for t in bars if t.marker.color == charts.BINDS_COLOUR for y in t.y}
    assert binding == set(rows.loc[rows["binds"], "label"])
    # one panel per unit: shares, quantities, supplier counts and N-1 unmet shares in the demo
    assert len(fig.layout.annotations) == 4


def test_rule_chart_of_a_workbook_with_only_bans():
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=1)], demand=[("P", "x", 1, 1)],
                suppliers={"A": "FR", "B": "DE"},
                rules=[rule("ban", partner="P", group="DE")])
    fig = charts.rule_achievement(procure.solve(data).rules)
    assert not fig.data and "no rules" in fig.layout.annotations[0].text


def test_marginal_costs_of_an_lp(lp):
    heat = charts.demand_marginal_costs(lp.demand_duals).data[0]
    assert list(heat.y) == ["P"] and list(heat.x) == ["x"]
    assert float(np.asarray(heat.customdata)[0][0]) == pytest.approx(12)
    bars = charts.capacity_marginal_values(lp.capacity_duals, lp.budget_duals).data
    assert [list(b.y) for b in bars] == [["A x 1"]]
    assert list(bars[0].x) == pytest.approx([2])


def test_marginal_costs_of_the_demo_are_means_per_item(demo):
    duals = demo.demand_duals
    assert len(duals)  # fixed-MIP duals
    heat = charts.demand_marginal_costs(duals).data[0]
    values = np.asarray(heat.customdata, dtype=float)
    for (partner, item), mean in duals.groupby(["partner", "item"])["marginal_cost"].mean().items():
        cell = values[list(heat.y).index(partner), list(heat.x).index(item)]
        assert cell == pytest.approx(mean)
    # each item is shaded against its own largest cost
    assert np.nanmax(np.asarray(heat.z, dtype=float), axis=0) == pytest.approx(1.0)


def test_capacity_values_are_the_largest_first(demo):
    table = charts.marginal_values(demo.capacity_duals, demo.budget_duals)
    assert (table["value"].diff().dropna() <= 0).all() and (table["value"] != 0).all()
    bars = charts.capacity_marginal_values(demo.capacity_duals, demo.budget_duals, top=5).data
    drawn = sorted((x for b in bars for x in b.x), reverse=True)
    assert drawn == pytest.approx(list(table["value"].head(5)))


def test_marginal_charts_say_when_there_are_no_duals():
    demand = pd.DataFrame(columns=["partner", "item", "period", "marginal_cost"])
    capacity = pd.DataFrame(columns=["supplier", "item", "period", "marginal_value"])
    budget = pd.DataFrame(columns=["partner", "marginal_value"])
    for fig in (charts.demand_marginal_costs(demand),
                charts.capacity_marginal_values(capacity, budget)):
        assert not fig.data and fig.layout.annotations


def test_partner_deliveries_panel_per_item(demo):
    fig = charts.partner_deliveries(demo.fulfilment, "PL")
    mine = demo.fulfilment[demo.fulfilment["partner"] == "PL"]
    demand = [t for t in fig.data if t.name == "demand"]
    delivered = [t for t in fig.data if t.name == "delivered"]
    assert len(demand) == len(delivered) == mine["item"].nunique()
    assert sum(sum(t.y) for t in demand) == pytest.approx(mine["demand"].sum())
    assert sum(sum(t.y) for t in delivered) == pytest.approx(mine["delivered"].sum())
    assert [a.text for a in fig.layout.annotations] == list(dict.fromkeys(mine["item"]))


def test_partner_spend_by_supplier_sums_to_its_deliveries(demo):
    fig = charts.partner_spend_by_supplier(demo.allocation, "DE")
    mine = demo.allocation[demo.allocation["partner"] == "DE"]
    assert sum(np.nansum(np.asarray(t.x, dtype=float)) for t in fig.data) == pytest.approx(
        mine["cost"].sum())
    order = list(fig.data[0].y)
    assert order == list(mine.groupby("supplier")["cost"].sum().sort_values(ascending=False).index)
    assert {t.name for t in fig.data} == set(mine["item"])


def test_sharing_methods_bars():
    costs = pd.DataFrame({"method": ["alone", "proportional"], "cost": [120.0, 100.0]})
    bar = charts.sharing_methods(costs).data[0]
    assert list(bar.x) == ["alone", "proportional"] and list(bar.y) == [120.0, 100.0]


def test_empty_tables_give_a_figure_that_says_so():
    empty = pd.DataFrame()
    for fig in (charts.cost_per_partner(empty), charts.supply_sankey(empty),
                charts.utilisation_heatmap(empty, empty), charts.rule_achievement(empty),
                charts.sharing_methods(empty)):
        assert not fig.data
        assert fig.layout.annotations[0].text
