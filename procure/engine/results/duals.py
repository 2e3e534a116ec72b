"""The marginal costs of demand and the marginal values of capacity and budgets, from the
row duals (their basis: docs/results.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.engine.model import Model


def _dual_rows(model: Model, name: str, row_dual) -> tuple[pd.DataFrame, np.ndarray] | None:
    block = model.constraints.get(name)
    if row_dual is None or block is None:
        return None
    return block.index, row_dual[block.start:block.stop]


def demand_duals(model: Model, row_dual, basis: str | None) -> pd.DataFrame:
    got = _dual_rows(model, "demand", row_dual)
    if got is None:
        return pd.DataFrame(columns=["partner", "item", "period", "marginal_cost", "basis"])
    idx, dual = got
    return idx[["partner", "item", "period"]].assign(marginal_cost=dual, basis=basis)


def capacity_duals(model: Model, row_dual, basis: str | None) -> pd.DataFrame:
    cols = ["supplier", "item", "period", "marginal_value", "basis"]
    parts = []
    for name in ("offer_capacity", "shared_capacity"):
        got = _dual_rows(model, name, row_dual)
        if got is None:
            continue
        idx, dual = got
        frame = idx.copy()
        if "item" not in frame:
            frame["item"] = None
        frame["marginal_value"] = -dual  # a <= row's dual is <= 0 in a minimisation
        frame["basis"] = basis
        parts.append(frame[cols])
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def budget_duals(model: Model, row_dual, basis: str | None) -> pd.DataFrame:
    got = _dual_rows(model, "budget", row_dual)
    if got is None:
        return pd.DataFrame(columns=["partner", "marginal_value", "basis"])
    idx, dual = got
    return idx[["partner"]].assign(marginal_value=-dual, basis=basis)
