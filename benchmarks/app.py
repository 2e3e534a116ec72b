"""The app's speed: the demo's first render and a second, cached Solve (medians).

    python -m benchmarks.app apptest --repeats 5     # in process, through streamlit's AppTest
    python -m benchmarks.app browser --repeats 3     # a real server and Debian's chromium

``apptest``: each repeat is a fresh Python process (cold imports and caches): the time to
import and render the Plan page of a new session (the demo read, solved, every chart drawn),
then the same session pressing Solve with unchanged options (the cache answers), then a
second session in the same process (another user opening the app).

``browser``: each repeat starts ``streamlit run app.py`` afresh and measures what a user
waits for: from the server's start, and from opening the page, until the total cost is on
screen; then pressing Solve again with unchanged options until the page has settled.

Results and the exact commands are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _one_apptest() -> dict:
    """One cold process: first render, cached re-solve, a second session."""
    start = time.perf_counter()
    from streamlit.testing.v1 import AppTest

    imported = time.perf_counter() - start
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    assert not at.exception and at.metric, "the Plan page did not render"
    total = next(m.value for m in at.metric if m.label == "Total cost")
    t = time.perf_counter()
    next(b for b in at.button if b.label == "Solve").click()
    at.run()
    again = time.perf_counter() - t
    t = time.perf_counter()
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    second_session = time.perf_counter() - t
    assert not other.exception
    return {"import_s": imported, "first_render_s": first, "first_total_s": imported + first,
            "cached_solve_s": again, "second_session_s": second_session, "total": total}


def apptest(ns) -> None:
    runs = []
    for _ in range(ns.repeats):
        out = subprocess.run([sys.executable, "-m", "benchmarks.app", "_one"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"AppTest, medians of {ns.repeats} fresh processes (total shown: {runs[0]['total']})")
    for key, label in (("import_s", "import streamlit"),
                       ("first_render_s", "first render of the Plan page (demo read + solved)"),
                       ("first_total_s", "import + first render"),
                       ("cached_solve_s", "Solve again, unchanged inputs"),
                       ("second_session_s", "a second session opening the app")):
        values = [r[key] for r in runs]
        print(f"  {label:<52} {statistics.median(values):7.3f} s  "
              f"(min {min(values):.3f}, max {max(values):.3f})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("streamlit did not start")


def _settle(tab) -> None:
    tab.wait_for_timeout(200)
    tab.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def browser(ns) -> None:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(ns.repeats):
                port = _free_port()
                url = f"http://127.0.0.1:{port}"
                started = time.perf_counter()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless",
                     "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
                    cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    _wait_healthy(url, proc)
                    healthy = time.perf_counter() - started
                    tab = chromium.new_page(viewport={"width": 1400, "height": 1000})
                    tab.set_default_timeout(120_000)
                    opened = time.perf_counter()
                    tab.goto(url)
                    tab.locator('[data-testid="stMetricValue"]').first.wait_for()
                    shown = time.perf_counter()
                    _settle(tab)
                    settled = time.perf_counter()
                    tab.get_by_text("Solver options").first.click()
                    t = time.perf_counter()
                    tab.get_by_role("button", name="Solve").click()
                    _settle(tab)
                    again = time.perf_counter() - t
                    tab.close()
                    rows.append({"server_start_s": healthy, "page_to_total_s": shown - opened,
                                 "page_to_settled_s": settled - opened,
                                 "start_to_total_s": shown - started, "cached_solve_s": again})
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
        finally:
            chromium.close()
    print(f"real browser (chromium), medians of {ns.repeats} fresh servers")
    for key, label in (("server_start_s", "streamlit run until healthy"),
                       ("page_to_total_s", "open the page until the total cost shows"),
                       ("page_to_settled_s", "open the page until every chart is drawn"),
                       ("start_to_total_s", "streamlit run until the total cost shows"),
                       ("cached_solve_s", "Solve again, unchanged inputs (until settled)")):
        values = [r[key] for r in rows]
        print(f"  {label:<48} {statistics.median(values):7.3f} s  "
              f"(min {min(values):.3f}, max {max(values):.3f})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.app")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("apptest")
    a.add_argument("--repeats", type=int, default=5)
    b = sub.add_parser("browser")
    b.add_argument("--repeats", type=int, default=3)
    sub.add_parser("_one")
    ns = p.parse_args(argv)
    if ns.cmd == "_one":
        print(json.dumps(_one_apptest()))
    elif ns.cmd == "apptest":
        apptest(ns)
    else:
        browser(ns)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
