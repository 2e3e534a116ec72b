"""From solver values to the result tables (docs/model.md, section 5; every column in docs/results.md).

Everything here is read off the solution by block name; the purchase cost of
each offer is recomputed from its pooled quantity and the tier it reached, so
the reported unit price is exactly the contract's (the tier with the largest
min_quantity <= Q for all-units; cost(Q)/Q for incremental).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from procure.data.tables import ProcureData
from procure.engine.backends import PROOF_BUDGET, SolverOutput
from procure.engine.model import Model, resilience
from procure.engine.model.index import BuildContext, period_capacity
from procure.engine.status import DUALS_BASIS, Status

#: a value at most this fraction of its column's scale is solver noise, reported as 0. The
#: scale of a delivery or shortfall is its demand row's quantity, of any other column its
#: finite upper bound (else 1): a demand of 5e-8 units is delivered, while 1e-6 units of
#: noise on a million-unit row read as 0 (an absolute 1e-7 dropped the first)
ZERO_RTOL = 1e-9
_RULE_BLOCKS = ("share", "workshare", "quantity", "supplier_count")


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

    cells = _offer_periods(data, ctx)  # every (offer, period) it can deliver in, with capacity
    offers = _offer_table(data, model, ctx, v, x_val, cells)
    alloc = _allocation(x, x_val, offers)
    fulfil = _fulfilment(data, model, ctx, v, x_val)
    setup_paid = offers["setup_cost"].to_numpy()
    partner_costs = _partner_costs(data, x, x_val, alloc, offers, fulfil, setup_paid)

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
        supplier_use=_supplier_use(data, x, x_val),
        offer_use=_offer_use(data, ctx, x_val, cells),
        rules=_rules_table(data, model, v, out.row_dual),
        demand_duals=_demand_duals(model, out.row_dual, out.duals_basis),
        capacity_duals=_capacity_duals(model, out.row_dual, out.duals_basis),
        budget_duals=_budget_duals(model, out.row_dual, out.duals_basis),
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


def column_scale(model: Model) -> np.ndarray:
    """What a column's value is measured against (see :data:`ZERO_RTOL`)."""
    up = model.col_upper
    scale = np.where(np.isfinite(up) & (up > 0), up, 1.0)
    ctx: BuildContext = model.extras["context"]
    xb = model.variables["x"]
    scale[xb.start:xb.stop] = ctx.x["demand"].to_numpy(dtype=float)
    ub = model.variables["shortfall"]
    if ub.size:
        quantity = ctx.data.demand["quantity"].to_numpy(dtype=float)
        scale[ub.start:ub.stop] = quantity[ub.index["demand_row"].to_numpy()]
    return scale


def clean_values(values: np.ndarray, model: Model) -> np.ndarray:
    """Solver values with noise set to 0 (relative to each column's scale) and integer
    columns rounded."""
    v = np.asarray(values, dtype=float).copy()
    v[np.abs(v) <= ZERO_RTOL * column_scale(model)] = 0.0
    ints = model.integrality
    v[ints] = np.round(v[ints])
    return v


def _values(model: Model, v: np.ndarray, name: str) -> np.ndarray:
    b = model.variables[name]
    return v[b.start:b.stop]


def _offer_table(data, model, ctx, v, x_val, cells: pd.DataFrame) -> pd.DataFrame:
    offers = ctx.offers
    n = len(offers)
    pooled = np.bincount(ctx.x["offer"].to_numpy(), weights=x_val, minlength=n)
    tier_min = np.zeros(n)
    price = offers["unit_price"].to_numpy(dtype=float).copy()
    purchase = price * pooled
    seg = ctx.segments
    if seg is not None and len(seg):
        # the contract: the tier with the largest min_quantity <= Q, read off Q itself. The segment the
        # solver chose may be the band below when Q sits exactly on a breakpoint (same cost for
        # incremental, where C(Q) is continuous; never cheaper for all_units).
        reached = seg["min_quantity"].to_numpy() <= pooled[seg["offer"].to_numpy()] * (1 + ZERO_RTOL)
        pick = seg[reached].groupby("offer", sort=False).tail(1)
        o = pick["offer"].to_numpy()
        tier_min[o] = pick["min_quantity"].to_numpy()
        seg_price = pick["unit_price"].to_numpy()
        purchase[o] = seg_price * pooled[o] + pick["intercept"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            price[o] = np.where(pooled[o] > 0, purchase[o] / np.where(pooled[o] > 0, pooled[o], 1),
                                seg_price)
    used = pooled > 0
    setup_paid = np.zeros(n)
    if model.variables["used"].size:
        y_idx = model.variables["used"].index["offer"].to_numpy()
        # an offer is used when it delivers: a plan stopped by the time limit may still have
        # y = 1 on an offer that orders nothing, a setup it need not pay (y = 0 is feasible)
        y_val = (_values(model, v, "used") > 0.5) & used[y_idx]
        setup_paid[y_idx] = np.where(y_val, offers["setup_cost"].to_numpy()[y_idx], 0.0)
    cap_total = _offer_capacity_total(ctx, cells)
    return pd.DataFrame({
        "supplier": offers["supplier"].to_numpy(),
        "item": offers["item"].to_numpy(),
        "discount": offers["discount"].to_numpy(),
        "pooled_quantity": pooled,
        "tier_min_quantity": tier_min,
        "base_price": offers["unit_price"].to_numpy(dtype=float),
        "unit_price": price,
        "purchase_cost": purchase,
        "setup_cost": setup_paid,
        "used": used,
        "min_order": offers["min_order"].to_numpy(dtype=float),
        "capacity_total": cap_total,
    })


def _offer_capacity_total(ctx: BuildContext, cells: pd.DataFrame) -> np.ndarray:
    cap = cells["capacity"].to_numpy()
    total = pd.Series(cap).groupby(cells["offer"].to_numpy()).sum(min_count=1)
    out = np.full(len(ctx.offers), np.nan)
    out[total.index.to_numpy()] = total.to_numpy()
    out[np.isinf(out)] = np.nan  # unlimited (docs/results.md); a workbook cannot hold inf
    return out


def _offer_periods(data: ProcureData, ctx: BuildContext) -> pd.DataFrame:
    """Every (offer, period) from the offer's first period on, with its capacity (inf: none)."""
    offers = ctx.offers
    periods = pd.DataFrame({"period": list(data.periods), "period_pos": np.arange(len(data.periods))})
    cells = offers[["offer", "supplier", "item", "capacity", "first_pos"]].merge(periods, how="cross")
    cells = cells[cells["period_pos"] >= cells["first_pos"]].reset_index(drop=True)
    cells["capacity"] = period_capacity(data, cells)
    return cells


def _allocation(x: pd.DataFrame, x_val: np.ndarray, offers: pd.DataFrame) -> pd.DataFrame:
    keep = x_val > 0
    sub = x[keep]
    q = x_val[keep]
    paid = offers["unit_price"].to_numpy()[sub["offer"].to_numpy()]
    transport = sub["transport_cpu"].to_numpy() * q
    return pd.DataFrame({
        "partner": sub["partner"].to_numpy(),
        "item": sub["item"].to_numpy(),
        "demand_item": sub["demand_item"].to_numpy(),
        "supplier": sub["supplier"].to_numpy(),
        "supplier_country": sub["supplier_country"].to_numpy(),
        "period": sub["period"].to_numpy(),
        "quantity": q,
        "unit_price": paid,
        "base_price": sub["base_price"].to_numpy(),
        "transport": transport,
        "cost": q * paid + transport,
    }).sort_values(["partner", "item", "period", "supplier", "demand_item"],
                   kind="stable").reset_index(drop=True)


def _fulfilment(data, model, ctx, v, x_val) -> pd.DataFrame:
    d = data.demand
    n = len(d)
    delivered = np.bincount(ctx.x["demand_row"].to_numpy(), weights=x_val, minlength=n)
    short = np.zeros(n)
    ub = model.variables["shortfall"]
    if ub.size:
        short[ub.index["demand_row"].to_numpy()] = _values(model, v, "shortfall")
    penalty = d["item"].map(data.items.set_index("item")["shortfall_penalty"]).to_numpy(dtype=float)
    return pd.DataFrame({
        "partner": d["partner"].to_numpy(),
        "item": d["item"].to_numpy(),
        "period": d["period"].to_numpy(),
        "demand": d["quantity"].to_numpy(dtype=float),
        "delivered": delivered,
        "shortfall": short,
        "shortfall_cost": np.nan_to_num(short * penalty),
    })


def _partner_costs(data, x, x_val, alloc, offers, fulfil, setup_paid) -> pd.DataFrame:
    """Proportional sharing: each offer's purchase and setup cost split by quantity share,
    plus the partner's own transport and shortfall cost."""
    n = len(data.partners)
    pooled = offers["pooled_quantity"].to_numpy()
    o = x["offer"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pooled[o] > 0, x_val / np.where(pooled[o] > 0, pooled[o], 1), 0.0)
    partner = x["partner"].cat.codes.to_numpy()  # categories are data.partners, in order

    def per_partner(weights: np.ndarray) -> np.ndarray:
        return np.bincount(partner, weights=weights, minlength=n)

    cpu = x["transport_cpu"].to_numpy()
    short = fulfil.groupby("partner")["shortfall_cost"].sum()
    table = pd.DataFrame({
        "partner": data.partners["partner"].to_numpy(),
        "quantity": per_partner(x_val),
        "purchase": per_partner(x_val * offers["unit_price"].to_numpy()[o]),
        "setup": per_partner(share * setup_paid[o]),
        "transport": per_partner(x_val * cpu),
    })
    table["shortfall"] = table["partner"].map(short).fillna(0.0).to_numpy(dtype=float)
    table["total"] = table[["purchase", "setup", "transport", "shortfall"]].sum(axis=1)
    table["budget"] = data.partners["budget"].to_numpy(dtype=float)
    table["budget_value"] = per_partner(x_val * (x["base_price"].to_numpy() + cpu))
    return table


def _supplier_use(data, x, x_val) -> pd.DataFrame:
    """Per (supplier, period) with a shared capacity or any delivery."""
    sup = data.suppliers
    n_t = len(data.periods)
    cell = x["supplier"].cat.codes.to_numpy().astype(np.int64) * n_t + x["period_pos"].to_numpy()
    size = len(sup) * n_t
    quantity = np.bincount(cell, weights=x_val, minlength=size)
    used = np.bincount(cell, weights=x_val * x["capacity_use"].to_numpy(), minlength=size)
    capacity = np.repeat(sup["capacity"].to_numpy(dtype=float), n_t)
    keep = np.flatnonzero((quantity > 0) | ~np.isnan(capacity))  # supplier-major, periods in order
    s, t = np.divmod(keep, n_t)
    with np.errstate(invalid="ignore", divide="ignore"):
        utilisation = used[keep] / capacity[keep]
    table = pd.DataFrame({
        "supplier": sup["supplier"].to_numpy()[s],
        "country": sup["country"].to_numpy()[s],
        "period": np.asarray(data.periods, dtype=object)[t],
        "quantity": quantity[keep],
        "capacity_used": used[keep],
        "capacity": capacity[keep],
        "utilisation": utilisation,
    })
    return table.sort_values("supplier", kind="stable").reset_index(drop=True)


def _offer_use(data, ctx, x_val, cells: pd.DataFrame) -> pd.DataFrame:
    n_t = len(data.periods)
    key = ctx.x["offer"].to_numpy().astype(np.int64) * n_t + ctx.x["period_pos"].to_numpy()
    quantity = np.bincount(key, weights=x_val, minlength=len(ctx.offers) * n_t)
    table = cells.assign(quantity=quantity[cells["offer"].to_numpy() * n_t + cells["period_pos"].to_numpy()])
    cap = table["capacity"].replace(np.inf, np.nan)
    table["capacity"] = cap
    with np.errstate(invalid="ignore", divide="ignore"):
        table["utilisation"] = np.where(cap > 0, table["quantity"] / cap,
                                        np.where(cap == 0, 0.0, np.nan))
    return table[["supplier", "item", "period", "quantity", "capacity", "utilisation"]].reset_index(drop=True)


# -- rules -------------------------------------------------------------------------------

def rule_label(rule) -> str:
    """A readable label for a Rules row (its ``name`` when given): a row tuple or a Series."""
    if isinstance(rule, pd.Series):
        # a Series' .name is its row label and .item a method: read the columns themselves
        rule = SimpleNamespace(**{k: rule.get(k) for k in
                                  ("rule", "partner", "item", "group", "share", "quantity",
                                   "name")})
    name = getattr(rule, "name", None)
    if isinstance(name, str) and name.strip():
        return name
    who = rule.partner if isinstance(rule.partner, str) else "pool"
    what = rule.item if isinstance(rule.item, str) else "all items"
    group = rule.group if isinstance(rule.group, str) else "all suppliers"
    if rule.rule in ("min_share", "max_share", "min_value_share", "max_value_share", "workshare"):
        op = ">=" if rule.rule.startswith("min") or rule.rule == "workshare" else "<="
        target = f"{op} {rule.share:.0%}"
    elif rule.rule == "ban":
        target = ""
    elif rule.rule == "n_minus_1":
        lost = "each country" if group == "each_country" else (
            "each supplier" if group in ("all suppliers", "each_supplier") else f"each of {group}")
        return f"n_minus_1: without {lost}, unmet <= {rule.share:.0%} ({who}, {what})"
    else:
        op = ">=" if rule.rule.startswith("min") else "<="
        target = f"{op} {rule.quantity:g}"
    grp = "" if rule.rule == "workshare" else f" {group}"
    return f"{rule.rule}{grp} {target} ({who}, {what})".replace("  ", " ")


def _rules_table(data: ProcureData, model: Model, v: np.ndarray, row_dual) -> pd.DataFrame:
    rules = data.rules.reset_index(drop=True)
    activity = model.matrix @ v
    frames = []
    for name in _RULE_BLOCKS:
        block = model.constraints.get(name)
        if block is None or block.size == 0:
            continue
        idx = block.index
        rows = slice(block.start, block.stop)
        report = model.extras["rule_reports"][name]
        num = _row_sums(report["num"], block.size, v)
        den = _row_sums(report["den"], block.size, v)
        measure = idx["measure"].to_numpy()
        if name == "supplier_count":
            num = _counts_reached(model, v, block.size)
        ratio = name in ("share", "workshare")
        with np.errstate(invalid="ignore", divide="ignore"):
            achieved = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan) if ratio else num
        target = idx["target"].to_numpy(dtype=float)
        lhs = num
        rhs = target * den if ratio else target
        act = activity[rows]
        lo = model.row_lower[rows]
        up = model.row_upper[rows]
        scale = np.abs(model.matrix[rows]) @ np.abs(v)
        tol = 1e-6 * np.maximum(1.0, scale)
        binds = (np.abs(act - lo) <= tol) | (np.abs(act - up) <= tol)
        if name == "supplier_count":
            binds = np.abs(num - target) < 0.5
        dual = row_dual[rows] if row_dual is not None else np.full(block.size, np.nan)
        frames.append(pd.DataFrame({
            "rule_pos": idx["rule_pos"].to_numpy(),
            "subject": idx["subject"].to_numpy(),
            "sense": idx["sense"].to_numpy(),
            "measure": measure,
            "target": target,
            "achieved": achieved,
            "lhs": lhs,
            "rhs": rhs,
            "binds": binds,
            "dual": dual,
        }))
    n_minus_1 = resilience.report(model, v, row_dual)
    if len(n_minus_1):
        frames.append(n_minus_1)
    bans = rules.index[rules["rule"] == "ban"].to_numpy()
    if len(bans):
        frames.append(pd.DataFrame({
            "rule_pos": bans, "subject": None, "sense": "=", "measure": "quantity", "target": 0.0,
            "achieved": 0.0, "lhs": 0.0, "rhs": 0.0, "binds": True, "dual": np.nan,
        }))
    columns = ["rule_id", "name", "rule", "partner", "item", "group", "subject", "sense", "measure",
               "target", "achieved", "lhs", "rhs", "binds", "dual"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True).sort_values("rule_pos", kind="stable")
    src = rules.iloc[table["rule_pos"].to_numpy()]
    table["rule_id"] = [f"Rules!{r}" for r in src["source_row"]]
    table["name"] = [rule_label(r) for r in src.itertuples(index=False)]
    for col in ("rule", "partner", "item", "group"):
        table[col] = src[col].to_numpy()
    return table[columns].reset_index(drop=True)


def _row_sums(terms, n_rows: int, v: np.ndarray) -> np.ndarray:
    rows, cols, vals = terms
    if len(rows) == 0:
        return np.zeros(n_rows)
    return np.bincount(rows, weights=vals * v[cols], minlength=n_rows)


def _counts_reached(model: Model, v: np.ndarray, n_rows: int) -> np.ndarray:
    """Suppliers that really count: deliveries >= threshold (min) or > 0 (max), per count row."""
    pairs = model.extras["count_pairs"]
    pair_idx, cols, vals = pairs["terms"]
    n_pairs = len(pairs["row"])
    delivered = np.bincount(pair_idx, weights=vals * v[cols], minlength=n_pairs) if n_pairs else np.zeros(0)
    thr = pairs["threshold"]
    counts = np.where(thr > 0, delivered >= thr * (1 - 1e-6), delivered > 0)
    return np.bincount(pairs["row"], weights=counts.astype(float), minlength=n_rows)


# -- duals ------------------------------------------------------------------------------

def _dual_rows(model: Model, name: str, row_dual) -> tuple[pd.DataFrame, np.ndarray] | None:
    block = model.constraints.get(name)
    if row_dual is None or block is None:
        return None
    return block.index, row_dual[block.start:block.stop]


def _demand_duals(model: Model, row_dual, basis: str | None) -> pd.DataFrame:
    got = _dual_rows(model, "demand", row_dual)
    if got is None:
        return pd.DataFrame(columns=["partner", "item", "period", "marginal_cost", "basis"])
    idx, dual = got
    return idx[["partner", "item", "period"]].assign(marginal_cost=dual, basis=basis)


def _capacity_duals(model: Model, row_dual, basis: str | None) -> pd.DataFrame:
    cols = ["supplier", "item", "period", "marginal_value", "basis"]
    parts = []
    for name in ("offer_capacity", "shared_capacity"):
        got = _dual_rows(model, name, row_dual)
        if got is None:
            continue
        idx, dual = got
        frame = idx.copy()
        if "item" not in frame:
            frame["item"] = None
        frame["marginal_value"] = -dual  # a <= row's dual is <= 0 in a minimisation
        frame["basis"] = basis
        parts.append(frame[cols])
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def _budget_duals(model: Model, row_dual, basis: str | None) -> pd.DataFrame:
    got = _dual_rows(model, "budget", row_dual)
    if got is None:
        return pd.DataFrame(columns=["partner", "marginal_value", "basis"])
    idx, dual = got
    return idx[["partner"]].assign(marginal_value=-dual, basis=basis)


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


__all__ = ["DUALS_BASIS", "Result", "make_result", "empty_result", "marginal_sentences",
           "rule_label"]
