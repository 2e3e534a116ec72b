"""procure: cooperative defence procurement.

Several nations pool their demand; procure picks which supplier delivers what to
whom and when at the lowest total cost, under supplier capacity and each
nation's sovereignty rules, and shows what pooling saves each of them.

DataFrames in, DataFrames out::

    >>> import procure
    >>> data = procure.datasets.load_demo()          # or procure.read_workbook("plan.xlsx")
    >>> result = procure.solve(data, time_limit=30)
    >>> result.status.value
    'optimal'
    >>> list(result.allocation.columns[:4])
    ['partner', 'item', 'demand_item', 'supplier']
"""

from __future__ import annotations

from procure import datasets
from procure.analysis.scenario import Scenario
from procure.data.errors import InputError, Problem
from procure.data.io import read_tables, read_workbook
from procure.data.tables import ProcureData
from procure.data.template import write_template
from procure.data.validate import validate_tables
from procure.engine.diagnose import Conflict, Diagnosis
from procure.engine.model import Model, build_model
from procure.engine.results import Result
from procure.engine.solve import solve
from procure.engine.status import Status

__version__ = "0.1.0"

__all__ = [
    "Conflict",
    "Diagnosis",
    "InputError",
    "Model",
    "Problem",
    "ProcureData",
    "Result",
    "Scenario",
    "Status",
    "build_model",
    "datasets",
    "read_tables",
    "read_workbook",
    "solve",
    "validate_tables",
    "write_template",
]
