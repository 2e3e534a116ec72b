"""Scenarios: a base workbook and a list of changes, from a TOML file or built in code.

See :class:`Scenario` and docs/scenarios.md (every key, and what each mistake looks like).
"""

from procure.analysis.scenario.core import Scenario

__all__ = ["Scenario"]
