"""N-1 re-covery blocks left out of the many-solve engine until a plan needs them
(procure.analysis.many.lazy): the same statuses and costs as the engine with every block in
the model, and as the literal models; a contingency enters exactly when the plan fails
without it; whole units rounded in one LP where the largest remainders allow it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import rule, tiny

import procure
from benchmarks.generate import generate
from procure.analysis.cooperation import every_coalition
from procure.analysis.many import ManyEngine, Variant
from procure.analysis.many.lazy import LazyN1
from procure.engine.backends import OPTIMAL_GAP, new_highs, pass_model
from procure.engine.model import Model, build_model
from procure.engine.whole_units import round_at_once

try:
    from tests.test_many import drawn_tables, literal
except ImportError:  # tests/ is not a package
    from test_many import drawn_tables, literal


def three_suppliers(share: float) -> procure.ProcureData:
    """P needs 100 x. A at 10, B at 12 (surge 50), C at 15; 100 each. With share 0 the
    secure plan is 50 from A and 50 from C (1,250; 1,000 from A alone without the rule):
    without A, B's surge and C must cover 100; without B, A and C (B's own deliveries are
    then 0)."""
    return tiny(
        offers=[dict(supplier="A", item="x", unit_price=10, capacity=100),
                dict(supplier="B", item="x", unit_price=12, capacity=100, surge=50),
                dict(supplier="C", item="x", unit_price=15, capacity=100)],
        demand=[("P", "x", 1, 100)], suppliers={"A": "FR", "B": "DE", "C": "IT"},
        rules=[rule("n_minus_1", item="x", share=share, name="N-1 x")])


def test_a_contingency_enters_when_the_plan_fails_without_it():
    data = three_suppliers(0.0)
    engine = ManyEngine(data)
    assert engine.lazy is not None and engine.lazy.count == 3
    found = engine.solve(Variant(label="all"))
    assert found.status.value == "optimal" and found.cost == pytest.approx(1250.0)
    # without any block the plan is all from A: losing A leaves 100 unmet, so A's
    # contingency entered; the plan of that sub-model (A 50, C 50, or B's surge) then
    # survives the others as it is or by their re-covery LP
    active = {engine.lazy.keys[k][1] for k in engine._active}
    assert "A" in active and len(active) < 3
    full = ManyEngine(data, lazy_n1=False).solve(Variant(label="all"))
    assert full.cost == pytest.approx(found.cost, rel=1e-9)


def test_a_tolerant_rule_needs_no_block():
    """Share 0.5: at most 50 of the 100 may go unmet. All from A (1,000) survives: without
    A, B's surge covers 50; without B or C nothing is lost. The plan's own deliveries do not
    cover A's contingency, its re-covery LP does: no block enters the searched model."""
    data = three_suppliers(0.5)
    engine = ManyEngine(data)
    found = engine.solve(Variant(label="all"))
    want_status, want = literal(data, Variant(label="all"))
    assert found.status.value == want_status == "optimal"
    assert found.cost == pytest.approx(want, rel=1e-9) == pytest.approx(1000.0)
    assert engine._active == frozenset()


_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def secure_instances(draw):
    tables = drawn_tables(draw, [0.5, 1.0, 2.0], ("tiers", "setup", "shared_capacity", "shortfall", "surge"),
                          partners=3, items=2, offers_per_item=4, periods=2, n_minus_1=True)
    data = procure.validate_tables(tables)
    partners = list(data.partners["partner"])
    suppliers = list(data.suppliers["supplier"])
    variants = [Variant(label=k, members=frozenset(c)) for k, c in enumerate(every_coalition(partners)) if c]
    variants.append(Variant(label="without", suppliers_off=frozenset([draw(st.sampled_from(suppliers))])))
    return data, variants


@_SETTINGS
@given(secure_instances())
def test_lazy_blocks_give_the_full_models_answers(case):
    """Every coalition and a supplier removed: the same status and cost with blocks left out
    as with all of them in, and as the literal model (infeasible coalitions included)."""
    data, variants = case
    lazy, full = ManyEngine(data, mip_gap=1e-9), ManyEngine(data, mip_gap=1e-9, lazy_n1=False)
    for variant in variants:
        a, b = lazy.solve(variant), full.solve(variant)
        want_status, want = literal(data, variant)
        assert a.status.value == b.status.value == want_status, (variant, a.path, b.path)
        if np.isfinite(want):
            assert a.cost == pytest.approx(want, rel=1e-6, abs=1e-6), variant
            assert b.cost == pytest.approx(want, rel=1e-6, abs=1e-6), variant


def test_demo_coalitions_leave_blocks_out_and_agree():
    """On the demo (six contingencies: one per short-range interceptor supplier), 40
    coalitions in the order the exact game meets them: the same costs within the proven gaps
    as with every block in, while the searched models held fewer blocks."""
    data = procure.datasets.load_demo()
    coalitions = [c for c in every_coalition(list(data.partners["partner"])) if c][1000:1040]
    lazy, full = ManyEngine(data), ManyEngine(data, lazy_n1=False)
    assert lazy.lazy.count == 6
    held = []
    for members in coalitions:
        a, b = lazy.solve(Variant(label=members, members=members)), full.solve(
            Variant(label=members, members=members))
        assert a.status.value == b.status.value == "optimal"
        assert a.cost == pytest.approx(b.cost, rel=2 * OPTIMAL_GAP)
        held.append(len(lazy._active))
    assert max(held) < 6


def test_a_model_without_n1_rules_has_nothing_to_leave_out():
    data = three_suppliers(0.0)
    plain = data.replace(rules=data.rules.iloc[0:0])
    assert LazyN1.of(build_model(plain)) is None


def _lp(matrix, lower, upper, col_upper, cost) -> Model:
    import scipy.sparse as sp

    matrix = np.asarray(matrix, float)
    n = matrix.shape[1]
    return Model(col_cost=np.asarray(cost, float), col_lower=np.zeros(n), col_upper=np.asarray(col_upper, float),
                 integrality=np.zeros(n, bool), matrix=sp.csc_matrix(np.asarray(matrix, float)),
                 row_lower=np.asarray(lower, float), row_upper=np.asarray(upper, float),
                 variables={}, constraints={})


def test_round_at_once_keeps_each_rows_total():
    """One demand row of 3 units over three columns at 1.4, 0.9, 0.7: rounded down to 1, 0, 0
    and the 2 units left given to the largest fractions (0.9 and 0.7): 1, 1, 1; the second
    row (1.5 + 0.5 = 2) gets 1 + 1. One LP, the row totals unchanged."""
    model = _lp([[1, 1, 1, 0, 0], [0, 0, 0, 1, 1]], [3, 2], [3, 2], [5] * 5, [1, 2, 3, 1, 1])
    h = new_highs()
    pass_model(h, model)
    cols = np.arange(5, dtype=np.int32)
    values = np.array([1.4, 0.9, 0.7, 1.5, 0.5])
    lower, upper = np.zeros(5), np.full(5, 5.0)
    x = round_at_once(h, cols, lower, upper, values, np.array([0, 0, 0, 1, 1]))
    assert x is not None
    assert list(x) == [1, 1, 1, 1, 1] or list(x) == [1, 1, 1, 2, 0]
    assert x[:3].sum() == 3 and x[3:].sum() == 2
    assert list(lower) == list(upper) == list(x)


def test_round_at_once_gives_up_and_restores_the_bounds():
    """A row of 1.2 units at 0.7 + 0.5: the largest remainder gives column 0 its unit (1, 0),
    which breaks x0 <= 0.6: None, the bounds as they were, so that the caller's rounds start
    from the same LP."""
    model = _lp([[1, 1], [1, 0]], [1.2, -np.inf], [1.2, 0.6], [2, 2], [1, 1])
    h = new_highs()
    pass_model(h, model)
    cols = np.arange(2, dtype=np.int32)
    lower, upper = np.zeros(2), np.full(2, 2.0)
    assert round_at_once(h, cols, lower, upper, np.array([0.7, 0.5]), np.array([0, 0])) is None
    assert list(lower) == [0, 0] and list(upper) == [2, 2]
    lp = h.getLp()
    assert list(lp.col_lower_) == [0, 0] and list(lp.col_upper_) == [2, 2]


def _max_recovery(matrix, lower, upper, col_upper):
    """max sum of the columns of an LP (HiGHS), its column values."""
    import highspy

    n = matrix.shape[1]
    lp = _lp(matrix.toarray(), lower, upper, col_upper, -np.ones(n))
    h = new_highs()
    pass_model(h, lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    values = np.asarray(h.getSolution().col_value)
    return values.sum(), values


@pytest.mark.parametrize("source", ["demo", "generated"])
def test_a_merged_block_recovers_what_its_block_recovers(source):
    """For random plans and random coalitions, the most each contingency's block can re-cover
    equals the most its merged block can (both LPs solved here), and the merged re-covery split
    back onto the block's own columns meets every row of the block."""
    if source == "demo":
        data = procure.datasets.load_demo()
    else:
        data = procure.validate_tables(generate(partners=4, items=2, offers_per_item=4, periods=3,
                                                n_minus_1=True, surge=True, shared_capacity=True,
                                                rule_density=1.0, seed=7))
    model = build_model(data)
    lazy = LazyN1.of(model)
    assert lazy is not None
    rng = np.random.default_rng(3)
    from procure.analysis.many.bounds import VariantPlan, variant_bounds

    plan = VariantPlan(data)
    partners = list(data.partners["partner"])
    merged_any = False
    for trial in range(6):
        members = frozenset(p for p in partners if rng.random() < 0.6) or frozenset(partners[:1])
        bounds = variant_bounds(plan, Variant(label=trial, members=members))
        core = np.where(np.isfinite(bounds.col_upper), bounds.col_upper, 50.0)[:lazy.core_cols]
        values = np.zeros(model.num_cols)
        values[:lazy.core_cols] = rng.uniform(0, 1, lazy.core_cols) * np.minimum(core, 50.0)
        for k in range(lazy.count):
            block = lazy._aggregate(k)
            merged_any |= block.n_groups < len(block.cols)
            got = block.variant(bounds.col_upper, bounds.row_lower, bounds.row_upper)
            assert got is not None
            g_upper, class_total, share = got
            full = lazy._best_recovery(k, values, bounds.col_upper, bounds.row_lower, bounds.row_upper)
            moved = block.x_part @ values[:lazy.core_cols]
            low = np.r_[bounds.row_lower[block.other_rows] - moved, np.full(block.n_classes, -np.inf)]
            up = np.r_[bounds.row_upper[block.other_rows] - moved, class_total]
            low[np.r_[block.other_rows, np.full(block.n_classes, -1)] == lazy.cover_row[k]] = -np.inf
            if full is None:  # the plan breaks a row of the block whatever the re-covery
                continue
            best, merged = _max_recovery(block.matrix, low, up, g_upper)
            assert best == pytest.approx(full.sum(), rel=1e-7, abs=1e-6)
            values[block.cols] = block.expand(merged, share)
            rows = lazy.rows_of[k]
            activity = lazy.csr[rows] @ values
            lower, upper = bounds.row_lower[rows], bounds.row_upper[rows]
            lower = np.where(rows == lazy.cover_row[k], -np.inf, lower)
            assert np.all(activity <= upper + 1e-6 * np.maximum(1, np.abs(upper)))
            assert np.all(activity >= lower - 1e-6 * np.maximum(1, np.abs(lower)))
            values[block.cols] = 0.0
    assert merged_any
