"""A solved scenario (:class:`Result`), read off the solver's values."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from procure.data.tables import ProcureData
from procure.engine.backends import PROOF_BUDGET, SolverOutput
from procure.engine.model import Model
from procure.engine.model.index import BuildContext
from procure.engine.results import duals, tables
from procure.engine.results.rules import rules_table
from procure.engine.results.values import clean_values
from procure.engine.status import DUALS_BASIS, Status


@dataclass
class Result:
    """A solved scenario. Tables are DataFrames; see docs/results.md for every column."""

    status: Status
    total_cost: float | None
    purchase: float | None
    setup: float | None
    transport: float | None
    shortfall: float | None
    mip_gap: float | None
    is_mip: bool
    solver: str
    solve_seconds: float
    build_seconds: float
    message: str
    allocation: pd.DataFrame
    offers: pd.DataFrame
    fulfilment: pd.DataFrame
    partner_costs: pd.DataFrame
    supplier_use: pd.DataFrame
    offer_use: pd.DataFrame
    rules: pd.DataFrame
    demand_duals: pd.DataFrame
    capacity_duals: pd.DataFrame
    budget_duals: pd.DataFrame
    model_size: dict[str, int] = field(default_factory=dict)
    currency: str = "EUR"
    #: a proven lower bound on the best possible cost (None: none known); ``mip_gap`` is
    #: ``(total_cost - best_bound) / total_cost``
    best_bound: float | None = None
    #: what the duals are: "lp" (a pure LP), "fixed_mip" (given the contracts chosen: the LP
    #: with every yes/no decision of the plan fixed), None (no duals); see DUALS_BASIS
    duals_basis: str | None = None
    warnings: tuple[str, ...] = ()
    diagnosis: Any = None  # procure.diagnose.Diagnosis when infeasible
    #: the run-time plan check (procure.engine.check.PlanCheck) of a plan; None without one
    check: Any = None

    @property
    def has_plan(self) -> bool:
        return self.status.has_plan

    def summary(self) -> dict[str, Any]:
        """The scalars, as plain JSON-ready values (``None`` where there is no plan)."""
        out = {
            "status": self.status.value,
            "total_cost": self.total_cost,
            "purchase": self.purchase,
            "setup": self.setup,
            "transport": self.transport,
            "shortfall": self.shortfall,
            "mip_gap": self.mip_gap,
            "best_bound": self.best_bound,
            "currency": self.currency,
            "is_mip": self.is_mip,
            "solver": self.solver,
            "solve_seconds": round(self.solve_seconds, 4),
            "build_seconds": round(self.build_seconds, 4),
            "message": self.message,
            "model_size": self.model_size,
        }
        if self.diagnosis is not None:
            out["diagnosis"] = self.diagnosis.to_dict()
        if self.check is not None:
            out["check"] = self.check.to_dict()
        out["duals"] = self.duals_summary()
        return out

    def duals_summary(self) -> dict[str, Any]:
        """The marginal costs, JSON-ready: their basis and what it means, every demand row's
        marginal cost, and the capacities, budgets and rules whose marginal value is not 0."""
        if self.duals_basis is None:
            return {"basis": None, "meaning": "no duals (no plan, or the solver gave none)"}

        def records(table: pd.DataFrame, column: str, keep_zero: bool = False) -> list[dict]:
            if table is None or table.empty:
                return []
            if not keep_zero:
                table = table[table[column].abs() > 0]
            return table.drop(columns=["basis"], errors="ignore").to_dict(orient="records")

        rules = self.rules
        rule_duals = ([] if rules is None or rules.empty or "dual" not in rules else
                      rules.loc[rules["dual"].fillna(0).abs() > 0,
                                ["rule_id", "name", "subject", "dual"]].to_dict(orient="records"))
        return {
            "basis": self.duals_basis,
            "meaning": DUALS_BASIS[self.duals_basis],
            "demand": records(self.demand_duals, "marginal_cost", keep_zero=True),
            "capacity": records(self.capacity_duals, "marginal_value"),
            "budget": records(self.budget_duals, "marginal_value"),
            "rules": rule_duals,
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by the sheet name it gets in the results workbook."""
        return {
            "Allocation": self.allocation,
            "PartnerCosts": self.partner_costs,
            "Offers": self.offers,
            "Fulfilment": self.fulfilment,
            "SupplierUse": self.supplier_use,
            "OfferUse": self.offer_use,
            "Rules": self.rules,
            "DemandDuals": self.demand_duals,
            "CapacityDuals": self.capacity_duals,
            "BudgetDuals": self.budget_duals,
        }

    def to_excel(self, path, extra: dict[str, pd.DataFrame] | None = None) -> None:
        """Write a formatted results workbook: a Summary sheet, then one sheet per table,
        then ``extra`` tables (e.g. ``{"Savings": procure.analysis.sharing.savings(data, result)}``)."""
        from procure.engine.report import write_results

        write_results(self, path, extra=extra)

    def __repr__(self) -> str:
        return f"<procure.Result {self.message}>"


def empty_result(data: ProcureData, model: Model | None, out: SolverOutput, build_seconds: float,
                 message: str) -> Result:
    empty = pd.DataFrame()
    return Result(
        status=out.status, total_cost=None, purchase=None, setup=None, transport=None,
        shortfall=None, mip_gap=None, is_mip=bool(model is not None and model.is_mip),
        solver=out.solver, solve_seconds=out.seconds, build_seconds=build_seconds, message=message,
        allocation=empty, offers=empty, fulfilment=empty, partner_costs=empty, supplier_use=empty,
        offer_use=empty, rules=empty, demand_duals=empty, capacity_duals=empty, budget_duals=empty,
        model_size=model.summary() if model is not None else {}, currency=data.currency,
        warnings=data.warnings,
    )


def make_result(data: ProcureData, model: Model, out: SolverOutput, build_seconds: float) -> Result:
    """Read a plan off the solver's values."""
    if not out.status.has_plan:
        return empty_result(data, model, out, build_seconds, _status_message(out, data))
    ctx: BuildContext = model.extras["context"]
    v = clean_values(out.col_value, model)
    xb = model.variables["x"]
    x_val = v[xb.start:xb.stop]
    x = ctx.x

    cells = tables.offer_periods(data, ctx)  # every (offer, period) it can deliver in, with capacity
    offers = tables.offer_table(data, model, ctx, v, x_val, cells)
    alloc = tables.allocation(x, x_val, offers)
    fulfil = tables.fulfilment(data, model, ctx, v, x_val)
    setup_paid = offers["setup_cost"].to_numpy()
    partner_costs = tables.partner_costs(data, x, x_val, alloc, offers, fulfil, setup_paid)

    purchase = float(offers["purchase_cost"].sum())
    setup = float(setup_paid.sum())
    transport = float(alloc["transport"].sum()) if len(alloc) else 0.0
    shortfall = float(fulfil["shortfall_cost"].sum()) if len(fulfil) else 0.0
    total = purchase + setup + transport + shortfall
    result = Result(
        status=out.status,
        total_cost=total,
        purchase=purchase,
        setup=setup,
        transport=transport,
        shortfall=shortfall,
        mip_gap=out.mip_gap,
        is_mip=model.is_mip,
        solver=out.solver,
        solve_seconds=out.seconds,
        build_seconds=build_seconds,
        message="",
        allocation=alloc,
        offers=offers,
        fulfilment=fulfil,
        partner_costs=partner_costs,
        supplier_use=tables.supplier_use(data, x, x_val),
        offer_use=tables.offer_use(data, ctx, x_val, cells),
        rules=rules_table(data, model, v, out.row_dual),
        demand_duals=duals.demand_duals(model, out.row_dual, out.duals_basis),
        capacity_duals=duals.capacity_duals(model, out.row_dual, out.duals_basis),
        budget_duals=duals.budget_duals(model, out.row_dual, out.duals_basis),
        model_size=model.summary(),
        currency=data.currency,
        best_bound=out.bound,
        duals_basis=out.duals_basis if out.row_dual is not None else None,
        warnings=data.warnings,
    )
    result.message = _status_message(out, data, total)
    return result


def _status_message(out: SolverOutput, data: ProcureData, total: float | None = None) -> str:
    return status_sentence(out, total, data.currency)


def percent(fraction: float) -> str:
    """0.071 -> '7.1 %', 0.5 -> '50 %', 4.5e-4 -> '0.045 %' (two significant digits)."""
    pct = 100.0 * fraction
    return f"{pct:.0f} %" if pct >= 10 else f"{pct:.2g} %"


def above_best(objective: float | None, bound: float | None) -> float | None:
    """How far above the best possible cost a plan may be, ``(cost - bound) / bound``: the
    gap of ``mip_gap`` is relative to the plan's cost, ``(cost - bound) / cost``, which
    understates it (a plan 53 % above its bound has a gap of 35 %)."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    if objective <= bound:
        return 0.0
    return (objective - bound) / bound if bound > 0 else math.inf


def status_sentence(out: SolverOutput, total: float | None, currency: str) -> str:
    """The one-line status every view shows ("optimal plan, total cost ..." / "feasible plan,
    total cost ..., at most 7.1 % above the best possible; you asked for 50 %")."""
    if out.status == Status.OPTIMAL:
        return f"optimal plan, total cost {total:,.2f} {currency}"
    if out.status == Status.FEASIBLE:
        excess = above_best(out.objective if total is None else total, out.bound)
        if excess is None:
            how_far = "not proven optimal (no bound on the best possible cost is known)"
        elif math.isinf(excess):
            how_far = "not proven optimal (the best possible cost may be 0)"
        else:
            how_far = f"at most {percent(excess)} above the best possible"
        why = {
            "gap": "" if out.gap_asked is None else f"; you asked for a gap of {percent(out.gap_asked)}",
            "time_limit": ("; the time limit stopped the search" if out.time_limit is None
                           else f"; the time limit ({out.time_limit:g} s) stopped the search"),
            "proof_budget": "; the proof that the plan is optimal stopped after "
                            f"{PROOF_BUDGET} sub-solves",
            "limit": "; the solver stopped at an iteration or solution limit",
        }.get(out.stopped, "; the solver could not prove it closer")
        return f"feasible plan, total cost {total:,.2f} {currency}, {how_far}{why}"
    if out.status == Status.INFEASIBLE:
        return "infeasible: no plan meets every demand, capacity, budget and rule (see diagnosis)"
    if out.status == Status.TIME_LIMIT:
        return "time limit reached before any plan was found; raise time_limit"
    return f"solver stopped: {out.detail or out.status.value}"


def marginal_sentences(result: Result, limit: int = 10, items: pd.DataFrame | None = None) -> list[str]:
    """Planners' sentences for the largest demand marginal costs ("given the contracts chosen,
    one more 155 mm shell for PL in 2027 costs 4,950.00 EUR"); ``items`` (the Items sheet)
    gives the items' names."""
    duals = result.demand_duals
    if duals is None or duals.empty or result.duals_basis is None:
        return []
    named = {} if items is None else {
        i: n for i, n in zip(items["item"], items["name"], strict=True) if isinstance(n, str) and n}
    lead = "given the contracts chosen, " if result.duals_basis == "fixed_mip" else ""
    top = duals.sort_values("marginal_cost", ascending=False, kind="stable").head(limit)
    return [f"{lead}one more {named.get(r.item, r.item)} for {r.partner} in {r.period} costs "
            f"{r.marginal_cost:,.2f} {result.currency}" for r in top.itertuples(index=False)]
