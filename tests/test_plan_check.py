"""The run-time plan check (procure.engine.check): deliberately corrupted plans are caught and
named (family, subject, amount); a leaky plan that escapes polishing is never called optimal.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import procure
from procure.cli.main import main as cli_main
from procure.engine import backends
from procure.engine.check import FAMILIES, VIOLATION_COLUMNS, check_plan, family, violations

try:
    from tests.test_numerics import extreme_tables
    from tests.tiny import rule, tiny
except ImportError:  # tests/ is not a package
    from test_numerics import extreme_tables
    from tiny import rule, tiny


def _data(**change):
    """PL (120 units) and DE (80) of item x in 2027. A (DE): 9 a unit, 100 a period, setup 50,
    min order 10. B (FR): 12, from 150 units 11 (all units). C (PL): 15. PL buys >= 25 % from
    Poland (Rules row 2). By hand: C 30 for PL (450); of the other 170, A 100 + B 70 =
    900 + 50 + 840 = 1,790 beats B 170 at 11 = 1,870 and A 20 + B 150 = 1,880. Total 2,240."""
    kw = dict(
        offers=[dict(supplier="A", item="x", unit_price=9.0, capacity=100, setup_cost=50.0,
                     min_order=10),
                dict(supplier="B", item="x", unit_price=12.0),
                dict(supplier="C", item="x", unit_price=15.0)],
        demand=[("PL", "x", 2027, 120), ("DE", "x", 2027, 80)],
        suppliers={"A": "DE", "B": "FR", "C": "PL"},
        tiers=[("B", "x", 150, 11.0)],
        rules=[rule("min_share", partner="PL", group="PL", share=0.25, name="Polish quarter")],
    )
    kw.update(change)
    return tiny(**kw)


@pytest.fixture(scope="module")
def solved():
    data = _data()
    result = procure.solve(data)
    assert result.status == procure.Status.OPTIMAL, result.message
    assert result.total_cost == pytest.approx(2_240)
    assert result.check.ok and set(result.check.families) == set(FAMILIES)
    return data, result


def _caught(data, result) -> pd.DataFrame:
    check = check_plan(data, result)
    assert not check.ok
    assert list(check.table().columns) == list(VIOLATION_COLUMNS)
    return check.table()


def _one(table: pd.DataFrame, fam: str) -> pd.Series:
    rows = table[table["family"] == fam]
    assert len(rows) == 1, table
    return rows.iloc[0]


def _with_quantity(result, row: int, delta: float):
    a = result.allocation.copy()
    a.loc[row, "quantity"] += delta
    a.loc[row, "cost"] = a.loc[row, "quantity"] * a.loc[row, "unit_price"] + a.loc[row, "transport"]
    return a


def _row(result, **where) -> int:
    a = result.allocation
    mask = np.ones(len(a), dtype=bool)
    for col, value in where.items():
        mask &= (a[col] == value).to_numpy()
    return int(np.flatnonzero(mask)[0])


def test_one_unit_past_a_capacity(solved):
    """A delivers its 100; one more unit from A (one fewer from B for the same partner) is one
    past A's capacity in 2027."""
    data, result = solved
    partner = result.allocation.loc[_row(result, supplier="B"), "partner"]
    a = _with_quantity(result, _row(result, supplier="A", partner=partner), +1)
    b_row = int(np.flatnonzero((a["supplier"] == "B") & (a["partner"] == partner))[0])
    a.loc[b_row, "quantity"] -= 1
    a.loc[b_row, "cost"] = a.loc[b_row, "quantity"] * a.loc[b_row, "unit_price"]
    v = _one(_caught(data, dataclasses.replace(result, allocation=a)), "offer_capacity")
    assert v["subject"] == "A / x / 2027" and v["amount"] == pytest.approx(1)
    assert "capacity 100" in v["detail"]


def test_a_rule_share_nudged_below_its_floor(solved):
    """PL takes 30 of its 120 from C; one unit moved from C to B leaves 29, 1 below 25 %."""
    data, result = solved
    a = _with_quantity(result, _row(result, supplier="C", partner="PL"), -1)
    b = _row(result, supplier="B", partner="PL") if ((a["supplier"] == "B") & (a["partner"] == "PL")).any() \
        else _row(result, supplier="A", partner="PL")
    a.loc[b, "quantity"] += 1
    a.loc[b, "cost"] = a.loc[b, "quantity"] * a.loc[b, "unit_price"]
    v = _one(_caught(data, dataclasses.replace(result, allocation=a)), "rule")
    assert v["subject"] == "Rules!2 'Polish quarter'"
    assert v["amount"] == pytest.approx(1) and "below 25.0000%" in v["detail"]


def test_a_tier_price_wrong(solved):
    """B delivers 70, below its 150-unit tier: 12 a unit, not 11."""
    data, result = solved
    a = result.allocation.copy()
    rows = a["supplier"] == "B"
    a.loc[rows, "unit_price"] = 11.0
    a.loc[rows, "cost"] = a.loc[rows, "quantity"] * 11.0
    table = _caught(data, dataclasses.replace(result, allocation=a))
    price = table[table["family"] == "price"]
    assert len(price) == rows.sum() and price["amount"].to_numpy() == pytest.approx(1.0)
    assert all(s.endswith(" / B / 2027") for s in price["subject"])


def test_a_setup_not_paid(solved):
    data, result = solved
    offers = result.offers.copy()
    offers.loc[offers["supplier"] == "A", "setup_cost"] = 0.0
    corrupt = dataclasses.replace(result, offers=offers, setup=0.0, total_cost=result.total_cost - 50)
    table = _caught(data, corrupt)
    v = _one(table, "setup")
    assert v["subject"] == "A / x" and v["amount"] == pytest.approx(50)
    costs = table[table["family"] == "cost"].set_index("subject")["amount"]
    assert costs.to_dict() == pytest.approx({"setup": 50, "total_cost": 50})


def test_a_demand_row_short(solved):
    data, result = solved
    row = _row(result, partner="DE")
    corrupt = dataclasses.replace(result, allocation=_with_quantity(result, row, -1))
    v = _one(_caught(data, corrupt), "demand")
    assert v["subject"] == "DE / x / 2027 (Demand row 3)" and v["amount"] == pytest.approx(1)
    assert "of 80 demanded" in v["detail"]


def test_a_wrong_total(solved):
    data, result = solved
    v = _one(_caught(data, dataclasses.replace(result, total_cost=result.total_cost + 5)), "cost")
    assert (v["subject"], v["amount"]) == ("total_cost", pytest.approx(5))


def test_the_same_plan_against_stricter_data(solved):
    """The plan of the fixture against a workbook it does not satisfy: a budget 10 short, a ban
    on C for PL, A starting in 2028, a min order of 150 at A."""
    _, result = solved
    spent = float((result.allocation["quantity"] * result.allocation["base_price"])
                  [result.allocation["partner"] == "PL"].sum())
    table = _caught(_data(partners={"PL": {"budget": spent - 10}}), result)
    assert _one(table, "budget")["amount"] == pytest.approx(10)
    table = _caught(_data(rules=[rule("ban", partner="PL", group="C")]), result)
    assert _one(table, "ban")["amount"] == pytest.approx(30)
    late = _data(offers=[dict(supplier="A", item="x", unit_price=9.0, first_period=2028),
                         dict(supplier="B", item="x", unit_price=12.0),
                         dict(supplier="C", item="x", unit_price=15.0)],
                 demand=[("PL", "x", 2027, 120), ("DE", "x", 2027, 80), ("PL", "x", 2028, 0)])
    assert set(_caught(late, result)["family"]) >= {"first_period"}
    big = _data(offers=[dict(supplier="A", item="x", unit_price=9.0, capacity=100, setup_cost=50.0,
                             min_order=150),
                        dict(supplier="B", item="x", unit_price=12.0),
                        dict(supplier="C", item="x", unit_price=15.0)])
    assert _one(_caught(big, result), "min_order")["amount"] == pytest.approx(50)


def test_a_family_of_ones_own(solved):
    """Other workstreams add families the same way: a function of the plan, registered."""
    data, result = solved

    @family("test_no_more_than_99_from_a")
    def check(plan):
        q = plan.quantity * (plan.alloc["supplier"] == "A").to_numpy()
        return violations("test_no_more_than_99_from_a", "A", q.sum() - 99, 0.0,
                          lambda k: f"A delivers {q.sum():g}")

    try:
        v = _one(check_plan(data, result).table(), "test_no_more_than_99_from_a")
        assert v["amount"] == pytest.approx(1) and v["detail"] == "A delivers 100"
    finally:
        FAMILIES.pop("test_no_more_than_99_from_a")


def test_a_leaky_plan_that_escapes_polishing_is_never_optimal(monkeypatch, tmp_path, capsys):
    """tests/test_numerics.extreme_tables: HiGHS's own plan delivers 20 shells from A through
    y = 1e-6 (setup 1,000 unpaid, min order 1e6 unmet). Were polishing skipped, the plan check
    catches it: status check_failed, the culprits named, exit 1 on the command line."""
    def no_polish(h, model, out, **kwargs):
        return out

    monkeypatch.setattr(backends, "polish_mip", no_polish)
    data = procure.validate_tables(extreme_tables())
    result = procure.solve(data)
    assert result.status == procure.Status.CHECK_FAILED and not result.has_plan
    families = set(result.check.table()["family"])
    assert {"setup", "min_order"} <= families
    setup = result.check.table().set_index("family").loc["setup"]
    assert setup["subject"] == "A / shell" and setup["amount"] == pytest.approx(1_000)
    assert result.message.startswith("the solver's plan fails the run-time check")
    assert result.summary()["check"]["ok"] is False
    path = tmp_path / "extreme.xlsx"
    from procure.data.writer import write_workbook

    write_workbook(data, path)
    code = cli_main(["solve", str(path), "--out", str(tmp_path / "out.xlsx")])
    assert code == 1
    out = capsys.readouterr().out
    assert "fails the run-time check" in out and "setup: A / shell" in out
    import openpyxl

    assert "CheckFailed" in openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames
