"""One cell to a typed value.

:func:`_parse_cell` turns a raw cell into what its column's kind expects (an id, a period
label, a number, a yes/no, a choice or text), or records a problem naming the cell and
returns :data:`BAD`; :func:`_parse_column` parses a whole column, each distinct id, period
or choice once.  The largest magnitude accepted, :data:`MAX_ABS_NUMBER`, and the helpers
only this coercion uses (invisible characters, numbers as text) live here too.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import unicodedata
from typing import Any

import numpy as np

from procure.data.schema import YES_NO, Column
from procure.data.validate.context import (
    _KIND_TEXT,
    BAD,
    _Bad,
    _Ctx,
    _is_blank,
    _shown,
)

#: largest magnitude of any number in the input (quantities, prices, capacities, budgets, ...).
#: The solver works in double precision with tolerances around 1e-9 (relative) and 1e-7
#: (absolute); beyond 1e15 a unit is below the precision of a double and results are noise.
MAX_ABS_NUMBER = 1e15


_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}


def _invisible(text: str) -> str | None:
    """The first control or format (invisible) character of an id, as U+XXXX, else None."""
    if text.isprintable():
        return None
    for ch in text:
        if unicodedata.category(ch) in _INVISIBLE:
            return f"U+{ord(ch):04X}"
    return None


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
