"""What every page shares: the session's workbook, solve options, cached solves, money and
error display.

Each browser session's data is its own: the workbook in use, the solve options and the edits
live in ``st.session_state``; nothing here keeps mutable state at module level.  The caches
(``st.cache_data``) are keyed on the content of the inputs (a fingerprint of the validated
tables and the solve options), so two sessions with the same workbook share a solve but never
see each other's data, and a second Solve with unchanged inputs is instant.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from procure.data.errors import InputError, Problem
from procure.data.tables import ProcureData
from procure.data.writer import read_workbook_bytes
from procure.engine.backends import DEFAULT_MIP_GAP, OPTIMAL_GAP
from procure.engine.results import Result
from procure.engine.solve import solve
from procure.store import StoreError

log = logging.getLogger("procure.app")

#: largest workbook accepted by the Data page, in MB (also ``server.maxUploadSize`` in
#: .streamlit/config.toml, which the browser enforces before sending)
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20
#: time limit of a solve, in seconds, when the workbook's Settings give none: the app never
#: waits without end
APP_TIME_LIMIT = 120.0
#: session_state keys (one place, so pages and tests agree)
WORKBOOK_KEY = "procure_workbook"
OPTIONS_KEY = "procure_solve_options"
PROBLEM_COLUMNS = ["sheet", "row", "column", "value", "problem", "fix"]
#: page files, relative to app.py (st.Page and AppTest.switch_page take these)
PAGE_FILES = {
    "data": "procure/app/data.py",
    "plan": "procure/app/plan.py",
    "nation": "procure/app/nation.py",
    "scenarios": "procure/app/scenarios.py",
    "compare": "procure/app/compare.py",
    "fair_shares": "procure/app/fair_shares.py",
}


# --------------------------------------------------------------------------- the workbook


@dataclass(frozen=True)
class Workbook:
    """The workbook a session works on: validated data, or the problems that stop it."""

    #: what the user calls it: the uploaded file's name, ``demo.xlsx``, ``... (edited)``
    name: str
    #: ``demo``, ``upload``, ``edited`` or ``scenario``
    origin: str
    data: ProcureData | None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    #: content key of ``data`` (see :func:`fingerprint`); "" without data
    fingerprint: str = ""
    #: bumped whenever the data changes, so the Data page's editors start afresh
    version: int = 0

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.problems

    @classmethod
    def from_data(cls, name: str, origin: str, data: ProcureData) -> Workbook:
        return cls(name=name, origin=origin, data=data, warnings=tuple(data.warnings),
                   fingerprint=fingerprint(data))


def fingerprint(data: ProcureData) -> str:
    """sha256 of every table (values, columns, dtypes) and scalar of ``data``: equal for equal
    content however it was made (uploaded, edited, built by a scenario)."""
    h = hashlib.sha256()
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        h.update(f.name.encode())
        if isinstance(value, pd.DataFrame):
            h.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
            h.update(pd.util.hash_pandas_object(value, index=False).to_numpy().tobytes())
        else:
            h.update(repr(value).encode())
    return h.hexdigest()


def read_upload(name: str, content: bytes, *, origin: str = "upload") -> Workbook:
    """Read workbook bytes with the same reader as the command line (``procure.read_workbook``
    through ``procure.data.writer.read_workbook_bytes``: zip bombs, macros and damaged files
    are refused there) and validate them.

    This is the one door for bytes: the file uploader calls it, the demo goes through it, and
    tests seed a session through it. A path typed by a user is never read; problems name the
    uploaded file, not the private temporary copy the reader checks."""
    name = Path(str(name)).name or "upload.xlsx"
    if len(content) > MAX_UPLOAD_BYTES:
        return Workbook(name, origin, None, (Problem(
            None, None, None, f"{len(content) / 2**20:,.1f} MB",
            f"the file is larger than the app accepts ({MAX_UPLOAD_BYTES / 2**20:g} MB)",
            "delete unused sheets, rows and images, or solve it with the command line "
            "(procure solve)"),))
    if not name.lower().endswith(".xlsx"):
        return Workbook(name, origin, None, (Problem(
            None, None, None, name, "only .xlsx workbooks are accepted",
            "open it in Excel and save as .xlsx (Excel Workbook), then upload that file"),))
    try:
        data = read_workbook_bytes(content, name)
    except InputError as exc:
        return Workbook(name, origin, None, tuple(exc.problems))
    return Workbook.from_data(name, origin, data)


@st.cache_data(show_spinner=False, max_entries=1)
def demo_bytes() -> bytes:
    from procure.datasets import demo_path

    return demo_path().read_bytes()


@st.cache_data(show_spinner=False, max_entries=1)
def _demo_workbook() -> Workbook:
    return read_upload("demo.xlsx", demo_bytes(), origin="demo")


def demo_workbook() -> Workbook:
    """The packaged demo (docs/demo.md), read once per process through :func:`read_upload`."""
    return _demo_workbook()


def current_workbook() -> Workbook:
    """The session's workbook; a new session starts on the demo."""
    wb = st.session_state.get(WORKBOOK_KEY)
    if wb is None:
        wb = demo_workbook()
        st.session_state[WORKBOOK_KEY] = wb
    return wb


def use_workbook(wb: Workbook) -> None:
    """Make ``wb`` the session's workbook (its editors start from it)."""
    previous = st.session_state.get(WORKBOOK_KEY)
    version = previous.version + 1 if previous is not None else 0
    st.session_state[WORKBOOK_KEY] = dataclasses.replace(wb, version=version)


# --------------------------------------------------------------------------- solving


@dataclass(frozen=True)
class SolveOptions:
    #: seconds; None: no limit
    time_limit: float | None
    #: relative gap at which the solver may stop
    mip_gap: float

    def describe(self) -> str:
        limit = "no time limit" if self.time_limit is None else f"time limit {self.time_limit:g} s"
        return f"{limit}, {gap_label(self.mip_gap)}"


#: the gaps the app offers (relative): proven optimal, then looser, faster ones
GAP_CHOICES = (DEFAULT_MIP_GAP, 1e-4, 1e-3, 1e-2, 5e-2)


def gap_label(gap: float) -> str:
    """How a gap reads on the page: 'proven optimal' within the engine's optimality
    threshold, else 'within 0.10 % of the best possible'."""
    if gap <= OPTIMAL_GAP:
        return "proven optimal"
    return f"within {gap:.2%} of the best possible"


def gap_choices(current: float) -> list[float]:
    """:data:`GAP_CHOICES` with ``current`` (e.g. the workbook's Settings) among them."""
    return sorted(set(GAP_CHOICES) | {float(current)})


def default_options(data: ProcureData) -> SolveOptions:
    """The workbook's Settings (time_limit, mip_gap), else the app's time limit and the
    engine's default gap."""
    limit = data.solver_option("time_limit")
    gap = data.solver_option("mip_gap")
    return SolveOptions(APP_TIME_LIMIT if limit is None else limit,
                        DEFAULT_MIP_GAP if gap is None else gap)


def current_options(wb: Workbook) -> SolveOptions:
    """The options this session chose for this workbook, else its defaults."""
    held = st.session_state.get(OPTIONS_KEY)
    if held is not None and held[0] == wb.fingerprint:
        return held[1]
    return default_options(wb.data)


def set_options(wb: Workbook, options: SolveOptions) -> None:
    st.session_state[OPTIONS_KEY] = (wb.fingerprint, options)


@dataclass(frozen=True)
class GameOptions:
    """How the Fair shares page solves its many coalitions and variants."""

    workers: int
    mip_gap: float
    time_limit: float | None
    samples: int | None  # None: every coalition (exact)

    def describe(self) -> str:
        how = "every coalition" if self.samples is None else f"{self.samples:,} coalition solves"
        return f"{how}, {gap_label(self.mip_gap)}, {self.workers} worker(s)"


@st.cache_data(show_spinner=False, max_entries=32)
def _solve(key: str, time_limit: float | None, mip_gap: float, _data: ProcureData) -> Result:
    """``procure.solve`` keyed on the data's fingerprint and the options (``_data`` is not
    hashed: its fingerprint is the key)."""
    return solve(_data, time_limit=time_limit, mip_gap=mip_gap)


def solve_plan(wb: Workbook, options: SolveOptions | None = None) -> Result:
    """The plan of the session's workbook (solved once per content and options)."""
    return solve_data(wb.name, wb.data, options or current_options(wb), wb.fingerprint)


def solve_data(name: str, data: ProcureData, options: SolveOptions,
               key: str | None = None) -> Result:
    """The plan of ``data`` (solved once per content and options), with a spinner naming it;
    ``key`` is its fingerprint when known."""
    with st.spinner(f"Solving {name} ({options.describe()}) ...", show_time=True):
        return _solve(key or fingerprint(data), options.time_limit, options.mip_gap, _data=data)


@st.cache_data(show_spinner=False, max_entries=16)
def _savings(key: str, time_limit: float | None, mip_gap: float, _data: ProcureData,
             _result: Result) -> pd.DataFrame:
    from procure.analysis.sharing import savings

    return savings(_data, _result, time_limit=time_limit, mip_gap=mip_gap)


def pooling_savings(wb: Workbook, result: Result, options: SolveOptions) -> pd.DataFrame:
    """What pooling saves each partner (``procure.analysis.sharing.savings``): each partner
    solved alone once per content and options."""
    n = len(wb.data.partners)
    with st.spinner(f"Solving each of the {n} partners alone ...", show_time=True):
        return _savings(wb.fingerprint, options.time_limit, options.mip_gap, _data=wb.data,
                        _result=result)


def results_workbook(result: Result, extra: dict[str, pd.DataFrame] | None = None) -> bytes:
    """The results workbook (``result.to_excel``) as bytes, for a download button."""
    return file_bytes(lambda path: result.to_excel(path, extra=extra), "results.xlsx")


@st.cache_data(show_spinner=False, max_entries=1)
def template_bytes() -> bytes:
    """The blank template (``procure.write_template``) as bytes."""
    from procure.data.template import write_template

    return file_bytes(write_template, "template.xlsx")


# --------------------------------------------------------------------------- the store


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_store(url: str):
    from procure.store import open_store

    return open_store(url or None)


def scenario_store():
    """The scenario store every page shares: ``$PROCURE_STORE``, else the default SQLite file
    in the user's data folder (``procure.store.open_store``); opened once per URL and process.
    Saved scenarios are shared by everyone using the app, as a team's store is."""
    return _open_store(os.environ.get("PROCURE_STORE", "").strip())


def file_bytes(write, name: str) -> bytes:
    """What ``write(path)`` writes to a private temporary file named ``name``, as bytes."""
    with tempfile.TemporaryDirectory(prefix="procure-download-") as folder:
        path = Path(folder) / name
        write(path)
        return path.read_bytes()


# --------------------------------------------------------------------------- display

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def money(value: float | None, currency: str = "EUR") -> str:
    """A sum of money in full, to the unit, with thousands separators: '27,731,165,517 EUR'."""
    if value is None or value != value:
        return "-"
    return f"{value:,.0f} {currency}"


def to_units(table: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``table`` with the money ``columns`` rounded to the unit, for display (the
    page's 'localized' number format then shows 4,911,460,083, not 4,911,460,082.526)."""
    present = [c for c in columns if c in table.columns]
    return table.assign(**{c: table[c].astype(float).round(0) for c in present})


def editable_numbers(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the number ``columns`` as nullable floats, for a data editor: a row the
    editor adds with a number cell left blank holds NA there, where a float64 column would
    have to turn to object for it (pandas 3 warns, pandas 4 refuses). The values are the
    same floats."""
    return frame.astype({c: "Float64" for c in columns})


def problems_table(problems: Iterable[Problem]) -> pd.DataFrame:
    """Problems as the table the Data page shows: sheet, row, column, value, problem, fix."""
    rows = [{"sheet": p.sheet or "", "row": p.row, "column": p.column or "",
             "value": "" if p.value is None else str(p.value), "problem": p.message, "fix": p.fix}
            for p in problems]
    table = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    table["row"] = table["row"].astype("Int64")
    return table


def show_problems(problems: Iterable[Problem], heading: str) -> None:
    problems = list(problems)
    n = len(problems)
    st.error(f"{heading}: {n} problem{'s' if n != 1 else ''}. Each row says where (sheet, row "
             "as Excel shows it, column) and how to fix it; nothing is solved until they are fixed.")
    st.dataframe(problems_table(problems), hide_index=True, width="stretch", key=None)


def show_warnings(warnings: Iterable[str]) -> None:
    for w in warnings:
        st.warning(w)


@contextmanager
def guard(doing: str) -> Iterator[None]:
    """Run a block so that no stack trace reaches the page: bad input becomes the problems
    table, anything unexpected a message saying what to do (the details go to the server
    log). Streamlit's own control flow (rerun, stop, page switch) passes through: it is not
    an ``Exception``."""
    try:
        yield
    except InputError as exc:
        show_problems(exc.problems, f"The input cannot be used while {doing}")
    except StoreError as exc:  # a name that exists, an unknown name, a store out of reach
        st.error(f"The scenario store refused while {doing}: {exc}")
    except Exception as exc:  # noqa: BLE001 -- the page must survive anything
        log.exception("error while %s", doing)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        st.error(
            f"Something went wrong while {doing}"
            + (f": {type(exc).__name__}: {first[:300]}" if first else f" ({type(exc).__name__})")
            + ". Try again; if it happens again, start from the demo on the Data page, or solve "
            "the workbook with the command line (procure solve) to see the full error, and "
            "report it with the workbook.")


def workbook_caption(wb: Workbook) -> None:
    """One line under each page title: which workbook the page shows."""
    if wb.ok:
        counts = wb.data.summary()
        st.caption(f"Workbook **{wb.name}**: {counts['partners']} partners, {counts['items']} "
                   f"items, {counts['suppliers']} suppliers, {counts['periods']} periods, "
                   f"{counts['rules']} rules. Change it on the Data page.")
    else:
        st.caption(f"Workbook **{wb.name}** has problems: see the Data page.")


def require_valid(wb: Workbook) -> bool:
    """False (after saying why) when the workbook cannot be solved."""
    if wb.ok:
        return True
    st.error(f"{wb.name} has {len(wb.problems)} problem(s) and is not solved. Open the Data "
             "page to see them, fix the workbook and upload it again, or start from the demo.")
    st.page_link(PAGE_FILES["data"], label="Go to the Data page", icon=":material/table:")
    return False

