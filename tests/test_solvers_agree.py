"""HiGHS (in process) and CBC (through PuLP) must find the same optimum, and the PuLP door
must give an analyst a problem to extend and files other tools can read."""

from __future__ import annotations

import re
import subprocess
import warnings

import numpy as np
import pytest

import procure
from procure.engine.pulp_door import to_pulp, write_lp, write_mps

try:
    from tests.tiny import check_solution, rule, tiny
except ImportError:  # tests/ is not a package
    from tiny import check_solution, rule, tiny

pulp = pytest.importorskip("pulp")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def off(supplier, item, unit_price, **kw) -> dict:
    return dict(supplier=supplier, item=item, unit_price=unit_price, **kw)


# --------------------------------------------------------------------------- instances


def lp_shares():
    """Pure LP: two periods, capacities, shared capacity, transport, budget, share rules."""
    return tiny(
        offers=[off("A", "x", 10, capacity=6, capacity_use=2), off("A", "y", 5),
                off("B", "x", 12, first_period=2), off("B", "y", 6.5), off("C", "x", 11),
                off("C", "y", 7)],
        demand=[("P", "x", 1, 8), ("P", "x", 2, 9), ("P", "y", 1, 4), ("Q", "x", 1, 5),
                ("Q", "y", 2, 6)],
        partners={"P": {"country": "FR", "budget": 400}, "Q": {"country": "DE"}},
        suppliers={"A": {"country": "FR", "capacity": 14}, "B": "DE", "C": "IT"},
        items={"y": {"shortfall_penalty": 9, "category": "comms"}},
        transport=[("IT", "P", 0.5, None), ("DE", "P", 1, "x")],
        blocs=[("EU", "FR"), ("EU", "DE"), ("EU", "IT")],
        rules=[rule("min_share", partner="P", group="DE", share=0.2),
               rule("max_value_share", group="each_supplier", share=0.6),
               rule("workshare", partner="Q", share=0.3),
               rule("max_quantity", item="x", group="C", quantity=7),
               rule("ban", partner="Q", item="comms", group="A")],
    )


def milp_tiers_setup():
    """MILP: all-units and incremental tiers, setup costs, a minimum order."""
    return tiny(
        offers=[off("A", "x", 10, setup_cost=40), off("B", "x", 11, min_order=12),
                off("C", "x", 12, discount="incremental", capacity=30),
                off("A", "y", 20, min_order=5), off("C", "y", 19, setup_cost=25)],
        demand=[("P", "x", 1, 14), ("Q", "x", 1, 9), ("P", "x", 2, 11), ("Q", "y", 2, 7),
                ("P", "y", 2, 3)],
        tiers=[("A", "x", 20, 9), ("A", "x", 30, 8.5), ("C", "x", 10, 9.5), ("C", "y", 8, 17)],
    )


def milp_counts_shares():
    """MILP: supplier counts next to share and quantity rules."""
    return tiny(
        offers=[off("A", "x", 10, capacity=12), off("B", "x", 12), off("C", "x", 13),
                off("A", "y", 8), off("B", "y", 9), off("C", "y", 7.5, capacity=3)],
        demand=[("P", "x", 1, 10), ("Q", "x", 1, 8), ("P", "y", 1, 6), ("Q", "y", 2, 5)],
        suppliers={"A": "FR", "B": "DE", "C": "PL"},
        partners={"P": {"country": "FR"}, "Q": {"country": "PL"}},
        rules=[rule("min_suppliers", item="x", quantity=3),
               rule("max_suppliers", partner="P", item="y", quantity=1),
               rule("min_share", partner="Q", group="domestic", share=0.25),
               rule("min_quantity", group="B", quantity=4)],
    )


def random_instance(seed: int):
    """A seeded random instance touching every family; shortfall keeps it feasible."""
    rng = np.random.default_rng(seed)
    partners = {p: {"country": c} for p, c in (("P", "FR"), ("Q", "DE"), ("R", "PL"))}
    suppliers = {s: {"country": c, "capacity": float(rng.integers(40, 80))}
                 for s, c in (("A", "FR"), ("B", "DE"), ("C", "PL"), ("D", "US"))}
    offers, tiers = [], []
    for s in suppliers:
        for i in ("x", "y"):
            o = off(s, i, float(rng.integers(8, 15)), capacity=float(rng.integers(10, 30)),
                    capacity_use=float(rng.choice([0.5, 1, 2])),
                    discount=str(rng.choice(["all_units", "incremental"])))
            if rng.random() < 0.3:
                o["setup_cost"] = float(rng.integers(10, 60))
            if rng.random() < 0.3:
                o["min_order"] = float(rng.integers(5, 15))
            offers.append(o)
            if rng.random() < 0.5:
                tiers.append((s, i, float(rng.integers(10, 25)), o["unit_price"] - 1.5))
    demand = [(p, i, t, float(rng.integers(0, 15))) for p in partners for i in ("x", "y")
              for t in (1, 2)]
    return tiny(
        offers=offers, demand=demand, partners=partners, suppliers=suppliers, tiers=tiers,
        items={"x": {"shortfall_penalty": 40}, "y": {"shortfall_penalty": 35}},
        transport=[("US", p, 2, None) for p in partners],
        rules=[rule("max_share", group="each_country", share=0.6),
               rule("min_suppliers", partner="P", item="x", quantity=2)],
    )


INSTANCES = {
    "lp_shares": lp_shares,
    "milp_tiers_setup": milp_tiers_setup,
    "milp_counts_shares": milp_counts_shares,
    **{f"random_{seed}": (lambda seed=seed: random_instance(seed)) for seed in range(3)},
}


@pytest.mark.parametrize("name", list(INSTANCES))
def test_highs_and_cbc_agree(name):
    data = INSTANCES[name]()
    highs = procure.solve(data, mip_gap=1e-9)
    cbc = procure.solve(data, solver="cbc", mip_gap=1e-9)
    assert highs.status == cbc.status == procure.Status.OPTIMAL, (highs.message, cbc.message)
    assert highs.is_mip == cbc.is_mip == (name != "lp_shares")
    assert cbc.total_cost == pytest.approx(highs.total_cost, rel=1e-6)
    assert cbc.solver.startswith("pulp:")
    check_solution(data, highs)
    check_solution(data, cbc)
    if not highs.is_mip:
        # the same LP has the same marginal costs of demand when they are unique; here compare
        # the objective change they predict for one more unit of every demand row
        assert cbc.demand_duals["marginal_cost"].sum() == pytest.approx(
            highs.demand_duals["marginal_cost"].sum(), rel=1e-6)


def test_demo_agrees():
    data = procure.datasets.load_demo()
    highs = procure.solve(data, mip_gap=1e-7)
    cbc = procure.solve(data, solver="cbc", mip_gap=1e-7)
    assert highs.status == cbc.status
    if highs.has_plan:
        assert cbc.total_cost == pytest.approx(highs.total_cost, rel=1e-6)


# --------------------------------------------------------------------------- the PuLP door


def _cap_data():
    # P needs 8; A 10/unit (capacity 5), B 12/unit: optimum A 5 + B 3 = 86.
    return tiny(offers=[off("A", "x", 10, capacity=5), off("B", "x", 12)],
                demand=[("P", "x", 1, 8)])


def test_to_pulp_problem_an_analyst_can_extend():
    model = procure.build_model(_cap_data())
    problem, variables = to_pulp(model)
    assert isinstance(problem, pulp.LpProblem) and len(variables) == model.num_cols
    problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.value(problem.objective) == pytest.approx(86)
    # the analyst's own constraint: at most 2 units from A -> A 2 + B 6 = 20 + 72 = 92
    idx = model.variables["x"].index
    a_col = model.variables["x"].start + int(np.flatnonzero(idx["supplier"] == "A")[0])
    problem += variables[a_col] <= 2, "analyst_cap_on_A"
    problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[problem.status] == "Optimal"
    assert pulp.value(problem.objective) == pytest.approx(92)
    assert variables[a_col].varValue == pytest.approx(2)


def _row_names_in(model, text: str) -> list[str]:
    missing = []
    for name in model.row_names():
        lo_hi = (name, name + "_lo", name + "_hi")
        if not any(re.search(rf"\b{re.escape(n)}\b", text) for n in lo_hi):
            missing.append(name)
    return missing


@pytest.mark.parametrize("name", ["lp_shares", "milp_tiers_setup"])
def test_write_mps_reads_back_into_pulp_with_the_same_optimum(tmp_path, name):
    data = INSTANCES[name]()
    model = procure.build_model(data)
    path = write_mps(model, tmp_path / "model.mps")
    text = path.read_text()
    assert _row_names_in(model, text) == []
    _, problem = pulp.LpProblem.fromMPS(str(path))
    problem.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=1e-9))
    assert pulp.LpStatus[problem.status] == "Optimal"
    expected = procure.solve(data, mip_gap=1e-9).total_cost
    assert pulp.value(problem.objective) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", ["lp_shares", "milp_tiers_setup"])
def test_write_lp_names_every_row_and_cbc_solves_it(tmp_path, name):
    data = INSTANCES[name]()
    model = procure.build_model(data)
    path = write_lp(model, tmp_path / "model.lp")
    text = path.read_text()
    assert _row_names_in(model, text) == []
    n_binaries = int(model.integrality.sum())
    if n_binaries:
        assert "Binaries" in text or "binaries" in text.lower()
    cbc = pulp.PULP_CBC_CMD(msg=False).path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = subprocess.run([cbc, str(path), "ratio", "1e-9", "solve", "quit"],
                             capture_output=True, text=True, timeout=60)
    found = re.search(r"(?:Objective value:|Optimal objective)\s*([-+0-9.eE]+)", out.stdout)
    assert found, out.stdout[-2000:]
    expected = procure.solve(data, mip_gap=1e-9).total_cost
    assert float(found.group(1)) == pytest.approx(expected, rel=1e-6)
