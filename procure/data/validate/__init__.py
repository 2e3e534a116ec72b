"""Check raw tables against the contract (docs/model.md, sections 1 and 3) and build :class:`ProcureData`.

:func:`validate_tables` is the only way a :class:`~procure.data.ProcureData` is made.  It takes
the raw tables of a workbook (:func:`procure.data.io.read_tables`) or DataFrames given by an analyst,
checks everything, and either returns typed, clean data or raises one
:class:`~procure.data.errors.InputError` listing *every* problem found, each located by sheet, Excel
row and column, with the bad value and a concrete fix.

Everything about sheets and columns comes from :data:`procure.data.schema.SHEETS`.

The checks are split by what they look at: :mod:`.context` (the raw tables, the
:data:`BAD` marker, the problems a run collects, shared value helpers), :mod:`.cells` (one
cell to a typed value), :mod:`.sheets` (one sheet: header, columns, required cells,
keys), :mod:`.references` (what one sheet names, another defines), :mod:`.rules` (the
Rules sheet) and :mod:`.core` (:func:`validate_tables`, settings, building the data).
"""

# ``X as X``: not in __all__, but imported from here by the reader
# (procure.data.io), the template and the scenario keys
from procure.data.validate.cells import MAX_ABS_NUMBER
from procure.data.validate.context import BAD as BAD
from procure.data.validate.context import HELP_SHEET as HELP_SHEET
from procure.data.validate.context import RawTables, table_attribute
from procure.data.validate.context import _is_blank as _is_blank
from procure.data.validate.core import validate_tables
from procure.data.validate.references import _known_list as _known_list
from procure.data.validate.sheets import _column_letter as _column_letter
from procure.data.validate.sheets import _header_text as _header_text

__all__ = ["RawTables", "validate_tables", "table_attribute", "MAX_ABS_NUMBER"]
