"""Marginal costs of MIP plans: the duals of the LP with every yes/no decision fixed at the
plan's value ("given the contracts chosen"), checked against finite differences: re-solve
with one more unit, where the decisions do not change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
from benchmarks.generate import generate
from procure.engine.backends import solve_highs
from procure.engine.model import build_model
from procure.engine.results import marginal_sentences

try:
    from tests.checker import check_solution
    from tests.tiny import rule, tiny
except ImportError:  # tests/ is not a package
    from checker import check_solution
    from tiny import rule, tiny

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.x on its own 4.0


def _capacity_case(demand=80.0, capacity=50.0, rules=None):
    """PL needs 80. A: 10 a unit, setup 100, 50 a period; B: 15. A is worth its setup
    (50 x 5 = 250 > 100): A 50, B 30, cost 100 + 500 + 450 = 1,050. Given A is used, one more
    unit demanded comes from B (15); one more unit of A's capacity saves 15 - 10 = 5."""
    return tiny(offers=[dict(supplier="A", item="x", unit_price=10.0, setup_cost=100.0,
                             capacity=capacity),
                        dict(supplier="B", item="x", unit_price=15.0)],
                demand=[("PL", "x", 2027, demand)], rules=rules)


def test_demand_and_capacity_duals_of_a_mip_by_hand():
    result = procure.solve(_capacity_case())
    assert result.is_mip and result.status == procure.Status.OPTIMAL
    assert result.total_cost == pytest.approx(1_050)
    assert result.duals_basis == "fixed_mip"
    d = result.demand_duals.iloc[0]
    assert d["marginal_cost"] == pytest.approx(15) and d["basis"] == "fixed_mip"
    c = result.capacity_duals.set_index("supplier").loc["A"]
    assert c["marginal_value"] == pytest.approx(5) and c["basis"] == "fixed_mip"
    # finite differences: re-solve with one more unit; A stays used
    more = procure.solve(_capacity_case(demand=81.0))
    assert more.offers.set_index("supplier").loc["A", "used"]
    assert more.total_cost - result.total_cost == pytest.approx(15)
    wider = procure.solve(_capacity_case(capacity=51.0))
    assert result.total_cost - wider.total_cost == pytest.approx(5)
    assert marginal_sentences(result) == [
        "given the contracts chosen, one more x for PL in 2027 costs 15.00 EUR"]
    summary = result.summary()["duals"]
    assert summary["basis"] == "fixed_mip" and summary["demand"][0]["marginal_cost"] == pytest.approx(15)
    check_solution(_capacity_case(), result)


def test_rule_dual_of_a_mip_by_hand():
    """The pool must buy at least 35 from B: A 45, B 35 = 100 + 450 + 525 = 1,075. One more unit
    required from B replaces one of A's: +15 - 10 = +5, the rule's dual."""
    rules = [rule("min_quantity", group="B", quantity=35, name="B's line warm")]
    result = procure.solve(_capacity_case(rules=rules))
    assert result.total_cost == pytest.approx(1_075)
    row = result.rules.set_index("name").loc["B's line warm"]
    more = procure.solve(_capacity_case(rules=[rule("min_quantity", group="B", quantity=36)]))
    assert more.total_cost - result.total_cost == pytest.approx(5)
    assert row["dual"] == pytest.approx(5)
    assert result.demand_duals["marginal_cost"].iloc[0] == pytest.approx(10)  # A is not full


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_whole_unit_deliveries_keep_meaningful_duals(solver):
    """Whole units make the deliveries integers too. Fixing them as well would leave the demand
    row with no free term and no meaningful dual: HiGHS's door re-solves with the deliveries
    continuous (the same 15 and 5 as above); PuLP's door reports no duals rather than wrong
    ones."""
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10.0, setup_cost=100.0, capacity=50),
                        dict(supplier="B", item="x", unit_price=15.0)],
                items={"x": {"whole_units": "yes"}}, demand=[("PL", "x", 2027, 80)])
    result = procure.solve(data, solver=solver)
    assert result.status == procure.Status.OPTIMAL and result.total_cost == pytest.approx(1_050)
    if solver == "cbc":
        assert result.duals_basis is None and result.demand_duals.empty
        return
    assert result.duals_basis == "fixed_mip"
    assert result.demand_duals["marginal_cost"].iloc[0] == pytest.approx(15)
    assert result.capacity_duals.set_index("supplier").loc["A", "marginal_value"] == pytest.approx(5)


def test_an_lp_says_its_duals_are_lp_duals():
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10.0, capacity=50),
                        dict(supplier="B", item="x", unit_price=15.0)],
                demand=[("PL", "x", 2027, 80)])
    result = procure.solve(data)
    assert not result.is_mip and result.duals_basis == "lp"
    assert set(result.demand_duals["basis"]) == {"lp"}
    assert marginal_sentences(result) == ["one more x for PL in 2027 costs 15.00 EUR"]


def _solve(data):
    model = build_model(data)
    out = solve_highs(model, mip_gap=0.0)
    assert out.status == procure.Status.OPTIMAL
    ints = np.flatnonzero(model.integrality)
    return model, out, np.round(out.col_value[ints])


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31 - 1), st.booleans())
def test_fixed_mip_demand_duals_against_finite_differences(seed, tiers):
    """For every demand row where one unit more and one unit less leave every yes/no decision
    as it is, the dual lies between the two one-sided differences of the optimal cost (the
    cost is convex in the demand once the decisions are fixed; equal to both where the LP is
    not degenerate)."""
    tables = generate(partners=2, items=2, offers_per_item=3, periods=2, rule_density=1.0,
                      tiers=tiers, setup=True, min_orders=True, seed=seed)
    data = procure.validate_tables(tables)
    model, base, decisions = _solve(data)
    assert model.is_mip and base.duals_basis == "fixed_mip"
    rows = model.constraints["demand"]
    duals = base.row_dual[rows.start:rows.stop]
    compared = 0
    for k, demand_row in enumerate(rows.index["demand_row"].to_numpy()[:3]):
        cost = {}
        for delta in (-1.0, 1.0):
            d = data.demand.copy()
            if d.at[demand_row, "quantity"] + delta <= 0:
                break
            d.at[demand_row, "quantity"] += delta
            _, out, changed = _solve(data.replace(demand=d))
            if not np.array_equal(changed, decisions):
                break
            cost[delta] = out.objective
        else:
            slack = 1e-6 * max(1.0, abs(base.objective))
            left, right = base.objective - cost[-1.0], cost[1.0] - base.objective
            assert left - slack <= duals[k] <= right + slack, (k, left, duals[k], right)
            compared += 1
    result = procure.solve(data, mip_gap=0.0)
    assert result.duals_basis == "fixed_mip"
    assert np.allclose(result.demand_duals["marginal_cost"].to_numpy(), duals, rtol=1e-6, atol=1e-6)
