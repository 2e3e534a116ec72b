"""The results workbook: a Summary sheet, then one formatted sheet per result table.

Every text cell that came from the user (ids, names, rule labels) is written by
:func:`procure.data.cells.write_cell`: as plain text, with Excel's quote prefix when it starts
like a formula, so it is kept exactly and can never run as a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from procure.data.cells import FORMULA_STARTS, ooxml_text, write_cell  # noqa: F401 (re-exported)

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
    if result.check is not None:
        rows.append(("plan check", result.check.headline()))
    from procure.engine.status import DUALS_BASIS

    rows.append(("duals", "none" if result.duals_basis is None
                 else f"{result.duals_basis}: {DUALS_BASIS[result.duals_basis]}"))
    rows += [("warning", w) for w in result.warnings]
    write_table(ws, pd.DataFrame(rows, columns=["field", "value"]))
    for r in range(2, len(rows) + 2):
        if ws.cell(r, 1).value in ("total_cost", "purchase", "setup", "transport", "shortfall",
                                   "best_bound"):
            ws.cell(r, 2).number_format = _MONEY
    ws.column_dimensions["B"].width = 80
    if result.diagnosis is not None:
        write_table(wb.create_sheet("Diagnosis"), result.diagnosis.table())
    if result.check is not None and not result.check.ok:
        write_table(wb.create_sheet("CheckFailed"), result.check.table())
    for name, table in {**result.tables(), **(extra or {})}.items():
        write_table(wb.create_sheet(name), table if table is not None else pd.DataFrame())
    wb.save(path)
    return path
