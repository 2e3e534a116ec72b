"""Every variant as bounds (and a few coefficients) on the grand coalition's model.

The grand model is built once. A :class:`~.variants.Variant`'s own model differs from it only
in what :func:`variant_bounds` changes, exactly (tests compare with the literal models of
:meth:`Variant.apply <.variants.Variant.apply>` on random instances):

* a coalition: outsiders' deliveries and shortfalls fixed at 0, their demand rows at 0, their
  own rule rows freed, pool min/max_quantity rows rescaled by the coalition's share of the
  pool's demand, supplier-count rows of items no member demands freed;
* a rule removed: all its rows freed and its auxiliary columns fixed at 0 (a ``ban`` removes
  variables instead: it needs the literal model);
* N-1 re-coveries (``n_minus_1``): a coalition's outsiders' re-coveries fixed at 0 and cover
  rows scaled to its demand (:func:`procure.engine.model.resilience.coalition_cover_bounds`);
* a rule's quantity: its rows' right-hand sides; a rule's share: its rows' coefficients
  ``a + b x share``, read off two models built at other shares (family-agnostic);
* a supplier's capacity scaled by ``f <= 1``: its capacity rows' right-hand sides, and what
  each offer can reach; a supplier removed is the factor 0 (its deliveries fixed at 0);
* whatever the variant's offers can reach (capacity and demand, and the caps that
  ``max_share``, ``min_share`` and ``max_quantity`` rules put on an offer's pooled quantity or
  on its deliveries to one partner): price tiers above it and offers it cannot use get
  their binaries fixed at 0, and big-M coefficients become the variant's own (valid for every
  plan of the variant, so the optimum is the literal model's).

:func:`variant_bounds` returns None when bounds cannot say it (a ban removed, a capacity
factor above 1, a min_suppliers threshold below the pool's, an N-1 rule's share, or capacity
and offers changed under an N-1 rule, whose contingencies are read off the offers): the engine
then solves the literal model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from procure.analysis.many.variants import Variant
from procure.data.tables import ProcureData
from procure.engine.model import Model, build_model, resilience
from procure.engine.model.index import group_mask, item_mask

#: constraint blocks whose rows belong to one Rules row (``index["rule_pos"]``)
RULE_BLOCKS = ("share", "share_total", "workshare", "quantity", "supplier_count", "supplier_count_link",
               *resilience.ROW_BLOCKS)
#: variable blocks that exist for one Rules row (fixed at 0 when the rule is removed)
RULE_VARIABLES = ("share_total", "supplier_counted", "n1_recourse")


@dataclass
class Bounds:
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    #: (row, col, value) coefficients to set
    coefficients: list[tuple[int, int, float]]


class VariantPlan:
    """What :func:`variant_bounds` needs to know about the grand model, computed once."""

    def __init__(self, data: ProcureData, model: Model | None = None):
        self.data = data
        self.model = model = model if model is not None else build_model(data)
        ctx = model.extras["context"]
        self.partners = list(data.partners["partner"])
        self.partner_pos = {p: k for k, p in enumerate(self.partners)}
        self.rules = data.rules.reset_index(drop=True)
        x = ctx.x
        self.x = model.variables["x"]
        self.x_partner = x["partner"].cat.codes.to_numpy().astype(np.int64)
        self.x_supplier = x["supplier"].cat.codes.to_numpy().astype(np.int64)
        self.suppliers = list(x["supplier"].cat.categories)
        self.supplier_pos = {s: k for k, s in enumerate(self.suppliers)}
        self.x_demand = x["demand"].to_numpy(dtype=float)
        self.x_period_cap = x["period_cap"].to_numpy(dtype=float)
        self.x_offer = x["offer"].to_numpy()
        u = model.variables["shortfall"]
        self.u = u
        self.u_partner = u.index["partner"].map(self.partner_pos).to_numpy(dtype=np.int64)
        dem = model.constraints["demand"]
        self.demand_rows = dem.positions
        self.demand_partner = dem.index["partner"].map(self.partner_pos).to_numpy(dtype=np.int64)
        self._cells(ctx)
        self._rule_rows(data, model)
        self._rule_caps(data, ctx)
        self._capacity_rows(model)
        self._links(model)
        self._big_m(model, ctx)
        self.x_upper = np.minimum(self.x_demand, self.x_period_cap)
        self._share_terms: dict[int, list[tuple[int, int, float, float]] | None] = {}

    # -- layout -------------------------------------------------------------------------------

    def _cells(self, ctx) -> None:
        """(offer, period) cells: each x column's cell, each cell's offer and capacity."""
        x = ctx.x
        cell = x.groupby(["offer", "period_pos"], sort=False).ngroup().to_numpy()
        first = np.unique(cell, return_index=True)[1]
        self.x_cell = cell
        self.cell_offer = x["offer"].to_numpy()[first]
        self.cell_capacity = x["period_cap"].to_numpy()[first]
        self.cell_supplier = x["supplier"].cat.codes.to_numpy()[first].astype(np.int64)
        self.n_offers = len(ctx.offers)
        self.offer_supplier = pd.Index(self.suppliers).get_indexer(ctx.offers["supplier"])

    def _rule_rows(self, data: ProcureData, model: Model) -> None:
        rules = self.rules
        rule_partner = rules["partner"].to_numpy(dtype=object)
        owned_rows, owned_partner = [], []
        bound_rows, bound_rule, bound_lower = [], [], []
        count_rows, count_demanders = [], []
        for name in RULE_BLOCKS:
            block = model.constraints.get(name)
            if block is None or block.size == 0:
                continue
            pos = block.index["rule_pos"].to_numpy(dtype=np.int64)
            owner = rule_partner[pos]
            if name == "workshare":  # one row per partner, pool rule or not
                owner = block.index["subject"].to_numpy(dtype=object)
            mine = np.array([isinstance(o, str) for o in owner], dtype=bool)
            owned_rows.append(block.positions[mine])
            owned_partner.append(np.array([self.partner_pos[o] for o in owner[mine]], dtype=np.int64))
            if name in ("quantity", "supplier_count"):
                # right-hand side = the rule's quantity (lower for >=, upper for <=)
                bound_rows.append(block.positions)
                bound_rule.append(pos)
                bound_lower.append((block.index["sense"] == ">=").to_numpy())
            if name == "supplier_count":
                for k in np.flatnonzero(~mine):
                    item = block.index["subject"].iat[k]
                    demanders = data.demand.loc[(data.demand["item"] == item) & (data.demand["quantity"] > 0),
                                                "partner"].map(self.partner_pos).unique()
                    count_rows.append(block.start + k)
                    count_demanders.append(np.asarray(demanders, dtype=np.int64))
        self.rule_rows = _by_rule(model.constraints, RULE_BLOCKS)
        self.rule_cols = _by_rule(model.variables, RULE_VARIABLES)
        self.owned_rows = _cat(owned_rows, np.int64)
        self.owned_partner = _cat(owned_partner, np.int64)
        self.bound_rows = _cat(bound_rows, np.int64)
        self.bound_rule = _cat(bound_rule, np.int64)
        self.bound_is_lower = _cat(bound_lower, bool)
        self.count_rows = np.asarray(count_rows, dtype=np.int64)
        self.count_demanders = count_demanders
        # pool min/max_quantity rules: the demand positions of each one's item scope
        quantity = rules["quantity"].to_numpy(dtype=float)
        self.rule_quantity = quantity
        is_pool_q = (rules["rule"].isin(["min_quantity", "max_quantity"]) & rules["partner"].isna()).to_numpy()
        self.scaled_scope = {
            int(p): np.flatnonzero(item_mask(data, data.demand, _blank(rules.at[p, "item"])))
            for p in np.flatnonzero(is_pool_q)
        }
        self.demand_qty = data.demand["quantity"].to_numpy(dtype=float)
        self.demand_partner_all = data.demand["partner"].map(self.partner_pos).to_numpy(dtype=np.int64)
        self.ban_rules = set(np.flatnonzero((rules["rule"] == "ban").to_numpy()).tolist())
        #: N-1 rules: a changed share needs the literal model; suppliers removed or scaled are
        #: bounds (procure.engine.model.resilience.supplier_recourse_bounds)
        self.n1_rules = set(np.flatnonzero((rules["rule"] == resilience.RULE).to_numpy()).tolist())

    def _rule_caps(self, data: ProcureData, ctx) -> None:
        """Rules that cap what an offer can sell (a tighter big-M, and tiers above the cap that
        can never be chosen), each as ``(position, rule, owner, offers, demand rows)``: on
        quantity, ``max_share`` caps the offers of suppliers in its group (each_supplier /
        each_country: every supplier) and item scope at share x the demand of its scope,
        ``min_share`` those of suppliers outside its group at (1 - share) x that demand,
        ``max_quantity`` those in its group at its quantity. A pool rule caps the offer's
        pooled quantity; a partner's (owner: its position) the offer's deliveries to it."""
        rules = self.rules
        offers = ctx.offers.assign(supplier_country=ctx.offers["supplier"].map(
            data.suppliers.set_index("supplier")["country"]))
        x = ctx.x
        x_partner = x["partner"].to_numpy(dtype=object)
        caps = []
        for pos in np.flatnonzero(rules["rule"].isin(["max_share", "min_share", "max_quantity"]).to_numpy()):
            rule = rules.iloc[pos]
            item, group, partner = _blank(rule["item"]), _blank(rule["group"]), _blank(rule["partner"])
            in_scope = np.asarray(item_mask(data, offers, item), dtype=bool)
            if group not in (None, "each_supplier", "each_country"):
                in_group = np.asarray(group_mask(data, offers, group, partner), dtype=bool)
                in_scope = in_scope & (~in_group if rule["rule"] == "min_share" else in_group)
            elif rule["rule"] == "min_share":
                continue  # every supplier in the group: nothing outside it to cap
            scope_rows = item_mask(data, x, item)
            if partner is not None:
                scope_rows = scope_rows & (x_partner == partner)
            rows = np.unique(x["demand_row"].to_numpy()[scope_rows])
            owner = -1 if partner is None else self.partner_pos[partner]
            caps.append((int(pos), rule["rule"], owner, in_scope, rows))
        self.rule_caps = caps

    def _capacity_rows(self, model: Model) -> None:
        rows, supplier = [], []
        for name in ("offer_capacity", "shared_capacity"):
            block = model.constraints.get(name)
            if block is None or block.size == 0:
                continue
            rows.append(block.positions)
            supplier.append(pd.Index(self.suppliers).get_indexer(block.index["supplier"]))
        self.capacity_rows = _cat(rows, np.int64)
        self.capacity_supplier = _cat(supplier, np.int64)

    def _links(self, model: Model) -> None:
        """min_suppliers link rows ``X - min(1, M) v >= 0``: their deliveries and the pool's
        threshold; a variant whose threshold is lower needs the literal model."""
        block = model.constraints.get("supplier_count_link")
        rows = np.zeros(0, dtype=np.int64)
        if block is not None and block.size:
            rows = block.positions[(block.index["sense"] == ">=").to_numpy()]
        csr = model.matrix.tocsr()[rows]
        deliveries = (csr[:, self.x.start:self.x.stop] != 0).astype(float).tocsr()
        self.link_rows = rows
        self.link_deliveries = deliveries
        self.link_threshold = -np.asarray(csr[:, self.x.stop:].sum(axis=1)).ravel()
        first = np.array([deliveries.indices[deliveries.indptr[k]] if deliveries.indptr[k + 1] > deliveries.indptr[k]
                          else -1 for k in range(len(rows))], dtype=np.int64)
        self.link_offer = np.where(first >= 0, self.x_offer[np.maximum(first, 0)], -1) if len(rows) else first

    def _big_m(self, model: Model, ctx) -> None:
        """Where the pool's big-M sits: ``Q - M y <= 0`` of untiered offers with y, and
        ``q_k - min(b_{k+1}, M) z_k <= 0`` of tier segments; the variant's own M replaces it."""
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
        self.bigm_row, self.bigm_col = _cat(rows, np.int64), _cat(cols, np.int64)
        self.bigm_offer = _cat(offers, np.int64)
        self.bigm_floor, self.bigm_cap = _cat(floors, float), _cat(caps, float)
        self.segments = seg
        self.offers_min_order = ctx.offers["min_order"].to_numpy(dtype=float)

    # -- shares: coefficients a + b x share -----------------------------------------------------

    def share_terms(self, pos: int) -> list[tuple[int, int, float, float]] | None:
        """``(row, col, a, b)`` with coefficient ``a + b x share`` for every entry of rule
        ``pos``'s rows, read off two models built at other shares; None if they differ from
        the grand model in shape (then the literal model is used)."""
        if pos not in self._share_terms:
            self._share_terms[pos] = self._read_share_terms(pos)
        return self._share_terms[pos]

    def _read_share_terms(self, pos: int):
        rows = self.rule_rows.get(pos, np.zeros(0, np.int64))
        s1, s2 = 0.318309886, 0.707106781  # generic: no coefficient a + b s vanishes at both
        mats = []
        for s in (s1, s2):
            rules = self.rules.copy()
            rules.loc[pos, "share"] = s
            m = build_model(self.data.replace(rules=rules))
            if m.num_rows != self.model.num_rows or m.num_cols != self.model.num_cols:
                return None
            mats.append(m.matrix.tocsr()[rows].tocoo())
        one, two = mats
        keys = {}
        for r, c, v in zip(one.row, one.col, one.data, strict=True):
            keys[(int(r), int(c))] = [float(v), 0.0]
        for r, c, v in zip(two.row, two.col, two.data, strict=True):
            keys.setdefault((int(r), int(c)), [0.0, 0.0])[1] = float(v)
        out = []
        for (r, c), (v1, v2) in keys.items():
            b = (v2 - v1) / (s2 - s1)
            out.append((int(rows[r]), c, v1 - b * s1, b))
        return out


def _by_rule(blocks: dict, names) -> dict[int, np.ndarray]:
    """Rule position -> every position (row or column) of the named blocks that belongs to it."""
    parts: dict[int, list[np.ndarray]] = {}
    for name in names:
        block = blocks.get(name)
        if block is None or block.size == 0:
            continue
        pos = block.index["rule_pos"].to_numpy(dtype=np.int64)
        for p in np.unique(pos):
            parts.setdefault(int(p), []).append(block.positions[pos == p])
    return {p: np.concatenate(found) for p, found in parts.items()}


def _cat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _blank(value):
    return value if isinstance(value, str) else None


# -- the variant's bounds -----------------------------------------------------------------------

def offer_reach(plan: VariantPlan, x_upper: np.ndarray, cell_capacity: np.ndarray) -> np.ndarray:
    """Largest pooled quantity each offer can reach (x_upper is 0 outside the variant)."""
    served = np.bincount(plan.x_cell, weights=x_upper, minlength=len(plan.cell_offer))
    made = np.minimum(served, cell_capacity)
    return np.bincount(plan.cell_offer, weights=made, minlength=plan.n_offers)


def _times(values: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """values x factor with inf x 0 = 0 (a capacity scaled to nothing)."""
    with np.errstate(invalid="ignore"):
        return np.where(factor == 0, 0.0, values * factor)


def variant_bounds(plan: VariantPlan, variant: Variant, *, rule_caps: bool = True) -> Bounds | None:
    """The bounds and coefficients of ``variant``'s model on the grand model, or None when it
    needs the literal model (see the module docstring). ``rule_caps=False`` leaves out the caps
    that pool rules put on offers (only to measure what they save)."""
    m = plan.model
    if variant.rules_off & plan.ban_rules:
        return None
    n1 = plan.n1_rules - variant.rules_off
    if n1 and {p for p, _ in variant.share} & n1:
        return None
    factor = np.ones(len(plan.suppliers))
    for supplier, f in variant.capacity:
        if f > 1.0:
            return None  # more capacity reaches tiers the grand model never built
        factor[plan.supplier_pos[supplier]] *= f
    for supplier in variant.suppliers_off:
        factor[plan.supplier_pos[supplier]] = 0.0

    inside = np.ones(len(plan.partners), dtype=bool)
    if variant.members is not None:
        inside[:] = False
        inside[[plan.partner_pos[p] for p in variant.members]] = True

    x_factor = factor[plan.x_supplier]
    x_in = inside[plan.x_partner]
    x_upper = np.where(x_in, np.minimum(plan.x_demand, _times(plan.x_period_cap, x_factor)), 0.0)
    reach = offer_reach(plan, x_upper, _times(plan.cell_capacity, factor[plan.cell_supplier]))
    if _threshold_below_pool(plan, x_upper, reach):
        return None

    col_upper = m.col_upper.copy()
    xs = col_upper[plan.x.start:plan.x.stop]
    xs[~x_in | (x_factor == 0)] = 0.0
    col_upper[plan.u.start:plan.u.stop][~inside[plan.u_partner]] = 0.0
    if rule_caps:
        reach = np.minimum(reach, _rule_caps(plan, variant, inside, x_upper))
    _fix_unreachable(plan, col_upper, reach)

    row_lower, row_upper = m.row_lower.copy(), m.row_upper.copy()
    if variant.members is not None:  # N-1 re-coveries: outsiders' fixed at 0, cover rows scaled
        resilience.coalition_cover_bounds(m, inside, col_upper, row_lower)
    if len(plan.capacity_rows):
        f = factor[plan.capacity_supplier]
        row_upper[plan.capacity_rows] = _times(m.row_upper[plan.capacity_rows], f)
    if n1 and (variant.capacity or variant.suppliers_off):  # N-1 re-coveries of the suppliers
        removed = np.isin(plan.suppliers, list(variant.suppliers_off))
        resilience.supplier_recourse_bounds(m, factor, removed, col_upper, row_lower, row_upper)
    out = ~inside[plan.demand_partner]
    row_lower[plan.demand_rows[out]] = 0.0
    row_upper[plan.demand_rows[out]] = 0.0
    _rule_right_hand_sides(plan, variant, inside, row_lower, row_upper)
    for row, demanders in zip(plan.count_rows, plan.count_demanders, strict=True):
        if not inside[demanders].any():
            row_lower[row], row_upper[row] = -np.inf, np.inf
    dropped = plan.owned_rows[~inside[plan.owned_partner]]
    row_lower[dropped], row_upper[dropped] = -np.inf, np.inf
    for pos in variant.rules_off:
        rows = plan.rule_rows.get(pos)
        if rows is not None:
            row_lower[rows], row_upper[rows] = -np.inf, np.inf
        cols = plan.rule_cols.get(pos)
        if cols is not None:
            col_upper[cols] = 0.0

    big_m = -np.maximum(plan.bigm_floor, np.minimum(plan.bigm_cap, reach[plan.bigm_offer]))
    coefficients = list(zip(plan.bigm_row.tolist(), plan.bigm_col.tolist(), big_m.tolist(), strict=True))
    for pos, share in variant.share:
        if pos in variant.rules_off:
            continue
        terms = plan.share_terms(pos)
        if terms is None:
            return None
        coefficients.extend((r, c, a + b * share) for r, c, a, b in terms)
    return Bounds(col_upper, row_lower, row_upper, coefficients)


def _rule_caps(plan: VariantPlan, variant: Variant, inside: np.ndarray, x_upper: np.ndarray) -> np.ndarray:
    """The most each offer can sell under the variant's rules (see
    :meth:`VariantPlan._rule_caps`): the pool's caps on its pooled quantity, and the sum over
    partners of what the offer may deliver to each (at most what it can serve them, and at most
    their own rules' caps); inf where nothing caps it."""
    cap = np.full(plan.n_offers, np.inf)
    if not plan.rule_caps:
        return cap
    n_p = len(plan.partners)
    partner_cap = np.full((n_p, plan.n_offers), np.inf)
    shares = dict(variant.share)
    quantities = _quantities(plan, variant, inside)
    member = inside[plan.demand_partner_all]
    for pos, kind, owner, offers, rows in plan.rule_caps:
        if pos in variant.rules_off or (owner >= 0 and not inside[owner]):
            continue
        if kind == "max_quantity":
            limit = float(quantities[pos])
        else:
            share = shares.get(pos, float(plan.rules.at[pos, "share"]))
            demand = float(plan.demand_qty[rows][member[rows]].sum())
            limit = (share if kind == "max_share" else 1.0 - share) * demand
        if owner < 0:
            cap[offers] = np.minimum(cap[offers], limit)
        else:
            partner_cap[owner, offers] = np.minimum(partner_cap[owner, offers], limit)
    served = np.bincount(plan.x_partner * plan.n_offers + plan.x_offer, weights=x_upper,
                         minlength=n_p * plan.n_offers).reshape(n_p, plan.n_offers)
    return np.minimum(cap, np.minimum(served, partner_cap).sum(axis=0))


def _quantities(plan: VariantPlan, variant: Variant, inside: np.ndarray) -> np.ndarray:
    """Every rule's quantity in the variant: changed ones, pool min/max_quantity scaled by the
    coalition's share of the pool's demand in the rule's scope."""
    quantity = plan.rule_quantity.copy()
    for pos, value in variant.quantity:
        quantity[pos] = value
    if variant.members is not None:
        member = inside[plan.demand_partner_all]
        for pos, scope in plan.scaled_scope.items():
            pool = plan.demand_qty[scope].sum()
            quantity[pos] *= plan.demand_qty[scope][member[scope]].sum() / pool if pool > 0 else 0.0
    return quantity


def _rule_right_hand_sides(plan: VariantPlan, variant: Variant, inside: np.ndarray,
                           row_lower: np.ndarray, row_upper: np.ndarray) -> None:
    """Quantity and supplier-count rows: the (changed) quantity, pool min/max_quantity scaled
    by the coalition's share of the pool's demand in the rule's scope."""
    if not len(plan.bound_rows):
        return
    q = _quantities(plan, variant, inside)[plan.bound_rule]
    lower = plan.bound_is_lower
    row_lower[plan.bound_rows[lower]] = q[lower]
    row_upper[plan.bound_rows[~lower]] = q[~lower]


def _threshold_below_pool(plan: VariantPlan, x_upper: np.ndarray, reach: np.ndarray) -> bool:
    """True when a min_suppliers threshold ``min(1, M)`` is lower for the variant than for the
    pool and above 0 (a supplier that can deliver under one unit to it): bounds cannot say
    that. At 0 the pool's row already forces the supplier not to count, as the literal model
    (which has no such supplier) does."""
    if not len(plan.link_rows):
        return False
    scope_reach = plan.link_deliveries @ x_upper
    offer_cap = np.where(plan.link_offer >= 0, reach[np.maximum(plan.link_offer, 0)], 0.0)
    threshold = np.minimum(1.0, np.minimum(scope_reach, offer_cap))
    return bool(((threshold < plan.link_threshold - 1e-12) & (threshold > 0)).any())


def _fix_unreachable(plan: VariantPlan, col_upper: np.ndarray, reach: np.ndarray) -> None:
    """Binaries the variant can never switch on, fixed at 0: price tiers above what it can buy,
    offers it cannot use at all or whose minimum order it cannot reach. Exact (the literal
    model would not even have these segments), and it makes small coalitions LPs."""
    m = plan.model
    seg = plan.segments
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
        dead = (reach[offer] <= 0) | (plan.offers_min_order[offer] > reach[offer])
        col_upper[y.start:y.stop][dead] = 0.0

