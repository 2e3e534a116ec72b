"""What every check of a validation run shares.

:class:`RawTables` (the tables as read, with the problems reading found), the :data:`BAD`
marker for a cell whose problem is already recorded, the run's context :class:`_Ctx`
(problems and warnings, collected rather than raised), a sheet as parsed (:class:`_Table`),
and the few value helpers used by more than one check: blank cells, folding ids for
ambiguity, and showing a value as a planner would recognise it.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from procure.data.errors import Problem
from procure.data.schema import Sheet

#: a sheet named this (the template's help) is ignored without a warning
HELP_SHEET = "Help"

_KIND_TEXT = {
    "id": "an id (text or a whole number)",
    "period": "a period label (e.g. 2027 or Q1)",
    "number": "a number",
    "text": "text",
    "choice": "one of the allowed values",
    "integer": "a whole number",
    "yesno": "yes or no",
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


def _fold(text: str) -> str:
    """An id as compared for ambiguity: Unicode NFC, case-folded, runs of whitespace as one
    space.  Ids that fold alike but differ are ambiguous; the text itself is never changed."""
    if text.isascii():
        return text.casefold() if text.isalnum() else " ".join(text.split()).casefold()
    text = unicodedata.normalize("NFC", text)
    return unicodedata.normalize("NFC", " ".join(text.split()).casefold())


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
