"""From solver values to the result tables (docs/model.md, section 5; every column in docs/results.md).

Everything here is read off the solution by block name; the purchase cost of
each offer is recomputed from its pooled quantity and the tier it reached, so
the reported unit price is exactly the contract's (the tier with the largest
min_quantity <= Q for all-units; cost(Q)/Q for incremental).

* :mod:`.core`: :class:`Result`, :func:`make_result` and the status sentences;
* :mod:`.values`: solver noise set to 0 (:data:`ZERO_RTOL`), integers rounded;
* :mod:`.tables`: offers, allocation, fulfilment, partner costs, supplier and offer use;
* :mod:`.rules`: the Rules table, with the N-1 rules' best re-coveries;
* :mod:`.duals`: marginal costs and values.
"""

from procure.engine.results.core import (
    Result,
    above_best,
    empty_result,
    make_result,
    marginal_sentences,
    percent,
    status_sentence,
)
from procure.engine.results.rules import rule_label
from procure.engine.results.values import ZERO_RTOL, clean_values, column_scale
from procure.engine.status import DUALS_BASIS

__all__ = ["DUALS_BASIS", "ZERO_RTOL", "Result", "above_best", "clean_values", "column_scale",
           "empty_result", "make_result", "marginal_sentences", "percent", "rule_label",
           "status_sentence"]
