"""Interoperable standards: items delivered in whole units, and Substitutes (a partner
accepting a variant qualified to another national standard, one for one).

Known answers are worked by hand in each test's docstring; every plan is re-checked from its
output tables by ``tests/checker.check_solution``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import procure
from procure.analysis.sharing import all_coalitions, coalition_costs, coalition_data

try:
    from tests.tiny import check_solution, qty, rule, solved, tiny
except ImportError:  # tests/ is not a package
    from tiny import check_solution, qty, rule, solved, tiny


def with_substitutes(data: procure.ProcureData, rows) -> procure.ProcureData:
    """``data`` with a Substitutes sheet of ``(item, substitute, partner)`` rows, re-validated."""
    tables = _tables(data)
    tables["Substitutes"] = pd.DataFrame(list(rows), columns=["item", "substitute", "partner"])
    return procure.validate_tables(tables)


def _tables(data: procure.ProcureData) -> dict[str, pd.DataFrame]:
    out = {}
    for sheet in ("Partners", "Items", "Suppliers", "Offers", "Demand", "Capacity", "PriceTiers",
                  "Transport", "Blocs", "Rules"):
        attr = {"PriceTiers": "price_tiers"}.get(sheet, sheet.lower())
        frame = getattr(data, attr).drop(columns=["source_row"], errors="ignore")
        out[sheet] = frame
    return out


# --------------------------------------------------------------------------- whole units


def value_share_case(whole: bool) -> procure.ProcureData:
    return tiny(
        offers=[dict(supplier="A", item="x", unit_price=100), dict(supplier="B", item="x", unit_price=60)],
        demand=[("P", "x", 1, 3)],
        items={"x": {"whole_units": "yes" if whole else "no"}},
        suppliers={"A": "FR", "B": "US"},
        blocs=[("EU", "FR")],
        rules=[rule("min_value_share", partner="P", group="EU", share=0.5)],
    )


def test_whole_units_rounding_changes_the_optimum():
    """P needs 3 units of x: A (EU) at 100, B (US) at 60; at least 50 % of the value from the EU.

    With a units from A: 100 a >= 0.5 (100 a + 60 (3 - a))  <=>  80 a >= 90  <=>  a >= 1.125.
    Fractional optimum: a = 1.125, b = 1.875, cost 112.5 + 112.5 = 225.
    Rounding it to the nearest whole units (1, 2) breaks the rule (100 < 0.5 x 220 = 110);
    the whole-units optimum is a = 2, b = 1: cost 200 + 60 = 260.
    """
    frac = solved(value_share_case(False))
    assert frac.total_cost == pytest.approx(225.0)
    assert qty(frac, supplier="A") == pytest.approx(1.125)
    whole = solved(value_share_case(True))
    assert whole.is_mip
    assert whole.total_cost == pytest.approx(260.0)
    assert qty(whole, supplier="A") == 2 and qty(whole, supplier="B") == 1
    assert whole.model_size["integers"] == 2 and whole.model_size["binaries"] == 0


def test_only_whole_units_items_are_integer():
    data = tiny(
        offers=[dict(supplier="A", item="x", unit_price=1), dict(supplier="A", item="y", unit_price=1)],
        demand=[("P", "x", 1, 3), ("P", "y", 1, 2.5)],
        items={"x": {"whole_units": "yes"}},
    )
    model = procure.build_model(data)
    xb = model.variables["x"]
    flags = dict(zip(xb.index["item"], model.integrality[xb.start:xb.stop], strict=True))
    assert flags == {"x": True, "y": False}
    assert np.isinf(model.col_upper[xb.start:xb.stop]).all()  # integer, not binary


def test_whole_units_coalitions_fast_path_equals_literal():
    """Two partners each needing 3 whole units under the EU value share: the coalition engine
    branches on general integers (not only 0/1) and agrees with the literal coalition models."""
    data = tiny(
        offers=[dict(supplier="A", item="x", unit_price=100, capacity=4),
                dict(supplier="B", item="x", unit_price=60)],
        demand=[("P", "x", 1, 3), ("Q", "x", 1, 3), ("Q", "x", 2, 1)],
        items={"x": {"whole_units": "yes"}},
        suppliers={"A": "FR", "B": "US"},
        blocs=[("EU", "FR")],
        rules=[rule("min_value_share", partner="P", group="EU", share=0.5),
               rule("min_value_share", partner="Q", group="EU", share=0.3),
               rule("min_value_share", group="EU", share=0.45)],
    )
    coalitions = [c for c in all_coalitions(["P", "Q"]) if c]
    fast = coalition_costs(data, coalitions, mip_gap=0.0)
    for members, cost in zip(fast["coalition"], fast["cost"], strict=True):
        literal = procure.solve(coalition_data(data, members), mip_gap=0.0)
        check_solution(coalition_data(data, members), literal)
        assert cost == pytest.approx(literal.total_cost, rel=1e-9), sorted(members)
    # Q alone (4 units, a from A): the pool's 45 % binds over Q's own 30 %:
    # 100 a >= 0.45 (100 a + 60 (4 - a)) <=> 82 a >= 108 <=> a >= 1.32 -> a = 2: 200 + 120
    assert fast["coalition"].iloc[1] == frozenset({"Q"})
    assert fast["cost"].iloc[1] == pytest.approx(100 * 2 + 60 * 2)


# --------------------------------------------------------------------------- substitutes


def two_standards(**changes) -> procure.ProcureData:
    """DE needs 60 shells of standard A, FR 60 of standard B, in one period.

    S1 makes A, S2 makes B; each at 10 a shell, 8 a shell (all units) from a pooled 100."""
    kw = dict(
        offers=[dict(supplier="S1", item="shellA", unit_price=10, capacity=200),
                dict(supplier="S2", item="shellB", unit_price=10, capacity=200)],
        demand=[("DE", "shellA", 1, 60), ("FR", "shellB", 1, 60)],
        tiers=[("S1", "shellA", 100, 8), ("S2", "shellB", 100, 8)],
        suppliers={"S1": "DE", "S2": "FR"},
    )
    kw.update(changes)
    return tiny(**kw)


def test_pooling_onto_one_variant_reaches_a_tier():
    """Separate national variants: each offer sells 60 < 100, all at 10: 1,200.
    FR accepts A for its B demand: S1 sells 120 >= 100, every unit at 8: 960."""
    separate = solved(two_standards())
    assert separate.total_cost == pytest.approx(1200.0)
    data = with_substitutes(two_standards(), [("shellB", "shellA", "FR")])
    pooled = solved(data)
    assert pooled.total_cost == pytest.approx(960.0)
    a = pooled.allocation
    fr = a[a["partner"] == "FR"].iloc[0]
    assert (fr["item"], fr["demand_item"], fr["supplier"], fr["quantity"]) == ("shellA", "shellB", "S1", 60)
    assert fr["unit_price"] == 8
    offers = pooled.offers.set_index("supplier")
    assert offers.at["S1", "pooled_quantity"] == 120 and offers.at["S1", "tier_min_quantity"] == 100
    fulfil = pooled.fulfilment.set_index("partner")
    assert fulfil.at["FR", "item"] == "shellB" and fulfil.at["FR", "delivered"] == 60


def test_capacity_sees_the_item_delivered():
    """S1 can make only 100 A a period: DE 60 + FR 40 of A reach the tier exactly (800), FR's
    other 20 come as B from S2 at 10 (200): 1,000."""
    base = two_standards(offers=[dict(supplier="S1", item="shellA", unit_price=10, capacity=100),
                                 dict(supplier="S2", item="shellB", unit_price=10, capacity=200)])
    result = solved(with_substitutes(base, [("shellB", "shellA", None)]))
    assert result.total_cost == pytest.approx(1000.0)
    assert qty(result, partner="FR", item="shellA") == 40
    assert qty(result, partner="FR", item="shellB") == 20


def test_rules_and_bans_see_the_item_delivered():
    """A pool max_quantity of 100 on shellA acts like the capacity above (1,000); a ban on
    S1 for FR keeps FR on B (1,200)."""
    capped = two_standards(rules=[rule("max_quantity", item="shellA", group="S1", quantity=100)])
    assert solved(with_substitutes(capped, [("shellB", "shellA", "FR")])).total_cost == pytest.approx(1000.0)
    banned = two_standards(rules=[rule("ban", partner="FR", group="S1")])
    result = solved(with_substitutes(banned, [("shellB", "shellA", "FR")]))
    assert result.total_cost == pytest.approx(1200.0)
    assert qty(result, partner="FR", item="shellA") == 0


def test_value_share_sees_the_item_and_supplier_delivered():
    """DE needs 70 A. FR (60 B) may take A but must buy >= 50 % of its value from FR
    suppliers (S2, making B); base prices are equal, so FR takes at most 30 A.
    S1 then sells 70 + 30 = 100: the tier (800); S2 sells FR's other 30 B at 10 (300): 1,100.
    Without the rule FR would take all 60 A (130 at 8 = 1,040); without Substitutes 1,300."""
    base = two_standards(demand=[("DE", "shellA", 1, 70), ("FR", "shellB", 1, 60)],
                         rules=[rule("min_value_share", partner="FR", group="FR", share=0.5)])
    result = solved(with_substitutes(base, [("shellB", "shellA", "FR")]))
    assert result.total_cost == pytest.approx(1100.0)
    assert qty(result, partner="FR", item="shellA") == 30
    share = result.rules[result.rules["rule"] == "min_value_share"].iloc[0]
    assert share["achieved"] == pytest.approx(0.5) and share["binds"]
    free = two_standards(demand=[("DE", "shellA", 1, 70), ("FR", "shellB", 1, 60)])
    assert solved(with_substitutes(free, [("shellB", "shellA", "FR")])).total_cost == pytest.approx(1040.0)
    assert solved(free).total_cost == pytest.approx(1300.0)


def test_a_partner_specific_substitute_is_not_shared():
    """NL also demands 10 B and has no Substitutes row: its deliveries stay on B."""
    base = two_standards(demand=[("DE", "shellA", 1, 60), ("FR", "shellB", 1, 60),
                                 ("NL", "shellB", 1, 10)])
    data = with_substitutes(base, [("shellB", "shellA", "FR")])
    model = procure.build_model(data)
    idx = model.variables["x"].index
    nl = idx[idx["partner"] == "NL"]
    assert set(nl["item"]) == {"shellB"}
    fr = idx[idx["partner"] == "FR"]
    assert set(zip(fr["item"], fr["demand_item"], strict=True)) == {("shellB", "shellB"), ("shellA", "shellB")}
    result = solved(data)
    # S1: 120 at 8 = 960; S2: NL's 10 at 10 = 100
    assert result.total_cost == pytest.approx(1060.0)


def test_one_item_delivered_against_two_demands():
    """FR demands both A (5) and B (60) and accepts A for B: two deliveries of A from S1 to FR,
    one per demand, are two rows of the allocation (demand_item tells them apart)."""
    base = two_standards(demand=[("DE", "shellA", 1, 60), ("FR", "shellB", 1, 60),
                                 ("FR", "shellA", 1, 5)])
    result = solved(with_substitutes(base, [("shellB", "shellA", "FR")]))
    a = result.allocation
    rows = a[(a["partner"] == "FR") & (a["item"] == "shellA")]
    assert sorted(rows["demand_item"]) == ["shellA", "shellB"]
    assert result.total_cost == pytest.approx(125 * 8)


def test_demand_row_sums_over_accepted_items():
    data = with_substitutes(two_standards(), [("shellB", "shellA", "FR")])
    model = procure.build_model(data)
    dem = model.constraints["demand"]
    fr_row = dem.start + int(np.flatnonzero((dem.index["partner"] == "FR").to_numpy())[0])
    xb = model.variables["x"]
    cols = model.matrix.tocsr()[fr_row].indices
    delivered = {model.variables["x"].index["item"].iat[c - xb.start] for c in cols}
    assert delivered == {"shellA", "shellB"}


def test_a_removed_partners_substitutes_rows_go_with_it():
    """A scenario removing FR drops FR's own Substitutes rows; a row for every partner stays."""
    data = tiny(
        offers=[dict(supplier="S1", item="shellA", unit_price=10),
                dict(supplier="S2", item="shellB", unit_price=10)],
        demand=[("DE", "shellA", 1, 60), ("FR", "shellB", 1, 60)],
        substitutes=[("shellB", "shellA", "FR"), ("shellA", "shellB", None)],
    )
    out = procure.Scenario(base=data, name="FR leaves", remove_partners=["FR"]).apply()
    assert out.substitutes[["item", "substitute"]].values.tolist() == [["shellA", "shellB"]]
    assert out.substitutes["partner"].isna().all()
    assert list(out.substitutes["source_row"]) == [3]


def _rounding_case(partners: int = 6) -> procure.ProcureData:
    """Each partner needs 37 whole x (A in the EU at 100, B at 60; >= 50 % of x's value from
    the EU, so 1.125 x 37 / 3 = 13.875 from A: fractional) and a bulk item worth about
    1.4e9 in all: rounding A up to 14 units costs 40 per partner, a few 1e-8 of the total."""
    demand = []
    for k in range(partners):
        demand += [(f"P{k}", "x", 1, 37), (f"P{k}", "bulk", 1, 1_000_000)]
    return tiny(
        offers=[dict(supplier="A", item="x", unit_price=100), dict(supplier="B", item="x", unit_price=60),
                dict(supplier="A", item="bulk", unit_price=230)],
        demand=demand,
        items={"x": {"whole_units": "yes"}},
        suppliers={"A": "FR", "B": "US"},
        blocs=[("EU", "FR")],
        rules=[rule("min_value_share", partner=f"P{k}", item="x", group="EU", share=0.5)
               for k in range(partners)],
    )


def test_whole_units_proven_against_the_relaxation():
    """The relaxation (x fractional) costs 13.875 x 100 + 23.125 x 60 = 2,775 per partner for x;
    whole: 14 from A and 23 from B, 1,400 + 1,380 = 2,780. The plan found by rounding the
    relaxation is proven optimal against the relaxation's bound (gap 5 x 6 / 1.38e9 = 2e-8),
    and it is the whole-unit optimum HiGHS's own MIP search finds."""
    from procure.engine.backends import solve_highs
    from procure.engine.whole_units import solve_with_whole_units

    data = _rounding_case()
    result = solved(data)
    assert result.status == procure.Status.OPTIMAL
    assert result.total_cost == pytest.approx(6 * (2780 + 230e6), rel=1e-12)
    assert qty(result, item="x", supplier="A") == 6 * 14
    model = procure.build_model(data)
    mine = solve_with_whole_units(model)
    assert mine.bound == pytest.approx(6 * (2775 + 230e6), rel=1e-12)  # the relaxation's
    assert mine.detail.startswith("whole units")
    full = solve_highs(model, mip_gap=0.0)
    assert mine.objective == pytest.approx(full.objective, rel=1e-9)


def test_whole_units_fall_back_to_the_full_search_when_rounding_is_not_close():
    """The value-share case alone: the relaxation's 225 is far below the whole optimum 260
    (13 %), so no rounding can be proven: HiGHS's MIP search decides, and proves 260."""
    from procure.engine.whole_units import solve_with_whole_units

    out = solve_with_whole_units(procure.build_model(value_share_case(True)))
    assert out.status == procure.Status.OPTIMAL and out.objective == pytest.approx(260.0)
    assert not out.detail.startswith("whole units")


# --------------------------------------------------------------------------- harmonise


def three_buyers():
    """DE needs 60 A, FR 60 B, IT 30 B; S1 makes A, S2 makes B, each 10 a unit and 8 (all
    units) from a pooled 100; FR accepts A for B (Substitutes row 2)."""
    return two_standards(demand=[("DE", "shellA", 1, 60), ("FR", "shellB", 1, 60),
                                 ("IT", "shellB", 1, 30)],
                         substitutes=[("shellB", "shellA", "FR")])


def test_harmonise_values_each_row_and_ranks_candidates():
    """With the row: S1 sells DE 60 + FR 60 = 120 at 8 (960), S2 IT's 30 at 10 (300): 1,260.
    Without it: 600 + 90 x 10 = 1,500: the row is worth 240 (and so are all rows together).
    Candidates (the variants of A and B are each other): IT accepting A puts 150 on S1 at 8
    (1,200: saves 60); DE accepting B lets everyone buy B, 150 on S2 at 8 (1,200: saves 60)."""
    from procure.analysis.harmonise import candidate_rows, harmonise

    data = three_buyers()
    cands = candidate_rows(data)
    assert set(map(tuple, cands[["item", "substitute", "partner"]].values)) == {
        ("shellB", "shellA", "IT"), ("shellA", "shellB", "DE")}
    h = harmonise(data, candidates=True)
    assert h.base["total_cost"] == pytest.approx(1260.0)
    out = h.to_dict()
    assert out["rows"] == {"Substitutes!2": {"partner": "FR", "item": "shellB", "substitute": "shellA",
                                             "value": pytest.approx(240.0), "status": "optimal"}}
    assert out["all"] == pytest.approx(240.0)
    assert [c["saving"] for c in out["candidates"]] == pytest.approx([60.0, 60.0])
    assert {c["partner"] for c in out["candidates"]} == {"IT", "DE"}


def test_harmonise_without_substitutes_and_on_the_cli(tmp_path, capsys):
    from procure.analysis.harmonise import harmonise
    from procure.cli.main import main
    from procure.data.writer import write_workbook

    h = harmonise(two_standards(), candidates=True)
    assert h.table.empty and h.all == pytest.approx(0.0)
    path = tmp_path / "h.xlsx"
    write_workbook(three_buyers(), path)
    assert main(["harmonise", str(path), "--json", "--candidates"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["base"] == pytest.approx(1260.0) and len(out["candidates"]) == 2
    assert main(["harmonise", str(path), "--candidates"]) == 0
    text = capsys.readouterr().out
    assert "Substitutes!2" in text and "FR: shellA for shellB" in text and "might add" in text
