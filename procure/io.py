"""Reading a planner's workbook (``.xlsx``) into raw tables, then into :class:`ProcureData`.

Reading and validation are separate steps: :func:`read_tables` only turns sheets into raw
DataFrames (cell values as Excel holds them, index = Excel row number);
:func:`procure.validate.validate_tables` checks them.  :func:`read_workbook` does both.

The input file is opened read-only and never written to.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, ZipError

from .data import ProcureData
from .errors import InputError, Problem
from .schema import SHEETS
from .validate import (
    HELP_SHEET,
    RawTables,
    _column_letter,
    _header_text,
    _is_blank,
    validate_tables,
)

__all__ = ["read_tables", "read_workbook", "RawTables"]

_SAVE_AS = "open it in Excel and save as .xlsx (Excel Workbook)"

_REFUSED = {
    ".xlsm": "macro-enabled workbooks (.xlsm) are not accepted: procure never runs or keeps macros",
    ".xltx": "an Excel template (.xltx) is not a workbook",
    ".xltm": "a macro-enabled template (.xltm) is not accepted",
    ".xlsb": "binary workbooks (.xlsb) are not accepted",
    ".xls": "old Excel 97-2003 workbooks (.xls) are not accepted",
    ".ods": "OpenDocument spreadsheets (.ods) are not accepted",
    ".csv": "a CSV file holds a single table; procure needs one workbook with a sheet per table",
}


def _fail(message: str, fix: str, value: object = None) -> InputError:
    return InputError([Problem(None, None, None, value, message, fix)])


def _open(path: Path) -> CalamineWorkbook:
    suffix = path.suffix.lower()
    if suffix != ".xlsx":
        why = _REFUSED.get(suffix, f"'{path.name}' is not an .xlsx workbook")
        raise _fail(why, f"{_SAVE_AS}, then read that file", str(path))
    if not path.exists():
        raise _fail("file not found", "check the path and the file name", str(path))
    if path.is_dir():
        raise _fail("this is a folder, not a workbook", "give the path of the .xlsx file", str(path))
    if not os.access(path, os.R_OK):
        raise _fail("the file cannot be read (permission denied)",
                    "check that you may read the file", str(path))
    try:
        return CalamineWorkbook.from_path(str(path))
    except ZipError as exc:
        raise _fail(f"not a valid .xlsx file (it is not a zip archive: {exc})",
                    f"the file may be a CSV or an old .xls renamed, or damaged; {_SAVE_AS}",
                    str(path)) from None
    except (CalamineError, OSError, ValueError, RuntimeError) as exc:
        raise _fail(f"the workbook cannot be read ({exc})",
                    f"the file may be damaged or password-protected; {_SAVE_AS}",
                    str(path)) from None


def _sheet_frame(name: str, rows: list[list], out: RawTables) -> pd.DataFrame | None:
    """One sheet's cells (row 0 = Excel row 1) as a DataFrame indexed by Excel row."""
    width = max((len(r) for r in rows), default=0)
    rows = [list(r) + [""] * (width - len(r)) for r in rows]
    sheet = SHEETS[[s for s in SHEETS if s.lower() == name.strip().lower()][0]]
    if not rows:
        return pd.DataFrame()
    header = rows[0]
    body = [(k + 1, r) for k, r in enumerate(rows) if k > 0 and not all(_is_blank(v) for v in r)]
    if all(_is_blank(v) for v in header):
        if body:
            out.problems.append(Problem(
                sheet.name, 1, None, None,
                "the first row is empty: it must hold the column names",
                "put the column names (" + ", ".join(sheet.column_names) + ") in row 1, "
                "directly above the data"))
            out.broken.add(sheet.name.lower())
            return None
        return pd.DataFrame()
    labels = [_header_text(v) for v in header]
    keep = []
    for j, label in enumerate(labels):
        if label:
            keep.append(j)
            continue
        filled = [(rowno, r[j]) for rowno, r in body if not _is_blank(r[j])]
        if filled:
            rowno, value = filled[0]
            out.problems.append(Problem(
                sheet.name, rowno, f"{_column_letter(j)} (no header)", value,
                "data in a column with a blank header",
                "give the column one of the names " + ", ".join(sheet.column_names)
                + " in row 1, or delete its data"))
    data = [[r[j] for j in keep] for _, r in body]
    frame = pd.DataFrame(data, columns=[labels[j] for j in keep], dtype=object,
                         index=pd.Index([rowno for rowno, _ in body], dtype="int64"))
    return frame


def read_tables(path: str | os.PathLike) -> RawTables:
    """Read the contract's sheets of an ``.xlsx`` workbook as raw tables.

    Returns a :class:`~procure.validate.RawTables`: sheet name (as written) -> DataFrame of raw
    cell values, indexed by Excel row number, with empty rows skipped.  Problems found while
    reading (a blank header above data, an empty first row) travel with it and are raised by
    :func:`~procure.validate.validate_tables` together with every other problem.  A file that
    cannot be read at all raises :class:`InputError` at once.
    """
    path = Path(path)
    wb = _open(path)
    out = RawTables(source=str(path))
    known = {s.lower() for s in SHEETS}
    ignored = []
    try:
        for name in wb.sheet_names:
            if name.strip().lower() not in known:
                ignored.append(name)
                continue
            try:
                rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except (CalamineError, ValueError, RuntimeError) as exc:
                out.problems.append(Problem(name.strip(), None, None, None,
                                            f"the sheet cannot be read ({exc})",
                                            f"the file may be damaged; {_SAVE_AS}"))
                out.broken.add(name.strip().lower())
                continue
            frame = _sheet_frame(name, rows, out)
            if frame is not None:
                out[name] = frame
    finally:
        wb.close()
    ignored = [n for n in ignored if n.strip().lower() != HELP_SHEET.lower()]
    if ignored:
        out.warnings.append("sheets ignored (not part of the contract): "
                            + ", ".join(repr(n) for n in ignored))
    return out


def read_workbook(path: str | os.PathLike) -> ProcureData:
    """Read and validate a planner's ``.xlsx`` workbook; raises :class:`InputError` listing
    every problem."""
    return validate_tables(read_tables(path), source=str(path))
