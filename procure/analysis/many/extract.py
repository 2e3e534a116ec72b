"""What a many-solve run may keep of each plan besides its cost (``extract=`` of
:func:`~procure.analysis.many.solve_variants`).

Each is ``f(data, model, col_value)``: a module-level function, so it travels to worker
processes by name. On the fast path ``data`` and ``model`` are the grand ones (partners
outside a coalition show zeros); on the literal path they are the variant's own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData
from procure.engine.backends import SolverOutput
from procure.engine.model import Model
from procure.engine.status import Status


def plan_result(data: ProcureData, model: Model, col_value: np.ndarray):
    """The plan as a :class:`procure.Result` (every table of docs/results.md; no duals)."""
    from procure.engine.results import make_result

    out = SolverOutput(Status.OPTIMAL, col_value, None, float(model.col_cost @ col_value), None, 0.0,
                       "highs")
    return make_result(data, model, out, 0.0)


def partner_costs(data: ProcureData, model: Model, col_value: np.ndarray) -> pd.DataFrame:
    """Each partner's cost on the proportional split of the plan (partner, purchase, setup,
    transport, shortfall, total), every partner of ``data`` listed."""
    table = plan_result(data, model, col_value).partner_costs
    return table[["partner", "purchase", "setup", "transport", "shortfall", "total"]].reset_index(drop=True)


def shortfall(data: ProcureData, model: Model, col_value: np.ndarray) -> pd.DataFrame:
    """Units not delivered per partner and item demanded (partner, item, shortfall), over all
    periods; only items with a shortfall_penalty can fall short (the others are met exactly
    or the plan is infeasible)."""
    block = model.variables["shortfall"]
    values = np.asarray(col_value[block.start:block.stop], dtype=float)
    values = np.where(values > 1e-9 * np.maximum(1.0, np.abs(values)), values, 0.0)
    table = block.index[["partner", "item"]].assign(shortfall=values)
    if table.empty:
        return pd.DataFrame({"partner": pd.Series(dtype=object), "item": pd.Series(dtype=object),
                             "shortfall": pd.Series(dtype=float)})
    return table.groupby(["partner", "item"], sort=False, as_index=False)["shortfall"].sum()
