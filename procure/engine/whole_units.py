"""Whole-unit deliveries, solved through their relaxation first.

A ``whole_units`` item makes its deliveries integer columns. HiGHS's MIP search on such a
model spends most of its time proving a bound its root cuts reach slowly (the demo: 45 s
with six whole-unit items, against 1 s without), although the integer optimum is almost
always within a few euros of the plan where deliveries may be fractional. So:

1. solve the model with the whole-unit columns continuous (binaries stay binary):
   its proven bound is a lower bound on the whole-unit optimum, and when its plan happens
   to be whole it *is* that optimum;
2. otherwise round it: with every binary fixed at the relaxation's value, the small MIP
   that decides only whether each fractional whole-unit delivery goes up or down (then, if
   that is not close enough, lets every whole-unit delivery move by up to 2 units around
   the relaxation's value); failing both, dive: fix in each demand row its most fractional
   whole-unit delivery at the nearest whole number (the row's other deliveries stay free to
   absorb it), re-solve the LP warm, and repeat until every delivery is whole (rounding down
   when rounding to the nearest is infeasible);
3. the whole plan found is proven against the bound of step 1: within the gap asked, it is
   returned with that gap when it is within the gap asked, or within
   :data:`~procure.engine.backends.OPTIMAL_GAP` (``optimal``; the default gap asked is half
   of it, room the engine keeps for polishing);
   when the dive fails or the plan is not close enough, HiGHS's MIP solves the whole model,
   with the better of the two plans and bounds kept.

Nothing is assumed: the status follows the one rule of
:func:`~procure.engine.backends.settle_status` on a bound that is proven either way.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import numpy as np
import pandas as pd

from procure.engine.backends import (
    DEFAULT_MIP_GAP,
    OPTIMAL_GAP,
    SolverOutput,
    new_highs,
    pass_model,
    relative_gap,
    settle_status,
    solve_highs,
)
from procure.engine.model import Model
from procure.engine.status import Status

#: a whole-unit value this close to a whole number counts as whole
WHOLE = 1e-9
#: LP rounds the dive may take before giving up
MAX_ROUNDS = 60


def general_integers(model: Model) -> np.ndarray:
    """Integer columns that are not 0/1 switches: the whole-unit deliveries."""
    binary = (model.col_lower == 0) & (model.col_upper == 1)
    return model.integrality & ~binary


def solve_with_whole_units(model: Model, *, time_limit: float | None = None,
                           mip_gap: float | None = None, verbose: bool = False,
                           threads: int | None = None) -> SolverOutput:
    """Solve a model with whole-unit columns (see the module docstring); any other model
    goes straight to :func:`~procure.engine.backends.solve_highs`."""
    general = general_integers(model)
    if not general.any():
        return solve_highs(model, time_limit=time_limit, mip_gap=mip_gap, verbose=verbose,
                           threads=threads)
    start = time.perf_counter()
    gap = DEFAULT_MIP_GAP if mip_gap is None else float(mip_gap)
    relaxed = dataclasses.replace(model, integrality=model.integrality & ~general)
    first = solve_highs(relaxed, time_limit=time_limit, mip_gap=mip_gap, verbose=verbose,
                        threads=threads)
    if first.status == Status.INFEASIBLE:
        return first  # a relaxation without a plan: neither has the whole model
    dived = None
    if first.status.has_plan and first.bound is not None:
        deadline = _deadline(start, time_limit)
        attempts = (functools.partial(rounded_plan, width=0), functools.partial(rounded_plan, width=2), _dive)
        for attempt in attempts:
            found = attempt(model, first.col_value, general, deadline=deadline, threads=threads,
                            gap=gap)
            if found is None:
                continue
            found = settle_status(_as_output(model, found, first, gap, time.perf_counter() - start))
            if dived is None or found.objective < dived.objective:
                dived = found
            if dived.mip_gap is not None and dived.mip_gap <= max(gap, OPTIMAL_GAP):
                return dived
    remaining = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 1.0)
    full = solve_highs(model, time_limit=remaining, mip_gap=mip_gap, verbose=verbose,
                       threads=threads)
    return _best(full, dived, first.bound if first.status.has_plan else None,
                 time.perf_counter() - start)


def _deadline(start: float, time_limit: float | None) -> float | None:
    return None if time_limit is None else start + float(time_limit)


def _fixed_binaries(model: Model, values: np.ndarray, general: np.ndarray):
    """Column bounds with every binary fixed at its (rounded) value in ``values``."""
    ints = np.flatnonzero(model.integrality)
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    binary = ints[~general[ints]]
    lower[binary] = upper[binary] = np.round(values[binary])
    return lower, upper


def rounded_plan(model: Model, values: np.ndarray, general: np.ndarray, *, deadline: float | None,
             threads: int | None, gap: float, width: int = 0
             ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The best rounding of the relaxation's plan (step 2 of the module docstring, first
    tries): binaries fixed, each whole-unit delivery within ``width`` units of the whole
    numbers around its value (``width`` 0: fixed where it is whole already, up or down where
    it is not), everything else free: a small MIP. Its plan, with the row duals of the LP
    where every integer column is fixed, or None."""
    import highspy

    from procure.engine.backends import set_threads

    lower, upper = _fixed_binaries(model, values, general)
    cols = np.flatnonzero(general)
    lower[cols] = np.maximum(lower[cols], np.floor(values[cols] + WHOLE) - width)
    upper[cols] = np.minimum(upper[cols], np.ceil(values[cols] - WHOLE) + width)
    if (lower[cols] > upper[cols]).any():
        return None
    sub = dataclasses.replace(model, integrality=general.copy(), col_lower=lower, col_upper=upper)
    h = new_highs()
    set_threads(h, threads)
    h.setOptionValue("mip_rel_gap", float(gap) / 2)
    if deadline is not None:
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.1))
    pass_model(h, sub)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    x = np.asarray(h.getSolution().col_value, dtype=float)
    x[cols] = np.round(x[cols])
    fixed = dataclasses.replace(sub, integrality=np.zeros(model.num_cols, dtype=bool))
    lo, up = fixed.col_lower.copy(), fixed.col_upper.copy()
    lo[cols] = up[cols] = x[cols]
    lp = dataclasses.replace(fixed, col_lower=lo, col_upper=up)
    h = new_highs()
    set_threads(h, threads)
    pass_model(h, lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return x, None
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    x[cols] = np.round(x[cols])
    return x, (np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None)


def _dive(model: Model, values: np.ndarray, general: np.ndarray, *, deadline: float | None,
          threads: int | None, gap: float) -> tuple[np.ndarray, np.ndarray | None] | None:
    """A whole plan near ``values`` by LP rounds (module docstring, step 2): the column values
    and the final LP's row duals, or None when no such plan is found."""
    import highspy

    from procure.engine.backends import set_threads

    lower, upper = _fixed_binaries(model, values, general)
    lp = dataclasses.replace(model, integrality=np.zeros(model.num_cols, dtype=bool),
                             col_lower=lower, col_upper=upper)
    h = new_highs()
    set_threads(h, threads)
    pass_model(h, lp)
    cols = np.flatnonzero(general)
    x = round_by_rows(h, cols, lower[cols], upper[cols], values, demand_groups(model, general)[cols],
                      deadline=deadline)
    if x is None:
        return None
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        h.run()  # the whole plan came straight from the relaxation: get its duals
    sol = h.getSolution()
    duals = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
    return x, duals


def round_by_rows(h, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray, values: np.ndarray,
                  group: np.ndarray, *, deadline: float | None = None) -> np.ndarray | None:
    """Round the whole-unit columns ``cols`` of the LP in HiGHS instance ``h`` (its other
    integer columns already fixed) by rounds: per demand row (``group``, one per column of
    ``cols``), fix its most fractional column at the nearest whole number (the row's other
    deliveries stay free to balance it; down when the nearest is infeasible), re-solve warm,
    repeat. ``lower``/``upper``: the columns' bounds now (changed in place as they are fixed);
    ``values``: the LP's column values now (all columns). Returns every column's value in the
    whole plan (``cols`` exactly whole), or None; ``h`` keeps the bounds it ends with."""
    import highspy

    x = np.asarray(values, dtype=float)
    at_once = round_at_once(h, cols, lower, upper, x, group)
    if at_once is not None:
        return at_once
    for _ in range(MAX_ROUNDS):
        v = x[cols]
        fraction = np.abs(v - np.round(v))
        open_ = fraction > WHOLE
        if not open_.any():
            x = x.copy()
            x[cols] = np.round(x[cols])
            return x
        if deadline is not None and time.perf_counter() > deadline:
            return None
        order = np.lexsort((-fraction[open_], group[open_]))
        candidates = np.flatnonzero(open_)[order]
        first_of_row = np.r_[True, np.diff(group[candidates]) != 0]
        chosen = candidates[first_of_row]
        for rounding in (np.round, np.floor):
            target = np.clip(rounding(x[cols[chosen]]), lower[chosen], upper[chosen])
            h.changeColsBounds(len(chosen), cols[chosen].astype(np.int32), target, target)
            h.run()
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                lower[chosen] = upper[chosen] = target
                break
            h.changeColsBounds(len(chosen), cols[chosen].astype(np.int32), lower[chosen], upper[chosen])
        else:
            return None
        x = np.asarray(h.getSolution().col_value, dtype=float)
    return None


def round_at_once(h, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray, values: np.ndarray,
                  group: np.ndarray) -> np.ndarray | None:
    """One LP instead of rounds: in each demand row (``group``), the whole-unit columns
    ``cols`` rounded down and the row's fractional units given back, one each, to its columns
    with the largest fractions (largest remainders: the row's total stays what the LP chose),
    every column fixed there and the LP re-solved once. Every column's value in that whole
    plan, or None when the LP is not feasible (``h``'s bounds are then as they were). On
    success ``lower`` and ``upper`` are set to the plan's values in place, as
    :func:`round_by_rows` keeps them: the bounds ``h`` now holds for ``cols``."""
    import highspy

    v = values[cols]
    fraction = np.abs(v - np.round(v))
    if not (fraction > WHOLE).any():
        x = values.copy()
        x[cols] = np.round(v)
        return x
    base = np.floor(v + WHOLE)
    part = np.clip(v - base, 0.0, 1.0)
    codes, _ = pd.factorize(group)
    given = np.round(np.bincount(codes, weights=part))  # whole units to give back per row
    order = np.lexsort((-part, codes))
    first = np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    target = base.copy()
    target[order] += rank < given[codes[order]]
    target = np.clip(target, lower, upper)
    h.changeColsBounds(len(cols), cols.astype(np.int32), target, target)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        h.changeColsBounds(len(cols), cols.astype(np.int32), lower, upper)
        return None
    x = np.asarray(h.getSolution().col_value, dtype=float).copy()
    x[cols] = target
    lower[:] = upper[:] = target
    return x


def demand_groups(model: Model, general: np.ndarray) -> np.ndarray:
    """Per column, the demand row its delivery serves (-1 for other columns)."""
    group = np.full(model.num_cols, -1, dtype=np.int64)
    xb = model.variables.get("x")
    ctx = model.extras.get("context")
    if xb is not None and ctx is not None:
        group[xb.start:xb.stop] = ctx.x["demand_row"].to_numpy(dtype=np.int64)
    # a whole-unit column outside x (none today) gets a group of its own
    lone = general & (group < 0)
    group[lone] = -2 - np.arange(int(lone.sum()))
    return group


def _as_output(model: Model, dived: tuple[np.ndarray, np.ndarray | None], first: SolverOutput,
               gap: float, seconds: float) -> SolverOutput:
    """The whole plan, proven against the relaxation's bound. Its duals are the relaxation's
    (binaries fixed, whole-unit deliveries continuous), as the engine's door gives them: with
    the deliveries fixed too a demand row would have no free term and no meaningful dual."""
    values, _ = dived
    return SolverOutput(
        Status.FEASIBLE, values, first.row_dual, float(model.col_cost @ values), None,
        seconds, "highs", "whole units: relaxation, then rounding", bound=first.bound,
        gap_asked=gap, time_limit=first.time_limit,
        duals_basis=first.duals_basis if first.row_dual is not None else None,
    )


def _best(full: SolverOutput, dived: SolverOutput | None, bound: float | None,
          seconds: float) -> SolverOutput:
    """The cheaper plan of the MIP and the dive, proven against the better bound."""
    best = full
    if dived is not None and dived.status.has_plan and (
            not full.status.has_plan or dived.objective < full.objective):
        best = dived
    if best.status.has_plan:
        bounds = [b for b in (full.bound, bound) if b is not None]
        if bounds:
            best.bound = max(bounds)
            best.mip_gap = relative_gap(best.objective, best.bound)
        best = settle_status(best)
    best.seconds = seconds
    return best
