"""The one exception type for bad input, and the problem records it carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as a planner would find it in Excel.

    ``row`` is the row number Excel shows (the header is row 1), or ``None`` for
    a problem with a whole sheet or column.

    ``where`` says what ``sheet`` names: a workbook ``"sheet"``, or, for a scenario, its
    ``"file"`` (``column`` is then the key, e.g. ``capacity[2].supplier``) or a
    ``"scenario"`` built in code (``sheet`` is its name).
    """

    sheet: str | None
    row: int | None
    column: str | None
    value: object
    message: str
    fix: str
    where: str = "sheet"

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"{self.where} '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"{'column' if self.where == 'sheet' else 'key'} '{self.column}'")
        head = ", ".join(where) if where else "workbook"
        shown = "" if self.value is None else f" (value: {self.value!r})"
        return f"{head}: {self.message}{shown}. Fix: {self.fix}"


class InputError(ValueError):
    """Raised when a workbook or tables break the contract; lists every problem at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.report())

    def report(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the input:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
