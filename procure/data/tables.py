"""Validated input: the tables of the workbook (docs/model.md, section 1) in clean, typed form.

A :class:`ProcureData` is only ever made by :func:`procure.data.validate.validate_tables`
(from a workbook or from DataFrames), so every consumer can rely on:

* ids are ``str`` (object dtype), with no leading or trailing spaces;
* every id referenced is defined, every key is unique;
* numbers are finite ``float64``; an optional number left blank is ``NaN``
  only where blank has a meaning of its own (budget, capacity,
  shortfall_penalty), otherwise it holds the default of docs/model.md;
* ``periods`` lists the Demand periods in the contract's order (numbers numerically,
  then text lexically: :func:`period_sort_key`) and every period column is one of them;
* ``demand`` and ``rules`` carry ``source_row``: the row a planner sees in
  Excel (or ``index + 2`` for DataFrames), for messages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import pandas as pd


@dataclass(frozen=True)
class ProcureData:
    partners: pd.DataFrame  # partner, name, country, budget
    items: pd.DataFrame  # item, name, unit, category, shortfall_penalty, whole_units (bool)
    suppliers: pd.DataFrame  # supplier, name, country, capacity, failure_probability
    offers: pd.DataFrame  # supplier, item, unit_price, capacity, capacity_use, min_order,
    #                       setup_cost, first_period, discount, surge
    demand: pd.DataFrame  # partner, item, period, quantity, source_row
    capacity: pd.DataFrame  # supplier, item, period, capacity
    price_tiers: pd.DataFrame  # supplier, item, min_quantity, unit_price (min_quantity > 0)
    transport: pd.DataFrame  # from_country, to_partner, item (None: every item), cost_per_unit
    blocs: pd.DataFrame  # bloc, country
    rules: pd.DataFrame  # rule, partner, item, group, share, quantity, name, source_row
    settings: dict = field(default_factory=dict)  # time_limit, mip_gap, currency
    periods: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: item, substitute, partner (None: every partner), source_row -- the partner accepts the
    #: substitute for its demand of the item, one for one
    substitutes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"item": pd.Series(dtype=object), "substitute": pd.Series(dtype=object),
         "partner": pd.Series(dtype=object), "source_row": pd.Series(dtype="int64")}))

    @property
    def currency(self) -> str:
        return str(self.settings.get("currency", "EUR"))

    def solver_option(self, key: str, given: float | None = None) -> float | None:
        """``given`` when the caller gave it, else the workbook's Settings value (time_limit,
        mip_gap), else None (the solver's own default)."""
        if given is not None:
            return float(given)
        value = self.settings.get(key)
        return None if value is None else float(value)

    def replace(self, **changes) -> ProcureData:
        """A copy with some tables replaced (tables are shared, never mutated)."""
        return replace(self, **changes)

    def summary(self) -> dict[str, int]:
        return {
            "partners": len(self.partners),
            "items": len(self.items),
            "suppliers": len(self.suppliers),
            "offers": len(self.offers),
            "periods": len(self.periods),
            "demand_rows": len(self.demand),
            "rules": len(self.rules),
            "substitutes": len(self.substitutes),
        }


#: a period label that reads as a number: ASCII digits, one optional point, an optional sign
#: and exponent ("2027", "05", "-1", "2.5", "1e3"); not "nan", "inf", "1_000" or other digits,
#: which Python's float() would also take
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def period_sort_key(label: str) -> tuple:
    """The contract's order of periods: numbers numerically first, then text lexically.

    A total order on labels, so that the order never depends on how a set happened to be
    iterated (it did: "nan" had no stable place and the same workbook cost 200, 250, 300 or
    350 by the hash seed): a label that parses as a non-finite number ("nan", "inf", "-inf",
    "1e999") is text; labels with equal numeric values ("05" and "5") are ordered by the
    label itself.
    """
    if _NUMBER.fullmatch(label):
        value = float(label)
        if math.isfinite(value):
            return (0, value, label)
    return (1, 0.0, label)
