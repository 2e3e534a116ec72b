"""Sovereignty and security-of-supply rules (SPEC section 3).

``ban`` rules never reach the model: they remove deliveries from the index
(:func:`procure.model.index.delivery_index`).  Every other rule becomes rows
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

from ..schema import COUNT_RULES, QUANTITY_RULES, SHARE_RULES
from .core import ModelBuilder
from .index import BuildContext, _opt, item_mask


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
        index = pd.DataFrame(self.meta, columns=list(_META_COLUMNS))
        cat = _concat
        b.add_constraints(name, index, cat(self.rows, np.int64), cat(self.cols, np.int64),
                          cat(self.vals, float), lower=np.array(self.lower, dtype=float),
                          upper=np.array(self.upper, dtype=float))
        b.extras.setdefault("rule_reports", {})[name] = {
            "num": tuple(cat([t[k] for t in self.num], dt) for k, dt in enumerate((np.int64, np.int64, float))),
            "den": tuple(cat([t[k] for t in self.den], dt) for k, dt in enumerate((np.int64, np.int64, float))),
        }


_META_COLUMNS = ("rule_pos", "subject", "sense", "target", "measure")


def _concat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _rules_of(ctx: BuildContext, kinds: tuple[str, ...]) -> pd.DataFrame:
    rules = ctx.data.rules.reset_index(drop=True)
    rules = rules.assign(rule_pos=np.arange(len(rules)))
    return rules[rules["rule"].isin(kinds)]


def _scope(ctx: BuildContext, rule) -> np.ndarray:
    return ctx.partner_mask(_opt(rule.partner)) & ctx.item_mask(_opt(rule.item))


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
        in_group = ctx.group_mask(_opt(rule.group), _opt(rule.partner))[scope]
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
        items = ctx.item_mask(_opt(rule.item))
        partner = _opt(rule.partner)
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
        chosen = ctx.x_cols[scope & ctx.group_mask(_opt(rule.group), _opt(rule.partner))]
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
    pairs_all: list[pd.DataFrame] = []
    for rule in rules.itertuples(index=False):
        scope = _scope(ctx, rule) & ctx.group_mask(_opt(rule.group), _opt(rule.partner))
        sub = x.loc[scope, ["item", "supplier", "offer", "upper"]].assign(col=ctx.x_cols[scope])
        pairs = sub.groupby(["item", "supplier", "offer"], as_index=False, sort=True).agg(
            reach=("upper", "sum"))
        pairs["reach"] = np.minimum(pairs["reach"], pairs["offer"].map(ctx.offers["total_bound"]))
        pairs = pairs[pairs["reach"] > 0].assign(rule_pos=rule.rule_pos, rule=rule.rule)
        pairs_all.append(pairs)
    pairs = (pd.concat(pairs_all, ignore_index=True) if pairs_all else
             pd.DataFrame(columns=["item", "supplier", "offer", "reach", "rule_pos", "rule"]))
    v = b.add_variables("supplier_counted", pairs[["rule_pos", "item", "supplier"]], binary=True)

    link = _RuleRows()
    count = _RuleRows()
    # for reporting the count actually reached: per (count row, pair) the deliveries and the
    # threshold at which the supplier counts
    pair_row: list[int] = []
    pair_threshold: list[float] = []
    pair_terms: list[tuple[np.ndarray, np.ndarray]] = []
    for rule in rules.itertuples(index=False):
        partner = _opt(rule.partner)
        scope = _scope(ctx, rule) & ctx.group_mask(_opt(rule.group), partner)
        demanded = ctx.demand if partner is None else ctx.demand[ctx.demand["partner"] == partner]
        demanded_items = pd.unique(demanded.loc[item_mask(ctx.data, demanded, _opt(rule.item)), "item"])
        mine = (pairs["rule_pos"] == rule.rule_pos).to_numpy()
        is_min = rule.rule == "min_suppliers"
        sense = ">=" if is_min else "<="
        for item in sorted(demanded_items):
            here = mine & (pairs["item"] == item).to_numpy()
            v_cols = v[here]
            of_item = scope & (x["item"] == item).to_numpy()
            for pair, v_col in zip(pairs[here].itertuples(index=False), v_cols, strict=True):
                deliveries = ctx.x_cols[of_item & (x["supplier"] == pair.supplier).to_numpy()]
                m = min(1.0, pair.reach) if is_min else pair.reach
                link.add(dict(rule_pos=rule.rule_pos, subject=f"{item}/{pair.supplier}",
                              sense=sense, target=m, measure="quantity"),
                         np.append(deliveries, v_col), np.append(np.ones(len(deliveries)), -m),
                         **({"lower": 0.0} if is_min else {"upper": 0.0}))
                pair_row.append(len(count.meta))
                pair_threshold.append(m if is_min else 0.0)
                pair_terms.append((deliveries, np.ones(len(deliveries))))
            count.add(dict(rule_pos=rule.rule_pos, subject=item, sense=sense,
                           target=rule.quantity, measure="count"),
                      v_cols, np.ones(len(v_cols)),
                      **({"lower": rule.quantity} if is_min else {"upper": rule.quantity}))
    link.commit(b, "supplier_count_link")
    count.commit(b, "supplier_count")
    b.extras["count_pairs"] = {
        "row": np.array(pair_row, dtype=np.int64),
        "threshold": np.array(pair_threshold, dtype=float),
        "terms": (
            _concat([np.full(len(c), k, dtype=np.int64) for k, (c, _) in enumerate(pair_terms)], np.int64),
            _concat([c for c, _ in pair_terms], np.int64),
            _concat([w for _, w in pair_terms], float),
        ),
    }
