"""One process's solver for many variants of one workbook.

:class:`ManyEngine` builds the grand model once and keeps one warm HiGHS LP relaxation alive
(:class:`procure.analysis.branch.LpBranchAndBound`). Each variant becomes bounds and
coefficients on it (:func:`.bounds.variant_bounds`) and is solved by the warm-LP branch and
bound; a variant that needs more nodes than it allows goes to HiGHS's MIP solver on the same
bounds, and one that bounds cannot express (a ban removed, more capacity than the workbook
has, ...) to the literal model of its own data (:meth:`Variant.apply
<.variants.Variant.apply>`), exactly.

Statuses follow the engine's one rule: a cost is ``optimal`` only when its proven relative gap
is within :data:`procure.engine.backends.OPTIMAL_GAP`, else ``feasible`` with its gap; the
search asks for :data:`~procure.engine.backends.DEFAULT_MIP_GAP` unless a gap is given. A plan
of the warm search is re-checked against the variant's rows (a miss within HiGHS's absolute
tolerance but beyond 1e-6 of the row's scale sends the variant to the literal model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from procure.analysis.branch import BranchResult, LpBranchAndBound
from procure.analysis.many.bounds import Bounds, VariantPlan, variant_bounds
from procure.analysis.many.lazy import LazyN1, SubModel
from procure.analysis.many.variants import Variant, check_members, check_positions
from procure.data.tables import ProcureData
from procure.engine.backends import DEFAULT_MIP_GAP, OPTIMAL_GAP, relative_gap
from procure.engine.model import Model, build_model
from procure.engine.status import Status
from procure.engine.whole_units import (
    WHOLE,
    demand_groups,
    general_integers,
    round_by_rows,
    rounded_plan,
)

#: node limit of the warm-LP search on a model with whole-unit deliveries
WHOLE_UNIT_NODES = 200

#: what a caller may ask of each plan: ``extract(data, model, col_value)`` (a module-level
#: function, so that it travels to worker processes); ``data`` and ``model`` are those the plan
#: belongs to (the grand ones on the fast path, the variant's own on the literal path)
Extract = Callable[[ProcureData, Model, np.ndarray], Any]


@dataclass
class VariantResult:
    label: Hashable
    status: Status
    cost: float  # NaN without a plan
    gap: float | None  # proven relative gap of the cost (None without a plan)
    seconds: float
    #: "bounds" (warm-LP branch and bound), "mip" (HiGHS's MIP on the same bounds),
    #: "literal" (the variant's own model), "empty" (the empty coalition: 0 by definition)
    path: str
    nodes: int = 0
    #: what ``extract`` returned for the plan (None without a plan or without ``extract``)
    value: Any = None
    #: CPU seconds of the solving process (wall ``seconds`` grow when the machine is busy)
    cpu_seconds: float = 0.0

    def record(self) -> tuple:
        return (self.label, self.status.value, self.cost, self.gap, self.seconds, self.path,
                self.nodes, self.value, self.cpu_seconds)


RECORD_FIELDS = ("label", "status", "cost", "gap", "seconds", "path", "nodes", "value", "cpu_seconds")


class _Searcher:
    """The warm searches of one model (the grand model, or a sub-model of it without some
    N-1 re-covery blocks: :mod:`.lazy`), and what they learn from one variant to the next."""

    def __init__(self, model: Model, *, threads, node_limit: int, branching: str,
                 learn_from: _Searcher | None = None):
        self.model = model
        self.threads = threads
        priority = np.zeros(model.num_cols)
        tiers = model.variables["tier_chosen"]
        priority[tiers.start:tiers.stop] = 1.0  # tier choices carry most of the LP's gap
        #: whole-unit deliveries: a short search, then the engine's door on the variant's own
        #: bounds, which solves whole units relaxation-first (procure.engine.whole_units): a
        #: long LP search on general integers rarely closes a 5e-7 gap (the demo without its
        #: largest shell plant: 2000 nodes and 38 s of HiGHS's MIP, against 0.8 s)
        self.general = general_integers(model)
        #: whole units, relaxation first (as the engine's door does): the warm search over the
        #: binaries only, with the whole-unit deliveries continuous, gives a proven bound and a
        #: plan that a small rounding MIP makes whole; only when that plan is not within the gap
        #: of the bound does the variant go to the search over every integer column (demo:
        #: 66 random coalitions 22 s -> 5 s, benchmarks/README.md section 5)
        self.relaxed_search = None
        self.general_cols = np.flatnonzero(self.general).astype(np.int32)
        self.general_groups = demand_groups(model, self.general)[self.general_cols]
        # a sub-model's integer columns are the grand model's (re-coveries are continuous and
        # come last), so what one search learnt serves the others
        if self.general.any():
            relaxed = replace(model, integrality=model.integrality & ~self.general)
            self.relaxed_search = LpBranchAndBound(
                relaxed, priority=priority, threads=threads, node_limit=node_limit, branching=branching,
                learn_from=learn_from.relaxed_search if learn_from is not None else None)
            node_limit = min(node_limit, WHOLE_UNIT_NODES)
        self.search = LpBranchAndBound(model, priority=priority, threads=threads, node_limit=node_limit,
                                       branching=branching,
                                       learn_from=learn_from.search if learn_from is not None else None)
        #: coefficients a previous variant changed beyond the big-M ones: reset when not set again
        self._changed: dict[tuple[int, int], float] = {}
        self._matrix = model.matrix.tocsr()

    def solve(self, bounds: Bounds, n_big_m: int, *, gap: float, time_limit: float | None,
              hint: np.ndarray | None) -> BranchResult:
        """The variant's bounds (on this model's columns and rows) searched: a plan within
        ``gap``, infeasible, or ``gave_up`` (node or time limit, or numerical trouble)."""
        start = time.perf_counter()
        coefficients = self._with_resets(bounds, n_big_m)
        if self.relaxed_search is not None:
            done = self._relaxation_first(bounds, coefficients, gap, time_limit)
            if done is not None:
                return done
        left = None if time_limit is None else max(1e-3, time_limit - (time.perf_counter() - start))
        self.search.set_bounds(bounds.col_upper, bounds.row_lower, bounds.row_upper, coefficients)
        found = self.search.solve(mip_gap=gap, time_limit=left, hint=hint)
        if found.status.has_plan and _missed_rows(self.model, bounds, found.col_value, found.row_value):
            # a row HiGHS's absolute tolerance let through (a demand of 1e-8 units served with
            # nothing): the caller's literal model, where the engine's own door re-solves it tightly
            return BranchResult(Status.ERROR, float("nan"), found.nodes, False)
        return found

    def _relaxation_first(self, bounds: Bounds, coefficients, gap: float,
                          time_limit: float | None) -> BranchResult | None:
        """The variant with its whole-unit deliveries continuous, then its plan rounded with
        every binary fixed (:func:`procure.engine.whole_units.rounded_plan`), proven against
        the relaxation's bound; None when that does not settle it within the gap (the caller
        then searches over every integer column)."""
        start = time.perf_counter()
        search = self.relaxed_search
        search.set_bounds(bounds.col_upper, bounds.row_lower, bounds.row_upper, coefficients)
        # the relaxation is asked for half the gap: the rounding's cost must fit in the rest
        # (no hint from the last variant: measured, it adds LPs more often than it saves them)
        relaxed = search.solve(mip_gap=gap / 2, time_limit=time_limit)
        if relaxed.gave_up or (time_limit is not None and time.perf_counter() - start > time_limit):
            return None
        if relaxed.status == Status.INFEASIBLE:  # no plan with fractions: none in whole units
            return relaxed
        if not relaxed.status.has_plan or not np.isfinite(relaxed.bound):
            return None
        values = relaxed.col_value
        cols = self.general_cols
        deadline = None if time_limit is None else start + time_limit
        if np.abs(values[cols] - np.round(values[cols])).max() > WHOLE:
            # first the dive on the search's own warm LP (binaries fixed at the plan's), then
            # the rounding MIP on a model of the variant's own
            dived = self._dive(bounds, values, deadline)
            if dived is not None and self._close_enough(dived, relaxed.bound, gap):
                values = dived
            else:
                model = _with_bounds(self.model, bounds, coefficients)
                rounded = rounded_plan(model, values, self.general, deadline=deadline,
                                       threads=self.threads, gap=gap)
                if rounded is None or not self._close_enough(rounded[0], relaxed.bound, gap):
                    return None
                values = rounded[0]
        if not self._close_enough(values, relaxed.bound, gap):  # a relaxation plan already whole
            return None
        activity = _activity(self.model, bounds, coefficients, values)
        if _missed_rows(self.model, bounds, values, activity):
            return None
        return BranchResult(Status.FEASIBLE, float(self.model.col_cost @ values), relaxed.nodes, False,
                            relaxed.bound, values, activity)

    def _dive(self, bounds: Bounds, values: np.ndarray, deadline: float | None) -> np.ndarray | None:
        """:func:`procure.engine.whole_units.round_by_rows` on the relaxed search's HiGHS
        instance: binaries fixed at ``values``, whole-unit deliveries rounded at once, else row
        by row on warm LPs. ``values`` is the relaxation's plan, whose binaries are whole, so it
        is already an optimum of the LP with them fixed: no LP is needed before the rounding.
        The instance's bounds are all reset by the next variant's ``set_bounds``."""
        h, binaries = self.relaxed_search.h, self.relaxed_search.ints
        fixed = np.round(values[binaries])
        h.changeColsBounds(len(binaries), binaries, fixed, fixed)
        cols = self.general_cols
        lower = self.model.col_lower[cols].astype(float)
        upper = np.asarray(bounds.col_upper, dtype=float)[cols].copy()
        return round_by_rows(h, cols, lower, upper, values, self.general_groups, deadline=deadline)

    def _close_enough(self, values: np.ndarray, bound: float, gap: float) -> bool:
        found = relative_gap(float(self.model.col_cost @ values), bound)
        return found is not None and found <= max(gap, OPTIMAL_GAP)

    def _with_resets(self, bounds: Bounds, n_big_m: int) -> list[tuple[int, int, float]]:
        """The variant's coefficients, plus the model's value for every coefficient an
        earlier variant changed and this one does not (big-M entries are always all set)."""
        big_m = {(r, c) for r, c, _ in bounds.coefficients[:n_big_m]}
        mine = {(r, c): v for r, c, v in bounds.coefficients[n_big_m:]}
        resets = [(r, c, self._changed.pop((r, c))) for r, c in list(self._changed)
                  if (r, c) not in mine and (r, c) not in big_m]
        for key in mine:
            self._changed.setdefault(key, float(self._matrix[key]))
        return list(bounds.coefficients) + resets


class ManyEngine:
    """Solves variants one after another on one model: bounds change, the model does not.
    Build one per process and reuse it: building is the only part that grows with the model
    rather than with the variant.

    The search learns as it goes (benchmarks/README.md measures each part): the integer
    columns of the last plan are tried first as the next variant's incumbent (``hints``), and
    ``branching="pseudocost"`` chooses branching columns by the objective changes branchings
    on them caused in earlier variants (``"fractional"``: the most fractional, tier choices
    first). With N-1 rules, the re-covery blocks of a contingency enter the searched model
    only once a plan fails without them (``lazy_n1``; :mod:`.lazy` says why that is exact)."""

    def __init__(self, data: ProcureData, *, mip_gap: float | None = None,
                 time_limit: float | None = None, threads: int | None = None,
                 extract: Extract | None = None, node_limit: int = 2000,
                 branching: str = "pseudocost", hints: bool = True, rule_caps: bool = True,
                 lazy_n1: bool = True):
        from procure.engine.solve import check_solver_options

        check_solver_options(time_limit=time_limit, mip_gap=mip_gap)
        self.data = data
        self.plan = VariantPlan(data)
        self.mip_gap = data.solver_option("mip_gap", mip_gap)
        self.gap = DEFAULT_MIP_GAP if self.mip_gap is None else float(self.mip_gap)
        self.time_limit = data.solver_option("time_limit", time_limit)
        self.threads = threads
        self.extract = extract
        self._options = dict(threads=threads, node_limit=node_limit, branching=branching)
        self.hints = hints
        self.rule_caps = rule_caps
        #: the integer columns of the last plan found: the first incumbent tried for the next
        #: variant (neighbouring variants often keep their tiers and offers)
        self._last_ints: np.ndarray | None = None
        self.lazy = LazyN1.of(self.plan.model, threads) if lazy_n1 else None
        #: the searches of the sub-models met so far, by their active contingencies (the most
        #: recently used last); the grand model's under None
        self._searchers: dict[frozenset[int] | None, tuple[SubModel | None, _Searcher]] = {}
        #: the contingencies the last variant ended with: where the next one starts
        self._active: frozenset[int] = frozenset()

    def solve(self, variant: Variant) -> VariantResult:
        cpu = time.process_time()
        result = self._solve(variant)
        result.cpu_seconds = time.process_time() - cpu
        return result

    def _solve(self, variant: Variant) -> VariantResult:
        start = time.perf_counter()
        if variant.members is not None:
            check_members(self.data, variant.members)
            if not variant.members:
                return VariantResult(variant.label, Status.OPTIMAL, 0.0, 0.0, 0.0, "empty",
                                     value=None)
        check_positions(self.plan.rules, variant)
        for supplier in {s for s, _ in variant.capacity} | set(variant.suppliers_off):
            if supplier not in self.plan.supplier_pos:
                raise ValueError(f"unknown supplier {supplier!r}")
        bounds = variant_bounds(self.plan, variant, rule_caps=self.rule_caps)
        if bounds is None:
            return self._literal(variant, start)
        lazy = self.lazy if self.lazy is not None and self.lazy.applies(bounds.coefficients) else None
        active = self._active if lazy is not None else None
        nodes = 0
        while True:
            sub, searcher = self._searcher(active)
            restricted = _restrict(bounds, sub)
            if restricted is None:  # bounds the merged blocks cannot say: the whole model
                active = None
                continue
            sub_bounds, shares = restricted
            left = None if self.time_limit is None else self.time_limit - (time.perf_counter() - start)
            if left is not None and left <= 0:
                return VariantResult(variant.label, Status.TIME_LIMIT, float("nan"), None,
                                     time.perf_counter() - start, "bounds", nodes)
            found = searcher.solve(sub_bounds, len(self.plan.bigm_row), gap=self.gap,
                                   time_limit=left, hint=self._last_ints if self.hints else None)
            nodes += found.nodes
            if found.status == Status.ERROR and not found.gave_up:
                return self._literal(variant, start)  # a row missed within HiGHS's tolerance
            if found.status.has_plan:
                self._last_ints = found.col_value[searcher.search.ints]
            # stopped by its node limit (with or without a plan) while time is left: HiGHS's MIP;
            # the search says TIME_LIMIT for either limit, so the clock decides
            if found.gave_up and not self._timed_out(start):
                return self._mip(variant, bounds, start, nodes)
            if not found.status.has_plan:
                return VariantResult(variant.label, found.status, float("nan"), None,
                                     time.perf_counter() - start, "bounds", nodes)
            if sub is None:
                values = found.col_value
                break
            values = sub.expand(found.col_value, self.plan.model.num_cols, shares)
            uncovered = lazy.complete(values, active, bounds.col_upper, bounds.row_lower,
                                      bounds.row_upper)
            if not uncovered:
                self._active = active
                break
            active = active | uncovered  # solved again with those blocks in the model
        # the re-coveries filled in: the plan checked on the full model, like any other
        if sub is not None and _missed_rows(self.plan.model, bounds, values, _activity(
                self.plan.model, bounds, bounds.coefficients, values)):
            return self._literal(variant, start)
        gap = found.gap
        status = Status.OPTIMAL if gap is not None and gap <= OPTIMAL_GAP else Status.FEASIBLE
        return VariantResult(variant.label, status, found.objective, gap,
                             time.perf_counter() - start, "bounds", nodes,
                             self._extract(self.data, self.plan.model, values))

    def _searcher(self, active: frozenset[int] | None) -> tuple[SubModel | None, _Searcher]:
        """The search of the sub-model with ``active`` contingencies (None: the grand model),
        built on first use; at most :data:`SEARCHERS` are kept."""
        got = self._searchers.pop(active, None)
        if got is None:
            sub = None if active is None else self.lazy.submodel(active)
            model = self.plan.model if sub is None else sub.model
            teacher = next(reversed(self._searchers.values()))[1] if self._searchers else None
            got = (sub, _Searcher(model, learn_from=teacher, **self._options))
            while len(self._searchers) >= SEARCHERS:
                self._searchers.pop(next(iter(self._searchers)))
        self._searchers[active] = got  # most recently used last
        return got

    # -- paths ------------------------------------------------------------------------------

    def _literal(self, variant: Variant, start: float) -> VariantResult:
        data = variant.apply(self.data)
        return self._by_the_door(variant, data, build_model(data), start, "literal", 0)

    def _mip(self, variant: Variant, bounds: Bounds, start: float, nodes: int) -> VariantResult:
        """HiGHS's MIP on the grand model with the variant's bounds, through the engine's own
        door (polishing, the proof of a polished plan, the status rule)."""
        model = _with_bounds(self.plan.model, bounds, bounds.coefficients)
        return self._by_the_door(variant, self.data, model, start, "mip", nodes)

    def _by_the_door(self, variant, data, model, start, path, nodes) -> VariantResult:
        from procure.engine.solve import solve_model

        remaining = None if self.time_limit is None else max(1e-3, self.time_limit - (time.perf_counter() - start))
        out = solve_model(model, time_limit=remaining, mip_gap=self.mip_gap, threads=self.threads)
        has_plan = out.status.has_plan
        cost = float(out.objective) if has_plan else float("nan")
        gap = out.mip_gap if has_plan else None
        return VariantResult(variant.label, out.status, cost, gap, time.perf_counter() - start, path, nodes,
                             self._extract(data, model, out.col_value if has_plan else None))

    # -- helpers ----------------------------------------------------------------------------

    def _timed_out(self, start: float) -> bool:
        return self.time_limit is not None and time.perf_counter() - start > self.time_limit

    def _extract(self, data: ProcureData, model: Model, values: np.ndarray | None):
        if self.extract is None or values is None:
            return None
        return self.extract(data, model, values)


#: sub-model searches kept per engine (each holds its warm HiGHS instances)
SEARCHERS = 8


def _restrict(bounds: Bounds, sub: SubModel | None) -> tuple[Bounds, list] | None:
    """The variant's bounds on the sub-model's columns and rows, and the demand shares that
    split its merged re-coveries back (its coefficients are all in the core, which keeps its
    positions: :meth:`.lazy.LazyN1.applies`); None when the merged blocks cannot say them."""
    if sub is None:
        return bounds, []
    got = sub.bounds(bounds.col_upper, bounds.row_lower, bounds.row_upper)
    if got is None:
        return None
    (col_upper, row_lower, row_upper), shares = got
    return Bounds(col_upper, row_lower, row_upper, bounds.coefficients), shares


def _with_bounds(model: Model, bounds: Bounds, coefficients) -> Model:
    """A copy of ``model`` with the variant's bounds and coefficients."""
    matrix = model.matrix.tolil(copy=True)
    for row, col, value in coefficients:
        matrix[row, col] = value
    matrix = matrix.tocsc()
    matrix.eliminate_zeros()
    return replace(model, col_upper=bounds.col_upper, row_lower=bounds.row_lower,
                   row_upper=bounds.row_upper, matrix=matrix)


def _activity(model: Model, bounds: Bounds, coefficients, values: np.ndarray) -> np.ndarray:
    """Row activities of ``values`` under the variant's coefficients."""
    activity = model.matrix @ values
    if len(coefficients):  # the few entries the variant changes, read off the matrix at once
        rows, cols, value = (np.asarray(part) for part in zip(*coefficients, strict=True))
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        before = np.asarray(model.matrix[rows, cols], dtype=float).ravel()
        np.add.at(activity, rows, (value - before) * values[cols])
    return activity


def _missed_rows(model: Model, bounds: Bounds, col_value: np.ndarray, activity: np.ndarray) -> bool:
    """Does the plan miss a row of the variant whose violated bound is not 0 by more than 1e-6
    of the row's own scale (the rule of :func:`procure.engine.backends.hidden_row_misses`, on
    the variant's bounds and ``activity``, the rows of ``col_value`` under the variant's
    coefficients)? A demand of 5e-8 units served with nothing is such a miss; a homogeneous
    row (``q - b z >= 0``) off by the dust of a column at its bound is not."""
    lower, upper = bounds.row_lower, bounds.row_upper
    below = np.where(np.isfinite(lower) & (lower != 0), lower - activity, 0.0)
    above = np.where(np.isfinite(upper) & (upper != 0), activity - upper, 0.0)
    miss = np.maximum(np.maximum(below, above), 0.0)
    if not miss.any():
        return False
    scale = np.maximum(np.abs(np.where(np.isfinite(lower), lower, 0.0)),
                       np.abs(np.where(np.isfinite(upper), upper, 0.0)))
    scale = np.maximum(scale, abs(model.matrix) @ np.abs(col_value))
    return bool((miss > 1e-6 * scale).any())
