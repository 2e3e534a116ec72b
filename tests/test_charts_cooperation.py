"""Cooperation charts (procure.charts.cooperation): each figure draws exactly its table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from procure.charts.cooperation import fair_share_bars, rule_price_bars, sweep_curve


def shares_table(se=0.0) -> pd.DataFrame:
    return pd.DataFrame({"partner": ["A", "B", "C"], "standalone": [600.0, 600.0, 200.0],
                         "proportional": [480.0, 480.0, 160.0], "shapley": [466.7, 466.7, 186.6],
                         "shapley_se": [se, se, se], "nucleolus": [np.nan] * 3})


def test_fair_share_bars_draw_every_split_with_numbers():
    fig = fair_share_bars(shares_table(), "EUR")
    assert [t.name for t in fig.data] == ["alone", "proportional", "Shapley"]  # no nucleolus numbers
    assert list(fig.data[2].y) == pytest.approx([466.7, 466.7, 186.6])
    assert list(fig.data[0].x) == ["A", "B", "C"]
    assert fig.data[2].error_y.array is None
    sampled = fair_share_bars(shares_table(se=3.5))
    assert list(sampled.data[2].error_y.array) == pytest.approx([3.5] * 3)


def test_rule_price_bars_dearest_on_top_and_unpriced_left_out():
    table = pd.DataFrame({"rule_id": ["Rules!2", "Rules!3", "Rules!4"], "name": ["a", "b", "c"],
                          "price": [10.0, 140.0, np.nan]})
    fig = rule_price_bars(table)
    bar = fig.data[0]
    assert list(bar.x) == [10.0, 140.0]  # plotly draws the first bar at the bottom
    assert bar.y[-1].startswith("Rules!3")
    assert list(rule_price_bars(table, top=1).data[0].x) == [140.0]


def test_sweep_curve_marks_infeasible_points():
    table = pd.DataFrame({"value": [0.0, 0.5, 1.0], "status": ["optimal", "optimal", "infeasible"],
                          "cost": [1080.0, 1100.0, np.nan]})
    partners = pd.DataFrame({"value": [0.0, 0.5, 1.0], "partner": ["A"] * 3, "cost": [1080.0, 1100.0, np.nan]})
    fig = sweep_curve(table, partners, "EUR", "share")
    names = [t.name for t in fig.data]
    assert names == ["pool", "no plan", "A"]
    assert list(fig.data[1].x) == [1.0] and list(fig.data[1].text) == ["infeasible"]
    assert np.isnan(fig.data[0].y[2]) and fig.data[0].y[1] == pytest.approx(1100.0)


@pytest.mark.parametrize("chart", [fair_share_bars, rule_price_bars, sweep_curve])
def test_empty_tables_give_a_figure_that_says_so(chart):
    fig = chart(pd.DataFrame())
    assert not fig.data and fig.layout.annotations
