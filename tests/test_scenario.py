"""Scenarios (SPEC section 6): each change on a tiny instance whose result is worked out by hand,
the order of changes, the TOML round trip, and solving a scenario (re-checked by the oracle).
Bad scenario files are in tests/test_scenario_errors.py, the shipped models/ in
tests/test_scenario_models.py."""

from __future__ import annotations

import math
import textwrap

import pandas as pd
import pytest

import procure
from procure import Scenario

try:
    from tests.tiny import rule, solved, tiny
except ImportError:  # tests/ is not a package
    from tiny import rule, solved, tiny


def base() -> procure.ProcureData:
    """Two partners (P in PL, Q in DE), two items (x in category ammo, y in category radio),
    three suppliers:

    * A (FR): x at 10, capacity 100 a period, override 40 in period 2; y at 50, unlimited;
      shared capacity 120 a period (x uses 1, y uses 2)
    * B (FR): x at 12, unlimited; tier from 50 units at 11
    * C (KR): x at 8, capacity 30

    Demand: P needs x 20 / 30 in periods 1 / 2 and y 5 in period 1; Q needs x 10 / 10.
    Rules (Excel rows 2-5): a pool min_quantity of 20 x from A, P's ban on KR, a named pool
    max_share of 80 % per supplier on x, and a pool min_suppliers of 1 on x (no name).
    """
    return tiny(
        offers=[
            dict(supplier="A", item="x", unit_price=10, capacity=100, capacity_use=1),
            dict(supplier="A", item="y", unit_price=50, capacity_use=2),
            dict(supplier="B", item="x", unit_price=12),
            dict(supplier="C", item="x", unit_price=8, capacity=30),
        ],
        demand=[("P", "x", 1, 20), ("P", "x", 2, 30), ("P", "y", 1, 5),
                ("Q", "x", 1, 10), ("Q", "x", 2, 10)],
        partners={"P": {"country": "PL"}, "Q": {"country": "DE"}},
        items={"x": {"category": "ammo"}, "y": {"category": "radio"}},
        suppliers={"A": {"country": "FR", "capacity": 120}, "B": "FR", "C": "KR"},
        capacity=[("A", "x", 2, 40)],
        tiers=[("B", "x", 50, 11)],
        rules=[rule("min_quantity", item="x", group="A", quantity=20),
               rule("ban", partner="P", group="KR", name="P bans Korea"),
               rule("max_share", item="x", group="each_supplier", share=0.8,
                    name="no supplier above 80 %"),
               rule("min_suppliers", item="x", quantity=1)],
    )


def offer(data, supplier, item, column="capacity"):
    o = data.offers
    return float(o.loc[(o["supplier"] == supplier) & (o["item"] == item), column].iloc[0])


def override(data, supplier, item, period):
    c = data.capacity
    rows = c[(c["supplier"] == supplier) & (c["item"] == item) & (c["period"] == period)]
    return None if rows.empty else float(rows["capacity"].iloc[0])


def shared(data, supplier):
    s = data.suppliers
    return float(s.loc[s["supplier"] == supplier, "capacity"].iloc[0])


def demand_of(data, partner=None):
    d = data.demand
    if partner is not None:
        d = d[d["partner"] == partner]
    return {(r.partner, r.item, r.period): r.quantity for r in d.itertuples()}


def test_no_changes_gives_the_base_back():
    data = base()
    out = Scenario(base=data, name="as is").apply()
    for name in ("partners", "items", "suppliers", "offers", "demand", "capacity",
                 "price_tiers", "transport", "blocs", "rules"):
        pd.testing.assert_frame_equal(getattr(out, name), getattr(data, name), check_dtype=False)
    assert out.periods == data.periods and out.settings == data.settings


def test_remove_partners_follows_the_coalition_definition():
    """Q leaves: its demand goes; the pool min_quantity of 20 x is scaled by the share of the
    pool's x demand that stays: P's 50 of the pool's 70 -> 20 * 50/70 = 14.2857..."""
    out = Scenario(base=base(), name="Q leaves", remove_partners=["Q"]).apply()
    assert set(out.demand["partner"]) == {"P"}
    mq = out.rules[out.rules["rule"] == "min_quantity"]
    assert mq["quantity"].iloc[0] == pytest.approx(20 * 50 / 70)
    assert len(out.rules) == 4  # pool rules stay; P's ban stays (P is in)
    out = Scenario(base=base(), name="P leaves", remove_partners=["P"]).apply()
    assert "P bans Korea" not in set(out.rules["name"].dropna())  # P's own rule goes
    # the rows keep the Excel rows of the base workbook (reports name the same rule)
    assert list(out.rules["source_row"]) == [2, 4, 5]


def test_rules_off_by_name_by_row_and_by_the_label_reports_show():
    """Rows 2-5: "Rules!2" is the min_quantity, "P bans Korea" row 3, row 5 (no name) is known
    by the label reports give it."""
    label = procure.engine.results.rule_label(base().rules.iloc[3])
    out = Scenario(base=base(), name="off", rules_off=["Rules!2", "P bans Korea", label]).apply()
    assert list(out.rules["source_row"]) == [4]


def test_capacity_factor_scales_offers_overrides_and_shared_capacity():
    """A x 0.5 (no item, no period): x capacity 100 -> 50, its period-2 override 40 -> 20, the
    shared 120 -> 60; y (unlimited, but under the shared capacity) stays unlimited."""
    out = Scenario(base=base(), name="A half", capacity=[{"supplier": "A", "factor": 0.5}]).apply()
    assert offer(out, "A", "x") == 50
    assert override(out, "A", "x", "2") == 20
    assert shared(out, "A") == 60
    assert math.isnan(offer(out, "A", "y"))
    assert offer(out, "C", "x") == 30  # others untouched


def test_capacity_factor_zero_loses_the_supplier_even_when_unlimited():
    out = Scenario(base=base(), name="B lost", capacity=[{"supplier": "B", "factor": 0}]).apply()
    assert offer(out, "B", "x") == 0
    result = solved(out)
    assert result.allocation.query("supplier == 'B'")["quantity"].sum() == 0


def test_capacity_by_country_item_and_period():
    """Country FR with item x in period 1: A's x gets an override 100 x 0.25 = 25 in period 1
    (its period-2 override stays 40), B's unlimited x gets 0 ... but B is unlimited, so a factor
    above 0 is refused; with factor 0 both get 0 in period 1."""
    s = Scenario(base=base(), name="FR x p1",
                 capacity=[{"country": "FR", "item": "x", "period": 1, "factor": 0.25}])
    problems = s.problems()
    assert [p.column for p in problems] == ["capacity[1].factor"]
    assert "B/x" in problems[0].message
    out = Scenario(base=base(), name="C p2",
                   capacity=[{"supplier": "C", "item": "ammo", "period": "2", "factor": 0.5}]
                   ).apply()
    assert override(out, "C", "x", "2") == 15 and override(out, "C", "x", "1") is None
    assert offer(out, "C", "x") == 30
    out = Scenario(base=base(), name="FR x p1 lost",
                   capacity=[{"country": "FR", "item": "x", "period": 1, "factor": 0}]).apply()
    assert override(out, "A", "x", "1") == 0 and override(out, "B", "x", "1") == 0
    assert override(out, "A", "x", "2") == 40


def test_capacity_of_one_period_cannot_scale_a_shared_capacity():
    s = Scenario(base=base(), name="A p1", capacity=[{"supplier": "A", "period": 1,
                                                      "factor": 0.5}])
    (p,) = s.problems()
    assert p.column == "capacity[1].period" and "shared capacity" in p.message


def test_changes_compose_in_order():
    """Two capacity changes on C multiply: 30 x 0.5 x 0.5 = 7.5."""
    out = Scenario(base=base(), name="twice", capacity=[{"supplier": "C", "factor": 0.5},
                                                        {"supplier": "C", "factor": 0.5}]).apply()
    assert offer(out, "C", "x") == 7.5


def test_price_factor_scales_unit_prices_and_tiers():
    """Category ammo (item x) at B x 1.1: 12 -> 13.2 and the tier 11 -> 12.1; A's y untouched;
    with no supplier, every offer of the item."""
    out = Scenario(base=base(), name="B dearer",
                   price=[{"supplier": "B", "item": "ammo", "factor": 1.1}]).apply()
    assert offer(out, "B", "x", "unit_price") == pytest.approx(13.2)
    assert out.price_tiers["unit_price"].iloc[0] == pytest.approx(12.1)
    assert offer(out, "A", "x", "unit_price") == 10
    out = Scenario(base=base(), name="x dearer", price=[{"item": "x", "factor": 2}]).apply()
    assert [offer(out, s, "x", "unit_price") for s in "ABC"] == [20, 24, 16]
    assert offer(out, "A", "y", "unit_price") == 50


def test_demand_factor_and_rounding():
    """P x 1.3: x 20 -> 26, 30 -> 39, y 5 -> 6.5; rounded up 7; Q untouched."""
    out = Scenario(base=base(), name="P more", demand=[{"partner": "P", "factor": 1.3}]).apply()
    assert demand_of(out, "P") == pytest.approx({("P", "x", "1"): 26, ("P", "x", "2"): 39,
                                                 ("P", "y", "1"): 6.5})
    assert demand_of(out, "Q") == demand_of(base(), "Q")
    out = Scenario(base=base(), name="P more", demand=[{"partner": "P", "factor": 1.3,
                                                       "round": "up"}]).apply()
    assert demand_of(out, "P")[("P", "y", "1")] == 7
    out = Scenario(base=base(), name="p2", demand=[{"period": 2, "item": "x", "factor": 0}]
                   ).apply()
    assert demand_of(out)[("P", "x", "2")] == 0 and demand_of(out)[("Q", "x", "1")] == 10


def test_rule_change_and_added_rule():
    """The 80 % cap goes to 60 %; an added ban gets Rules row 6 (after the base's rows 2-5) and
    a generated name."""
    s = Scenario(base=base(), name="rules",
                 rule=[{"name": "no supplier above 80 %", "share": 0.6},
                       {"name": "Rules!2", "quantity": 5}],
                 add_rule=[{"rule": "ban", "partner": "Q", "group": "C"},
                           {"rule": "max_share", "item": "x", "group": "B", "share": 0.5,
                            "name": "B at most half"}])
    out = s.apply()
    rules = out.rules.set_index("source_row")
    assert rules.loc[4, "share"] == 0.6 and rules.loc[2, "quantity"] == 5
    assert rules.loc[6, "rule"] == "ban" and rules.loc[6, "partner"] == "Q"
    assert rules.loc[6, "name"].endswith("(added)")
    assert rules.loc[7, "name"] == "B at most half"
    result = solved(out)
    assert result.allocation.query("partner == 'Q' and supplier == 'C'")["quantity"].sum() == 0
    assert "Rules!7" in set(result.rules["rule_id"])


def test_solver_options_reach_the_settings_and_the_solve():
    s = Scenario(base=base(), name="opts", solver={"time_limit": 7, "mip_gap": 0.01})
    out = s.apply()
    assert out.settings["time_limit"] == 7 and out.settings["mip_gap"] == 0.01
    assert s.solve().status == procure.Status.OPTIMAL


def test_a_scenario_solves_to_a_plan_the_oracle_accepts():
    """Every kind of change at once; tests/checker.py recomputes the plan from its tables."""
    s = Scenario(base=base(), name="all", remove_partners=["Q"], rules_off=["Rules!5"],
                 capacity=[{"supplier": "A", "factor": 0.5}], price=[{"item": "x", "factor": 1.2}],
                 demand=[{"item": "y", "factor": 2}],
                 rule=[{"name": "no supplier above 80 %", "share": 0.9}],
                 add_rule=[{"rule": "min_share", "partner": "P", "item": "x", "group": "FR",
                            "share": 0.5}])
    out = s.apply()
    result = solved(out)
    assert result.total_cost == pytest.approx(s.solve().total_cost)


def test_toml_round_trip(tmp_path):
    s = Scenario(base=base(), name="round trip", description="all keys",
                 remove_partners=["Q"], rules_off=["P bans Korea"],
                 capacity=[{"supplier": "C", "item": "x", "period": "2", "factor": 0.5}],
                 price=[{"country": "FR", "factor": 1.1}],
                 demand=[{"partner": "P", "factor": 1.5, "round": "nearest"}],
                 rule=[{"name": "Rules!4", "share": 0.7}],
                 add_rule=[{"rule": "max_quantity", "group": "A", "quantity": 60}],
                 solver={"time_limit": 10})
    text = s.to_toml()
    back = Scenario.from_toml_text(text, base=s.base_data)
    assert back.to_dict() == s.to_dict()
    pd.testing.assert_frame_equal(back.apply().rules, s.apply().rules)
    # and from a file next to its workbook
    from procure.data.writer import write_workbook

    write_workbook(base(), tmp_path / "base.xlsx")
    (tmp_path / "s.toml").write_text(text)
    from_file = Scenario.from_toml(tmp_path / "s.toml")
    assert from_file.definition == text
    pd.testing.assert_frame_equal(from_file.apply().demand, s.apply().demand)


def test_base_bytes_are_the_file_or_the_written_data(tmp_path):
    from procure.data.writer import read_workbook_bytes, write_workbook

    path = tmp_path / "b.xlsx"
    write_workbook(base(), path)
    (tmp_path / "s.toml").write_text('name = "s"\nbase = "b.xlsx"\n')
    s = Scenario.from_toml(tmp_path / "s.toml")
    assert s.base_bytes == path.read_bytes()
    built = Scenario(base=base(), name="b")
    again = read_workbook_bytes(built.base_bytes)
    pd.testing.assert_frame_equal(again.offers, base().offers)
    assert len(built.base_sha256) == 64


def test_from_toml_text_reads_the_spec_example():
    """The example of the file format, on the demo."""
    text = textwrap.dedent('''
        name = "Loss of the largest shell plant"
        description = "..."
        base = "demo.xlsx"
        remove_partners = ["JP"]
        rules_off = ["Rules!7", "Shells: no supplier above 40 % of the pool"]

        [[capacity]]
        supplier = "DE_ELB"
        factor = 0

        [[price]]
        item = "shell155"
        factor = 1.1

        [[demand]]
        partner = "PL"
        factor = 1.2

        [[rule]]
        name = "EU value share >= 65 % (DE)"
        share = 0.8

        [[add_rule]]
        rule = "ban"
        partner = "DE"
        group = "KR"

        [solver]
        time_limit = 30
        mip_gap = 0.001
    ''')
    s = Scenario.from_toml_text(text, base_dir=procure.datasets.demo_path().parent)
    out = s.apply()
    assert "JP" not in set(out.demand["partner"])
    assert offer(out, "DE_ELB", "shell155") == 0
    assert out.settings["time_limit"] == 30
    assert len(s.changes()) == 8
