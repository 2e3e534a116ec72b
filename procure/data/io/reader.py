"""The public read functions: :func:`read_tables` and :func:`read_workbook`.

:func:`read_tables` checks the path and the zip (:mod:`.archive`), scans every contract
sheet (:mod:`.scan`), then opens the workbook with calamine and turns each sheet into a
raw table (:mod:`.sheets`), with hidden sheets, external links and ignored sheets as
warnings.  :func:`read_workbook` reads and validates.  Whatever calamine raises becomes an
input problem, except the exceptions of :data:`_PASS_THROUGH` (interrupts, out of memory).
"""

from __future__ import annotations

import os
from pathlib import Path

from python_calamine import CalamineWorkbook, ZipError

from procure.data.errors import Problem
from procure.data.io.archive import _check_path, _inspect_zip
from procure.data.io.bounds import _SAVE_AS, _fail, _Refused, limits
from procure.data.io.scan import _Scan, _scan_sheet, _TooBig
from procure.data.io.sheets import _merged_problems, _scan_problems, _sheet_frame
from procure.data.schema import SHEETS
from procure.data.tables import ProcureData
from procure.data.validate import HELP_SHEET, RawTables, validate_tables

#: exceptions never turned into an input problem (everything else from calamine is: a Rust
#: panic reaches Python as pyo3's PanicException, a BaseException)
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


def _open(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except _PASS_THROUGH:
        raise
    except ZipError as exc:
        raise _fail(f"not a valid .xlsx file (it is not a zip archive: {exc})",
                    f"the file may be a CSV or an old .xls renamed, or damaged; {_SAVE_AS}",
                    str(path)) from None
    except BaseException as exc:  # CalamineError, OSError, ..., and pyo3's PanicException
        raise _fail(f"the workbook cannot be read ({exc})",
                    f"the file may be damaged or password-protected; {_SAVE_AS}",
                    str(path)) from None


def read_tables(path: str | os.PathLike) -> RawTables:
    """Read the contract's sheets of an ``.xlsx`` workbook as raw tables.

    Returns a :class:`~procure.data.validate.RawTables`: sheet name (as written) -> DataFrame of raw
    cell values, indexed by Excel row number, with empty rows skipped.  Problems found while
    reading (a blank header above data, an empty first row, formulas without a saved value,
    error values, merged cells, a sheet too large) travel with it and are raised by
    :func:`~procure.data.validate.validate_tables` together with every other problem.  A file that
    cannot be read at all (not a zip, damaged, a zip bomb, macros) raises :class:`InputError`
    at once.
    """
    path = Path(path)
    _check_path(path)
    lim = limits()
    out = RawTables(source=str(path))
    known = {s.lower() for s in SHEETS}
    try:
        f = open(path, "rb")  # noqa: SIM115 -- closed below
    except OSError as exc:
        raise _fail(f"the file cannot be opened ({exc.strerror or exc})",
                    "check the path and that you may read the file", str(path)) from None
    with f:
        zf, book = _inspect_zip(path, f, lim)
        scans: dict[str, _Scan | None] = {}
        for part in book.sheets:
            if part.name.strip().lower() not in known or part.info is None:
                continue
            given = part.name.strip()
            schema_name = next(s for s in SHEETS if s.lower() == given.lower())
            try:
                scans[part.name] = _scan_sheet(f, part.info, lim)
            except _TooBig:
                scans[part.name] = None
                out.problems.append(Problem(
                    schema_name, None, None, None,
                    f"the sheet is too large to read (more than {lim['MAX_ROWS']:,} rows, or "
                    f"more than {lim['MAX_CELLS']:,} cells in its used area)",
                    "delete unused rows and columns (a stray value far down or far right "
                    "makes the used area huge), or raise PROCURE_MAX_ROWS / PROCURE_MAX_CELLS "
                    "if the file is trusted"))
                out.broken.add(schema_name.lower())
            except _Refused as exc:
                scans[part.name] = None
                out.problems.append(Problem(schema_name, None, None, None,
                                            f"the sheet cannot be read: {exc}",
                                            f"the file may be damaged or crafted; {_SAVE_AS}"))
                out.broken.add(schema_name.lower())
        zf.close()
    hidden = [p.name for p in book.sheets
              if p.state != "visible" and p.name.strip().lower() in known]
    if hidden:
        out.warnings.append("hidden sheets read like any other: "
                            + ", ".join(repr(n) for n in hidden))
    if book.external_links:
        out.warnings.append(
            "the workbook links to other workbooks (external links); no cell read by procure "
            "uses them, but check that none of its data is a copy of another file")
    wb = _open(path)
    ignored = []
    try:
        for name in wb.sheet_names:
            if name.strip().lower() not in known:
                ignored.append(name)
                continue
            schema_name = next(s for s in SHEETS if s.lower() == name.strip().lower())
            if name not in scans:
                out.problems.append(Problem(
                    schema_name, None, None, None,
                    "the sheet cannot be found in the workbook's parts, so it cannot be checked",
                    f"the file may be damaged; {_SAVE_AS}"))
                out.broken.add(schema_name.lower())
                continue
            scan = scans[name]
            if scan is None:
                continue
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=False)
                merged = sheet.merged_cell_ranges
            except _PASS_THROUGH:
                raise
            except BaseException as exc:  # CalamineError, ..., and pyo3's PanicException
                out.problems.append(Problem(schema_name, None, None, None,
                                            f"the sheet cannot be read: its XML is damaged "
                                            f"({exc})",
                                            f"the file may be damaged; {_SAVE_AS}"))
                out.broken.add(schema_name.lower())
                continue
            header = list(rows[0]) if rows else []
            marks: dict[tuple[int, int], object] = {}
            _scan_problems(schema_name, scan, header, out, marks)
            _merged_problems(schema_name, merged, header, rows, out)
            frame = _sheet_frame(name, rows, out, marks)
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
