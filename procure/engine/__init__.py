"""The engine: the model (:mod:`.model`), the solvers behind one door (:mod:`.backends`,
:mod:`.pulp_door`), one solve (:mod:`.solve`), its result tables (:mod:`.results`,
:mod:`.report`) and the diagnosis of an infeasible plan (:mod:`.diagnose`).
"""
