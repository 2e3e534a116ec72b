"""procure.charts.compare: the figures draw exactly the comparison tables they are given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from procure.charts import compare as charts


@pytest.fixture
def comparison():
    """A baseline of 100 (A 60, B 40); "cut" costs 130 (A +40, B -10); "gone" has no plan.

    The waterfall of "cut" is 100, +40 (A), -10 (B), = 130."""
    scenarios = pd.DataFrame({
        "scenario": ["base", "cut", "gone"], "status": ["optimal", "optimal", "infeasible"],
        "total_cost": [100.0, 130.0, np.nan], "delta": [0.0, 30.0, np.nan]})
    partners = pd.DataFrame({
        "scenario": ["base", "base", "cut", "cut", "gone", "gone"],
        "partner": ["A", "B", "A", "B", "A", "B"],
        "total": [60.0, 40.0, 100.0, 30.0, np.nan, np.nan],
        "baseline_total": [60.0, 40.0] * 3,
        "delta": [0.0, 0.0, 40.0, -10.0, np.nan, np.nan]})
    return scenarios, partners


def test_waterfall_steps_from_the_baseline_through_the_partners(comparison):
    scenarios, partners = comparison
    fall = charts.cost_waterfall(partners, scenarios, "cut", "base").data[0]
    assert list(fall.x) == ["base", "A", "B", "cut"]
    assert list(fall.measure) == ["absolute", "relative", "relative", "total"]
    assert list(fall.y) == [100.0, 40.0, -10.0, 130.0]
    assert fall.y[0] + sum(fall.y[1:-1]) == pytest.approx(fall.y[-1])


def test_waterfall_of_a_scenario_without_a_plan_says_so(comparison):
    scenarios, partners = comparison
    fig = charts.cost_waterfall(partners, scenarios, "gone", "base")
    assert not fig.data and "no plan for gone" in fig.layout.annotations[0].text
    fig = charts.cost_waterfall(partners, scenarios, "unknown", "base")
    assert not fig.data


def test_unchanged_partners_are_no_step(comparison):
    scenarios, partners = comparison
    partners = partners.copy()
    partners.loc[(partners["scenario"] == "cut") & (partners["partner"] == "B"), "delta"] = 0.0
    scenarios = scenarios.assign(total_cost=[100.0, 140.0, np.nan])
    fall = charts.cost_waterfall(partners, scenarios, "cut", "base").data[0]
    assert list(fall.x) == ["base", "A", "cut"] and list(fall.y) == [100.0, 40.0, 140.0]


def test_scenario_deltas_are_coloured_by_sign(comparison):
    scenarios, _ = comparison
    scenarios = pd.concat([scenarios, pd.DataFrame({
        "scenario": ["cheaper"], "status": ["optimal"], "total_cost": [90.0],
        "delta": [-10.0]})], ignore_index=True)
    bar = charts.scenario_deltas(scenarios, "base").data[0]
    assert list(bar.x) == ["cut", "cheaper"]  # the baseline and "gone" (no plan) left out
    assert list(bar.y) == [30.0, -10.0]
    assert list(bar.marker.color) == [charts.INCREASE_COLOUR, charts.DECREASE_COLOUR]


def test_nothing_to_compare():
    only = pd.DataFrame({"scenario": ["base"], "status": ["optimal"], "total_cost": [1.0],
                         "delta": [0.0]})
    assert not charts.scenario_deltas(only, "base").data
    assert not charts.scenario_deltas(pd.DataFrame(), "base").data
