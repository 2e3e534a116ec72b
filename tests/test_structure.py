"""Structure of ``procure.build_model(data)`` without solving: blocks, rows, coefficients.

The scenario (periods 1 and 2):

* partners P (FR, budget 1000) and Q (DE); items x and y;
* A (FR, shared capacity 100): x at 10 (capacity 30, capacity_use 2), y at 5 (capacity_use 0.5);
* B (DE): x at 12 from period 2 on, y at 7; transport DE -> P 1 per unit (any item);
* demand P/x/1 10, P/x/2 20, P/y/1 8, Q/y/1 5, Q/x/2 0;
* rules: Q may not buy from A; P buys >= 30% of its quantity from DE; >= 50% of the value
  of P's x from DE.

So the deliveries that may exist are exactly
(P,x,A,1), (P,x,A,2), (P,x,B,2), (P,y,A,1), (P,y,B,1), (Q,y,B,1):
no (P,x,B,1) (B's first period is 2), no (Q,y,A,1) (banned), nothing for Q/x/2 (zero demand).
"""

from __future__ import annotations

import numpy as np
import pytest

import procure

try:
    from tests.tiny import rule, tiny
except ImportError:  # tests/ is not a package
    from tiny import rule, tiny


def off(supplier, item, unit_price, **kw) -> dict:
    return dict(supplier=supplier, item=item, unit_price=unit_price, **kw)


def scenario(extra_offers=(), **changes):
    kw = dict(
        offers=[off("A", "x", 10, capacity=30, capacity_use=2), off("A", "y", 5, capacity_use=0.5),
                off("B", "x", 12, first_period=2), off("B", "y", 7), *extra_offers],
        demand=[("P", "x", 1, 10), ("P", "x", 2, 20), ("P", "y", 1, 8), ("Q", "y", 1, 5),
                ("Q", "x", 2, 0)],
        partners={"P": {"country": "FR", "budget": 1000}, "Q": {"country": "DE"}},
        suppliers={"A": {"country": "FR", "capacity": 100}, "B": "DE"},
        transport=[("DE", "P", 1, None)],
        rules=[rule("ban", partner="Q", group="A"),
               rule("min_share", partner="P", group="DE", share=0.3),
               rule("min_value_share", partner="P", item="x", group="DE", share=0.5)],
    )
    kw.update(changes)
    return tiny(**kw)


ALLOWED = {("P", "x", "A", "1"), ("P", "x", "A", "2"), ("P", "x", "B", "2"),
           ("P", "y", "A", "1"), ("P", "y", "B", "1"), ("Q", "y", "B", "1")}


@pytest.fixture(scope="module")
def model():
    return procure.build_model(scenario())


def x_labels(model) -> list[tuple]:
    idx = model.variables["x"].index
    return [tuple(r) for r in idx[["partner", "item", "supplier", "period"]].itertuples(index=False)]


def col_label(model, col: int):
    for name, block in model.variables.items():
        if block.start <= col < block.stop:
            if name == "x":
                return x_labels(model)[col - block.start]
            return (name, col - block.start)
    raise IndexError(col)


def row_of(model, block_name: str, **where) -> int:
    block = model.constraints[block_name]
    idx = block.index
    mask = np.ones(len(idx), bool)
    for k, v in where.items():
        mask &= (idx[k].astype(str) == str(v)).to_numpy()
    hits = np.flatnonzero(mask)
    assert len(hits) == 1, f"{block_name} {where}: {idx}"
    return block.start + int(hits[0])


def terms(model, row: int) -> dict:
    """{column label: coefficient} of one row."""
    csr = model.matrix.tocsr()
    lo, hi = csr.indptr[row], csr.indptr[row + 1]
    return {col_label(model, int(j)): float(a) for j, a in zip(csr.indices[lo:hi], csr.data[lo:hi],
                                                              strict=True)}


# --------------------------------------------------------------------------- blocks


def test_blocks_exist_with_the_right_sizes(model):
    v, c = model.variables, model.constraints
    assert v["x"].size == 6
    assert v["shortfall"].size == 0  # no penalties: demand is hard
    assert v["used"].size == 0 and v["tier_quantity"].size == 0
    assert c["demand"].size == 4  # positive Demand rows only
    assert c["offer_capacity"].size == 2  # A/x in periods 1 and 2 (everything else unlimited)
    assert c["shared_capacity"].size == 2  # A in periods 1 and 2
    assert c["budget"].size == 1  # P only
    assert c["share"].size == 2  # one row per share rule
    # blocks tile the columns and rows without gaps
    assert sum(b.size for b in v.values()) == model.num_cols
    assert sum(b.size for b in c.values()) == model.num_rows
    assert model.matrix.shape == (model.num_rows, model.num_cols)


def test_variables_only_on_the_filtered_index(model):
    # never a cross product with banned or too-early rows forced to zero
    assert set(x_labels(model)) == ALLOWED
    assert len(x_labels(model)) == len(ALLOWED)
    xb = model.variables["x"]
    assert (model.col_lower[xb.start:xb.stop] == 0).all()
    assert np.isinf(model.col_upper[xb.start:xb.stop]).all()  # no bound pretending to be a ban


def test_delivery_costs_are_price_plus_transport(model):
    xb = model.variables["x"]
    cost = dict(zip(x_labels(model), model.col_cost[xb.start:xb.stop], strict=True))
    assert cost[("P", "x", "B", "2")] == 12 + 1
    assert cost[("P", "y", "B", "1")] == 7 + 1
    assert cost[("Q", "y", "B", "1")] == 7  # no Transport row to Q
    assert cost[("P", "x", "A", "1")] == 10


# --------------------------------------------------------------------------- rows


def test_demand_row(model):
    r = row_of(model, "demand", partner="P", item="x", period="2")
    assert terms(model, r) == {("P", "x", "A", "2"): 1.0, ("P", "x", "B", "2"): 1.0}
    assert model.row_lower[r] == model.row_upper[r] == 20  # an equality: no over-buying


def test_offer_capacity_row(model):
    r = row_of(model, "offer_capacity", supplier="A", item="x", period="2")
    assert terms(model, r) == {("P", "x", "A", "2"): 1.0}
    assert model.row_upper[r] == 30 and np.isinf(model.row_lower[r])


def test_shared_capacity_row_coefficients_are_capacity_use(model):
    r = row_of(model, "shared_capacity", supplier="A", period="1")
    assert terms(model, r) == {("P", "x", "A", "1"): 2.0, ("P", "y", "A", "1"): 0.5}
    assert model.row_upper[r] == 100 and np.isinf(model.row_lower[r])


def test_budget_row_coefficients_are_price_plus_transport(model):
    r = row_of(model, "budget", partner="P")
    assert terms(model, r) == {
        ("P", "x", "A", "1"): 10.0, ("P", "x", "A", "2"): 10.0, ("P", "x", "B", "2"): 13.0,
        ("P", "y", "A", "1"): 5.0, ("P", "y", "B", "1"): 8.0,
    }
    assert model.row_upper[r] == 1000


def test_min_share_row_coefficients(model):
    # (1[s in G] - share) * w with w = 1: A (FR) -0.3, B (DE) 0.7; scope P, every item
    block = model.constraints["share"]
    rows = block.index
    r = block.start + int(np.flatnonzero(rows["target"].to_numpy() == 0.3)[0])
    assert terms(model, r) == pytest.approx({
        ("P", "x", "A", "1"): -0.3, ("P", "x", "A", "2"): -0.3, ("P", "x", "B", "2"): 0.7,
        ("P", "y", "A", "1"): -0.3, ("P", "y", "B", "1"): 0.7,
    })
    assert model.row_lower[r] == 0 and np.isinf(model.row_upper[r])


def test_min_value_share_row_coefficients(model):
    # w = base unit price, scope P's x: A (10) -> (0 - 0.5)*10 = -5; B (12) -> (1 - 0.5)*12 = 6
    block = model.constraints["share"]
    r = block.start + int(np.flatnonzero(block.index["target"].to_numpy() == 0.5)[0])
    assert terms(model, r) == pytest.approx({
        ("P", "x", "A", "1"): -5.0, ("P", "x", "A", "2"): -5.0, ("P", "x", "B", "2"): 6.0,
    })


# --------------------------------------------------------------------------- binaries and big-M


def test_pure_lp_has_no_binaries(model):
    assert not model.is_mip
    assert model.summary()["binaries"] == 0


def test_one_min_order_makes_exactly_one_binary():
    m = procure.build_model(scenario(offers=[
        off("A", "x", 10, capacity=30, capacity_use=2), off("A", "y", 5, capacity_use=0.5),
        off("B", "x", 12, first_period=2, min_order=5), off("B", "y", 7)]))
    assert m.is_mip
    assert int(m.integrality.sum()) == 1
    assert m.variables["used"].size == 1
    assert m.constraints["min_order"].size == 1 and m.constraints["order_used"].size == 1
    # min order row: Q - 5 y >= 0
    r = m.constraints["min_order"].start
    t = terms(m, r)
    assert t[("P", "x", "B", "2")] == 1.0 and t[("used", 0)] == -5.0
    assert m.row_lower[r] == 0


def test_big_m_derived_from_demand_and_capacity():
    # A/x: capacity 30 per period (and 100/2 = 50 of shared capacity), min order 1.
    # Demand for x: 10 in period 1, 20 in period 2 -> M = min(10, 30) + min(20, 30) = 30.
    # B/x (from period 2, no capacity), min order 1: M = 20 (period 2 demand only).
    m = procure.build_model(scenario(offers=[
        off("A", "x", 10, capacity=30, capacity_use=2, min_order=1),
        off("A", "y", 5, capacity_use=0.5),
        off("B", "x", 12, first_period=2, min_order=1), off("B", "y", 7)]))
    used = m.variables["used"]
    y_col = {s: used.start + k for k, s in enumerate(used.index["supplier"])}
    for supplier, hand_m in (("A", 30.0), ("B", 20.0)):
        r = row_of(m, "order_used", supplier=supplier, item="x")
        coef = m.matrix[r, y_col[supplier]]
        assert coef == -hand_m
        assert abs(coef) < 1e9 * 1e-6
        assert m.row_upper[r] == 0


def test_big_m_tight_when_capacity_binds_before_demand():
    # A/x capacity 30 per period; demand 10 then 50: M = min(10, 30) + min(50, 30) = 40.
    m = procure.build_model(tiny(
        offers=[off("A", "x", 10, capacity=30, setup_cost=5)],
        demand=[("P", "x", 1, 10), ("P", "x", 2, 50)],
        items={"x": {"shortfall_penalty": 100}}))
    r = row_of(m, "order_used", supplier="A", item="x")
    assert m.matrix[r, m.variables["used"].start] == -40.0


def test_tier_segments_bounded_by_reachable_quantity():
    # A/x all-units tiers at 15 (price 9) and 100 (price 8); pooled demand only 30:
    # the tier at 100 can never be reached and gets no variables; segment upper bounds are
    # 15 (base band) and min(next breakpoint, M) = 30.
    m = procure.build_model(tiny(offers=[off("A", "x", 10)], demand=[("P", "x", 1, 30)],
                                 tiers=[("A", "x", 15, 9), ("A", "x", 100, 8)]))
    seg = m.variables["tier_quantity"]
    assert seg.size == 2
    assert seg.index["min_quantity"].tolist() == [0.0, 15.0]
    assert m.col_upper[seg.start:seg.stop].tolist() == [15.0, 30.0]
    assert m.col_cost[seg.start:seg.stop].tolist() == [10.0, 9.0]
    assert int(m.integrality.sum()) == 2  # one choice binary per reachable segment
