"""Validation of the supply-chain security and standards input: Items.whole_units,
Offers.surge, Suppliers.failure_probability, the Substitutes sheet and the n_minus_1 rule.

Every bad cell gives one problem naming the sheet, the Excel row, the column and a fix; a
good workbook reads the new columns into typed tables.
"""

from __future__ import annotations

import copy

import pytest
from workbooks import good_sheets, set_cell, write_workbook

from procure.data.errors import InputError, Problem
from procure.data.io import read_workbook


def sheets() -> dict[str, list[list]]:
    """The tests' good workbook with every new column and a Substitutes sheet."""
    s = copy.deepcopy(good_sheets())
    s["Items"][0].append("whole_units")
    s["Items"][1].append("no")  # shell155
    s["Items"][2].append("yes")  # radio
    s["Items"].append(["shell155b", "155 mm shell (other standard)", "round", "ammo", None, None])
    s["Offers"][0].append("surge")
    for row, surge in zip(s["Offers"][1:], (5000, None, 3), strict=True):
        row.append(surge)
    s["Suppliers"][0].append("failure_probability")
    for row, prob in zip(s["Suppliers"][1:], (0.05, None, 0.2), strict=True):
        row.append(prob)
    s["Substitutes"] = [
        ["item", "substitute", "partner"],
        ["shell155", "shell155b", None],
        ["shell155b", "shell155", "PL"],
    ]
    s["Rules"].append(["n_minus_1", None, "radio", None, 0.1, None, "N-1 radios"])
    return s


def problems(tmp_path, workbook) -> list[Problem]:
    with pytest.raises(InputError) as info:
        read_workbook(write_workbook(tmp_path / "in.xlsx", workbook))
    return info.value.problems


def one(tmp_path, workbook) -> Problem:
    found = problems(tmp_path, workbook)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def test_good_workbook_reads_the_new_columns(tmp_path):
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", sheets()))
    whole = dict(zip(data.items["item"], data.items["whole_units"], strict=True))
    assert whole == {"shell155": False, "radio": True, "shell155b": False}
    assert data.items["whole_units"].dtype == bool
    assert data.offers["surge"].tolist() == [5000.0, 0.0, 3.0]  # blank: 0
    prob = data.suppliers["failure_probability"].tolist()
    assert prob[0] == 0.05 and prob[1] != prob[1] and prob[2] == 0.2  # blank: NaN (use --probability)
    subs = data.substitutes
    assert subs[["item", "substitute"]].values.tolist() == [["shell155", "shell155b"],
                                                             ["shell155b", "shell155"]]
    assert subs["partner"].tolist() == [None, "PL"]
    assert subs["source_row"].tolist() == [2, 3]
    rule = data.rules[data.rules["rule"] == "n_minus_1"].iloc[0]
    assert rule["share"] == 0.1 and rule["item"] == "radio"
    assert not data.warnings


@pytest.mark.parametrize("value, expected", [
    ("YES", True), ("No", False), (True, True), (False, False), (1, True), (0, False), (None, False),
])
def test_whole_units_accepts_yes_no_true_false(tmp_path, value, expected):
    s = set_cell(sheets(), "Items", 3, "whole_units", value)
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", s))
    assert bool(data.items.set_index("item").at["radio", "whole_units"]) is expected


# (sheet, row, column, bad value, words in the message)
CASES = {
    "whole_units not yes/no": ("Items", 3, "whole_units", "sometimes", ["yes or no"]),
    "negative surge": ("Offers", 2, "surge", -10, ["must be >= 0"]),
    "surge as text": ("Offers", 2, "surge", "lots", ["text in a number column"]),
    "failure probability above 1": ("Suppliers", 2, "failure_probability", 1.5, ["<= 1"]),
    "failure probability negative": ("Suppliers", 3, "failure_probability", -0.1, [">= 0"]),
    "unknown substitute": ("Substitutes", 2, "substitute", "shell152", ["unknown item 'shell152'"]),
    "unknown substituted item": ("Substitutes", 3, "item", "shel155b", ["unknown item 'shel155b'"]),
    "unknown substitutes partner": ("Substitutes", 3, "partner", "FI", ["unknown partner 'FI'"]),
    "substitute equal to its item": ("Substitutes", 2, "substitute", "shell155",
                                     ["cannot substitute for itself"]),
    "blank substitute": ("Substitutes", 2, "substitute", None, ["required but blank"]),
    "n_minus_1 share above 1": ("Rules", 8, "share", 1.2, ["<= 1"]),
    "n_minus_1 share negative": ("Rules", 8, "share", -0.5, [">= 0"]),
    "n_minus_1 without share": ("Rules", 8, "share", None, ["n_minus_1 needs a share"]),
    "n_minus_1 unknown group": ("Rules", 8, "group", "nobody", ["unknown group"]),
    "fractional demand of a whole-units item": ("Demand", 5, "quantity", 30.5,
                                                ["whole units", "whole number", "30 or 31"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_cell(tmp_path, case):
    sheet, row, column, value, words = CASES[case]
    p = one(tmp_path, set_cell(sheets(), sheet, row, column, value))
    assert (p.sheet, p.row, p.column) == (sheet, row, column), str(p)
    for word in words:
        assert word in str(p), str(p)
    assert p.fix


def test_duplicate_substitutes_row(tmp_path):
    s = sheets()
    s["Substitutes"].append(["shell155b", "shell155", "PL"])
    p = one(tmp_path, s)
    assert (p.sheet, p.row) == ("Substitutes", 4) and "duplicate key" in p.message
    assert "row 3" in p.message


def test_fractional_demand_of_an_ordinary_item_is_fine(tmp_path):
    s = set_cell(sheets(), "Demand", 2, "quantity", 1000.5)  # shell155: whole_units no
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", s))
    assert 1000.5 in data.demand["quantity"].tolist()


def test_redundant_and_unit_changing_substitutes_warn(tmp_path):
    s = sheets()
    s["Substitutes"].append(["shell155", "shell155b", "EE"])  # row 2 covers every partner
    s["Substitutes"].append(["radio", "shell155", None])  # a set for a round
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", s))
    text = "\n".join(data.warnings)
    assert "row 4" in text and "row 2 already lets every partner" in text
    assert "row 5" in text and "one for one" in text


def test_n_minus_1_groups(tmp_path):
    for group in ("each_supplier", "each_country", "EU", "rhm", "DE"):
        s = set_cell(sheets(), "Rules", 8, "group", group)
        read_workbook(write_workbook(tmp_path / "in.xlsx", s))
    s = set_cell(sheets(), "Rules", 8, "group", "domestic")
    p = one(tmp_path, s)
    assert (p.sheet, p.row, p.column) == ("Rules", 8, "partner") and "domestic" in p.message


def test_n_minus_1_ignores_quantity_with_a_warning(tmp_path):
    s = set_cell(sheets(), "Rules", 8, "quantity", 5)
    data = read_workbook(write_workbook(tmp_path / "in.xlsx", s))
    assert any("n_minus_1 ignores quantity" in w for w in data.warnings)


def test_every_problem_at_once(tmp_path):
    s = set_cell(sheets(), "Offers", 2, "surge", -1)
    s = set_cell(s, "Substitutes", 2, "substitute", "shell155")
    s = set_cell(s, "Rules", 8, "share", 2)
    s = set_cell(s, "Demand", 6, "quantity", 0.5)
    found = problems(tmp_path, s)
    assert {(p.sheet, p.row) for p in found} == {("Offers", 2), ("Substitutes", 2), ("Rules", 8),
                                                 ("Demand", 6)}
