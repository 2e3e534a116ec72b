"""N-1 secure plans: the ``n_minus_1`` rule (supply-chain security).

A rule with scope K (its partner, blank: the pool; its items) and share sigma (the largest
unmet fraction tolerated) asks that the plan survive every *contingency* k: the loss of one
supplier of the rule's group (blank or ``each_supplier``: every supplier), or, with group
``each_country``, of every supplier of one country.  The demand in scope, ``D_K``, is the
Demand rows of the scope's partners whose item is in the rule's item scope (an N-1 rule is
about demand left unmet, so its items are the items demanded; a substitute may serve them).

One model holds the plan x and, per rule and contingency k, a re-covery without k:
deliveries ``r^k[p,d,i,s,t] >= 0`` on the plan's allowed delivery rows that serve D_K,
except those of the lost suppliers ``L_k`` (their offers are at 0: no column at all).

* ``n1_offer``, per surviving offer (s,i) and period t (the plan's deliveries to the scope
  plus the offer's surge):
  ``sum_{p,d in K} r^k[p,d,i,s,t] - sum_{p,d in K} x[p,d,i,s,t] <= surge[s,i]``
* ``n1_capacity``, per such cell with surge > 0 and a finite capacity (capacity respected):
  ``sum_{K} r^k[.,i,s,t] + sum_{not K} x[.,i,s,t] <= capacity[s,i,t]``
* ``n1_shared``, per surviving supplier with a shared capacity and period, where one of its
  offers in scope has surge > 0:
  ``sum_i capacity_use[s,i] (sum_{K} r^k[.,i,s,t] + sum_{not K} x[.,i,s,t]) <= capacity[s]``
  (without surge ``n1_offer`` already implies both: the re-covery takes no more from an
  offer than the plan does)
* ``n1_demand``, per demand row (p,d,t) of D_K: ``sum_{i,s} r^k[p,d,i,s,t] <= demand[p,d,t]``
* ``n1_cover``, the rule's own row, per contingency:
  ``sum_{K} r^k >= (1 - sigma) sum_{D_K} demand``, i.e. the demand left unmet without k
  is at most sigma of the demand in scope over the horizon.

Re-covery deliveries are continuous, also for whole-unit items (without shared-capacity
rows the re-covery is a flow problem with whole data, so the best re-covery is whole too),
and obey only physics (capacity, surge, first_period, bans): a crisis re-covery is not held
to shares, budgets or workshare.  The contingencies are read off the data (the group's
suppliers with an offer of an item in scope or of a substitute accepted for one), never off
the plan, so a coalition's model has the same ones.  The model grows by one re-covery block
per rule and contingency, each about the size of the plan's deliveries in scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.engine.model.core import ModelBuilder
from procure.engine.model.index import BuildContext, blank_to_none, group_mask, item_mask

RULE = "n_minus_1"
#: constraint blocks of the re-covery, in the order they are added
ROW_BLOCKS = ("n1_offer", "n1_capacity", "n1_shared", "n1_demand", "n1_cover")


@dataclass
class _Rows:
    """One constraint block gathered over rules: global term arrays and per-row bounds."""

    index: list[pd.DataFrame]
    rows: list[np.ndarray]
    cols: list[np.ndarray]
    vals: list[np.ndarray]
    lower: list[np.ndarray]
    upper: list[np.ndarray]
    n: int = 0

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [], [], [])

    def add(self, index: pd.DataFrame, rows, cols, vals, lower, upper) -> None:
        self.index.append(index)
        self.rows.append(np.asarray(rows, dtype=np.int64) + self.n)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (len(index),)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (len(index),)))
        self.n += len(index)

    def commit(self, b: ModelBuilder, name: str, columns: list[str]) -> np.ndarray:
        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

        index = (pd.concat(self.index, ignore_index=True) if self.index
                 else pd.DataFrame(columns=columns))
        return b.add_constraints(name, index, cat(self.rows, np.int64), cat(self.cols, np.int64),
                                 cat(self.vals, float), lower=cat(self.lower, float),
                                 upper=cat(self.upper, float))


def contingencies(ctx: BuildContext, rule) -> list[tuple[str, np.ndarray]]:
    """``(label, supplier codes lost together)`` for each contingency of an N-1 rule, read off
    the data: the group's suppliers (blank: all) with an offer of an item in the rule's scope
    or of a substitute a scope partner (or every partner) accepts for one."""
    data = ctx.data
    partner = blank_to_none(rule.partner)
    group = blank_to_none(rule.group)
    items = set(data.items.loc[item_mask(data, data.items, blank_to_none(rule.item)), "item"])
    subs = data.substitutes
    if subs is not None and len(subs):
        who = subs["partner"].isna().to_numpy() | (
            np.ones(len(subs), dtype=bool) if partner is None else (subs["partner"] == partner).to_numpy())
        items |= set(subs.loc[subs["item"].isin(items).to_numpy() & who, "substitute"])
    offering = set(data.offers.loc[data.offers["item"].isin(items), "supplier"])
    suppliers = pd.DataFrame({"supplier": data.suppliers["supplier"].to_numpy(),
                              "supplier_country": data.suppliers["country"].to_numpy()})
    chosen = suppliers["supplier"].isin(offering).to_numpy()
    if group not in (None, "each_supplier", "each_country"):
        chosen = chosen & group_mask(data, suppliers, group, partner)
    codes = np.flatnonzero(chosen)
    if group == "each_country":
        country = suppliers["supplier_country"].to_numpy()[codes]
        return [(str(c), codes[country == c]) for c in pd.unique(country)]
    return [(str(suppliers["supplier"].iat[k]), np.array([k])) for k in codes]


def add_n_minus_1(b: ModelBuilder, ctx: BuildContext) -> None:
    """Re-covery blocks of every ``n_minus_1`` rule (see the module docstring)."""
    rules = ctx.data.rules.reset_index(drop=True)
    rules = rules.assign(rule_pos=np.arange(len(rules)))
    rules = rules[rules["rule"] == RULE]
    x = ctx.x
    n_suppliers = len(ctx.data.suppliers)
    sup_code = x["supplier"].cat.codes.to_numpy()
    x_cols = ctx.x_cols
    demand_items = pd.DataFrame({"item": x["demand_item"].to_numpy()})
    surge = ctx.offers["surge"].to_numpy(dtype=float) if "surge" in ctx.offers else np.zeros(len(ctx.offers))
    shared = ctx.data.suppliers["capacity"].to_numpy(dtype=float)
    own_cap = None  # per x row: its offer's own capacity in that period, when a surge needs it

    layouts = []
    n_r = 0
    for rule in rules.itertuples(index=False):
        partner = blank_to_none(rule.partner)
        in_scope = item_mask(ctx.data, demand_items, blank_to_none(rule.item)).copy()
        if partner is not None:
            in_scope &= (x["partner"] == partner).to_numpy()
        dem = ctx.demand
        dem_scope = item_mask(ctx.data, dem, blank_to_none(rule.item)).copy()
        if partner is not None:
            dem_scope &= (dem["partner"] == partner).to_numpy()
        total = float(dem.loc[dem_scope, "quantity"].sum())
        if total <= 0:
            continue  # no demand in scope: nothing can go unmet
        lost_sets = contingencies(ctx, rule)
        if not lost_sets:
            continue
        lost = np.zeros((len(lost_sets), n_suppliers), dtype=bool)
        for k, (_, codes) in enumerate(lost_sets):
            lost[k, codes] = True
        rows = np.flatnonzero(in_scope)
        kk = np.repeat(np.arange(len(lost_sets)), len(rows))
        jj = np.tile(np.arange(len(rows)), len(lost_sets))
        keep = ~lost[kk, sup_code[rows[jj]]]
        kk, jj = kk[keep], jj[keep]
        layouts.append(dict(rule=rule, rows=rows, kk=kk, jj=jj, lost=lost, labels=lost_sets,
                            total=total, in_scope=in_scope, dem_scope=dem_scope, start=n_r))
        n_r += len(kk)

    # the re-covery deliveries of every rule and contingency, one variable block
    parts = []
    for lay in layouts:
        sub = x.iloc[lay["rows"][lay["jj"]]]
        parts.append(pd.DataFrame({
            "rule_pos": lay["rule"].rule_pos,
            "lost": np.asarray([lay["labels"][k][0] for k in range(len(lay["labels"]))],
                               dtype=object)[lay["kk"]],
            "partner": sub["partner"].to_numpy(), "item": sub["item"].to_numpy(),
            "supplier": sub["supplier"].to_numpy(), "period": sub["period"].to_numpy(),
            "demand_item": sub["demand_item"].to_numpy(),
            "x_row": lay["rows"][lay["jj"]],
        }))
    index = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["rule_pos", "lost", "partner", "item", "supplier", "period", "demand_item", "x_row"]))
    r_cols = b.add_variables("n1_recourse", index)

    blocks = {name: _Rows.empty() for name in ROW_BLOCKS}
    cover_meta = []
    for lay in layouts:
        rule, rows, kk, jj = lay["rule"], lay["rows"], lay["kk"], lay["jj"]
        r = r_cols[lay["start"]:lay["start"] + len(kk)]
        labels = np.asarray([label for label, _ in lay["labels"]], dtype=object)
        n_k = len(labels)
        sub = x.iloc[rows]
        offer, period = sub["offer"].to_numpy(), sub["period_pos"].to_numpy()

        # n1_offer: per (contingency, offer, period) that survives
        cell = pd.MultiIndex.from_arrays([offer, period])
        cell_id, cells = pd.factorize(cell)
        key = kk.astype(np.int64) * len(cells) + cell_id[jj]
        row_keys, row_of = np.unique(key, return_inverse=True)
        row_k, row_cell = np.divmod(row_keys, len(cells))
        cell_offer = cells.get_level_values(0).to_numpy()[row_cell]
        cell_period = cells.get_level_values(1).to_numpy()[row_cell]
        blocks["n1_offer"].add(
            _meta(rule.rule_pos, labels[row_k], ctx.offers["supplier"].to_numpy()[cell_offer],
                  ctx.offers["item"].to_numpy()[cell_offer], _periods(ctx, cell_period)),
            np.concatenate([row_of, row_of]), np.concatenate([r, x_cols[rows[jj]]]),
            np.concatenate([np.ones(len(r)), -np.ones(len(r))]), -np.inf, surge[cell_offer])

        # n1_capacity and n1_shared: only where a surge could take the re-covery beyond the plan
        outside = np.flatnonzero(~lay["in_scope"])
        surging = surge[offer[jj]] > 0
        if surging.any():
            if own_cap is None:
                own_cap = _own_capacity(ctx)
            _capacity_rows(blocks["n1_capacity"], ctx, rule.rule_pos, labels, r, rows, jj, kk,
                           surging, outside, own_cap, x_cols)
            _shared_rows(blocks["n1_shared"], ctx, rule.rule_pos, labels, r, rows, jj, kk,
                         surging, outside, shared, x_cols)

        # n1_demand: per (contingency, demand row in scope)
        d_row = x["demand_row"].to_numpy()[rows]
        d_id, d_rows = pd.factorize(d_row)
        key = kk.astype(np.int64) * len(d_rows) + d_id[jj]
        row_keys, row_of = np.unique(key, return_inverse=True)
        row_k, row_d = np.divmod(row_keys, len(d_rows))
        demand = ctx.data.demand.iloc[np.asarray(d_rows)[row_d]]
        blocks["n1_demand"].add(
            _meta(rule.rule_pos, labels[row_k], None, demand["item"].to_numpy(),
                  demand["period"].to_numpy(), partner=demand["partner"].to_numpy()),
            row_of, r, np.ones(len(r)), -np.inf, demand["quantity"].to_numpy(dtype=float))

        # n1_cover: the rule's row, one per contingency (a contingency without any re-covery
        # column still gets its row: 0 >= (1 - share) D is then the conflict to diagnose)
        need = (1.0 - float(rule.share)) * lay["total"]
        blocks["n1_cover"].add(
            pd.DataFrame({"rule_pos": rule.rule_pos, "subject": labels, "sense": "<=",
                          "target": float(rule.share), "measure": "quantity"}),
            kk, r, np.ones(len(r)), need, np.inf)
        dem = ctx.demand[lay["dem_scope"]]
        per_partner = dem.groupby("partner", observed=True)["quantity"].sum()
        cover_meta.append((rule, n_k, lay["total"], per_partner))

    for name in ROW_BLOCKS:
        columns = (["rule_pos", "subject", "sense", "target", "measure"] if name == "n1_cover"
                   else ["rule_pos", "lost", "supplier", "item", "period", "partner"])
        blocks[name].commit(b, name, columns)
    b.extras["n_minus_1"] = _cover_extras(ctx, cover_meta)
    b.extras["n_minus_1"]["cover_lost"] = _lost_matrix(layouts, n_suppliers)


def _meta(rule_pos, lost, supplier, item, period, partner=None) -> pd.DataFrame:
    n = len(lost)
    return pd.DataFrame({"rule_pos": np.full(n, rule_pos), "lost": lost,
                         "supplier": supplier if supplier is not None else np.full(n, None, dtype=object),
                         "item": item, "period": period,
                         "partner": partner if partner is not None else np.full(n, None, dtype=object)})


def _periods(ctx: BuildContext, pos: np.ndarray) -> np.ndarray:
    return np.asarray(ctx.data.periods, dtype=object)[pos]


def _own_capacity(ctx: BuildContext) -> np.ndarray:
    """Per delivery row: its offer's own capacity in that period (Capacity sheet, else
    Offers.capacity; inf when unlimited)."""
    from procure.engine.model.index import period_capacity

    x = ctx.x
    frame = pd.DataFrame({"supplier": x["supplier"].astype(object).to_numpy(),
                          "item": x["item"].astype(object).to_numpy(),
                          "period": x["period"].to_numpy(),
                          "capacity": ctx.offers["capacity"].to_numpy(dtype=float)[x["offer"].to_numpy()]})
    return period_capacity(ctx.data, frame)


def _join_outside(kk_rows: np.ndarray, cell_rows: np.ndarray, outside_cell: np.ndarray,
                  outside_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each (row, cell) of a block and each outside delivery in that cell: (row, delivery)."""
    left = pd.DataFrame({"row": kk_rows, "cell": cell_rows})
    right = pd.DataFrame({"cell": outside_cell, "pos": outside_pos})
    both = left.merge(right, on="cell")
    return both["row"].to_numpy(dtype=np.int64), both["pos"].to_numpy(dtype=np.int64)


def _capacity_rows(out: _Rows, ctx, rule_pos, labels, r, rows, jj, kk, surging, outside,
                   own_cap, x_cols) -> None:
    x = ctx.x
    offer, period = x["offer"].to_numpy(), x["period_pos"].to_numpy()
    limited = surging & np.isfinite(own_cap[rows[jj]])
    if not limited.any():
        return
    n_t = len(ctx.data.periods)
    cell = offer.astype(np.int64) * n_t + period
    sel_k, sel_j, sel_r = kk[limited], jj[limited], r[limited]
    key = sel_k.astype(np.int64) * (len(ctx.offers) * n_t) + cell[rows[sel_j]]
    row_keys, row_of = np.unique(key, return_inverse=True)
    row_k, row_cell = np.divmod(row_keys, len(ctx.offers) * n_t)
    o_row, o_pos = _join_outside(np.arange(len(row_keys)), row_cell, cell[outside], outside)
    first = rows[sel_j][np.unique(row_of, return_index=True)[1]]  # a delivery row of each cell
    out.add(
        _meta(rule_pos, labels[row_k], x["supplier"].to_numpy()[first], x["item"].to_numpy()[first],
              x["period"].to_numpy()[first]),
        np.concatenate([row_of, o_row]), np.concatenate([sel_r, x_cols[o_pos]]),
        np.ones(len(sel_r) + len(o_pos)), -np.inf, own_cap[first])


def _shared_rows(out: _Rows, ctx, rule_pos, labels, r, rows, jj, kk, surging, outside,
                 shared, x_cols) -> None:
    x = ctx.x
    sup = x["supplier"].cat.codes.to_numpy().astype(np.int64)
    period = x["period_pos"].to_numpy()
    n_t = len(ctx.data.periods)
    cell = sup * n_t + period
    use = x["capacity_use"].to_numpy(dtype=float)
    # suppliers with a shared capacity and a surging offer in scope, per contingency and period
    hot = surging & ~np.isnan(shared[sup[rows[jj]]])
    if not hot.any():
        return
    n_cells = len(ctx.data.suppliers) * n_t
    hot_keys = np.unique(kk[hot].astype(np.int64) * n_cells + cell[rows[jj[hot]]])
    key = kk.astype(np.int64) * n_cells + cell[rows[jj]]
    pos = np.searchsorted(hot_keys, key)
    member = (pos < len(hot_keys)) & (hot_keys[np.minimum(pos, len(hot_keys) - 1)] == key)
    row_of = pos[member]
    row_k, row_cell = np.divmod(hot_keys, n_cells)
    o_row, o_pos = _join_outside(np.arange(len(hot_keys)), row_cell, cell[outside], outside)
    sel_j = jj[member]
    s_code, t_pos = np.divmod(row_cell, n_t)
    out.add(
        _meta(rule_pos, labels[row_k], ctx.data.suppliers["supplier"].to_numpy()[s_code], None,
              _periods(ctx, t_pos)),
        np.concatenate([row_of, o_row]), np.concatenate([r[member], x_cols[o_pos]]),
        np.concatenate([use[rows[sel_j]], use[o_pos]]), -np.inf, shared[s_code])


def _lost_matrix(layouts, n_suppliers: int) -> np.ndarray:
    """Per cover row, the suppliers its contingency loses (bool, cover rows x suppliers)."""
    parts = [lay["lost"] for lay in layouts]
    return np.concatenate(parts) if parts else np.zeros((0, n_suppliers), dtype=bool)


def _cover_extras(ctx: BuildContext, cover_meta) -> dict:
    """What results and coalitions need of the cover rows: per row the demand in scope (total
    and per partner, for a coalition's share of it) and the tolerated share."""
    partners = list(ctx.data.partners["partner"])
    pos = {p: k for k, p in enumerate(partners)}
    n = sum(n_k for _, n_k, _, _ in cover_meta)
    demand = np.zeros((n, len(partners)))
    share = np.zeros(n)
    k0 = 0
    for rule, n_k, _total, per_partner in cover_meta:
        cols = [pos[p] for p in per_partner.index]
        demand[k0:k0 + n_k, cols] = per_partner.to_numpy(dtype=float)
        share[k0:k0 + n_k] = float(rule.share)
        k0 += n_k
    return {"cover_demand": demand, "cover_share": share}


def coalition_cover_bounds(model, inside: np.ndarray, col_upper: np.ndarray,
                           row_lower: np.ndarray) -> None:
    """Coalition ``inside`` (a bool per partner): outsiders' re-covery deliveries fixed at 0 and
    each cover row's demand restricted to the members (a pool rule applies to the coalition's
    pool; an outsider's own rule then asks for nothing). In place."""
    rb = model.variables.get("n1_recourse")
    cover = model.constraints.get("n1_cover")
    if rb is None or cover is None or cover.size == 0:
        return
    ctx = model.extras["context"]
    partner = ctx.x["partner"].cat.codes.to_numpy()[rb.index["x_row"].to_numpy(dtype=np.int64)]
    col_upper[rb.start:rb.stop][~inside[partner]] = 0.0
    extras = model.extras["n_minus_1"]
    demand = extras["cover_demand"] @ inside.astype(float)
    row_lower[cover.start:cover.stop] = (1.0 - extras["cover_share"]) * demand


def supplier_recourse_bounds(model, factor: np.ndarray, removed: np.ndarray,
                             col_upper: np.ndarray, row_lower: np.ndarray,
                             row_upper: np.ndarray) -> None:
    """Suppliers' capacities scaled by ``factor`` and suppliers ``removed`` (one value per
    supplier of ``data.suppliers``; a removed supplier has factor 0), in place, as the
    variant's own model would have them: the re-covery deliveries of a supplier at factor 0
    fixed at 0 (its surge goes with its capacity), the re-covery capacity rows
    (``n1_capacity``, ``n1_shared``) scaled, and the cover row of a contingency that loses
    only removed suppliers freed (with their offers gone they are no contingency of the
    variant's own model; a supplier at factor 0 keeps its offers, and so its contingency)."""
    rb = model.variables.get("n1_recourse")
    cover = model.constraints.get("n1_cover")
    if rb is None or cover is None or (rb.size == 0 and cover.size == 0):
        return
    factor = np.asarray(factor, dtype=float)
    removed = np.asarray(removed, dtype=bool)
    ctx = model.extras["context"]
    x_rows = rb.index["x_row"].to_numpy(dtype=np.int64)
    supplier = ctx.x["supplier"].cat.codes.to_numpy()[x_rows]
    col_upper[rb.start:rb.stop][factor[supplier] <= 0] = 0.0
    codes = {s: k for k, s in enumerate(ctx.data.suppliers["supplier"])}
    for name in ("n1_capacity", "n1_shared"):
        block = model.constraints[name]
        if block.size:
            f = factor[block.index["supplier"].map(codes).to_numpy(dtype=np.int64)]
            row_upper[block.start:block.stop] = np.where(
                f == 0, 0.0, model.row_upper[block.start:block.stop] * f)
    lost = model.extras["n_minus_1"]["cover_lost"]
    if cover.size and removed.any():
        gone = ~(lost & ~removed[None, :]).any(axis=1)
        row_lower[cover.start:cover.stop][gone] = -np.inf
