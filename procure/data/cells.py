"""Writing cell values to an ``.xlsx`` safely: user text is kept exactly and never runs.

Every text cell that came from a user (ids, names, rule labels) is written as plain text, with
Excel's quote prefix when it starts like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage
return): the text is kept exactly as given and can never run as a formula, in Excel or after an
edit. Control characters (a leading carriage return among them) are written in OOXML's
``_xHHHH_`` escape, which Excel and python-calamine decode (openpyxl does not:
``openpyxl.utils.escape.unescape`` does).

Used by the results workbook (:mod:`procure.engine.report`) and the input workbook writer
(:mod:`procure.data.writer`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

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


def plain_value(value):
    """A table value as openpyxl should write it: Python scalars, ``None`` for blank (NaN),
    ``"inf"`` for an infinite float (Excel has no infinity), anything else as its text."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) else ("inf" if math.isinf(v) else v)
    if isinstance(value, str):
        return value
    if pd.isna(value) if not isinstance(value, (list, dict, tuple)) else False:
        return None
    return str(value)


def _set_text(cell, value: str) -> None:
    cell.value = ooxml_text(value)
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def _set_number(cell, value) -> None:
    """openpyxl writes numbers with ``"%.16g"``, which loses the last digit of a double that
    needs 17 (123456.78901234567 comes back 123456.7890123457); such a number is given to the
    writer as its shortest exact text (``repr``), which it writes unchanged in the cell's
    ``<v>`` (the cell stays numeric: Excel and calamine read the same double back)."""
    cell.value = value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if float(f"{value:.16g}") != value or (isinstance(value, int) and abs(value) >= 10**15):
        cell._value = repr(value)


def write_cell(ws, row: int, col: int, value) -> None:
    """Write one value into a (normal) worksheet safely: user text can never become a formula."""
    cell = ws.cell(row=row, column=col)
    value = plain_value(value)
    if isinstance(value, str):
        _set_text(cell, value)
        return
    _set_number(cell, value)


def safe_cell(ws, value) -> WriteOnlyCell | None:
    """One value as a cell of a write-only worksheet (``Workbook(write_only=True)``), with the
    same safety as :func:`write_cell`; ``None`` for a blank cell."""
    value = plain_value(value)
    if value is None:
        return None
    if isinstance(value, str):
        cell = WriteOnlyCell(ws)
        _set_text(cell, value)
        return cell
    cell = WriteOnlyCell(ws)
    _set_number(cell, value)
    return cell
