"""Coalitions and their costs (SPEC section 4).

``c(S)`` is the optimal cost of coalition ``S``: the same model with the demand
of partners outside S removed, their partner-scoped rules dropped, and pool
rules applied to S's pool (a pool rule's absolute quantity scaled by S's share
of the pool's demand for the items in its scope; shares and supplier counts as
written).

:func:`coalition_data` says this literally, as data.  :func:`coalition_costs`
is the fast path used for games over many coalitions: it builds the grand
coalition's model once and turns it into each coalition's model by changing
bounds only (outsiders' deliveries and shortfalls fixed at 0, their demand rows
at 0, their partner-scoped rule rows freed, pool quantity rows rescaled, supplier
count rows of items the coalition does not demand freed), on one reused HiGHS
HiGHS LP, branched on by :mod:`procure.branch`.  Tests assert both paths give the
same costs.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.analysis.branch import LpBranchAndBound
from procure.analysis.games import GameInfeasible, shapley_from_costs  # re-exported here too
from procure.data.tables import ProcureData
from procure.engine.backends import (
    DEFAULT_MIP_GAP,
    change_bounds,
    new_highs,
    pass_model,
    read_highs,
    set_threads,
)
from procure.engine.model import Model, build_model, resilience
from procure.engine.model.index import item_mask
from procure.engine.status import Status

Coalition = frozenset[str]


def coalition_data(data: ProcureData, members: Iterable[str]) -> ProcureData:
    """The scenario of coalition ``members`` as data, exactly as SPEC section 4 defines it."""
    members = frozenset(members)
    _check_members(data, members)
    demand = data.demand[data.demand["partner"].isin(members)].reset_index(drop=True)
    rules = data.rules
    partner = rules["partner"]
    keep = partner.isna() | partner.isin(members)
    rules = rules[keep].reset_index(drop=True).copy()
    factors = _pool_quantity_factors(data, rules, members)
    rules.loc[factors.index, "quantity"] = rules.loc[factors.index, "quantity"] * factors
    return data.replace(demand=demand, rules=rules)


def _pool_quantity_factors(data: ProcureData, rules: pd.DataFrame, members: frozenset) -> pd.Series:
    """S's share of the pool's demand for the items in each pool min/max_quantity rule's scope."""
    pool_q = rules[rules["rule"].isin(["min_quantity", "max_quantity"]) & rules["partner"].isna()]
    out = {}
    for pos, rule in pool_q.iterrows():
        item = rule["item"] if isinstance(rule["item"], str) else None
        in_scope = item_mask(data, data.demand, item)
        pool = float(data.demand.loc[in_scope, "quantity"].sum())
        mine = float(data.demand.loc[in_scope & data.demand["partner"].isin(members).to_numpy(), "quantity"].sum())
        out[pos] = mine / pool if pool > 0 else 0.0
    return pd.Series(out, dtype=float)


def _check_members(data: ProcureData, members: frozenset) -> None:
    unknown = sorted(members - set(data.partners["partner"]))
    if unknown:
        raise ValueError(f"unknown partner(s) in coalition: {', '.join(unknown)}")


@dataclass
class CoalitionPlan:
    """How to turn the grand coalition's model into any coalition's, by bounds alone."""

    model: Model
    partners: list[str]
    x_partner: np.ndarray  # partner position of each x column
    u_partner: np.ndarray  # partner position of each shortfall column
    demand_rows: np.ndarray  # global row of each demand row
    demand_partner: np.ndarray
    demand_qty: np.ndarray
    #: rule rows that belong to one partner (dropped when it is outside)
    owned_rows: np.ndarray
    owned_partner: np.ndarray
    #: pool min/max_quantity rows and, per row, the demand positions of its scope
    scaled_rows: np.ndarray
    scaled_lower: np.ndarray
    scaled_upper: np.ndarray
    scaled_scope: list[np.ndarray]
    #: pool supplier-count rows: the item and the partners demanding it
    count_rows: np.ndarray
    count_demanders: list[np.ndarray]
    #: min_suppliers link rows: their deliveries (rows x x-columns, 0/1) and pool threshold
    #: min(1, reach); a coalition that reaches less than 1 unit needs the literal model
    link_rows: np.ndarray
    link_deliveries: object  # scipy.sparse csr
    link_threshold: np.ndarray
    x_upper: np.ndarray
    #: (offer, period) cell of each x column, each cell's offer and what it can make
    x_cell: np.ndarray
    cell_offer: np.ndarray
    cell_capacity: np.ndarray
    n_offers: int
    #: big-M entries that depend on what the coalition can reach: (row, col, offer, floor, cap)
    #: the coefficient is -max(floor, min(cap, reach[offer]))
    bigm_row: np.ndarray
    bigm_col: np.ndarray
    bigm_offer: np.ndarray
    bigm_floor: np.ndarray
    bigm_cap: np.ndarray


def plan_coalitions(data: ProcureData, model: Model | None = None) -> CoalitionPlan:
    model = model if model is not None else build_model(data)
    ctx = model.extras["context"]
    partners = list(data.partners["partner"])
    pos = {p: k for k, p in enumerate(partners)}
    x_partner = ctx.x["partner"].map(pos).to_numpy(dtype=np.int64)
    u_block = model.variables["shortfall"]
    u_partner = u_block.index["partner"].map(pos).to_numpy(dtype=np.int64)
    dem = model.constraints["demand"]
    demand_partner = dem.index["partner"].map(pos).to_numpy(dtype=np.int64)
    demand_qty = model.row_lower[dem.start:dem.stop].copy()

    rules = data.rules.reset_index(drop=True)
    owned_rows, owned_partner = [], []
    scaled_rows, scaled_scope = [], []
    count_rows, count_demanders = [], []
    for name in ("share", "workshare", "quantity", "supplier_count", "supplier_count_link"):
        block = model.constraints.get(name)
        if block is None or block.size == 0:
            continue
        rule_partner = rules["partner"].to_numpy()[block.index["rule_pos"].to_numpy()]
        for k in range(block.size):
            row = block.start + k
            owner = rule_partner[k]
            if name == "workshare":
                owner = block.index["subject"].iat[k]  # one row per partner, pool rule or not
            if isinstance(owner, str):
                owned_rows.append(row)
                owned_partner.append(pos[owner])
                continue
            rule = rules.iloc[int(block.index["rule_pos"].iat[k])]
            if name == "quantity" and rule["rule"] in ("min_quantity", "max_quantity"):
                item = rule["item"] if isinstance(rule["item"], str) else None
                scaled_rows.append(row)
                scaled_scope.append(np.flatnonzero(item_mask(data, data.demand, item)))
            elif name == "supplier_count":
                item = block.index["subject"].iat[k]
                demanders = data.demand.loc[(data.demand["item"] == item) & (data.demand["quantity"] > 0),
                                            "partner"].map(pos).unique()
                count_rows.append(row)
                count_demanders.append(np.asarray(demanders, dtype=np.int64))
    scaled_rows_arr = np.asarray(scaled_rows, dtype=np.int64)
    return CoalitionPlan(
        model=model, partners=partners, x_partner=x_partner, u_partner=u_partner,
        demand_rows=np.arange(dem.start, dem.stop), demand_partner=demand_partner, demand_qty=demand_qty,
        owned_rows=np.asarray(owned_rows, dtype=np.int64), owned_partner=np.asarray(owned_partner, dtype=np.int64),
        scaled_rows=scaled_rows_arr, scaled_lower=model.row_lower[scaled_rows_arr].copy(),
        scaled_upper=model.row_upper[scaled_rows_arr].copy(), scaled_scope=scaled_scope,
        count_rows=np.asarray(count_rows, dtype=np.int64), count_demanders=count_demanders,
        **_min_links(model, ctx),
    )


def _min_links(model: Model, ctx) -> dict:
    xb = model.variables["x"]
    block = model.constraints.get("supplier_count_link")
    rows = np.zeros(0, dtype=np.int64)
    if block is not None and block.size:
        rows = block.positions[(block.index["sense"] == ">=").to_numpy()]
    deliveries = (model.matrix.tocsr()[rows][:, xb.start:xb.stop] != 0).astype(float)
    return {
        "link_rows": rows,
        "link_deliveries": deliveries,
        "link_threshold": -np.asarray(model.matrix.tocsr()[rows][:, xb.stop:].sum(axis=1)).ravel(),
        "x_upper": ctx.x["upper"].to_numpy(),
        **_cells(ctx),
        **_big_m_entries(model, ctx),
    }


def _big_m_entries(model: Model, ctx) -> dict:
    """Where the pool's big-M sits in the matrix: ``Q - M y <= 0`` of untiered offers with y, and
    ``q_k - min(b_{k+1}, M) z_k <= 0`` of tier segments. A coalition reaches less than the
    pool, so its own (tighter, equally exact) M replaces the pool's."""
    rows, cols, offers, floors, caps = [], [], [], [], []
    used = model.variables["used"]
    y_of_offer = dict(zip(used.index["offer"], used.positions, strict=True))
    block = model.constraints.get("order_used")
    if block is not None and block.size:
        key = ctx.offers.set_index(["supplier", "item"])["offer"]
        offer = key.loc[list(zip(block.index["supplier"], block.index["item"], strict=True))].to_numpy()
        rows.append(block.positions)
        cols.append(np.array([y_of_offer[o] for o in offer], dtype=np.int64))
        offers.append(offer)
        floors.append(np.zeros(len(offer)))
        caps.append(np.full(len(offer), np.inf))
    seg = ctx.segments
    high = model.constraints.get("tier_high")
    if seg is not None and high is not None and high.size:
        rows.append(high.positions)
        cols.append(model.variables["tier_chosen"].positions)
        offers.append(seg["offer"].to_numpy())
        floors.append(seg["min_quantity"].to_numpy(dtype=float))
        caps.append(seg["upper"].to_numpy(dtype=float))
    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return {"bigm_row": cat(rows, np.int64), "bigm_col": cat(cols, np.int64),
            "bigm_offer": cat(offers, np.int64), "bigm_floor": cat(floors, float),
            "bigm_cap": cat(caps, float)}


def coalition_big_m(plan: CoalitionPlan, reach: np.ndarray) -> np.ndarray:
    """The coalition's big-M coefficients for ``plan.bigm_row`` / ``plan.bigm_col``."""
    m = np.minimum(plan.bigm_cap, reach[plan.bigm_offer])
    return -np.maximum(plan.bigm_floor, m)


def _cells(ctx) -> dict:
    x = ctx.x
    cell = x.groupby(["offer", "period_pos"], sort=False).ngroup().to_numpy()
    first = np.unique(cell, return_index=True)[1]
    return {
        "x_cell": cell,
        "cell_offer": x["offer"].to_numpy()[first],
        "cell_capacity": x["period_cap"].to_numpy()[first],
        "n_offers": len(ctx.offers),
    }


def offer_reach(plan: CoalitionPlan, inside: np.ndarray) -> np.ndarray:
    """Largest pooled quantity each offer can reach serving only the coalition's demand."""
    served = np.bincount(plan.x_cell, weights=plan.x_upper * inside[plan.x_partner],
                         minlength=len(plan.cell_offer))
    made = np.minimum(served, plan.cell_capacity)
    return np.bincount(plan.cell_offer, weights=made, minlength=plan.n_offers)


def needs_literal_model(plan: CoalitionPlan, members: Coalition) -> bool:
    """True when a min_suppliers threshold min(1, reach) is lower for this coalition than for
    the pool (a supplier that can deliver under one unit to it): bounds alone cannot say that."""
    if not len(plan.link_rows):
        return False
    inside = np.zeros(len(plan.partners), dtype=bool)
    inside[[plan.partners.index(p) for p in members]] = True
    reach = plan.link_deliveries @ (plan.x_upper * inside[plan.x_partner])
    return bool((np.minimum(1.0, reach) < plan.link_threshold - 1e-12).any())


def coalition_bounds(plan: CoalitionPlan, data: ProcureData, members: Coalition,
                     reach: np.ndarray | None = None):
    """Column and row bounds of coalition ``members``' model (arrays over the whole model).
    ``reach``: :func:`offer_reach` for the coalition, when the caller has it already."""
    m = plan.model
    inside = np.zeros(len(plan.partners), dtype=bool)
    inside[[plan.partners.index(p) for p in members]] = True
    col_upper = m.col_upper.copy()
    xb = m.variables["x"]
    col_upper[xb.start:xb.stop][~inside[plan.x_partner]] = 0.0
    ub = m.variables["shortfall"]
    col_upper[ub.start:ub.stop][~inside[plan.u_partner]] = 0.0
    _fix_unreachable(plan, m, col_upper, offer_reach(plan, inside) if reach is None else reach)
    row_lower = m.row_lower.copy()
    row_upper = m.row_upper.copy()
    out = ~inside[plan.demand_partner]
    row_lower[plan.demand_rows[out]] = 0.0
    row_upper[plan.demand_rows[out]] = 0.0
    dropped = plan.owned_rows[~inside[plan.owned_partner]]
    row_lower[dropped] = -np.inf
    row_upper[dropped] = np.inf
    if len(plan.scaled_rows):
        qty = data.demand["quantity"].to_numpy()
        member_mask = data.demand["partner"].isin(members).to_numpy()
        for k, scope in enumerate(plan.scaled_scope):
            pool = qty[scope].sum()
            factor = qty[scope][member_mask[scope]].sum() / pool if pool > 0 else 0.0
            row = plan.scaled_rows[k]
            # only the finite side scales: the open side of a min/max row is infinite, and
            # inf x 0 (a coalition demanding none of the rule's items) would be NaN
            row_lower[row] = _scaled(plan.scaled_lower[k], factor)
            row_upper[row] = _scaled(plan.scaled_upper[k], factor)
    for row, demanders in zip(plan.count_rows, plan.count_demanders, strict=True):
        if not inside[demanders].any():
            row_lower[row] = -np.inf
            row_upper[row] = np.inf
    resilience.coalition_cover_bounds(m, inside, col_upper, row_lower)  # N-1 re-coveries
    return col_upper, row_lower, row_upper


def _scaled(bound: float, factor: float) -> float:
    return bound * factor if np.isfinite(bound) else bound


def _fix_unreachable(plan: CoalitionPlan, m: Model, col_upper: np.ndarray, reach: np.ndarray) -> None:
    """Binaries the coalition can never switch on, fixed at 0: price tiers above what it can buy,
    offers it cannot use at all or whose minimum order it cannot reach. Exact (the literal
    coalition model would not even have these segments), and it makes small coalitions LPs."""
    ctx = m.extras["context"]
    seg = ctx.segments
    if seg is not None and len(seg):
        seg_offer = seg["offer"].to_numpy()
        z = m.variables["tier_chosen"]
        q = m.variables["tier_quantity"]
        unreachable = seg["min_quantity"].to_numpy() > reach[seg_offer]
        col_upper[z.start:z.stop][unreachable] = 0.0
        col_upper[q.start:q.stop] = np.minimum(col_upper[q.start:q.stop], reach[seg_offer])
    y = m.variables["used"]
    if y.size:
        offer = y.index["offer"].to_numpy()
        min_order = ctx.offers["min_order"].to_numpy()[offer]
        dead = (reach[offer] <= 0) | (min_order > reach[offer])
        col_upper[y.start:y.stop][dead] = 0.0


@dataclass
class CoalitionCost:
    members: Coalition
    status: Status
    cost: float  # NaN when there is no plan
    seconds: float


def coalition_costs(
    data: ProcureData,
    coalitions: Iterable[Iterable[str]],
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Optimal cost ``c(S)`` of each coalition, reusing one model (and one HiGHS) throughout.

    Returns a DataFrame with ``coalition`` (frozenset of partner ids), ``size``, ``status``,
    ``cost`` (NaN without a plan) and ``seconds``. The empty coalition costs 0.
    ``workers > 1`` splits the coalitions over that many local processes.

    >>> import procure
    >>> from procure.analysis.sharing import coalition_costs
    >>> data = procure.datasets.load_demo()
    >>> table = coalition_costs(data, [["DE"], ["FR"], ["DE", "FR"]])
    >>> list(table["size"])
    [1, 1, 2]
    """
    coalitions = [frozenset(c) for c in coalitions]
    for c in coalitions:
        _check_members(data, c)
    time_limit = data.solver_option("time_limit", time_limit)
    mip_gap = data.solver_option("mip_gap", mip_gap)
    if workers > 1 and len(coalitions) > 1:
        chunks = [coalitions[k::workers] for k in range(workers)]
        # spawn, not fork: a forked child inherits HiGHS's thread scheduler from the parent
        # without its threads, and its solves then fail
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            # one HiGHS thread per worker process: the workers already use every core
            parts = list(pool.map(_solve_chunk, [data] * workers, chunks,
                                  [time_limit] * workers, [mip_gap] * workers, [1] * workers))
        rows = [r for part in parts for r in part]
        order = {c: k for k, c in enumerate(coalitions)}
        rows.sort(key=lambda r: order[r.members])
    else:
        rows = _solve_chunk(data, coalitions, time_limit, mip_gap)
    return pd.DataFrame({
        "coalition": [r.members for r in rows],
        "size": [len(r.members) for r in rows],
        "status": [r.status.value for r in rows],
        "cost": [r.cost for r in rows],
        "seconds": [r.seconds for r in rows],
    })


class CoalitionEngine:
    """Solves coalitions one after another on one model: bounds change, the model does not.

    Each coalition is first solved by the LP branch and bound of :mod:`procure.branch`
    (a warm-started LP per node); one that needs more nodes than it allows goes to
    HiGHS's MIP solver on the same bounds. Build one per process and reuse it: building
    is the only part that grows with the model rather than with the coalition.
    """

    def __init__(self, data: ProcureData, *, mip_gap: float | None = None,
                 time_limit: float | None = None, threads: int | None = None):
        self.data = data
        self.plan = plan_coalitions(data)
        model = self.plan.model
        self.mip_gap = mip_gap
        self.gap = DEFAULT_MIP_GAP if mip_gap is None else float(mip_gap)
        self.time_limit = time_limit
        self.threads = threads
        tiers = model.variables["tier_chosen"]
        priority = np.zeros(model.num_cols)
        priority[tiers.start:tiers.stop] = 1.0
        self.search = LpBranchAndBound(model, priority=priority, threads=threads)
        self._fallback = None

    def solve(self, members: Coalition) -> CoalitionCost:
        data, plan = self.data, self.plan
        start = time.perf_counter()
        if not members:
            return CoalitionCost(members, Status.OPTIMAL, 0.0, 0.0)
        if needs_literal_model(plan, members):
            from procure.engine.solve import solve

            res = solve(coalition_data(data, members), time_limit=self.time_limit,
                        mip_gap=self.mip_gap, threads=self.threads, diagnose=False)
            cost = res.total_cost if res.has_plan else float("nan")
            return CoalitionCost(members, res.status, cost, time.perf_counter() - start)
        reach = offer_reach(plan, np.isin(plan.partners, list(members)))
        col_upper, row_lower, row_upper = coalition_bounds(plan, data, members, reach)
        big_m = coalition_big_m(plan, reach)
        coefficients = list(zip(plan.bigm_row, plan.bigm_col, big_m, strict=True))
        self.search.set_bounds(col_upper, row_lower, row_upper, coefficients)
        found = self.search.solve(mip_gap=self.gap, time_limit=self.time_limit)
        if found.gave_up and found.status != Status.FEASIBLE:
            if self._fallback is None:
                self._fallback = _mip_solver(plan.model, self.threads, self.mip_gap)
            change_bounds(self._fallback, plan.model, col_upper, row_lower, row_upper, coefficients)
            status, cost = _solve_mip(self._fallback, plan.model, self.time_limit)
        else:
            status, cost = found.status, found.objective
        return CoalitionCost(members, status, cost, time.perf_counter() - start)


def _solve_chunk(data: ProcureData, coalitions: Sequence[Coalition], time_limit, mip_gap,
                 threads: int | None = None) -> list[CoalitionCost]:
    engine = CoalitionEngine(data, mip_gap=mip_gap, time_limit=time_limit, threads=threads)
    return [engine.solve(members) for members in coalitions]


def _mip_solver(model: Model, threads: int | None, mip_gap: float | None):
    h = new_highs()
    # many small MIPs: HiGHS's sub-MIP heuristics (RINS, RENS, root reduced cost) cost more than
    # they save here (demo coalitions: 3.7 s -> 0.8 s for six solves, same optima)
    for option in ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
                   "mip_heuristic_run_root_reduced_cost"):
        h.setOptionValue(option, False)
    set_threads(h, threads)
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    pass_model(h, model)
    return h


def _solve_mip(h, model: Model, time_limit):
    # HiGHS's time limit counts the instance's whole run time, earlier coalitions included
    h.setOptionValue("time_limit", np.inf if time_limit is None else h.getRunTime() + float(time_limit))
    start = time.perf_counter()
    h.run()
    result = read_highs(h, model, time.perf_counter() - start)
    return result.status, (result.objective if result.status.has_plan else float("nan"))


def all_coalitions(partners: Sequence[str]) -> list[Coalition]:
    """Every subset of ``partners`` (2^n of them, the empty one first)."""
    n = len(partners)
    return [frozenset(p for k, p in enumerate(partners) if mask >> k & 1) for mask in range(1 << n)]


# -- fair sharing -----------------------------------------------------------------------------

def standalone_costs(data: ProcureData, **options) -> pd.DataFrame:
    """``c({p})`` for every partner: what each would pay alone (partner, standalone_cost, status)."""
    partners = list(data.partners["partner"])
    table = coalition_costs(data, [[p] for p in partners], **options)
    return pd.DataFrame({"partner": partners, "standalone_cost": table["cost"].to_numpy(),
                         "status": table["status"].to_numpy()})


def savings(data: ProcureData, result, **options) -> pd.DataFrame:
    """What pooling saves each partner under proportional sharing:
    partner, standalone_cost, pooled_cost (its proportional share), saving, saving_pct.
    The total saving ``sum_p c({p}) - c(P)`` can be negative; it is reported, not hidden."""
    alone = standalone_costs(data, **options)
    pooled = result.partner_costs.set_index("partner")["total"]
    table = alone.assign(pooled_cost=alone["partner"].map(pooled).to_numpy(dtype=float))
    table["saving"] = table["standalone_cost"] - table["pooled_cost"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["saving_pct"] = table["saving"] / table["standalone_cost"]
    return table[["partner", "standalone_cost", "pooled_cost", "saving", "saving_pct", "status"]]


def shapley(data: ProcureData, *, exact_limit: int = 12, samples: int = 200, seed: int = 0,
            workers: int = 1, **options) -> pd.DataFrame:
    """Shapley cost shares of every partner.

    Exact over all 2^n coalitions up to ``exact_limit`` partners; above it, the unbiased
    permutation-sampling estimate over ``samples`` random orders with its standard error
    (coalitions met along the orders are solved once each).
    """
    partners = list(data.partners["partner"])
    n = len(partners)
    if n <= exact_limit:
        table = coalition_costs(data, all_coalitions(partners), workers=workers, **options)
        return shapley_from_costs(partners, dict(zip(table["coalition"], table["cost"], strict=True)))
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(n) for _ in range(samples)]
    needed = {frozenset()}
    for order in orders:
        for k in range(1, n + 1):
            needed.add(frozenset(partners[j] for j in order[:k]))
    table = coalition_costs(data, sorted(needed, key=len), workers=workers, **options)
    cost = dict(zip(table["coalition"], table["cost"], strict=True))
    bad = [c for c, v in cost.items() if not np.isfinite(v)]
    if bad:
        raise GameInfeasible(sorted(bad, key=len))
    marginal = np.zeros((samples, n))
    for r, order in enumerate(orders):
        before = frozenset()
        for j in order:
            after = before | {partners[j]}
            marginal[r, j] = cost[after] - cost[before]
            before = after
    return pd.DataFrame({
        "partner": partners,
        "shapley": marginal.mean(axis=0),
        "std_error": marginal.std(axis=0, ddof=1) / np.sqrt(samples),
        "method": f"sampled ({samples} orders)",
    })
