"""Solvers behind one door: a :class:`~procure.model.Model` in, a :class:`SolverOutput` out.

The default door is HiGHS through highspy, fed the model's arrays in one
``passModel`` call.  The PuLP door (:mod:`procure.pulp_door`) serves CBC and
every other solver PuLP knows.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from procure.engine.model import Model
from procure.engine.status import Status

#: the relative MIP gap used when neither the caller nor the workbook's Settings give one
#: (HiGHS's own default today; every solver door and every many-solve engine reads it here)
DEFAULT_MIP_GAP = 1e-4

#: the polishing LP may run this long after a time limit has stopped the MIP (seconds)
POLISH_GRACE = 1.0


@dataclass
class SolverOutput:
    status: Status
    col_value: np.ndarray | None  # None without a plan
    row_dual: np.ndarray | None  # LP optimum only
    objective: float | None
    mip_gap: float | None
    seconds: float
    solver: str
    detail: str = ""


@contextlib.contextmanager
def _stdout_to_stderr():
    """HiGHS prints a banner on stdout the first time it starts; keep stdout for our output
    (``procure solve --json`` must print exactly one JSON object)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        os.dup2(sys.stderr.fileno(), fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)


def new_highs(verbose: bool = False):
    import highspy

    with _stdout_to_stderr():
        h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    return h


#: the thread count HiGHS's process-wide scheduler was last started with by us (None: its default)
_scheduler_threads: int | None = None


def set_threads(h, threads: int | None) -> None:
    """Ask HiGHS for ``threads`` threads. HiGHS fixes its scheduler per process at the first
    run and fails every later run that asks for another count ("Not Set"), so a change of
    count restarts the scheduler first."""
    global _scheduler_threads
    if threads is None:
        return
    import highspy

    threads = int(threads)
    if _scheduler_threads != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = threads
    h.setOptionValue("threads", threads)


def change_bounds(h, model: Model, col_upper: np.ndarray, row_lower: np.ndarray,
                  row_upper: np.ndarray, coefficients=()) -> None:
    """Replace every column's upper bound and every row's bounds of the model in ``h`` (its
    column lower bounds stay the model's), then set ``(row, col, value)`` coefficients."""
    h.changeColsBounds(model.num_cols, np.arange(model.num_cols, dtype=np.int32), model.col_lower,
                       col_upper)
    h.changeRowsBounds(model.num_rows, np.arange(model.num_rows, dtype=np.int32), row_lower, row_upper)
    for row, col, value in coefficients:
        h.changeCoeff(int(row), int(col), float(value))


def pass_model(h, model: Model) -> None:
    """Hand the whole model to HiGHS in one call (column-wise sparse arrays)."""
    import highspy

    a = model.matrix
    status = h.passModel(
        model.num_cols,
        model.num_rows,
        int(a.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        model.col_cost,
        model.col_lower,
        model.col_upper,
        model.row_lower,
        model.row_upper,
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
        model.integrality.astype(np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (an internal error in procure: please report)")


def solve_highs(
    model: Model,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    verbose: bool = False,
    threads: int | None = None,
    highs=None,
) -> SolverOutput:
    """Solve with HiGHS. ``highs`` may be a reused instance (its model is replaced)."""

    h = highs if highs is not None else new_highs(verbose)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    set_threads(h, threads)
    pass_model(h, model)
    start = time.perf_counter()
    h.run()
    out = read_highs(h, model, time.perf_counter() - start)
    if model.is_mip and out.status.has_plan:
        remaining = None if time_limit is None else float(time_limit) - (time.perf_counter() - start)
        out = polish_mip(h, model, out, time_limit=None if remaining is None
                         else max(remaining, POLISH_GRACE))
        out.seconds = time.perf_counter() - start
    return out


def polish_mip(h, model: Model, out: SolverOutput, *, time_limit: float | None = None) -> SolverOutput:
    """Make a MIP plan exact in its binaries: fix each integer column at its rounded value and
    re-solve the LP in the continuous columns.

    HiGHS accepts a binary within ``mip_feasibility_tolerance`` (1e-6) of 0 or 1, so a plan
    may carry ``y = 1e-6`` and, through ``Q <= M y`` with M in the millions of units, deliver
    units from an offer whose setup cost is then not paid and whose minimum order is not met
    (a tighter tolerance is no cure: at 1e-8 HiGHS 1.16 misses the demo's optimum). Results
    round binaries, so such a plan would be reported as breaking its own constraints. The LP with the binaries fixed
    gives the cheapest plan that really honours the rounded choice. When that LP fails (it
    should not: the rounded choice is within tolerance of a feasible one) the MIP's plan is
    kept. When the polished plan costs more than the MIP's, ``mip_gap`` is recomputed against
    the MIP's dual bound. ``h`` is left with the integer columns fixed: pass the model again
    to reuse it.
    """
    import highspy

    ints = np.flatnonzero(model.integrality).astype(np.int32)
    values = out.col_value
    fixed = np.clip(np.round(values[ints]), model.col_lower[ints], model.col_upper[ints])
    if np.array_equal(values[ints], fixed):
        return out
    bound = h.getInfo().mip_dual_bound
    h.changeColsIntegrality(len(ints), ints, np.zeros(len(ints), dtype=np.uint8))
    h.changeColsBounds(len(ints), ints, fixed, fixed)
    # HiGHS's time_limit counts the instance's whole run time, the MIP included
    h.setOptionValue("time_limit", np.inf if time_limit is None
                     else h.getRunTime() + float(time_limit))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return out
    col_value = np.asarray(h.getSolution().col_value, dtype=float)
    col_value[ints] = fixed
    objective = float(model.col_cost @ col_value)
    gap = out.mip_gap
    if gap is not None and objective > out.objective and np.isfinite(bound):
        # the leak made the MIP's plan look cheaper than it is: the gap is to the real cost
        gap = max(gap, (objective - bound) / max(abs(objective), 1e-300))
    return SolverOutput(out.status, col_value, None, objective, gap, out.seconds, out.solver,
                        out.detail + " (binaries polished)")


def read_highs(h, model: Model, seconds: float) -> SolverOutput:
    import highspy

    ms = h.getModelStatus()
    info = h.getInfo()
    has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
    MS = highspy.HighsModelStatus
    if ms == MS.kOptimal:
        status = Status.OPTIMAL
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        # every variable is bounded below and every cost >= 0: never unbounded
        status = Status.INFEASIBLE
    elif ms == MS.kUnbounded:
        status = Status.UNBOUNDED
    elif ms in (MS.kTimeLimit, MS.kIterationLimit, MS.kInterrupt, MS.kSolutionLimit):
        status = Status.FEASIBLE if has_plan else Status.TIME_LIMIT
    elif ms == MS.kModelEmpty:
        status = Status.OPTIMAL
        has_plan = True
    else:
        status = Status.ERROR
    if not status.has_plan:
        return SolverOutput(status, None, None, None, None, seconds, "highs", h.modelStatusToString(ms))
    sol = h.getSolution()
    col_value = np.asarray(sol.col_value, dtype=float)
    if model.num_cols == 0:  # an empty model (no demand to meet): HiGHS returns no values
        col_value = np.zeros(0)
    elif len(col_value) != model.num_cols:
        raise RuntimeError(f"HiGHS returned {len(col_value)} values for {model.num_cols} columns "
                           "(an internal error in procure: please report)")
    row_dual = None
    if not model.is_mip and status == Status.OPTIMAL and sol.dual_valid:
        row_dual = np.asarray(sol.row_dual, dtype=float)
    gap = 0.0
    if model.is_mip:
        gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
        if status == Status.OPTIMAL and gap is not None and gap < 0:
            gap = 0.0
    objective = float(model.col_cost @ col_value) if model.num_cols else 0.0
    return SolverOutput(status, col_value, row_dual, objective, gap, seconds, "highs",
                        h.modelStatusToString(ms))
