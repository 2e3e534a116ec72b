"""Reading workbooks: file checks, typed round trip, the template."""

from __future__ import annotations

import hashlib
import math
import zipfile

import openpyxl
import pytest
from workbooks import good_sheets, write_workbook

from procure.data.errors import InputError
from procure.data.io import read_tables, read_workbook
from procure.data.schema import SETTING_DEFAULTS, SHEET_ORDER, SHEETS
from procure.data.template import write_template
from procure.data.validate import validate_tables


@pytest.fixture
def good(tmp_path):
    return write_workbook(tmp_path / "good.xlsx", good_sheets())


def test_round_trip_types_and_defaults(good):
    data = read_workbook(good)
    # periods: numbers numerically, then text; 2026 number and "2026" text are one period
    assert data.periods == ("9", "10", "2026", "Q1")
    assert data.demand["period"].tolist() == ["10", "9", "Q1", "2026", "2026"]
    assert data.demand["source_row"].tolist() == [2, 3, 4, 5, 6]
    assert str(data.demand["source_row"].dtype) == "int64"
    for frame, ids in [
        (data.partners, ["partner", "country"]),
        (data.offers, ["supplier", "item", "first_period", "discount"]),
        (data.demand, ["partner", "item", "period"]),
        (data.transport, ["from_country", "to_partner", "item"]),
        (data.rules, ["rule", "partner", "item", "group", "name"]),
    ]:
        for col in ids:
            assert frame[col].dtype == object, col
            assert all(v is None or type(v) is str for v in frame[col]), col
    for frame, nums in [
        (data.offers, ["unit_price", "capacity", "capacity_use", "min_order", "setup_cost"]),
        (data.demand, ["quantity"]),
        (data.rules, ["share", "quantity"]),
    ]:
        for col in nums:
            assert str(frame[col].dtype) == "float64", col
    partners = data.partners.set_index("partner")
    assert partners.loc["PL", "country"] == "PL"  # default: the partner id
    assert partners.loc["PL", "budget"] == 5e9
    assert math.isnan(partners.loc["EE", "budget"])  # blank budget: none
    offers = data.offers.set_index(["supplier", "item"])
    rhm = offers.loc[("rhm", "shell155")]
    assert (rhm["capacity_use"], rhm["min_order"], rhm["setup_cost"]) == (1.0, 0.0, 0.0)
    assert rhm["first_period"] == "9" and rhm["discount"] == "all_units"
    assert offers.loc[("pgz", "shell155"), "first_period"] == "2026"
    assert offers.loc[("nammo", "radio"), "discount"] == "all_units"  # ALL_UNITS matched
    assert math.isnan(offers.loc[("nammo", "radio"), "capacity"])
    assert data.transport["item"].tolist() == [None, "radio"]
    assert data.price_tiers["min_quantity"].tolist() == [1000.0, 5000.0]
    assert data.rules["source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert data.rules["name"].tolist()[:2] == ["EU content", None]
    assert data.settings == {"time_limit": 30.0, "mip_gap": 0.01, "currency": "EUR"}
    assert data.warnings == ()


def test_number_and_text_ids_are_the_same(tmp_path):
    sheets = good_sheets()
    sheets["Partners"].append([2026, "numbered", None, None])
    sheets["Demand"].append(["2026", "radio", 9, 1.5])
    sheets["Suppliers"].append([7, "seven", 1.5, None])
    sheets["Offers"].append(["7", "radio", 1, None, None, None, None, None, None])
    data = read_workbook(write_workbook(tmp_path / "ids.xlsx", sheets))
    assert "2026" in data.partners["partner"].tolist()
    assert data.partners.set_index("partner").loc["2026", "country"] == "2026"
    assert data.suppliers.set_index("supplier").loc["7", "country"] == "1.5"
    assert data.demand["quantity"].iloc[-1] == 1.5


def test_settings_defaults(tmp_path):
    sheets = good_sheets()
    del sheets["Settings"]
    data = read_workbook(write_workbook(tmp_path / "s.xlsx", sheets))
    assert data.settings == SETTING_DEFAULTS
    # no time limit and the solver's own gap unless the planner sets them
    assert data.settings["time_limit"] is None and data.settings["mip_gap"] is None
    assert data.settings["currency"] == "EUR"


def test_names_match_ignoring_case_and_spaces(tmp_path):
    sheets = good_sheets()
    sheets[" demand "] = sheets.pop("Demand")
    sheets[" demand "][0] = [" Partner", "ITEM", "Period ", "quantity"]
    data = read_workbook(write_workbook(tmp_path / "c.xlsx", sheets))
    assert len(data.demand) == 5


@pytest.mark.parametrize("suffix", [".xlsm", ".xls", ".csv", ".txt"])
def test_other_formats_refused(tmp_path, suffix):
    path = tmp_path / f"in{suffix}"
    path.write_bytes(b"whatever")
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert "save as .xlsx (Excel Workbook)" in str(info.value)


def test_xlsm_says_why(tmp_path):
    path = write_workbook(tmp_path / "in.xlsm", good_sheets())
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert "macro" in str(info.value)


def test_not_a_zip(tmp_path):
    path = tmp_path / "in.xlsx"
    path.write_text("partner,item\nPL,shell155\n")
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert "not a zip" in str(info.value) and ".xlsx (Excel Workbook)" in str(info.value)


def test_corrupt_zip(tmp_path, good):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(InputError):
        read_workbook(path)
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(InputError):
        read_workbook(truncated)


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_workbook(tmp_path / "nope.xlsx")
    assert "not found" in str(info.value)


def test_input_file_unchanged(good):
    before = hashlib.sha256(good.read_bytes()).hexdigest()
    mtime = good.stat().st_mtime_ns
    read_workbook(good)
    read_tables(good)
    assert hashlib.sha256(good.read_bytes()).hexdigest() == before
    assert good.stat().st_mtime_ns == mtime


def test_read_tables_is_raw(good):
    tables = read_tables(good)
    demand = tables["Demand"]
    assert list(demand.columns) == ["partner", "item", "period", "quantity"]
    assert demand.index.tolist() == [2, 3, 4, 5, 6]
    assert demand.loc[2, "period"] == 10.0  # raw: not yet an id
    assert validate_tables(tables).periods == ("9", "10", "2026", "Q1")


def test_template_reads_back(tmp_path):
    path = write_template(tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Help", *SHEET_ORDER]
    offers = wb["Offers"]
    assert [c.value for c in offers[1]] == SHEETS["Offers"].column_names
    assert offers["A1"].font.bold and offers["A1"].comment is not None
    assert any("incremental" in dv.formula1 for dv in offers.data_validations.dataValidation)
    tables = read_tables(path)
    assert tables.warnings == [] and tables.problems == []
    for name in SHEET_ORDER:
        assert list(tables[name].columns) == SHEETS[name].column_names
    with pytest.raises(InputError) as info:
        validate_tables(tables)
    found = info.value.problems
    assert {p.sheet for p in found} == {n for n in SHEET_ORDER if SHEETS[n].required}
    assert all("has no rows" in p.message for p in found)


def test_template_filled_in_is_valid(tmp_path):
    path = write_template(tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    for name, rows in good_sheets().items():
        ws = wb[name]
        header = [c.value for c in ws[1]]
        for r, row in enumerate(rows[1:], start=2):
            for name_, value in zip(rows[0], row, strict=True):
                ws.cell(row=r, column=header.index(name_) + 1, value=value)
    wb.save(path)
    data = read_workbook(path)
    assert data.periods == ("9", "10", "2026", "Q1")
