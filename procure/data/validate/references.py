"""Checks across sheets: what one sheet names, another must define.

Ids used by a column that references another sheet (:func:`_check_references`), the
Offers row behind every Capacity and PriceTiers row, periods that Demand defines, price
tiers that never rise with quantity, Substitutes against Items, and whole-unit demand.
:func:`_unknown_ref` words every unknown id alike (with the spelling meant, when only case
or spaces differ) and :func:`_known_list` lists the ids that are known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from procure.data.schema import SHEETS
from procure.data.validate.context import BAD, _Ctx, _fold, _shown, _Table


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
