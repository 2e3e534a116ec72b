"""Sovereignty and security-of-supply rules (docs/model.md, section 3).

``ban`` rules never reach the model: they remove deliveries from the index
(:func:`procure.engine.model.index.delivery_index`).  Every other rule becomes rows
here.  A rule's *scope* is its partner (blank: the pool) and its items (an id,
a category, or blank for all); its *group* selects suppliers.

Each row also records, for reporting, a numerator and (for shares) a
denominator over the same deliveries, so results can say what share or
quantity a rule achieved without re-deriving the scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from procure.data.schema import COUNT_RULES, QUANTITY_RULES, SHARE_RULES
from procure.engine.model.core import ModelBuilder
from procure.engine.model.index import BuildContext, blank_to_none, item_mask


@dataclass
class _RuleRows:
    """Rows of one rule family, gathered rule by rule, added to the builder at once."""

    meta: list[dict] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    num: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    den: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add(self, meta: dict, cols, coefs, *, lower=-np.inf, upper=np.inf,
            num=None, den=None) -> None:
        r = len(self.meta)
        self.meta.append(meta)
        cols = np.asarray(cols, dtype=np.int64)
        self.rows.append(np.full(len(cols), r, dtype=np.int64))
        self.cols.append(cols)
        self.vals.append(np.asarray(coefs, dtype=float))
        self.lower.append(lower)
        self.upper.append(upper)
        for store, terms in ((self.num, num), (self.den, den)):
            if terms is not None:
                c, v = np.asarray(terms[0], dtype=np.int64), np.asarray(terms[1], dtype=float)
                store.append((np.full(len(c), r, dtype=np.int64), c, v))

    def commit(self, b: ModelBuilder, name: str) -> None:
        _add_rule_block(
            b, name, pd.DataFrame(self.meta, columns=list(_META_COLUMNS)),
            _concat(self.rows, np.int64), _concat(self.cols, np.int64), _concat(self.vals, float),
            np.array(self.lower, dtype=float), np.array(self.upper, dtype=float),
            num=_triplets(self.num), den=_triplets(self.den),
        )


_META_COLUMNS = ("rule_pos", "subject", "sense", "target", "measure")


def _triplets(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple:
    """(row, column, coefficient) arrays of report terms."""
    return tuple(_concat([t[k] for t in parts], dt) for k, dt in enumerate((np.int64, np.int64, float)))


def _add_rule_block(b: ModelBuilder, name: str, meta: pd.DataFrame, rows, cols, vals, lower, upper,
                    *, num: tuple | None = None, den: tuple | None = None) -> None:
    """Add one family's rule rows and what results need to report them (achieved numerator
    and denominator terms; none for families reported otherwise)."""
    b.add_constraints(name, meta[list(_META_COLUMNS)], rows, cols, vals, lower=lower, upper=upper)
    b.extras.setdefault("rule_reports", {})[name] = {
        "num": num if num is not None else _triplets([]),
        "den": den if den is not None else _triplets([]),
    }


def _concat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _rules_of(ctx: BuildContext, kinds: tuple[str, ...]) -> pd.DataFrame:
    rules = ctx.data.rules.reset_index(drop=True)
    rules = rules.assign(rule_pos=np.arange(len(rules)))
    return rules[rules["rule"].isin(kinds)]


def _scope(ctx: BuildContext, rule) -> np.ndarray:
    return ctx.partner_mask(blank_to_none(rule.partner)) & ctx.item_mask(blank_to_none(rule.item))


def add_share_rules(b: ModelBuilder, ctx: BuildContext) -> None:
    """min/max_share and min/max_value_share over the rule's scope (all periods).

    With ``w`` = 1 (quantity) or the base unit price (value), scope ``K`` and group ``G``:

    * ``min_*``: ``sum_{K} (1[s in G] - share) * w * x >= 0``
    * ``max_*``: ``sum_{K} (1[s in G] - share) * w * x <= 0``
    * ``group = each_supplier | each_country``: an auxiliary ``T_r = sum_K w x``
      (row ``share_total``) and per supplier / country ``g``:
      ``sum_{K, s in g} w x - share * T_r <= 0``.

    Dual: the change in total cost per unit the row is relaxed (in units of
    ``w``), i.e. what the rule costs at the margin.
    """
    rules = _rules_of(ctx, SHARE_RULES)
    x = ctx.x
    each = rules[rules["group"].isin(["each_supplier", "each_country"])]
    totals = b.add_variables("share_total", each[["rule_pos"]].reset_index(drop=True))
    total_col = dict(zip(each["rule_pos"], totals, strict=True))
    out = _RuleRows()
    total_rows = _RuleRows()
    for rule in rules.itertuples(index=False):
        scope = _scope(ctx, rule)
        cols = ctx.x_cols[scope]
        by_value = "value" in rule.rule
        weight = x["base_price"].to_numpy()[scope] if by_value else np.ones(int(scope.sum()))
        measure = "value" if by_value else "quantity"
        sense = ">=" if rule.rule.startswith("min") else "<="
        bound = {"lower": 0.0} if sense == ">=" else {"upper": 0.0}
        if rule.group in ("each_supplier", "each_country"):
            t = total_col[rule.rule_pos]
            total_rows.add(dict(rule_pos=rule.rule_pos, subject=None, sense="=", target=np.nan,
                                measure=measure),
                           np.append(cols, t), np.append(weight, -1.0), lower=0.0, upper=0.0)
            key = "supplier" if rule.group == "each_supplier" else "supplier_country"
            subjects = x.loc[scope, key].to_numpy()
            for subject in pd.unique(subjects):
                mine = subjects == subject
                out.add(dict(rule_pos=rule.rule_pos, subject=subject, sense="<=", target=rule.share,
                             measure=measure),
                        np.append(cols[mine], t), np.append(weight[mine], -rule.share), upper=0.0,
                        num=(cols[mine], weight[mine]), den=(cols, weight))
            continue
        in_group = ctx.group_mask(blank_to_none(rule.group), blank_to_none(rule.partner))[scope]
        out.add(dict(rule_pos=rule.rule_pos, subject=None, sense=sense, target=rule.share,
                     measure=measure),
                cols, (in_group - rule.share) * weight, **bound,
                num=(cols[in_group], weight[in_group]), den=(cols, weight))
    total_rows.commit(b, "share_total")
    out.commit(b, "share")


def add_workshare_rules(b: ModelBuilder, ctx: BuildContext) -> None:
    """Juste retour: for each partner p in scope (blank: every partner ordering the items),

    ``sum_{q, i in I, s: country(s) = country(p)} price * x[q,i,s,t]
      - share * sum_{i in I, s} price * x[p,i,s,t] >= 0``

    i.e. the value awarded to p's industry over all partners' orders is at
    least ``share`` times the value of p's own orders of those items.
    """
    rules = _rules_of(ctx, ("workshare",))
    x = ctx.x
    price = x["base_price"].to_numpy()
    out = _RuleRows()
    for rule in rules.itertuples(index=False):
        items = ctx.item_mask(blank_to_none(rule.item))
        partner = blank_to_none(rule.partner)
        partners = [partner] if partner is not None else pd.unique(x.loc[items, "partner"])
        for p in partners:
            home = ctx.data.partners.loc[ctx.data.partners["partner"] == p, "country"].iloc[0]
            awarded = items & (x["supplier_country"] == home).to_numpy()
            own = items & (x["partner"] == p).to_numpy()
            if not own.any():
                continue  # no orders of these items: 0 >= 0
            cols = np.concatenate([ctx.x_cols[awarded], ctx.x_cols[own]])
            coefs = np.concatenate([price[awarded], -rule.share * price[own]])
            out.add(dict(rule_pos=rule.rule_pos, subject=p, sense=">=", target=rule.share,
                         measure="value"),
                    cols, coefs, lower=0.0,
                    num=(ctx.x_cols[awarded], price[awarded]), den=(ctx.x_cols[own], price[own]))
    out.commit(b, "workshare")


def add_quantity_rules(b: ModelBuilder, ctx: BuildContext) -> None:
    """min/max_quantity: ``sum_{K, s in G} x >= quantity`` / ``<= quantity``;
    with ``each_supplier`` / ``each_country`` one ``<=`` row per supplier / country."""
    rules = _rules_of(ctx, QUANTITY_RULES)
    x = ctx.x
    out = _RuleRows()
    for rule in rules.itertuples(index=False):
        scope = _scope(ctx, rule)
        sense = ">=" if rule.rule == "min_quantity" else "<="
        bound = {"lower": rule.quantity} if sense == ">=" else {"upper": rule.quantity}
        if rule.group in ("each_supplier", "each_country"):
            key = "supplier" if rule.group == "each_supplier" else "supplier_country"
            subjects = x.loc[scope, key].to_numpy()
            cols = ctx.x_cols[scope]
            for subject in pd.unique(subjects):
                mine = cols[subjects == subject]
                out.add(dict(rule_pos=rule.rule_pos, subject=subject, sense=sense,
                             target=rule.quantity, measure="quantity"),
                        mine, np.ones(len(mine)), **bound, num=(mine, np.ones(len(mine))))
            continue
        chosen = ctx.x_cols[scope & ctx.group_mask(blank_to_none(rule.group), blank_to_none(rule.partner))]
        out.add(dict(rule_pos=rule.rule_pos, subject=None, sense=sense, target=rule.quantity,
                     measure="quantity"),
                chosen, np.ones(len(chosen)), **bound, num=(chosen, np.ones(len(chosen))))
    out.commit(b, "quantity")


def add_supplier_count_rules(b: ModelBuilder, ctx: BuildContext) -> None:
    """min/max_suppliers, per item in scope that the partner (or the pool) demands.

    A binary ``v[r,i,s]`` per rule, item and eligible supplier in group says
    whether s counts as delivering i. With ``X = sum_{K,t} x[.,i,s,t]`` and
    ``M`` the most s can deliver of i to the scope:

    * ``max_suppliers``: ``X - M v <= 0`` (any delivery counts) and ``sum_s v <= n``
    * ``min_suppliers``: ``X - min(1, M) v >= 0`` (at least one unit, or all it can)
      and ``sum_s v >= n``
    """
    rules = _rules_of(ctx, COUNT_RULES)
    x = ctx.x
    total_bound = ctx.offers["total_bound"].to_numpy()
    x_offer = x["offer"].to_numpy()
    x_upper = x["upper"].to_numpy()
    per_rule = []
    for rule in rules.itertuples(index=False):
        partner = blank_to_none(rule.partner)
        scope = _scope(ctx, rule) & ctx.group_mask(blank_to_none(rule.group), partner)
        rows = np.flatnonzero(scope)
        # an offer is one (supplier, item) pair: what it can reach within the scope
        reach = np.minimum(np.bincount(x_offer[rows], weights=x_upper[rows], minlength=len(total_bound)),
                           total_bound)
        demanded = ctx.demand if partner is None else ctx.demand[ctx.demand["partner"] == partner]
        items = np.sort(pd.unique(demanded.loc[item_mask(ctx.data, demanded, blank_to_none(rule.item)), "item"]))
        # suppliers count per item the scope demands; an item it only receives as a
        # substitute has no count row
        offers = np.flatnonzero((reach > 0) & np.isin(ctx.offers["item"].to_numpy(), items))
        per_rule.append((rule, rows, offers, reach[offers], items))

    pair_frames = [
        pd.DataFrame({"rule_pos": rule.rule_pos, "item": ctx.offers["item"].to_numpy()[offers],
                      "supplier": ctx.offers["supplier"].to_numpy()[offers]})
        for rule, _, offers, _, _ in per_rule
    ]
    pairs = (pd.concat(pair_frames, ignore_index=True) if pair_frames
             else pd.DataFrame(columns=["rule_pos", "item", "supplier"]))
    v = b.add_variables("supplier_counted", pairs, binary=True)

    link_parts, count_parts, report = [], [], []
    n_link = n_count = n_pair = 0
    for rule, rows, offers, reach, items in per_rule:
        is_min = rule.rule == "min_suppliers"
        sense = ">=" if is_min else "<="
        k = len(offers)
        v_cols = v[n_pair:n_pair + k]
        m = np.minimum(1.0, reach) if is_min else reach
        pair_of_offer = np.full(len(total_bound), -1, dtype=np.int64)
        pair_of_offer[offers] = np.arange(k)
        x_pair = pair_of_offer[x_offer[rows]]
        keep = x_pair >= 0
        offer_items = ctx.offers["item"].to_numpy()[offers]
        # link rows: X[i,s] - m v[i,s] (>= 0 for min, <= 0 for max)
        link_parts.append(dict(
            rows=np.concatenate([x_pair[keep], np.arange(k)]) + n_link,
            cols=np.concatenate([ctx.x_cols[rows[keep]], v_cols]),
            vals=np.concatenate([np.ones(int(keep.sum())), -m]),
            meta=pd.DataFrame({"rule_pos": rule.rule_pos,
                               "subject": [f"{i}/{s}" for i, s in zip(
                                   offer_items, ctx.offers["supplier"].to_numpy()[offers], strict=True)],
                               "sense": sense, "target": m, "measure": "quantity"}),
            lower=np.zeros(k) if is_min else np.full(k, -np.inf),
            upper=np.full(k, np.inf) if is_min else np.zeros(k),
        ))
        # count rows: sum_s v[i,s] >= / <= n, one per item the scope demands
        item_row = pd.Series(np.arange(len(items)), index=items)
        pair_row = item_row.reindex(offer_items).to_numpy()
        bound = np.full(len(items), float(rule.quantity))
        count_parts.append(dict(
            rows=pair_row.astype(np.int64) + n_count, cols=v_cols, vals=np.ones(k),
            meta=pd.DataFrame({"rule_pos": rule.rule_pos, "subject": items, "sense": sense,
                               "target": float(rule.quantity), "measure": "count"}),
            lower=bound if is_min else np.full(len(items), -np.inf),
            upper=np.full(len(items), np.inf) if is_min else bound,
        ))
        report.append((pair_row.astype(np.int64) + n_count, np.where(is_min, m, 0.0),
                       x_pair[keep] + n_pair, ctx.x_cols[rows[keep]]))
        n_link += k
        n_count += len(items)
        n_pair += k
    _commit_parts(b, "supplier_count_link", link_parts)
    _commit_parts(b, "supplier_count", count_parts)
    b.extras["count_pairs"] = {
        "row": _concat([r[0] for r in report], np.int64),
        "threshold": _concat([r[1] for r in report], float),
        "terms": (_concat([r[2] for r in report], np.int64), _concat([r[3] for r in report], np.int64),
                  np.ones(sum(len(r[3]) for r in report))),
    }


def _commit_parts(b: ModelBuilder, name: str, parts: list[dict]) -> None:
    meta = (pd.concat([p["meta"] for p in parts], ignore_index=True) if parts
            else pd.DataFrame(columns=list(_META_COLUMNS)))
    _add_rule_block(
        b, name, meta,
        _concat([p["rows"] for p in parts], np.int64), _concat([p["cols"] for p in parts], np.int64),
        _concat([p["vals"] for p in parts], float),
        _concat([p["lower"] for p in parts], float), _concat([p["upper"] for p in parts], float),
    )
