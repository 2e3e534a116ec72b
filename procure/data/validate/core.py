"""The entry point :func:`validate_tables`, and building :class:`ProcureData`.

:func:`validate_tables` matches the given tables to the contract's sheets and runs every
check in order (each sheet on its own, then references, offers, price tiers, periods,
transport, rules, substitutes, whole units and settings); it raises one :class:`InputError`
with every problem found, or fills in the defaults and builds the typed frames of
:class:`ProcureData` (:func:`_build`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from procure.data.errors import InputError
from procure.data.schema import SETTING_DEFAULTS, SETTING_HELP, SHEETS, Sheet
from procure.data.tables import ProcureData, period_sort_key
from procure.data.validate.context import HELP_SHEET, _Ctx, _Table, table_attribute
from procure.data.validate.references import (
    _check_offer_exists,
    _check_periods,
    _check_references,
    _check_substitutes,
    _check_tiers,
    _check_whole_units,
    _offer_pairs,
)
from procure.data.validate.rules import _check_rules
from procure.data.validate.sheets import _check_keys, _parse_sheet

_SHEET_BY_LOWER = {name.lower(): sheet for name, sheet in SHEETS.items()}

#: defaults that are descriptions rather than values; filled by :func:`_build`
_DESCRIPTIVE_DEFAULTS = {
    ("Partners", "country"),  # the partner id
    ("Offers", "first_period"),  # the first period
    ("Transport", "item"),  # every item (None)
}

_ROWS_WORD = {
    "Partners": "partner",
    "Items": "item",
    "Suppliers": "supplier",
    "Offers": "offer (supplier, item, unit_price)",
    "Demand": "partner, item and period",
}


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
