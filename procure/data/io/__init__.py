"""Reading a planner's workbook (``.xlsx``) into raw tables, then into :class:`ProcureData`.

Reading and validation are separate steps: :func:`read_tables` only turns sheets into raw
DataFrames (cell values as Excel holds them, index = Excel row number);
:func:`procure.data.validate.validate_tables` checks them.  :func:`read_workbook` does both.

The input file is opened read-only and never written to.

Before any sheet is handed to calamine, the file is inspected as a zip archive with
:mod:`zipfile` and a streaming inflater of our own (see ``docs/input-limits.md``):

* not a zip, a truncated or damaged zip, a password-protected (encrypted) workbook, or a zip
  that is not a workbook: refused with :class:`InputError`;
* macros (``vbaProject.bin``, even in a file named ``.xlsx``): refused;
* a zip bomb: the declared sizes are checked against :data:`MAX_UNCOMPRESSED_MB` and
  :data:`MAX_RATIO` before anything is inflated, and every part that is read is inflated by
  us first, in bounded chunks, stopping as soon as it outgrows its declared size;
* each sheet read is scanned (streamed) for its used area, so that a sheet whose rows x
  columns would not fit in memory (:data:`MAX_ROWS`, :data:`MAX_CELLS`) is refused *before*
  calamine allocates it; the same scan finds formulas without a cached value, Excel error
  values (``#DIV/0!``) and formulas that refer to another workbook, which calamine would
  silently read as blank or as a stale value.

The modules, in the order a file meets them: :mod:`.bounds` (the limits and how reading
fails), :mod:`.archive` (the path and the zip), :mod:`.scan` (each sheet's XML, streamed),
:mod:`.sheets` (calamine's rows to a raw table) and :mod:`.reader` (:func:`read_tables`,
:func:`read_workbook`).
"""

from procure.data.io.bounds import (
    MAX_CELLS,
    MAX_FILE_MB,
    MAX_PARTS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_UNCOMPRESSED_MB,
    RATIO_FLOOR_MB,
    limits,
)
from procure.data.io.reader import read_tables, read_workbook
from procure.data.validate import RawTables

__all__ = [
    "read_tables",
    "read_workbook",
    "RawTables",
    "limits",
    "MAX_FILE_MB",
    "MAX_UNCOMPRESSED_MB",
    "MAX_RATIO",
    "RATIO_FLOOR_MB",
    "MAX_ROWS",
    "MAX_CELLS",
    "MAX_PARTS",
]
