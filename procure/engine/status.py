"""procure's own solve status, independent of any solver's vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    #: proven optimal (within the MIP gap asked for)
    OPTIMAL = "optimal"
    #: a plan was found but the time limit stopped the search; see ``Result.mip_gap``
    FEASIBLE = "feasible"
    #: no plan satisfies every constraint; see ``Result.diagnosis``
    INFEASIBLE = "infeasible"
    #: the time limit passed before any plan was found
    TIME_LIMIT = "time_limit"
    #: the cost can fall without bound (cannot happen with validated data; kept for solvers)
    UNBOUNDED = "unbounded"
    #: the solver failed for another reason
    ERROR = "error"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    def __str__(self) -> str:
        return self.value
