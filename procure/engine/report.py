"""The results workbook: a Summary sheet, then one formatted sheet per result table.

Every text cell that came from the user (ids, names, rule labels) is written as
plain text with Excel's quote prefix when it starts like a formula (``=``,
``+``, ``-``, ``@``, tab, carriage return): the text is kept exactly as given and
can never run as a formula, in Excel or after an edit. Control characters (a leading
carriage return among them) are written in OOXML's ``_xHHHH_`` escape, which Excel and
python-calamine decode (openpyxl does not: ``openpyxl.utils.escape.unescape`` does).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_MONEY = '#,##0.00'
_QUANTITY = '#,##0.###'
_PERCENT = '0.0%'
_MONEY_COLUMNS = {
    "unit_price", "base_price", "transport", "cost", "purchase_cost", "setup_cost", "purchase",
    "setup", "shortfall_cost", "total", "budget", "budget_value", "marginal_cost", "marginal_value",
    "dual",
}
_PERCENT_COLUMNS = {"utilisation"}


# OOXML escapes a character as _xHHHH_ in cell text. A carriage return written raw comes
# back as a line feed (XML parsers normalise line ends) and other control characters are not
# allowed in XML at all (openpyxl refuses them), so they are written escaped; a literal
# "_xHHHH_" in the text gets its "_" escaped so that Excel does not decode it.
_LITERAL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # all but tab and line feed


def ooxml_text(text: str) -> str:
    """``text`` as Excel must find it in the file to show exactly ``text``."""
    text = _LITERAL_ESCAPE.sub("_x005F_", text)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def write_cell(ws, row: int, col: int, value) -> None:
    """Write one value safely: user text can never become a formula."""
    cell = ws.cell(row=row, column=col)
    value = _plain(value)
    if isinstance(value, str):
        cell.value = ooxml_text(value)
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
        return
    cell.value = value


def _plain(value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) else ("inf" if math.isinf(v) else v)
    if isinstance(value, str):
        return value
    if pd.isna(value) if not isinstance(value, (list, dict, tuple)) else False:
        return None
    return str(value)


def write_table(ws, table: pd.DataFrame, *, first_row: int = 1) -> None:
    columns = list(table.columns)
    for j, name in enumerate(columns, start=1):
        write_cell(ws, first_row, j, str(name))
        head = ws.cell(row=first_row, column=j)
        head.font = _HEADER_FONT
        head.fill = _HEADER_FILL
        head.alignment = Alignment(horizontal="center")
    values = table.to_numpy(dtype=object)
    for i, row in enumerate(values, start=first_row + 1):
        for j, v in enumerate(row, start=1):
            write_cell(ws, i, j, v)
    for j, name in enumerate(columns, start=1):
        fmt = (_MONEY if name in _MONEY_COLUMNS else _PERCENT if name in _PERCENT_COLUMNS
               else _QUANTITY if pd.api.types.is_float_dtype(table[name].dtype) else None)
        letter = get_column_letter(j)
        if fmt:
            for cell in ws[letter][first_row:]:
                cell.number_format = fmt
        width = max([len(str(name))] + [len(str(v)) for v in values[:200, j - 1]] if len(values) else [len(str(name))])
        ws.column_dimensions[letter].width = min(max(10, width + 2), 60)
    ws.freeze_panes = ws.cell(row=first_row + 1, column=1)
    if columns and len(values):
        ws.auto_filter.ref = f"A{first_row}:{get_column_letter(len(columns))}{first_row + len(values)}"


def write_results(result, path, extra: dict[str, pd.DataFrame] | None = None) -> Path:
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    summary = result.summary()
    rows = [
        ("status", summary["status"]),
        ("message", summary["message"]),
        ("currency", summary["currency"]),
        ("total_cost", summary["total_cost"]),
        ("purchase", summary["purchase"]),
        ("setup", summary["setup"]),
        ("transport", summary["transport"]),
        ("shortfall", summary["shortfall"]),
        ("mip_gap", summary["mip_gap"]),
        ("best_bound", summary["best_bound"]),
        ("solver", summary["solver"]),
        ("build_seconds", summary["build_seconds"]),
        ("solve_seconds", summary["solve_seconds"]),
    ] + [(f"model {k}", v) for k, v in summary["model_size"].items()]
    rows += [("warning", w) for w in result.warnings]
    write_table(ws, pd.DataFrame(rows, columns=["field", "value"]))
    for r in range(2, len(rows) + 2):
        if ws.cell(r, 1).value in ("total_cost", "purchase", "setup", "transport", "shortfall",
                                   "best_bound"):
            ws.cell(r, 2).number_format = _MONEY
    ws.column_dimensions["B"].width = 80
    if result.diagnosis is not None:
        write_table(wb.create_sheet("Diagnosis"), result.diagnosis.table())
    for name, table in {**result.tables(), **(extra or {})}.items():
        write_table(wb.create_sheet(name), table if table is not None else pd.DataFrame())
    wb.save(path)
    return path
