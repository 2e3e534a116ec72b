"""The analysis layer: many solves of one workbook. Coalitions and fair shares
(:mod:`.sharing`, with the warm-LP branch and bound of :mod:`.branch`) and games on a
Dask cluster (:mod:`.distributed`).
"""
