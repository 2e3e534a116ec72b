"""One process's solver for many variants of one workbook.

:class:`ManyEngine` builds the grand model once and keeps one warm HiGHS LP relaxation alive
(:class:`procure.analysis.branch.LpBranchAndBound`). Each variant becomes bounds and
coefficients on it (:func:`.bounds.variant_bounds`) and is solved by the warm-LP branch and
bound; a variant that needs more nodes than it allows goes to HiGHS's MIP solver on the same
bounds, and one that bounds cannot express (a ban removed, more capacity than the workbook
has, ...) to the literal model of its own data (:meth:`Variant.apply
<.variants.Variant.apply>`), exactly.

Statuses follow the engine's rule: a cost is ``optimal`` only when the search proved it within
the relative gap asked for (:data:`procure.engine.backends.DEFAULT_MIP_GAP` unless given);
each result carries the proven gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from procure.analysis.branch import LpBranchAndBound
from procure.analysis.many.bounds import Bounds, VariantPlan, variant_bounds
from procure.analysis.many.variants import Variant, check_members, check_positions
from procure.data.tables import ProcureData
from procure.engine.backends import (
    DEFAULT_MIP_GAP,
    change_bounds,
    new_highs,
    pass_model,
    read_highs,
    set_threads,
)
from procure.engine.model import Model, build_model
from procure.engine.status import Status

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

    def record(self) -> tuple:
        return (self.label, self.status.value, self.cost, self.gap, self.seconds, self.path,
                self.nodes, self.value)


RECORD_FIELDS = ("label", "status", "cost", "gap", "seconds", "path", "nodes", "value")


class ManyEngine:
    """Solves variants one after another on one model: bounds change, the model does not.
    Build one per process and reuse it: building is the only part that grows with the model
    rather than with the variant."""

    def __init__(self, data: ProcureData, *, mip_gap: float | None = None,
                 time_limit: float | None = None, threads: int | None = None,
                 extract: Extract | None = None, node_limit: int = 2000):
        self.data = data
        self.plan = VariantPlan(data)
        model = self.plan.model
        self.mip_gap = data.solver_option("mip_gap", mip_gap)
        self.gap = DEFAULT_MIP_GAP if self.mip_gap is None else float(self.mip_gap)
        self.time_limit = data.solver_option("time_limit", time_limit)
        self.threads = threads
        self.extract = extract
        priority = np.zeros(model.num_cols)
        tiers = model.variables["tier_chosen"]
        priority[tiers.start:tiers.stop] = 1.0  # tier choices carry most of the LP's gap
        self.search = LpBranchAndBound(model, priority=priority, threads=threads, node_limit=node_limit)
        self._fallback = None
        #: coefficients a previous variant changed beyond the big-M ones: reset when not set again
        self._changed: dict[tuple[int, int], float] = {}
        self._matrix = model.matrix.tocsr()

    def solve(self, variant: Variant) -> VariantResult:
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
        bounds = variant_bounds(self.plan, variant)
        if bounds is None:
            return self._literal(variant, start)
        coefficients = self._with_resets(bounds)
        self.search.set_bounds(bounds.col_upper, bounds.row_lower, bounds.row_upper, coefficients)
        found = self.search.solve(mip_gap=self.gap, time_limit=self.time_limit)
        if found.gave_up and found.status != Status.TIME_LIMIT and not self._timed_out(start):
            return self._mip(variant, bounds, coefficients, start, found.nodes)
        values = found.col_value if found.status.has_plan else None
        return VariantResult(variant.label, found.status, found.objective, found.gap,
                             time.perf_counter() - start, "bounds", found.nodes,
                             self._extract(self.data, self.plan.model, values))

    # -- paths ------------------------------------------------------------------------------

    def _literal(self, variant: Variant, start: float) -> VariantResult:
        from procure.engine.solve import solve_model

        data = variant.apply(self.data)
        model = build_model(data)
        out = solve_model(model, time_limit=self.time_limit, mip_gap=self.mip_gap, threads=self.threads)
        cost = float(out.objective) if out.status.has_plan else float("nan")
        gap = (out.mip_gap if model.is_mip else 0.0) if out.status.has_plan else None
        values = out.col_value if out.status.has_plan else None
        return VariantResult(variant.label, out.status, cost, gap, time.perf_counter() - start,
                             "literal", 0, self._extract(data, model, values))

    def _mip(self, variant: Variant, bounds: Bounds, coefficients, start: float, nodes: int) -> VariantResult:
        model = self.plan.model
        if self._fallback is None:
            self._fallback = _mip_solver(model, self.threads, self.gap)
        h = self._fallback
        change_bounds(h, model, bounds.col_upper, bounds.row_lower, bounds.row_upper, coefficients)
        remaining = None if self.time_limit is None else max(0.0, self.time_limit - (time.perf_counter() - start))
        # HiGHS's time limit counts the instance's whole run time, earlier variants included
        h.setOptionValue("time_limit", np.inf if remaining is None else h.getRunTime() + remaining)
        t0 = time.perf_counter()
        h.run()
        out = read_highs(h, model, time.perf_counter() - t0)
        if not out.status.has_plan:
            return VariantResult(variant.label, out.status, float("nan"), None,
                                 time.perf_counter() - start, "mip", nodes)
        values, cost = self._polished(out.col_value, out.objective)
        gap = out.mip_gap
        bound = h.getInfo().mip_dual_bound
        if gap is not None and cost > out.objective and np.isfinite(bound):
            gap = max(gap, (cost - bound) / max(abs(cost), 1e-300))
        return VariantResult(variant.label, out.status, cost, gap, time.perf_counter() - start,
                             "mip", nodes, self._extract(self.data, model, values))

    def _polished(self, col_value: np.ndarray, objective: float) -> tuple[np.ndarray, float]:
        """The MIP's plan with its integer columns rounded and the continuous ones re-solved
        (HiGHS accepts a binary within 1e-6 of 0 or 1, and through a big-M that leaks units
        whose setup is not paid): on the relaxation, which already holds the variant's bounds."""
        search = self.search
        ints = search.ints
        fixed = np.round(col_value[ints])
        if np.array_equal(col_value[ints], fixed):
            return col_value, float(objective)
        import highspy

        search.h.changeColsBounds(len(ints), ints, fixed, fixed)
        search.h.run()
        if search.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return col_value, float(objective)
        values = np.asarray(search.h.getSolution().col_value, dtype=float)
        values[ints] = fixed
        return values, float(self.plan.model.col_cost @ values)

    # -- helpers ----------------------------------------------------------------------------

    def _with_resets(self, bounds: Bounds) -> list[tuple[int, int, float]]:
        """The variant's coefficients, plus the grand model's value for every coefficient an
        earlier variant changed and this one does not (big-M entries are always all set)."""
        big_m = {(r, c) for r, c, _ in bounds.coefficients[:len(self.plan.bigm_row)]}
        mine = {(r, c): v for r, c, v in bounds.coefficients[len(self.plan.bigm_row):]}
        resets = [(r, c, self._changed.pop((r, c))) for r, c in list(self._changed)
                  if (r, c) not in mine and (r, c) not in big_m]
        for key in mine:
            self._changed.setdefault(key, float(self._matrix[key]))
        return list(bounds.coefficients) + resets

    def _timed_out(self, start: float) -> bool:
        return self.time_limit is not None and time.perf_counter() - start > self.time_limit

    def _extract(self, data: ProcureData, model: Model, values: np.ndarray | None):
        if self.extract is None or values is None:
            return None
        return self.extract(data, model, values)


def _mip_solver(model: Model, threads: int | None, mip_gap: float):
    h = new_highs()
    # many small MIPs: HiGHS's sub-MIP heuristics (RINS, RENS, root reduced cost) cost more than
    # they save here (demo coalitions: 3.7 s -> 0.8 s for six solves, same optima)
    for option in ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
                   "mip_heuristic_run_root_reduced_cost"):
        h.setOptionValue(option, False)
    set_threads(h, threads)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    pass_model(h, model)
    return h
