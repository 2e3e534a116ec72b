"""The limits of what is read, and the two ways reading a file fails.

Each limit is a module constant (:data:`MAX_FILE_MB`, :data:`MAX_UNCOMPRESSED_MB`,
:data:`MAX_RATIO`, :data:`RATIO_FLOOR_MB`, :data:`MAX_ROWS`, :data:`MAX_CELLS`,
:data:`MAX_PARTS`) that an environment variable overrides for one run; :func:`limits`
returns the limits in force (docs/input-limits.md).  Shared by every stage of reading:
:func:`_fail` (an :class:`InputError` about the whole file), :class:`_Refused` (a part of
the zip that must not be read) and the usual fix, :data:`_SAVE_AS`.
"""

from __future__ import annotations

import os

from procure.data.errors import InputError, Problem

MiB = 1 << 20

#: largest ``.xlsx`` file read, in MiB (env ``PROCURE_MAX_FILE_MB``)
MAX_FILE_MB = 512
#: largest total uncompressed size of the parts of the workbook, in MiB
#: (env ``PROCURE_MAX_UNCOMPRESSED_MB``)
MAX_UNCOMPRESSED_MB = 512
#: a part that inflates to more than :data:`RATIO_FLOOR_MB` and to more than this many times
#: its compressed size is a zip bomb (env ``PROCURE_MAX_RATIO``)
MAX_RATIO = 200
#: see :data:`MAX_RATIO` (env ``PROCURE_RATIO_FLOOR_MB``)
RATIO_FLOOR_MB = 50
#: most rows in one sheet (Excel's own limit; env ``PROCURE_MAX_ROWS``)
MAX_ROWS = 1_048_576
#: most cells in the used area (rows x columns) of one sheet (env ``PROCURE_MAX_CELLS``);
#: calamine holds the used area as a dense grid of 32-byte cells
MAX_CELLS = 20_000_000
#: most parts (files) in the zip (env ``PROCURE_MAX_PARTS``)
MAX_PARTS = 10_000

_ENV = {
    "MAX_FILE_MB": "PROCURE_MAX_FILE_MB",
    "MAX_UNCOMPRESSED_MB": "PROCURE_MAX_UNCOMPRESSED_MB",
    "MAX_RATIO": "PROCURE_MAX_RATIO",
    "RATIO_FLOOR_MB": "PROCURE_RATIO_FLOOR_MB",
    "MAX_ROWS": "PROCURE_MAX_ROWS",
    "MAX_CELLS": "PROCURE_MAX_CELLS",
    "MAX_PARTS": "PROCURE_MAX_PARTS",
}


def limits() -> dict[str, int]:
    """The limits in force: each module constant, unless its environment variable is set."""
    out = {}
    for name, env in _ENV.items():
        value = globals()[name]
        text = os.environ.get(env, "").strip()
        if text:
            try:
                value = int(float(text))
            except ValueError:
                raise _fail(f"environment variable {env}={text!r} is not a number",
                            f"set {env} to a positive whole number, or unset it") from None
            if value <= 0:
                raise _fail(f"environment variable {env}={text!r} must be positive",
                            f"set {env} to a positive whole number, or unset it")
        out[name] = value
    return out


_SAVE_AS = "open it in Excel and save as .xlsx (Excel Workbook)"


def _fail(message: str, fix: str, value: object = None) -> InputError:
    return InputError([Problem(None, None, None, value, message, fix)])


class _Refused(Exception):
    """A part of the zip that must not be read (size, damage); becomes an InputError."""
