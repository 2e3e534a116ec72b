"""The value of harmonising a standard: what each Substitutes row saves the pool.

A Substitutes row lets a partner accept, one for one, a variant of an item qualified to
another national standard. Its *value* is the pool's cost without that row minus the cost
with every row: what that one qualification is worth, with the others in place. ``all`` is
the cost without any row minus the cost with every row: what the qualifications are worth
together (more, or less, than the sum of the rows: they interact).

With ``candidates``, the rows a planner might add are valued too: the *variants* of an item
are the items of its category that the Substitutes sheet already links to it (in either
direction, for any partner), and a candidate is a partner that demands the item and does
not yet accept one of its variants. Each is priced as the saving from adding it alone, and
ranked: the table a standards working group needs, which qualification to harmonise first.

Every value is a solve of the workbook changed literally (a row removed or added), on
``workers`` local processes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData

Progress = Callable[[int, int], None]

__all__ = ["Harmonisation", "candidate_rows", "harmonise"]


@dataclass
class Harmonisation:
    """The outcome of :func:`harmonise`.

    * ``base``: status and total cost with every Substitutes row;
    * ``table``: one row per Substitutes row (``kind`` "row", ``row_id`` "Substitutes!N") and,
      with candidates, per candidate (``kind`` "candidate"): kind, row_id, partner (None:
      every partner), item, substitute, status (of the changed workbook), total_cost, value
      (the saving: cost without the row minus with it; for a candidate, cost without it minus
      with it added), sorted by value, largest first within each kind;
    * ``all``: the cost without any row minus the cost with every row (NaN when either has
      no plan).
    """

    base: dict
    table: pd.DataFrame
    all: float
    none_status: str
    currency: str = "EUR"

    def to_dict(self) -> dict:
        """The JSON of ``procure harmonise --json``: ``{"base": c, "rows": {"Substitutes!N":
        {"partner", "item", "substitute", "value"}}, "all": c(no substitutes) - c}`` and, with
        candidates, ``"candidates": [{"partner", "item", "substitute", "saving"}]``."""
        def number(v):
            return None if v is None or not np.isfinite(v) else float(v)

        rows = self.table[self.table["kind"] == "row"]
        out = {
            "base": number(self.base["total_cost"]), "base_status": self.base["status"],
            "currency": self.currency,
            "rows": {r.row_id: {"partner": r.partner, "item": r.item, "substitute": r.substitute,
                                "value": number(r.value), "status": r.status}
                     for r in rows.itertuples(index=False)},
            "all": number(self.all),
        }
        cand = self.table[self.table["kind"] == "candidate"]
        if len(cand):
            out["candidates"] = [{"partner": r.partner, "item": r.item, "substitute": r.substitute,
                                  "saving": number(r.value), "status": r.status}
                                 for r in cand.itertuples(index=False)]
        return out


def candidate_rows(data: ProcureData) -> pd.DataFrame:
    """The Substitutes rows a planner might add (module docstring): item, substitute, partner,
    for every partner demanding the item that does not accept the variant yet."""
    subs = data.substitutes
    columns = ["item", "substitute", "partner"]
    if subs is None or subs.empty:
        return pd.DataFrame(columns=columns)
    category = data.items.set_index("item")["category"]
    # variant families: connected components of the links, within one category
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(subs["item"], subs["substitute"], strict=True):
        if category.get(a) == category.get(b) or (pd.isna(category.get(a)) and pd.isna(category.get(b))):
            parent[find(a)] = find(b)
    families: dict[str, list[str]] = {}
    for item in parent:
        families.setdefault(find(item), []).append(item)
    offered = set(data.offers["item"])
    every = {(i, s) for i, s, p in zip(subs["item"], subs["substitute"], subs["partner"], strict=True)
             if not isinstance(p, str)}
    one = {(i, s, p) for i, s, p in zip(subs["item"], subs["substitute"], subs["partner"], strict=True)
           if isinstance(p, str)}
    demanders = data.demand[data.demand["quantity"] > 0].groupby("item")["partner"].unique()
    order = {p: k for k, p in enumerate(data.partners["partner"])}
    rows = []
    for members in families.values():
        for item in sorted(members):
            for substitute in sorted(members):
                if substitute == item or substitute not in offered or (item, substitute) in every:
                    continue
                for partner in sorted(demanders.get(item, []), key=order.get):
                    if (item, substitute, partner) not in one:
                        rows.append((item, substitute, partner))
    return pd.DataFrame(rows, columns=columns)


def _cost(data: ProcureData, time_limit, mip_gap) -> tuple[str, float]:
    """Status and total cost of one changed workbook (module-level: runs in workers)."""
    from procure.engine.solve import solve

    result = solve(data, time_limit=time_limit, mip_gap=mip_gap, diagnose=False)
    return result.status.value, (float(result.total_cost) if result.has_plan else float("nan"))


def _costs(variants: list[ProcureData], workers: int, progress: Progress | None, time_limit,
           mip_gap) -> list[tuple[str, float]]:
    total = len(variants)
    if workers <= 1 or total <= 1:
        out = []
        for k, data in enumerate(variants):
            out.append(_cost(data, time_limit, mip_gap))
            if progress is not None:
                progress(k + 1, total)
        return out
    context = multiprocessing.get_context("spawn")  # forked HiGHS schedulers fail
    with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
        futures = [pool.submit(_cost, d, time_limit, mip_gap) for d in variants]
        out = []
        for k, future in enumerate(futures):
            out.append(future.result())
            if progress is not None:
                progress(k + 1, total)
        return out


def harmonise(data: ProcureData, *, candidates: bool = False, workers: int = 1,
              progress: Progress | None = None, time_limit: float | None = None,
              mip_gap: float | None = None) -> Harmonisation:
    """Value every Substitutes row (and, with ``candidates``, every row a planner might add);
    see the module docstring and :class:`Harmonisation`."""
    subs = data.substitutes.reset_index(drop=True)
    cand = candidate_rows(data) if candidates else pd.DataFrame(columns=["item", "substitute", "partner"])
    variants = [data, data.replace(substitutes=subs.iloc[0:0])]
    variants += [data.replace(substitutes=subs.drop(index=k).reset_index(drop=True))
                 for k in range(len(subs))]
    for r in cand.itertuples(index=False):
        added = pd.DataFrame({"item": [r.item], "substitute": [r.substitute], "partner": [r.partner],
                              "source_row": [0]})
        variants.append(data.replace(substitutes=pd.concat([subs, added], ignore_index=True)))
    found = _costs(variants, workers, progress, time_limit, mip_gap)
    (base_status, base), (none_status, none) = found[0], found[1]
    rows = []
    for k, r in enumerate(subs.itertuples(index=False)):
        status, cost = found[2 + k]
        rows.append({"kind": "row", "row_id": f"Substitutes!{int(r.source_row)}",
                     "partner": r.partner if isinstance(r.partner, str) else None, "item": r.item,
                     "substitute": r.substitute, "status": status, "total_cost": cost,
                     "value": cost - base})
    for k, r in enumerate(cand.itertuples(index=False)):
        status, cost = found[2 + len(subs) + k]
        rows.append({"kind": "candidate", "row_id": "", "partner": r.partner, "item": r.item,
                     "substitute": r.substitute, "status": status, "total_cost": cost,
                     "value": base - cost})
    table = pd.DataFrame(rows, columns=["kind", "row_id", "partner", "item", "substitute", "status",
                                        "total_cost", "value"])
    if len(table):
        table = table.assign(_k=(table["kind"] == "candidate").astype(int),
                             _v=table["value"].fillna(-np.inf)).sort_values(
            ["_k", "_v"], ascending=[True, False], kind="stable").drop(columns=["_k", "_v"]).reset_index(drop=True)
    return Harmonisation(base={"status": base_status, "total_cost": base}, table=table,
                         all=none - base, none_status=none_status, currency=data.currency)
