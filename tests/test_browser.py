"""The app in a real browser: ``streamlit run app.py`` on a loopback port, driven by Debian's
chromium through Playwright (never a downloaded browser).

One server and one browser session for the whole module. Each page is opened through the
sidebar (as a user does, keeping the session), checked for an exception box, and saved as a
screenshot in ``$PROCURE_TEST_ARTIFACTS`` (default: a pytest temporary folder). The README's
images are two of these (docs/app.md says how to refresh them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import procure

try:
    from tests.app_helpers import ROOT, demo_bytes, full_units
except ImportError:  # tests/ is not a package
    from app_helpers import ROOT, demo_bytes, full_units

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: how long one page may take to settle (solves included), in ms
SETTLE_MS = 90_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing: install Debian's chromium "
                              "(apt-get install chromium; .ci/run does) to run the browser test"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(pip install -e '.[dev]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    given = os.environ.get("PROCURE_TEST_ARTIFACTS", "").strip()
    folder = Path(given) if given else tmp_path_factory.mktemp("browser")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port; its log goes to a file."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    store = tmp_path_factory.mktemp("store") / "store.sqlite"  # never the user's own
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_STORE": f"sqlite:///{store}"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {log_path.read_text(errors='replace')}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(SETTLE_MS)
            tab.goto(server)
            yield tab
        finally:
            browser.close()


def settle(tab) -> None:
    """Wait until the script run is over (the 'running' indicator is gone)."""
    tab.wait_for_timeout(300)
    tab.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SETTLE_MS)
    tab.wait_for_timeout(300)


def open_page(tab, title: str) -> None:
    tab.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    tab.locator("h1", has_text=title).first.wait_for()
    settle(tab)


def assert_no_exception(tab) -> None:
    assert tab.locator('[data-testid="stException"]').count() == 0, tab.inner_text("body")[:3000]
    alerts = tab.locator('[data-testid="stAlert"]').all_inner_texts()
    assert not [a for a in alerts if "Something went wrong" in a], alerts


def readme_shot(tab, path: Path) -> None:
    """The top of the page at a README-friendly size."""
    tab.set_viewport_size({"width": 1400, "height": 1400})
    tab.wait_for_timeout(800)
    tab.screenshot(path=str(path))
    tab.set_viewport_size({"width": 1400, "height": 1000})


def screenshot(tab, path: Path) -> None:
    """The whole page: the viewport is grown to the main area's height for the shot."""
    height = tab.evaluate(  # the tallest scrolling part of the app
        "() => Math.max(document.body.scrollHeight, ...Array.from("
        "document.querySelectorAll('[data-testid]'), e => e.scrollHeight))")
    tab.set_viewport_size({"width": 1400, "height": max(1000, min(int(height) + 40, 12000))})
    tab.wait_for_timeout(800)  # plotly redraws at the new size
    tab.screenshot(path=str(path))
    tab.set_viewport_size({"width": 1400, "height": 1000})


def total_shown(tab) -> str:
    metric = tab.locator('[data-testid="stMetric"]', has_text="Total cost").first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_opens_on_the_demo_solved(page, artifacts):
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    settle(page)
    result = procure.solve(procure.datasets.load_demo())
    assert total_shown(page) == full_units(result.total_cost)
    assert_no_exception(page)
    screenshot(page, artifacts / "plan.png")
    readme_shot(page, artifacts / "readme-plan.png")


def test_the_results_workbook_downloads(page, tmp_path):
    from openpyxl import load_workbook

    with page.expect_download() as got:
        page.get_by_role("button", name="Download the results workbook").click()
    path = tmp_path / got.value.suggested_filename
    got.value.save_as(path)
    assert path.name == "demo-results.xlsx"
    summary = dict(load_workbook(path, read_only=True)["Summary"].iter_rows(min_row=2,
                                                                           values_only=True))
    result = procure.solve(procure.datasets.load_demo())
    assert summary["total_cost"] == pytest.approx(result.total_cost)


def test_upload_through_the_file_input_then_solve(page, artifacts, tmp_path):
    content = demo_bytes(Demand_D48=40000)  # FR needs 4,000 more shells in 2027
    path = tmp_path / "fr-more.xlsx"
    path.write_bytes(content)
    open_page(page, "Data")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("fr-more.xlsx is read and valid.").wait_for()
    settle(page)
    assert_no_exception(page)
    screenshot(page, artifacts / "data.png")
    open_page(page, "Plan")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    expected = procure.solve(procure.read_workbook(path))
    assert total_shown(page) == full_units(expected.total_cost)
    assert_no_exception(page)


def test_every_page_opens_without_an_exception(page, artifacts):
    for title, name in (("Nation view", "nation"), ("Scenarios", "scenarios-empty"),
                        ("Compare", "compare-empty"), ("Fair shares", "fair-shares-empty"),
                        ("Data", "data-tables"),
                        ("Plan", "plan-upload")):
        open_page(page, title)
        assert_no_exception(page)
        screenshot(page, artifacts / f"{name}.png")


def choose(tab, label: str, text: str) -> None:
    """Type ``text`` into the select box or multiselect labelled ``label`` and take the first
    match, as a user does. A list that does not open (a script run re-drew the box between
    the click and the typing: 3 of 4 runs failed so here) is opened again, as a user
    would, and the text typed afresh."""
    box = tab.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]',
                      has_text=label).first
    field = box.locator("input").first
    option = tab.get_by_role("option").filter(has_text=text).first
    for _ in range(3):
        field.click()
        field.press("Control+a")  # what an earlier try typed is replaced, not added to
        tab.keyboard.type(text)
        try:
            option.wait_for(timeout=10_000)
        except sync_api.TimeoutError:
            tab.keyboard.press("Escape")
            settle(tab)
            continue
        option.click()
        break
    else:
        raise AssertionError(f"{label!r} never offered {text!r}: {box.inner_text()!r}")
    tab.keyboard.press("Escape")
    settle(tab)


def solve_and_save(tab, name: str) -> None:
    tab.get_by_role("button", name="Solve the scenario").click()
    tab.get_by_text(f"Scenario: {name}").first.wait_for()
    settle(tab)
    tab.get_by_role("button", name="Save to the store").click()
    tab.get_by_text(f"{name} is saved (version 1).").wait_for()
    settle(tab)


@pytest.fixture
def shot_on_failure(page, artifacts, request):
    """A screenshot of the page when the test fails (in the artefacts folder)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:  # the call's failure is counted before teardown
        screenshot(page, artifacts / f"failed-{request.node.name}.png")


@pytest.mark.usefixtures("shot_on_failure")
def test_scenarios_are_saved_survive_a_reload_and_are_compared(page, artifacts):
    page.reload()  # a new session: back on the demo
    page.locator("h1").first.wait_for()
    settle(page)
    open_page(page, "Scenarios")
    page.get_by_text("Start from an example or a scenario file").click()
    settle(page)
    choose(page, "Example (written for the demo)", "largest shell")
    page.get_by_role("button", name="Load the example").click()
    page.get_by_text("is loaded: check it below").wait_for()
    settle(page)
    solve_and_save(page, "Loss of the largest 155 mm supplier")
    page.get_by_role("button", name="New scenario").click()
    settle(page)
    page.locator('[data-testid="stTextInput"]', has_text="Name").first.locator("input").fill(
        "Japan leaves")
    choose(page, "Partners out", "JP")
    solve_and_save(page, "Japan leaves")
    assert_no_exception(page)
    screenshot(page, artifacts / "scenarios.png")

    page.reload()  # saved scenarios outlive the session
    page.locator("h1").first.wait_for()
    settle(page)
    open_page(page, "Scenarios")
    # the newest saved scenario is described under the store's table
    page.get_by_text("Japan leaves (version 1): partners leave: JP.").wait_for()

    open_page(page, "Compare")
    page.get_by_text("Save the workbook in use as a baseline").click()
    save = page.get_by_role("button", name="Solve and save")
    save.wait_for()  # the expander is open
    settle(page)
    save.click()
    try:
        page.get_by_text("baseline is saved (version 1).").wait_for()
    except sync_api.TimeoutError:
        screenshot(page, artifacts / "compare-failed.png")
        raise
    settle(page)
    page.get_by_text("Scenarios against baseline").wait_for()
    assert_no_exception(page)
    japan = procure.Scenario(base=procure.datasets.load_demo(), name="Japan leaves",
                             remove_partners=["JP"]).solve(time_limit=60)
    # the waterfall ends on the scenario's total (its label is drawn in the chart)
    page.get_by_text(f"{round(japan.total_cost):,}", exact=True).first.wait_for()
    screenshot(page, artifacts / "compare.png")
    readme_shot(page, artifacts / "readme-compare.png")


def test_fair_shares_run_on_worker_processes_under_streamlit(page, artifacts, tmp_path):
    """The many-solve pool spawns processes that re-import app.py: they must not draw the app.
    A four-partner cut of the demo (15 coalitions) on two workers."""
    from procure.data.writer import write_workbook

    demo = procure.datasets.load_demo()
    others = sorted(set(demo.partners["partner"]) - {"DE", "FR", "PL", "NO"})
    small = procure.Scenario(base=demo, name="four", remove_partners=others).apply()
    path = tmp_path / "four.xlsx"
    write_workbook(small, path)
    open_page(page, "Data")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("four.xlsx is read and valid.").wait_for()
    settle(page)
    open_page(page, "Fair shares")
    page.get_by_role("button", name="Compute fair shares").click()
    page.get_by_text("15 coalitions solved").wait_for()
    settle(page)
    assert_no_exception(page)
    screenshot(page, artifacts / "fair-shares.png")


def test_a_broken_upload_shows_its_problems(page, artifacts, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(demo_bytes(Demand_D48=-5))
    open_page(page, "Data")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("broken.xlsx cannot be used").first.wait_for()
    settle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    screenshot(page, artifacts / "data-problems.png")
    open_page(page, "Plan")
    assert page.locator('[data-testid="stMetricValue"]').count() == 0
    assert_no_exception(page)
