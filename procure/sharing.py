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
instance.  Tests assert both paths give the same costs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .backends import new_highs, pass_model, read_highs
from .data import ProcureData
from .model import Model, build_model
from .model.index import item_mask
from .status import Status

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
    }


def needs_literal_model(plan: CoalitionPlan, members: Coalition) -> bool:
    """True when a min_suppliers threshold min(1, reach) is lower for this coalition than for
    the pool (a supplier that can deliver under one unit to it): bounds alone cannot say that."""
    if not len(plan.link_rows):
        return False
    inside = np.zeros(len(plan.partners), dtype=bool)
    inside[[plan.partners.index(p) for p in members]] = True
    reach = plan.link_deliveries @ (plan.x_upper * inside[plan.x_partner])
    return bool((np.minimum(1.0, reach) < plan.link_threshold - 1e-12).any())


def coalition_bounds(plan: CoalitionPlan, data: ProcureData, members: Coalition):
    """Column and row bounds of coalition ``members``' model (arrays over the whole model)."""
    m = plan.model
    inside = np.zeros(len(plan.partners), dtype=bool)
    inside[[plan.partners.index(p) for p in members]] = True
    col_upper = m.col_upper.copy()
    xb = m.variables["x"]
    col_upper[xb.start:xb.stop][~inside[plan.x_partner]] = 0.0
    ub = m.variables["shortfall"]
    col_upper[ub.start:ub.stop][~inside[plan.u_partner]] = 0.0
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
            row_lower[row] = plan.scaled_lower[k] * factor
            row_upper[row] = plan.scaled_upper[k] * factor
    for row, demanders in zip(plan.count_rows, plan.count_demanders, strict=True):
        if not inside[demanders].any():
            row_lower[row] = -np.inf
            row_upper[row] = np.inf
    return col_upper, row_lower, row_upper


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
    >>> from procure.sharing import coalition_costs
    >>> data = procure.datasets.load_demo()
    >>> table = coalition_costs(data, [["DE"], ["FR"], ["DE", "FR"]])
    >>> list(table["size"])
    [1, 1, 2]
    """
    coalitions = [frozenset(c) for c in coalitions]
    for c in coalitions:
        _check_members(data, c)
    time_limit = time_limit if time_limit is not None else data.settings.get("time_limit")
    mip_gap = mip_gap if mip_gap is not None else data.settings.get("mip_gap")
    if workers > 1 and len(coalitions) > 1:
        chunks = [coalitions[k::workers] for k in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_solve_chunk, [data] * workers, chunks,
                                  [time_limit] * workers, [mip_gap] * workers))
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


def _solve_chunk(data: ProcureData, coalitions: Sequence[Coalition], time_limit, mip_gap) -> list[CoalitionCost]:
    plan = plan_coalitions(data)
    model = plan.model
    h = new_highs()
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    pass_model(h, model)
    all_cols = np.arange(model.num_cols, dtype=np.int32)
    all_rows = np.arange(model.num_rows, dtype=np.int32)
    out = []
    for members in coalitions:
        start = time.perf_counter()
        if not members:
            out.append(CoalitionCost(members, Status.OPTIMAL, 0.0, 0.0))
            continue
        if needs_literal_model(plan, members):
            from .solve import solve

            res = solve(coalition_data(data, members), time_limit=time_limit, mip_gap=mip_gap,
                        diagnose=False)
            cost = res.total_cost if res.has_plan else float("nan")
            out.append(CoalitionCost(members, res.status, cost, time.perf_counter() - start))
            continue
        col_upper, row_lower, row_upper = coalition_bounds(plan, data, members)
        h.changeColsBounds(model.num_cols, all_cols, model.col_lower, col_upper)
        h.changeRowsBounds(model.num_rows, all_rows, row_lower, row_upper)
        h.run()
        result = read_highs(h, model, time.perf_counter() - start)
        cost = result.objective if result.status.has_plan else float("nan")
        out.append(CoalitionCost(members, result.status, cost, time.perf_counter() - start))
    return out


def all_coalitions(partners: Sequence[str]) -> list[Coalition]:
    """Every subset of ``partners`` (2^n of them, the empty one first)."""
    n = len(partners)
    return [frozenset(p for k, p in enumerate(partners) if mask >> k & 1) for mask in range(1 << n)]
