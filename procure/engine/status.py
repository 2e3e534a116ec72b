"""procure's own solve status, independent of any solver's vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    #: proven within ``OPTIMAL_GAP`` (1e-6, relative) of the best possible cost
    OPTIMAL = "optimal"
    #: a plan, not proven that close (a looser gap asked for, the time limit); see
    #: ``Result.mip_gap`` and ``Result.message``
    FEASIBLE = "feasible"
    #: no plan satisfies every constraint; see ``Result.diagnosis``
    INFEASIBLE = "infeasible"
    #: the time limit passed before any plan was found
    TIME_LIMIT = "time_limit"
    #: the cost can fall without bound (cannot happen with validated data; kept for solvers)
    UNBOUNDED = "unbounded"
    #: the solver failed for another reason
    ERROR = "error"
    #: the solver returned a plan that fails the run-time plan check (an extension:
    #: docs/spec-extensions.md); ``Result.check`` says what failed, where and by how much.
    #: Never a plan to act on.
    CHECK_FAILED = "check_failed"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    def __str__(self) -> str:
        return self.value


#: what each duals basis means, for every view
DUALS_BASIS = {
    "lp": "the plan is a linear programme: marginal costs are its duals",
    "fixed_mip": "given the contracts chosen (every yes/no decision of the plan fixed: offers "
                 "used, price tiers reached, suppliers counted), the duals of the remaining "
                 "linear programme",
}
