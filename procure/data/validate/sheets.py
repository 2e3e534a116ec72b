"""One sheet on its own: its header, its columns, its required cells and its keys.

:func:`_parse_sheet` matches a DataFrame's column labels to the sheet's columns (blank,
unknown, duplicate and missing columns), parses every cell (:mod:`.cells`) and checks
blank required cells and number ranges (:func:`_check_cells`); :func:`_check_keys` finds
duplicate keys and keys differing only by case, spaces or Unicode normalisation.  The
header helpers :func:`_header_text` and :func:`_column_letter` are shared with the
reader (:mod:`procure.data.io`).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from procure.data.schema import SHEETS, Sheet
from procure.data.validate.cells import _parse_column
from procure.data.validate.context import (
    _KIND_TEXT,
    BAD,
    _Ctx,
    _fold,
    _is_blank,
    _shown,
    _Table,
)


def _header_text(label: Any) -> str:
    if _is_blank(label):
        return ""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    text = str(label).strip()
    if re.fullmatch(r"Unnamed: \d+(_level_\d+)?", text):  # pandas' name for a blank header
        return ""
    return text


def _column_letter(j: int) -> str:
    """Excel's letter for the 0-based column ``j``."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _parse_sheet(ctx: _Ctx, sheet: Sheet, given: str, df: Any, excel_rows: bool) -> _Table:
    table = _Table(sheet, given)
    if not isinstance(df, pd.DataFrame):
        ctx.add(sheet.name, None, None, type(df).__name__, "is not a table",
                "pass a pandas DataFrame with one column per field")
        table.missing = {c.name for c in sheet.columns}
        table.values = {c.name: [] for c in sheet.columns}
        return table

    columns = [df.iloc[:, j].tolist() for j in range(df.shape[1])]
    blank = [list(map(_is_blank, col)) for col in columns]
    nrows = df.shape[0]
    if blank:
        keep = [i for i, flags in enumerate(zip(*blank, strict=True)) if not all(flags)]
    else:
        keep = []
    if excel_rows:
        row_numbers = [int(r) for r in df.index]
    else:
        row_numbers = [i + 2 for i in range(nrows)]

    by_lower = {c.name.lower(): c for c in sheet.columns}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for j, label in enumerate(df.columns):
        text = _header_text(label)
        letter = _column_letter(j) if excel_rows else f"#{j + 1}"
        if text == "":
            filled = [i for i in keep if not blank[j][i]]
            if filled:
                ctx.add(sheet.name, row_numbers[filled[0]], f"{letter} (no header)",
                        _shown(columns[j][filled[0]]),
                        "data in a column with a blank header",
                        "give the column one of the names "
                        + ", ".join(sheet.column_names) + ", or delete its data")
            continue
        col = by_lower.get(text.lower())
        if col is None:
            unknown.append(text)
            continue
        if col.name in positions:
            ctx.add(sheet.name, 1 if excel_rows else None, col.name, text,
                    f"column '{col.name}' appears twice", "delete or rename one of the two columns")
            continue
        positions[col.name] = j
    if unknown:
        ctx.warnings.append(
            f"sheet '{given}': unknown column(s) ignored: " + ", ".join(repr(u) for u in unknown)
        )
    for col in sheet.columns:
        if col.name not in positions and col.required:
            table.missing.add(col.name)
            ctx.add(sheet.name, 1 if excel_rows else None, col.name, None,
                    f"required column '{col.name}' is missing",
                    f"add a column headed '{col.name}' to the first row"
                    + (f" ({col.description})" if col.description else "")
                    + (" or rename one of the unrecognised columns: "
                       + ", ".join(repr(u) for u in unknown) if unknown else ""))

    table.rows = [row_numbers[i] for i in keep]
    for col in sheet.columns:
        if col.name in table.missing:
            table.values[col.name] = [BAD] * len(keep)
            table.raw[col.name] = [None] * len(keep)
            continue
        if col.name not in positions:
            table.values[col.name] = [None] * len(keep)
            table.raw[col.name] = [None] * len(keep)
            continue
        raw = [columns[positions[col.name]][i] for i in keep]
        table.raw[col.name] = raw
        table.values[col.name] = _parse_column(ctx, sheet.name, table.rows, col, raw)
    _check_cells(ctx, table)
    return table


def _check_cells(ctx: _Ctx, table: _Table) -> None:
    """Blank required cells and number ranges."""
    sheet = table.sheet
    for col in sheet.columns:
        if col.name in table.missing:
            continue
        for row, v in zip(table.rows, table.values[col.name], strict=True):
            if v is None and col.required:
                if col.references:
                    fix = (f"enter the {SHEETS[col.references].key[0]} (an id defined in sheet "
                           f"{col.references}), or delete the row")
                else:
                    example = f" ({col.description})" if col.description else ""
                    fix = (f"enter {_KIND_TEXT[col.kind]}{example}"
                           + (": " + ", ".join(col.choices) if col.choices else ""))
                ctx.add(sheet.name, row, col.name, None, f"{col.name} is required but blank", fix)
            elif isinstance(v, float):
                if col.minimum is not None and v < col.minimum:
                    ctx.add(sheet.name, row, col.name, _shown(v),
                            f"{col.name} must be >= {_shown(col.minimum)}",
                            f"enter a value of at least {_shown(col.minimum)}")
                elif col.maximum is not None and v > col.maximum:
                    if col.maximum == 1 and col.minimum == 0:
                        fix = "enter a fraction between 0 and 1 (65% is 0.65)"
                    else:
                        fix = f"enter a value of at most {_shown(col.maximum)}"
                    ctx.add(sheet.name, row, col.name, _shown(v),
                            f"{col.name} must be <= {_shown(col.maximum)}", fix)


def _check_keys(ctx: _Ctx, table: _Table) -> None:
    """Duplicate keys, and keys differing only by upper/lower case."""
    key = table.sheet.key
    if not key or any(not table.ok(k) for k in key):
        return
    seen: dict[tuple, tuple[int, tuple]] = {}
    cols = [table.col(k) for k in key]
    required = [table.sheet.column(k).required for k in key]
    where = key[-1] if len(key) == 1 else ", ".join(key)
    folds: dict[str, str] = {}

    def fold(v):
        if not isinstance(v, str):
            return v
        f = folds.get(v)
        if f is None:
            f = folds[v] = _fold(v)
        return f

    # only rows whose folded key occurs twice need a look, and most sheets have none
    folded_cols = [[fold(v) if v is not BAD else BAD for v in c] for c in cols]
    usable = [not any(v is BAD or (v is None and req)
                      for v, req in zip(values, required, strict=True))
              for values in zip(*cols, strict=True)]
    keys = pd.Series(list(zip(*folded_cols, strict=True)), dtype=object)
    suspect = (keys.duplicated(keep=False) & pd.Series(usable, dtype=bool)).to_numpy()
    for k in np.flatnonzero(suspect):
        row = table.rows[k]
        values = tuple(c[k] for c in cols)
        folded = keys.iat[k]
        if folded in seen:
            shown = ", ".join(
                f"{k}={v if v is not None else '(blank)'}" for k, v in zip(key, values, strict=True)
            )
            first_row, first_values = seen[folded]
            if first_values != values and tuple(
                    v.casefold() if isinstance(v, str) else v for v in values) != tuple(
                    v.casefold() if isinstance(v, str) else v for v in first_values):
                ctx.add(table.sheet.name, row, where, shown,
                        f"ambiguous key: differs from row {first_row} only by spaces inside the "
                        "id or by how accented letters are encoded (Unicode normalisation)",
                        f"use exactly one spelling in rows {first_row} and {row} (retype one "
                        "of them)")
            elif first_values == values:
                ctx.add(table.sheet.name, row, where, shown,
                        f"duplicate key: the same {where} as row {first_row}; "
                        "a key that appears twice is an error, not a sum",
                        f"keep one of rows {first_row} and {row} (add the numbers into one row "
                        "if both are meant)")
            else:
                ctx.add(table.sheet.name, row, where, shown,
                        f"ambiguous key: differs from row {first_row} only by upper/lower case",
                        f"ids are case-sensitive: use one spelling in rows {first_row} and {row}")
        else:
            seen[folded] = (row, values)
