"""The PuLP door: the same model as a ``pulp.LpProblem``.

Every PuLP call in procure lives in this module.  Use it to solve with CBC,
Gurobi, CPLEX or any solver PuLP knows, to write ``.lp`` / ``.mps`` files, or
to add constraints of your own before solving::

    >>> import procure
    >>> from procure.engine.pulp_door import to_pulp
    >>> data = procure.datasets.load_demo()
    >>> problem, variables = to_pulp(procure.build_model(data))
    >>> problem.sense == 1  # minimise
    True

``variables`` is a list aligned with the model's columns; the model's blocks
(``model.variables["x"].index``) say which delivery each one is.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from procure.engine.backends import DEFAULT_MIP_GAP, SolverOutput, trivial_bound
from procure.engine.model import Model
from procure.engine.status import Status

#: short names accepted by ``solve(..., solver=...)``; anything else goes to ``pulp.getSolver``
SOLVER_ALIASES = {
    "cbc": "PULP_CBC_CMD",
    "glpk": "GLPK_CMD",
    "gurobi": "GUROBI",
    "gurobi_cmd": "GUROBI_CMD",
    "cplex": "CPLEX_CMD",
    "scip": "SCIP_CMD",
    "highs_pulp": "HiGHS",
    "highs_cmd": "HiGHS_CMD",
}


def to_pulp(model: Model, name: str = "procure"):
    """Return ``(problem, variables)``: a ``pulp.LpProblem`` equal to ``model`` and its variables
    in column order. Ranged rows become two constraints (``<name>_lo`` / ``<name>_hi``)."""
    import pulp

    problem = pulp.LpProblem(name, pulp.LpMinimize)
    names = model.column_names()
    def category(j: int) -> str:
        if not model.integrality[j]:
            return pulp.LpContinuous
        binary = model.col_lower[j] == 0 and model.col_upper[j] == 1
        return pulp.LpBinary if binary else pulp.LpInteger

    variables = [
        problem.add_variable(names[j], lowBound=_finite(model.col_lower[j]),
                             upBound=_finite(model.col_upper[j]), cat=category(j))
        for j in range(model.num_cols)
    ]
    nz = np.flatnonzero(model.col_cost)
    problem += pulp.LpAffineExpression([(variables[j], float(model.col_cost[j])) for j in nz]), "cost"
    csr = model.matrix.tocsr()
    row_names = model.row_names()
    for r in range(model.num_rows):
        lo, up = model.row_lower[r], model.row_upper[r]
        cols = csr.indices[csr.indptr[r]:csr.indptr[r + 1]]
        vals = csr.data[csr.indptr[r]:csr.indptr[r + 1]]
        expr = pulp.LpAffineExpression([(variables[j], float(a)) for j, a in zip(cols, vals, strict=True)])
        if lo == up:
            problem += pulp.LpConstraint(expr, pulp.LpConstraintEQ, row_names[r], float(lo))
            continue
        if np.isfinite(lo) and np.isfinite(up):
            problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, row_names[r] + "_lo", float(lo))
            problem += pulp.LpConstraint(expr, pulp.LpConstraintLE, row_names[r] + "_hi", float(up))
        elif np.isfinite(lo):
            problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, row_names[r], float(lo))
        elif np.isfinite(up):
            problem += pulp.LpConstraint(expr, pulp.LpConstraintLE, row_names[r], float(up))
    return problem, variables


def write_lp(model: Model, path: str | Path) -> Path:
    """Write the model as a CPLEX-LP file through PuLP."""
    problem, _ = to_pulp(model)
    problem.writeLP(str(path))
    return Path(path)


def write_mps(model: Model, path: str | Path) -> Path:
    """Write the model as a (free) MPS file through PuLP."""
    problem, _ = to_pulp(model)
    problem.writeMPS(str(path))
    return Path(path)


def make_solver(solver: str, *, time_limit=None, mip_gap=None, verbose=False):
    import pulp

    name = SOLVER_ALIASES.get(solver.lower(), solver)
    options = {"msg": bool(verbose)}
    if time_limit is not None:
        options["timeLimit"] = float(time_limit)
    if mip_gap is not None:
        options["gapRel"] = float(mip_gap)
    try:
        return pulp.getSolver(name, **options)
    except pulp.PulpError as exc:
        known = ", ".join(sorted(SOLVER_ALIASES))
        raise ValueError(f"unknown solver {solver!r}: use 'highs' or one of {known}, "
                         f"or a PuLP solver name ({exc})") from None


def solve_with_pulp(model: Model, *, solver: str = "cbc", time_limit=None, mip_gap=None,
                    verbose: bool = False) -> SolverOutput:
    """Solve through PuLP and read the values back into column order.

    A MIP plan is polished as HiGHS's is (:func:`procure.engine.backends.polish_mip`): every
    integer column fixed at its rounded value and the LP solved again, through the same
    solver; that LP's duals are the plan's fixed-MIP duals. PuLP reports no bound, so the
    proven gap of a MIP plan is the gap asked for when the solver calls it optimal (its bound
    is then at least ``cost x (1 - gap)``), recomputed against the polished cost; a plan
    stopped by the time limit has no known gap.
    """
    import pulp

    gap = DEFAULT_MIP_GAP if mip_gap is None else float(mip_gap)
    engine = make_solver(solver, time_limit=time_limit, mip_gap=gap, verbose=verbose)
    if not engine.available():
        raise ValueError(f"solver {solver!r} is not installed or not licensed on this machine")
    problem, variables = to_pulp(model)
    start = time.perf_counter()
    problem.solve(engine)
    status = _status(problem)
    label = f"pulp:{engine.name}"
    if not status.has_plan:
        return SolverOutput(status, None, None, None, None, time.perf_counter() - start, label,
                            pulp.LpStatus[problem.status], gap_asked=gap, time_limit=time_limit)
    values = _values(variables)
    objective = float(model.col_cost @ values)
    stopped = "" if status == Status.OPTIMAL else "time_limit"
    detail = pulp.LpStatus[problem.status]
    if not model.is_mip:
        duals = _duals(model, problem) if status == Status.OPTIMAL else None
        return SolverOutput(status, values, duals, objective, None, time.perf_counter() - start,
                            label, detail, bound=objective if status == Status.OPTIMAL else None,
                            gap_asked=gap, stopped=stopped, time_limit=time_limit,
                            duals_basis="lp" if duals is not None else None)
    bound = None
    if status == Status.OPTIMAL:
        bound = max(objective - gap * abs(objective), trivial_bound(model))
    duals = None
    ints = np.flatnonzero(model.integrality)
    fixed = np.clip(np.round(values[ints]), model.col_lower[ints], model.col_upper[ints])
    for j, value in zip(ints, fixed, strict=True):
        variables[j].cat = pulp.LpContinuous
        variables[j].lowBound = variables[j].upBound = float(value)
    remaining = None if time_limit is None else max(float(time_limit) - (time.perf_counter() - start), 1.0)
    problem.solve(make_solver(solver, time_limit=remaining, verbose=verbose))
    if _status(problem) == Status.OPTIMAL:
        values = _values(variables)
        values[ints] = fixed
        objective = float(model.col_cost @ values)
        whole_units = (model.integrality & (model.col_upper > 1)).any()
        # with whole-unit deliveries fixed too, a demand row has no meaningful dual (HiGHS's
        # door re-solves with them continuous; this door reports none)
        duals = None if whole_units else _duals(model, problem)
        detail += " (binaries polished)"
    return SolverOutput(status, values, duals, objective, None, time.perf_counter() - start, label,
                        detail, bound=bound, gap_asked=gap, stopped=stopped, time_limit=time_limit,
                        duals_basis="fixed_mip" if duals is not None else None)


def _values(variables) -> np.ndarray:
    return np.array([v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=float)


def _status(problem) -> Status:
    import pulp

    if problem.status == pulp.LpStatusInfeasible:
        return Status.INFEASIBLE
    if problem.status == pulp.LpStatusUnbounded:
        return Status.UNBOUNDED
    if problem.sol_status == pulp.LpSolutionOptimal:
        return Status.OPTIMAL
    if problem.sol_status == pulp.LpSolutionIntegerFeasible:
        return Status.FEASIBLE
    if problem.status == pulp.LpStatusNotSolved:
        return Status.TIME_LIMIT
    return Status.ERROR


def _duals(model: Model, problem) -> np.ndarray:
    """Row duals in model order; a ranged row split in two gets the sum of its halves' duals."""
    duals = np.zeros(model.num_rows)
    for r, name in enumerate(model.row_names()):
        for key in (name, name + "_lo", name + "_hi"):
            c = problem.get_constraint_by_name(key)
            if c is not None and c.pi is not None:
                duals[r] += c.pi
    return duals


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
