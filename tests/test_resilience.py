"""N-1 secure plans (the ``n_minus_1`` rule): hand-worked known answers for secure,
tolerant and impossible requirements; every plan re-checked by removing each supplier in
turn and solving the re-covery LP independently from the output tables (tests/recovery.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import procure
from benchmarks.generate import generate
from procure.analysis.sharing import all_coalitions, coalition_costs, coalition_data

try:
    from tests.recovery import check_n_minus_1
    from tests.tiny import check_solution, qty, rule, solved, tiny
except ImportError:  # tests/ is not a package
    from recovery import check_n_minus_1
    from tiny import check_solution, qty, rule, solved, tiny


def three_suppliers(share: float | None, *, b_capacity=100, b_shared=None, rules=(),
                    countries=("FR", "DE", "IT"), **kw):
    """P needs 100 x in one period. A at 10, B at 12 (surge 50), C at 15 (no surge); each can
    make 100 a period unless told otherwise."""
    n1 = [] if share is None else [rule("n_minus_1", item="x", share=share, name="N-1 x")]
    a, b, c = countries
    suppliers = {"A": a, "B": {"country": b, "capacity": b_shared} if b_shared else b, "C": c}
    return tiny(
        offers=[dict(supplier="A", item="x", unit_price=10, capacity=100),
                dict(supplier="B", item="x", unit_price=12, capacity=b_capacity, surge=50),
                dict(supplier="C", item="x", unit_price=15, capacity=100)],
        demand=[("P", "x", 1, 100)], suppliers=suppliers, rules=[*n1, *rules], **kw)


def n1_rows(result) -> dict[str, tuple[float, bool]]:
    t = result.rules[result.rules["rule"] == "n_minus_1"]
    return {s: (float(a), bool(b)) for s, a, b in zip(t["subject"], t["achieved"], t["binds"], strict=True)}


def test_secure_plan_known_answer():
    """Share 0 (nothing may go unmet), with x_A + x_B + x_C = 100:

    * without B: A and C have no surge, so x_A + x_C >= 100, i.e. x_B = 0;
    * without A: x_B + 50 + x_C >= 100 (B's surge), i.e. x_C >= 50 (x_B = 0);
    * without C: x_A + x_B + 50 >= 100: holds when x_C <= 50.
    Cheapest: x_A = 50, x_C = 50, cost 500 + 750 = 1,250 (1,000 without the rule: all from A),
    a price of resilience of 250. Without A or B the re-covery leaves nothing unmet (both rows
    bind at 0 %); without C there is room to spare (A 50 + B's surge 50 = 100 with x_B = 0
    only just: it binds too)."""
    assert solved(three_suppliers(None)).total_cost == pytest.approx(1000.0)
    data = three_suppliers(0.0)
    result = solved(data)
    assert result.total_cost == pytest.approx(1250.0)
    assert qty(result, supplier="A") == pytest.approx(50) and qty(result, supplier="C") == pytest.approx(50)
    assert set(n1_rows(result)) == {"A", "B", "C"}
    assert all(achieved == pytest.approx(0.0) for achieved, _ in n1_rows(result).values())
    unmet = check_n_minus_1(data, result)
    assert unmet == pytest.approx({("Rules!2", "A"): 0.0, ("Rules!2", "B"): 0.0, ("Rules!2", "C"): 0.0})
    # an LP: the rule's duals price each contingency (5 = C's premium over A on the 50 units
    # that must be C's because A may fail; 3 = C's premium over B)
    duals = result.rules.set_index("subject")["dual"]
    assert duals["A"] == pytest.approx(5.0) and duals["B"] == pytest.approx(3.0)


def test_tolerant_plan_known_answer():
    """Share 0.2 (at most 20 of the 100 may go unmet):

    * without B: x_A + x_C >= 80, i.e. x_B <= 20;
    * without A: x_B + 50 + x_C >= 80, i.e. x_B + x_C >= 30;
    * without C: x_A + x_B + 50 >= 80: holds.
    Cheapest: x_B = 20, x_C = 10, x_A = 70: 700 + 240 + 150 = 1,090. Without A the best
    re-covery is 20 + 50 + 10 = 80 (20 % unmet, binds), without B 80 (binds), without C
    70 + 20 + 50 = 140 >= 100 (nothing unmet)."""
    data = three_suppliers(0.2)
    result = solved(data)
    assert result.total_cost == pytest.approx(1090.0)
    rows = n1_rows(result)
    assert rows["A"][0] == pytest.approx(0.2) and rows["A"][1]
    assert rows["B"][0] == pytest.approx(0.2) and rows["B"][1]
    assert rows["C"] == (pytest.approx(0.0), False)
    assert check_n_minus_1(data, result)[("Rules!2", "A")] == pytest.approx(20.0)


def test_capacity_bounds_the_surge():
    """Share 0.4, and B can make only 30 a period: its surge is capped by its capacity.

    * without B: x_A + x_C >= 60;  without A: min(x_B + 50, 30) + x_C >= 60, i.e. x_C >= 30;
    * without C: x_A + min(x_B + 50, 30) >= 60, i.e. x_A >= 30.
    Cheapest: x_A = 70, x_C = 30: 1,150. (Were the surge not held to capacity, x_C >= 10 would
    do: 1,050.) The same with B's 30 as a shared supplier capacity instead."""
    for data in (three_suppliers(0.4, b_capacity=30), three_suppliers(0.4, b_shared=30)):
        result = solved(data)
        assert result.total_cost == pytest.approx(1150.0)
        check_n_minus_1(data, result)


def test_impossible_requirement_is_diagnosed():
    """Only A and B, no surge, nothing may go unmet: without A, B must already deliver all 100,
    and without B, A must: impossible. The diagnosis names the rule and the loss it cannot
    survive: relaxing one contingency by 100 units is the smallest repair."""
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10),
                        dict(supplier="B", item="x", unit_price=12)],
                demand=[("P", "x", 1, 100)],
                rules=[rule("n_minus_1", item="x", share=0, name="N-1 x")])
    result = procure.solve(data)
    assert result.status == procure.Status.INFEASIBLE
    (conflict,) = result.diagnosis.conflicts
    assert conflict.kind == "rule" and conflict.row == 2 and conflict.amount == pytest.approx(100.0)
    assert "N-1 x" in conflict.message and ("without A" in conflict.message or "without B" in conflict.message)
    assert "lack 100" in result.message
    # the same beside a large unrelated demand (the diagnosis bounds re-covery deliveries by
    # their own demand, not by every delivery's: the 100 units stay visible)
    big = tiny(offers=[dict(supplier="A", item="x", unit_price=10),
                       dict(supplier="B", item="x", unit_price=12),
                       dict(supplier="A", item="z", unit_price=1)],
               demand=[("P", "x", 1, 100), ("P", "z", 1, 5_000_000), ("Q", "z", 1, 5_000_000)],
               rules=[rule("n_minus_1", item="x", share=0, name="N-1 x")])
    (conflict,) = procure.solve(big).diagnosis.conflicts
    assert conflict.kind == "rule" and conflict.amount == pytest.approx(100.0)


def test_whole_contingency_without_any_other_supplier():
    """The only supplier of y may be lost: its contingency has no re-covery column at all and
    the rule cannot hold unless it tolerates everything (share 1)."""
    offers = [dict(supplier="A", item="y", unit_price=10)]
    bad = tiny(offers=offers, demand=[("P", "y", 1, 5)], rules=[rule("n_minus_1", share=0.5)])
    result = procure.solve(bad)
    assert result.status == procure.Status.INFEASIBLE
    assert result.diagnosis.conflicts[0].amount == pytest.approx(2.5)
    ok = tiny(offers=offers, demand=[("P", "y", 1, 5)], rules=[rule("n_minus_1", share=1)])
    assert n1_rows(solved(ok))["A"] == (pytest.approx(1.0), True)


def test_each_country_loses_every_supplier_of_a_country_at_once():
    """A and B are both German, C Italian; share 0.5. Losing Germany loses A and B together:
    C must carry half the demand (x_C >= 50; losing Italy leaves A, B and B's surge of 50):
    x_A = 50, x_C = 50, 1,250. One supplier at a time, 50 % is no constraint at all (without
    A: B's surge alone is 50; without B: A and C keep x_A + x_C >= 50): all from A, 1,000."""
    by_country = three_suppliers(None, countries=("DE", "DE", "IT"), rules=[
        rule("n_minus_1", item="x", group="each_country", share=0.5)])
    result = solved(by_country)
    assert result.total_cost == pytest.approx(1250.0)
    assert set(n1_rows(result)) == {"DE", "IT"}
    assert n1_rows(result)["DE"] == (pytest.approx(0.5), True)
    check_n_minus_1(by_country, result)
    by_supplier = three_suppliers(0.5, countries=("DE", "DE", "IT"))
    assert solved(by_supplier).total_cost == pytest.approx(1000.0)


def test_partner_rule_per_period_with_a_substitute():
    """P needs 40 x in each of periods 1 and 2; Q needs 30 x in period 1. P's own N-1 rule
    (share 0) guards against losing A or Y (group GUARD = France and Germany; C, Italian, is
    not guarded against). A makes x at 10; C makes x at 20 with a surge of 30 a period; Y makes
    y at 11 with a surge of 10, and P accepts y for x.

    All from A (110 x 10 = 1,100) is secure: without A, P's 40 a period come from C's surge
    (30) and Y's (10), the substitute; without Y nothing changes. Without the Substitutes row,
    C's surge is 10 short each period, so P must buy 10 a period from C: 20 x 20 + 90 x 10 =
    1,300."""
    def case(substitutes):
        return tiny(
            offers=[dict(supplier="A", item="x", unit_price=10, capacity=100),
                    dict(supplier="C", item="x", unit_price=20, capacity=100, surge=30),
                    dict(supplier="Y", item="y", unit_price=11, capacity=100, surge=10)],
            demand=[("P", "x", 1, 40), ("P", "x", 2, 40), ("Q", "x", 1, 30)],
            suppliers={"A": "FR", "C": "IT", "Y": "DE"},
            blocs=[("GUARD", "FR"), ("GUARD", "DE")],
            rules=[rule("n_minus_1", partner="P", item="x", group="GUARD", share=0)],
            substitutes=substitutes,
        )

    with_y = case([("x", "y", "P")])
    result = solved(with_y)
    assert result.total_cost == pytest.approx(1100.0)
    assert set(n1_rows(result)) == {"A", "Y"}
    assert check_n_minus_1(with_y, result) == pytest.approx({("Rules!2", "A"): 0.0, ("Rules!2", "Y"): 0.0})
    without_y = case(None)
    result = solved(without_y)
    assert result.total_cost == pytest.approx(1300.0)
    assert qty(result, partner="P", supplier="C") == pytest.approx(20)
    assert set(n1_rows(result)) == {"A"}  # Y offers nothing P may take: no contingency
    check_n_minus_1(without_y, result)


@pytest.mark.parametrize("seed", [0, 1])
def test_generated_n_minus_1_instances_are_secure_and_rechecked(seed):
    tables = generate(partners=3, items=3, offers_per_item=3, periods=2, rule_density=1.0,
                      shared_capacity=True, substitutes=True, surge=True, n_minus_1=True, seed=seed)
    data = procure.validate_tables(tables)
    assert (data.rules["rule"] == "n_minus_1").any()
    result = procure.solve(data, mip_gap=0.0)
    assert result.status == procure.Status.OPTIMAL, result.message
    check_solution(data, result)
    check_n_minus_1(data, result)


@pytest.mark.parametrize("seed", [3, 4])
def test_coalitions_with_n_minus_1_fast_path_equals_literal(seed):
    tables = generate(partners=3, items=2, offers_per_item=3, periods=2, rule_density=0.5,
                      substitutes=True, surge=True, n_minus_1=True, seed=seed)
    data = procure.validate_tables(tables)
    coalitions = [c for c in all_coalitions(list(data.partners["partner"])) if c]
    fast = coalition_costs(data, coalitions, mip_gap=1e-9)
    for members, cost in zip(fast["coalition"], fast["cost"], strict=True):
        literal = procure.solve(coalition_data(data, members), mip_gap=1e-9, diagnose=False)
        if not literal.has_plan:
            assert np.isnan(cost), sorted(members)
            continue
        assert cost == pytest.approx(literal.total_cost, rel=1e-6), sorted(members)


def test_model_grows_by_one_recovery_block_per_supplier_in_scope():
    """Secure case: 3 deliveries (one per supplier) and 3 contingencies. Each re-covery has
    the 2 deliveries of the surviving suppliers: 6 re-covery columns, 6 offer rows (one per
    surviving offer), 3 demand rows, 3 cover rows; B's surge of 50 within its capacity of 100
    adds one capacity row in each contingency that keeps B (2)."""
    model = procure.build_model(three_suppliers(0.0))
    assert model.variables["x"].size == 3
    assert model.variables["n1_recourse"].size == 6
    sizes = {name: model.constraints[name].size for name in
             ("n1_offer", "n1_capacity", "n1_shared", "n1_demand", "n1_cover")}
    assert sizes == {"n1_offer": 6, "n1_capacity": 2, "n1_shared": 0, "n1_demand": 3, "n1_cover": 3}
    cover = model.constraints["n1_cover"]
    assert list(cover.index["subject"]) == ["A", "B", "C"]
    assert (model.row_lower[cover.start:cover.stop] == 100.0).all()  # (1 - 0) x 100
    # without the rule: no re-covery at all
    plain = procure.build_model(three_suppliers(None))
    assert plain.variables["n1_recourse"].size == 0 and plain.num_rows == model.num_rows - 14


def _bounds_cost(data, factors: dict[str, float]) -> float:
    """The grand model with suppliers' capacities scaled by bounds alone (deliveries of a
    removed supplier fixed at 0, capacity rows scaled) and the re-coveries adjusted by
    ``resilience.supplier_recourse_bounds``."""
    from procure.engine.backends import new_highs, pass_model, read_highs
    from procure.engine.model import resilience

    model = procure.build_model(data)
    ctx = model.extras["context"]
    factor = data.suppliers["supplier"].map(factors).fillna(1.0).to_numpy(dtype=float)
    col_upper, row_lower, row_upper = model.col_upper.copy(), model.row_lower.copy(), model.row_upper.copy()
    xb = model.variables["x"]
    col_upper[xb.start:xb.stop][factor[ctx.x["supplier"].cat.codes.to_numpy()] <= 0] = 0.0
    for name in ("offer_capacity", "shared_capacity"):
        block = model.constraints[name]
        f = block.index["supplier"].map(dict(zip(data.suppliers["supplier"], factor, strict=True)))
        row_upper[block.start:block.stop] *= f.to_numpy(dtype=float)
    resilience.supplier_recourse_bounds(model, factor, factor == 0, col_upper, row_lower, row_upper)
    h = new_highs()
    pass_model(h, model)
    import numpy as _np
    h.changeColsBounds(model.num_cols, _np.arange(model.num_cols, dtype=_np.int32), model.col_lower, col_upper)
    h.changeRowsBounds(model.num_rows, _np.arange(model.num_rows, dtype=_np.int32), row_lower, row_upper)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    out = read_highs(h, model, 0.0)
    return out.objective if out.status.has_plan else float("nan")


def _literal_cost(data, factors: dict[str, float]) -> float:
    offers = data.offers.copy()
    f = offers["supplier"].map(factors).fillna(1.0)
    offers["capacity"] = offers["capacity"] * f
    suppliers = data.suppliers.assign(capacity=data.suppliers["capacity"] * data.suppliers[
        "supplier"].map(factors).fillna(1.0))
    gone = [s for s, v in factors.items() if v == 0]
    variant = data.replace(offers=offers[~offers["supplier"].isin(gone)].reset_index(drop=True),
                           suppliers=suppliers)
    result = procure.solve(variant, mip_gap=0.0, diagnose=False)
    return result.total_cost if result.has_plan else float("nan")


@pytest.mark.parametrize("factors", [{"A": 0.0}, {"B": 0.0}, {"B": 0.5}, {"C": 0.0}, {"A": 0.0, "C": 0.0}])
def test_supplier_removed_or_scaled_by_bounds_equals_literal(factors):
    """A stress test removes a supplier (or scales its capacity) by bounds on the grand model:
    its re-covery deliveries go too (its surge with it), re-covery capacity rows scale, and a
    contingency that only loses removed suppliers is no contingency any more."""
    data = three_suppliers(0.4, b_shared=80)
    want = _literal_cost(data, factors)
    got = _bounds_cost(data, factors)
    if np.isnan(want):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(want, rel=1e-9)


def test_removing_the_only_supplier_leaves_no_contingency():
    """y (shortfall penalty 50) has one supplier, A, and an N-1 rule of 50 %: as it stands the
    plan cannot be N-1 secure (without A nothing is re-covered). With A removed the variant has
    no contingency left: all 10 go short at 50 each, by bounds as literally."""
    data = tiny(offers=[dict(supplier="A", item="y", unit_price=10)], demand=[("P", "y", 1, 10)],
                items={"y": {"shortfall_penalty": 50}}, rules=[rule("n_minus_1", share=0.5)])
    assert procure.solve(data).status == procure.Status.INFEASIBLE
    assert _literal_cost(data, {"A": 0.0}) == pytest.approx(500.0)
    assert _bounds_cost(data, {"A": 0.0}) == pytest.approx(500.0)


# --------------------------------------------------------------------------- run-time check


def test_run_time_check_catches_a_plan_that_is_not_n_minus_1_secure():
    """The secure plan (A 50, C 50) passes the check; moved to A 60, C 40 it no longer
    survives the loss of A (C 40 + B's surge 50 = 90: 10 unmet, none tolerated) and the check
    names the rule and the supplier lost."""
    import dataclasses

    from procure.engine.check import check_plan

    data = three_suppliers(0.0)
    result = solved(data)
    assert result.check.ok and "n_minus_1" in result.check.families
    a = result.allocation.copy()
    a.loc[a["supplier"] == "A", "quantity"] = 60.0
    a.loc[a["supplier"] == "C", "quantity"] = 40.0
    a["cost"] = a["quantity"] * a["unit_price"]
    table = check_plan(data, dataclasses.replace(result, allocation=a)).table()
    n1 = table[table["family"] == "n_minus_1"]
    assert list(n1["subject"]) == ["Rules!2 'N-1 x' without A"]
    assert n1["amount"].iloc[0] == pytest.approx(10.0)


def test_run_time_check_catches_a_fractional_whole_unit_delivery():
    import dataclasses

    from procure.engine.check import check_plan

    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10), dict(supplier="B", item="x", unit_price=10)],
                demand=[("P", "x", 1, 4)], items={"x": {"whole_units": "yes"}})
    result = solved(data)
    a = pd.concat([result.allocation, result.allocation], ignore_index=True)
    a["quantity"] = [2.5, 1.5]
    a["supplier"] = ["A", "B"]
    a["cost"] = a["quantity"] * a["unit_price"]
    table = check_plan(data, dataclasses.replace(result, allocation=a)).table()
    whole = table[table["family"] == "whole_units"]
    assert len(whole) == 2 and whole["amount"].tolist() == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("seed", [1, 6])
def test_many_engine_removes_and_scales_suppliers_under_n_minus_1_by_bounds(seed):
    """Stress-test variants (a supplier removed, capacities scaled, 0 included) of instances
    with N-1 rules run on the grand model by bounds and equal their literal models."""
    from procure.analysis.many import Variant, solve_variants

    try:
        from tests.test_many import literal
    except ImportError:  # tests/ is not a package
        from test_many import literal

    tables = generate(partners=3, items=3, offers_per_item=3, periods=2, rule_density=1.0,
                      shared_capacity=seed % 2 == 0, n_minus_1=True, surge=True,
                      substitutes=seed % 2 == 1, seed=seed)
    data = procure.validate_tables(tables)
    suppliers = list(data.suppliers["supplier"])
    variants = ([Variant(("off", s), suppliers_off={s}) for s in suppliers[:3]]
                + [Variant(("cap", s), capacity={s: f}) for s, f in zip(suppliers[:3], (0.0, 0.3, 0.7), strict=True)])
    table = solve_variants(data, variants, mip_gap=1e-9)
    assert set(table["path"]) <= {"bounds", "mip"}
    for variant, status, cost in zip(variants, table["status"], table["cost"], strict=True):
        want_status, want = literal(data, variant)
        assert status == want_status, variant
        assert (np.isnan(cost) and np.isnan(want)) or cost == pytest.approx(want, rel=1e-6), variant


def test_capacity_factor_zero_on_an_unlimited_offer_delivers_nothing():
    """A capacity factor of 0 loses the supplier (SPEC section 6), unlimited offers included:
    the variant's own data give A's unlimited offer a capacity of 0, as the bounds do."""
    from procure.analysis.many import Variant, solve_variants

    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10), dict(supplier="B", item="x", unit_price=12)],
                demand=[("P", "x", 1, 10)])
    variant = Variant("A lost", capacity={"A": 0.0})
    own = variant.apply(data)
    assert own.offers.set_index("supplier").at["A", "capacity"] == 0.0
    assert procure.solve(own).total_cost == pytest.approx(120.0)
    assert solve_variants(data, [variant])["cost"].iloc[0] == pytest.approx(120.0)
