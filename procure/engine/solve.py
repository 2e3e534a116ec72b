"""One door to solve a scenario: data in, :class:`~procure.results.Result` out."""

from __future__ import annotations

import time

from procure.data.tables import ProcureData
from procure.engine.backends import solve_highs
from procure.engine.model import Model, build_model
from procure.engine.results import Result, make_result
from procure.engine.status import Status

SOLVERS = ("highs", "cbc")


def solve(
    data: ProcureData,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    solver: str = "highs",
    verbose: bool = False,
    threads: int | None = None,
    diagnose: bool = True,
) -> Result:
    """Find the cheapest plan for validated ``data``.

    ``time_limit`` (seconds) and ``mip_gap`` (relative) default to the
    workbook's Settings, else no limit and HiGHS's default gap (1e-4).
    ``solver`` is ``"highs"`` (default, in process) or any solver PuLP knows
    (``"cbc"``, ``"gurobi"``, ``"cplex"``, ...) through :mod:`procure.pulp_door`.
    When the plan is infeasible and ``diagnose`` is true, ``result.diagnosis``
    names the demand rows, capacities, budgets and rules that conflict.

    >>> import procure
    >>> result = procure.solve(procure.datasets.load_demo())
    >>> result.status
    <Status.OPTIMAL: 'optimal'>
    """
    time_limit = data.solver_option("time_limit", time_limit)
    mip_gap = data.solver_option("mip_gap", mip_gap)
    start = time.perf_counter()
    model = build_model(data)
    build_seconds = time.perf_counter() - start
    out = solve_model(model, time_limit=time_limit, mip_gap=mip_gap, solver=solver,
                      verbose=verbose, threads=threads)
    result = make_result(data, model, out, build_seconds)
    if result.status == Status.INFEASIBLE and diagnose:
        from procure.engine.diagnose import diagnose_infeasibility

        result.diagnosis = diagnose_infeasibility(data, time_limit=time_limit)
        result.message += ": " + result.diagnosis.headline()
    return result


def solve_model(model: Model, *, time_limit=None, mip_gap=None, solver="highs", verbose=False,
                threads=None):
    solver = solver.lower()
    if solver == "highs":
        return solve_highs(model, time_limit=time_limit, mip_gap=mip_gap, verbose=verbose,
                           threads=threads)
    from procure.engine.pulp_door import solve_with_pulp

    return solve_with_pulp(model, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                           verbose=verbose)
