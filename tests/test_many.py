"""The many-solve engine (procure.analysis.many): every variant solved on the grand model by
bounds equals the literal model of its own data (Variant.apply), on random instances with
tiers, setups, minimum orders, shared capacity and every rule type; what it keeps of each
plan (shortfall, partner costs) equals the literal plan's; progress is reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import rule, tiny

import procure
from benchmarks.generate import generate
from procure.analysis.many import Variant, extract, solve_variants
from procure.engine.model import build_model

GAP = 1e-9
_SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def literal(data: procure.ProcureData, variant: Variant) -> tuple[str, float]:
    """Status and cost of the variant's own workbook, solved from scratch. A model without
    columns is judged from its rows (feasible at cost 0 exactly when every row admits 0)."""
    own = variant.apply(data)
    model = build_model(own)
    if model.num_cols == 0:
        ok = bool(np.all(model.row_lower <= 1e-9) and np.all(model.row_upper >= -1e-9))
        return ("optimal", 0.0) if ok else ("infeasible", float("nan"))
    result = procure.solve(own, mip_gap=GAP, diagnose=False)
    return result.status.value, (result.total_cost if result.has_plan else float("nan"))


def assert_same(data, variants, table):
    for variant, status, cost, path in zip(variants, table["status"], table["cost"], table["path"],
                                           strict=True):
        want_status, want = literal(data, variant)
        assert status == want_status, (variant, path, status, want_status)
        if np.isnan(want):
            assert np.isnan(cost), variant
        else:
            assert cost == pytest.approx(want, rel=1e-6, abs=1e-6), (variant, path)


@st.composite
def variants_of(draw, data: procure.ProcureData, count: int):
    partners = list(data.partners["partner"])
    rules = data.rules.reset_index(drop=True)
    suppliers = list(data.suppliers["supplier"])
    out = []
    for k in range(count):
        members = None
        if draw(st.booleans()):
            members = frozenset(draw(st.lists(st.sampled_from(partners), unique=True, min_size=1)))
        positions = list(range(len(rules)))
        off = draw(st.lists(st.sampled_from(positions), unique=True, max_size=2)) if positions else []
        share_rules = [p for p in positions if rules.at[p, "rule"] in
                       ("min_share", "max_share", "min_value_share", "max_value_share", "workshare",
                                                "n_minus_1")]
        qty_rules = [p for p in positions if rules.at[p, "rule"] in
                     ("min_quantity", "max_quantity", "min_suppliers", "max_suppliers")]
        share = {}
        if share_rules and draw(st.booleans()):
            share[draw(st.sampled_from(share_rules))] = draw(st.sampled_from([0.0, 0.1, 0.35, 0.6, 1.0]))
        quantity = {}
        if qty_rules and draw(st.booleans()):
            p = draw(st.sampled_from(qty_rules))
            is_count = rules.at[p, "rule"].endswith("suppliers")
            quantity[p] = float(draw(st.integers(0, 3))) if is_count else \
                float(rules.at[p, "quantity"]) * draw(st.sampled_from([0.0, 0.5, 1.5]))
        dropped = frozenset(draw(st.lists(st.sampled_from(suppliers), unique=True, max_size=1)))
        capacity = {}
        if draw(st.booleans()):
            capacity[draw(st.sampled_from(suppliers))] = draw(st.sampled_from([0.0, 0.3, 0.8, 1.0, 1.4]))
        out.append(Variant(label=k, members=members, rules_off=frozenset(off), share=share,
                           quantity=quantity, suppliers_off=dropped, capacity=capacity))
    return out


def drawn_tables(draw, densities, flags, **fixed) -> dict:
    """:func:`benchmarks.generate.generate` tables: ``rule_density`` drawn from ``densities``,
    each option of ``flags`` drawn as a boolean (in that order), then the seed."""
    options = {"rule_density": draw(st.sampled_from(densities))}
    options.update({flag: draw(st.booleans()) for flag in flags})
    return generate(**fixed, **options, seed=draw(st.integers(0, 2**31)))


@st.composite
def instance_and_variants(draw):
    tables = drawn_tables(draw, [1.0, 2.0, 3.0],
                          ("tiers", "setup", "min_orders", "shared_capacity", "shortfall", "budgets",
                           "n_minus_1", "surge"),
                          partners=3, items=3, offers_per_item=3, periods=2)
    whole = draw(st.lists(st.sampled_from(list(tables["Items"]["item"])), unique=True, max_size=2))
    if whole:  # whole-unit items: their demand in whole units (rounded down: the witness holds)
        tables["Items"] = tables["Items"].assign(whole_units=tables["Items"]["item"].isin(whole))
        demand = tables["Demand"].copy()
        mine = demand["item"].isin(whole)
        demand.loc[mine, "quantity"] = demand.loc[mine, "quantity"].astype(float).floordiv(1)
        tables["Demand"] = demand
    data = procure.validate_tables(tables)
    return data, draw(variants_of(data, 5))


@_SETTINGS
@given(instance_and_variants())
def test_every_variant_equals_its_literal_model(case):
    data, variants = case
    table = solve_variants(data, variants, mip_gap=GAP)
    assert list(table["label"]) == [v.label for v in variants]
    assert_same(data, variants, table)


def test_variant_paths_on_a_hand_instance():
    """Two suppliers of shells: C at 10 (capacity 50), D at 12; A needs 60, B 40. A pool rule
    buys at least 30 from D; B bans D.

    Grand: B must buy from C, A needs 30 from D at least: A 30 D + 30 C, B 20 C ... but C has 50:
    C = 50 (B 40 + A 10), D = 50 (A): 50 x 10 + 50 x 12 = 1100.
    Without the pool rule (bounds): same, C is full: 1100. Without the ban (literal): B may buy
    from D too; still C 50 + D 50 = 1100. C at half capacity (25, bounds): B 25 C + 15 ... no:
    B is banned from D, so B falls short and the plan is infeasible. D removed: C alone has 50 of
    100: infeasible. A alone: 30 from D (scaled: 30 x 60/100 = 18) -> 18 x 12 + 42 x 10 = 636."""
    data = tiny(
        offers=[dict(supplier="C", item="shell", unit_price=10, capacity=50),
                dict(supplier="D", item="shell", unit_price=12)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 40)],
        suppliers={"C": "FR", "D": "DE"},
        rules=[rule("min_quantity", item="shell", group="D", quantity=30),
               rule("ban", partner="B", group="D")],
    )
    variants = [Variant("grand"), Variant("no pool rule", rules_off={0}), Variant("no ban", rules_off={1}),
                Variant("C halved", capacity={"C": 0.5}), Variant("D gone", suppliers_off={"D"}),
                Variant("A alone", members={"A"})]
    table = solve_variants(data, variants).set_index("label")
    assert table.loc["grand", "cost"] == pytest.approx(1100.0)
    assert table.loc["no pool rule", "cost"] == pytest.approx(1100.0)
    assert table.loc["no ban", "cost"] == pytest.approx(1100.0)
    assert table.loc["no ban", "path"] == "literal"
    assert table.loc["C halved", "status"] == "infeasible"
    assert table.loc["D gone", "status"] == "infeasible"
    assert table.loc["A alone", "cost"] == pytest.approx(636.0)
    assert set(table["path"]) <= {"bounds", "literal", "mip"}
    assert_same(data, variants, table.reset_index())


def test_shortfall_and_partner_costs_equal_the_literal_plan():
    """Shells have a shortfall penalty of 30: with supplier S (capacity 50) removed, A and B
    (needs 40 and 30) can only buy from T (capacity 20, price 15): the plan buys 20 from T
    (for whom is a tie) and leaves 50 short; each partner's shortfall plus its purchases is
    its cost."""
    data = tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10, capacity=50),
                dict(supplier="T", item="shell", unit_price=15, capacity=20)],
        demand=[("A", "shell", 1, 40), ("B", "shell", 1, 30)],
        items={"shell": {"shortfall_penalty": 30}},
    )
    variant = Variant("S gone", suppliers_off={"S"})
    fast = solve_variants(data, [variant], extract=extract.shortfall).iloc[0]
    assert fast["path"] == "bounds"
    assert fast["cost"] == pytest.approx(20 * 15 + 50 * 30)
    short = fast["value"]
    assert short["shortfall"].sum() == pytest.approx(50.0)
    own = variant.apply(data)
    model = build_model(own)
    result = procure.solve(own)
    by_partner = result.fulfilment.groupby("partner")["shortfall"].sum()
    assert short.groupby("partner")["shortfall"].sum().sum() == pytest.approx(by_partner.sum())
    costs = solve_variants(data, [variant], extract=extract.partner_costs).iloc[0]["value"]
    assert costs["total"].sum() == pytest.approx(fast["cost"])
    assert model.num_cols > 0


def test_progress_is_reported_and_the_pool_gives_the_same_table():
    tables = generate(partners=3, items=2, offers_per_item=3, periods=2, rule_density=1.0,
                      tiers=True, setup=True, seed=5)
    data = procure.validate_tables(tables)
    partners = list(data.partners["partner"])
    variants = [Variant(k, members=frozenset(partners[:k + 1])) for k in range(3)] + \
        [Variant("no rule 0", rules_off={0})]
    calls = []
    local = solve_variants(data, variants, mip_gap=GAP, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    calls.clear()
    pooled = solve_variants(data, variants, mip_gap=GAP, workers=2, chunk=1,
                            progress=lambda d, t: calls.append((d, t)))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[-1] == (4, 4)
    pd.testing.assert_frame_equal(pooled[["label", "status", "path"]], local[["label", "status", "path"]])
    assert pooled["cost"].to_numpy() == pytest.approx(local["cost"].to_numpy(), rel=1e-9)


def test_an_interrupted_pool_stops_its_workers_instead_of_finishing_the_run(monkeypatch):
    """A progress callback that raises (Streamlit's stop when the user clicks elsewhere, a
    Ctrl-C) ends the run at once: the chunks not started are cancelled and the pool's workers
    terminated, not drained (they would exit with 0 after the whole run)."""
    import os
    import signal

    from procure.analysis.many import run

    data = procure.datasets.load_demo()
    partners = list(data.partners["partner"])
    variants = [Variant(k, members=frozenset(partners[j] for j in range(12) if (k >> j) & 1))
                for k in range(1, 61)]
    workers = []  # the pool's own processes (other tests may leave children of their own)
    real_stop = run._stop

    def stop_and_see(pool):
        workers.extend((pool._processes or {}).values())
        real_stop(pool)

    monkeypatch.setattr(run, "_stop", stop_and_see)

    class Interrupted(Exception):
        pass

    def interrupt(done, total):
        assert done < total  # chunks were left
        raise Interrupted

    with pytest.raises(Interrupted):
        solve_variants(data, variants, workers=2, chunk=1, progress=interrupt)
    assert len(workers) == 2

    def gone(process) -> bool:
        # after a Streamlit AppTest in the same process, something else may reap a child first:
        # multiprocessing then cannot read its exit code, but the process no longer exists
        return process.exitcode is not None or not os.path.exists(f"/proc/{process.pid}")

    assert all(gone(p) for p in workers)
    assert {p.exitcode for p in workers} - {None} == {-signal.SIGTERM}


def test_unknown_names_are_errors():
    data = tiny(offers=[dict(supplier="S", item="x", unit_price=1)], demand=[("A", "x", 1, 1)])
    with pytest.raises(ValueError, match="unknown partner"):
        solve_variants(data, [Variant(members={"Z"})])
    with pytest.raises(ValueError, match="unknown supplier"):
        solve_variants(data, [Variant(suppliers_off={"Q"})])
    with pytest.raises(ValueError, match="no rule at position"):
        solve_variants(data, [Variant(rules_off={3})])
    with pytest.raises(ValueError, match="capacity factor"):
        Variant(capacity={"S": -1})
    ruled = tiny(offers=[dict(supplier="S", item="x", unit_price=1)], demand=[("A", "x", 1, 1)],
                 rules=[rule("max_quantity", group="S", quantity=5)])
    with pytest.raises(ValueError, match="max_quantity rule: it has no share"):
        solve_variants(ruled, [Variant(share={0: 0.5})])
    with pytest.raises(ValueError, match="cannot be negative"):
        solve_variants(ruled, [Variant(quantity={0: -1})])


def test_pool_share_caps_close_the_tiers_they_forbid():
    """A and B need 60 and 90 shells; S sells at 10, or 8 each from 100 units (all units); T
    at 9. Pool rule: no supplier above 50 % of the shells. S can sell at most 75 < 100, so its
    tier is out of reach: 75 x 10 + 75 x 9 = 1425 (not 100 x 8 + 50 x 9 = 1250). {A} alone:
    S at most 30: 30 x 10 + 30 x 9 = 570. Bounds and the literal models agree."""
    data = tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10),
                dict(supplier="T", item="shell", unit_price=9)],
        tiers=[("S", "shell", 100, 8)],
        demand=[("A", "shell", 1, 60), ("B", "shell", 1, 90)],
        rules=[rule("max_share", item="shell", group="each_supplier", share=0.5)],
    )
    variants = [Variant("pool"), Variant("A", members={"A"}), Variant("no cap", rules_off={0}),
                Variant("cap 0.7", share={0: 0.7})]
    table = solve_variants(data, variants).set_index("label")
    assert table.loc["pool", "cost"] == pytest.approx(1425.0)
    assert table.loc["A", "cost"] == pytest.approx(570.0)
    assert table.loc["no cap", "cost"] == pytest.approx(150 * 8)  # everything from S at 8
    # share 0.7: S up to 105 >= 100: 105 x 8 + 45 x 9 = 1245
    assert table.loc["cap 0.7", "cost"] == pytest.approx(1245.0)
    assert (table["path"] == "bounds").all()
    assert_same(data, variants, table.reset_index())


def test_partner_share_caps_close_the_tiers_they_forbid():
    """A (country AA) needs 100 shells: S abroad at 10, or 8 each from 80 units; D at home at
    12. A's rule: at least 30 % from home, so S sells A at most 70 < 80: 70 x 10 + 30 x 12 =
    1060 (not 80 x 8 + 20 x 12 = 880). Without the rule 100 x 8 = 800; at 10 % S may sell 90:
    90 x 8 + 10 x 12 = 840. Bounds and the literal models agree."""
    data = tiny(
        offers=[dict(supplier="S", item="shell", unit_price=10),
                dict(supplier="D", item="shell", unit_price=12)],
        tiers=[("S", "shell", 80, 8)],
        demand=[("A", "shell", 1, 100), ("B", "shell", 1, 10)],
        partners={"A": {"country": "AA"}, "B": {"country": "BB"}},
        suppliers={"S": "XX", "D": "AA"},
        rules=[rule("min_share", partner="A", item="shell", group="domestic", share=0.3)],
    )
    variants = [Variant("A", members={"A"}), Variant("A, no rule", members={"A"}, rules_off={0}),
                Variant("A at 10 %", members={"A"}, share={0: 0.1}), Variant("pool")]
    table = solve_variants(data, variants).set_index("label")
    assert table.loc["A", "cost"] == pytest.approx(1060.0)
    assert table.loc["A, no rule", "cost"] == pytest.approx(800.0)
    assert table.loc["A at 10 %", "cost"] == pytest.approx(840.0)
    # the pool: B's 10 units make S's 80 reachable (70 for A + 10 for B): 80 x 8 + 30 x 12
    assert table.loc["pool", "cost"] == pytest.approx(1000.0)
    assert_same(data, variants, table.reset_index())
