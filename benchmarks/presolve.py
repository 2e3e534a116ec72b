"""Does HiGHS's presolve change the answer? Random instances solved with and without it.

The diagnosis trusts HiGHS's proof that a set of relaxed rows is the smallest, and the plan
trusts its proof of optimality; a presolve that cuts off the optimum breaks both without a
word. This runner solves the same models both ways and prints every disagreement, so that a
new highspy can be checked before it is trusted (``highspy`` is not pinned):

    python -m benchmarks.presolve diagnosis --instances 300
    python -m benchmarks.presolve plan --instances 300

``diagnosis``: instances made infeasible by more demand of one item than its offers deliver
(as tests/test_diagnose.py makes them); each elastic model is solved as the diagnosis
builds it, with and without presolve: with the whole-unit columns continuous (the
switches-only model the diagnosis solves first), with whole units and the switches fixed
at that model's set (the check of the set, and its amounts), and with every integer column
free (its fallback).
``plan``: feasible instances with whole-unit items; the model itself, both ways.
A disagreement is another status or objectives more than 1e-6 apart (relative).
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

import procure
from benchmarks.generate import generate
from procure.engine import diagnose
from procure.engine.backends import DEFAULT_MIP_GAP, new_highs, pass_model, read_highs
from procure.engine.model import Model, build_model
from procure.engine.whole_units import general_integers


def _run(model: Model, presolve: bool):
    h = new_highs()
    h.setOptionValue("time_limit", 60.0)
    h.setOptionValue("mip_rel_gap", DEFAULT_MIP_GAP)
    h.setOptionValue("presolve", "on" if presolve else "off")
    pass_model(h, model)
    h.run()
    return read_highs(h, model, 0.0)


def _solve(model: Model, presolve: bool) -> tuple[str, float | None]:
    out = _run(model, presolve)
    return out.status.value, out.objective


def _agree(with_presolve, without) -> bool:
    if with_presolve[0] != without[0]:
        return False
    a, b = with_presolve[1], without[1]
    return a is None or b is None or abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _instance(seed: int, whole: int, short: float | None, size: dict) -> procure.ProcureData:
    tables = generate(**size, rule_density=2.0, tiers=True, setup=True, seed=seed)
    items = list(tables["Items"]["item"])
    tables["Items"] = tables["Items"].assign(whole_units=tables["Items"]["item"].isin(items[:whole]))
    demand = tables["Demand"].copy()
    demand["quantity"] = demand["quantity"].astype(float).floordiv(1)
    if short is not None:  # one item short of its offers
        scarce = demand["item"] == items[seed % len(items)]
        demand.loc[scarce, "quantity"] = np.ceil(demand.loc[scarce, "quantity"] * short)
    tables["Demand"] = demand
    return procure.validate_tables(tables)


def _elastic_model(data: procure.ProcureData) -> tuple[Model, int, int]:
    """The elastic model the diagnosis builds for ``data`` (caught on its way to the solver),
    its number of model columns and of elastic rows."""
    caught = []
    solve_elastic = diagnose._solve_elastic

    def catch(elastic, n, k, time_limit):
        caught.append((elastic, n, k))
        return solve_elastic(elastic, n, k, time_limit)

    diagnose._solve_elastic = catch
    try:
        diagnose.diagnose_infeasibility(data)
    finally:
        diagnose._solve_elastic = solve_elastic
    return caught[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["diagnosis", "plan"])
    parser.add_argument("--instances", type=int, default=300, help="instances drawn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--large", action="store_true",
                        help="4 partners, 4 items, 3 offers each, 3 periods (default 3, 3, 2, 2)")
    args = parser.parse_args(argv)
    size = (dict(partners=4, items=4, offers_per_item=3, periods=3) if args.large else
            dict(partners=3, items=3, offers_per_item=2, periods=2))
    rng = np.random.default_rng(args.seed)
    counts = {"solved": 0, **({"plan": 0} if args.kind == "plan" else
                              {"switches only": 0, "switches fixed": 0, "every integer": 0})}
    for _ in range(args.instances):
        seed = int(rng.integers(0, 2**31))
        whole = int(rng.integers(0 if args.kind == "diagnosis" else 1, 4))
        short = float(rng.choice([1.5, 2.5, 4.0])) if args.kind == "diagnosis" else None
        data = _instance(seed, whole, short, size)
        if args.kind == "plan":
            counts["solved"] += 1
            models = {"plan": build_model(data)}
        else:
            if procure.solve(data, diagnose=False).status != procure.Status.INFEASIBLE:
                continue  # the offers could still deliver it
            counts["solved"] += 1
            elastic, n, k = _elastic_model(data)
            general = general_integers(elastic)
            first = dataclasses.replace(elastic, integrality=elastic.integrality & ~general)
            models = {"switches only": first}
            if general.any():
                found = _run(first, True)  # as the diagnosis finds its set
                if found.status.has_plan:
                    models["switches fixed"] = diagnose.switches_fixed(
                        elastic, n, k, found.col_value[n + k:])
                models["every integer"] = elastic
        for name, model in models.items():
            with_presolve, without = _solve(model, True), _solve(model, False)
            if not _agree(with_presolve, without):
                counts[name] += 1
                print(f"{name}: seed={seed} whole={whole} short={short}: with presolve "
                      f"{with_presolve}, without {without}", flush=True)
    print(f"highspy {_highs_version()}: {counts['solved']} instances; disagreements: "
          + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "solved"))


def _highs_version() -> str:
    from importlib.metadata import version

    return version("highspy")


if __name__ == "__main__":
    main()
