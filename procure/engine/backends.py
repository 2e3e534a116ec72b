"""Solvers behind one door: a :class:`~procure.engine.model.Model` in, a :class:`SolverOutput` out.

The default door is HiGHS through highspy, fed the model's arrays in one
``passModel`` call.  The PuLP door (:mod:`procure.engine.pulp_door`) serves CBC and
every other solver PuLP knows.

Every door follows one rule for its status (:func:`settle_status`): a plan is
``optimal`` only when its proven relative gap, ``(cost - bound) / cost`` with
``bound`` a proven lower bound on the best possible cost, is at most
:data:`OPTIMAL_GAP`; any other plan is ``feasible`` and carries its gap.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from procure.engine.status import Status

if TYPE_CHECKING:  # annotations only: the model package solves through this module
    from procure.engine.model import Model

#: a plan is called optimal only when it is proven within this relative gap of the best
#: possible cost (every solver door and every many-solve engine applies it)
OPTIMAL_GAP = 1e-6

#: the relative MIP gap asked of the solver when neither the caller nor the workbook's
#: Settings give one: tight enough that a plan it stops at is optimal by :data:`OPTIMAL_GAP`,
#: with room for the polishing LP's rounding (a solver door that reports no bound, as PuLP's,
#: proves no more than the gap asked); HiGHS's own default, 1e-4, gave costs 1.7e-5 above the
#: optimum. Every solver door and every many-solve engine reads it here.
DEFAULT_MIP_GAP = OPTIMAL_GAP / 2

#: the polishing LP may run this long after a time limit has stopped the MIP (seconds)
POLISH_GRACE = 1.0


@dataclass
class SolverOutput:
    status: Status
    col_value: np.ndarray | None  # None without a plan
    row_dual: np.ndarray | None  # LP optimum, or the LP with every integer column fixed
    objective: float | None
    mip_gap: float | None  # the plan's proven relative gap (None: no bound known)
    seconds: float
    solver: str
    detail: str = ""
    #: a proven lower bound on the best possible cost (None: none known)
    bound: float | None = None
    #: the relative gap the solver was asked to reach
    gap_asked: float | None = None
    #: why the search stopped short of a proof: "" (it did not), "time_limit", "gap" (the gap
    #: asked for was reached), "proof_budget" (the polished plan's proof ran out of sub-solves)
    stopped: str = ""
    #: the time limit the solve ran under (seconds; None: none)
    time_limit: float | None = None
    #: what the duals are: "lp" (a pure LP), "fixed_mip" (the LP with every integer column
    #: fixed at the plan's value), None (no duals)
    duals_basis: str | None = None


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``(objective - bound) / |objective|``: 0 when the bound reaches the objective, None when
    no bound is known, inf when the objective is 0 and the bound below it."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    diff = float(objective) - float(bound)
    if diff <= 0:
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


def settle_status(out: SolverOutput) -> SolverOutput:
    """Apply the one status rule to a plan: ``optimal`` when its gap, recomputed from
    ``objective`` and ``bound``, is within :data:`OPTIMAL_GAP`, else ``feasible``."""
    if not out.status.has_plan:
        return out
    if out.bound is not None:
        out.mip_gap = relative_gap(out.objective, out.bound)
    proven = out.mip_gap is not None and out.mip_gap <= OPTIMAL_GAP
    if proven:
        out.status = Status.OPTIMAL
        out.stopped = ""
    else:
        out.status = Status.FEASIBLE
        if not out.stopped:
            asked = out.gap_asked
            out.stopped = "gap" if asked is not None and asked > OPTIMAL_GAP else "unproven"
    return out


def trivial_bound(model: Model) -> float:
    """The least cost the column bounds alone allow (0 for procure's models: every cost and
    every lower bound is >= 0); a floor for any solver's bound."""
    c, lo, up = model.col_cost, model.col_lower, model.col_upper
    with np.errstate(invalid="ignore"):
        least = np.where(c >= 0, c * lo, c * up)
    least = np.where(c == 0, 0.0, least)
    total = float(np.sum(least))
    return total if math.isfinite(total) else -math.inf


def empty_rows_that_fail(model: Model) -> np.ndarray:
    """Rows with no variable whose bounds exclude 0: a demand no delivery may serve, a
    minimum quantity nothing may count towards. Any one makes the model infeasible, however
    small its right-hand side (solvers accept such a row within their feasibility tolerance:
    HiGHS drops a demand of 1e-8 units without a word)."""
    if model.num_rows == 0:
        return np.zeros(0, dtype=np.int64)
    terms = np.bincount(model.matrix.indices, minlength=model.num_rows)
    return np.flatnonzero((terms == 0) & ((model.row_lower > 0) | (model.row_upper < 0)))


def solve_without_columns(model: Model, solver: str) -> SolverOutput:
    """A model with no columns, or with an empty row that cannot hold, answered without a
    solver: infeasible when :func:`empty_rows_that_fail` finds a row, else the empty plan."""
    failing = empty_rows_that_fail(model)
    if len(failing):
        return SolverOutput(Status.INFEASIBLE, None, None, None, None, 0.0, solver,
                            f"{len(failing)} constraint(s) with no variable cannot hold")
    return SolverOutput(Status.OPTIMAL, np.zeros(0), np.zeros(model.num_rows), 0.0, 0.0, 0.0,
                        solver, "nothing to decide", bound=0.0, duals_basis="lp")


@contextlib.contextmanager
def _stdout_redirected(target: str | None):
    """Send file descriptor 1 to ``target`` ("stderr", or None for /dev/null) for the block.

    HiGHS prints its banner on stdout when the first ``Highs()`` of the process is made, from
    C++ (so ``sys.stdout`` cannot catch it): it is dropped unless ``verbose``, and even then
    it goes to stderr, since stdout is for procure's own output (``procure solve --json``
    prints exactly one JSON object)."""
    fd = 1  # HiGHS writes to the process's stdout, whatever sys.stdout is (pytest swaps it)
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.flush()
    try:
        saved = os.dup(fd)
    except OSError:  # no stdout at all: nothing to protect
        yield
        return
    sink = os.open(os.devnull, os.O_WRONLY) if target is None else None
    try:
        os.dup2(2 if sink is None else sink, fd)
        yield
    finally:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stdout.flush()
        _flush_c_stdio()  # C's stdout buffer still holds what HiGHS printed (a pipe is buffered)
        os.dup2(saved, fd)
        os.close(saved)
        if sink is not None:
            os.close(sink)


def _flush_c_stdio() -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def new_highs(verbose: bool = False):
    """A HiGHS instance, silent unless ``verbose`` (its log then goes to stderr)."""
    import highspy

    with _stdout_redirected("stderr" if verbose else None):
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
    import highspy

    if threads is None:
        # HiGHS's default count: a scheduler an earlier call restarted for another count is
        # restarted again, so that the next run starts it at the default and this record stays
        # true (a stale record once let a later call skip a needed restart: "Not Set")
        if _scheduler_threads is not None:
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler_threads = None
        return

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
    """Solve with HiGHS. ``highs`` may be a reused instance (its model is replaced).

    A MIP plan is then polished (:func:`polish_mip`: binaries exact, the LP re-solved, its
    duals the fixed-MIP duals) and, when polishing shows that the MIP's bound was reached
    only through the big-M leak, proven with the leak closed (:func:`prove_polished`)."""

    h = highs if highs is not None else new_highs(verbose)
    gap = DEFAULT_MIP_GAP if mip_gap is None else float(mip_gap)
    h.setOptionValue("time_limit", np.inf if time_limit is None else float(time_limit))
    h.setOptionValue("mip_rel_gap", gap)
    set_threads(h, threads)
    pass_model(h, model)
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    _run(h, verbose)
    out = read_highs(h, model, time.perf_counter() - start, gap_asked=gap, time_limit=time_limit)
    if not model.is_mip and out.status == Status.OPTIMAL:
        out = _refine_small_rows(h, model, out, verbose=verbose)
    if model.is_mip and out.status.has_plan:
        raw_objective = out.objective
        leaky = _leaky_binaries(model, out.col_value)
        out = polish_mip(h, model, out, time_limit=_remaining(deadline, POLISH_GRACE),
                         verbose=verbose)
        unproven = relative_gap(out.objective, out.bound)
        if (len(leaky) and out.objective > raw_objective and gap <= OPTIMAL_GAP
                and (unproven is None or unproven > OPTIMAL_GAP) and out.stopped != "time_limit"):
            out = prove_polished(h, model, out, leaky, gap=gap, deadline=deadline,
                                 verbose=verbose)
        if out.duals_basis == "fixed_mip" and _general_integers(model).any():
            out = fixed_mip_duals(h, model, out, verbose=verbose)
        out.seconds = time.perf_counter() - start
    return settle_status(out)


def _binaries(model: Model) -> np.ndarray:
    return model.integrality & (model.col_lower == 0) & (model.col_upper == 1)


def _general_integers(model: Model) -> np.ndarray:
    """Integer columns that are not 0/1 decisions: whole-unit deliveries."""
    return model.integrality & ~_binaries(model)


def fixed_mip_duals(h, model: Model, out: SolverOutput, *, verbose: bool = False) -> SolverOutput:
    """The duals of a plan with whole-unit deliveries: the LP with every 0/1 decision fixed at
    the plan's value and the whole-unit deliveries continuous. (The polishing LP fixes every
    integer column, deliveries included, and a row whose every term is fixed has no meaningful
    dual.) Without an optimal LP the plan keeps no duals."""
    import highspy

    pass_model(h, model)
    ints = np.flatnonzero(model.integrality).astype(np.int32)
    h.changeColsIntegrality(len(ints), ints, np.zeros(len(ints), dtype=np.uint8))
    binary = np.flatnonzero(_binaries(model)).astype(np.int32)
    fixed = np.round(out.col_value[binary])
    h.changeColsBounds(len(binary), binary, fixed, fixed)
    h.setOptionValue("time_limit", np.inf)
    _run(h, verbose)
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal and h.getSolution().dual_valid
    out.row_dual = np.asarray(h.getSolution().row_dual, dtype=float)[:model.num_rows] if ok else None
    out.duals_basis = "fixed_mip" if ok else None
    return out


def _run(h, verbose: bool) -> None:
    """``h.run()``, its log (when verbose) on stderr: stdout is procure's own."""
    with _stdout_redirected("stderr") if verbose else contextlib.nullcontext():
        h.run()


def _remaining(deadline: float | None, floor: float = 0.0) -> float | None:
    """Seconds left before ``deadline`` (at least ``floor``), None without one."""
    return None if deadline is None else max(deadline - time.perf_counter(), floor)


def _leaky_binaries(model: Model, values: np.ndarray) -> np.ndarray:
    """Binary columns whose value is within the solver's tolerance of 0 or 1 but not on it:
    through ``Q <= M y`` such a column lets an offer deliver without its setup or minimum.
    (A whole-unit delivery at 99.9999995 is rounded by polishing at a negligible cost.)"""
    cols = np.flatnonzero(_binaries(model))
    v = values[cols]
    return cols[v != np.round(v)]


def polish_mip(h, model: Model, out: SolverOutput, *, time_limit: float | None = None,
               verbose: bool = False) -> SolverOutput:
    """Make a MIP plan exact in its binaries: fix each integer column at its rounded value and
    re-solve the LP in the continuous columns.

    HiGHS accepts a binary within ``mip_feasibility_tolerance`` (1e-6) of 0 or 1, so a plan
    may carry ``y = 1e-6`` and, through ``Q <= M y`` with M in the millions of units, deliver
    units from an offer whose setup cost is then not paid and whose minimum order is not met
    (a tighter tolerance is no cure: at 1e-8 HiGHS 1.16 calls the demo infeasible). Results
    round binaries, so such a plan would be reported as breaking its own constraints. The LP
    with the binaries fixed gives the cheapest plan that really honours the rounded choice,
    and its row duals are the plan's fixed-MIP duals (``duals_basis = "fixed_mip"``): what one
    more unit of a right-hand side costs given the contracts chosen. When that LP fails (it
    should not: the rounded choice is within tolerance of a feasible one) the MIP's plan is
    kept, without duals. The bound stays the MIP's, so the gap follows the polished cost.
    ``h`` is left with the integer columns fixed: pass the model again to reuse it.
    """
    import highspy

    ints = np.flatnonzero(model.integrality).astype(np.int32)
    fixed = np.clip(np.round(out.col_value[ints]), model.col_lower[ints], model.col_upper[ints])
    h.changeColsIntegrality(len(ints), ints, np.zeros(len(ints), dtype=np.uint8))
    h.changeColsBounds(len(ints), ints, fixed, fixed)
    # HiGHS's time_limit counts the instance's whole run time, the MIP included
    h.setOptionValue("time_limit", np.inf if time_limit is None
                     else h.getRunTime() + float(time_limit))
    _run(h, verbose)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return out
    sol = h.getSolution()
    col_value = np.asarray(sol.col_value, dtype=float)
    col_value[ints] = fixed
    objective = float(model.col_cost @ col_value)
    row_dual = np.asarray(sol.row_dual, dtype=float)[:model.num_rows] if sol.dual_valid else None
    polished = objective != out.objective or not np.array_equal(col_value, out.col_value)
    result = SolverOutput(out.status, col_value, row_dual, objective, out.mip_gap, out.seconds,
                          out.solver, out.detail + (" (binaries polished)" if polished else ""),
                          bound=out.bound, gap_asked=out.gap_asked, stopped=out.stopped,
                          time_limit=out.time_limit,
                          duals_basis="fixed_mip" if row_dual is not None else None)
    return _refine_small_rows(h, model, result, verbose=verbose, fixed=(ints, fixed))


#: HiGHS's smallest primal feasibility tolerance (its default is 1e-7, absolute)
_TIGHT_FEASIBILITY = 1e-10


def hidden_row_misses(model: Model, values: np.ndarray) -> np.ndarray:
    """Rows missed by more than 1e-6 of their own scale but by less than 1e-6 absolute:
    within a solver's absolute tolerance, yet a real miss on a small row (HiGHS serves a
    demand of 5e-8 units with nothing, well within its 1e-7)."""
    activity = model.matrix @ values
    miss = np.maximum(np.maximum(model.row_lower - activity, activity - model.row_upper), 0.0)
    scale = np.maximum(np.abs(np.where(np.isfinite(model.row_lower), model.row_lower, 0.0)),
                       np.abs(np.where(np.isfinite(model.row_upper), model.row_upper, 0.0)))
    scale = np.maximum(scale, abs(model.matrix) @ np.abs(values))
    return np.flatnonzero((miss > 1e-6 * scale) & (miss <= 1e-6))


def _refine_small_rows(h, model: Model, out: SolverOutput, *, verbose: bool,
                       fixed: tuple | None = None) -> SolverOutput:
    """Re-solve the LP in ``h`` (the model, or the polished MIP's fixed LP) with HiGHS's
    tightest feasibility tolerance when :func:`hidden_row_misses` finds a row its default
    tolerance let through; the tolerance is set back afterwards (``h`` may be reused)."""
    import highspy

    if out.col_value is None or not len(hidden_row_misses(model, out.col_value)):
        return out
    h.setOptionValue("primal_feasibility_tolerance", _TIGHT_FEASIBILITY)
    h.setOptionValue("time_limit", np.inf)
    try:
        _run(h, verbose)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return out
        sol = h.getSolution()
    finally:
        h.setOptionValue("primal_feasibility_tolerance", 1e-7)
    col_value = np.asarray(sol.col_value, dtype=float)
    if fixed is not None:
        col_value[fixed[0]] = fixed[1]
    objective = float(model.col_cost @ col_value)
    out.col_value, out.objective = col_value, objective
    if not model.is_mip:
        out.bound = objective
    out.row_dual = np.asarray(sol.row_dual, dtype=float)[:model.num_rows] if sol.dual_valid else None
    out.duals_basis = None if out.row_dual is None else out.duals_basis or "lp"
    out.detail += " (re-solved at feasibility tolerance 1e-10 for small rows)"
    return out


#: most sub-MIPs :func:`prove_polished` may solve before it reports the gap it has proven
PROOF_BUDGET = 16


def prove_polished(h, model: Model, out: SolverOutput, leaky: np.ndarray, *, gap: float,
                   deadline: float | None, verbose: bool = False) -> SolverOutput:
    """Prove a polished plan optimal with the big-M leak closed, or report the gap it keeps.

    The MIP's bound holds for the real model (every node bound is an LP bound), but the
    search stopped once a leaky plan (``y = 1e-6`` delivering units through ``Q <= M y``)
    came within the gap of it, so the bound may lie well below the best real plan. A
    hand-checked optimum of 25,120,000 had a leaky plan and a bound at 25,100,020.

    This splits the problem on the leaky binaries ``L`` of a plan into two parts that
    together hold every real plan: every ``y`` of ``L`` at 0 (no leak left there), and
    ``sum_L y >= 1``. Each part is a MIP of its own, solved with the best polished cost so
    far as a cutoff; a part whose plan leaks again is split the same way. The bound proven
    is the least bound over the parts; the plan the cheapest polished plan found. At most
    :data:`PROOF_BUDGET` parts are solved, within the time limit; parts left open keep
    their parent's bound (``stopped = "proof_budget"`` or ``"time_limit"``).
    """
    import highspy

    MS = highspy.HighsModelStatus
    best = out
    # a part: (binaries fixed at 0, groups of binaries of which one at least is 1, parent bound)
    parts = [(tuple(leaky), (), out.bound), ((), (tuple(leaky),), out.bound)]
    bounds: list[float] = []
    solved = 0
    stopped = ""
    while parts:
        if solved >= PROOF_BUDGET or (deadline is not None and time.perf_counter() >= deadline):
            stopped = "proof_budget" if solved >= PROOF_BUDGET else "time_limit"
            bounds += [b if b is not None else -math.inf for _, _, b in parts]
            break
        zeros, covers, parent = parts.pop()
        solved += 1
        pass_model(h, model)
        if zeros:
            cols = np.asarray(zeros, dtype=np.int32)
            h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.zeros(len(cols)))
        for group in covers:
            cols = np.asarray(group, dtype=np.int32)
            h.addRow(1.0, np.inf, len(cols), cols, np.ones(len(cols)))
        h.setOptionValue("mip_rel_gap", gap)
        h.setOptionValue("objective_bound", float(best.objective))
        remaining = _remaining(deadline)
        h.setOptionValue("time_limit", np.inf if remaining is None else h.getRunTime() + remaining)
        _run(h, verbose)
        status = h.getModelStatus()
        if status in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
            continue  # nothing in this part is cheaper than the best plan
        info = h.getInfo()
        part_bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else parent
        if info.primal_solution_status != 2:  # no plan in time: the part keeps what is known
            bounds.append(parent if part_bound is None else max(part_bound, parent or -math.inf))
            stopped = "time_limit"
            continue
        values = np.asarray(h.getSolution().col_value, dtype=float)
        raw = SolverOutput(Status.FEASIBLE, values, None, float(model.col_cost @ values), None,
                           out.seconds, out.solver, out.detail, bound=part_bound,
                           gap_asked=gap, time_limit=out.time_limit)
        again = _leaky_binaries(model, values)
        candidate = polish_mip(h, model, raw, time_limit=_remaining(deadline, POLISH_GRACE),
                               verbose=verbose)
        if candidate.objective < best.objective and candidate.duals_basis is not None:
            best = candidate
        closed = part_bound >= best.objective - OPTIMAL_GAP * abs(best.objective)
        if not closed and len(again) and candidate.objective > raw.objective:
            split = tuple(c for c in again if c not in zeros)
            parts.append((zeros + split, covers, part_bound))
            parts.append((zeros, covers + (split,), part_bound))
        else:
            bounds.append(part_bound)
            if not closed and status != MS.kOptimal:
                stopped = "time_limit"
    h.setOptionValue("objective_bound", np.inf)
    proven = min(bounds) if bounds else best.objective
    floor = trivial_bound(model)
    best.bound = max(proven, floor) if proven is not None else None
    best.stopped = stopped
    best.detail = out.detail + f" (optimality proven with the big-M leak closed: {solved} sub-MIPs)"
    return best


def read_highs(h, model: Model, seconds: float, *, gap_asked: float | None = None,
               time_limit: float | None = None) -> SolverOutput:
    """What HiGHS found, in procure's terms, the status settled by :func:`settle_status`
    (``gap_asked`` and ``time_limit``: what the solve ran under, for the status sentence)."""
    import highspy

    ms = h.getModelStatus()
    info = h.getInfo()
    has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
    MS = highspy.HighsModelStatus
    stopped = ""
    if ms == MS.kOptimal:
        status = Status.OPTIMAL
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        # every variable is bounded below and every cost >= 0: never unbounded
        status = Status.INFEASIBLE
    elif ms == MS.kUnbounded:
        status = Status.UNBOUNDED
    elif ms in (MS.kTimeLimit, MS.kIterationLimit, MS.kInterrupt, MS.kSolutionLimit):
        status = Status.FEASIBLE if has_plan else Status.TIME_LIMIT
        stopped = "time_limit" if ms == MS.kTimeLimit else "limit"
    elif ms == MS.kModelEmpty:
        # no columns: HiGHS does not look at the rows (a demand nothing may serve is one)
        return solve_without_columns(model, "highs")
    else:
        status = Status.ERROR
    if not status.has_plan:
        return SolverOutput(status, None, None, None, None, seconds, "highs",
                            h.modelStatusToString(ms), gap_asked=gap_asked, time_limit=time_limit)
    sol = h.getSolution()
    col_value = np.asarray(sol.col_value, dtype=float)
    if len(col_value) != model.num_cols:
        raise RuntimeError(f"HiGHS returned {len(col_value)} values for {model.num_cols} columns "
                           "(an internal error in procure: please report)")
    objective = float(model.col_cost @ col_value)
    row_dual = None
    if model.is_mip:
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        if bound is not None:
            bound = max(bound, trivial_bound(model))
    else:
        bound = objective if status == Status.OPTIMAL else None
        if status == Status.OPTIMAL and sol.dual_valid:
            row_dual = np.asarray(sol.row_dual, dtype=float)
    out = SolverOutput(status, col_value, row_dual, objective, None, seconds, "highs",
                       h.modelStatusToString(ms), bound=bound, gap_asked=gap_asked,
                       stopped=stopped, time_limit=time_limit,
                       duals_basis="lp" if row_dual is not None else None)
    return settle_status(out)
