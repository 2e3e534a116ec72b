"""Helpers for tests: small workbooks written with openpyxl."""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl


def good_sheets() -> dict[str, list[list]]:
    """A small valid dataset: sheet -> rows (first row = header)."""
    return {
        "Partners": [
            ["partner", "name", "country", "budget"],
            ["PL", "Poland", None, 5e9],
            ["EE", "Estonia", "EE", None],
            ["DE", "Germany", "DE", None],
        ],
        "Items": [
            ["item", "name", "unit", "category", "shortfall_penalty"],
            ["shell155", "155 mm shell", "round", "ammo", None],
            ["radio", "Radio", "set", "comms", 20000],
        ],
        "Suppliers": [
            ["supplier", "name", "country", "capacity"],
            ["rhm", "Rheinmetall", "DE", 900000],
            ["pgz", "PGZ", "PL", None],
            ["nammo", "Nammo", "NO", None],
        ],
        "Offers": [
            ["supplier", "item", "unit_price", "capacity", "capacity_use", "min_order",
             "setup_cost", "first_period", "discount"],
            ["rhm", "shell155", 4000, 300000, None, None, None, None, None],
            ["pgz", "shell155", 4200, 100000, None, 1000, 5e6, 2026, "incremental"],
            ["nammo", "radio", 15000, None, 2, None, None, None, "ALL_UNITS"],
        ],
        "Demand": [
            ["partner", "item", "period", "quantity"],
            ["PL", "shell155", 10, 1000],
            ["PL", "shell155", 9, 500],
            ["EE", "shell155", "Q1", 200],
            ["EE", "radio", "2026", 30],
            ["DE", "radio", 2026, 40],
        ],
        "Capacity": [
            ["supplier", "item", "period", "capacity"],
            ["rhm", "shell155", 9, 1000],
        ],
        "PriceTiers": [
            ["supplier", "item", "min_quantity", "unit_price"],
            ["rhm", "shell155", 1000, 3900],
            ["rhm", "shell155", 5000, 3800],
        ],
        "Transport": [
            ["from_country", "to_partner", "cost_per_unit", "item"],
            ["DE", "PL", 10, None],
            ["DE", "PL", 12, "radio"],
        ],
        "Blocs": [
            ["bloc", "country"],
            ["EU", "DE"],
            ["EU", "PL"],
            ["NATO", "NO"],
        ],
        "Rules": [
            ["rule", "partner", "item", "group", "share", "quantity", "name"],
            ["min_value_share", None, "ammo", "EU", 0.65, None, "EU content"],
            ["ban", None, None, "domestic", None, None, None],
            ["max_share", "PL", "shell155", "each_supplier", 0.6, None, None],
            ["min_suppliers", None, "shell155", None, None, 2, None],
            ["workshare", "PL", None, None, 0.5, None, None],
            ["min_quantity", "EE", "shell155", "rhm", None, 100, None],
        ],
        "Settings": [
            ["key", "value"],
            ["time_limit", 30],
            ["mip_gap", "0.01"],
            ["currency", "EUR"],
        ],
    }


def sheets_copy(**changes) -> dict[str, list[list]]:
    """The good dataset with some sheets replaced (``None`` removes a sheet)."""
    sheets = copy.deepcopy(good_sheets())
    for name, rows in changes.items():
        if rows is None:
            sheets.pop(name, None)
        else:
            sheets[name] = rows
    return sheets


def write_workbook(path: str | Path, sheets: dict[str, list[list]]) -> Path:
    """Write ``sheets`` (name -> rows, row 0 = Excel row 1) to ``path`` with openpyxl."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    wb.save(path)
    return Path(path)


def set_cell(sheets: dict[str, list[list]], sheet: str, row: int, column: str, value):
    """Set the cell at Excel ``row`` under header ``column`` (adding rows as needed)."""
    rows = sheets[sheet]
    j = rows[0].index(column)
    while len(rows) < row:
        rows.append([None] * len(rows[0]))
    rows[row - 1][j] = value
    return sheets
