"""What every command shares: exit codes, JSON output, checks of output paths."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from procure.data.jsonable import json_ready

EXIT_OK, EXIT_NO_PLAN, EXIT_INPUT = 0, 1, 2


def problem_record(p) -> dict:
    """One :class:`procure.Problem` as a JSON-ready dict."""
    return {"sheet": p.sheet, "row": p.row, "column": p.column,
            "value": None if p.value is None else str(p.value), "message": p.message, "fix": p.fix}


def print_json(obj) -> None:
    """Exactly one JSON object on stdout."""
    print(json.dumps(json_ready(obj)))


def report(args, figure, payload, human, *, files=()) -> None:
    """How every analysis command ends: the chart first (``--plot``: a self-contained HTML
    file, ``figure()`` builds it), then one JSON object (``--json``: ``payload()``) or the human
    output (``human()``) followed by the files written (``files`` and the chart)."""
    plot = getattr(args, "plot", None)
    if plot:
        figure().write_html(plot, include_plotlyjs=True, full_html=True)
    if args.json:
        print_json(payload())
        return
    human()
    for path in (*files, plot):
        if path:
            print(f"written to {path}")


def check_out(path: Path | None, suffix: str = ".xlsx") -> None:
    if path is not None and path.suffix.lower() != suffix:
        raise ValueError(f"output {path} must end in {suffix}")


@contextlib.contextmanager
def progress_bar(description: str, *, enabled: bool = True):
    """A ``progress(done, total)`` callable drawing a tqdm bar on stderr (solves done, solves
    per second, time left) when stderr is a terminal; None otherwise, so that pipes, logs and
    ``--json`` output stay clean (the bar never touches stdout)."""
    stream = sys.stderr
    if not enabled or not getattr(stream, "isatty", lambda: False)():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=0, desc=description, unit="solve", file=stream, dynamic_ncols=True, leave=False,
               bar_format="{desc}: {n_fmt}/{total_fmt} solves |{bar}| {rate_fmt}, {remaining} left")

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def parse_range(text: str, what: str) -> tuple[float, float, float]:
    """``A:B:STEP`` as three numbers (``--share 0.5:0.9:0.05``)."""
    parts = text.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{what} takes START:STOP:STEP, e.g. 0.5:0.9:0.05 (got {text!r})") from None
    return start, stop, step
