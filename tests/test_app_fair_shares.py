"""The Fair shares page through AppTest, on a four-partner cut of the demo (15 coalitions):
the page shows ``fair_shares`` and ``rule_costs`` of the same data, and the Nation view picks
the Shapley value and the nucleolus up."""

from __future__ import annotations

import pandas as pd
import pytest

import procure
from procure.analysis.cooperation import fair_shares, rule_costs
from procure.app import fair_shares as page
from procure.app.shared import WORKBOOK_KEY, Workbook

try:
    from tests import app_helpers as ui
except ImportError:  # tests/ is not a package
    import app_helpers as ui

KEEP = ["DE", "FR", "PL", "NO"]


@pytest.fixture(autouse=True)
def store(monkeypatch, tmp_path):
    return ui.private_store(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def small():
    """The demo with only DE, FR, PL and NO (their demand, transport and rules)."""
    demo = procure.datasets.load_demo()
    others = sorted(set(demo.partners["partner"]) - set(KEEP))
    return procure.Scenario(base=demo, name="four", remove_partners=others).apply()


def opened(data):
    at = ui.app()
    at.session_state[WORKBOOK_KEY] = Workbook.from_data("four.xlsx", "edited", data)
    at.run()
    return at.switch_page(ui.PAGES["fair_shares"]).run()


def test_fair_shares_and_rule_prices_are_the_engines(small):
    at = opened(small)
    ui.no_exception(at)
    assert not at.dataframe  # nothing is computed before it is asked for
    at.button(key="fair_compute").click().run()
    ui.no_exception(at)
    gap = at.session_state[page.SHARES_KEY][0][1].mip_gap
    expected = fair_shares(small, workers=1, mip_gap=gap, time_limit=60)
    table = at.dataframe[0].value
    pd.testing.assert_frame_equal(table[["partner"]], expected.table[["partner"]])
    for column in ("standalone", "proportional", "shapley", "nucleolus"):
        assert table[column].to_numpy() == pytest.approx(expected.table[column].to_numpy(),
                                                         rel=1e-6), column
    sentences = ui.texts(at.success) + ui.texts(at.warning) + ui.texts(at.info)
    assert expected.core_sentence() in sentences
    assert any("15 coalitions solved" in c for c in ui.texts(at.caption))

    at.button(key="fair_rule_costs").click().run()
    ui.no_exception(at)
    priced = rule_costs(small, mip_gap=gap, time_limit=60)
    shown = next(d.value for d in at.dataframe if "price_pct" in d.value.columns)
    # the same prices, dearest first (rules that cost nothing tie, in either order); a price is
    # the difference of two costs each proven within the gap of c(P)
    within = 2 * gap * priced.base + 1.0
    assert dict(zip(shown["rule_id"], shown["price"], strict=True)) == pytest.approx(
        dict(zip(priced.table["rule_id"], priced.table["price"], strict=True)), rel=0, abs=within)
    assert (shown["price"].diff().dropna() <= within).all()

    # the Nation view now shows the partner's Shapley value and nucleolus
    at.switch_page(ui.PAGES["nation"]).run()
    ui.no_exception(at)
    mine = table.set_index("partner").loc["DE"]  # the first partner, shown first
    bars = ui.figures(at)[0]["data"][0]
    assert bars["x"] == ["alone", "proportional", "Shapley", "nucleolus"]
    alone, proportional, shapley, nucleolus = ui.numbers(bars["y"])
    assert [alone, shapley, nucleolus] == pytest.approx(
        [mine["standalone"], mine["shapley"], mine["nucleolus"]], rel=1e-6)
    # proportional: the share of the plan the page shows (an equally cheap plan may split
    # differently from the one the game solved)
    assert ui.full_units(proportional) == ui.metric(at, "Its cost in the pool")


def test_the_answers_are_kept_for_the_session_and_workbook(small):
    at = opened(small)
    at.button(key="fair_compute").click().run()
    first = at.session_state[page.SHARES_KEY][1]
    at.run()  # a rerun shows the same answer without solving again
    assert at.session_state[page.SHARES_KEY][1] is first
    assert not [b for b in at.button if b.key == "fair_compute"]


def test_a_game_above_the_exact_limit_is_sampled():
    at = ui.open_page(ui.app(), "fair_shares")  # the demo: 12 partners, exact possible
    ui.no_exception(at)
    how = at.radio[0]
    assert how.value == "every coalition (exact)" and not how.disabled
    assert any("4,095 coalitions" in c for c in ui.texts(at.caption))


def test_partners_without_demand_do_not_count_towards_the_exact_limit(small):
    """14 partners, of whom 4 have demand: the game of 4 is solved exactly (15 coalitions),
    the page says so before and after, and its chart shows the 4 who play."""
    extra = pd.DataFrame({"partner": ["SE", "FI"], "name": ["Sweden", "Finland"],
                          "country": ["SE", "FI"], "budget": [float("nan")] * 2})
    data = small.replace(partners=pd.concat([small.partners, extra], ignore_index=True))
    idle = sorted(set(data.partners["partner"]) - set(KEEP))
    assert len(data.partners) == 14 > page.EXACT_LIMIT
    at = opened(data)
    ui.no_exception(at)
    how = at.radio[0]
    assert how.value == "every coalition (exact)" and not how.disabled
    assert any(c.startswith("Solves 15 coalitions of the 4 partners, not ")
               for c in ui.texts(at.caption)), ui.texts(at.caption)
    at.button(key="fair_compute").click().run()
    ui.no_exception(at)
    table = at.dataframe[0].value
    assert len(table) == 14
    assert (table.set_index("partner").loc[idle, ["standalone", "shapley", "nucleolus"]] == 0).all().all()
    assert any("15 coalitions solved" in c for c in ui.texts(at.caption))
    assert any(c.endswith("0 in every split, left out of the coalitions solved.") and
               all(p in c for p in idle) for c in ui.texts(at.caption))
    bars = ui.figures(at)[0]["data"]
    assert {tuple(trace["x"]) for trace in bars} == {tuple(KEEP)}
