"""One sheet's cells as a raw table, and the problems found on the way.

:func:`_sheet_frame` turns calamine's rows into a DataFrame indexed by Excel row (the
header in row 1, blank rows skipped, data under a blank header reported, NaN cells
refused), after :func:`_scan_problems` has recorded the cells the scan found
(:mod:`.scan`) and :func:`_merged_problems` the merged ranges.  Cells whose problem is
recorded become :data:`~procure.data.validate.BAD`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.data.errors import Problem
from procure.data.io.scan import _Scan
from procure.data.schema import SHEETS
from procure.data.validate import (
    BAD,
    RawTables,
    _column_letter,
    _header_text,
    _is_blank,
)


def _header_row(sheet, rows: list[list], first: int) -> int | None:
    """Excel row (from ``first``) of a row that holds every required column name, if any."""
    need = {c.lower() for c in sheet.required_columns}
    for k in range(first, min(len(rows), first + 30)):
        labels = {_header_text(v).lower() for v in rows[k]}
        if need <= labels:
            return k + 1
    return None


def _sheet_frame(name: str, rows: list[list], out: RawTables,
                 marks: dict[tuple[int, int], object]) -> pd.DataFrame | None:
    """One sheet's cells (row 0 = Excel row 1) as a DataFrame indexed by Excel row.

    ``marks``: (Excel row, column index) -> value to put in place of what calamine read
    (:data:`~procure.data.validate.BAD` for a cell whose problem is already recorded).
    """
    sheet = SHEETS[[s for s in SHEETS if s.lower() == name.strip().lower()][0]]
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    header = list(rows[0]) + [""] * (width - len(rows[0]))
    if all(_is_blank(v) for v in header):
        first = next((k for k, r in enumerate(rows) if not all(_is_blank(v) for v in r)), None)
        if first is not None:
            found = _header_row(sheet, rows, first)
            if found is not None:
                out.problems.append(Problem(
                    sheet.name, 1, None, None,
                    f"the first row is empty: it must hold the column names, which seem to be "
                    f"in row {found}",
                    f"delete rows 1 to {found - 1} so that the column names are in row 1"))
            else:
                out.problems.append(Problem(
                    sheet.name, 1, None, None,
                    "the first row is empty: it must hold the column names",
                    "put the column names (" + ", ".join(sheet.column_names) + ") in row 1, "
                    "directly above the data"))
            out.broken.add(sheet.name.lower())
            return None
        return pd.DataFrame()
    labels = [_header_text(v) for v in header]
    lower = {label.lower() for label in labels}
    if any(c.lower() not in lower for c in sheet.required_columns):
        found = _header_row(sheet, rows, 1)
        if found is not None:
            out.problems.append(Problem(
                sheet.name, found, None, None,
                f"row {found} looks like the column names, but row 1 must hold them "
                f"(row 1 holds {', '.join(repr(v) for v in labels if v) or 'nothing'})",
                f"delete rows 1 to {found - 1} so that the column names are in row 1"))
            out.broken.add(sheet.name.lower())
            return None
    body_rows: list[int] = []
    for k in range(1, len(rows)):
        r = rows[k]
        if r.count("") == len(r) or all(_is_blank(v) for v in r):
            continue  # a blank row (a cell marked here has its problem recorded already)
        body_rows.append(k)
    keep = []
    for j, label in enumerate(labels):
        if label:
            keep.append(j)
            continue
        for k in body_rows:
            r = rows[k]
            if j < len(r) and not _is_blank(r[j]):
                out.problems.append(Problem(
                    sheet.name, k + 1, f"{_column_letter(j)} (no header)", r[j],
                    "data in a column with a blank header",
                    "give the column one of the names " + ", ".join(sheet.column_names)
                    + " in row 1, or delete its data"))
                break
    index = pd.Index([k + 1 for k in body_rows], dtype="int64")
    data = {}
    body = [rows[k] for k in body_rows]
    # calamine's rows are rectangular: transposing them in one step is much faster than
    # picking cells one by one
    columns = list(zip(*body, strict=True)) if body and all(len(r) == width for r in body) else None
    for j in keep:
        if columns is not None:
            col = list(columns[j])
        else:
            col = [r[j] if j < len(r) else "" for r in body]
        if marks:
            for pos, k in enumerate(body_rows):
                if (k + 1, j) in marks:
                    col[pos] = marks[(k + 1, j)]
        missing = np.flatnonzero(pd.isna(np.asarray(col, dtype=object))) if col else ()
        for pos in missing:
            v = col[pos]
            if type(v) is float:  # NaN: calamine reads <v>NaN</v>; Excel never writes it
                k = body_rows[pos]
                out.problems.append(Problem(
                    sheet.name, k + 1, _column_name(sheet.name, header, j), "NaN",
                    "the cell holds NaN (not a number), which Excel never writes",
                    "enter a number, or clear the cell"))
                col[pos] = BAD
        data[j] = pd.Series(col, index=index, dtype=object)
    frame = pd.DataFrame(data, index=index)
    frame.columns = [labels[j] for j in keep]
    return frame


def _column_name(sheet_name: str, header: list, col: int) -> str:
    """The contract column under a cell (or its letter when the header is not one)."""
    sheet = SHEETS[sheet_name]
    label = _header_text(header[col]) if col < len(header) else ""
    for c in sheet.columns:
        if c.name.lower() == label.lower():
            return c.name
    return _column_letter(col)


def _scan_problems(sheet_name: str, scan: _Scan, header: list, out: RawTables,
                   marks: dict[tuple[int, int], object]) -> None:
    kinds = {
        "no_value": ("a formula without a saved value: it would be read as blank",
                     "open the workbook in Excel, let it recalculate and save it (or replace "
                     "the formula by its value)"),
        "errors": ("an Excel error value ({value}) in the cell",
                   "correct the formula or the data it uses, or enter the value"),
        "external": ("the formula refers to another workbook; its value would be a stale "
                     "copy saved with this file",
                     "replace the formula by its value (Copy, then Paste Special > Values), "
                     "or copy the data into this workbook"),
    }
    for kind, (message, fix) in kinds.items():
        for row, col, value in getattr(scan, kind):
            marks[(row, col)] = BAD
            out.problems.append(Problem(sheet_name, row, _column_name(sheet_name, header, col),
                                        value, message.format(value=value), fix))
        more = scan.counts[kind] - len(getattr(scan, kind))
        if more > 0:
            out.problems.append(Problem(sheet_name, None, None, None,
                                        f"and {more} more cells like this: "
                                        + message.format(value="#...").split(":")[0], fix))
            out.broken.add(sheet_name.lower())


def _merged_problems(sheet_name: str, ranges, header: list, rows: list[list],
                     out: RawTables) -> None:
    width = len(header)
    used = len(rows)
    for (r0, c0), (r1, c1) in ranges or ():
        if r0 >= used or c0 >= width:
            continue
        text = f"{_column_letter(c0)}{r0 + 1}:{_column_letter(c1)}{r1 + 1}"
        out.problems.append(Problem(
            sheet_name, r0 + 1, _column_name(sheet_name, header, c0), text,
            f"merged cells {text}: only the top-left cell holds a value, the others would be "
            "read as blank",
            "unmerge them (Home > Merge & Center > Unmerge Cells) and fill in every cell"))
