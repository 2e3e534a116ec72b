"""Fair shares page: how the pool's cost is shared, and what each rule costs.

``procure.analysis.cooperation.fair_shares`` (the table of ``procure share``: alone,
proportional, Shapley, nucleolus, savings, value brought; the core in a sentence) and
``rule_costs`` (the price of every rule, "the cost of sovereignty"), each solving many
coalitions or variants with a progress bar; the charts are ``procure.charts.cooperation``'s.
The answers are kept for the session and workbook (they take minutes on 12 partners).

Streamlit runs this file afresh on every rerun, so what is kept in session_state is built from
classes of importable modules (``shared.GameOptions``), never from classes defined here: those
would be new classes on every run and never compare equal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from procure.analysis.cooperation import (
    FairShares,
    RuleCosts,
    fair_shares,
    null_partners,
    rule_costs,
)
from procure.analysis.games import EXACT_LIMIT
from procure.app import shared
from procure.app.shared import GameOptions
from procure.charts import cooperation as charts

SHARES_KEY = "procure_fair_shares"
#: what the less obvious columns of the fair-shares table mean (shown on hover)
COLUMN_HELP = {
    "shapley_se": "Standard error of a sampled Shapley share (0 when every coalition was solved).",
    "shapley_gap": "How far the Shapley share could be from its value on exact costs: each "
                   "coalition's cost is proven only within the solver's gap. Tiny when every "
                   "cost is proven optimal; a looser gap makes it larger.",
    "value_brought": "What the pool loses when this partner leaves: the others' cost without "
                     "it plus its own alone, minus the pool's cost.",
}
RULES_KEY = "procure_rule_costs"
#: coalition solves of a sampled Shapley estimate when the user does not choose
DEFAULT_SAMPLES = 4000


def render() -> None:
    st.title("Fair shares")
    wb = shared.current_workbook()
    shared.workbook_caption(wb)
    if not shared.require_valid(wb):
        return
    options = options_panel(wb)
    shares_panel(wb, options)
    rules_panel(wb, options)


def players(data) -> tuple[int, list[str]]:
    """How many partners play the game, and those who do not: a partner with no demand and
    no rules of its own is 0 in every split and left out of the coalitions solved."""
    idle = null_partners(data)
    return len(data.partners) - len(idle), idle


def options_panel(wb: shared.Workbook) -> GameOptions:
    n, idle = players(wb.data)
    solve = shared.current_options(wb)
    cores = os.cpu_count() or 1
    with st.expander("How to compute", expanded=False):
        left, middle, right = st.columns(3)
        exact_possible = n <= EXACT_LIMIT
        without = (f" ({', '.join(idle)}: no demand and no rules of their own, 0 in every "
                   "split)") if idle else ""
        how = left.radio(
            "Shapley values", ["every coalition (exact)", "sampled"],
            index=0 if exact_possible else 1, disabled=not exact_possible,
            key=f"fair_how_{wb.fingerprint[:12]}",
            help=f"{n} partners play{without}: {2 ** n - 1:,} coalitions. Exact up to "
                 f"{EXACT_LIMIT} partners (with the nucleolus and the core); above, a sampled "
                 "Shapley estimate with its standard error.")
        samples = None
        if how == "sampled":
            samples = int(left.number_input("Coalition solves", min_value=100,
                                            value=DEFAULT_SAMPLES, step=500,
                                            key="fair_samples"))
        gap = middle.selectbox("Optimality gap of each solve", shared.gap_choices(solve.mip_gap),
                               index=shared.gap_choices(solve.mip_gap).index(solve.mip_gap),
                               format_func=shared.gap_label, key="fair_gap",
                               help="A looser gap is much faster on many coalitions; the "
                                    "shares are then as close as the gap says.")
        workers = int(right.number_input("Worker processes", min_value=1, max_value=cores,
                                         value=min(2, cores), key="fair_workers"))
    return GameOptions(workers=workers, mip_gap=float(gap), time_limit=solve.time_limit,
                       samples=samples)


class ProgressBar:
    """``progress(done, total)`` for the many-solve engine, drawn as a bar with the time left
    (updated at most a few times a second)."""

    def __init__(self, what: str):
        self.what = what
        self.bar = st.progress(0.0, text=f"Solving {what} ...")
        self.start = time.monotonic()
        self.shown = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.shown < 0.25:
            return
        self.shown = now
        elapsed = now - self.start
        left = "" if not done else f", about {_duration(elapsed / done * (total - done))} left"
        self.bar.progress(min(done / total, 1.0) if total else 1.0,
                          text=f"{done:,} of {total:,} {self.what} solved ({_duration(elapsed)}"
                               f"{left})")

    def done(self) -> None:
        self.bar.empty()


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def computed(key: str, wb: shared.Workbook, options: GameOptions):
    held = st.session_state.get(key)
    if held is not None and held[0] == (wb.fingerprint, options):
        return held[1]
    return None


def run(key: str, wb: shared.Workbook, options: GameOptions, what: str,
        compute: Callable[[Callable[[int, int], None]], object]) -> None:
    """``compute(progress)`` with a progress bar; the answer is kept for this workbook and the
    page drawn again with it."""
    bar = ProgressBar(what)
    try:
        answer = compute(bar)
    finally:
        bar.done()
    st.session_state[key] = ((wb.fingerprint, options), answer)
    st.rerun()  # drawn again without the button that asked for it


# --------------------------------------------------------------------------- fair shares


def shares_panel(wb: shared.Workbook, options: GameOptions) -> None:
    st.subheader("Who pays what")
    fs: FairShares | None = computed(SHARES_KEY, wb, options)
    if fs is None:
        n, idle = players(wb.data)
        every = 2 ** n - 1
        # a budget that covers every coalition buys the exact game (fair_shares)
        solves = every if options.samples is None else min(options.samples, every)
        without = f", not {', '.join(idle)}: no demand" if idle else ""
        st.caption(f"Solves {solves:,} coalitions of the {n} partners{without} "
                   f"({options.describe()}); on 12 partners this takes minutes.")
        if not st.button("Compute fair shares", type="primary", key="fair_compute",
                         icon=":material/balance:"):
            return
        with shared.guard("computing the fair shares"):
            run(SHARES_KEY, wb, options, "coalitions", lambda progress: fair_shares(
                wb.data, "all", workers=options.workers, samples=options.samples,
                progress=progress, time_limit=options.time_limit, mip_gap=options.mip_gap))
        return  # an error was shown; else the page was drawn again with the answer
    core_panel(fs)
    money = ("standalone", "proportional", "shapley", "shapley_se", "shapley_gap", "nucleolus",
             "savings", "value_brought")
    st.dataframe(shared.to_units(fs.table, money), hide_index=True, width="stretch",
                 column_config={
        c: st.column_config.NumberColumn(format="localized", help=COLUMN_HELP.get(c)) for c in money})
    st.caption("Per partner: its cost alone, its share of the pooled plan under proportional "
               "sharing, the Shapley value and the nucleolus; savings are its cost alone minus "
               "its Shapley share; value brought is what the pool loses when it leaves (the "
               "others' cost without it plus its own alone, minus the pool's cost), negative "
               "when it competes with the others for scarce capacity.")
    playing = fs.table[~fs.table["partner"].isin(fs.null_partners)]
    st.plotly_chart(charts.fair_share_bars(playing, fs.currency), width="stretch",
                    key="fair_bars")
    st.caption("Each partner's cost alone and under each way of sharing the pooled plan"
               + (" (partners with no demand left out)." if fs.null_partners else "."))
    if fs.null_partners:
        st.caption(fs.null_sentence())
    notes = [f"{fs.coalitions_solved:,} coalitions solved"]
    if fs.infeasible_coalitions:
        notes.append(f"{len(fs.infeasible_coalitions):,} have no plan on their own")
    if fs.unproven_coalitions:
        notes.append(f"{len(fs.unproven_coalitions):,} not proven within the gap (shapley_gap: "
                     "how far a Shapley share could be from its value on exact costs)")
    st.caption("; ".join(notes) + ".")
    left, right = st.columns(2)
    left.download_button("Download as JSON", data=json_text(fs.to_dict()),
                         file_name="fair-shares.json", mime="application/json",
                         key="fair_json", help="Exactly the JSON of `procure share --json`.")
    plan = shared.solve_plan(wb)
    right.download_button("Download the results workbook",
                          data=lambda: shared.results_workbook(plan, extra={"FairShares": fs.table}),
                          file_name="fair-shares.xlsx", mime=shared.XLSX_MIME, key="fair_xlsx",
                          help="The plan's results workbook with a FairShares sheet.")


def core_panel(fs: FairShares) -> None:
    """The core check in one sentence: green when the split is in the core."""
    sentence = fs.core_sentence()
    check = fs.core.get(fs.chosen)
    if check is not None and check.in_core:
        st.success(sentence, icon=":material/verified:")
    elif check is not None:
        st.warning(sentence, icon=":material/group_off:")
    else:
        st.info(sentence)


def json_text(value) -> str:
    import json

    return json.dumps(value, indent=2, default=str)


# --------------------------------------------------------------------------- rule prices


def rules_panel(wb: shared.Workbook, options: GameOptions) -> None:
    st.subheader("The price of each rule")
    if wb.data.rules.empty:
        st.info("The workbook has no rules.")
        return
    rc: RuleCosts | None = computed(RULES_KEY, wb, options)
    if rc is None:
        st.caption(f"Solves the pool once without each of its {len(wb.data.rules)} rules.")
        if not st.button("Price every rule", key="fair_rule_costs", icon=":material/gavel:"):
            return
        with shared.guard("pricing the rules"):
            run(RULES_KEY, wb, options, "variants", lambda progress: rule_costs(
                wb.data, workers=options.workers, progress=progress,
                time_limit=options.time_limit, mip_gap=options.mip_gap))
        return  # an error was shown; else the page was drawn again with the answer
    st.plotly_chart(charts.rule_price_bars(rc.table, rc.currency), width="stretch",
                    key="fair_rule_bars")
    st.caption("What each rule costs the pool: its total cost with the rule minus without it, "
               "dearest first (\"the cost of sovereignty\").")
    table = shared.to_units(rc.table.drop(columns=["path"], errors="ignore"),
                            ["without", "price", "dual"])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "without": st.column_config.NumberColumn("cost without it", format="localized"),
        "price": st.column_config.NumberColumn(format="localized"),
        "price_pct": st.column_config.NumberColumn("price %", format="percent")})
    with st.expander("Who pays for each rule"):
        wide = rc.partners.pivot(index="rule_id", columns="partner", values="delta")
        st.dataframe(wide.reindex(index=list(rc.table["rule_id"])).round(0), width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="localized")
                                    for c in wide.columns})
        st.caption("Each partner's proportional cost with the rule minus without it.")


def shares_for(wb: shared.Workbook) -> pd.DataFrame | None:
    """The fair-share table computed this session for this workbook (any options), if any:
    the Nation view shows it."""
    held = st.session_state.get(SHARES_KEY)
    if held is not None and held[0][0] == wb.fingerprint:
        return held[1].table
    return None


if __name__ == "__main__":
    render()
