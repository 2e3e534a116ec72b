"""Every kind of bad input gives an InputError naming sheet, Excel row and column."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from workbooks import good_sheets, set_cell, write_workbook

from procure.data.errors import InputError, Problem
from procure.data.io import read_workbook
from procure.data.validate import validate_tables


def problems(tmp_path, sheets) -> list[Problem]:
    path = write_workbook(tmp_path / "in.xlsx", sheets)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    return info.value.problems


def one(tmp_path, sheets) -> Problem:
    found = problems(tmp_path, sheets)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def assert_located(p: Problem, sheet, row, column, *words):
    assert (p.sheet, p.row, p.column) == (sheet, row, column), str(p)
    text = str(p)
    assert f"sheet '{sheet}'" in text
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text
    for w in words:
        assert w in text, text
    assert p.fix


# (sheet, row, column, bad value, words in the message) -- one cell changed in a good workbook
CELL_CASES = {
    "blank required": ("Demand", 3, "quantity", None, ["required but blank"]),
    "text in number": ("Offers", 2, "unit_price", "cheap", ["text in a number column", "'cheap'"]),
    "number as text": ("Offers", 3, "unit_price", "4200", ["stored as text", "Convert to Number"]),
    "bool in number": ("Demand", 4, "quantity", True, ["TRUE/FALSE"]),
    "date in number": ("Offers", 2, "setup_cost", dt.datetime(2026, 1, 2), ["date"]),
    "date as id": ("Demand", 2, "period", dt.datetime(2027, 1, 1), ["date", "Text"]),
    "negative": ("Demand", 2, "quantity", -5, ["must be >= 0", "-5"]),
    "share above 1": ("Rules", 2, "share", 65, ["<= 1", "0.65"]),
    "unknown discount": ("Offers", 3, "discount", "bulk", ["all_units, incremental"]),
    "unknown rule": ("Rules", 3, "rule", "forbid", ["ban, min_share"]),
    "unknown setting": ("Settings", 3, "key", "gap", ["time_limit, mip_gap, currency"]),
    "unknown supplier": ("Offers", 2, "supplier", "rhm2", ["unknown supplier 'rhm2'", "Suppliers"]),
    "unknown partner": ("Demand", 5, "partner", "FI", ["unknown partner 'FI'", "Partners"]),
    "unknown item": ("Demand", 5, "item", "tank", ["unknown item 'tank'"]),
    "unknown rule partner": ("Rules", 4, "partner", "XX", ["unknown partner 'XX'"]),
    "unknown rule item": ("Rules", 2, "item", "ammo2", ["unknown item or category 'ammo2'"]),
    "unknown transport partner": ("Transport", 2, "to_partner", "NO", ["unknown partner 'NO'"]),
    "unknown transport item": ("Transport", 3, "item", "radios", ["unknown item 'radios'"]),
    "case-only id mismatch": ("Demand", 2, "partner", "pl", ["case-sensitive", "'PL'"]),
    "spaces around id": ("Offers", 2, "item", " shell155 ", ["spaces", "'shell155'"]),
    "first_period not a demand period": ("Offers", 2, "first_period", 2030, ["unknown period '2030'"]),
    "capacity period not a demand period": ("Capacity", 2, "period", "Q2", ["unknown period 'Q2'"]),
    "tier at zero": ("PriceTiers", 2, "min_quantity", 0, ["min_quantity must be > 0", "Offers.unit_price"]),
    "tier price rises": ("PriceTiers", 3, "unit_price", 3950, ["must not increase", "row 2"]),
    "tier above base price": ("PriceTiers", 2, "unit_price", 4100, ["Offers.unit_price"]),
    "unknown group": ("Rules", 2, "group", "EUR", ["unknown group", "'EUR'"]),
    "each_supplier in min_share": ("Rules", 2, "group", "each_supplier", ["only for max_share"]),
    "share rule without group": ("Rules", 2, "group", None, ["min_value_share needs a group"]),
    "ban without group": ("Rules", 3, "group", None, ["ban needs a group"]),
    "min_quantity without group": ("Rules", 7, "group", None, ["min_quantity needs a group"]),
    "min_quantity without quantity": ("Rules", 7, "quantity", None, ["needs a quantity"]),
    "share rule without share": ("Rules", 4, "share", None, ["max_share needs a share"]),
    "workshare without share": ("Rules", 6, "share", None, ["workshare needs a share"]),
    "min_suppliers fractional": ("Rules", 5, "quantity", 1.5, ["whole number"]),
    "min_suppliers without quantity": ("Rules", 5, "quantity", None, ["number of suppliers"]),
    "time_limit zero": ("Settings", 2, "value", 0, ["time_limit", "> 0"]),
    "time_limit text": ("Settings", 2, "value", "soon", ["time_limit"]),
    "mip_gap one": ("Settings", 3, "value", 1, ["mip_gap", "[0, 1)"]),
    "infinite via text": ("Demand", 2, "quantity", "inf", ["stored as text"]),
}


@pytest.mark.parametrize("case", list(CELL_CASES), ids=list(CELL_CASES))
def test_bad_cell(tmp_path, case):
    sheet, row, column, value, words = CELL_CASES[case]
    sheets = set_cell(good_sheets(), sheet, row, column, value)
    assert_located(one(tmp_path, sheets), sheet, row, column, *words)


def test_domestic_needs_partner(tmp_path):
    sheets = set_cell(good_sheets(), "Rules", 4, "group", "domestic")
    sheets = set_cell(sheets, "Rules", 4, "partner", None)
    assert_located(one(tmp_path, sheets), "Rules", 4, "partner", "domestic needs a partner")


def test_domestic_ban_without_partner_is_fine(tmp_path):
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", good_sheets()))
    ban = data.rules[data.rules["rule"] == "ban"].iloc[0]
    assert ban["group"] == "domestic" and ban["partner"] is None


def test_missing_required_sheet(tmp_path):
    sheets = good_sheets()
    del sheets["Items"]
    found = problems(tmp_path, sheets)
    assert any(p.sheet == "Items" and p.row is None and "missing" in p.message for p in found)
    # no cascade of unknown-item errors when the whole Items sheet is missing
    assert len(found) == 1, "\n".join(map(str, found))


def test_missing_required_column(tmp_path):
    sheets = good_sheets()
    for row in sheets["Offers"]:
        del row[2]  # unit_price
    assert_located(one(tmp_path, sheets), "Offers", 1, "unit_price", "missing")


def test_misspelt_column_is_suggested(tmp_path):
    sheets = good_sheets()
    sheets["Demand"][0][3] = "qty"
    p = one(tmp_path, sheets)
    assert_located(p, "Demand", 1, "quantity", "missing", "'qty'")


def test_duplicate_column(tmp_path):
    sheets = good_sheets()
    sheets["Demand"][0].append("Quantity ")
    assert_located(one(tmp_path, sheets), "Demand", 1, "quantity", "appears twice")


def test_data_under_blank_header(tmp_path):
    sheets = good_sheets()
    sheets["Demand"][0].append(None)
    sheets["Demand"][3].append("oops")
    p = one(tmp_path, sheets)
    assert (p.sheet, p.row, p.column) == ("Demand", 4, "E (no header)")
    assert "blank header" in str(p)


def test_duplicate_key_names_both_rows(tmp_path):
    sheets = good_sheets()
    sheets["Demand"].append(["PL", "shell155", "10", 7])  # same as row 2 (10 as text)
    p = one(tmp_path, sheets)
    assert (p.sheet, p.row) == ("Demand", 7)
    assert "row 2" in p.message and "not a sum" in p.message


def test_ids_differing_only_by_case(tmp_path):
    sheets = good_sheets()
    sheets["Partners"].append(["pl", "Poland again", None, None])
    p = one(tmp_path, sheets)
    assert (p.sheet, p.row, p.column) == ("Partners", 5, "partner")
    assert "ambiguous" in p.message and "row 2" in p.message


def test_tiers_for_missing_offer(tmp_path):
    sheets = good_sheets()
    sheets["PriceTiers"].append(["nammo", "shell155", 10, 1])
    p = one(tmp_path, sheets)
    assert (p.sheet, p.row) == ("PriceTiers", 4)
    assert "no Offers row" in p.message


def test_colliding_sheet_names(tmp_path):
    sheets = good_sheets()
    sheets[" demand "] = good_sheets()["Demand"]
    p = one(tmp_path, sheets)
    assert p.sheet == "Demand" and "two sheets" in p.message


def test_empty_first_row(tmp_path):
    sheets = good_sheets()
    sheets["Blocs"].insert(0, [None, None])
    p = one(tmp_path, sheets)
    assert (p.sheet, p.row) == ("Blocs", 1) and "column names" in p.message


def test_empty_demand(tmp_path):
    sheets = good_sheets()
    sheets["Demand"] = sheets["Demand"][:1]
    sheets["Offers"] = [r[:8] for r in sheets["Offers"]]  # no first_period to check
    sheets["Capacity"] = sheets["Capacity"][:1]
    p = one(tmp_path, sheets)
    assert p.sheet == "Demand" and "Demand has no rows" in p.message


def test_workshare_group_is_a_warning(tmp_path):
    sheets = set_cell(good_sheets(), "Rules", 6, "group", "EU")
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", sheets))
    assert any("workshare ignores group" in w and "row 6" in w for w in data.warnings)


def test_unknown_columns_and_sheets_warn(tmp_path):
    sheets = good_sheets()
    sheets["Notes"] = [["anything"], ["at all"]]
    sheets["Items"][0].append("colour")
    sheets["Items"][1].append("green")
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", sheets))
    assert any("'Notes'" in w for w in data.warnings)
    assert any("'colour'" in w and "Items" in w for w in data.warnings)


def test_all_problems_at_once(tmp_path):
    sheets = good_sheets()
    set_cell(sheets, "Demand", 2, "quantity", -1)
    set_cell(sheets, "Offers", 3, "discount", "bulk")
    set_cell(sheets, "Rules", 2, "share", 2)
    set_cell(sheets, "Suppliers", 3, "country", None)
    set_cell(sheets, "Transport", 2, "to_partner", "ZZ")
    found = problems(tmp_path, sheets)
    assert len(found) == 5, "\n".join(map(str, found))
    assert {(p.sheet, p.row, p.column) for p in found} == {
        ("Demand", 2, "quantity"),
        ("Offers", 3, "discount"),
        ("Rules", 2, "share"),
        ("Suppliers", 3, "country"),
        ("Transport", 2, "to_partner"),
    }
    message = str(InputError(found))
    assert message.startswith("5 problems in the input")


def test_empty_rows_keep_excel_row_numbers(tmp_path):
    sheets = good_sheets()
    sheets["Demand"].insert(2, [None] * 4)  # blank Excel row 3
    sheets["Demand"][4][3] = "many"  # Excel row 5
    p = one(tmp_path, sheets)
    assert (p.sheet, p.row, p.column) == ("Demand", 5, "quantity")


# --------------------------------------------------------------------------- DataFrames


def frames() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(rows[1:], columns=rows[0]) for name, rows in good_sheets().items()}


def test_frames_validate_like_workbooks():
    tables = frames()
    tables = {name.upper(): df for name, df in tables.items()}  # sheet names ignore case
    data = validate_tables(tables)
    assert data.periods == ("9", "10", "2026", "Q1")
    assert list(data.demand["source_row"]) == [2, 3, 4, 5, 6]


def test_frames_rows_are_position_plus_two():
    tables = frames()
    demand = tables["Demand"].copy()
    demand["quantity"] = demand["quantity"].astype(float)
    demand.loc[3, "quantity"] = math.inf
    tables["Demand"] = demand
    with pytest.raises(InputError) as info:
        validate_tables(tables)
    (p,) = info.value.problems
    assert (p.sheet, p.row, p.column) == ("Demand", 5, "quantity")
    assert "finite" in p.message


def test_frames_string_dtype_and_nan_blanks():
    tables = frames()
    tables["Partners"] = pd.DataFrame(
        {"partner": pd.array(["PL", "EE", "DE"], dtype="str"),
         "budget": [5e9, math.nan, math.nan]})
    data = validate_tables(tables)
    assert data.partners["country"].tolist() == ["PL", "EE", "DE"]
    assert data.partners["partner"].dtype == object
    assert math.isnan(data.partners["budget"].iloc[1])


def test_frames_not_a_dataframe():
    tables = frames()
    tables["Blocs"] = [["EU", "DE"]]
    with pytest.raises(InputError) as info:
        validate_tables(tables)
    assert any(p.sheet == "Blocs" and "not a table" in p.message for p in info.value.problems)
