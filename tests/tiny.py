"""Tiny scenarios in a few lines: SPEC tables as DataFrames, validated by ``procure.validate_tables``.

::

    data = tiny(
        offers=[dict(supplier="A", item="x", unit_price=10, capacity=5)],
        demand=[("P", "x", 1, 8)],
        suppliers={"A": "FR"},
    )
    result = solved(data)          # optimal, and re-checked by tests/checker.check_solution

Defaults keep tests short: every partner in Demand gets a Partners row (country = its id),
every item a plain Items row, every supplier in Offers a Suppliers row (country = its id)
unless given.  Any sheet may be given in full instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

import procure

try:
    from tests.checker import check_solution
except ImportError:  # tests/ is not a package
    from checker import check_solution

__all__ = ["check_solution", "frame", "tiny", "solved", "rule", "alloc", "qty", "rules_of"]


def frame(rows, columns: list[str] | None = None) -> pd.DataFrame:
    """A list of dicts, or of tuples with ``columns``, as a DataFrame."""
    rows = list(rows)
    if rows and not isinstance(rows[0], Mapping):
        return pd.DataFrame([list(r) for r in rows], columns=columns)
    return pd.DataFrame(rows, columns=columns) if not rows else pd.DataFrame(rows)


def tiny(
    *,
    offers: Iterable,
    demand: Iterable,
    partners: Mapping | Iterable | None = None,
    items: Mapping | Iterable | None = None,
    suppliers: Mapping | Iterable | None = None,
    capacity: Iterable | None = None,
    tiers: Iterable | None = None,
    transport: Iterable | None = None,
    blocs: Iterable | None = None,
    rules: Iterable | None = None,
    settings: Mapping | None = None,
    substitutes: Iterable | None = None,
) -> procure.ProcureData:
    """Validated data from short descriptions (see module docstring).

    * ``demand``: tuples ``(partner, item, period, quantity)``
    * ``offers``: dicts with Offers columns
    * ``partners``: ``{partner: {"country": .., "budget": ..}}`` (partners of Demand not
      mentioned get a plain row) or a full list of dicts
    * ``items``: ``{item: {"category": .., "shortfall_penalty": ..}}`` (likewise) or dicts
    * ``suppliers``: ``{supplier: country}`` or ``{supplier: {"country": .., "capacity": ..}}``
    * ``capacity``: tuples ``(supplier, item, period, capacity)``
    * ``tiers``: tuples ``(supplier, item, min_quantity, unit_price)``
    * ``transport``: tuples ``(from_country, to_partner, cost_per_unit, item or None)``
    * ``blocs``: tuples ``(bloc, country)``
    * ``rules``: dicts (see :func:`rule`)
    * ``substitutes``: tuples ``(item, substitute, partner or None)``
    """
    demand_df = frame(demand, ["partner", "item", "period", "quantity"])
    offers_df = frame(offers)
    tables: dict[str, pd.DataFrame] = {"Demand": demand_df, "Offers": offers_df}

    tables["Partners"] = _entity(partners, "partner", list(dict.fromkeys(demand_df["partner"])))
    tables["Items"] = _entity(items, "item",
                              list(dict.fromkeys(list(demand_df["item"]) + list(offers_df["item"]))))
    if suppliers is None:
        suppliers = {s: s for s in dict.fromkeys(offers_df["supplier"])}
    if isinstance(suppliers, Mapping):
        suppliers = [
            {"supplier": s, **(v if isinstance(v, Mapping) else {"country": v})}
            for s, v in suppliers.items()
        ]
    tables["Suppliers"] = frame(suppliers)
    if capacity is not None:
        tables["Capacity"] = frame(capacity, ["supplier", "item", "period", "capacity"])
    if tiers is not None:
        tables["PriceTiers"] = frame(tiers, ["supplier", "item", "min_quantity", "unit_price"])
    if transport is not None:
        tables["Transport"] = frame(transport, ["from_country", "to_partner", "cost_per_unit", "item"])
    if blocs is not None:
        tables["Blocs"] = frame(blocs, ["bloc", "country"])
    if rules is not None:
        cols = ["rule", "partner", "item", "group", "share", "quantity", "name"]
        tables["Rules"] = pd.DataFrame([{c: r.get(c) for c in cols} for r in rules], columns=cols)
    if substitutes is not None:
        tables["Substitutes"] = frame(substitutes, ["item", "substitute", "partner"])
    if settings is not None:
        tables["Settings"] = pd.DataFrame({"key": list(settings), "value": list(settings.values())})
    return procure.validate_tables(tables)


def _entity(given, key: str, default_ids: list) -> pd.DataFrame:
    if given is None:
        return pd.DataFrame({key: default_ids})
    if isinstance(given, Mapping):  # ids not mentioned get a plain row
        given = {**given, **{k: {} for k in default_ids if k not in given}}
        return pd.DataFrame([{key: k, **(v or {})} for k, v in given.items()])
    return frame(given)


def rule(kind: str, *, partner=None, item=None, group=None, share=None, quantity=None,
         name=None) -> dict:
    """One Rules row as a dict."""
    return dict(rule=kind, partner=partner, item=item, group=group, share=share,
                quantity=quantity, name=name)


def solved(data: procure.ProcureData, *, solver: str = "highs", check: bool = True,
           **kwargs) -> procure.Result:
    """Solve, insist on an optimal plan, and re-check it independently."""
    result = procure.solve(data, solver=solver, **kwargs)
    assert result.status == procure.Status.OPTIMAL, result.message
    if check:
        check_solution(data, result)
    return result


def qty(result: procure.Result, **where) -> float:
    """Total allocated quantity over the allocation rows matching ``where`` (column=value)."""
    a = result.allocation
    if a.empty:
        return 0.0
    mask = pd.Series(True, index=a.index)
    for col, value in where.items():
        mask &= a[col].astype(str) == str(value)
    return float(a.loc[mask, "quantity"].sum())


def alloc(result: procure.Result) -> dict[tuple, float]:
    """``{(partner, item, supplier, period): quantity}`` of the plan."""
    a = result.allocation
    return {(r.partner, r.item, r.supplier, r.period): float(r.quantity) for r in a.itertuples()}


def rules_of(result: procure.Result, kind: str | None = None) -> pd.DataFrame:
    """The rules table, optionally only rows of one rule type."""
    table = result.rules
    if kind is not None:
        table = table[table["rule"] == kind]
    return table.reset_index(drop=True)
