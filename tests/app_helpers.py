"""Helpers for the app's tests: an AppTest on app.py, workbook bytes, what a page shows."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import openpyxl
from streamlit.testing.v1 import AppTest

import procure

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGES = {"data": "procure/app/data.py", "plan": "procure/app/plan.py",
         "nation": "procure/app/nation.py", "scenarios": "procure/app/scenarios.py",
         "compare": "procure/app/compare.py", "fair_shares": "procure/app/fair_shares.py"}


class _AppTest(AppTest):
    """AppTest that puts the test process's ``__main__`` back after each run.

    Streamlit's script runner installs the page as ``sys.modules["__main__"]`` and leaves it
    there; a later test that starts a process pool (spawn re-imports ``__main__`` from its
    file) would then run app.py in every worker.
    """

    def _run(self, *args, **kwargs):
        main = sys.modules.get("__main__")
        try:
            return super()._run(*args, **kwargs)
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def private_store(monkeypatch, folder: Path) -> str:
    """Point the app at a store of the test's own (never the user's default file)."""
    url = f"sqlite:///{folder / 'store.sqlite'}"
    monkeypatch.setenv("PROCURE_STORE", url)
    return url


def app(timeout: float = 120) -> AppTest:
    """A fresh session of app.py (a new browser tab after a restart), not yet run."""
    return _AppTest(str(APP), default_timeout=timeout)


def open_page(at: AppTest, page: str) -> AppTest:
    """Run ``at`` on ``page`` (a key of :data:`PAGES`); the first run opens the default page."""
    if not at._tree.children:  # never run: st.navigation registers the pages on the first run
        at.run()
    return at.switch_page(PAGES[page]).run()


def demo_bytes(**cells) -> bytes:
    """The demo workbook, with cells changed: ``{"Demand!D48": 900000}``-style keys given as
    ``Demand_D48=900000``."""
    wb = openpyxl.load_workbook(procure.datasets.demo_path())
    for key, value in cells.items():
        sheet, ref = key.split("_")
        wb[sheet][ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def figures(at: AppTest) -> list[dict]:
    """The plotly figures on the page, as the JSON the browser gets."""
    import json

    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def numbers(values) -> list[float]:
    """A figure's numbers as plain floats (plotly sends arrays as typed base64 data)."""
    import base64

    import numpy as np

    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return [float(v) for v in values]


def no_exception(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)


def full_units(value: float, currency: str = "EUR") -> str:
    """A sum as the app must show it: to the unit, with thousands separators (written here
    independently of the app's formatter)."""
    return f"{round(value):,} {currency}"
