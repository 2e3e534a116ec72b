"""Coalitions and their costs (docs/model.md section 4).

``c(S)`` is the optimal cost of coalition ``S``: the same model with the demand of partners
outside S removed, their partner-scoped rules dropped, and pool rules applied to S's pool (a
pool rule's absolute quantity scaled by S's share of the pool's demand for the items in its
scope; shares and supplier counts as written).

:func:`coalition_data` says this literally, as data. :func:`coalition_costs` is the fast path
used for games over many coalitions: the many-solve engine (:mod:`procure.analysis.many`)
builds the grand coalition's model once and turns it into each coalition's model by changing
bounds only, on one reused HiGHS LP, branched on by :mod:`procure.analysis.branch`. Tests
assert both paths give the same costs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.analysis.games import (  # GameInfeasible and shapley_from_costs re-exported here too
    GameInfeasible,
    sample_units,
    shapley_from_costs,
    shapley_from_units,
    unit_coalitions,
)
from procure.analysis.many import ManyEngine, Variant, coalition_data, solve_variants
from procure.analysis.many.run import Progress
from procure.analysis.many.variants import check_members
from procure.data.tables import ProcureData
from procure.engine.status import Status

Coalition = frozenset[str]

__all__ = ["CoalitionCost", "CoalitionEngine", "GameInfeasible", "all_coalitions", "coalition_costs",
           "coalition_data", "savings", "shapley", "shapley_from_costs", "standalone_costs"]


@dataclass
class CoalitionCost:
    members: Coalition
    status: Status
    cost: float  # NaN when there is no plan
    seconds: float


def coalition_costs(
    data: ProcureData,
    coalitions: Iterable[Iterable[str]],
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    workers: int = 1,
    scheduler=None,
    progress: Progress | None = None,
    chunk: int | None = None,
) -> pd.DataFrame:
    """Optimal cost ``c(S)`` of each coalition, reusing one model (and one HiGHS) throughout.

    Returns a DataFrame with ``coalition`` (frozenset of partner ids), ``size``, ``status``,
    ``cost`` (NaN without a plan), ``gap`` (the proven relative gap of the cost) and
    ``seconds``. The empty coalition costs 0. ``workers > 1`` splits the coalitions over that
    many local processes, ``scheduler`` runs them on a Dask cluster (see
    :func:`procure.analysis.many.solve_variants`).

    >>> import procure
    >>> from procure.analysis.sharing import coalition_costs
    >>> data = procure.datasets.load_demo()
    >>> table = coalition_costs(data, [["DE"], ["FR"], ["DE", "FR"]])
    >>> list(table["size"])
    [1, 1, 2]
    """
    coalitions = [frozenset(c) for c in coalitions]
    for c in coalitions:
        check_members(data, c)
    table = solve_variants(data, [Variant(label=c, members=c) for c in coalitions],
                           workers=workers, scheduler=scheduler, progress=progress,
                           time_limit=time_limit, mip_gap=mip_gap, chunk=chunk)
    return pd.DataFrame({
        "coalition": coalitions,
        "size": [len(c) for c in coalitions],
        "status": table["status"].to_numpy(dtype=object) if len(table) else [],
        "cost": table["cost"].to_numpy(dtype=float) if len(table) else [],
        "gap": table["gap"].to_numpy(dtype=object) if len(table) else [],
        "seconds": table["seconds"].to_numpy(dtype=float) if len(table) else [],
    })


class CoalitionEngine:
    """Solves coalitions one after another on one model (a :class:`ManyEngine` that speaks
    in coalitions). Build one per process and reuse it."""

    def __init__(self, data: ProcureData, *, mip_gap: float | None = None,
                 time_limit: float | None = None, threads: int | None = None):
        self.engine = ManyEngine(data, mip_gap=mip_gap, time_limit=time_limit, threads=threads)
        self.data = data

    def solve(self, members: Coalition) -> CoalitionCost:
        members = frozenset(members)
        found = self.engine.solve(Variant(label=members, members=members))
        return CoalitionCost(members, found.status, found.cost, found.seconds)


def all_coalitions(partners: Sequence[str]) -> list[Coalition]:
    """Every subset of ``partners`` (2^n of them, the empty one first)."""
    n = len(partners)
    return [frozenset(p for k, p in enumerate(partners) if mask >> k & 1) for mask in range(1 << n)]


# -- fair sharing -----------------------------------------------------------------------------

def standalone_costs(data: ProcureData, **options) -> pd.DataFrame:
    """``c({p})`` for every partner: what each would pay alone (partner, standalone_cost, status)."""
    partners = list(data.partners["partner"])
    table = coalition_costs(data, [[p] for p in partners], **options)
    return pd.DataFrame({"partner": partners, "standalone_cost": table["cost"].to_numpy(),
                         "status": table["status"].to_numpy()})


def savings(data: ProcureData, result, **options) -> pd.DataFrame:
    """What pooling saves each partner under proportional sharing:
    partner, standalone_cost, pooled_cost (its proportional share), saving, saving_pct.
    The total saving ``sum_p c({p}) - c(P)`` can be negative; it is reported, not hidden."""
    alone = standalone_costs(data, **options)
    pooled = result.partner_costs.set_index("partner")["total"]
    table = alone.assign(pooled_cost=alone["partner"].map(pooled).to_numpy(dtype=float))
    table["saving"] = table["standalone_cost"] - table["pooled_cost"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["saving_pct"] = table["saving"] / table["standalone_cost"]
    return table[["partner", "standalone_cost", "pooled_cost", "saving", "saving_pct", "status"]]


def shapley(data: ProcureData, *, exact_limit: int = 12, samples: int = 200, seed: int = 0,
            workers: int = 1, **options) -> pd.DataFrame:
    """Shapley cost shares of every partner (partner, shapley, std_error, method).

    Exact over all 2^n coalitions up to ``exact_limit`` partners; above it, the unbiased
    permutation-sampling estimate over ``samples`` random orders with its standard error
    (coalitions met along the orders are solved once each). See
    :func:`procure.analysis.cooperation.fair_shares` for every measure at once, with a budget
    of solves and better sampling designs.
    """
    partners = list(data.partners["partner"])
    n = len(partners)
    if n <= exact_limit:
        table = coalition_costs(data, all_coalitions(partners), workers=workers, **options)
        return shapley_from_costs(partners, dict(zip(table["coalition"], table["cost"], strict=True)))
    units = sample_units(n, samples, "plain", np.random.default_rng(seed))
    needed = list(dict.fromkeys(c for u in units for c in unit_coalitions(partners, u)))
    table = coalition_costs(data, needed, workers=workers, **options)
    costs = {frozenset(): 0.0, **dict(zip(table["coalition"], table["cost"], strict=True))}
    return shapley_from_units(partners, units, costs, design="plain")
