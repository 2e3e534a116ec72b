"""A small best-first branch and bound over HiGHS's LP, for many small related MIPs.

A coalition game solves the same model thousands of times with other bounds.
Each of those MIPs is small (tens of binaries once the coalition's unreachable
tiers are fixed), and HiGHS's MIP solver spends most of its time on per-solve
set-up (presolve, root cut separation, the analytic centre, heuristics): about
60 ms each on the demo, against about 2 ms for one warm-started LP.  This
module keeps one LP relaxation alive and branches on it, so every node is a
warm-started dual simplex re-solve after a bound change.

Branching: the most fractional binary, tier choices first (they carry most of
the gap between the LP and the MIP: the relaxation prices every unit at the
cheapest tier).  Until a first plan is found the search dives (newest node
first, the child nearest the LP value on top); from then on nodes are taken
best bound first.  A node is pruned when its
bound is within the relative gap of the incumbent, so the answer is within
``mip_gap`` of the optimum, as HiGHS's would be.  An incumbent must be integral
to 1e-9 (no big-M leak).  When the node limit is hit the caller falls back to
HiGHS's MIP solver.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np

from procure.engine.backends import change_bounds, new_highs, pass_model, set_threads
from procure.engine.model import Model
from procure.engine.status import Status
from procure.engine.whole_units import demand_groups, round_by_rows, rounded_plan

INTEGRAL = 1e-9


@dataclass
class BranchResult:
    status: Status
    objective: float  # NaN without a plan
    nodes: int
    gave_up: bool  # node or time limit before the search ended
    #: the lowest bound proven on the optimum (the objective itself when nothing was pruned by
    #: the gap); the relative gap is (objective - bound) / |objective|
    bound: float = float("nan")
    #: every column's value in the plan found (None without one), and every row's activity
    col_value: np.ndarray | None = None
    row_value: np.ndarray | None = None

    @property
    def gap(self) -> float | None:
        if not np.isfinite(self.objective) or not np.isfinite(self.bound):
            return None
        diff = max(0.0, self.objective - self.bound)
        if self.objective == 0:
            return 0.0 if diff == 0 else float("inf")
        return diff / abs(self.objective)


class LpBranchAndBound:
    """Branch and bound on ``model`` whose bounds the caller changes between solves."""

    def __init__(self, model: Model, *, priority: np.ndarray | None = None, node_limit: int = 2000,
                 threads: int | None = None, branching: str = "pseudocost",
                 learn_from: LpBranchAndBound | None = None):
        """``learn_from``: a search on a model with the same integer columns (a sub-model of
        the same grand model) whose pseudo-costs this one shares, both learning."""
        import highspy

        if branching not in ("pseudocost", "fractional"):
            raise ValueError(f"branching must be pseudocost or fractional, not {branching!r}")
        self.branching = branching
        self.model = model
        self.ints = np.flatnonzero(model.integrality).astype(np.int32)
        self.priority = (np.zeros(len(self.ints)) if priority is None
                         else np.asarray(priority, dtype=float)[self.ints])
        self.node_limit = node_limit
        if learn_from is not None and np.array_equal(learn_from.ints, self.ints):
            self._pc_sum, self._pc_count = learn_from._pc_sum, learn_from._pc_count
        else:
            self._pc_sum = np.zeros((2, len(self.ints)))
            self._pc_count = np.zeros((2, len(self.ints)))
        self.h = new_highs()
        self.threads = threads
        set_threads(self.h, threads)
        pass_model(self.h, model)
        # the relaxation: binaries become [0, 1] continuous; branching fixes them by bounds
        self.h.changeColsIntegrality(len(self.ints), self.ints, np.zeros(len(self.ints), dtype=np.uint8))
        # whole-unit deliveries (integers that are not 0/1): rounded to a first plan by LP
        # rounds (procure.engine.whole_units.round_by_rows) instead of a long dive
        ints = self.ints
        self._general = (model.col_lower[ints] != 0) | (model.col_upper[ints] != 1)
        self._groups = demand_groups(model, model.integrality & (
            (model.col_lower != 0) | (model.col_upper != 1)))[ints[self._general]]
        self._optimal = highspy.HighsModelStatus.kOptimal
        # every column is bounded below and every cost >= 0: "unbounded or infeasible" is infeasible
        self._infeasible = (highspy.HighsModelStatus.kInfeasible,
                            highspy.HighsModelStatus.kUnboundedOrInfeasible)

    def set_bounds(self, col_upper: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray,
                   coefficients=()) -> None:
        """The next problem: new bounds (see :func:`procure.engine.backends.change_bounds`)."""
        change_bounds(self.h, self.model, col_upper, row_lower, row_upper, coefficients)
        self._col_upper = col_upper
        self._row_lower, self._row_upper = row_lower, row_upper

    def solve(self, *, mip_gap: float, time_limit: float | None = None,
              hint: np.ndarray | None = None) -> BranchResult:
        """Search the current bounds. ``hint``: values of the integer columns (e.g. the plan of
        a neighbouring problem) tried first as an incumbent, by one LP with them fixed."""
        h, ints = self.h, self.ints
        start = time.perf_counter()
        best = np.inf
        best_values = best_rows = None
        pruned_low = np.inf  # the lowest bound of a subtree pruned by the gap
        nodes = 0
        lower0, upper0 = self.model.col_lower[ints].copy(), self._col_upper[ints].copy()
        if hint is not None and len(ints):
            fixed = np.clip(np.round(hint), lower0, upper0)
            h.changeColsBounds(len(ints), ints, fixed, fixed)
            nodes += 1
            if self._run() == self._optimal:
                solution = h.getSolution()
                best = h.getInfo().objective_function_value
                best_values = np.asarray(solution.col_value).copy()
                best_values[ints] = fixed
                best_rows = np.asarray(solution.row_value, dtype=float).copy()
        # (priority key, tie-break, parent's bound, lower, upper of the integer columns,
        #  the branching that made the node: column, direction (0 down, 1 up), distance moved)
        heap = [(-np.inf, 0, -np.inf, lower0, upper0, -1, 0, 0.0)]
        counter = 1
        while heap:
            _, _, bound, lower, upper, branched, side, moved = heapq.heappop(heap)
            if _pruned(bound, best, mip_gap):
                pruned_low = min(pruned_low, bound)
                continue
            if nodes >= self.node_limit or (time_limit is not None
                                            and time.perf_counter() - start > time_limit):
                open_low = min([bound] + [node[2] for node in heap])
                return self._stopped(best, nodes, min(pruned_low, open_low), best_values, best_rows)
            h.changeColsBounds(len(ints), ints, lower, upper)
            status = self._run()
            nodes += 1
            if status in self._infeasible:
                continue
            if status != self._optimal:  # numerical trouble: leave it to the MIP solver
                return BranchResult(Status.ERROR, float("nan"), nodes, True)
            objective = h.getInfo().objective_function_value
            if branched >= 0 and np.isfinite(bound):
                self._learn(branched, side, moved, objective - bound)
            if _pruned(objective, best, mip_gap):
                pruned_low = min(pruned_low, objective)
                continue
            solution = h.getSolution()
            all_values = np.asarray(solution.col_value)
            values = all_values[ints]
            fractional = np.abs(values - np.round(values))
            free = fractional > INTEGRAL
            if not free.any():
                best = objective
                best_values = all_values.copy()
                best_values[ints] = np.round(values)
                best_rows = np.asarray(solution.row_value, dtype=float).copy()
                continue
            if not np.isfinite(best) and self._general.any() and not (free & ~self._general).any():
                found = self._whole_plan(values, all_values, lower, upper, objective, mip_gap)
                if found is not None:
                    best, best_values = found
                    # row activities of the rounded plan, with the problem's coefficients
                    # (the LP's): HiGHS's own after a solve at the plan's values
                    best_rows = self._row_activity(best_values)
            # the most fractional column (binaries, and whole-unit deliveries: any integer)
            below = np.floor(values)
            up_part = values - below
            j = self._choose(free, up_part)
            down, up_side = float(below[j]), float(below[j]) + 1.0
            nearest_is_up = up_part[j] >= 0.5
            # children: x <= floor and x >= floor + 1; the one nearer the LP value on top
            children = ((down, up_side) if nearest_is_up else (up_side, down))
            for value in children:
                lo, up = lower.copy(), upper.copy()
                if value == down:
                    up[j], child = value, (0, float(up_part[j]))
                else:
                    lo[j], child = value, (1, float(1.0 - up_part[j]))
                # until there is an incumbent, dive (newest node first); then best bound first
                key = objective if np.isfinite(best) else -np.inf
                heapq.heappush(heap, (key, -counter, objective, lo, up, j, *child))
                counter += 1
        if np.isfinite(best):
            return BranchResult(Status.OPTIMAL, float(best), nodes, False, float(min(best, pruned_low)),
                                best_values, best_rows)
        return BranchResult(Status.INFEASIBLE, float("nan"), nodes, False)

    def _run(self):
        """One LP from the current basis; HiGHS now and then answers "unknown" when it starts
        from the basis of an infeasible LP: then once more from scratch."""
        self.h.run()
        status = self.h.getModelStatus()
        if status == self._optimal or status in self._infeasible:
            return status
        self.h.clearSolver()
        self.h.run()
        return self.h.getModelStatus()

    def _learn(self, column: int, side: int, moved: float, gain: float) -> None:
        """Pseudo-costs: the objective's rise per unit a column was moved by a branching,
        averaged over every branching seen on this model (they carry over between the related
        problems the caller solves one after another)."""
        if moved > INTEGRAL and np.isfinite(gain):
            self._pc_sum[side, column] += max(gain, 0.0) / moved
            self._pc_count[side, column] += 1

    def _choose(self, free: np.ndarray, up_part: np.ndarray) -> int:
        """The column to branch on: the best product of the pseudo-cost estimates of both
        children (a column never branched on takes the average of those that were), tier
        choices first on ties; the most fractional while nothing has been learnt."""
        if self.branching == "fractional" or not self._pc_count.any():
            score = 1.0 - np.abs(up_part - 0.5) + 2.0 * self.priority
            return int(np.argmax(np.where(free, score, -np.inf)))
        known = self._pc_count > 0
        mean = self._pc_sum / np.maximum(self._pc_count, 1)
        # a side never branched on yet takes the average of the columns that were
        seen = known.sum(axis=1, keepdims=True)
        fill = np.where(seen > 0, (mean * known).sum(axis=1, keepdims=True) / np.maximum(seen, 1), 1.0)
        cost = np.where(known, mean, fill)
        down, up = cost[0] * up_part, cost[1] * (1.0 - up_part)
        score = np.maximum(down, 1e-6) * np.maximum(up, 1e-6)
        # tier choices strictly first, the pseudo-costs choose among them
        top = free & (self.priority >= self.priority[free].max())
        return int(np.argmax(np.where(top, score, -np.inf)))

    def _row_activity(self, col_value: np.ndarray) -> np.ndarray:
        """Row activities of ``col_value`` under the coefficients HiGHS holds now."""
        lp = self.h.getLp()
        matrix = lp.a_matrix_
        import scipy.sparse as sp

        a = sp.csc_matrix((np.asarray(matrix.value_), np.asarray(matrix.index_),
                           np.asarray(matrix.start_)), shape=(lp.num_row_, lp.num_col_))
        return np.asarray(a @ col_value, dtype=float)

    def _whole_plan(self, values, all_values, lower, upper, bound: float, gap: float):
        """A first plan from a node whose binaries are whole: its 0/1 columns fixed, its
        whole-unit columns rounded row by row (the node's bounds are set again when the next
        node is solved); when that is not within ``gap`` of the node's ``bound``, the best
        rounding of the node's plan by a small MIP (procure.engine.whole_units.rounded_plan)
        on the problem's own bounds. ``(objective, values)`` or None."""
        import dataclasses

        h, ints = self.h, self.ints
        binary = ints[~self._general]
        fixed = np.round(values[~self._general])
        h.changeColsBounds(len(binary), binary, fixed, fixed)
        cols = ints[self._general]
        x = round_by_rows(h, cols, lower[self._general].copy(), upper[self._general].copy(),
                          all_values, self._groups)
        found = None
        if x is not None:
            x[binary] = fixed
            found = (float(self.model.col_cost @ x), x)
        if found is None or _pruned(bound, found[0], gap):
            return found
        general = np.zeros(self.model.num_cols, dtype=bool)
        general[cols] = True
        own = dataclasses.replace(self.model, col_upper=self._col_upper, row_lower=self._row_lower,
                                  row_upper=self._row_upper)
        for width in (0, 2):
            got = rounded_plan(own, all_values, general, deadline=None, threads=self.threads, gap=gap,
                               width=width)
            if got is not None and (found is None or self.model.col_cost @ got[0] < found[0]):
                found = (float(self.model.col_cost @ got[0]), got[0])
            if found is not None and _pruned(bound, found[0], gap):
                break
        return found

    @staticmethod
    def _stopped(best: float, nodes: int, low: float, values, rows) -> BranchResult:
        if np.isfinite(best):
            return BranchResult(Status.FEASIBLE, float(best), nodes, True, float(min(best, low)), values,
                                rows)
        return BranchResult(Status.TIME_LIMIT, float("nan"), nodes, True)


def _pruned(bound: float, best: float, gap: float) -> bool:
    return np.isfinite(best) and bound >= best - gap * abs(best)
