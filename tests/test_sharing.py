"""Coalitions (SPEC section 4): c(S), the fast bound-changing path, savings and Shapley."""

from __future__ import annotations

import random

import numpy as np
import pytest
from tiny import rule, solved, tiny

import procure
from benchmarks.generate import generate
from procure.analysis.sharing import (
    GameInfeasible,
    all_coalitions,
    coalition_costs,
    coalition_data,
    savings,
    shapley,
    shapley_from_costs,
    standalone_costs,
)


def pooled_tier_game():
    """A, B, C need 60, 60 and 20 shells; one supplier sells at 10, or 8 for every unit once
    the pooled quantity reaches 100 (all units).

    c(A) = c(B) = 600, c(C) = 200; c(AB) = 120 x 8 = 960; c(AC) = c(BC) = 80 x 10 = 800;
    c(ABC) = 140 x 8 = 1120.
    """
    return tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10)],
        tiers=[("S", "shell", 100, 8)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 60), ("C", "shell", 1, 20)],
    )


HAND_COSTS = {
    frozenset(): 0.0,
    frozenset("A"): 600.0, frozenset("B"): 600.0, frozenset("C"): 200.0,
    frozenset("AB"): 960.0, frozenset("AC"): 800.0, frozenset("BC"): 800.0,
    frozenset("ABC"): 1120.0,
}


def test_coalition_costs_of_the_tier_game_match_hand_values():
    data = pooled_tier_game()
    table = coalition_costs(data, all_coalitions(["A", "B", "C"]))
    got = dict(zip(table["coalition"], table["cost"], strict=True))
    assert set(got) == set(HAND_COSTS)
    for coalition, cost in HAND_COSTS.items():
        assert got[coalition] == pytest.approx(cost, rel=1e-9), sorted(coalition)
    assert (table["status"] == "optimal").all()


def test_shapley_of_the_tier_game_by_hand():
    # A: orders ABC, ACB -> 600 each; BAC -> 960-600 = 360; CAB -> 800-200 = 600;
    # BCA, CBA -> 1120-800 = 320 each: (600+600+360+600+320+320)/6 = 466.67; B the same;
    # C = 1120 - 2 x 466.67 = 186.67
    phi = shapley(pooled_tier_game()).set_index("partner")["shapley"]
    assert phi["A"] == pytest.approx(2800 / 6)
    assert phi["B"] == pytest.approx(2800 / 6)
    assert phi["C"] == pytest.approx(1120 / 6)
    assert phi.sum() == pytest.approx(1120.0)  # efficiency: the grand coalition's cost is shared


def test_sampled_shapley_is_efficient_and_close_to_exact():
    data = pooled_tier_game()
    exact = shapley(data).set_index("partner")["shapley"]
    sampled = shapley(data, exact_limit=0, samples=300, seed=4).set_index("partner")
    # every order's marginal contributions add up to c(N): so does their mean
    assert sampled["shapley"].sum() == pytest.approx(1120.0)
    for p in "ABC":
        assert abs(sampled.at[p, "shapley"] - exact[p]) <= 4 * sampled.at[p, "std_error"] + 1e-9


def test_savings_under_proportional_sharing():
    data = pooled_tier_game()
    result = solved(data)
    table = savings(data, result).set_index("partner")
    # pooled: every unit at 8 -> A 480, B 480, C 160
    assert table.loc["A", "pooled_cost"] == pytest.approx(480.0)
    assert table.loc["C", "standalone_cost"] == pytest.approx(200.0)
    assert table.loc["A", "saving"] == pytest.approx(120.0)
    assert table.loc["C", "saving_pct"] == pytest.approx(40 / 200)
    assert table["saving"].sum() == pytest.approx(1400.0 - 1120.0)


def scaled_rule_data():
    """Pool rule: at least 70 units from the dearer supplier D (price 12; C costs 10).
    Pool demand 140 (A 60, B 60, C 20). Partner rule: B buys at least 50 from D."""
    return tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10),
                dict(supplier="D", item="shell", unit_price=12)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 60), ("C", "shell", 1, 20)],
        suppliers={"C": "FR", "D": "DE"},
        rules=[rule("min_quantity", item="shell", group="D", quantity=70),
               rule("min_quantity", partner="B", item="shell", group="D", quantity=50)],
    )


def test_pool_quantity_scaled_and_outsiders_rules_dropped():
    data = scaled_rule_data()
    # {A}: pool rule scaled by 60/140 -> 30 from D; B's own rule dropped:
    #   30 x 12 + 30 x 10 = 660
    # {A, B}: pool rule scaled by 120/140 -> 60 from D, B's rule (50 from D) is inside it:
    #   60 x 12 + 60 x 10 = 1320
    # {B}: scaled 30, own rule 50 -> 50 x 12 + 10 x 10 = 700
    table = coalition_costs(data, [["A"], ["A", "B"], ["B"]])
    assert list(table["cost"]) == pytest.approx([660.0, 1320.0, 700.0])
    literal = coalition_data(data, ["A"])
    scaled = literal.rules[literal.rules["partner"].isna()]["quantity"].iloc[0]
    assert scaled == pytest.approx(70 * 60 / 140)
    assert list(literal.rules["partner"].dropna()) == []  # B's rule is gone


def _literal_cost(data, coalition):
    result = procure.solve(coalition_data(data, coalition), diagnose=False)
    return result.total_cost if result.has_plan else float("nan")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_equals_literal_coalition_models(seed):
    tables = generate(partners=4, items=3, offers_per_item=4, periods=2, rule_density=1.5,
                      tiers=True, setup=True, min_orders=True, shared_capacity=True, seed=seed)
    data = procure.validate_tables(tables)
    partners = list(data.partners["partner"])
    coalitions = [c for c in all_coalitions(partners) if c]
    table = coalition_costs(data, coalitions, mip_gap=1e-9)
    for coalition, cost in zip(table["coalition"], table["cost"], strict=True):
        expected = _literal_cost(data.replace(settings={**data.settings, "mip_gap": 1e-9}), coalition)
        if np.isnan(expected):
            assert np.isnan(cost), sorted(coalition)
        else:
            assert cost == pytest.approx(expected, rel=1e-6), sorted(coalition)


def test_fast_path_equals_literal_on_demo_samples():
    data = procure.datasets.load_demo()
    data = data.replace(settings={**data.settings, "mip_gap": 1e-7})
    partners = list(data.partners["partner"])
    rng = random.Random(7)
    coalitions = [frozenset(rng.sample(partners, k)) for k in (1, 2, 4, 7, 10)]
    table = coalition_costs(data, coalitions, workers=2)
    for coalition, cost in zip(table["coalition"], table["cost"], strict=True):
        assert cost == pytest.approx(_literal_cost(data, coalition), rel=1e-6), sorted(coalition)


def test_standalone_costs_and_unknown_partner():
    data = pooled_tier_game()
    alone = standalone_costs(data).set_index("partner")["standalone_cost"]
    assert alone.to_dict() == pytest.approx({"A": 600.0, "B": 600.0, "C": 200.0})
    with pytest.raises(ValueError, match="unknown partner"):
        coalition_costs(data, [["A", "Z"]])


def test_infeasible_coalition_is_named_and_no_shapley_shown():
    # the pool can only afford D's share if A is in: B alone must buy 50 from D, which has 40
    data = tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10),
                dict(supplier="D", item="shell", unit_price=12, capacity=40)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 60)],
        suppliers={"C": "FR", "D": "DE"},
        rules=[rule("min_quantity", partner="B", item="shell", group="D", quantity=50)],
    )
    table = coalition_costs(data, all_coalitions(["A", "B"]))
    status = dict(zip(table["coalition"], table["status"], strict=True))
    assert status[frozenset("B")] == "infeasible"
    assert status[frozenset("A")] == "optimal"
    with pytest.raises(GameInfeasible, match=r"\{B\}"):
        shapley(data)


def test_shapley_from_costs_rejects_nan():
    costs = dict(HAND_COSTS)
    costs[frozenset("AB")] = float("nan")
    with pytest.raises(GameInfeasible):
        shapley_from_costs(["A", "B", "C"], costs)


def test_thread_count_can_change_within_a_process():
    # HiGHS fixes its scheduler's thread count at the first run of a process; asking for
    # another count later used to fail every solve with "Not Set"
    data = pooled_tier_game()
    counts = [None, 1, None, 2, 1]
    results = [procure.solve(data, threads=t) for t in counts]
    assert [r.status for r in results] == [procure.Status.OPTIMAL] * len(counts)
    assert {round(r.total_cost, 6) for r in results} == {1120.0}


def test_cli_savings_in_json_and_workbook(tmp_path, capsys):
    import json

    import openpyxl
    from workbooks import write_workbook

    from procure import cli

    path = write_workbook(tmp_path / "game.xlsx", {
        "Partners": [["partner"], ["A"], ["B"], ["C"]],
        "Items": [["item"], ["shell"]],
        "Suppliers": [["supplier", "country"], ["S", "XX"]],
        "Offers": [["supplier", "item", "unit_price"], ["S", "shell", 10]],
        "PriceTiers": [["supplier", "item", "min_quantity", "unit_price"], ["S", "shell", 100, 8]],
        "Demand": [["partner", "item", "period", "quantity"],
                   ["A", "shell", 1, 60], ["B", "shell", 1, 60], ["C", "shell", 1, 20]],
    })
    out = tmp_path / "results.xlsx"
    assert cli.main(["solve", str(path), "--json", "--savings", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    saved = {row["partner"]: row for row in summary["savings"]}
    # alone: 600, 600, 200; pooled at 8 a unit: 480, 480, 160
    assert saved["A"]["saving"] == pytest.approx(120.0)
    assert saved["C"]["standalone_cost"] == pytest.approx(200.0)
    sheet = openpyxl.load_workbook(out)["Savings"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["partner", "standalone_cost", "pooled_cost", "saving"]
    assert cli.main(["solve", str(path), "--savings"]) == 0
    assert "pooling saves" in capsys.readouterr().out
