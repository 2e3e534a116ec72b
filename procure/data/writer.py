"""Writing validated data back to a workbook: :class:`ProcureData` -> ``.xlsx``.

``read_workbook(write_workbook(data, path))`` gives ``data`` back, table for table (the
property test in ``tests/test_store_writer.py`` checks it on generated data): every sheet of
the contract with the columns it holds, ids as text, blanks as blank cells, and the Demand
and Rules rows at the Excel rows they came from (``source_row``), so that ``Rules!7`` names
the same rule in the written workbook as in the original. The store uses it to keep the base
workbook of a scenario built in code or edited in the app.

Text is written by :mod:`procure.data.cells`: kept exactly, never run as a formula.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from procure.data.cells import safe_cell
from procure.data.errors import InputError
from procure.data.schema import SETTING_KEYS, SHEETS
from procure.data.tables import ProcureData
from procure.data.validate import RawTables, table_attribute

__all__ = ["sheet_frames", "raw_tables", "write_workbook", "workbook_bytes",
           "read_workbook_bytes"]

def _excel_rows(frame: pd.DataFrame) -> pd.Index:
    """Excel row of each row: ``source_row`` where the table keeps it (Demand, Rules, ...) and
    it can be written as it is (unique, increasing, below the header), else one row after
    another from row 2."""
    n = len(frame)
    if "source_row" in frame.columns and n:
        rows = frame["source_row"].to_numpy(dtype=np.int64)
        if rows[0] >= 2 and np.all(np.diff(rows) > 0):
            return pd.Index(rows, dtype="int64")
    return pd.RangeIndex(2, n + 2)


def sheet_frames(data: ProcureData) -> dict[str, pd.DataFrame]:
    """Every non-empty sheet of ``data`` (and the required ones) as the cells a workbook holds:
    the contract's columns, blank as ``None`` / NaN, indexed by Excel row."""
    out: dict[str, pd.DataFrame] = {}
    for name, sheet in SHEETS.items():
        if name == "Settings":
            rows = [(k, data.settings[k]) for k in SETTING_KEYS
                    if data.settings.get(k) is not None]
            frame = pd.DataFrame(rows, columns=["key", "value"], dtype=object)
        else:
            frame = getattr(data, table_attribute(name), None)
            if frame is None:
                continue
            columns = [c.name for c in sheet.columns if c.name in frame.columns]
            rows_index = _excel_rows(frame)
            frame = frame[columns].copy()
            frame.index = rows_index
            for c in sheet.columns:  # yes/no as the template writes it
                if c.kind == "yesno" and c.name in frame.columns:
                    frame[c.name] = frame[c.name].map(
                        lambda v: None if v is None or v != v else "yes" if v else "no"
                    ).astype(object)
        if len(frame) or sheet.required:
            out[name] = frame
    return out


def raw_tables(data: ProcureData, source: str = "") -> RawTables:
    """``data`` as raw tables for :func:`procure.validate_tables`, with the Excel rows of the
    Demand and Rules rows kept (so messages and rule ids name the rows they came from)."""
    tables = RawTables(source=source)
    for name, frame in sheet_frames(data).items():
        tables[name] = frame.astype(object).where(frame.notna(), None)
    return tables


def write_workbook(data: ProcureData, path_or_buffer: str | os.PathLike | BinaryIO) -> None:
    """Write ``data`` as an ``.xlsx`` workbook that :func:`procure.read_workbook` reads back
    equal: to a path, or to a binary file object (e.g. ``io.BytesIO``). The same data always
    gives the same bytes."""
    if isinstance(path_or_buffer, (str, os.PathLike)):
        path_or_buffer = Path(path_or_buffer)
        if path_or_buffer.suffix.lower() != ".xlsx":
            raise ValueError(f"workbook {path_or_buffer} must end in .xlsx")
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, frame in sheet_frames(data).items():
        ws = wb.create_sheet(name)
        for j, column in enumerate(frame.columns):
            ws.column_dimensions[get_column_letter(j + 1)].width = max(10, min(40, len(column) + 4))
        header = []
        for column in frame.columns:
            cell = safe_cell(ws, column)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        next_row = 2
        values = frame.to_numpy(dtype=object)
        for excel_row, row in zip(frame.index, values, strict=True):
            while next_row < excel_row:  # a blank row where the original had one
                ws.append([])
                next_row += 1
            ws.append([safe_cell(ws, v) for v in row])
            next_row += 1
    raw = io.BytesIO()
    wb.save(raw)
    content = _deterministic(raw.getvalue())
    if isinstance(path_or_buffer, Path):
        path_or_buffer.write_bytes(content)
    else:
        path_or_buffer.write(content)


#: the time written into every workbook (zip entries, document properties), so that the same
#: data always gives the same bytes, hence the same sha256 (the store keeps each workbook once)
_EPOCH = (2000, 1, 1, 0, 0, 0)
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def save_deterministic(wb, path: Path | str) -> Path:  # noqa: ANN001 -- an openpyxl Workbook
    """Save an openpyxl workbook with fixed times, so that the same content gives the same
    bytes (the shipped demo and template are rebuilt by a script and kept in git)."""
    raw = io.BytesIO()
    wb.save(raw)
    path = Path(path)
    path.write_bytes(_deterministic(raw.getvalue()))
    return path


def _deterministic(content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
    return out.getvalue()


def workbook_bytes(data: ProcureData) -> bytes:
    """The ``.xlsx`` file :func:`write_workbook` writes, as bytes."""
    buffer = io.BytesIO()
    write_workbook(data, buffer)
    return buffer.getvalue()


def read_workbook_bytes(content: bytes, name: str = "workbook.xlsx") -> ProcureData:
    """Read and validate a workbook held in memory (the store keeps workbooks as bytes).

    The reader checks a file on disk (zip structure, sizes) before calamine opens it, so the
    bytes go through a private temporary file, removed afterwards."""
    from procure.data.io import read_workbook

    fd, tmp = tempfile.mkstemp(suffix=".xlsx", prefix="procure-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        return read_workbook(tmp)
    except InputError as exc:  # name the workbook, not the temporary file
        raise InputError([replace(p, value=name) if p.value == tmp else p
                          for p in exc.problems]) from None
    finally:
        os.unlink(tmp)
