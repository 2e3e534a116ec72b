"""Fair shares, rule prices and sweeps (procure.analysis.cooperation) and their commands
(procure share, rule-cost, sweep): hand-computed games, agreement with coalition_costs and
with ``procure solve`` of the literal workbooks (coalitions, rules deleted, parameters set),
sampled Shapley against the exact values."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from test_sharing import HAND_COSTS, pooled_tier_game
from tiny import rule, tiny

import procure
from benchmarks.generate import generate, write_xlsx
from procure import cli
from procure.analysis.cooperation import (
    fair_shares,
    null_partners,
    rule_costs,
    shares_from_costs,
)
from procure.analysis.games import shapley_from_costs
from procure.analysis.many import Variant, coalition_data
from procure.analysis.sharing import all_coalitions, coalition_costs
from procure.analysis.sweep import sweep, sweep_values
from procure.data.writer import write_workbook

GAP = 1e-9


def run_json(capsys, argv) -> tuple[int, dict]:
    code = cli.main(argv + ["--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def solve_json(capsys, path) -> dict:
    """``procure solve --json`` of a workbook file (the literal check)."""
    cli.main(["solve", str(path), "--json", "--mip-gap", str(GAP)])
    return json.loads(capsys.readouterr().out)


# --------------------------------------------------------------------------- fair shares


def test_fair_shares_of_the_tier_game_by_hand():
    """c(A) = c(B) = 600, c(C) = 200, c(AB) = 960, c(AC) = c(BC) = 800, c(ABC) = 1120
    (tests/test_sharing.py). Proportional: every unit at 8: 480, 480, 160. Shapley 2800/6,
    2800/6, 1120/6; nucleolus 470, 470, 180 (tests/test_games.py). Savings on Shapley:
    600 - 466.67 = 133.33, 200 - 186.67 = 13.33. Value brought: A: c(BC) + c(A) - c(P) =
    800 + 600 - 1120 = 280; C: 960 + 200 - 1120 = 40. Least core -20: the core is not empty,
    and Shapley's worst coalition is C (186.67 - 200 = -13.33)."""
    fs = fair_shares(pooled_tier_game())
    t = fs.table.set_index("partner")
    assert fs.grand == pytest.approx(1120.0)
    assert t["standalone"].to_dict() == pytest.approx({"A": 600, "B": 600, "C": 200})
    assert t["proportional"].to_dict() == pytest.approx({"A": 480, "B": 480, "C": 160})
    assert t["shapley"].to_dict() == pytest.approx({"A": 2800 / 6, "B": 2800 / 6, "C": 1120 / 6})
    assert t["nucleolus"].to_dict() == pytest.approx({"A": 470, "B": 470, "C": 180})
    assert t["savings"].to_dict() == pytest.approx({"A": 400 / 3, "B": 400 / 3, "C": 40 / 3})
    assert t["value_brought"].to_dict() == pytest.approx({"A": 280, "B": 280, "C": 40})
    assert fs.least_core_value == pytest.approx(-20.0) and fs.core_nonempty
    assert fs.core["shapley"].in_core and fs.core["shapley"].worst_coalition == ["C"]
    assert fs.core_sentence() == ("Shapley is in the core: no group would pay less on its own (C, the "
                                  "closest, would pay 13 EUR more).")
    assert fs.coalitions_solved == 7
    got = fs.to_dict()
    assert set(got) >= {"grand", "method", "partners", "core", "coalitions_solved", "infeasible_coalitions"}
    # the keys, and shapley_gap: every cost proven optimal, so the shares barely move
    assert set(got["partners"]["A"]) == {"standalone", "proportional", "shapley", "shapley_se", "nucleolus",
                                         "savings", "value_brought", "shapley_gap"}
    assert (t["shapley_gap"] >= 0).all() and (t["shapley_gap"] <= 1e-6 * fs.grand).all()
    assert set(got["core"]) >= {"core_nonempty", "least_core_value", "shapley", "proportional"}
    assert set(got["core"]["shapley"]) >= {"in_core", "worst_coalition", "excess"}


def test_shapley_outside_an_empty_core_is_named_in_money():
    """c(1) = c(2) = c(3) = 10 M, c(12) = 10 M, c(13) = c(23) = 20 M, c(123) = 21 M.
    Shapley of 3: first 10 (two orders), after 1 or after 2: 10 each, last: 21 - 10 = 11 (two
    orders): 62/6 = 10.33 M; 1 and 2 split the rest: 5.33 M each, so {1, 2} pays 10.67 M against
    10 M on its own: excess 0.67 M. The core is empty: x1 + x2 <= 10 and x3 <= 10 cannot add up
    to 21; the least-core value is 0.5 M (x1 + x2 = 10.5, x3 = 10.5)."""
    m = 1e6
    costs = {frozenset(k): v * m for k, v in {"": 0, "1": 10, "2": 10, "3": 10, "12": 10, "13": 20,
                                              "23": 20, "123": 21}.items()}
    fs = shares_from_costs(list("123"), costs)
    assert fs.table.set_index("partner")["shapley"].to_dict() == pytest.approx(
        {"1": 32 / 6 * m, "2": 32 / 6 * m, "3": 62 / 6 * m})
    assert fs.least_core_value == pytest.approx(0.5 * m) and fs.core_nonempty is False
    check = fs.core["shapley"]
    assert not check.in_core and check.worst_coalition == ["1", "2"]
    assert check.excess == pytest.approx(2 / 3 * m)
    assert fs.core_sentence() == ("Shapley is outside the core: 1 and 2 together would pay 667 k EUR "
                                  "less on their own; no split can prevent it (the core is empty: some "
                                  "group gains at least 500 k EUR by leaving).")
    assert not fs.core["nucleolus"].in_core
    assert fs.core["nucleolus"].excess == pytest.approx(0.5 * m)


def test_infeasible_coalition_gives_nulls_and_is_named(tmp_path, capsys):
    """B's industry (D, in B's country) must get work worth half of B's orders (workshare),
    but B may not buy from D (a ban): alone, B cannot meet its rule, so {B} has no plan; in the
    pool A buys 25 shells from D (300 = half of B's 600): c(P) = 600 + 25 x 12 + 35 x 10 = 1250.
    No Shapley split, nucleolus or core check; B's stand-alone cost and A's value brought (which
    needs c({B})) are null; the pool itself is feasible (exit 0)."""
    data = tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10),
                dict(supplier="D", item="shell", unit_price=12)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 60)],
        partners={"A": {"country": "AA"}, "B": {"country": "BB"}},
        suppliers={"C": "FR", "D": "BB"},
        rules=[rule("workshare", partner="B", share=0.5), rule("ban", partner="B", group="D")],
    )
    path = tmp_path / "infeasible.xlsx"
    write_workbook(data, path)
    code, got = run_json(capsys, ["share", str(path)])
    assert code == 0
    assert got["infeasible_coalitions"] == [["B"]]
    assert got["partners"]["B"]["standalone"] is None
    assert got["partners"]["A"]["value_brought"] is None
    assert got["partners"]["A"]["shapley"] is None and got["partners"]["A"]["nucleolus"] is None
    assert got["core"]["shapley"] is None and got["core"]["core_nonempty"] is None
    assert got["grand"] == pytest.approx(1250.0)
    assert got["partners"]["A"]["proportional"] is not None
    assert "No core check" in got["core_sentence"] and "{B}" in got["core_sentence"]


def test_partner_without_demand_is_a_dummy_costing_nothing():
    data = tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10)],
        tiers=[("S", "shell", 100, 8)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 60)],
        partners={"A": {}, "B": {}, "Z": {}},
        rules=[rule("max_quantity", group="S", quantity=500)],
    )
    fs = fair_shares(data)
    t = fs.table.set_index("partner")
    assert list(t.index) == ["A", "B", "Z"]  # the workbook's order
    assert t.loc["Z", ["standalone", "proportional", "shapley", "nucleolus"]].tolist() == pytest.approx([0] * 4)
    assert t.loc["Z", "value_brought"] == pytest.approx(0.0)
    # Z is a null player: the game is solved on A and B only (A, B and AB), with the same
    # shares as the workbook without Z at all
    assert fs.null_partners == ["Z"] and fs.coalitions_solved == 3
    without = fair_shares(data.replace(partners=data.partners[data.partners["partner"] != "Z"]))
    for column in ("standalone", "proportional", "shapley", "nucleolus", "savings", "value_brought"):
        assert t.loc[["A", "B"], column].tolist() == pytest.approx(without.table[column].tolist())
    assert fs.core_sentence() == without.core_sentence()
    assert fs.to_dict()["null_partners"] == ["Z"]
    assert fs.null_sentence() == ("Z has no demand and no rules of its own: 0 in every split, "
                                  "left out of the coalitions solved.")
    assert without.null_sentence() == ""
    # a partner without demand but with a rule of its own is a player (its rule may bind)
    ruled = data.replace(rules=pd.concat([data.rules, tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10)], demand=[("Z", "shell", 1, 1)],
        partners={"Z": {}}, rules=[rule("max_quantity", partner="Z", group="S", quantity=0)]).rules],
        ignore_index=True))
    assert null_partners(ruled) == []
    assert fair_shares(ruled).coalitions_solved == 7


@pytest.mark.parametrize("seed", [1, 2])
def test_share_against_coalition_costs_and_literal_workbooks(seed, tmp_path, capsys):
    """procure share --json on a random 3-partner workbook: c(P), every stand-alone cost and
    every value brought equal coalition_costs and ``procure solve`` of the literal coalition
    workbooks (coalition_data written as .xlsx); Shapley equals shapley_from_costs."""
    tables = generate(partners=3, items=3, offers_per_item=3, periods=2, rule_density=1.5, tiers=True,
                      setup=True, min_orders=True, shared_capacity=True, seed=seed)
    path = write_xlsx(tables, tmp_path / "pool.xlsx")
    data = procure.read_workbook(path)
    code, got = run_json(capsys, ["share", str(path), "--mip-gap", str(GAP)])
    assert code == 0
    partners = list(data.partners["partner"])
    table = coalition_costs(data, all_coalitions(partners), mip_gap=GAP)
    costs = dict(zip(table["coalition"], table["cost"], strict=True))
    grand = frozenset(partners)
    assert got["grand"] == pytest.approx(costs[grand], rel=1e-6)
    phi = shapley_from_costs(partners, costs).set_index("partner")["shapley"]
    for p in partners:
        row = got["partners"][p]
        assert row["standalone"] == pytest.approx(costs[frozenset([p])], rel=1e-6)
        assert row["shapley"] == pytest.approx(phi[p], rel=1e-6)
        assert row["value_brought"] == pytest.approx(
            costs[grand - {p}] + costs[frozenset([p])] - costs[grand], rel=1e-6, abs=1e-3)
    for members in ([partners[0]], partners[1:]):
        literal = tmp_path / f"coalition_{'_'.join(members)}.xlsx"
        write_workbook(coalition_data(data, members), literal)
        assert solve_json(capsys, literal)["total_cost"] == pytest.approx(costs[frozenset(members)], rel=1e-6)
    assert sum(got["partners"][p]["shapley"] for p in partners) == pytest.approx(got["grand"], rel=1e-9)


def test_share_on_the_demo_against_literal_workbooks(tmp_path, capsys):
    """The demo's stand-alone costs and values brought (--method proportional with a budget
    below 2^12: only the 25 coalitions these need are solved) against ``procure solve`` of the
    literal coalition workbooks, for two partners."""
    demo = procure.datasets.load_demo()
    path = tmp_path / "demo.xlsx"
    write_workbook(demo, path)
    code, got = run_json(capsys, ["share", str(path), "--method", "proportional", "--samples", "100",
                                  "--mip-gap", "1e-7"])
    assert code == 0 and got["exact"] is False and got["coalitions_solved"] == 25
    assert got["core"]["proportional"] is None  # no core check without every coalition
    partners = list(demo.partners["partner"])
    for p in partners[:2]:
        alone = tmp_path / f"{p}.xlsx"
        write_workbook(coalition_data(demo, [p]), alone)
        without = tmp_path / f"without_{p}.xlsx"
        write_workbook(coalition_data(demo, [q for q in partners if q != p]), without)
        c_p = solve_json(capsys, alone)["total_cost"]
        c_rest = solve_json(capsys, without)["total_cost"]
        assert got["partners"][p]["standalone"] == pytest.approx(c_p, rel=1e-6)
        assert got["partners"][p]["value_brought"] == pytest.approx(c_rest + c_p - got["grand"], rel=1e-5)
        assert got["partners"][p]["savings"] == pytest.approx(c_p - got["partners"][p]["proportional"], rel=1e-6)


def test_sampled_shapley_within_three_standard_errors_on_ten_partners():
    """Ten partners buy shells (5 to 50 each) from S at 10, 9 from 100 pooled units and 8
    from 200 (all units), or from T at 9.5 with a setup of 40: every coalition solved
    (1,024) gives the exact Shapley values; a post-stratified sample within a budget of 500
    coalition solves is within 3 standard errors of each, and adds up to c(P)."""
    demand = [(f"P{k}", "shell", 1, 5 * (k + 1)) for k in range(10)]
    data = tiny(offers=[dict(supplier="S", item="shell", unit_price=10),
                        dict(supplier="T", item="shell", unit_price=9.5, setup_cost=40)],
                tiers=[("S", "shell", 100, 9), ("S", "shell", 200, 8)], demand=demand)
    exact = fair_shares(data, "shapley", workers=2).table.set_index("partner")
    sampled_fs = fair_shares(data, "shapley", samples=500, seed=3)
    sampled = sampled_fs.table.set_index("partner")
    assert not sampled_fs.exact and sampled_fs.sampling["design"] == "poststratified"
    assert sampled_fs.coalitions_solved <= 500
    assert sampled["shapley"].sum() == pytest.approx(exact["shapley"].sum())
    assert (sampled["shapley_se"] > 0).all()
    assert ((sampled["shapley"] - exact["shapley"]).abs() <= 3 * sampled["shapley_se"]).all()
    assert sampled_fs.to_dict()["core"]["shapley"] is None  # sampled games have no core check


# --------------------------------------------------------------------------- rule prices


def _deleted(data: procure.ProcureData, pos: int) -> procure.ProcureData:
    return data.replace(rules=data.rules.reset_index(drop=True).drop(index=pos).reset_index(drop=True))


@pytest.mark.parametrize("seed", [3, 4])
def test_rule_prices_against_resolving_without_the_row(seed):
    tables = generate(partners=3, items=3, offers_per_item=4, periods=2, rule_density=2.0, tiers=True,
                      setup=True, seed=seed)
    data = procure.validate_tables(tables)
    rc = rule_costs(data, mip_gap=GAP)
    base = procure.solve(data, mip_gap=GAP).total_cost
    assert rc.base == pytest.approx(base, rel=1e-6)
    assert list(rc.table["price"]) == sorted(rc.table["price"], reverse=True)
    by_id = rc.table.set_index("rule_id")
    for pos, source_row in enumerate(data.rules["source_row"]):
        without = procure.solve(_deleted(data, pos), mip_gap=GAP)
        row = by_id.loc[f"Rules!{source_row}"]
        assert row["without"] == pytest.approx(without.total_cost, rel=1e-6)
        assert row["price"] >= -1e-6 * abs(base)
        deltas = rc.partners[rc.partners["rule_id"] == f"Rules!{source_row}"]
        assert deltas["delta"].sum() == pytest.approx(row["price"], rel=1e-6, abs=1e-3)


def test_rule_cost_cli_with_a_ban_an_lp_dual_and_the_rulecost_sheet(tmp_path, capsys):
    """An LP: A needs 100 shells; C sells at 10, D at 12, E at 15. Rules: at least 30 from D
    (row 2), A may not buy from C (row 3, a ban). With both: 30... no: C is banned, so
    everything from D (100 x 12 = 1200). Without the min: the same 1200 (price 0). Without the
    ban: 30 from D, 70 from C = 360 + 700 = 1060 (price 140). The min_quantity row's dual is 0
    (it does not bind)."""
    data = tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10),
                dict(supplier="D", item="shell", unit_price=12),
                dict(supplier="E", item="shell", unit_price=15)],
        demand=[("A", "shell", 1, 100)],
        rules=[rule("min_quantity", item="shell", group="D", quantity=30, name="keep D warm"),
               rule("ban", partner="A", group="C", name="no C")],
    )
    path = tmp_path / "rules.xlsx"
    write_workbook(data, path)
    out = tmp_path / "results.xlsx"
    code, got = run_json(capsys, ["rule-cost", str(path), "--out", str(out)])
    assert code == 0 and got["base"] == pytest.approx(1200.0)
    assert list(got["rules"]) == ["Rules!3", "Rules!2"]  # dearest first
    ban, keep = got["rules"]["Rules!3"], got["rules"]["Rules!2"]
    assert ban["price"] == pytest.approx(140.0) and ban["without"] == pytest.approx(1060.0)
    assert keep["price"] == pytest.approx(0.0, abs=1e-6) and keep["dual"] == pytest.approx(0.0, abs=1e-9)
    assert ban["partners"] == {"A": pytest.approx(140.0)}
    sheet = openpyxl.load_workbook(out)["RuleCost"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["rule_id", "name"] and "delta A" in header
    assert [sheet.cell(r, 1).value for r in (2, 3)] == ["Rules!3", "Rules!2"]
    assert cli.main(["rule-cost", str(path)]) == 0
    assert "cost of sovereignty" in capsys.readouterr().out


# --------------------------------------------------------------------------- sweeps


def test_sweep_against_literal_solves_and_infeasible_points_named(tmp_path, capsys):
    """A needs 100 shells; C sells 60 at most at 10, D at 12 as many as wanted. Rule: at least
    `share` of the quantity from D. Cost = 100 x (10 + 2 share) while 1 - share <= 0.6, i.e.
    share >= 0.4; below 0.4 C cannot cover the rest: 40 from D anyway: 60 x 10 + 40 x 12 = 1080.
    Capacity of D scaled: factor 0 leaves 60 of 100 (infeasible); D has no limit... so the
    capacity sweep is on C: factor 0.5 gives 30 from C, 70 from D: 300 + 840 = 1140."""
    data = tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10, capacity=60),
                dict(supplier="D", item="shell", unit_price=12, capacity=80)],
        demand=[("A", "shell", 1, 100)],
        rules=[rule("min_share", item="shell", group="D", share=0.5, name="D share")],
    )
    sw = sweep(data, rule="D share", share=(0.0, 1.0, 0.25))
    got = dict(zip(sw.table["value"], sw.table["cost"], strict=True))
    assert got[0.0] == pytest.approx(1080.0) and got[0.5] == pytest.approx(1100.0)
    assert np.isnan(got[1.0]) and sw.infeasible == [1.0]  # D makes only 80 of the 100
    for value in sw.table["value"]:
        literal = procure.solve(Variant(share={0: value}).apply(data), diagnose=False)
        assert got[value] == pytest.approx(literal.total_cost, rel=1e-9) if literal.has_plan else np.isnan(got[value])
    cap = sweep(data, capacity="C", factor=(0.0, 1.0, 0.5))
    costs = dict(zip(cap.table["value"], cap.table["cost"], strict=True))
    assert np.isnan(costs[0.0]) and cap.infeasible == [0.0]  # D's 80 cannot cover 100
    assert costs[0.5] == pytest.approx(30 * 10 + 70 * 12)
    path = tmp_path / "sweep.xlsx"
    write_workbook(data, path)
    plot = tmp_path / "sweep.html"
    code, js = run_json(capsys, ["sweep", str(path), "--rule", "Rules!2", "--share", "0:1:0.25",
                                 "--plot", str(plot)])
    assert code == 0 and js["infeasible"] == [1.0] and len(js["points"]) == 5
    assert js["points"][4]["cost"] is None and js["points"][4]["status"] == "infeasible"
    assert "<html>" in plot.read_text()[:100]
    assert cli.main(["sweep", str(path), "--rule", "nope", "--share", "0:1:0.5"]) == 2
    assert "no rule named 'nope'" in capsys.readouterr().err
    assert cli.main(["sweep", str(path), "--rule", "Rules!2", "--share", "0:1"]) == 2
    assert "START:STOP:STEP" in capsys.readouterr().err


def test_sweep_values():
    assert sweep_values(0.5, 0.9, 0.1) == [0.5, 0.6, 0.7, 0.8, 0.9]
    assert sweep_values(0, 1, 0.3) == [0.0, 0.3, 0.6, 0.9]
    with pytest.raises(ValueError, match="step"):
        sweep_values(0, 1, 0)
    with pytest.raises(ValueError, match="go up"):
        sweep_values(1, 0, 0.1)


def test_hand_costs_are_those_of_the_tier_game():
    table = coalition_costs(pooled_tier_game(), list(HAND_COSTS))
    assert dict(zip(table["coalition"], table["cost"], strict=True)) == pytest.approx(HAND_COSTS)


def test_each_coalitions_uncertainty_is_its_cost_less_its_proven_bound():
    """A plan within a 1 % gap may cost 1 % less at best; a plan without a bound, anything
    less; a coalition without a plan bounds no share."""
    from procure.analysis.cooperation import _uncertainty

    table = pd.DataFrame({"label": ["a", "b", "c", "d"], "cost": [200.0, 50.0, np.nan, 80.0],
                          "gap": [0.01, None, None, 0.0]})
    assert _uncertainty(table) == {"a": 2.0, "b": np.inf, "c": 0.0, "d": 0.0}
