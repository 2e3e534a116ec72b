"""The many-solve engine: one workbook, many variants, one warm model.

Coalitions (fair shares), rule prices, sweeps, stress tests and Monte Carlo disruption all
ask the same thing: the cost (and perhaps a few numbers of the plan) of many small variations
of one workbook. Here each is a :class:`Variant`; :func:`solve_variants` solves them all on
one grand model changed by bounds (:mod:`.bounds`), by a warm-LP branch and bound with
HiGHS's MIP as fallback (:mod:`.engine`), in this process, on a local process pool or on a
Dask cluster (:mod:`.run`). A variant bounds cannot express is solved literally from its own
data, exactly.

    >>> import procure
    >>> from procure.analysis.many import Variant, solve_variants
    >>> data = procure.datasets.load_demo()
    >>> table = solve_variants(data, [Variant("all"), Variant("DE alone", members={"DE"})])
    >>> list(table["status"])
    ['optimal', 'optimal']
"""

from procure.analysis.many import extract
from procure.analysis.many.engine import ManyEngine, VariantResult
from procure.analysis.many.run import Progress, solve_variants
from procure.analysis.many.variants import Variant, coalition_data

__all__ = ["ManyEngine", "Progress", "Variant", "VariantResult", "coalition_data", "extract",
           "solve_variants"]
