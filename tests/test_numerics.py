"""Numerics: prices from 0.01 to 1e7 and quantities from 1 to 1e7 in one model.

Found with these tests: a binary within HiGHS's integrality tolerance (1e-6) of 0 let an
offer deliver through ``Q <= M y`` (M ~ 2e7) without its setup cost and below its minimum
order (:func:`test_big_m_cannot_leak_units_past_a_setup_cost`); procure.engine.backends now
polishes every MIP plan (binaries fixed, LP re-solved).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
from benchmarks.generate import generate

try:
    from tests.checker import check_solution
except ImportError:  # tests/ is not a package
    from checker import check_solution

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def tables_of(**sheets) -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(rows) for name, rows in sheets.items()}


def rel_close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


# --------------------------------------------------------------------------- hand-made


def extreme_tables() -> dict[str, pd.DataFrame]:
    """Bolts at 0.01 by the ten million, one frigate at 1e7, shells in between.

    Optimum by hand:

    * shell: B sells 0.5 each, at most 1e7 - 10 a period, so 20 of the 2e7 come from
      elsewhere. A (1.0, setup 1e3, min order 1e6) would take 1e6 units: 1e6 + 1e3 instead
      of 0.5e6 at B; C (1e3 each) costs 2e4 for the 20. So B 2e7 - 20 (9,999,990) + C 20
      (20,000) = 10,019,990.
    * frigate: 1 from D at 1e7 plus its setup 5e6 = 15,000,000.
    * bolt: 1e7 from E at 0.01 (min order 1e7, setup 10) = 100,010; F (0.02) would cost 2e5.

    Total 25,120,000.
    """
    return tables_of(
        Partners=[{"partner": "PL"}],
        Items=[{"item": "shell"}, {"item": "frigate"}, {"item": "bolt"}],
        Suppliers=[{"supplier": s, "country": "DE"} for s in "ABCDEF"],
        Offers=[
            dict(supplier="B", item="shell", unit_price=0.5, capacity=1e7 - 10),
            dict(supplier="A", item="shell", unit_price=1.0, setup_cost=1e3, min_order=1e6),
            dict(supplier="C", item="shell", unit_price=1e3),
            dict(supplier="D", item="frigate", unit_price=1e7, setup_cost=5e6),
            dict(supplier="E", item="bolt", unit_price=0.01, min_order=1e7, setup_cost=10),
            dict(supplier="F", item="bolt", unit_price=0.02),
        ],
        Demand=[
            dict(partner="PL", item="shell", period=2026, quantity=1e7),
            dict(partner="PL", item="shell", period=2027, quantity=1e7),
            dict(partner="PL", item="frigate", period=2026, quantity=1),
            dict(partner="PL", item="bolt", period=2027, quantity=1e7),
        ],
    )


def test_big_m_cannot_leak_units_past_a_setup_cost():
    data = procure.validate_tables(extreme_tables())
    result = procure.solve(data)
    assert result.status == procure.Status.OPTIMAL
    check_solution(data, result)
    assert result.total_cost == pytest.approx(25_120_000, rel=1e-9)
    offers = result.offers.set_index("supplier")
    assert offers.loc["A", "pooled_quantity"] == 0  # not 20 units "for free"
    assert offers.loc["C", "pooled_quantity"] == pytest.approx(20, rel=1e-9)
    assert offers.loc["E", "pooled_quantity"] == pytest.approx(1e7, rel=1e-12)


def test_extreme_tiers_and_budget():
    """All-units and incremental tiers at 1e6-1e7 units, a budget of 1e14, a share rule."""
    t = extreme_tables()
    t["PriceTiers"] = pd.DataFrame([
        dict(supplier="E", item="bolt", min_quantity=5e6, unit_price=0.009),
        dict(supplier="F", item="bolt", min_quantity=1e6, unit_price=0.015),
        dict(supplier="F", item="bolt", min_quantity=9e6, unit_price=0.005),
        dict(supplier="C", item="shell", min_quantity=1e6, unit_price=0.4),
    ])
    t["Offers"].loc[t["Offers"]["supplier"] == "F", "discount"] = "incremental"
    t["Partners"]["budget"] = 1e14
    t["Rules"] = pd.DataFrame([dict(rule="min_share", item="shell", group="B", share=0.25)])
    data = procure.validate_tables(t)
    result = procure.solve(data, mip_gap=0.0)
    assert result.status == procure.Status.OPTIMAL
    check_solution(data, result)
    # By hand.
    # shell: C's all-units tier (0.4 from 1e6 units) beats B (0.5), but B keeps 25%:
    #   B 5e6 * 0.5 + C 1.5e7 * 0.4 = 2.5e6 + 6e6 = 8,500,000
    # bolt: E takes all 1e7 (its min order) at the all-units tier 0.009, + setup 10 = 90,010;
    #   F incremental would cost 1e6*0.02 + 8e6*0.015 + 1e6*0.005 = 145,000
    # frigate: 15,000,000
    assert result.total_cost == pytest.approx(8_500_000 + 90_010 + 15_000_000, rel=1e-9)
    rules = result.rules
    assert bool(rules["binds"].iloc[0]) and rules["achieved"].iloc[0] == pytest.approx(0.25)


# --------------------------------------------------------------------------- random, rescaled


_QTY_RULES = ("min_quantity", "max_quantity")


def rescale(tables: dict[str, pd.DataFrame], price_exp: list[int], qty_exp: list[int]):
    """Item k's cheapest offer priced 10**price_exp[k] and its smallest demand row
    10**qty_exp[k] units, every price and quantity of the item scaled alike.

    Rules whose meaning would change (quantity or value over several items, workshare) and
    budgets are dropped; a shared supplier capacity stays exactly as tight (capacity_use is
    divided by the item's quantity scale)."""
    t = {k: v.copy() for k, v in tables.items()}
    items = list(t["Items"]["item"])
    o = t["Offers"]
    cheapest = o.groupby("item")["unit_price"].min()
    smallest = t["Demand"].groupby("item")["quantity"].min()
    ps = {i: 10.0 ** e / cheapest[i] for i, e in zip(items, price_exp, strict=True)}
    qs = {i: 10.0 ** e / smallest[i] for i, e in zip(items, qty_exp, strict=True)}
    def factor(items, by):  # float even when the table is empty (an empty str column maps to str)
        return items.map(by).astype(float)

    op, oq = factor(o["item"], ps), factor(o["item"], qs)
    o["unit_price"] *= op
    o["capacity"] *= oq
    o["min_order"] *= oq
    o["setup_cost"] *= op * oq
    o["capacity_use"] /= oq
    t["Demand"]["quantity"] *= factor(t["Demand"]["item"], qs)
    t["Capacity"]["capacity"] *= factor(t["Capacity"]["item"], qs)
    pt = t["PriceTiers"]
    pt["min_quantity"] *= factor(pt["item"], qs)
    pt["unit_price"] *= factor(pt["item"], ps)
    it = t["Items"]
    it["shortfall_penalty"] *= factor(it["item"], ps)
    t["Partners"]["budget"] = np.nan
    r = t["Rules"]
    if len(r):
        single = r["item"].isin(items)
        keep = r["rule"].isin(["ban", "min_suppliers", "max_suppliers"]) | (
            single & (r["rule"] != "workshare"))
        r = r[keep].reset_index(drop=True)
        is_q = r["rule"].isin(_QTY_RULES).to_numpy()
        scale = np.array([qs.get(i, 1.0) for i in r["item"]])
        r["quantity"] = np.where(is_q, r["quantity"].to_numpy(dtype=float) * scale, r["quantity"])
        t["Rules"] = r
    return t


@st.composite
def spread_instances(draw):
    n_items = draw(st.integers(2, 4))
    kw = dict(
        partners=draw(st.integers(2, 3)), items=n_items,
        offers_per_item=draw(st.integers(2, 3)), periods=draw(st.integers(2, 3)),
        rule_density=draw(st.sampled_from([0.0, 1.0, 2.0])), tiers=draw(st.booleans()),
        setup=draw(st.booleans()), min_orders=draw(st.booleans()),
        shared_capacity=draw(st.booleans()), shortfall=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    # per item: cheapest price 0.01 .. 1e7, smallest demand row 1 .. 1e6 (largest <= ~1e7)
    price_exp = draw(st.lists(st.integers(-2, 7), min_size=n_items, max_size=n_items))
    qty_exp = draw(st.lists(st.integers(0, 6), min_size=n_items, max_size=n_items))
    price_exp[0], price_exp[-1] = -2, 7  # both ends in every model
    qty_exp[0], qty_exp[-1] = 6, 0
    return kw, price_exp, qty_exp


@SETTINGS
@given(spread_instances())
def test_spread_magnitudes_solve_correctly(case):
    kw, price_exp, qty_exp = case
    data = procure.validate_tables(rescale(generate(**kw), price_exp, qty_exp))
    prices = data.offers["unit_price"]
    assert prices.min() == pytest.approx(0.01) and prices.max() >= 1e7
    assert data.demand["quantity"].min() == pytest.approx(1) and data.demand["quantity"].max() >= 1e6
    result = procure.solve(data, mip_gap=0.0)
    assert result.status == procure.Status.OPTIMAL, result.message
    check_solution(data, result)  # relative tolerances (1e-6 of the magnitudes involved)


@SETTINGS
@given(spread_instances(), st.sampled_from([1e-2, 1e2]))
def test_cost_scales_with_prices(case, factor):
    """Every money amount times ``factor``: the same problem, so the cost times ``factor``."""
    kw, price_exp, qty_exp = case
    # cheapest prices 1 .. 1e5 before, 0.01 .. 1e7 after the factor
    tables = rescale(generate(**kw), [min(max(e, 0), 5) for e in price_exp], qty_exp)
    base_data = procure.validate_tables(tables)
    base = procure.solve(base_data, mip_gap=0.0)
    assert base.status == procure.Status.OPTIMAL, base.message
    scaled = {k: v.copy() for k, v in tables.items()}
    scaled["Offers"]["unit_price"] *= factor
    scaled["Offers"]["setup_cost"] *= factor
    scaled["PriceTiers"]["unit_price"] *= factor
    scaled["Items"]["shortfall_penalty"] *= factor
    scaled["Transport"]["cost_per_unit"] *= factor
    data = procure.validate_tables(scaled)
    result = procure.solve(data, mip_gap=0.0)
    assert result.status == procure.Status.OPTIMAL, result.message
    check_solution(data, result)
    assert rel_close(result.total_cost, factor * base.total_cost, 1e-6), (
        result.total_cost, factor * base.total_cost)


# --------------------------------------------------------------------------- the checker


def test_check_tolerances_are_relative():
    """At 1e7 units a 1e-9 relative error is noise; a 1e-4 one is a wrong plan."""
    data = procure.validate_tables(extreme_tables())
    result = procure.solve(data)
    check_solution(data, result)
    alloc = result.allocation
    row = alloc.index[alloc["item"] == "bolt"][0]

    def with_quantity(q):
        a = alloc.copy()
        a.loc[row, "quantity"] = q
        a.loc[row, "cost"] = q * a.loc[row, "unit_price"] + a.loc[row, "transport"]
        return a

    check_solution(data, dataclasses.replace(result, allocation=with_quantity(1e7 * (1 + 1e-10))))
    wrong = dataclasses.replace(result, allocation=with_quantity(1e7 * (1 + 1e-4)))
    with pytest.raises(AssertionError, match="demand"):
        check_solution(data, wrong)
