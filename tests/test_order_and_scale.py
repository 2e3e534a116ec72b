"""The same workbook gives the same plan whatever the hash seed; small quantities are kept
while solver noise is not; a rule's group that names two kinds of thing is warned about
(issue 7)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import procure
from procure.data.tables import period_sort_key
from procure.engine.model import build_model
from procure.engine.results import ZERO_RTOL, clean_values

try:
    from tests.checker import check_solution
    from tests.tiny import rule, tiny
    from tests.workbooks import write_workbook
except ImportError:  # tests/ is not a package
    from checker import check_solution
    from tiny import rule, tiny
    from workbooks import write_workbook

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- period order


def test_period_order_is_a_total_order_on_labels():
    """Numbers numerically (ties on the label), then text; "nan", "inf", "1e999", "1_000"
    and non-ASCII digits are text."""
    labels = ["nan", "5", "05", "inf", "-inf", "Q1", "2027", "1e3", "1_000", "-1", ".5",
              "NaN", "1e999", "\u0663", "5.0"]
    expected = ["-1", ".5", "05", "5", "5.0", "1e3", "2027",
                "-inf", "1_000", "1e999", "NaN", "Q1", "inf", "nan", "\u0663"]
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(labels)
        assert sorted(set(labels), key=period_sort_key) == expected


def _period_workbook(path: Path) -> Path:
    """Periods 5, 05, nan, Q1: in order 05, 5, Q1, nan. One unit a period. A (price 1) from
    period 5 on serves 5, Q1 and nan; C (0.5) from nan serves nan; B (100) serves all.
    Cheapest: 05 from B (100), 5 and Q1 from A (1 + 1), nan from C (0.5) = 102.5. Were nan
    first, C would serve every period (2.0); were 5 before 05, A would serve 05 (4 in all)."""
    return write_workbook(path, {
        "Partners": [["partner"], ["PL"]],
        "Items": [["item"], ["shell"]],
        "Suppliers": [["supplier", "country"], ["A", "DE"], ["B", "DE"], ["C", "DE"]],
        "Offers": [["supplier", "item", "unit_price", "first_period"],
                   ["A", "shell", 1, "5"], ["B", "shell", 100, None], ["C", "shell", 0.5, "nan"]],
        "Demand": [["partner", "item", "period", "quantity"],
                   ["PL", "shell", "5", 1], ["PL", "shell", "nan", 1], ["PL", "shell", "05", 1],
                   ["PL", "shell", "Q1", 1]],
    })


def test_same_plan_under_every_hash_seed(tmp_path):
    path = _period_workbook(tmp_path / "periods.xlsx")
    script = (
        "import json, sys, procure\n"
        "d = procure.read_workbook(sys.argv[1]); r = procure.solve(d)\n"
        "a = r.allocation[['period', 'supplier', 'quantity']].to_dict('records')\n"
        "print(json.dumps({'periods': list(d.periods), 'cost': r.total_cost, 'alloc': a}))\n"
    )
    seen = []
    for seed in ("0", "1", "12345"):
        run = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, text=True,
                             capture_output=True, timeout=120,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stderr
        seen.append(json.loads(run.stdout))
    first = seen[0]
    assert first["periods"] == ["05", "5", "Q1", "nan"]
    assert first["cost"] == pytest.approx(102.5, rel=1e-12)
    assert {(a["period"], a["supplier"]) for a in first["alloc"]} == {
        ("05", "B"), ("5", "A"), ("Q1", "A"), ("nan", "C")}
    assert all(s == first for s in seen[1:])


# --------------------------------------------------------------------------- small quantities


def test_a_tiny_demand_is_delivered():
    """5e-8 units (a fraction of a lot) at 10 each: delivered in full, cost 5e-7. An absolute
    1e-7 threshold showed it as not delivered."""
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=10.0)],
                demand=[("PL", "x", 2027, 5e-8), ("PL", "x", 2028, 1e6)])
    result = procure.solve(data)
    assert result.status == procure.Status.OPTIMAL
    f = result.fulfilment.set_index("period")
    assert f.loc["2027", "delivered"] == pytest.approx(5e-8, rel=1e-9)
    assert f.loc["2027", "shortfall"] == 0
    a = result.allocation.set_index("period")
    assert a.loc["2027", "quantity"] == pytest.approx(5e-8, rel=1e-9)
    assert result.total_cost == pytest.approx(10 * (1e6 + 5e-8), rel=1e-12)
    check_solution(data, result)


def test_noise_on_a_million_unit_row_reads_as_zero():
    """The same threshold, relative to each row: 1e-6 units beside a million-unit row are
    noise (0); 5e-8 units on a 5e-8-unit row are the whole delivery."""
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=1.0),
                        dict(supplier="B", item="x", unit_price=2.0)],
                demand=[("PL", "x", 1, 1e6), ("PL", "x", 2, 5e-8)])
    model = build_model(data)
    x = model.variables["x"].index
    values = np.zeros(model.num_cols)
    big, small = (x["period"] == "1").to_numpy(), (x["period"] == "2").to_numpy()
    a, b = (x["supplier"] == "A").to_numpy(), (x["supplier"] == "B").to_numpy()
    values[np.flatnonzero(big & a)] = 1e6 - 1e-6
    values[np.flatnonzero(big & b)] = 1e-6
    values[np.flatnonzero(small & a)] = 5e-8
    values[np.flatnonzero(small & b)] = 5e-8 * ZERO_RTOL / 2  # noise on the small row
    clean = clean_values(values, model)
    assert clean[np.flatnonzero(big & b)] == 0 and clean[np.flatnonzero(big & a)] > 0
    assert clean[np.flatnonzero(small & a)] == 5e-8 and clean[np.flatnonzero(small & b)] == 0


# --------------------------------------------------------------------------- ambiguous groups


def _with_group(group: str, *, blocs=(("EU", "DE"),), suppliers=None, partners=None):
    return tiny(offers=[dict(supplier="A", item="x", unit_price=1.0),
                        dict(supplier="EU", item="x", unit_price=2.0)],
                demand=[("PL", "x", 1, 5)], suppliers=suppliers or {"A": "DE", "EU": "FR"},
                partners=partners, blocs=list(blocs),
                rules=[rule("ban", partner="PL", group=group)])


def test_group_naming_a_partners_country_and_a_bloc_warns_that_it_bans_nothing():
    """The issue's case: partner 'EU' (its country defaults to its id) and a bloc 'EU' of DE.
    The rule resolves to the country EU, where no supplier is: it bans nothing, and says so."""
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=1.0)],
                demand=[("PL", "x", 1, 5), ("EU", "x", 1, 3)], suppliers={"A": "DE"},
                blocs=[("EU", "DE")], rules=[rule("ban", partner="PL", group="EU")])
    (warning,) = data.warnings
    assert warning.startswith("sheet 'Rules' row 2: group 'EU' names the country 'EU' of "
                              "partner 'EU'")
    assert "it is read as the country" in warning and "(it bans nothing)" in warning
    assert "rename it in sheet Blocs" in warning
    result = procure.solve(data)
    assert result.warnings == data.warnings
    assert result.allocation["quantity"].sum() == 8  # A delivers to PL too: nothing banned


def test_group_naming_a_supplier_and_a_bloc_warns():
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=1.0),
                        dict(supplier="EU", item="x", unit_price=2.0)],
                demand=[("PL", "x", 1, 5)], suppliers={"A": "DE", "EU": "FR"},
                blocs=[("EU", "DE")], rules=[rule("ban", partner="PL", group="EU")])
    (warning,) = data.warnings
    assert "names supplier 'EU' (sheet Suppliers) and the bloc 'EU'" in warning
    assert "read as the supplier" in warning and "rename it in sheet Blocs" in warning
    assert procure.solve(data).allocation.set_index("supplier")["quantity"].to_dict() == {"A": 5}


def test_group_naming_a_supplier_and_a_country_warns():
    data = tiny(offers=[dict(supplier="DE", item="x", unit_price=1.0),
                        dict(supplier="B", item="x", unit_price=2.0)],
                demand=[("PL", "x", 1, 5)], suppliers={"DE": "FR", "B": "DE"},
                rules=[rule("max_share", partner="PL", group="DE", share=0.5)])
    (warning,) = data.warnings
    assert "names supplier 'DE' (sheet Suppliers) and the country 'DE' of a supplier" in warning
    assert "to mean the country, rename supplier 'DE' in sheet Suppliers" in warning


def test_an_unambiguous_group_gives_no_warning():
    data = tiny(offers=[dict(supplier="A", item="x", unit_price=1.0)],
                demand=[("PL", "x", 1, 5)], suppliers={"A": "DE"}, blocs=[("EU", "DE")],
                rules=[rule("min_share", partner="PL", group="EU", share=0.5),
                       rule("min_share", partner="PL", group="DE", share=0.5),
                       rule("min_share", partner="PL", group="A", share=0.5)])
    assert data.warnings == ()
