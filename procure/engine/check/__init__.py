"""The run-time plan check: every plan is re-checked from its result tables before it is shown.

:func:`check_plan` takes the validated data and a :class:`~procure.engine.results.Result` and
recomputes, from the result's tables only (``allocation``, ``offers``, ``fulfilment`` and the
cost scalars; never the solver's values or the model's matrix), that the plan meets every
constraint of the workbook and that its cost parts are right. It catches what a solver's
tolerances, a big-M leak, polishing or the reading of the results could get wrong. It reads
the workbook's meaning through the same data-level helpers as the model (item scopes, group
resolution, bans, period capacities); ``tests/checker.py`` is the independent oracle that
checks those too, with code of its own.

Each constraint family is one function ``plan -> DataFrame`` of violations, registered with
:func:`~procure.engine.check.core.family`; a violation is one row of
:data:`~procure.engine.check.core.VIOLATION_COLUMNS`: the family, the subject (what it is
about, as a planner names it), the amount by which it fails (in the constraint's own units),
the tolerance it was held to, and a sentence. :mod:`.supply` holds deliveries, demand,
capacities, orders, prices, budgets and costs; :mod:`.rules` the Rules sheet. A new family is
a decorated function in a module imported here; every family is one vectorised pass over the
deliveries (numpy; Python loops run over rules or violations only).

Tolerances are relative to each constraint's own scale: a row fails when it misses by more
than ``RTOL x scale + ATOL`` (``scale`` the larger of its right-hand side and its terms);
prices and costs, which are computed rather than solved, are held to ``COST_RTOL``. ``ATOL``
is HiGHS's tightest feasibility tolerance: quantities below it cannot be told from 0.

``procure.solve`` runs the check on every plan; a plan that fails is given
``Status.CHECK_FAILED`` (never optimal or feasible) and ``result.check`` says what failed,
where and by how much (docs/results.md).
"""

from __future__ import annotations

from procure.engine.check import rules, security, supply  # noqa: F401  (each registers its families)
from procure.engine.check.core import (
    ATOL,
    COST_RTOL,
    FAMILIES,
    RTOL,
    VIOLATION_COLUMNS,
    Plan,
    PlanCheck,
    check_plan,
    family,
    tolerance,
    violations,
)

__all__ = ["ATOL", "COST_RTOL", "FAMILIES", "Plan", "PlanCheck", "RTOL", "VIOLATION_COLUMNS",
           "check_plan", "family", "tolerance", "violations"]
