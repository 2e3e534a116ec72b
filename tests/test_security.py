"""Stress tests and Monte Carlo disruption (procure.analysis.security), their command-line
faces and charts: stress rows against ``procure solve`` of the workbook with the supplier's
offers removed; disruption deterministic under a seed and, on a case small enough to
enumerate, within 3 standard errors of the exact expectation."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

import procure
from procure.analysis.security import disrupt, failure_probabilities, stress_test
from procure.cli.main import main

try:
    from tests.tiny import tiny
    from tests.workbooks import write_workbook
except ImportError:  # tests/ is not a package
    from tiny import tiny
    from workbooks import write_workbook


def without(data: procure.ProcureData, suppliers) -> procure.ProcureData:
    """The workbook with every offer of ``suppliers`` removed (SPEC section 4), literally."""
    gone = set(suppliers)

    def keep(frame):
        return frame[~frame["supplier"].isin(gone)].reset_index(drop=True)

    return data.replace(offers=keep(data.offers), capacity=keep(data.capacity),
                        price_tiers=keep(data.price_tiers))


def stress_case() -> procure.ProcureData:
    """P and Q need x (shortfall penalty 50) and P needs y (hard). A (DE) x at 10 cap 6,
    B (DE) x at 12 cap 6 and y at 5, C (FR) x at 20 cap 5; D (FR) y at 9 (cap 3). Transport
    to Q costs 1 a unit, so a shortfall falls on Q (one optimum only)."""
    return tiny(
        offers=[dict(supplier="A", item="x", unit_price=10, capacity=6),
                dict(supplier="B", item="x", unit_price=12, capacity=6),
                dict(supplier="B", item="y", unit_price=5),
                dict(supplier="C", item="x", unit_price=20, capacity=5),
                dict(supplier="D", item="y", unit_price=9, capacity=3)],
        demand=[("P", "x", 1, 8), ("Q", "x", 1, 6), ("P", "y", 1, 4)],
        items={"x": {"shortfall_penalty": 50}},
        suppliers={"A": "DE", "B": "DE", "C": "FR", "D": "FR"},
        transport=[("DE", "Q", 1, None), ("FR", "Q", 1, None)],  # Q's deliveries cost 1 more
    )


def test_stress_rows_equal_solving_without_the_supplier():
    data = stress_case()
    st = stress_test(data, countries=True)
    base = procure.solve(data)
    assert st.base["total_cost"] == pytest.approx(base.total_cost)
    assert set(st.table["lost"]) == {"A", "B", "C", "D", "DE", "FR"}
    for row in st.table.itertuples(index=False):
        removed = row.suppliers.split(", ")
        literal = procure.solve(without(data, removed))
        assert row.status == literal.status.value, row
        if literal.has_plan:
            assert row.total_cost == pytest.approx(literal.total_cost), row
            assert row.delta == pytest.approx(literal.total_cost - base.total_cost)
            f = literal.fulfilment
            want = f[f["shortfall"] > 0].groupby(["partner", "item"])["shortfall"].sum()
            got = st.shortfall[(st.shortfall["kind"] == row.kind) & (st.shortfall["lost"] == row.lost)]
            assert dict(zip(zip(got["partner"], got["item"], strict=True), got["units"], strict=True)) \
                == pytest.approx(want.to_dict()), row
        else:
            assert row.diagnosis.startswith(f"without {row.lost}: ")
            assert "y" in row.diagnosis  # P's hard y demand cannot be met
    # without B and D: no y at all -> infeasible; without A: B 6 + C 5 = 11 of 14 x
    b = st.table[(st.table["kind"] == "supplier") & (st.table["lost"] == "B")].iloc[0]
    assert b.status == "infeasible"


def test_stress_json_and_worst_for_a_partner():
    data = stress_case()
    st = stress_test(data, countries=True)
    out = st.to_dict()
    assert set(out) >= {"base", "suppliers", "countries"}
    assert set(out["suppliers"]) == {"A", "B", "C", "D"} and set(out["countries"]) == {"DE", "FR"}
    a = out["suppliers"]["A"]
    assert set(a) >= {"status", "total_cost", "delta", "shortfall"}
    assert a["shortfall"] == {"Q": {"x": pytest.approx(3.0)}}
    assert out["suppliers"]["B"]["total_cost"] is None and "diagnosis" in out["suppliers"]["B"]
    assert out["countries"]["DE"]["suppliers"] == ["A", "B"]
    json.dumps(out)  # plain JSON
    worst = st.worst_for("Q")
    assert list(worst.columns) == ["lost", "status", "delta", "shortfall_units"]
    assert worst["status"].iloc[0] == "infeasible"


def test_stress_on_the_demo_names_the_largest_shell_plant():
    """The demo without its new shell plant still has a plan, dearer; a country with one
    supplier is reported without being solved again."""
    data = procure.datasets.load_demo()
    st = stress_test(data, countries=True, diagnose=False)
    de_elb = st.table[(st.table["kind"] == "supplier") & (st.table["lost"] == "DE_ELB")].iloc[0]
    assert de_elb.status == "optimal" and de_elb.delta > 0
    cz = st.table[st.table["lost"] == "CZ"].iloc[0]
    cz_mor = st.table[st.table["lost"] == "CZ_MOR"].iloc[0]
    assert cz.total_cost == pytest.approx(cz_mor.total_cost)


# --------------------------------------------------------------------------- Monte Carlo


def three_suppliers() -> procure.ProcureData:
    """P needs 10 x (shortfall penalty 50): A at 10 (cap 6), B at 12 (cap 6), C at 20 (cap 10)."""
    return tiny(
        offers=[dict(supplier="A", item="x", unit_price=10, capacity=6),
                dict(supplier="B", item="x", unit_price=12, capacity=6),
                dict(supplier="C", item="x", unit_price=20, capacity=10)],
        demand=[("P", "x", 1, 10)],
        items={"x": {"shortfall_penalty": 50}},
    )


#: c(F) by hand for each set F of failed suppliers
HAND = {
    (): 6 * 10 + 4 * 12,             # 108
    ("A",): 6 * 12 + 4 * 20,         # 152
    ("B",): 6 * 10 + 4 * 20,         # 140
    ("C",): 108,
    ("A", "B"): 10 * 20,             # 200
    ("A", "C"): 6 * 12 + 4 * 50,     # 272
    ("B", "C"): 6 * 10 + 4 * 50,     # 260
    ("A", "B", "C"): 10 * 50,        # 500
}


def test_hand_costs_of_every_failure_set():
    data = three_suppliers()
    for failed, cost in HAND.items():
        assert procure.solve(without(data, failed)).total_cost == pytest.approx(cost), failed


def test_disruption_mean_within_three_standard_errors_of_the_exact_expectation():
    """Each supplier fails with probability 0.3: E[c] = sum_F 0.3^|F| 0.7^(3-|F|) c(F);
    P(some demand unmet) = P(A and C, or B and C fail) = 2 x 0.3^2 x 0.7 + 0.3^3 = 0.153."""
    data = three_suppliers()
    mc = disrupt(data, probability=0.3, samples=600, seed=7)
    exact = sum(0.3 ** len(f) * 0.7 ** (3 - len(f)) * c for f, c in HAND.items())
    pool = mc.table.set_index("who").loc["pool"]
    assert abs(pool["mean_cost"] - exact) <= 3 * pool["std_error"], (pool["mean_cost"], exact)
    p = 2 * 0.3 ** 2 * 0.7 + 0.3 ** 3
    assert abs(pool["p_unmet"] - p) <= 3 * np.sqrt(p * (1 - p) / 600)
    assert pool["p_no_plan"] == 0.0
    assert mc.distinct <= 8 and len(mc.samples) == 600
    # each sample's cost is the hand cost of its failure set
    for failed, cost in zip(mc.samples["failed"], mc.samples["total_cost"], strict=True):
        key = tuple(s for s in ("A", "B", "C") if s in failed.split(", "))
        assert cost == pytest.approx(HAND[key])


def test_disruption_is_deterministic_under_a_seed():
    data = three_suppliers()
    a = disrupt(data, probability=0.2, samples=50, seed=3)
    b = disrupt(data, probability=0.2, samples=50, seed=3)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    pd.testing.assert_frame_equal(a.table, b.table)
    c = disrupt(data, probability=0.2, samples=50, seed=4)
    assert not a.samples["failed"].equals(c.samples["failed"])


def test_disruption_uses_each_suppliers_failure_probability():
    data = three_suppliers()
    data = data.replace(suppliers=data.suppliers.assign(failure_probability=[1.0, 0.0, np.nan]))
    with pytest.raises(ValueError, match="no failure probability for C"):
        failure_probabilities(data)
    mc = disrupt(data, probability=0.0, samples=20, seed=1)  # C: the given 0; A always fails
    assert (mc.samples["failed"] == "A").all()
    assert mc.samples["total_cost"].tolist() == [152.0] * 20


def test_disruption_counts_re_plans_without_any_plan():
    """y is hard and only B makes it: every draw losing B has no plan at all."""
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=1), dict(supplier="B", item="y", unit_price=1)],
                demand=[("P", "y", 1, 1), ("Q", "x", 1, 1)], items={"x": {"shortfall_penalty": 5}})
    mc = disrupt(data, probability=0.5, samples=200, seed=2)
    lost_b = mc.samples["failed"].str.contains("B")
    assert (mc.samples.loc[lost_b, "status"] == "infeasible").all()
    pool = mc.table.set_index("who").loc["pool"]
    assert pool["p_no_plan"] == pytest.approx(lost_b.mean())
    out = mc.to_dict()
    assert out["pool"]["p_no_plan"] == pytest.approx(lost_b.mean())
    assert set(out["partners"]) == {"P", "Q"}
    json.dumps(out)


# --------------------------------------------------------------------------- CLI and charts


def _workbook(tmp_path, data: procure.ProcureData):
    from procure.data.writer import write_workbook as write_data

    path = tmp_path / "case.xlsx"
    write_data(data, path)
    return path


def test_cli_stress_json(tmp_path, capsys):
    path = _workbook(tmp_path, stress_case())
    assert main(["stress", str(path), "--json", "--countries"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["suppliers"]) == {"A", "B", "C", "D"} and "DE" in out["countries"]
    assert main(["stress", str(path)]) == 0
    text = capsys.readouterr().out
    assert "without B" in text and "infeasible" in text


def test_cli_disrupt_json_and_plot(tmp_path, capsys):
    path = _workbook(tmp_path, three_suppliers())
    plot = tmp_path / "mc.html"
    assert main(["disrupt", str(path), "--probability", "0.3", "--samples", "40", "--seed", "1",
                 "--json", "--plot", str(plot)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 40 and out["seed"] == 1 and "pool" in out
    assert plot.is_file() and "plotly" in plot.read_text()[:5000].lower()
    assert main(["disrupt", str(path), "--samples", "5"]) == 2  # no probability anywhere
    assert "failure probability" in capsys.readouterr().err


def test_charts():
    from procure.charts.security import disruption_histogram, stress_bars

    st = stress_test(stress_case())
    fig = stress_bars(st.table)
    assert len(fig.data) >= 1 and "B" in str(fig.to_dict())
    mc = disrupt(three_suppliers(), probability=0.3, samples=30, seed=1)
    hist = disruption_histogram(mc.samples)
    assert hist.data[0].type == "histogram"


def test_bad_workbook_is_exit_2(tmp_path, capsys):
    sheets = {"Partners": [["partner"], ["P"]]}
    path = write_workbook(tmp_path / "bad.xlsx", sheets)
    assert main(["stress", str(path)]) == 2
    assert "problem" in capsys.readouterr().err


def test_every_failure_set_of_the_hand_case_is_solved_once():
    data = three_suppliers()
    mc = disrupt(data, probability=0.5, samples=400, seed=11)
    seen = {tuple(sorted(f.split(", "))) if f else () for f in mc.samples["failed"]}
    assert mc.distinct == len(seen | {()})
    assert len(seen) == 8 and all(k in {tuple(sorted(c)) for c in
                                        (x for n in range(4) for x in itertools.combinations("ABC", n))}
                                  for k in seen)
