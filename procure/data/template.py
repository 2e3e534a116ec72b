"""A blank workbook for planners, generated from :data:`procure.data.schema.SHEETS`.

The first sheet, ``Help``, lists every sheet and column (required, default, unit,
description); then one sheet per table in schema order with a bold header row, a note on
every header cell and drop-down lists for the columns with fixed choices.
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from procure.data.schema import SETTING_DEFAULTS, SETTING_HELP, SHEET_ORDER, SHEETS, Column
from procure.data.validate import HELP_SHEET
from procure.data.writer import save_deterministic

__all__ = ["write_template"]

#: rows the drop-down lists cover
_VALIDATION_ROWS = 5000
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")


def _note(col: Column) -> str:
    lines = [f"{col.name} ({'required' if col.required else 'optional'})"]
    if col.description:
        lines.append(col.description)
    if not col.required:
        lines.append(f"Blank: {col.default_text}.")
    if col.unit:
        lines.append(f"Unit: {col.unit}.")
    if col.choices:
        lines.append("One of: " + ", ".join(col.choices) + ".")
    if col.minimum is not None or col.maximum is not None:
        lo = "" if col.minimum is None else f">= {col.minimum:g}"
        hi = "" if col.maximum is None else f"<= {col.maximum:g}"
        lines.append("Must be " + " and ".join(x for x in (lo, hi) if x) + ".")
    return "\n".join(lines)


def _help_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet(HELP_SHEET)
    ws.append(["procure input workbook: one sheet per table; the first row of each holds the "
               "column names. Required columns are shaded. This Help sheet is ignored when read."])
    ws.append([])
    header = ["sheet", "sheet required", "column", "required", "default when blank", "unit",
              "allowed values", "description"]
    ws.append(header)
    for cell in ws[3]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for name in SHEET_ORDER:
        sheet = SHEETS[name]
        ws.append([name, "yes" if sheet.required else "no", "", "", "", "", "", sheet.description])
        ws.cell(row=ws.max_row, column=1).font = _BOLD
        for col in sheet.columns:
            allowed = ", ".join(col.choices)
            if not allowed and (col.minimum is not None or col.maximum is not None):
                lo = "" if col.minimum is None else f">= {col.minimum:g}"
                hi = "" if col.maximum is None else f"<= {col.maximum:g}"
                allowed = " and ".join(x for x in (lo, hi) if x)
            ws.append([name, "", col.name, "yes" if col.required else "no",
                       "" if col.required else col.default_text, col.unit, allowed,
                       col.description])
    ws.append([])
    ws.append(["Settings keys"])
    ws.cell(row=ws.max_row, column=1).font = _BOLD
    for key, text in SETTING_HELP.items():
        ws.append(["Settings", "", key, "no", "none" if SETTING_DEFAULTS[key] is None else str(SETTING_DEFAULTS[key]), "", "", text])
    for j, width in enumerate((14, 14, 20, 10, 20, 24, 28, 90), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A4"


def write_template(path: str | os.PathLike) -> Path:
    """Write a blank input workbook to ``path`` (``.xlsx``) and return the path."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    _help_sheet(wb)
    for name in SHEET_ORDER:
        sheet = SHEETS[name]
        ws = wb.create_sheet(name)
        for j, col in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=j, value=col.name)
            cell.font = _BOLD
            cell.fill = _REQUIRED_FILL if col.required else _HEADER_FILL
            cell.alignment = Alignment(horizontal="center")
            comment = Comment(_note(col), "procure")
            comment.width, comment.height = 320, 160
            cell.comment = comment
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(12, len(col.name) + 4)
            if col.kind in ("id", "period"):
                # ids typed as 007 or 2026-01 must stay text, not become numbers or dates
                for row in range(2, 202):
                    ws.cell(row=row, column=j).number_format = "@"
            if col.choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"',
                                    allow_blank=not col.required, showDropDown=False)
                dv.error = "Choose one of: " + ", ".join(col.choices)
                dv.errorTitle = f"{col.name}"
                dv.prompt = "One of: " + ", ".join(col.choices)
                dv.promptTitle = col.name
                dv.add(f"{letter}2:{letter}{_VALIDATION_ROWS}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    save_deterministic(wb, path)
    return path
