"""Check raw tables against the contract (docs/model.md, sections 1 and 3) and build :class:`ProcureData`.

:func:`validate_tables` is the only way a :class:`~procure.data.ProcureData` is made.  It takes
the raw tables of a workbook (:func:`procure.io.read_tables`) or DataFrames given by an analyst,
checks everything, and either returns typed, clean data or raises one
:class:`~procure.errors.InputError` listing *every* problem found, each located by sheet, Excel
row and column, with the bad value and a concrete fix.

Everything about sheets and columns comes from :data:`procure.schema.SHEETS`.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from procure.data.errors import InputError, Problem
from procure.data.schema import (
    COUNT_RULES,
    EACH_GROUP_RULES,
    EACH_GROUPS,
    QUANTITY_RULES,
    SETTING_DEFAULTS,
    SETTING_HELP,
    SHARE_RULES,
    SHEETS,
    YES_NO,
    Column,
    Sheet,
)
from procure.data.tables import ProcureData, period_sort_key

__all__ = ["RawTables", "validate_tables", "table_attribute", "MAX_ABS_NUMBER"]

#: largest magnitude of any number in the input (quantities, prices, capacities, budgets, ...).
#: The solver works in double precision with tolerances around 1e-9 (relative) and 1e-7
#: (absolute); beyond 1e15 a unit is below the precision of a double and results are noise.
MAX_ABS_NUMBER = 1e15

#: a sheet named this (the template's help) is ignored without a warning
HELP_SHEET = "Help"

_SHEET_BY_LOWER = {name.lower(): sheet for name, sheet in SHEETS.items()}

#: defaults that are descriptions rather than values; filled by :func:`_build`
_DESCRIPTIVE_DEFAULTS = {
    ("Partners", "country"),  # the partner id
    ("Offers", "first_period"),  # the first period
    ("Transport", "item"),  # every item (None)
}

_KIND_TEXT = {
    "id": "an id (text or a whole number)",
    "period": "a period label (e.g. 2027 or Q1)",
    "number": "a number",
    "text": "text",
    "choice": "one of the allowed values",
    "integer": "a whole number",
    "yesno": "yes or no",
}

_ROWS_WORD = {
    "Partners": "partner",
    "Items": "item",
    "Suppliers": "supplier",
    "Offers": "offer (supplier, item, unit_price)",
    "Demand": "partner, item and period",
}


class _Bad:
    """Marker for a cell whose problem is already recorded (keeps later checks quiet)."""

    def __repr__(self) -> str:
        return "<bad>"


BAD = _Bad()


class RawTables(dict):
    """Tables as read from a workbook, before validation.

    A ``dict`` of sheet name (as written in the workbook) to a DataFrame of raw cell values
    (object dtype, header text as column labels) whose index is the Excel row number.  It also
    carries what reading found: ``problems`` (raised by :func:`validate_tables` together with
    every other problem), ``warnings``, ``broken`` (lower-cased names of sheets that could not
    be read as a table) and ``source`` (the file).
    """

    excel_rows = True

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame] | None = None,
        *,
        source: str = "",
        problems: Iterable[Problem] = (),
        warnings: Iterable[str] = (),
        broken: Iterable[str] = (),
    ):
        super().__init__(tables or {})
        self.source = source
        self.problems = list(problems)
        self.warnings = list(warnings)
        self.broken = set(broken)


def table_attribute(sheet_name: str) -> str:
    """ProcureData attribute of a sheet: ``PriceTiers`` -> ``price_tiers``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", sheet_name).lower()


# --------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: schema names of sheets present but unreadable (their ids cannot be checked against)
    broken: set[str] = field(default_factory=set)

    def add(self, sheet, row, column, value, message, fix) -> None:
        self.problems.append(Problem(sheet, row, column, value, message, fix))


@dataclass
class _Table:
    sheet: Sheet
    given: str  # sheet name as the user wrote it
    rows: list[int] = field(default_factory=list)
    values: dict[str, list] = field(default_factory=dict)
    raw: dict[str, list] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def col(self, name: str) -> list:
        return self.values[name]

    def records(self) -> Iterable[tuple[int, dict[str, Any]]]:
        names = list(self.values)
        for k, row in enumerate(self.rows):
            yield row, {n: self.values[n][k] for n in names}

    def ok(self, name: str) -> bool:
        """Whether the column is present (its values can be trusted where not BAD)."""
        return name not in self.missing


def _is_blank(v: Any) -> bool:
    t = type(v)
    if t is str:
        return not v or v.isspace()
    if t is float:
        return v != v
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    if isinstance(v, str):
        return v.strip() == ""
    return False


_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}


def _invisible(text: str) -> str | None:
    """The first control or format (invisible) character of an id, as U+XXXX, else None."""
    if text.isprintable():
        return None
    for ch in text:
        if unicodedata.category(ch) in _INVISIBLE:
            return f"U+{ord(ch):04X}"
    return None


def _fold(text: str) -> str:
    """An id as compared for ambiguity: Unicode NFC, case-folded, runs of whitespace as one
    space.  Ids that fold alike but differ are ambiguous; the text itself is never changed."""
    if text.isascii():
        return text.casefold() if text.isalnum() else " ".join(text.split()).casefold()
    text = unicodedata.normalize("NFC", text)
    return unicodedata.normalize("NFC", " ".join(text.split()).casefold())


def _float(v: Any) -> float:
    """``float(v)`` for any real number; ``inf`` when it does not fit a double."""
    try:
        return float(v)
    except (OverflowError, ValueError, TypeError):
        return math.inf


def _safe_str(v: Any) -> str:
    try:
        return str(v)
    except Exception:  # noqa: BLE001 -- e.g. an int too long to print
        return f"<{type(v).__name__}>"


def _number_text(v: float) -> str:
    """2026.0 -> '2026', 1.5 -> '1.5'."""
    if float(v).is_integer():
        return str(int(v))
    return repr(float(v))


def _shown(v: Any) -> Any:
    """A raw value as a planner would recognise it in a message."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**30:
        return f"a whole number of about {int(v.bit_length() * 0.30103) + 1} digits"
    if isinstance(v, float) and v.is_integer() and math.isfinite(v):
        return int(v)
    if isinstance(v, _dt.datetime | _dt.date | _dt.time):
        return v.isoformat()
    return v


# --------------------------------------------------------------------------- cells


def _parse_cell(ctx: _Ctx, sheet: str, row: int, col: Column, v: Any) -> Any:
    """Typed value of one cell; ``None`` when blank; :data:`BAD` after recording a problem."""
    t = type(v)
    kind = col.kind
    # fast paths: the usual cells
    if t is str:
        if kind in ("id", "period") and v and v.isprintable() and not v[0].isspace() \
                and not v[-1].isspace():
            return v
    elif t is float and kind in ("number", "integer"):
        if v != v:
            return None
        if -MAX_ABS_NUMBER <= v <= MAX_ABS_NUMBER and (kind == "number" or v.is_integer()):
            return v
    if v is BAD:
        return BAD
    if isinstance(v, np.generic):
        v = v.item()
    if _is_blank(v):
        return None
    name = col.name

    def bad(message: str, fix: str) -> _Bad:
        ctx.add(sheet, row, name, _shown(v), message, fix)
        return BAD

    if kind in ("id", "period"):
        what = "a period label" if kind == "period" else "an id"
        if isinstance(v, bool):
            return bad(f"TRUE/FALSE is not {what}", f"type {what} as text")
        if isinstance(v, str):
            v = str(v)
            if v != v.strip():
                bad("the id has leading or trailing spaces", f"remove the spaces: write {v.strip()!r}")
                v = v.strip()  # already an error; checked further without the spaces
                if _invisible(v) is None:
                    return v
            hidden = _invisible(v)
            if hidden is not None:
                return bad(f"the id contains an invisible character ({hidden})",
                           "retype the id without it (it was probably pasted in)")
            return v
        if isinstance(v, numbers.Integral):
            if abs(int(v)) > 10**18:
                return bad(f"this number is too long to be {what}", f"type {what} as text")
            return str(int(v))
        if isinstance(v, numbers.Real):
            f = _float(v)
            if not math.isfinite(f):
                return bad(f"{f} is not {what}", f"type {what} as text")
            return _number_text(f)
        if isinstance(v, _dt.date | _dt.time | _dt.timedelta):
            return bad(
                f"a date or time is not {what}",
                "format the cell as Text and type the label (e.g. 2027 or 2027-Q1)",
            )
        return bad(f"this value is not {what}", f"type {what} as text")

    if kind in ("number", "integer"):
        if isinstance(v, bool):
            return bad("TRUE/FALSE is not a number", "enter a number")
        if isinstance(v, numbers.Real):
            f = _float(v)
            if math.isnan(f):
                return None
            if not math.isfinite(f):
                return bad("the number must be finite", "enter a finite number")
            if abs(f) > MAX_ABS_NUMBER:
                return bad(f"the number is too large: procure accepts numbers up to "
                           f"{MAX_ABS_NUMBER:.0e} in absolute value (the solver computes in "
                           "double precision)",
                           "enter the value in larger units (thousands, millions), or check it")
            if kind == "integer" and not f.is_integer():
                return bad("must be a whole number", f"enter a whole number, e.g. {round(f)}")
            return f
        if isinstance(v, str):
            try:
                float(v.strip().replace(",", ""))
                looks = True
            except ValueError:
                looks = False
            if looks:
                return bad(
                    "the number is stored as text",
                    "enter it as a number (in Excel: select the cell and use 'Convert to Number')",
                )
            return bad("text in a number column", f"enter {_KIND_TEXT[kind]} ({col.unit or 'no unit'})")
        if isinstance(v, _dt.date | _dt.time | _dt.timedelta):
            return bad(
                "a date or time is not a number",
                "format the cell as Number and enter the value",
            )
        return bad("this value is not a number", "enter a number")

    if kind == "yesno":
        if isinstance(v, bool):
            return v
        if isinstance(v, numbers.Real) and math.isfinite(_float(v)):
            text = _number_text(_float(v))
        else:
            text = _safe_str(v)
        answer = YES_NO.get(text.strip().lower())
        if answer is None:
            return bad(f"{name} must be yes or no", "enter yes or no (or leave it blank for no)")
        return answer

    if kind == "choice":
        if isinstance(v, str):
            text = v
        elif isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(_float(v)):
            text = _number_text(_float(v))
        else:
            text = _safe_str(v)
        key = text.strip().lower()
        for choice in col.choices:
            if choice.lower() == key:
                return choice
        return bad(f"unknown value for {name}", "use one of: " + ", ".join(col.choices))

    # text
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, numbers.Real):
        f = _float(v)
        return _number_text(f) if math.isfinite(f) else str(f)
    if isinstance(v, _dt.date | _dt.time):
        return v.isoformat()
    return _safe_str(v)


# --------------------------------------------------------------------------- sheets


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


#: column kinds whose cells repeat (ids, periods, choices): parsed once per distinct value
_REPEATING_KINDS = ("id", "period", "choice")


def _parse_column(ctx: _Ctx, sheet: str, rows: list[int], col: Column, raw: list) -> list:
    """Parse every cell of a column. Ids repeat (a Demand sheet names the same few partners,
    items and periods on every row), so a value that parsed cleanly once is not parsed again;
    a value that raised a problem or a warning is parsed on every row, so each row is named."""
    if col.kind not in _REPEATING_KINDS:
        return [_parse_cell(ctx, sheet, row, col, v) for row, v in zip(rows, raw, strict=True)]
    clean: dict = {}
    out = []
    for row, v in zip(rows, raw, strict=True):
        key = (type(v), v)
        try:
            out.append(clean[key])
            continue
        except (KeyError, TypeError):  # TypeError: an unhashable cell value
            pass
        problems, warnings = len(ctx.problems), len(ctx.warnings)
        parsed = _parse_cell(ctx, sheet, row, col, v)
        out.append(parsed)
        if parsed is not BAD and len(ctx.problems) == problems and len(ctx.warnings) == warnings:
            try:
                clean[key] = parsed
            except TypeError:
                pass
    return out


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


# --------------------------------------------------------------------------- cross-sheet checks


def _known_list(values: Iterable[str], limit: int = 12) -> str:
    vals = sorted(set(values), key=str)
    if not vals:
        return "(none defined)"
    text = ", ".join(vals[:limit])
    return text + (f", ... ({len(vals)} in all)" if len(vals) > limit else "")


def _unknown_ref(ctx, sheet, row, column, value, target: str, known: set[str], what: str,
                 fix: str | None = None):
    folded = {_fold(k): k for k in known}
    if _fold(value) in folded:
        fix = (f"ids are case-sensitive and must match exactly (spaces, accents too): write "
               f"{folded[_fold(value)]!r} as in {target}")
    elif fix is None:
        fix = f"add {value!r} to sheet {target}, or correct it (known: {_known_list(known)})"
    ctx.add(sheet, row, column, value, f"unknown {what} {value!r}: not in sheet {target}", fix)


def _defined(tables: dict[str, _Table], sheet_name: str) -> set[str] | None:
    """Key ids defined by a single-key sheet, or None when the sheet cannot be trusted."""
    t = tables.get(sheet_name)
    if t is None:
        return None
    (key,) = SHEETS[sheet_name].key
    if not t.ok(key):
        return None
    return {v for v in t.col(key) if isinstance(v, str)}


def _check_references(ctx: _Ctx, tables: dict[str, _Table]) -> None:
    for table in tables.values():
        for col in table.sheet.columns:
            if not col.references or not table.ok(col.name):
                continue
            known = _defined(tables, col.references)
            if known is None:
                continue
            what = SHEETS[col.references].key[0]
            for row, v in zip(table.rows, table.col(col.name), strict=True):
                if isinstance(v, str) and v not in known:
                    _unknown_ref(ctx, table.sheet.name, row, col.name, v, col.references, known, what)


def _offer_pairs(tables: dict[str, _Table]) -> set[tuple[str, str]] | None:
    t = tables.get("Offers")
    if t is None or not (t.ok("supplier") and t.ok("item")):
        return None
    return {
        (s, i)
        for s, i in zip(t.col("supplier"), t.col("item"), strict=True)
        if isinstance(s, str) and isinstance(i, str)
    }


def _check_offer_exists(ctx: _Ctx, tables: dict[str, _Table], sheet_name: str, offers) -> None:
    t = tables.get(sheet_name)
    if t is None or offers is None or not (t.ok("supplier") and t.ok("item")):
        return
    suppliers = _defined(tables, "Suppliers") or set()
    items = _defined(tables, "Items") or set()
    # Offers rows with a bad supplier or item: a row naming the same supplier or item may
    # belong to them, so it is not reported as well (the Offers row is)
    o = tables["Offers"]
    doubt_s, doubt_i = set(), set()
    for s, i in zip(o.col("supplier"), o.col("item"), strict=True):
        s_ok = isinstance(s, str) and s in suppliers
        i_ok = isinstance(i, str) and i in items
        if not (s_ok and i_ok):
            doubt_s.add(s if s_ok else None)
            doubt_i.add(i if i_ok else None)
    for row, s, i in zip(t.rows, t.col("supplier"), t.col("item"), strict=True):
        if not (isinstance(s, str) and isinstance(i, str)):
            continue
        if s not in suppliers or i not in items:
            continue  # already reported as an unknown id
        if s in doubt_s or i in doubt_i or (None in doubt_s and None in doubt_i):
            continue
        if (s, i) not in offers:
            ctx.add(sheet_name, row, "supplier, item", f"{s}, {i}",
                    f"no Offers row for supplier {s!r} and item {i!r}",
                    f"add the offer to sheet Offers, or delete this {sheet_name} row")


def _check_periods(ctx: _Ctx, tables: dict[str, _Table], periods: list[str]) -> None:
    known = set(periods)
    for table in tables.values():
        if table.sheet.name == "Demand":
            continue
        for col in table.sheet.columns:
            if col.kind != "period" or not table.ok(col.name):
                continue
            for row, v in zip(table.rows, table.col(col.name), strict=True):
                if isinstance(v, str) and v not in known:
                    _unknown_ref(ctx, table.sheet.name, row, col.name, v, "Demand", known, "period",
                                 fix="use one of the Demand periods: " + ", ".join(periods))


def _check_tiers(ctx: _Ctx, tables: dict[str, _Table], offers) -> None:
    t = tables.get("PriceTiers")
    if t is None or any(not t.ok(c) for c in ("supplier", "item", "min_quantity", "unit_price")):
        return
    base: dict[tuple[str, str], float] = {}
    o = tables.get("Offers")
    if o is not None and o.ok("unit_price") and offers is not None:
        for s, i, p in zip(o.col("supplier"), o.col("item"), o.col("unit_price"), strict=True):
            if isinstance(s, str) and isinstance(i, str) and isinstance(p, float):
                base.setdefault((s, i), p)
    per_offer: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    for row, s, i, q, p in zip(t.rows, t.col("supplier"), t.col("item"), t.col("min_quantity"),
                               t.col("unit_price"), strict=True):
        if isinstance(q, float) and q == 0:
            ctx.add("PriceTiers", row, "min_quantity", 0, "min_quantity must be > 0",
                    "the price at min_quantity 0 is Offers.unit_price: put it there and delete "
                    "this row")
            continue
        if isinstance(s, str) and isinstance(i, str) and isinstance(q, float) and isinstance(p, float):
            per_offer.setdefault((s, i), []).append((q, p, row))
    for (s, i), tiers in per_offer.items():
        tiers.sort()
        prev_q, prev_p, prev_row = 0.0, base.get((s, i)), None
        for q, p, row in tiers:
            if prev_p is not None and p > prev_p and q != prev_q:
                where = f"row {prev_row}" if prev_row else "Offers.unit_price"
                ctx.add("PriceTiers", row, "unit_price", _shown(p),
                        f"unit price rises with quantity: {_shown(p)} from {_shown(q)} units is "
                        f"more than {_shown(prev_p)} from {_shown(prev_q)} units ({where}); "
                        "tier prices must not increase (the tiered cost is concave)",
                        f"enter a unit_price of at most {_shown(prev_p)}, or correct min_quantity")
            prev_q, prev_p, prev_row = q, p, row


def _check_rules(ctx: _Ctx, tables: dict[str, _Table]) -> None:
    t = tables.get("Rules")
    if t is None or not t.ok("rule"):
        return
    suppliers = _defined(tables, "Suppliers") or set()
    items = _defined(tables, "Items") or set()
    check_items = _defined(tables, "Items") is not None
    check_groups = (
        _defined(tables, "Suppliers") is not None
        and _defined(tables, "Partners") is not None
        and "Blocs" not in ctx.broken
        and tables["Suppliers"].ok("country")
    )
    categories: set[str] = set()
    it = tables.get("Items")
    if it is not None:
        categories = {v for v in it.col("category") if isinstance(v, str)}
    countries: set[str] = set()
    supplier_countries: set[str] = set()
    sp = tables.get("Suppliers")
    if sp is not None and sp.ok("country"):
        supplier_countries = {v for v in sp.col("country") if isinstance(v, str)}
        countries |= supplier_countries
    partner_countries: dict[str, list[str]] = {}  # country -> the partners in it
    pa = tables.get("Partners")
    if pa is not None and pa.ok("partner"):
        for p, c in zip(pa.col("partner"), pa.col("country"), strict=True):
            home = c if isinstance(c, str) else p if c is None and isinstance(p, str) else None
            if home is not None:
                countries.add(home)
                partner_countries.setdefault(home, []).append(p)
    blocs: set[str] = set()
    bl = tables.get("Blocs")
    if bl is not None and bl.ok("bloc"):
        blocs = {v for v in bl.col("bloc") if isinstance(v, str)}
    keywords = ("domestic", *EACH_GROUPS)
    share_users = (*SHARE_RULES, "workshare", "n_minus_1")
    quantity_users = (*QUANTITY_RULES, *COUNT_RULES)

    groups = t.col("group")
    for k, (row, rec) in enumerate(t.records()):
        rule, partner, item, group = rec["rule"], rec["partner"], rec["item"], rec["group"]
        share, quantity = rec["share"], rec["quantity"]
        if not isinstance(rule, str):
            continue
        # item: an item id, else a category
        if check_items and isinstance(item, str) and item not in items and item not in categories:
            _unknown_ref(ctx, "Rules", row, "item", item, "Items (item or category)",
                         items | categories, "item or category")
        # group
        kind = None
        if isinstance(group, str) and rule != "workshare":
            _warn_ambiguous_group(ctx, row, rule, group, suppliers, supplier_countries,
                                  partner_countries, blocs, keywords)
        if isinstance(group, str):
            if group in suppliers:
                kind = "supplier"
            elif group in countries:
                kind = "country"
            elif group in blocs:
                kind = "bloc"
            elif group.lower() in keywords:
                kind = group.lower()
                groups[k] = kind
            elif not check_groups:
                kind = BAD
            else:
                _unknown_ref(ctx, "Rules", row, "group", group, "Suppliers, Partners or Blocs",
                             suppliers | countries | blocs | set(keywords),
                             "group (supplier, country or bloc)",
                             fix="name a supplier id, a country of a supplier or partner, a bloc "
                             "of sheet Blocs, or domestic, each_supplier or each_country (known: "
                             + _known_list(suppliers | countries | blocs) + ")")
                kind = BAD
        if rule == "workshare":
            if group is not None and group is not BAD:
                ctx.warnings.append(
                    f"sheet 'Rules' row {row}: workshare ignores group ({group!r})")
        else:
            needs_group = rule == "ban" or rule in SHARE_RULES or rule in QUANTITY_RULES
            if needs_group and group is None:
                ctx.add("Rules", row, "group", None, f"{rule} needs a group",
                        "enter a supplier id, a country, a bloc, or domestic"
                        + (", each_supplier or each_country" if rule in EACH_GROUP_RULES else ""))
            if kind in EACH_GROUPS and rule not in EACH_GROUP_RULES:
                ctx.add("Rules", row, "group", group,
                        f"{kind} is only for " + ", ".join(EACH_GROUP_RULES),
                        "name a supplier, country or bloc, or use the rule "
                        + ", ".join(EACH_GROUP_RULES))
            if kind == "domestic" and partner is None and rule != "ban":
                ctx.add("Rules", row, "partner", None,
                        f"group domestic needs a partner in a {rule} rule",
                        "enter the partner whose own country is meant, or name the country as "
                        "the group")
        # share
        if rule in share_users:
            if share is None:
                ctx.add("Rules", row, "share", None, f"{rule} needs a share",
                        "enter a fraction between 0 and 1 (65% is 0.65)")
        elif isinstance(share, float):
            ctx.warnings.append(f"sheet 'Rules' row {row}: {rule} ignores share ({_shown(share)})")
        # quantity
        if rule in quantity_users:
            if quantity is None:
                what = "a number of units" if rule in QUANTITY_RULES else "a number of suppliers"
                ctx.add("Rules", row, "quantity", None, f"{rule} needs a quantity", f"enter {what}")
            elif rule in COUNT_RULES and isinstance(quantity, float) and not quantity.is_integer():
                ctx.add("Rules", row, "quantity", _shown(quantity),
                        f"{rule} needs a whole number of suppliers",
                        f"enter a whole number, e.g. {math.floor(quantity)} or {math.ceil(quantity)}")
        elif isinstance(quantity, float):
            ctx.warnings.append(
                f"sheet 'Rules' row {row}: {rule} ignores quantity ({_shown(quantity)})")


def _check_substitutes(ctx: _Ctx, tables: dict[str, _Table]) -> None:
    """A substitute differs from its item; a row for every partner makes a row for one
    partner with the same item and substitute redundant (a warning); items of different
    units are substituted one for one (a warning)."""
    t = tables.get("Substitutes")
    if t is None or not (t.ok("item") and t.ok("substitute")):
        return
    units: dict[str, Any] = {}
    it = tables.get("Items")
    if it is not None and it.ok("item"):
        units = {i: u for i, u in zip(it.col("item"), it.col("unit"), strict=True)
                 if isinstance(i, str) and isinstance(u, str)}
    every: dict[tuple[str, str], int] = {}
    partners = t.col("partner") if t.ok("partner") else [BAD] * len(t.rows)
    for row, item, sub, partner in zip(t.rows, t.col("item"), t.col("substitute"), partners,
                                       strict=True):
        if isinstance(item, str) and isinstance(sub, str) and partner is None:
            every.setdefault((item, sub), row)
    for row, item, sub, partner in zip(t.rows, t.col("item"), t.col("substitute"), partners,
                                       strict=True):
        if not (isinstance(item, str) and isinstance(sub, str)):
            continue
        if item == sub:
            ctx.add("Substitutes", row, "substitute", sub,
                    "an item cannot substitute for itself (every partner accepts the item "
                    "it demands)",
                    "name another item as the substitute, or delete the row")
            continue
        if isinstance(partner, str) and (item, sub) in every:
            ctx.warnings.append(
                f"sheet 'Substitutes' row {row}: row {every[item, sub]} already lets every "
                f"partner take {sub!r} for {item!r}; this row for {partner!r} adds nothing")
        a, b = units.get(item), units.get(sub)
        if a is not None and b is not None and a.strip().lower() != b.strip().lower():
            ctx.warnings.append(
                f"sheet 'Substitutes' row {row}: {sub!r} (unit {b!r}) replaces {item!r} "
                f"(unit {a!r}) one for one")


def _check_whole_units(ctx: _Ctx, tables: dict[str, _Table]) -> None:
    """The demand of an item delivered in whole units is a whole number."""
    it, d = tables.get("Items"), tables.get("Demand")
    if it is None or d is None or not (it.ok("item") and d.ok("item") and d.ok("quantity")):
        return
    whole = {i for i, w in zip(it.col("item"), it.col("whole_units"), strict=True)
             if isinstance(i, str) and w is True}
    if not whole:
        return
    for row, item, q in zip(d.rows, d.col("item"), d.col("quantity"), strict=True):
        if item in whole and isinstance(q, float) and math.isfinite(q) and not q.is_integer():
            ctx.add("Demand", row, "quantity", _shown(q),
                    f"{item!r} is delivered in whole units (Items.whole_units = yes): its demand "
                    "must be a whole number",
                    f"enter a whole number, e.g. {math.floor(q)} or {math.ceil(q)}, or set "
                    f"whole_units to no for {item!r} in sheet Items")


def _warn_ambiguous_group(ctx: _Ctx, row: int, rule: str, group: str, suppliers: set[str],
                          supplier_countries: set[str], partner_countries: dict[str, list[str]],
                          blocs: set[str], keywords: tuple[str, ...]) -> None:
    """A group naming more than one kind of thing resolves as the contract says (a supplier,
    then a country, then a bloc, then a keyword) but says so, and how to name the other: a
    country that is only a partner's (default) country and also a bloc read as the country
    selects no supplier, and a ban on it bans nothing."""
    kinds = []
    if group in suppliers:
        kinds.append(("supplier", f"supplier {group!r} (sheet Suppliers)"))
    if group in supplier_countries or group in partner_countries:
        whose = ("of a supplier" if group in supplier_countries else
                 "of partner " + ", ".join(repr(p) for p in partner_countries[group][:3])
                 + " (sheet Partners; a blank country is the partner id)")
        kinds.append(("country", f"the country {group!r} {whose}"))
    if group in blocs:
        kinds.append(("bloc", f"the bloc {group!r} (sheet Blocs)"))
    if group.lower() in keywords:
        kinds.append(("keyword", f"the keyword {group.lower()!r}"))
    if len(kinds) < 2:
        return
    taken = kinds[0][0]
    how = {
        "country": f"to mean the country, rename supplier {group!r} in sheet Suppliers (and "
                   "wherever the id is used)",
        "bloc": f"to mean the bloc, rename it in sheet Blocs (e.g. to '{group}_bloc') and name "
                "that here",
        "keyword": f"to mean {group.lower()!r}, rename the {taken} {group!r}",
    }
    note = ""
    if taken == "country" and group not in supplier_countries:
        note = (f"; no supplier is in country {group!r}, so the rule selects no supplier"
                + (" (it bans nothing)" if rule == "ban" else ""))
    ctx.warnings.append(
        f"sheet 'Rules' row {row}: group {group!r} names " + " and ".join(d for _, d in kinds)
        + f"; it is read as the {taken} (a group is looked up as a supplier, then a country, "
        f"then a bloc){note}; " + "; ".join(how[k] for k, _ in kinds[1:]))


def _check_settings(ctx: _Ctx, tables: dict[str, _Table]) -> dict[str, Any]:
    settings = dict(SETTING_DEFAULTS)
    t = tables.get("Settings")
    if t is None or not (t.ok("key") and t.ok("value")):
        return settings
    for row, key, value in zip(t.rows, t.col("key"), t.col("value"), strict=True):
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        if key in ("time_limit", "mip_gap"):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            ok = math.isfinite(number) and (
                number > 0 if key == "time_limit" else 0 <= number < 1
            )
            if not ok:
                ctx.add("Settings", row, "value", value, f"bad value for {key}",
                        f"enter {SETTING_HELP[key]}"
                        + (" (1% is 0.01)" if key == "mip_gap" else ""))
                continue
            settings[key] = number
        else:
            settings[key] = value
    return settings


# --------------------------------------------------------------------------- build


def _build_frame(table: _Table | None, sheet: Sheet, periods: list[str],
                 with_rows: bool) -> pd.DataFrame:
    n = 0 if table is None else len(table.rows)
    data: dict[str, pd.Series] = {}
    for col in sheet.columns:
        values = [None] * n if table is None else list(table.col(col.name))
        if col.default is not None and (sheet.name, col.name) not in _DESCRIPTIVE_DEFAULTS:
            values = [col.default if v is None else v for v in values]
        if (sheet.name, col.name) == ("Offers", "first_period") and periods:
            values = [periods[0] if v is None else v for v in values]
        if (sheet.name, col.name) == ("Partners", "country"):
            ids = table.col("partner") if table is not None else []
            values = [p if v is None else v for v, p in zip(values, ids, strict=True)]
        if col.kind in ("number", "integer"):
            data[col.name] = pd.Series(
                [math.nan if v is None else float(v) for v in values], dtype="float64")
        elif col.kind == "yesno":
            data[col.name] = pd.Series([bool(v) for v in values], dtype=bool)
        else:
            data[col.name] = pd.Series(values, dtype=object)
    if with_rows:
        data["source_row"] = pd.Series([] if table is None else table.rows, dtype="int64")
    return pd.DataFrame(data)


def _build(tables: dict[str, _Table], periods: list[str], settings: dict[str, Any],
           warnings: list[str]) -> ProcureData:
    frames: dict[str, Any] = {}
    for name, sheet in SHEETS.items():
        if name == "Settings":
            continue
        frame = _build_frame(tables.get(name), sheet, periods,
                             with_rows=name in ("Demand", "Rules", "Substitutes"))
        if name == "PriceTiers":
            frame = frame[frame["min_quantity"] > 0].reset_index(drop=True)
        frames[table_attribute(name)] = frame
    return ProcureData(
        **frames,
        settings=settings,
        periods=tuple(periods),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- entry point


def validate_tables(tables: Mapping[str, pd.DataFrame], *, source: str = "frames") -> ProcureData:
    """Check tables against the contract and return :class:`ProcureData`.

    ``tables`` maps sheet names (matched case-insensitively after trimming, e.g. ``"Demand"``)
    to DataFrames whose column labels are the column names.  For plain DataFrames the row
    reported in messages is ``position + 2`` (as if pasted under a header in Excel); for
    :class:`RawTables` read from a workbook it is the Excel row.  Raises :class:`InputError`
    with every problem found.
    """
    ctx = _Ctx(
        problems=list(getattr(tables, "problems", ())),
        warnings=list(getattr(tables, "warnings", ())),
    )
    excel_rows = bool(getattr(tables, "excel_rows", False))
    broken = set(getattr(tables, "broken", ()))
    ctx.broken = {name for name in SHEETS if name.lower() in broken}

    matched: dict[str, tuple[str, Any]] = {}
    unknown: list[str] = []
    for key, df in tables.items():
        norm = str(key).strip().lower()
        sheet = _SHEET_BY_LOWER.get(norm)
        if sheet is None:
            if norm != HELP_SHEET.lower():
                unknown.append(str(key))
            continue
        if sheet.name in matched:
            ctx.add(sheet.name, None, None, str(key),
                    f"two sheets are named {sheet.name} (names are matched ignoring case and "
                    f"spaces): {matched[sheet.name][0]!r} and {str(key)!r}",
                    "keep one of them: rename or delete the other")
            continue
        matched[sheet.name] = (str(key), df)
    if unknown:
        ctx.warnings.append("sheets ignored (not part of the contract): "
                            + ", ".join(repr(u) for u in unknown))

    parsed: dict[str, _Table] = {}
    for name, sheet in SHEETS.items():
        if name not in matched:
            if sheet.required and name.lower() not in broken:
                ctx.add(name, None, None, None, f"required sheet {name} is missing",
                        f"add a sheet named {name} with the columns "
                        + ", ".join(sheet.column_names) + f" ({sheet.description})")
            continue
        given, df = matched[name]
        table = _parse_sheet(ctx, sheet, given, df, excel_rows)
        parsed[name] = table
        if sheet.required and not table.rows:
            word = _ROWS_WORD.get(name, "entry")
            ctx.add(name, None, None, None, f"{name} has no rows",
                    f"add one row per {word} under the header row")
        _check_keys(ctx, table)

    _check_references(ctx, parsed)
    offers = _offer_pairs(parsed)
    _check_offer_exists(ctx, parsed, "Capacity", offers)
    _check_offer_exists(ctx, parsed, "PriceTiers", offers)
    _check_tiers(ctx, parsed, offers)

    demand = parsed.get("Demand")
    periods: list[str] = []
    if demand is not None and demand.ok("period"):
        periods = sorted({p for p in demand.col("period") if isinstance(p, str)},
                         key=period_sort_key)
        if periods:
            _check_periods(ctx, parsed, periods)
        if demand.ok("quantity") and demand.rows:
            qs = demand.col("quantity")
            if all(isinstance(q, float) and q == 0 for q in qs):
                ctx.warnings.append("every Demand quantity is 0: there is nothing to buy")

    transport = parsed.get("Transport")
    if transport is not None and transport.ok("from_country"):
        sp = parsed.get("Suppliers")
        if sp is not None and sp.ok("country"):
            countries = {c for c in sp.col("country") if isinstance(c, str)}
            for row, c in zip(transport.rows, transport.col("from_country"), strict=True):
                if isinstance(c, str) and c not in countries:
                    ctx.warnings.append(
                        f"sheet 'Transport' row {row}: no supplier is in country {c!r}; "
                        "the row is never used")

    _check_rules(ctx, parsed)
    _check_substitutes(ctx, parsed)
    _check_whole_units(ctx, parsed)
    settings = _check_settings(ctx, parsed)

    if ctx.problems:
        order = {name: k for k, name in enumerate(SHEETS)}
        ctx.problems.sort(key=lambda p: (
            -1 if p.sheet is None else order.get(p.sheet, len(order)),
            -1 if p.row is None else p.row,
        ))
        raise InputError(ctx.problems)
    return _build(parsed, periods, settings, ctx.warnings)
