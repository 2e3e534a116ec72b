"""The resilience panels of the app: the stress test on the Plan page (run when asked) and,
on the Nation view, the suppliers whose loss would hurt the partner most."""

from __future__ import annotations

import pytest

import procure
from procure.analysis.security import stress_test

try:
    from tests import app_helpers as ui
except ImportError:  # tests/ is not a package
    import app_helpers as ui


@pytest.fixture(scope="module")
def stressed():
    return stress_test(procure.datasets.load_demo(), countries=True, diagnose=False)


def test_plan_page_runs_the_stress_test_when_asked(stressed):
    at = ui.app().run()
    ui.no_exception(at)
    run = [b for b in at.button if b.label == "Run the stress test"]
    assert len(run) == 1  # not run on the first render
    run[0].click().run()
    ui.no_exception(at)
    table = next(d.value for d in at.dataframe if "suppliers" in d.value.columns and "lost" in d.value.columns)
    want = stressed.table[stressed.table["kind"] == "supplier"]
    assert list(table["lost"])[:len(want)] == list(want["lost"])
    assert (table["status"] == "no plan").sum() == (want["status"] == "infeasible").sum()
    assert any("DE_ELB" in m for m in ui.texts(at.markdown))
    # the Nation view reuses the stress test of the session
    at = ui.open_page(at, "nation")
    at.selectbox(key="procure_nation_partner").set_value("PL").run()
    ui.no_exception(at)
    worst = next(d.value for d in at.dataframe if "shortfall_units" in d.value.columns
                 and "lost" in d.value.columns and "suppliers" not in d.value.columns)
    assert list(worst["lost"]) == list(stressed.worst_for("PL")["lost"])
