"""Build the cooperative procurement MILP of docs/model.md (section 2) as arrays.

:func:`build_model` reads as the model's table of contents; each ``add_*``
function owns one constraint family and states its mathematics in its
docstring (docs/constraints.md collects them into a catalogue).
"""

from __future__ import annotations

from procure.data.tables import ProcureData
from procure.engine.model.budget import add_budgets
from procure.engine.model.capacity import add_offer_capacity, add_shared_capacity
from procure.engine.model.core import Block, Model, ModelBuilder
from procure.engine.model.demand import add_deliveries, add_demand, add_shortfall
from procure.engine.model.index import BuildContext, build_context
from procure.engine.model.orders import add_pooled_quantity, plan_tiers
from procure.engine.model.resilience import add_n_minus_1
from procure.engine.model.rules import (
    add_quantity_rules,
    add_share_rules,
    add_supplier_count_rules,
    add_workshare_rules,
)

__all__ = ["Block", "BuildContext", "Model", "build_model"]


def build_model(data: ProcureData) -> Model:
    """The MILP for validated ``data``: variables only on allowed rows, one sparse matrix."""
    ctx = build_context(data)  # allowed deliveries (bans applied), bounds, transport costs
    plan_tiers(ctx)  # reachable price segments, decided before any variable exists

    b = ModelBuilder()
    add_deliveries(b, ctx)  # x[p,i,s,t]
    add_shortfall(b, ctx)  # u[p,i,t]
    add_demand(b, ctx)  # 1. demand met exactly
    add_offer_capacity(b, ctx)  # 2. per-offer capacity per period
    add_shared_capacity(b, ctx)  # 2. supplier's shared capacity per period
    add_pooled_quantity(b, ctx)  # 3-4. min order, setup, price tiers on the pooled quantity
    add_budgets(b, ctx)  # 5. budgets
    add_share_rules(b, ctx)  # 6. min/max (value) share
    add_workshare_rules(b, ctx)  # 6. juste retour
    add_quantity_rules(b, ctx)  # 6. min/max quantity
    add_supplier_count_rules(b, ctx)  # 6. min/max suppliers
    add_n_minus_1(b, ctx)  # 6. N-1: a re-covery without each supplier in scope
    model = b.finish()
    model.extras["context"] = ctx
    return model
