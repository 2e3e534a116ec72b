"""The data layer: the workbook contract (:mod:`.schema`), reading (:mod:`.io`), validation
(:mod:`.validate`), the blank template and the validated tables (:class:`ProcureData`).

Nothing here knows of models or solvers; every layer above reads a :class:`ProcureData`.
"""

from procure.data.errors import InputError, Problem
from procure.data.tables import ProcureData, period_sort_key

__all__ = ["InputError", "Problem", "ProcureData", "period_sort_key"]
