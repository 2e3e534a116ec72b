"""Known-answer tests, one or more per constraint family and rule (SPEC sections 2-3).

Every scenario is tiny and inline; the comment above each assertion works the optimum
out by hand.  Every plan is re-checked by the independent checker (``solved`` does it),
and where the model is a pure LP the duals are compared with hand values, signed as in
docs/results.md: the change in total cost for one more unit of the right-hand side
(``marginal_cost`` of demand; ``marginal_value`` >= 0 of capacity and budget = the saving).

Suppliers are named by what they are: ``A`` is the cheap one, ``B`` the dearer one, and
so on; one period ``1`` unless said otherwise.
"""

from __future__ import annotations

import pandas as pd
import pytest

try:
    from tests.tiny import alloc, qty, rule, rules_of, solved, tiny
except ImportError:  # tests/ is not a package
    from tiny import alloc, qty, rule, rules_of, solved, tiny


def approx(x):
    return pytest.approx(x, rel=1e-6, abs=1e-9)


def off(supplier, item, unit_price, **kw) -> dict:
    return dict(supplier=supplier, item=item, unit_price=unit_price, **kw)


def demand_dual(result, partner, item, period="1") -> float:
    d = result.demand_duals
    row = d[(d["partner"] == partner) & (d["item"] == item) & (d["period"] == period)]
    assert len(row) == 1, d
    return float(row["marginal_cost"].iloc[0])


def capacity_dual(result, supplier, item=None, period="1") -> float:
    d = result.capacity_duals
    mask = (d["supplier"] == supplier) & (d["period"] == period)
    mask &= d["item"].isna() if item is None else (d["item"] == item)
    row = d[mask]
    assert len(row) == 1, d
    return float(row["marginal_value"].iloc[0])


def one_rule(result, kind, subject=None) -> pd.Series:
    table = rules_of(result, kind)
    if subject is not None:
        table = table[table["subject"] == subject]
    assert len(table) == 1, result.rules
    return table.iloc[0]


# =========================================================================== 1. demand


def test_demand_is_met_exactly_no_over_buying():
    # A costs 10/unit, all units at 5 from 70 units on.  P needs 60.
    # Buying 70 at 5 = 350 would beat 60 at 10 = 600 if the surplus could be bought,
    # but demand is an equality (no over-buying): 60 * 10 = 600.
    data = tiny(offers=[off("A", "x", 10)], demand=[("P", "x", 1, 60)],
                tiers=[("A", "x", 70, 5)])
    r = solved(data)
    assert r.total_cost == approx(600)
    assert qty(r) == approx(60)
    assert r.fulfilment["delivered"].tolist() == approx([60])


def test_demand_and_capacity_duals_lp():
    # P needs 8. A: 10/unit, capacity 5; B: 12/unit, unlimited.
    # Optimum A 5, B 3: 5*10 + 3*12 = 86.  One more unit demanded comes from B: dual 12.
    # One more unit of A's capacity replaces a B unit: saves 12 - 10 = 2.
    data = tiny(offers=[off("A", "x", 10, capacity=5), off("B", "x", 12)],
                demand=[("P", "x", 1, 8)])
    r = solved(data)
    assert not r.is_mip
    assert r.total_cost == approx(86)
    assert alloc(r) == {("P", "x", "A", "1"): approx(5), ("P", "x", "B", "1"): approx(3)}
    assert demand_dual(r, "P", "x") == approx(12)
    assert capacity_dual(r, "A", "x") == approx(2)


def test_shortfall_penalty_cheaper_to_leave_unmet():
    # Item x: penalty 7 < price 10 -> leave all 4 unmet: 4*7 = 28.
    # Item y: penalty 15 > price 10 -> buy all 3: 3*10 = 30.  Total 58.
    # Duals: one more x is one more unit short (7); one more y is bought (10).
    data = tiny(
        offers=[off("A", "x", 10), off("A", "y", 10)],
        demand=[("P", "x", 1, 4), ("P", "y", 1, 3)],
        items={"x": {"shortfall_penalty": 7}, "y": {"shortfall_penalty": 15}},
    )
    r = solved(data)
    assert r.total_cost == approx(58)
    assert r.shortfall == approx(28) and r.purchase == approx(30)
    f = r.fulfilment.set_index("item")
    assert f.loc["x", "shortfall"] == approx(4) and f.loc["x", "delivered"] == approx(0)
    assert f.loc["y", "shortfall"] == approx(0) and f.loc["y", "delivered"] == approx(3)
    assert demand_dual(r, "P", "x") == approx(7)
    assert demand_dual(r, "P", "y") == approx(10)


# =========================================================================== 2. capacity


def test_capacity_sheet_overrides_offer_capacity_per_period():
    # A: 10/unit, Offers.capacity 5, but the Capacity sheet cuts period 2 to 2.  B: 20/unit.
    # Period 1 (needs 8): A 5 + B 3 = 50 + 60 = 110.
    # Period 2 (needs 8): A 2 + B 6 = 20 + 120 = 140.  Total 250.
    # Both A capacities bind: one more unit saves 20 - 10 = 10; demand duals are B's 20.
    data = tiny(offers=[off("A", "x", 10, capacity=5), off("B", "x", 20)],
                demand=[("P", "x", 1, 8), ("P", "x", 2, 8)],
                capacity=[("A", "x", 2, 2)])
    r = solved(data)
    assert r.total_cost == approx(250)
    assert qty(r, supplier="A", period="1") == approx(5)
    assert qty(r, supplier="A", period="2") == approx(2)
    assert capacity_dual(r, "A", "x", "1") == approx(10)
    assert capacity_dual(r, "A", "x", "2") == approx(10)
    assert demand_dual(r, "P", "x", "2") == approx(20)


def test_shared_supplier_capacity_with_capacity_use():
    # Supplier A has 10 units of shared capacity; x uses 2 per unit, y uses 1.
    # A sells both at 10; B sells x at 13 and y at 16.  Demand x 4, y 6.
    # Saving per unit of A's capacity: x (13-10)/2 = 1.5, y (16-10)/1 = 6 -> y first.
    # A: 6 y (uses 6) + 2 x (uses 4) = 10.  B: 2 x.
    # Cost 6*10 + 2*10 + 2*13 = 60 + 20 + 26 = 106.
    # Duals: shared capacity is worth 1.5 per unit (one more unit -> 0.5 more x from A);
    # one more x comes from B (13); one more y from A displaces 0.5 x to B: 10 + 0.5*3 = 11.5.
    data = tiny(
        offers=[off("A", "x", 10, capacity_use=2), off("A", "y", 10, capacity_use=1),
                off("B", "x", 13), off("B", "y", 16)],
        demand=[("P", "x", 1, 4), ("P", "y", 1, 6)],
        suppliers={"A": {"country": "FR", "capacity": 10}, "B": "DE"},
    )
    r = solved(data)
    assert r.total_cost == approx(106)
    a = alloc(r)
    assert a[("P", "y", "A", "1")] == approx(6)
    assert a[("P", "x", "A", "1")] == approx(2)
    assert a[("P", "x", "B", "1")] == approx(2)
    use = r.supplier_use.set_index("supplier").loc["A"]
    assert use["capacity_used"] == approx(10) and use["quantity"] == approx(8)
    assert capacity_dual(r, "A", None) == approx(1.5)
    assert demand_dual(r, "P", "x") == approx(13)
    assert demand_dual(r, "P", "y") == approx(11.5)


def test_first_period_lead_time():
    # A (10/unit) can deliver only from period 2; B costs 15.  Demand 5 in each period.
    # Period 1: B 5 = 75.  Period 2: A 5 = 50.  Total 125.
    data = tiny(offers=[off("A", "x", 10, first_period=2), off("B", "x", 15)],
                demand=[("P", "x", 1, 5), ("P", "x", 2, 5)])
    r = solved(data)
    assert r.total_cost == approx(125)
    assert alloc(r) == {("P", "x", "B", "1"): approx(5), ("P", "x", "A", "2"): approx(5)}
    assert demand_dual(r, "P", "x", "1") == approx(15)
    assert demand_dual(r, "P", "x", "2") == approx(10)


# =========================================================================== 3. min order, setup


def _min_order_data(partners_demand):
    # A: 10/unit, capacity 40, min_order 30 (pooled, over the horizon).  B: 12/unit.
    return tiny(offers=[off("A", "x", 10, capacity=40, min_order=30), off("B", "x", 12)],
                demand=[(p, "x", 1, q) for p, q in partners_demand])


def test_min_order_too_small_to_use():
    # P alone needs 20 < min_order 30, and over-buying is not allowed: A is out.
    # B: 20 * 12 = 240.
    r = solved(_min_order_data([("P", 20)]))
    assert r.is_mip
    assert r.total_cost == approx(240)
    assert qty(r, supplier="A") == 0
    assert not bool(r.offers.set_index("supplier").loc["A", "used"])


def test_min_order_reached_by_pooling():
    # P and Q need 20 each: pooled 40 >= 30, within A's capacity 40.
    # A: 40 * 10 = 400 (vs 480 from B).
    r = solved(_min_order_data([("P", 20), ("Q", 20)]))
    assert r.total_cost == approx(400)
    assert qty(r, supplier="A") == approx(40)
    assert qty(r, supplier="A", partner="P") == approx(20)


def test_min_order_partly_worth_it():
    # P needs 50; A's capacity 40 caps it.  Using A at all means >= 30 units from A.
    # A 40 + B 10 = 400 + 120 = 520 (vs all B 600).
    r = solved(_min_order_data([("P", 50)]))
    assert r.total_cost == approx(520)
    assert qty(r, supplier="A") == approx(40)


@pytest.mark.parametrize(
    ("need", "expected", "a_used"),
    [
        # 40 units: A 40*10 + setup 100 = 500 > B 40*12 = 480 -> B, 480.
        (40, 480, False),
        # 60 units: A 60*10 + 100 = 700 < B 60*12 = 720 -> A, 700.
        (60, 700, True),
    ],
)
def test_setup_cost(need, expected, a_used):
    data = tiny(offers=[off("A", "x", 10, setup_cost=100), off("B", "x", 12)],
                demand=[("P", "x", 1, need)])
    r = solved(data)
    assert r.total_cost == approx(expected)
    assert r.setup == approx(100 if a_used else 0)
    assert qty(r, supplier="A") == approx(need if a_used else 0)
    row = r.offers.set_index("supplier").loc["A"]
    assert bool(row["used"]) is a_used
    assert row["setup_cost"] == approx(100 if a_used else 0)


# =========================================================================== 4. price tiers


def _all_units(p_need, q_need):
    # A: 10/unit, all units at 8 once the pooled quantity reaches 50.  B: 9/unit.
    demand = [("P", "x", 1, p_need)] + ([("Q", "x", 1, q_need)] if q_need else [])
    return tiny(offers=[off("A", "x", 10), off("B", "x", 9)], demand=demand,
                tiers=[("A", "x", 50, 8)])


def test_all_units_alone_below_tier():
    # P alone needs 30: A would cost 30*10 = 300 > B 30*9 = 270 -> B, 270.
    r = solved(_all_units(30, 0))
    assert r.total_cost == approx(270)
    assert qty(r, supplier="B") == approx(30)


def test_all_units_pooling_reaches_tier_price_for_all_units():
    # P 30 + Q 30 pooled = 60 >= 50: every unit at 8 -> 480 (B would be 540).
    # The price paid is 8 for ALL 60 units, not only for those above 50.
    r = solved(_all_units(30, 30))
    assert r.total_cost == approx(480)
    assert qty(r, supplier="A") == approx(60)
    o = r.offers.set_index("supplier").loc["A"]
    assert o["tier_min_quantity"] == approx(50)
    assert o["unit_price"] == approx(8)
    assert o["purchase_cost"] == approx(480)
    assert r.allocation["unit_price"].tolist() == approx([8, 8])
    assert r.allocation["base_price"].tolist() == approx([10, 10])


def test_all_units_exactly_at_breakpoint():
    # P 25 + Q 25 = exactly 50: the tier applies at its min_quantity.  50 * 8 = 400 (B 450).
    r = solved(_all_units(25, 25))
    assert r.total_cost == approx(400)
    o = r.offers.set_index("supplier").loc["A"]
    assert o["pooled_quantity"] == approx(50)
    assert o["unit_price"] == approx(8)


def test_all_units_one_below_breakpoint():
    # P 25 + Q 24 = 49 < 50: A is 10/unit, B 9 -> all B: 49 * 9 = 441.
    r = solved(_all_units(25, 24))
    assert r.total_cost == approx(441)
    assert qty(r, supplier="A") == 0


@pytest.mark.parametrize(
    ("need", "expected", "a_qty"),
    [
        # A: 10/unit for the first 50 units, 6/unit beyond (incremental).  B: 9/unit.
        # Cost of Q from A and the rest from B, for demand D:
        #   Q <= 50: 10Q + 9(D - Q)          -> increasing in Q, best Q = 0
        #   Q >= 50: 500 + 6(Q - 50) + 9(D - Q) = 200 + 9D - 3Q -> best Q = D
        # D = 100: min(B 900, A 200 + 900 - 300 = 800) = 800 (A only, average price 8).
        (100, 800, 100),
        # D = 60: min(B 540, A 200 + 540 - 180 = 560) = 540 (B only).
        (60, 540, 0),
    ],
)
def test_incremental_tiers_piecewise_cost(need, expected, a_qty):
    data = tiny(offers=[off("A", "x", 10, discount="incremental"), off("B", "x", 9)],
                demand=[("P", "x", 1, need)], tiers=[("A", "x", 50, 6)])
    r = solved(data)
    assert r.total_cost == approx(expected)
    assert qty(r, supplier="A") == approx(a_qty)
    if a_qty:
        o = r.offers.set_index("supplier").loc["A"]
        assert o["purchase_cost"] == approx(800)
        assert o["unit_price"] == approx(8)  # average: 800 / 100


def test_incremental_exactly_at_breakpoint_reports_the_tier_reached():
    # A: 10/unit below 50, 6/unit from 50 (incremental); P needs exactly 50, only A sells.
    # Cost 50*10 = 500 either way (the piecewise cost is continuous), but the tier reached
    # is the one with the largest min_quantity <= Q = 50: tier 50, not the base band.
    data = tiny(offers=[off("A", "x", 10, discount="incremental")],
                demand=[("P", "x", 1, 50)], tiers=[("A", "x", 50, 6)])
    r = solved(data)
    assert r.total_cost == approx(500)
    o = r.offers.set_index("supplier").loc["A"]
    assert o["tier_min_quantity"] == approx(50)
    assert o["unit_price"] == approx(10) and o["purchase_cost"] == approx(500)


def test_incremental_three_bands():
    # A: 10 up to 20, 8 from 20, 5 from 50 (incremental); P needs 60, only A sells.
    # 20*10 + 30*8 + 10*5 = 200 + 240 + 50 = 490.
    data = tiny(offers=[off("A", "x", 10, discount="incremental")],
                demand=[("P", "x", 1, 60)], tiers=[("A", "x", 20, 8), ("A", "x", 50, 5)])
    r = solved(data)
    assert r.total_cost == approx(490)


# =========================================================================== 5. budget


def test_budget_binding_lp_dual():
    # P needs 15 of x (penalty 20/unit short); A sells at 10; P's budget is 100.
    # The budget buys 10 units; 5 are short: 100 + 5*20 = 200.
    # One more unit of budget buys 0.1 unit more, saving 0.1*(20 - 10) = 1.
    # One more unit demanded is one more unit short: 20.
    data = tiny(offers=[off("A", "x", 10)], demand=[("P", "x", 1, 15)],
                partners={"P": {"budget": 100}}, items={"x": {"shortfall_penalty": 20}})
    r = solved(data)
    assert r.total_cost == approx(200)
    assert qty(r) == approx(10)
    assert r.partner_costs.set_index("partner").loc["P", "budget_value"] == approx(100)
    d = r.budget_duals.set_index("partner")
    assert float(d.loc["P", "marginal_value"]) == approx(1.0)
    assert demand_dual(r, "P", "x") == approx(20)


def test_budget_counts_base_price_and_transport():
    # A (FR): base 10, all units at 7 from 50; transport FR -> P 1/unit.  B (DE): 9, no transport.
    # P needs 60.  Without a budget: A 60*(7+1) = 480 < B 540.
    # Budget 600: A's budget value is 60*(10+1) = 660 > 600 (base price, not 7!) -> B, 540.
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 9)], demand=[("P", "x", 1, 60)],
                tiers=[("A", "x", 50, 7)], suppliers={"A": "FR", "B": "DE"},
                transport=[("FR", "P", 1, None)], partners={"P": {"budget": 600}})
    r = solved(data)
    assert r.total_cost == approx(540)
    assert qty(r, supplier="B") == approx(60)
    # and with the budget lifted to 660 exactly, A fits: 480
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 9)], demand=[("P", "x", 1, 60)],
                tiers=[("A", "x", 50, 7)], suppliers={"A": "FR", "B": "DE"},
                transport=[("FR", "P", 1, None)], partners={"P": {"budget": 660}})
    r = solved(data)
    assert r.total_cost == approx(480)


# =========================================================================== transport


def test_transport_item_specific_then_any_item_then_zero():
    # A (FR) sells x and y at 10; B (DE) sells both at 11.5, with no Transport rows (0).
    # Transport FR -> P: 3 for x (item row), 1 for any other item; FR -> Q: no row (0).
    #   P's 2 x:  A 10 + 3 = 13  vs B 11.5 -> B: 23
    #   P's 3 y:  A 10 + 1 = 11  vs B 11.5 -> A: 33 (purchase 30, transport 3)
    #   Q's 4 x:  A 10 + 0 = 10  vs B 11.5 -> A: 40
    # Total 96; transport 3.
    data = tiny(
        offers=[off("A", "x", 10), off("A", "y", 10), off("B", "x", 11.5), off("B", "y", 11.5)],
        demand=[("P", "x", 1, 2), ("P", "y", 1, 3), ("Q", "x", 1, 4)],
        suppliers={"A": "FR", "B": "DE"},
        transport=[("FR", "P", 3, "x"), ("FR", "P", 1, None)],
    )
    r = solved(data)
    assert r.total_cost == approx(96)
    assert r.transport == approx(3)
    assert alloc(r) == {
        ("P", "x", "B", "1"): approx(2),
        ("P", "y", "A", "1"): approx(3),
        ("Q", "x", "A", "1"): approx(4),
    }
    row = r.allocation[(r.allocation["partner"] == "P") & (r.allocation["item"] == "y")].iloc[0]
    assert row["transport"] == approx(3) and row["cost"] == approx(33)


# =========================================================================== ban


def _two_partners(rules, **kw):
    # P (FR) and Q (DE) need 5 of x each.  A (FR) 10, B (DE) 10.5, C (IT) 12.
    kw.setdefault("partners", {"P": {"country": "FR"}, "Q": {"country": "DE"}})
    return tiny(
        offers=[off("A", "x", 10), off("B", "x", 10.5), off("C", "x", 12)],
        demand=[("P", "x", 1, 5), ("Q", "x", 1, 5)],
        suppliers={"A": "FR", "B": "DE", "C": "IT"},
        rules=rules, **kw,
    )


def test_ban_for_one_partner():
    # P may not buy from A: P takes B (5*10.5 = 52.5), Q keeps A (50).  Total 102.5.
    r = solved(_two_partners([rule("ban", partner="P", group="A")]))
    assert r.total_cost == approx(102.5)
    assert alloc(r) == {("P", "x", "B", "1"): approx(5), ("Q", "x", "A", "1"): approx(5)}
    b = one_rule(r, "ban")
    assert b["achieved"] == 0 and bool(b["binds"])


def test_ban_blank_partner_is_everyone():
    # Nobody may buy from A: both take B, 10 * 10.5 = 105.
    r = solved(_two_partners([rule("ban", group="A")]))
    assert r.total_cost == approx(105)
    assert qty(r, supplier="B") == approx(10)


def test_ban_domestic_blank_partner_is_each_partners_own():
    # Each partner may not buy from its own country's suppliers:
    # P (FR) cannot use A -> B 52.5;  Q (DE) cannot use B -> A 50.  Total 102.5.
    r = solved(_two_partners([rule("ban", group="domestic")]))
    assert r.total_cost == approx(102.5)
    assert alloc(r) == {("P", "x", "B", "1"): approx(5), ("Q", "x", "A", "1"): approx(5)}


def test_ban_by_bloc():
    # EU = {FR, DE}; P may not buy from the EU: P takes C (12*5 = 60); Q takes A (50).  110.
    r = solved(_two_partners([rule("ban", partner="P", group="EU")],
                             blocs=[("EU", "FR"), ("EU", "DE")]))
    assert r.total_cost == approx(110)
    assert qty(r, partner="P", supplier="C") == approx(5)


def test_ban_by_category():
    # x and y are ammo, z is comms; A (10) is banned for ammo only, B costs 12.
    # x, y (5 each) from B = 120; z (5) from A = 50.  Total 170.
    data = tiny(
        offers=[off(s, i, p) for s, p in (("A", 10), ("B", 12)) for i in ("x", "y", "z")],
        demand=[("P", i, 1, 5) for i in ("x", "y", "z")],
        items={"x": {"category": "ammo"}, "y": {"category": "ammo"}, "z": {"category": "comms"}},
        rules=[rule("ban", item="ammo", group="A")],
    )
    r = solved(data)
    assert r.total_cost == approx(170)
    assert qty(r, supplier="A") == approx(5) and qty(r, supplier="A", item="z") == approx(5)


def test_ban_by_country():
    # Country IT banned for everyone, and A banned for Q: P takes A (50), Q takes B (52.5).
    r = solved(_two_partners([rule("ban", group="IT"), rule("ban", partner="Q", group="A")]))
    assert r.total_cost == approx(102.5)
    assert qty(r, supplier="C") == 0


# =========================================================================== shares


def _fr_de(a_price, b_price, rules, need=10, **kw):
    # P needs `need` of x; A is in FR, B in DE.
    return tiny(offers=[off("A", "x", a_price), off("B", "x", b_price)],
                demand=[("P", "x", 1, need)], suppliers={"A": "FR", "B": "DE"},
                rules=rules, **kw)


def test_min_share_by_country_lp_dual():
    # A (FR) 10, B (DE) 12; at least 40% from DE: B 4, A 6 -> 60 + 48 = 108.
    # Rule row: (1-0.4)*xB - 0.4*xA >= r; with xA + xB = 10 that is xB >= 4 + r, so
    # cost = 100 + 2*xB = 108 + 2r: the rule's dual is +2.
    # One more unit demanded: 0.4 of it from B, 0.6 from A: 0.6*10 + 0.4*12 = 10.8.
    r = solved(_fr_de(10, 12, [rule("min_share", partner="P", group="DE", share=0.4)]))
    assert r.total_cost == approx(108)
    assert qty(r, supplier="B") == approx(4)
    row = one_rule(r, "min_share")
    assert row["achieved"] == approx(0.4) and bool(row["binds"])
    assert row["dual"] == approx(2)
    assert demand_dual(r, "P", "x") == approx(10.8)


def test_max_share_lp_dual():
    # A (FR) 12, B (DE) 10; at most 30% from DE: B 3, A 7 -> 30 + 84 = 114.
    # Row: 0.7 xB - 0.3 xA <= r  ->  xB <= 3 + r; cost = 120 - 2 xB = 114 - 2r: dual -2.
    r = solved(_fr_de(12, 10, [rule("max_share", partner="P", group="DE", share=0.3)]))
    assert r.total_cost == approx(114)
    row = one_rule(r, "max_share")
    assert row["achieved"] == approx(0.3) and bool(row["binds"])
    assert row["dual"] == approx(-2)


def test_share_rule_not_binding():
    # At least 20% from FR, and A (FR) is the cheap one anyway: all A, 100; rule slack.
    r = solved(_fr_de(10, 12, [rule("min_share", partner="P", group="FR", share=0.2)]))
    assert r.total_cost == approx(100)
    row = one_rule(r, "min_share")
    assert row["achieved"] == approx(1.0) and not bool(row["binds"])
    assert row["dual"] == approx(0)


def test_min_value_share_lp_dual():
    # A (FR) 10, B (DE) 20; at least 50% of value from DE: 20 xB >= 0.5 (10 xA + 20 xB)
    # <=> 10 xB >= 5 xA; with xA = 10 - xB: 15 xB >= 50, xB = 10/3.
    # Cost = 10*10 + 10*xB = 100 + 100/3 = 133.333...
    # Row 10 xB - 5 xA >= r -> 15 xB - 50 >= r -> xB = (50 + r)/15; dual = 10/15 = 2/3.
    r = solved(_fr_de(10, 20, [rule("min_value_share", partner="P", group="DE", share=0.5)]))
    assert r.total_cost == approx(100 + 100 / 3)
    assert qty(r, supplier="B") == approx(10 / 3)
    row = one_rule(r, "min_value_share")
    assert row["achieved"] == approx(0.5) and bool(row["binds"])
    assert row["dual"] == approx(2 / 3)


def test_min_value_share_uses_base_price_not_tier_price():
    # As above, but B's all-units price drops to 15 from 1 unit on (base stays 20).
    # Value at base price: xB >= 10/3 as above (at the paid price 15 it would be xB >= 4).
    # Cost = 10 * 20/3 + 15 * 10/3 = 66.667 + 50 = 116.667.
    r = solved(_fr_de(10, 20, [rule("min_value_share", partner="P", group="DE", share=0.5)],
                      tiers=[("B", "x", 1, 15)]))
    assert r.total_cost == approx(350 / 3)
    assert qty(r, supplier="B") == approx(10 / 3)
    assert one_rule(r, "min_value_share")["achieved"] == approx(0.5)


def test_max_value_share():
    # A (FR) 12, B (DE) 10; at most 25% of value from DE: 10 xB <= 0.25 (12 xA + 10 xB)
    # <=> 7.5 xB <= 3 xA = 3 (10 - xB) <=> 10.5 xB <= 30, xB = 30/10.5 = 2.857142...
    # Cost = 120 - 2 xB = 120 - 60/10.5 = 114.285714...
    # Row 7.5 xB - 3 xA <= r -> 10.5 xB - 30 <= r; cost = 120 - 2(30 + r)/10.5: dual -2/10.5.
    r = solved(_fr_de(12, 10, [rule("max_value_share", partner="P", group="DE", share=0.25)]))
    assert r.total_cost == approx(120 - 60 / 10.5)
    row = one_rule(r, "max_value_share")
    assert row["achieved"] == approx(0.25)
    assert row["dual"] == approx(-2 / 10.5)


def test_share_group_supplier_id():
    # Three suppliers: A (FR) 10, B (FR) 11, C (DE) 12.  At least 30% from supplier B
    # (not country FR, which A would satisfy): B 3, A 7 -> 70 + 33 = 103.
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 11), off("C", "x", 12)],
                demand=[("P", "x", 1, 10)], suppliers={"A": "FR", "B": "FR", "C": "DE"},
                rules=[rule("min_share", partner="P", group="B", share=0.3)])
    r = solved(data)
    assert r.total_cost == approx(103)
    assert qty(r, supplier="B") == approx(3)


def test_share_group_bloc():
    # A (US) 10, C (FR) 11, B (DE) 12; EU = {FR, DE}; at least 60% from the EU:
    # the cheapest EU supplier is C: 6 from C, 4 from A -> 66 + 40 = 106.
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 12), off("C", "x", 11)],
                demand=[("P", "x", 1, 10)], suppliers={"A": "US", "B": "DE", "C": "FR"},
                blocs=[("EU", "FR"), ("EU", "DE")],
                rules=[rule("min_share", partner="P", group="EU", share=0.6)])
    r = solved(data)
    assert r.total_cost == approx(106)
    assert qty(r, supplier="C") == approx(6) and qty(r, supplier="B") == 0


def test_share_group_domestic():
    # P's country is DE; at least half from domestic suppliers: B (DE) 5 at 12, A (FR) 5 at 10.
    # 60 + 50 = 110.
    r = solved(_fr_de(10, 12, [rule("min_share", partner="P", group="domestic", share=0.5)],
                      partners={"P": {"country": "DE"}}))
    assert r.total_cost == approx(110)
    assert qty(r, supplier="B") == approx(5)


def test_max_share_each_supplier():
    # A 10, B 11, C 12 (all different countries); no supplier above 50%: A 5, B 5 -> 105.
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 11), off("C", "x", 12)],
                demand=[("P", "x", 1, 10)],
                rules=[rule("max_share", partner="P", group="each_supplier", share=0.5)])
    r = solved(data)
    assert r.total_cost == approx(105)
    assert alloc(r) == {("P", "x", "A", "1"): approx(5), ("P", "x", "B", "1"): approx(5)}
    rows = rules_of(r, "max_share").set_index("subject")
    assert rows.loc["A", "achieved"] == approx(0.5) and bool(rows.loc["A", "binds"])
    assert rows.loc["B", "achieved"] == approx(0.5)


def test_max_share_each_country():
    # A (FR) 10, A2 (FR) 10.5, B (DE) 11, C (IT) 12; no country above 40%:
    # FR 4 (all from A: 40), DE 4 (44), IT 2 (24) -> 108.  A2 is not needed (FR is full).
    data = tiny(offers=[off("A", "x", 10), off("A2", "x", 10.5), off("B", "x", 11),
                        off("C", "x", 12)],
                demand=[("P", "x", 1, 10)],
                suppliers={"A": "FR", "A2": "FR", "B": "DE", "C": "IT"},
                rules=[rule("max_share", partner="P", group="each_country", share=0.4)])
    r = solved(data)
    assert r.total_cost == approx(108)
    assert alloc(r) == {("P", "x", "A", "1"): approx(4), ("P", "x", "B", "1"): approx(4),
                        ("P", "x", "C", "1"): approx(2)}
    rows = rules_of(r, "max_share").set_index("subject")
    assert rows.loc["FR", "achieved"] == approx(0.4) and bool(rows.loc["FR", "binds"])
    assert rows.loc["IT", "achieved"] == approx(0.2) and not bool(rows.loc["IT", "binds"])


def _scope_data(rules):
    # P and Q need 10 each; A (FR) 10; B (DE) 12, plus transport DE -> P of 1 (13 delivered).
    return tiny(offers=[off("A", "x", 10), off("B", "x", 12)],
                demand=[("P", "x", 1, 10), ("Q", "x", 1, 10)],
                suppliers={"A": "FR", "B": "DE"},
                transport=[("DE", "P", 1, None)], rules=rules)


def test_share_pool_scope():
    # Pool rule (blank partner): at least 25% of the pool's 20 from DE = 5 units, wherever:
    # the cheapest DE units go to Q (12, no transport): 200 + 5*2 = 210; P gets none.
    r = solved(_scope_data([rule("min_share", group="DE", share=0.25)]))
    assert r.total_cost == approx(210)
    assert qty(r, supplier="B", partner="Q") == approx(5)
    assert qty(r, supplier="B", partner="P") == 0


def test_share_partner_scope():
    # Same rule for P only: 25% of P's 10 = 2.5 units of B at 13: 200 + 2.5*3 = 207.5.
    r = solved(_scope_data([rule("min_share", partner="P", group="DE", share=0.25)]))
    assert r.total_cost == approx(207.5)
    assert qty(r, supplier="B", partner="P") == approx(2.5)
    assert qty(r, supplier="B", partner="Q") == 0
    assert one_rule(r, "min_share")["dual"] == approx(3)  # one unit of rhs = one more B unit


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        # x, y are ammo, z is comms; 10 of each; A (FR) 10, B (DE) 12; 50% from DE.
        ("x", 310),  # item id: 5 of x from B: 300 + 5*2
        ("ammo", 320),  # category: 10 of the 20 ammo from B: 300 + 10*2
        (None, 330),  # blank = every item: 15 of 30 from B: 300 + 15*2
    ],
)
def test_share_item_scope(item, expected):
    data = tiny(
        offers=[off(s, i, p) for s, p in (("A", 10), ("B", 12)) for i in ("x", "y", "z")],
        demand=[("P", i, 1, 10) for i in ("x", "y", "z")],
        suppliers={"A": "FR", "B": "DE"},
        items={"x": {"category": "ammo"}, "y": {"category": "ammo"}, "z": {"category": "comms"}},
        rules=[rule("min_share", partner="P", item=item, group="DE", share=0.5)],
    )
    r = solved(data)
    assert r.total_cost == approx(expected)
    if item == "x":
        assert qty(r, supplier="B", item="x") == approx(5) and qty(r, supplier="B") == approx(5)


# =========================================================================== workshare


def _workshare(rules):
    # P (FR) and Q (DE) need 10 each.  A (FR) 10, B (DE) 12, C (US) 9: C is cheapest.
    return tiny(offers=[off("A", "x", 10), off("B", "x", 12), off("C", "x", 9)],
                demand=[("P", "x", 1, 10), ("Q", "x", 1, 10)],
                partners={"P": {"country": "FR"}, "Q": {"country": "DE"}},
                suppliers={"A": "FR", "B": "DE", "C": "US"}, rules=rules)


def test_workshare_one_partner_lp_dual():
    # Juste retour for P at 50%: value awarded to FR suppliers (over everyone's orders) must
    # be >= 0.5 * value of P's own orders.  Without it, all from C: 180.
    # Cheapest: P keeps C (value 90), so FR must get 45 of value = 4.5 units of A, and they
    # go to Q (giving them to P would raise P's own value and the target).
    # Cost 180 + 4.5 * (10 - 9) = 184.5.
    # Row: 10 a - 0.5 * 90 >= r -> a = (45 + r)/10, cost 180 + a: dual 0.1.
    r = solved(_workshare([rule("workshare", partner="P", share=0.5)]))
    assert r.total_cost == approx(184.5)
    assert qty(r, supplier="A", partner="Q") == approx(4.5)
    assert qty(r, supplier="A", partner="P") == 0
    row = one_rule(r, "workshare", subject="P")
    assert row["achieved"] == approx(0.5) and bool(row["binds"])
    assert row["dual"] == approx(0.1)


def test_workshare_every_partner():
    # Blank partner: every partner gets its juste retour.  With A and B both at 10
    # (C 9), each unit of A or B adds 1 to cost and 1 to one partner's own value, so
    # with a = A's units, b = B's units (by symmetry a = b):
    #   10 a >= 0.5 (90 + a)  ->  a = 45 / 9.5
    # Cost 180 + 2 * 45/9.5 = 189.4736842...  (who receives which units is not unique)
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 10), off("C", "x", 9)],
                demand=[("P", "x", 1, 10), ("Q", "x", 1, 10)],
                partners={"P": {"country": "FR"}, "Q": {"country": "DE"}},
                suppliers={"A": "FR", "B": "DE", "C": "US"},
                rules=[rule("workshare", share=0.5)])
    r = solved(data)
    assert r.total_cost == approx(180 + 90 / 9.5)
    assert qty(r, supplier="A") == approx(45 / 9.5)
    rows = rules_of(r, "workshare").set_index("subject")
    assert set(rows.index) == {"P", "Q"}
    assert rows["achieved"].tolist() == approx([0.5, 0.5])


# =========================================================================== quantities


def test_min_quantity_lp_dual():
    # Keep B's line warm: at least 4 units from B (12) although A (10) is cheaper.
    # A 6, B 4 -> 60 + 48 = 108.  One more unit required from B costs 12 - 10 = 2.
    r = solved(_fr_de(10, 12, [rule("min_quantity", partner="P", group="B", quantity=4)]))
    assert r.total_cost == approx(108)
    row = one_rule(r, "min_quantity")
    assert row["achieved"] == approx(4) and bool(row["binds"])
    assert row["dual"] == approx(2)


def test_max_quantity_pool_lp_dual():
    # Hard cap of 6 units from A (10) over the pool; B costs 12.  A 6, B 4 -> 108.
    # One more unit allowed from A saves 2: dual -2.
    r = solved(_fr_de(10, 12, [rule("max_quantity", group="FR", quantity=6)]))
    assert r.total_cost == approx(108)
    row = one_rule(r, "max_quantity")
    assert row["achieved"] == approx(6) and bool(row["binds"])
    assert row["dual"] == approx(-2)


def test_max_quantity_each_supplier():
    # No supplier delivers more than 4: A 10, B 11, C 12 -> A 4, B 4, C 2 = 40 + 44 + 24 = 108.
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 11), off("C", "x", 12)],
                demand=[("P", "x", 1, 10)],
                rules=[rule("max_quantity", partner="P", group="each_supplier", quantity=4)])
    r = solved(data)
    assert r.total_cost == approx(108)
    assert alloc(r) == {("P", "x", "A", "1"): approx(4), ("P", "x", "B", "1"): approx(4),
                        ("P", "x", "C", "1"): approx(2)}
    rows = rules_of(r, "max_quantity").set_index("subject")
    assert bool(rows.loc["A", "binds"]) and not bool(rows.loc["C", "binds"])


# =========================================================================== supplier counts


def test_min_suppliers_dual_sourcing_forces_dearer_second():
    # P needs 10; A 10, B 15.  Dual sourcing (>= 2 suppliers): B must deliver at least
    # 1 unit to count.  A 9, B 1 -> 90 + 15 = 105.
    r = solved(_fr_de(10, 15, [rule("min_suppliers", partner="P", quantity=2)]))
    assert r.is_mip
    assert r.total_cost == approx(105)
    assert qty(r, supplier="B") == approx(1)
    row = one_rule(r, "min_suppliers")
    assert row["subject"] == "x" and row["achieved"] == approx(2) and bool(row["binds"])


def test_min_suppliers_counts_all_it_can_when_less_than_one():
    # As above but B can only make 0.5: it counts when it delivers all it can.
    # A 9.5, B 0.5 -> 95 + 7.5 = 102.5.
    data = tiny(offers=[off("A", "x", 10), off("B", "x", 15, capacity=0.5)],
                demand=[("P", "x", 1, 10)], rules=[rule("min_suppliers", quantity=2)])
    r = solved(data)
    assert r.total_cost == approx(102.5)
    assert qty(r, supplier="B") == approx(0.5)


def test_max_suppliers_single_sourcing():
    # A 10 (capacity 6), B 11, C 12; P needs 10.  Unconstrained: A 6 + B 4 = 104.
    # Single sourcing: only B or C can cover all 10 alone: B, 110.
    data = tiny(offers=[off("A", "x", 10, capacity=6), off("B", "x", 11), off("C", "x", 12)],
                demand=[("P", "x", 1, 10)], rules=[rule("max_suppliers", quantity=1)])
    r = solved(data)
    assert r.total_cost == approx(110)
    assert alloc(r) == {("P", "x", "B", "1"): approx(10)}
    row = one_rule(r, "max_suppliers")
    assert row["achieved"] == approx(1) and bool(row["binds"])


def test_max_suppliers_per_item_only_items_in_scope():
    # Single sourcing for x only (not y).  A 10 (cap 6) and B 11 sell both; P needs 10 of each.
    # x: all from B = 110;  y: A 6 + B 4 = 104.  Total 214.
    data = tiny(offers=[off("A", i, 10, capacity=6) for i in ("x", "y")]
                + [off("B", i, 11) for i in ("x", "y")],
                demand=[("P", "x", 1, 10), ("P", "y", 1, 10)],
                rules=[rule("max_suppliers", partner="P", item="x", quantity=1)])
    r = solved(data)
    assert r.total_cost == approx(214)
    assert qty(r, item="x", supplier="B") == approx(10)
    assert len(rules_of(r, "max_suppliers")) == 1
