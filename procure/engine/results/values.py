"""A solver's values as the result tables read them: noise set to 0, integers rounded."""

from __future__ import annotations

import numpy as np

from procure.engine.model import Model
from procure.engine.model.index import BuildContext

#: a value at most this fraction of its column's scale is solver noise, reported as 0. The
#: scale of a delivery or shortfall is its demand row's quantity, of any other column its
#: finite upper bound (else 1): a demand of 5e-8 units is delivered, while 1e-6 units of
#: noise on a million-unit row read as 0 (an absolute 1e-7 dropped the first)
ZERO_RTOL = 1e-9


def column_scale(model: Model) -> np.ndarray:
    """What a column's value is measured against (see :data:`ZERO_RTOL`)."""
    up = model.col_upper
    scale = np.where(np.isfinite(up) & (up > 0), up, 1.0)
    ctx: BuildContext = model.extras["context"]
    xb = model.variables["x"]
    scale[xb.start:xb.stop] = ctx.x["demand"].to_numpy(dtype=float)
    ub = model.variables["shortfall"]
    if ub.size:
        quantity = ctx.data.demand["quantity"].to_numpy(dtype=float)
        scale[ub.start:ub.stop] = quantity[ub.index["demand_row"].to_numpy()]
    return scale


def clean_values(values: np.ndarray, model: Model) -> np.ndarray:
    """Solver values with noise set to 0 (relative to each column's scale) and integer
    columns rounded."""
    v = np.asarray(values, dtype=float).copy()
    v[np.abs(v) <= ZERO_RTOL * column_scale(model)] = 0.0
    ints = model.integrality
    v[ints] = np.round(v[ints])
    return v



def block_values(model: Model, v: np.ndarray, name: str) -> np.ndarray:
    """The values of variable block ``name``."""
    b = model.variables[name]
    return v[b.start:b.stop]
