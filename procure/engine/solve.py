"""One door to solve a scenario: data in, :class:`~procure.engine.results.Result` out."""

from __future__ import annotations

import math
import time

from procure.data.errors import InputError, Problem
from procure.data.tables import ProcureData
from procure.engine.backends import (
    empty_rows_that_fail,
    settle_status,
    solve_without_columns,
)
from procure.engine.model import Model, build_model
from procure.engine.results import Result, make_result
from procure.engine.status import Status
from procure.engine.whole_units import solve_with_whole_units

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

    ``time_limit`` (seconds, > 0) and ``mip_gap`` (relative, in [0, 1)) default to the
    workbook's Settings, else no limit and :data:`~procure.engine.backends.DEFAULT_MIP_GAP`
    (1e-6); a value out of range raises :class:`~procure.InputError`. The plan is
    ``optimal`` only when proven within
    :data:`~procure.engine.backends.OPTIMAL_GAP` (1e-6) of the best possible cost; a plan
    stopped earlier (a looser ``mip_gap``, the time limit) is ``feasible`` and
    ``result.message`` says how far from the best it may be.
    ``solver`` is ``"highs"`` (default, in process) or any solver PuLP knows
    (``"cbc"``, ``"gurobi"``, ``"cplex"``, ...) through :mod:`procure.pulp_door`.
    When the plan is infeasible and ``diagnose`` is true, ``result.diagnosis``
    names the demand rows, capacities, budgets and rules that conflict. Every plan is
    re-checked from its result tables (``result.check``); one that fails is ``check_failed``.

    >>> import procure
    >>> result = procure.solve(procure.datasets.load_demo())
    >>> result.status
    <Status.OPTIMAL: 'optimal'>
    """
    check_solver_options(time_limit=time_limit, mip_gap=mip_gap)
    time_limit = data.solver_option("time_limit", time_limit)
    mip_gap = data.solver_option("mip_gap", mip_gap)
    start = time.perf_counter()
    model = build_model(data)
    build_seconds = time.perf_counter() - start
    out = solve_model(model, time_limit=time_limit, mip_gap=mip_gap, solver=solver,
                      verbose=verbose, threads=threads)
    result = make_result(data, model, out, build_seconds)
    if result.has_plan:
        apply_check(data, result)
    if result.status == Status.INFEASIBLE and diagnose:
        from procure.engine.diagnose import diagnose_infeasibility

        result.diagnosis = diagnose_infeasibility(data, time_limit=time_limit)
        result.message += ": " + result.diagnosis.headline()
    return result


def apply_check(data: ProcureData, result: Result) -> Result:
    """Run the run-time plan check (:func:`procure.engine.check.check_plan`) on ``result``'s
    plan; a plan that fails it is ``check_failed``, never optimal or feasible, and its message
    says what failed, where and by how much."""
    from procure.engine.check import check_plan

    result.check = check_plan(data, result)
    if not result.check.ok:
        n = len(result.check.violations)
        result.status = Status.CHECK_FAILED
        result.message = (f"the solver's plan fails the run-time check ({n} violation"
                          f"{'s' if n != 1 else ''}; not a plan to act on): "
                          + result.check.headline())
    return result


def check_solver_options(*, time_limit=None, mip_gap=None, source: str = "options") -> None:
    """``time_limit`` > 0 seconds and ``mip_gap`` in [0, 1), as in the Settings sheet; raise
    :class:`~procure.InputError` naming the option and the fix otherwise (``source`` says
    where they came from: "options" for ``procure.solve``, "command line" for the CLI)."""
    problems = []

    def number(value):
        try:
            return float(value)
        except (TypeError, ValueError):
            return math.nan

    if time_limit is not None:
        t = number(time_limit)
        if not (math.isfinite(t) and t > 0):
            problems.append(Problem(None, None, "time_limit", time_limit,
                                    f"time_limit ({source}) must be a number of seconds > 0",
                                    "give a time limit in seconds, e.g. 60, or leave it out "
                                    "for no limit"))
    if mip_gap is not None:
        g = number(mip_gap)
        if not (math.isfinite(g) and 0 <= g < 1):
            hint = (f" ({g:g} looks like a percentage: {g:g} % is {g / 100:g})"
                    if math.isfinite(g) and 1 < g < 100 else "")
            problems.append(Problem(None, None, "mip_gap", mip_gap,
                                    f"mip_gap ({source}) must be a fraction in [0, 1)",
                                    "give the relative gap as a fraction, e.g. 0.01 for 1 %"
                                    + hint + ", or leave it out for the default (optimal)"))
    if problems:
        raise InputError(problems)


def solve_model(model: Model, *, time_limit=None, mip_gap=None, solver="highs", verbose=False,
                threads=None):
    """Solve ``model`` behind the door named ``solver``; the status follows the one rule of
    :func:`~procure.engine.backends.settle_status`. A model with no columns, or with a row
    that has no variable and cannot hold (a demand no delivery may serve), is answered
    without a solver: solvers skip such rows, or accept them within their tolerance."""
    solver = solver.lower()
    if model.num_cols == 0 or len(empty_rows_that_fail(model)):
        return solve_without_columns(model, solver)
    if solver == "highs":
        # whole-unit deliveries: through their relaxation first (procure.engine.whole_units)
        return solve_with_whole_units(model, time_limit=time_limit, mip_gap=mip_gap,
                                      verbose=verbose, threads=threads)
    from procure.engine.pulp_door import solve_with_pulp

    return settle_status(solve_with_pulp(model, solver=solver, time_limit=time_limit,
                                         mip_gap=mip_gap, verbose=verbose))
