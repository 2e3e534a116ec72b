"""Tests of the independent plan checker (tests/checker.py) on hand-made plans.

The base scenario (2 partners, 2 items, 3 suppliers, 2 periods):

* PL needs 40 shells in 2026 and 40 in 2027; DE needs 30 shells in 2026 and
  20 radios in 2027 (radios have a shortfall penalty of 50).
* S1 (PL): shells at 10, 60/period, shared capacity 100/period.
* S2 (DE): shells at 12 (min_order 20, setup 100); radios at 100, incremental
  tier 80 from 10 units.
* S3 (FR): shells at 11, all-units tier 9 from 50 units.
* Transport FR -> PL: 2 for shells (5 for any other item).

The plan: PL gets 40 + 20 shells from S1 and 20 from S3 (2027); DE gets 30
shells from S3 and 15 radios from S2 (5 short).  S3 pools 50 -> price 9;
radios cost 10*100 + 5*80 = 1400.  Purchase 600 + 450 + 1400 = 2450,
transport 40, shortfall 250, setup 0: total 2740.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pandas as pd
import pytest

try:
    from tests.checker import check_solution, recompute_costs
except ImportError:  # tests/ is not a package
    from checker import check_solution, recompute_costs

from procure.data.tables import ProcureData

NAN = math.nan


def _ids(df: pd.DataFrame, cols) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.Series([None if pd.isna(v) else str(v) for v in df[c]], dtype=object)
    return df


def make_data(**changes) -> ProcureData:
    partners = _ids(pd.DataFrame({
        "partner": ["PL", "DE"], "name": ["Poland", "Germany"], "country": ["PL", "DE"],
        "budget": [NAN, 10000.0],
    }), ["partner", "name", "country"])
    items = _ids(pd.DataFrame({
        "item": ["shell", "radio"], "name": ["155mm", "Radio"], "unit": ["round", "set"],
        "category": ["ammo", "comms"], "shortfall_penalty": [NAN, 50.0],
    }), ["item", "name", "unit", "category"])
    suppliers = _ids(pd.DataFrame({
        "supplier": ["S1", "S2", "S3"], "name": ["One", "Two", "Three"],
        "country": ["PL", "DE", "FR"], "capacity": [100.0, NAN, NAN],
    }), ["supplier", "name", "country"])
    offers = _ids(pd.DataFrame({
        "supplier": ["S1", "S2", "S3", "S2"],
        "item": ["shell", "shell", "shell", "radio"],
        "unit_price": [10.0, 12.0, 11.0, 100.0],
        "capacity": [60.0, NAN, NAN, NAN],
        "capacity_use": [1.0, 1.0, 1.0, 1.0],
        "min_order": [0.0, 20.0, 0.0, 0.0],
        "setup_cost": [0.0, 100.0, 0.0, 0.0],
        "first_period": ["2026", "2026", "2026", "2026"],
        "discount": ["all_units", "all_units", "all_units", "incremental"],
    }), ["supplier", "item", "first_period", "discount"])
    demand = _ids(pd.DataFrame({
        "partner": ["PL", "PL", "DE", "DE"],
        "item": ["shell", "shell", "shell", "radio"],
        "period": ["2026", "2027", "2026", "2027"],
        "quantity": [40.0, 40.0, 30.0, 20.0],
        "source_row": [2, 3, 4, 5],
    }), ["partner", "item", "period"])
    capacity = _ids(pd.DataFrame({
        "supplier": pd.Series([], dtype=object), "item": pd.Series([], dtype=object),
        "period": pd.Series([], dtype=object), "capacity": pd.Series([], dtype=float),
    }), [])
    price_tiers = _ids(pd.DataFrame({
        "supplier": ["S3", "S2"], "item": ["shell", "radio"],
        "min_quantity": [50.0, 10.0], "unit_price": [9.0, 80.0],
    }), ["supplier", "item"])
    transport = _ids(pd.DataFrame({
        "from_country": ["FR", "FR"], "to_partner": ["PL", "PL"], "item": ["shell", None],
        "cost_per_unit": [2.0, 5.0],
    }), ["from_country", "to_partner", "item"])
    blocs = _ids(pd.DataFrame({
        "bloc": ["EU", "EU", "EU"], "country": ["PL", "DE", "FR"],
    }), ["bloc", "country"])
    tables = dict(
        partners=partners, items=items, suppliers=suppliers, offers=offers, demand=demand,
        capacity=capacity, price_tiers=price_tiers, transport=transport, blocs=blocs,
        rules=make_rules([]), settings={}, periods=("2026", "2027"),
    )
    tables.update(changes)
    return ProcureData(**tables)


def make_rules(rows: list[dict]) -> pd.DataFrame:
    cols = ["rule", "partner", "item", "group", "share", "quantity", "name"]
    df = pd.DataFrame({c: [r.get(c) for r in rows] for c in cols})
    df = _ids(df, ["rule", "partner", "item", "group", "name"])
    df["share"] = pd.to_numeric(df["share"]).astype(float)
    df["quantity"] = pd.to_numeric(df["quantity"]).astype(float)
    df["source_row"] = list(range(2, len(rows) + 2))
    return df


def with_rules(*rows: dict) -> ProcureData:
    return make_data(rules=make_rules(list(rows)))


def with_offer(**col_values) -> ProcureData:
    """Base data with Offers columns changed: ``col_values = {column: {(s, i): value}}``."""
    data = make_data()
    offers = data.offers.copy()
    for col, mapping in col_values.items():
        for (s, i), x in mapping.items():
            offers.loc[(offers["supplier"] == s) & (offers["item"] == i), col] = x
    return data.replace(offers=offers)


RULES_COLUMNS = ["rule_id", "name", "rule", "partner", "item", "group", "subject", "sense",
                 "target", "achieved", "lhs", "rhs", "binds", "dual"]


def make_result(**changes) -> types.SimpleNamespace:
    """The correct hand-made plan for the base scenario (every number typed in)."""
    avg = 1400.0 / 15.0
    allocation = pd.DataFrame({
        "partner": ["PL", "PL", "PL", "DE", "DE"],
        "item": ["shell", "shell", "shell", "shell", "radio"],
        "supplier": ["S1", "S1", "S3", "S3", "S2"],
        "supplier_country": ["PL", "PL", "FR", "FR", "DE"],
        "period": ["2026", "2027", "2027", "2026", "2027"],
        "quantity": [40.0, 20.0, 20.0, 30.0, 15.0],
        "unit_price": [10.0, 10.0, 9.0, 9.0, avg],
        "base_price": [10.0, 10.0, 11.0, 11.0, 100.0],
        "transport": [0.0, 0.0, 40.0, 0.0, 0.0],
        "cost": [400.0, 200.0, 220.0, 270.0, 1400.0],
    })
    offers = pd.DataFrame({
        "supplier": ["S1", "S2", "S3", "S2"],
        "item": ["shell", "shell", "shell", "radio"],
        "discount": ["all_units", "all_units", "all_units", "incremental"],
        "pooled_quantity": [60.0, 0.0, 50.0, 15.0],
        "tier_min_quantity": [0.0, 0.0, 50.0, 10.0],
        "unit_price": [10.0, 12.0, 9.0, avg],
        "purchase_cost": [600.0, 0.0, 450.0, 1400.0],
        "setup_cost": [0.0, 0.0, 0.0, 0.0],
        "used": [True, False, True, True],
        "min_order": [0.0, 20.0, 0.0, 0.0],
        "capacity_total": [120.0, NAN, NAN, NAN],
    })
    fulfilment = pd.DataFrame({
        "partner": ["PL", "PL", "DE", "DE"],
        "item": ["shell", "shell", "shell", "radio"],
        "period": ["2026", "2027", "2026", "2027"],
        "demand": [40.0, 40.0, 30.0, 20.0],
        "delivered": [40.0, 40.0, 30.0, 15.0],
        "shortfall": [0.0, 0.0, 0.0, 5.0],
        "shortfall_cost": [0.0, 0.0, 0.0, 250.0],
    })
    # proportional sharing: S3's 450 split 20/50 PL, 30/50 DE
    partner_costs = pd.DataFrame({
        "partner": ["PL", "DE"], "quantity": [80.0, 45.0],
        "purchase": [780.0, 1670.0], "setup": [0.0, 0.0], "transport": [40.0, 0.0],
        "shortfall": [0.0, 250.0], "total": [820.0, 1920.0],
        "budget": [NAN, 10000.0], "budget_value": [860.0, 1830.0],
    })
    supplier_use = pd.DataFrame({
        "supplier": ["S1", "S1", "S2", "S3", "S3"],
        "country": ["PL", "PL", "DE", "FR", "FR"],
        "period": ["2026", "2027", "2027", "2026", "2027"],
        "quantity": [40.0, 20.0, 15.0, 30.0, 20.0],
        "capacity_used": [40.0, 20.0, 15.0, 30.0, 20.0],
        "capacity": [100.0, 100.0, NAN, NAN, NAN],
        "utilisation": [0.4, 0.2, NAN, NAN, NAN],
    })
    offer_use = pd.DataFrame({
        "supplier": ["S1", "S1", "S3", "S3", "S2", "S2"],
        "item": ["shell", "shell", "shell", "shell", "radio", "radio"],
        "period": ["2026", "2027", "2026", "2027", "2026", "2027"],
        "quantity": [40.0, 20.0, 30.0, 20.0, 0.0, 15.0],
        "capacity": [60.0, 60.0, NAN, NAN, NAN, NAN],
        "utilisation": [40 / 60, 20 / 60, NAN, NAN, NAN, NAN],
    })
    ns = types.SimpleNamespace(
        status="optimal",
        allocation=allocation, offers=offers, fulfilment=fulfilment,
        partner_costs=partner_costs, supplier_use=supplier_use, offer_use=offer_use,
        rules=pd.DataFrame({c: [] for c in RULES_COLUMNS}),
        total_cost=2740.0, purchase=2450.0, setup=0.0, transport=40.0, shortfall=250.0,
    )
    for k, val in changes.items():
        setattr(ns, k, val)
    return ns


def edit(result, table: str, mask_cols: dict, **values) -> types.SimpleNamespace:
    """A copy of ``result`` with cells of one table changed where mask_cols match."""
    df = getattr(result, table).copy()
    m = np.ones(len(df), bool)
    for c, x in mask_cols.items():
        m &= (df[c] == x).to_numpy()
    assert m.any(), (table, mask_cols)
    for c, x in values.items():
        df.loc[m, c] = x
    setattr(result, table, df)
    return result


def violations(data, result) -> str:
    with pytest.raises(AssertionError) as exc:
        check_solution(data, result)
    return str(exc.value)


# ----------------------------------------------------------------------------- passing


def test_correct_plan_passes():
    check_solution(make_data(), make_result())


def test_recompute_costs_matches_hand_numbers():
    costs = recompute_costs(make_data(), make_result().allocation)
    assert costs == pytest.approx(
        {"purchase": 2450.0, "setup": 0.0, "transport": 40.0, "shortfall": 250.0,
         "total": 2740.0}
    )


def test_recompute_costs_counts_setup_and_tiers():
    data = with_offer(setup_cost={("S3", "shell"): 25.0})
    res = make_result()
    alloc = res.allocation[res.allocation["supplier"] != "S3"]
    costs = recompute_costs(data, alloc)
    assert costs["setup"] == 0.0
    assert recompute_costs(data, res.allocation)["setup"] == 25.0
    # below the tier: S3 at 30 units is paid 11
    alloc = res.allocation[~((res.allocation["supplier"] == "S3")
                             & (res.allocation["partner"] == "PL"))]
    assert recompute_costs(data, alloc)["purchase"] == pytest.approx(600 + 330 + 1400)


def test_tolerances_accept_solver_noise():
    res = make_result()
    res = edit(res, "allocation", {"supplier": "S1", "period": "2026"}, quantity=40.0 + 1e-9)
    check_solution(make_data(), res)


def test_satisfied_rules_pass():
    data = with_rules(
        {"rule": "ban", "partner": "DE", "item": "shell", "group": "PL"},
        {"rule": "ban", "item": "radio", "group": "FR"},
        {"rule": "min_share", "item": "ammo", "group": "EU", "share": 1.0},
        {"rule": "max_share", "item": "shell", "group": "each_supplier", "share": 0.6},
        {"rule": "min_value_share", "partner": "PL", "group": "domestic", "share": 0.6},
        {"rule": "max_value_share", "group": "FR", "share": 0.25},
        {"rule": "workshare", "partner": "PL", "item": "shell", "share": 0.5},
        {"rule": "min_quantity", "item": "shell", "group": "S3", "quantity": 50},
        {"rule": "max_quantity", "item": "shell", "group": "each_country", "quantity": 60},
        {"rule": "min_suppliers", "partner": "PL", "item": "shell", "quantity": 2},
        {"rule": "max_suppliers", "item": "radio", "quantity": 1},
        {"rule": "max_suppliers", "partner": "DE", "item": "shell", "group": "FR",
         "quantity": 1},
    )
    check_solution(data, make_result())


def test_min_suppliers_counts_supplier_delivering_all_it_can():
    # S1 can only make 0.5 shells in total: delivering 0.5 counts towards min_suppliers
    data = with_rules({"rule": "min_suppliers", "partner": "PL", "item": "shell",
                       "quantity": 3})
    cap = pd.DataFrame({"supplier": ["S1", "S1"], "item": ["shell", "shell"],
                        "period": ["2026", "2027"], "capacity": [0.5, 0.0]}, dtype=object)
    cap["capacity"] = cap["capacity"].astype(float)
    data = data.replace(capacity=cap)
    res = make_result()
    a = res.allocation
    a = pd.concat([a[a["supplier"] != "S1"], pd.DataFrame({
        "partner": ["PL", "PL"], "item": ["shell", "shell"], "supplier": ["S1", "S2"],
        "supplier_country": ["PL", "DE"], "period": ["2026", "2026"], "quantity": [0.5, 39.5],
        "unit_price": [10.0, 12.0], "base_price": [10.0, 12.0], "transport": [0.0, 0.0],
        "cost": [5.0, 474.0]})], ignore_index=True)
    # the plan breaks other things (setup, demand); only the rule matters here
    msg = violations(data, types.SimpleNamespace(**{**vars(res), "allocation": a}))
    assert "min_suppliers" not in msg
    # and with S1 delivering nothing, the rule is broken
    a2 = a[a["supplier"] != "S1"]
    msg = violations(data, types.SimpleNamespace(**{**vars(res), "allocation": a2}))
    assert "[rule] Rules!2 min_suppliers" in msg


# ----------------------------------------------------------------------------- failures


def test_no_plan_status():
    with pytest.raises(AssertionError, match="no plan"):
        check_solution(make_data(), make_result(status="infeasible"))


def test_demand_unmet():
    res = make_result()
    res.allocation = res.allocation[res.allocation["partner"] != "DE"].reset_index(drop=True)
    msg = violations(make_data(), res)
    assert "[demand] Demand ('DE', 'shell', '2026')" in msg
    assert "[demand] Demand ('DE', 'radio', '2027')" in msg


def test_shortfall_on_hard_item():
    res = edit(make_result(), "fulfilment", {"partner": "DE", "item": "shell"},
               shortfall=30.0, delivered=0.0)
    res.allocation = res.allocation[~((res.allocation["partner"] == "DE")
                                      & (res.allocation["item"] == "shell"))]
    msg = violations(make_data(), res)
    assert "without a shortfall_penalty" in msg


def test_over_delivery_and_allocation_outside_demand():
    res = make_result()
    extra = res.allocation.iloc[[0]].assign(period="2027", partner="DE", quantity=5.0,
                                            cost=50.0)
    res.allocation = pd.concat([res.allocation, extra], ignore_index=True)
    msg = violations(make_data(), res)
    assert "not a Demand row" in msg


def test_capacity_exceeded_via_override():
    cap = pd.DataFrame({"supplier": ["S1"], "item": ["shell"], "period": ["2026"]},
                       dtype=object).assign(capacity=[35.0])
    msg = violations(make_data(capacity=cap), make_result())
    assert "[capacity] offer (S1, shell) period 2026" in msg
    assert "period 2027" not in msg


def test_shared_capacity_exceeded():
    data = make_data()
    sup = data.suppliers.copy()
    sup.loc[sup["supplier"] == "S1", "capacity"] = 30.0
    msg = violations(data.replace(suppliers=sup), make_result())
    assert "[shared_capacity] supplier S1 period 2026" in msg
    assert "period 2027" not in msg


def test_no_offer_and_before_first_period():
    data = with_offer(first_period={("S1", "shell"): "2027"})
    msg = violations(data, make_result())
    assert "[period]" in msg and "before first_period 2027" in msg
    res = make_result()
    res = edit(res, "allocation", {"supplier": "S2", "item": "radio"}, supplier="S1",
               supplier_country="PL")
    msg = violations(make_data(), res)
    assert "[offer]" in msg


def test_ban_broken():
    data = with_rules({"rule": "ban", "partner": "PL", "item": "ammo", "group": "FR",
                       "name": "no FR shells"})
    msg = violations(data, make_result())
    assert "[rule] Rules!2 ban 'no FR shells': banned delivery of 20 shell from S3 to PL" in msg


def test_ban_domestic_blank_partner_means_each_partners_own():
    data = with_rules({"rule": "ban", "group": "domestic"})
    msg = violations(data, make_result())
    assert "from S1 to PL" in msg  # PL buys from PL's S1
    assert "from S2 to DE" in msg  # DE buys from DE's S2
    assert "from S3" not in msg


def test_wrong_all_units_tier_price():
    # tier from 40 units: S3's pooled 50 must be paid 9, not the base 11
    data = make_data()
    tiers = data.price_tiers.copy()
    tiers.loc[tiers["supplier"] == "S3", "min_quantity"] = 40.0
    data = data.replace(price_tiers=tiers)
    res = edit(make_result(), "allocation", {"supplier": "S3"}, unit_price=11.0)
    res.allocation["cost"] = (res.allocation["quantity"] * res.allocation["unit_price"]
                              + res.allocation["transport"])
    msg = violations(data, res)
    assert "[price] offer (S3, shell) pooled 50: unit price 11 paid" in msg


def test_tier_boundary_tolerance():
    # pooled 50 - 1e-9 with the tier at 50: the solver may have counted it as 50
    res = edit(make_result(), "allocation", {"supplier": "S3", "partner": "DE"},
               quantity=30.0 - 1e-9)
    check_solution(make_data(), res)


def test_wrong_purchase_cost_in_offers_and_total():
    res = edit(make_result(), "offers", {"supplier": "S3"}, purchase_cost=500.0)
    res.purchase, res.total_cost = 2500.0, 2790.0
    msg = violations(make_data(), res)
    assert "[price] offer (S3, shell): purchase_cost 500" in msg
    assert "[total] result.purchase = 2500 != recomputed 2450" in msg


def test_wrong_incremental_price():
    res = edit(make_result(), "allocation", {"item": "radio"}, unit_price=100.0, cost=1500.0)
    msg = violations(make_data(), res)
    assert "[price] offer (S2, radio)" in msg


def test_min_order_broken():
    data = with_offer(min_order={("S3", "shell"): 60.0})
    msg = violations(data, make_result())
    assert "[min_order] offer (S3, shell): pooled quantity 50" in msg


def test_setup_not_counted():
    data = with_offer(setup_cost={("S3", "shell"): 25.0})
    msg = violations(data, make_result())
    assert "[setup] offer (S3, shell)" in msg
    assert "[total] result.setup = 0 != recomputed 25" in msg


def test_setup_counted_for_unused_offer():
    res = edit(make_result(), "offers", {"supplier": "S2", "item": "shell"}, setup_cost=100.0)
    res.setup, res.total_cost = 100.0, 2840.0
    msg = violations(make_data(), res)
    assert "[setup] offer (S2, shell) pooled 0" in msg


def test_transport_wrong():
    res = edit(make_result(), "allocation", {"supplier": "S3", "partner": "PL"},
               transport=100.0, cost=280.0)  # used the any-item row (5) instead of shell's (2)
    res.transport, res.total_cost = 100.0, 2800.0
    msg = violations(make_data(), res)
    assert "[transport]" in msg and "[total] result.transport" in msg


def test_budget_exceeded():
    data = make_data()
    partners = data.partners.copy()
    partners.loc[partners["partner"] == "DE", "budget"] = 1000.0
    msg = violations(data.replace(partners=partners), make_result())
    assert "[budget] partner DE: value at base prices + transport 1830 > budget 1000" in msg


def test_parts_not_summing():
    msg = violations(make_data(), make_result(total_cost=2741.0))
    assert "[total] total_cost 2741 != purchase + setup + transport + shortfall = 2740" in msg


def test_shortfall_cost_wrong():
    msg = violations(make_data(), make_result(shortfall=0.0, total_cost=2490.0))
    assert "[total] result.shortfall = 0 != recomputed 250" in msg


@pytest.mark.parametrize(
    "rule, expect",
    [
        ({"rule": "min_share", "item": "shell", "group": "PL", "share": 0.9},
         "min_share: 60 >= 99 violated"),
        ({"rule": "max_share", "item": "shell", "group": "each_supplier", "share": 0.5},
         "max_share [S1]: 60 <= 55 violated"),
        ({"rule": "max_share", "partner": "PL", "group": "each_country", "share": 0.7},
         "max_share [PL]: 60 <= 56 violated"),
        ({"rule": "min_value_share", "partner": "PL", "group": "domestic", "share": 0.8},
         "min_value_share: 600 >= 656 violated"),
        ({"rule": "max_value_share", "group": "FR", "share": 0.1},
         "max_value_share: 550 <= 265 violated"),
        ({"rule": "workshare", "partner": "DE", "item": "shell", "share": 0.5},
         "workshare [DE]: 0 >= 165 violated"),
        ({"rule": "workshare", "item": "shell", "share": 1.0},
         "workshare [DE]: 0 >= 330 violated"),
        ({"rule": "min_quantity", "item": "shell", "group": "S2", "quantity": 10},
         "min_quantity: 0 >= 10 violated"),
        ({"rule": "max_quantity", "group": "EU", "quantity": 100},
         "max_quantity: 125 <= 100 violated"),
        ({"rule": "max_quantity", "item": "shell", "group": "each_country", "quantity": 55},
         "max_quantity [PL]: 60 <= 55 violated"),
        ({"rule": "min_suppliers", "partner": "PL", "item": "shell", "quantity": 3},
         "min_suppliers [shell]: only 2 suppliers"),
        ({"rule": "min_suppliers", "item": "comms", "quantity": 2},
         "min_suppliers [radio]: only 1 suppliers"),
        ({"rule": "max_suppliers", "item": "shell", "quantity": 1},
         "max_suppliers [shell]: 2 suppliers deliver ['S1', 'S3']"),
    ],
)
def test_rule_violated(rule, expect):
    msg = violations(with_rules(rule), make_result())
    assert f"[rule] Rules!2 {expect}" in msg, msg


def test_workshare_blank_partner_checks_each_partner():
    # PL's suppliers get 600 of shell value; PL's own orders are worth 600 + 220 = 820;
    # DE's suppliers get none of it, DE's own orders are worth 330
    data = with_rules({"rule": "workshare", "item": "shell", "share": 0.7})
    msg = violations(data, make_result())
    assert "workshare [DE]: 0 >= 231 violated" in msg
    assert "workshare [PL]" not in msg
    data = with_rules({"rule": "workshare", "item": "shell", "share": 0.8})
    assert "workshare [PL]: 600 >= 656 violated" in violations(data, make_result())


def test_all_violations_reported_at_once():
    data = make_data()
    partners = data.partners.copy()
    partners.loc[partners["partner"] == "DE", "budget"] = 1000.0
    data = data.replace(partners=partners, rules=make_rules(
        [{"rule": "max_suppliers", "item": "shell", "quantity": 1}]))
    msg = violations(data, make_result(total_cost=1.0))
    assert "[budget]" in msg and "[rule]" in msg and "[total]" in msg
    assert msg.startswith("check_solution: ")


def test_rules_table_columns_required():
    res = make_result(rules=pd.DataFrame({"rule_id": [], "binds": []}))
    msg = violations(make_data(), res)
    assert "[table] rules table lacks columns" in msg


def test_binds_contradiction_only_warns():
    data = with_rules({"rule": "max_quantity", "item": "shell", "group": "S1",
                       "quantity": 1000})
    rules = pd.DataFrame([{
        "rule_id": "Rules!2", "name": "", "rule": "max_quantity", "partner": None,
        "item": "shell", "group": "S1", "subject": None, "sense": "<=", "target": 1000.0,
        "achieved": 60.0, "lhs": 60.0, "rhs": 1000.0, "binds": True, "dual": NAN,
    }])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        check_solution(data, make_result(rules=rules))
    assert any("binds=True" in str(x.message) for x in w)


def test_report_tables_checked():
    res = edit(make_result(), "partner_costs", {"partner": "DE"}, total=1000.0)
    assert "[partner_costs] partner totals" in violations(make_data(), res)
    res = edit(make_result(), "supplier_use", {"supplier": "S1", "period": "2026"},
               capacity_used=10.0)
    assert "[supplier_use]" in violations(make_data(), res)


def test_partner_costs_proportional_split():
    # S3's 450 is split 20/50 to PL (180) and 30/50 to DE (270); swap them
    res = edit(make_result(), "partner_costs", {"partner": "PL"}, purchase=870.0, total=910.0)
    res = edit(res, "partner_costs", {"partner": "DE"}, purchase=1580.0, total=1830.0)
    msg = violations(make_data(), res)
    assert "[partner_costs] partner PL: purchase 870 != proportional share 780" in msg
