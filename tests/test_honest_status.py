"""No silent wrong answer (issue 7): demand is never dropped, a plan is called optimal only when
it is proven so, its gap is said in words, solver options out of range are input errors, and
HiGHS's banner is never printed unless asked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
from benchmarks.generate import generate
from procure.cli.main import main as cli_main
from procure.engine.backends import DEFAULT_MIP_GAP, OPTIMAL_GAP, relative_gap
from procure.engine.results import above_best, percent

try:
    from tests.checker import check_solution
    from tests.tiny import rule, tiny
except ImportError:  # tests/ is not a package
    from checker import check_solution
    from tiny import rule, tiny

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.x on its own 4.0
NO_SUPPLIER = "and no supplier may deliver it then (no offer, first_period later, or banned)"


def _one_offer(**offer):
    return [dict(supplier="A", item="shell", unit_price=10.0, **offer)]


# --------------------------------------------------------------------------- demand never dropped


@pytest.mark.parametrize("case", ["banned", "starts_later", "no_offer"])
def test_demand_no_delivery_may_serve_is_infeasible_and_named(case):
    """PL needs 100 shells in 2027. Its only offer is banned / starts in 2028 / is for another
    item, so the model has no delivery at all: HiGHS calls it "empty" (it was read as optimal,
    cost 0). It is infeasible, and the diagnosis names Demand row 2 (the first data row)."""
    demand = [("PL", "shell", 2027, 100)]
    kw: dict = {}
    offers = _one_offer()
    if case == "banned":
        kw["rules"] = [rule("ban", partner="PL", group="A")]
    elif case == "starts_later":
        offers = _one_offer(first_period=2028)
        demand.append(("PL", "shell", 2028, 0))
    else:
        offers = [dict(supplier="A", item="bolt", unit_price=1.0)]
    data = tiny(offers=offers, demand=demand, **kw)
    for solver in ("highs", "cbc"):
        result = procure.solve(data, solver=solver)
        assert result.status == procure.Status.INFEASIBLE, (solver, result.message)
        assert result.total_cost is None and result.allocation.empty
        (conflict,) = result.diagnosis.conflicts
        assert (conflict.kind, conflict.sheet, conflict.row) == ("demand", "Demand", 2)
        assert conflict.amount == 100
        assert conflict.message.startswith(f"PL needs 100 shells in 2027 {NO_SUPPLIER}")
        assert NO_SUPPLIER in result.message


def test_an_unservable_row_among_servable_ones_is_infeasible():
    """Only some rows are empty: HiGHS checks them within its tolerance, so a demand of 1e-8
    units with no supplier passed as optimal. Demand row 3 (1e-8 bolts) is named exactly."""
    data = tiny(offers=_one_offer(), demand=[("PL", "shell", 2027, 100), ("PL", "bolt", 2027, 1e-8)])
    result = procure.solve(data)
    assert result.status == procure.Status.INFEASIBLE, result.message
    (conflict,) = result.diagnosis.conflicts
    assert (conflict.row, conflict.amount) == (3, 1e-8)
    assert conflict.message.startswith(f"PL needs 1e-08 bolts in 2027 {NO_SUPPLIER}")


def test_pool_min_quantity_with_all_demand_zero_is_infeasible():
    """Every Demand quantity is 0 and the pool must buy at least 5 from A: no delivery can
    exist, so the rule cannot hold (SPEC: min_quantity is a floor, not a wish)."""
    data = tiny(offers=_one_offer(), demand=[("PL", "shell", 2027, 0)],
                rules=[rule("min_quantity", group="A", quantity=5, name="keep A warm")])
    result = procure.solve(data)
    assert result.status == procure.Status.INFEASIBLE, result.message
    (conflict,) = result.diagnosis.conflicts
    assert (conflict.kind, conflict.row, conflict.amount) == ("rule", 2, 5)
    assert "keep A warm" in conflict.message


def test_all_demand_zero_without_rules_is_the_empty_plan():
    data = tiny(offers=_one_offer(), demand=[("PL", "shell", 2027, 0)])
    result = procure.solve(data)
    assert result.status == procure.Status.OPTIMAL and result.total_cost == 0
    assert result.allocation.empty and result.mip_gap == 0


def test_unservable_demand_with_a_penalty_pays_it():
    """With a shortfall penalty of 50 per shell the 100 unservable shells cost 5,000, and
    the 20 bolts A can deliver cost 20 x 1 = 20: total 5,020."""
    data = tiny(offers=[dict(supplier="A", item="bolt", unit_price=1.0)],
                items={"shell": {"shortfall_penalty": 50.0}},
                demand=[("PL", "shell", 2027, 100), ("PL", "bolt", 2027, 20)])
    result = procure.solve(data)
    assert result.status == procure.Status.OPTIMAL
    assert result.total_cost == pytest.approx(5_020) and result.shortfall == pytest.approx(5_000)
    check_solution(data, result)


@st.composite
def _orphaned(draw):
    """A random feasible instance, then some demand rows no delivery may serve: a new item
    nobody offers, or every supplier of one item banned for one partner; with or without a
    shortfall penalty on the item."""
    seed = draw(st.integers(0, 2**31 - 1))
    t = generate(partners=draw(st.integers(2, 3)), items=2, offers_per_item=3, periods=2,
                 rule_density=draw(st.sampled_from([0.0, 1.0])), setup=draw(st.booleans()),
                 seed=seed)
    penalty = draw(st.sampled_from([None, 1e3, 1e7]))
    partner = draw(st.sampled_from(list(t["Partners"]["partner"])))
    how = draw(st.sampled_from(["new_item", "all_banned"]))
    if how == "new_item":
        item = "orphan"
        t["Items"] = pd.concat([t["Items"], pd.DataFrame([{"item": item}])], ignore_index=True)
        periods = sorted(set(t["Demand"]["period"]))
        rows = [{"partner": partner, "item": item, "period": p,
                 "quantity": float(draw(st.integers(1, 500)))} for p in periods]
        t["Demand"] = pd.concat([t["Demand"], pd.DataFrame(rows)], ignore_index=True)
    else:
        item = draw(st.sampled_from(list(t["Items"]["item"])))
        suppliers = t["Offers"].loc[t["Offers"]["item"] == item, "supplier"]
        bans = pd.DataFrame([{"rule": "ban", "partner": partner, "item": item, "group": s}
                             for s in suppliers])
        t["Rules"] = pd.concat([t["Rules"], bans], ignore_index=True)
    t["Items"]["shortfall_penalty"] = np.where(t["Items"]["item"] == item, penalty, np.nan)
    return t, partner, item, penalty


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_orphaned())
def test_unservable_demand_is_never_dropped(case):
    tables, partner, item, penalty = case
    data = procure.validate_tables(tables)
    d = data.demand
    orphan = (d["partner"] == partner) & (d["item"] == item) & (d["quantity"] > 0)
    owed = float(d.loc[orphan, "quantity"].sum())
    result = procure.solve(data)
    if penalty is None:
        assert result.status == procure.Status.INFEASIBLE, result.message
        named = {c.row for c in result.diagnosis.conflicts if c.kind == "demand"}
        assert named & set(d.loc[orphan, "source_row"]), result.diagnosis
        return
    if not result.has_plan:  # a rule may need the item delivered (min_suppliers over all items)
        assert result.status == procure.Status.INFEASIBLE
        return
    check_solution(data, result)
    f = result.fulfilment[orphan.to_numpy()]
    assert np.allclose(f["shortfall"], f["demand"]) and (f["delivered"] == 0).all()
    assert result.shortfall >= penalty * owed * (1 - 1e-9)


# --------------------------------------------------------------------------- status and gap


def test_default_gap_is_the_optimality_threshold():
    assert OPTIMAL_GAP == 1e-6 and DEFAULT_MIP_GAP <= OPTIMAL_GAP
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01) and relative_gap(5.0, 6.0) == 0.0
    assert relative_gap(1.0, None) is None and relative_gap(0.0, 0.0) == 0.0
    # a plan at 153 with bound 100: 35 % gap (relative to the plan), 53 % above the bound
    assert above_best(153.0, 100.0) == pytest.approx(0.53)
    assert [percent(x) for x in (0.071, 0.5, 4.5e-4, 1.0)] == ["7.1 %", "50 %", "0.045 %", "100 %"]


def _mip(seed: int) -> procure.ProcureData:
    return procure.validate_tables(generate(partners=3, items=3, offers_per_item=3, periods=2,
                                            rule_density=1.0, tiers=True, setup=True,
                                            min_orders=True, seed=seed))


def test_a_loose_gap_gives_a_feasible_plan_that_says_how_far_it_may_be():
    """Seed 17: HiGHS stops at a plan 53 % above the optimum when 50 % is asked for; it was
    called optimal. It is feasible, and its sentence gives an upper bound on the excess that
    holds (55 %), and what was asked."""
    data = _mip(17)
    best = procure.solve(data, mip_gap=0.0)
    loose = procure.solve(data, mip_gap=0.5)
    assert best.status == procure.Status.OPTIMAL
    assert loose.status == procure.Status.FEASIBLE
    excess = loose.total_cost / best.total_cost - 1
    assert excess > 0.05
    claimed = above_best(loose.total_cost, loose.best_bound)
    assert claimed >= excess
    assert loose.message == (f"feasible plan, total cost {loose.total_cost:,.2f} EUR, at most "
                             f"{percent(claimed)} above the best possible; you asked for a gap "
                             "of 50 %")
    assert 0 < loose.mip_gap <= 0.5
    assert loose.summary()["message"] == loose.message
    check_solution(data, loose)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_optimal_means_within_the_threshold(seed):
    """Whatever gap is asked, a plan called optimal costs at most 1e-6 more than the optimum
    (found with gap 0)."""
    data = _mip(seed)
    best = procure.solve(data, mip_gap=0.0)
    for gap in (None, 1e-4, 1e-2):
        r = procure.solve(data, mip_gap=gap)
        assert r.has_plan
        if r.status == procure.Status.OPTIMAL:
            assert r.total_cost <= best.total_cost * (1 + OPTIMAL_GAP)
        else:
            assert r.mip_gap > OPTIMAL_GAP and "above the best possible" in r.message


def test_polished_plan_of_a_hand_checked_optimum_is_proven():
    """tests/test_numerics.extreme_tables: the optimum is 25,120,000 by hand. HiGHS finds a
    plan of 25,100,020 that delivers 20 shells through y = 1e-6 and a bound equal to it;
    polished, the plan costs 25,120,000, which that bound cannot prove. The proof with the
    leak closed does."""
    from tests.test_numerics import extreme_tables

    data = procure.validate_tables(extreme_tables())
    for gap in (None, 0.0):
        r = procure.solve(data, mip_gap=gap)
        assert r.status == procure.Status.OPTIMAL, r.message
        assert r.total_cost == pytest.approx(25_120_000, rel=1e-12)
        assert r.best_bound == pytest.approx(25_120_000, rel=1e-7)


def test_cbc_follows_the_same_rule():
    data = _mip(17)
    tight = procure.solve(data, solver="cbc")
    assert tight.status == procure.Status.OPTIMAL, tight.message
    assert tight.total_cost == pytest.approx(procure.solve(data, mip_gap=0.0).total_cost, rel=1e-6)
    loose = procure.solve(data, solver="cbc", mip_gap=0.5)
    assert loose.status == procure.Status.FEASIBLE  # CBC proves no more than 50 %
    assert "you asked for a gap of 50 %" in loose.message


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("option, value", [("time_limit", 0), ("time_limit", -3),
                                           ("time_limit", float("inf")), ("mip_gap", 1.0),
                                           ("mip_gap", -0.1), ("mip_gap", 50), ("mip_gap", "x")])
def test_solver_options_out_of_range_are_input_errors(option, value):
    data = tiny(offers=_one_offer(), demand=[("PL", "shell", 2027, 1)])
    with pytest.raises(procure.InputError) as err:
        procure.solve(data, **{option: value})
    (problem,) = err.value.problems
    assert problem.column == option and problem.fix


@pytest.mark.parametrize("args, says", [(["--mip-gap", "50"], "50 % is 0.5"),
                                        (["--mip-gap", "1"], "fraction in [0, 1)"),
                                        (["--time-limit", "0"], "seconds > 0"),
                                        (["--time-limit", "soon"], "seconds > 0")])
def test_cli_options_out_of_range_exit_2(args, says, capsys):
    with pytest.raises(SystemExit) as stop:
        cli_main(["solve", str(procure.datasets.demo_path()), *args])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "give " in err  # the fix


# --------------------------------------------------------------------------- the banner


def test_no_highs_banner_on_any_solve():
    """The banner is printed once per process when a Highs() is made: solve, diagnosis, the
    coalition engine and ``procure solve --json`` each make their own, in a fresh process."""
    script = (
        "import procure\n"
        "from procure.analysis.sharing import coalition_costs\n"
        "from procure.cli.main import main\n"
        "from tests.tiny import tiny, rule\n"
        "d = tiny(offers=[dict(supplier='A', item='x', unit_price=1.0)], demand=[('P', 'x', 1, 2)],"
        " rules=[rule('ban', group='A')])\n"
        "assert procure.solve(d).diagnosis is not None\n"
        "d = tiny(offers=[dict(supplier='A', item='x', unit_price=1.0, setup_cost=5.0)],"
        " demand=[('P', 'x', 1, 2), ('Q', 'x', 1, 3)])\n"
        "assert len(coalition_costs(d, [['P'], ['P', 'Q']])) == 2\n"
        "main(['solve', str(procure.datasets.demo_path()), '--json'])\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)  # exactly one JSON object on stdout
    assert summary["status"] == "optimal" and summary["mip_gap"] <= OPTIMAL_GAP
    assert summary["best_bound"] <= summary["total_cost"]
    assert "HiGHS" not in run.stderr
