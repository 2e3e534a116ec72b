"""The fast coalition path equals the literal coalition models (SPEC section 4) on awkward
random instances: partners that demand only some items or none at all, pool min/max_quantity
rules that scale to 0 for coalitions demanding none of their items, rules that make some
coalitions infeasible, and the empty coalition.

Regression (issue 7): a pool max_quantity row is ``-inf <= sum x <= q``; scaled by 0 for a
coalition that demands none of the rule's items, ``-inf x 0`` gave NaN, HiGHS called the
coalition infeasible and a feasible partner's stand-alone cost disappeared.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import rule, tiny

import procure
from procure.analysis.sharing import all_coalitions, coalition_costs, coalition_data, shapley
from procure.engine.model import build_model

GAP = 1e-9
_SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def literal_cost(data: procure.ProcureData, members) -> tuple[str, float]:
    """Status and cost of the literal coalition model. A model without columns (a coalition
    that demands nothing) is judged here from its rows: feasible, at cost 0, exactly when every
    row admits 0 (a partner's own min_quantity of 5 units is not met by buying nothing)."""
    literal = coalition_data(data, members)
    model = build_model(literal)
    if model.num_cols == 0:
        ok = bool(np.all(model.row_lower <= 1e-9) and np.all(model.row_upper >= -1e-9))
        return ("optimal", 0.0) if ok else ("infeasible", float("nan"))
    result = procure.solve(literal, mip_gap=GAP, diagnose=False)
    return result.status.value, (result.total_cost if result.has_plan else float("nan"))


def test_pool_max_quantity_scaled_to_zero_keeps_the_partner_feasible():
    """A needs 60 shells, B 10 drones and no shells. Pool rules on shells: at most 70 and at
    least 10 from D (price 12; C sells shells at 10, drones at 5).

    {B} demands no shells: both rules scale by 0/60 = 0, so c({B}) = 10 x 5 = 50 (it was
    reported infeasible). {A}: scale 60/60 = 1, at least 10 from D: 10 x 12 + 50 x 10 = 620.
    {A, B} = 620 + 50 = 670; the Shapley split is then A 620, B 50 (additive game)."""
    data = tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10),
                dict(supplier="C", item="drone", unit_price=5),
                dict(supplier="D", item="shell", unit_price=12)],
        demand=[("A", "shell", 1, 60), ("B", "drone", 1, 10)],
        suppliers={"C": "FR", "D": "DE"},
        rules=[rule("max_quantity", item="shell", group="D", quantity=70),
               rule("min_quantity", item="shell", group="D", quantity=10)],
    )
    table = coalition_costs(data, all_coalitions(["A", "B"]))
    got = dict(zip(table["coalition"], table["cost"], strict=True))
    assert (table["status"] == "optimal").all()
    assert got == pytest.approx({frozenset(): 0.0, frozenset("A"): 620.0, frozenset("B"): 50.0,
                                 frozenset("AB"): 670.0})
    phi = shapley(data).set_index("partner")["shapley"]
    assert phi.to_dict() == pytest.approx({"A": 620.0, "B": 50.0})


def test_partner_without_any_demand_costs_zero():
    """C is a partner with no Demand row at all: whatever the pool rules say (each scales by
    0 for it), c({C}) = 0 and c({A, C}) = c({A})."""
    data = tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10),
                dict(supplier="D", item="shell", unit_price=12)],
        demand=[("A", "shell", 1, 40)],
        partners={"A": {}, "C": {}},
        suppliers={"S": "FR", "D": "DE"},
        rules=[rule("min_quantity", group="D", quantity=20),
               rule("max_quantity", group="S", quantity=25)],
    )
    table = coalition_costs(data, all_coalitions(["A", "C"]))
    got = dict(zip(table["coalition"], table["cost"], strict=True))
    # {A}: 20 from D at 12 at least, at most 25 from S: 20 x 12 + 20 x 10 = 440
    assert got == pytest.approx({frozenset(): 0.0, frozenset("A"): 440.0, frozenset("C"): 0.0,
                                 frozenset("AC"): 440.0})
    assert (table["status"] == "optimal").all()


@st.composite
def awkward_instances(draw):
    """Small pools where partners demand random subsets of the items (possibly none), with
    pool and partner quantity rules that may scale to 0 or make coalitions infeasible."""
    n_partners = draw(st.integers(2, 4))
    items = ["i1", "i2", "i3"][:draw(st.integers(1, 3))]
    partners = [f"P{k}" for k in range(n_partners)]
    suppliers = {"S1": "FR", "S2": "DE", "S3": "IT"}
    demand = []
    for p in partners:
        wanted = draw(st.lists(st.sampled_from(items), unique=True, max_size=len(items)))
        for item in wanted:
            demand.append((p, item, draw(st.sampled_from([1, 2])), draw(st.integers(1, 50))))
    if not demand:
        demand.append((partners[0], items[0], 1, 10))
    offers = []
    for item in items:
        for s in draw(st.lists(st.sampled_from(sorted(suppliers)), unique=True, min_size=1, max_size=3)):
            offer = dict(supplier=s, item=item, unit_price=draw(st.integers(5, 20)),
                         capacity=draw(st.sampled_from([None, 30, 80, 200])))
            if draw(st.booleans()):
                offer["setup_cost"] = draw(st.sampled_from([50, 200]))
            offers.append(offer)
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["min_quantity", "max_quantity"]))
        group = draw(st.sampled_from(["S1", "S2", "S3", "FR", "DE"]
                                     + (["each_supplier"] if kind == "max_quantity" else [])))
        owner = draw(st.sampled_from([None, None, None] + partners))
        rules.append(rule(kind, partner=owner, item=draw(st.sampled_from([None, *items])),
                          group=group, quantity=draw(st.sampled_from([0, 5, 20, 60, 150]))))
    shortfall = draw(st.sampled_from([None, 100]))
    return tiny(offers=offers, demand=demand, partners={p: {} for p in partners},
                items={i: ({"shortfall_penalty": shortfall} if shortfall else {}) for i in items},
                suppliers=suppliers, rules=rules)


@_SETTINGS
@given(awkward_instances())
def test_fast_path_equals_literal_models_on_awkward_instances(data):
    partners = list(data.partners["partner"])
    coalitions = all_coalitions(partners)
    table = coalition_costs(data, coalitions, mip_gap=GAP)
    assert table["coalition"].iloc[0] == frozenset() and table["cost"].iloc[0] == 0.0
    for members, status, cost in zip(table["coalition"], table["status"], table["cost"], strict=True):
        if not members:
            continue
        want_status, want = literal_cost(data, members)
        assert status == want_status, (sorted(members), status, want_status)
        if np.isnan(want):
            assert np.isnan(cost), sorted(members)
        else:
            assert cost == pytest.approx(want, rel=1e-6, abs=1e-6), sorted(members)
    # a partner with no demand and no rule of its own costs 0 alone, whatever the pool's rules
    demanding = set(data.demand.loc[data.demand["quantity"] > 0, "partner"])
    alone = dict(zip(table["coalition"], table["cost"], strict=True))
    for p in set(partners) - demanding - set(data.rules["partner"].dropna()):
        assert alone[frozenset([p])] == 0.0, p
