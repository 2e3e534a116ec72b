"""The benchmark instance generator and the PuLP baseline model (benchmarks/)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from benchmarks import pulp_baseline
from benchmarks.generate import SPEC_COLUMNS, generate, main, write_xlsx

SMALL = dict(partners=3, items=4, offers_per_item=4, periods=3)


def test_deterministic_by_seed():
    a = generate(**SMALL, rule_density=2, tiers=True, setup=True, min_orders=True,
                 shared_capacity=True, shortfall=True, budgets=True, seed=7)
    b = generate(**SMALL, rule_density=2, tiers=True, setup=True, min_orders=True,
                 shared_capacity=True, shortfall=True, budgets=True, seed=7)
    c = generate(**SMALL, rule_density=2, tiers=True, setup=True, min_orders=True,
                 shared_capacity=True, shortfall=True, budgets=True, seed=8)
    assert list(a) == list(b)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["Demand"].equals(c["Demand"])


@pytest.mark.parametrize("P,I,K,T", [(1, 1, 1, 1), (2, 3, 2, 1), (4, 7, 5, 6), (6, 20, 8, 12)])
def test_sizes_as_requested(P, I, K, T):  # noqa: E741
    t = generate(partners=P, items=I, offers_per_item=K, periods=T, rule_density=1.0, seed=3)
    assert len(t["Partners"]) == P
    assert len(t["Items"]) == I
    assert len(t["Offers"]) == I * K
    assert len(t["Demand"]) == P * I * T
    assert (t["Offers"].groupby("item")["supplier"].nunique() == K).all()
    assert not t["Offers"].duplicated(["supplier", "item"]).any()
    assert sorted(t["Demand"]["period"].unique()) == [str(2026 + k) for k in range(T)]
    assert len(t["Rules"]) <= P
    assert (t["Demand"]["quantity"] > 0).all()


def test_tables_have_spec_columns_and_text_ids():
    t = generate(**SMALL, rule_density=3, tiers=True, shared_capacity=True, seed=1)
    assert list(t) == list(SPEC_COLUMNS)
    for name, df in t.items():
        assert list(df.columns) == SPEC_COLUMNS[name], name
    # the same contract as the package's declarative schema (minus its extensions)
    from procure.data.schema import SHEETS

    for name, sheet in SHEETS.items():
        assert SPEC_COLUMNS[name] == [c.name for c in sheet.columns if not c.extension], name
    assert t["Partners"]["partner"].iloc[0] == "P001"
    assert t["Items"]["item"].iloc[0] == "I0001"
    assert t["Suppliers"]["supplier"].iloc[0] == "S0001"
    for name, col in [("Demand", "period"), ("Offers", "supplier"), ("Demand", "partner")]:
        assert all(isinstance(v, str) for v in t[name][col])
    # every id referenced is defined
    assert set(t["Offers"]["supplier"]) <= set(t["Suppliers"]["supplier"])
    assert set(t["Demand"]["item"]) <= set(t["Items"]["item"])
    assert set(t["Capacity"]["period"]) <= set(t["Demand"]["period"])


def test_large_instance_generates_fast():
    t0 = time.perf_counter()
    t = generate(partners=30, items=200, offers_per_item=8, periods=12, rule_density=1,
                 tiers=True, setup=True, min_orders=True, shared_capacity=True,
                 shortfall=True, budgets=True)
    assert time.perf_counter() - t0 < 5.0
    assert len(t["Demand"]) * 8 == 576_000


def test_write_xlsx_round_trip(tmp_path):
    t = generate(**SMALL, rule_density=2, tiers=True, budgets=True, seed=2)
    path = write_xlsx(t, tmp_path / "g.xlsx")
    back = pd.read_excel(path, sheet_name=None, engine="calamine")
    assert list(back) == list(t)
    for name, df in t.items():
        assert list(back[name].columns) == list(df.columns)
        assert len(back[name]) == len(df)
    np.testing.assert_allclose(back["Demand"]["quantity"], t["Demand"]["quantity"])


def test_cli_writes_a_workbook(tmp_path, capsys):
    out = tmp_path / "cli.xlsx"
    assert main(["--partners", "2", "--items", "3", "--offers-per-item", "3", "--periods", "2",
                 "--rule-density", "1", "--tiers", "--out", str(out)]) == 0
    assert out.exists() and "generated" in capsys.readouterr().out


OPTIONS = {
    "plain": {},
    "tiers": dict(tiers=True),
    "setup": dict(setup=True),
    "min_orders": dict(min_orders=True),
    "shared_capacity": dict(shared_capacity=True),
    "shortfall": dict(shortfall=True),
    "budgets": dict(budgets=True),
    "rules": dict(rule_density=1),
    "everything": dict(rule_density=2, tiers=True, setup=True, min_orders=True,
                       shared_capacity=True, shortfall=True, budgets=True),
}


@pytest.mark.parametrize("option", list(OPTIONS))
def test_each_option_solves_to_the_same_optimum_with_cbc_and_highs(option):
    t = generate(**SMALL, seed=11, **OPTIONS[option])
    # the option really shows in the tables
    if option == "tiers":
        assert len(t["PriceTiers"]) > 0
    if option == "setup":
        assert (t["Offers"]["setup_cost"] > 0).any()
    if option == "min_orders":
        assert (t["Offers"]["min_order"] > 0).any()
    if option == "shared_capacity":
        assert t["Suppliers"]["capacity"].notna().all()
    if option == "shortfall":
        assert t["Items"]["shortfall_penalty"].notna().any()
    if option == "budgets":
        assert t["Partners"]["budget"].notna().all()
    if option == "rules":
        assert len(t["Rules"]) >= 2
    cbc = pulp_baseline.solve(t, "cbc", time_limit=60)
    highs = pulp_baseline.solve(t, "highs", time_limit=60)
    assert cbc[0] == "optimal" and highs[0] == "optimal"
    assert cbc[1] == pytest.approx(highs[1], rel=1e-6)
    # deliveries never exceed demand (no over-buying)
    demand = t["Demand"].groupby(["partner", "item", "period"])["quantity"].sum()
    got = {}
    for (p, i, _s, per), q in highs[2].items():
        got[(p, i, per)] = got.get((p, i, per), 0.0) + q
    for key, q in demand.items():
        assert got.get(key, 0.0) <= q + 1e-6


def test_many_seeds_are_feasible_with_every_option():
    for seed in range(6):
        for k in (1, 3, 5):
            t = generate(partners=3, items=3, offers_per_item=k, periods=2, rule_density=3,
                         tiers=True, setup=True, min_orders=True, shared_capacity=True,
                         budgets=True, seed=100 + seed)
            status, _obj, _x = pulp_baseline.solve(t, "highs", time_limit=30)
            assert status == "optimal", (seed, k, t["Rules"])


def micro(rule=None, tier=None):
    """2 partners (A, B), 1 item, 2 suppliers, 1 period."""
    tables = {
        "Partners": pd.DataFrame({"partner": ["A", "B"], "country": ["FR", "DE"]}),
        "Items": pd.DataFrame({"item": ["shell"]}),
        "Suppliers": pd.DataFrame({"supplier": ["S1", "S2"], "country": ["DE", "FR"]}),
        "Offers": pd.DataFrame({"supplier": ["S1", "S2"], "item": ["shell", "shell"],
                                "unit_price": [10.0, 15.0], "capacity": [100.0, np.nan]}),
        "Demand": pd.DataFrame({"partner": ["A", "B"], "item": ["shell", "shell"],
                                "period": ["2026", "2026"], "quantity": [80.0, 60.0]}),
        # S1 is in DE: 3 per unit to A (FR), 0 to B; S2 is in FR: 0 to A, 2 per unit to B
        "Transport": pd.DataFrame({"from_country": ["DE", "FR"], "to_partner": ["A", "B"],
                                   "cost_per_unit": [3.0, 2.0]}),
    }
    if rule is not None:
        tables["Rules"] = pd.DataFrame([rule])
    if tier is not None:
        tables["PriceTiers"] = pd.DataFrame([tier])
    return tables


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_micro_instance_gives_the_hand_optimum(solver):
    # Delivered unit costs: A from S1 10+3 = 13, A from S2 15+0 = 15,
    #                       B from S1 10+0 = 10, B from S2 15+2 = 17.
    # S1 (cheapest) has 100 of the 140 units; the other 40 come from S2 and go
    # where S2 costs least relative to S1: A (15-13 = 2) rather than B (17-10 = 7).
    # A: 40 from S1, 40 from S2; B: 60 from S1.
    # Cost = 40*13 + 40*15 + 60*10 = 520 + 600 + 600 = 1720.
    status, obj, x = pulp_baseline.solve(micro(), solver)
    assert status == "optimal"
    assert obj == pytest.approx(1720.0)
    assert x[("A", "shell", "S1", "2026")] == pytest.approx(40.0)
    assert x[("A", "shell", "S2", "2026")] == pytest.approx(40.0)
    assert x[("B", "shell", "S1", "2026")] == pytest.approx(60.0)

    # Pool max_share each_supplier 0.6: S1 <= 0.6*140 = 84, so S2 >= 56.
    # S1 serves B first (60, saving 7 a unit), then A 24; S2 serves A 56.
    # Cost = 60*10 + 24*13 + 56*15 = 600 + 312 + 840 = 1752.
    rule = {"rule": "max_share", "group": "each_supplier", "share": 0.6}
    status, obj, x = pulp_baseline.solve(micro(rule=rule), solver)
    assert status == "optimal" and obj == pytest.approx(1752.0)

    # All-units tier: S2 at 11 from a pooled 50 units. A from S2 now costs 11
    # (< 13 from S1), B from S2 13 (> 10 from S1): A takes 80 from S2 (>= 50, so
    # the tier applies), B 60 from S1. Cost = 80*11 + 60*10 = 880 + 600 = 1480.
    tier = {"supplier": "S2", "item": "shell", "min_quantity": 50.0, "unit_price": 11.0}
    status, obj, x = pulp_baseline.solve(micro(tier=tier), solver)
    assert status == "optimal" and obj == pytest.approx(1480.0)
    assert x[("A", "shell", "S2", "2026")] == pytest.approx(80.0)

    # Ban S1 for A: A buys 80 from S2 at 15 = 1200; B 60 from S1 = 600; total 1800.
    rule = {"rule": "ban", "partner": "A", "group": "S1"}
    status, obj, _x = pulp_baseline.solve(micro(rule=rule), solver)
    assert status == "optimal" and obj == pytest.approx(1800.0)


def test_micro_instance_more_hand_optima():
    solve = pulp_baseline.solve
    # Incremental tier: S2's units beyond a pooled 50 cost 11. The cost is
    # concave, so compare the ends: S2 = 40 (S1 full): 1720 as above; S2 = 80
    # (all of A; A's marginal unit from S2 costs 11 < 13 from S1, B's 11+2 = 13 > 10):
    # 50*15 + 30*11 + 60*10 = 750 + 330 + 600 = 1680. Serving B from S2 too only adds.
    tier = {"supplier": "S2", "item": "shell", "min_quantity": 50.0, "unit_price": 11.0}
    t = micro(tier=tier)
    t["Offers"]["discount"] = ["all_units", "incremental"]
    status, obj, x = solve(t, "highs")
    assert status == "optimal" and obj == pytest.approx(1680.0)
    assert x[("A", "shell", "S2", "2026")] == pytest.approx(80.0)

    # B must buy from 2 suppliers: 1 unit of B's moves to S2 (+7), freeing one S1
    # unit for A (-2): 1720 + 7 - 2 = 1725.
    rule = {"rule": "min_suppliers", "partner": "B", "item": "shell", "quantity": 2.0}
    status, obj, x = solve(micro(rule=rule), "cbc")
    assert status == "optimal" and obj == pytest.approx(1725.0)
    assert x[("B", "shell", "S2", "2026")] == pytest.approx(1.0)

    # A's budget 1100 on value at base price plus transport: with a units of A from
    # S1, A spends 13a + 15(80-a) = 1200 - 2a <= 1100, so a >= 50; total cost
    # 1200 - 2a + 10(100-a) + 17(a-40) = 1520 + 5a, least at a = 50: 1770.
    t = micro()
    t["Partners"]["budget"] = [1100.0, np.nan]
    status, obj, x = solve(t, "highs")
    assert status == "optimal" and obj == pytest.approx(1770.0)
    assert x[("A", "shell", "S1", "2026")] == pytest.approx(50.0)

    # Shortfall at 14 a unit: S1's 100 go to B (saves 14-10 = 4) then A (saves 1);
    # A's other 40 from S2 would cost 15 > 14, so they are short:
    # 60*10 + 40*13 + 40*14 = 600 + 520 + 560 = 1680.
    t = micro()
    t["Items"]["shortfall_penalty"] = [14.0]
    status, obj, x = solve(t, "highs")
    assert status == "optimal" and obj == pytest.approx(1680.0)
    assert ("A", "shell", "S2", "2026") not in x

    # Pool max_suppliers 1 (single sourcing): S1 alone has 100 < 140, so S2 alone:
    # 80*15 + 60*17 = 1200 + 1020 = 2220.
    rule = {"rule": "max_suppliers", "item": "shell", "quantity": 1.0}
    status, obj, _x = solve(micro(rule=rule), "highs")
    assert status == "optimal" and obj == pytest.approx(2220.0)

    # Workshare for A (FR, whose only supplier is S2): value bought from S2 by all
    # >= 0.6 x A's own value. With s units from S2 (all to A first, cheapest there),
    # base value S2 = 15s >= 0.6*(10*(80-s) + 15s) = 480 + 3s  =>  s >= 40: the
    # unconstrained plan (s = 40) already meets it: 1720.
    rule = {"rule": "workshare", "partner": "A", "share": 0.6}
    status, obj, _x = solve(micro(rule=rule), "highs")
    assert status == "optimal" and obj == pytest.approx(1720.0)
    # ... and at 0.8: 15s >= 0.8*(800 + 5s) = 640 + 4s  =>  s >= 640/11 = 58.18...;
    # the extra S2 units go to A (+2 each): 1720 + 2*(640/11 - 40) = 1756.36...
    rule = {"rule": "workshare", "partner": "A", "share": 0.8}
    status, obj, _x = solve(micro(rule=rule), "highs")
    assert status == "optimal" and obj == pytest.approx(1720.0 + 2.0 * (640.0 / 11.0 - 40.0))
