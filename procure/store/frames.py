"""Result tables as bytes: Apache Parquet (zstd), typed and compact.

Parquet keeps every column's type exactly (float64 bit for bit, int64, bool, categoricals),
is several times smaller than JSON for these tables and is read by any Arrow tool (pandas,
DuckDB, polars) straight from the database. pandas 3 reads text columns back as its string
dtype; the original dtypes are kept in the file's metadata, so a table comes back with the
dtypes it was saved with (a missing value in a text column comes back as ``None``, whether it
was ``None`` or NaN). A table Arrow cannot type (an object column mixing numbers and text,
which no result table has, but an analysis table might) is kept as JSON instead, with its
dtypes, and says so in its ``format``.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd

_DTYPES_KEY = b"procure.dtypes"


def encode_frame(frame: pd.DataFrame) -> tuple[str, bytes]:
    """``(format, content)`` of one table: ``"parquet"``, else ``"json"``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"a table must be a pandas DataFrame, not {type(frame).__name__}")
    dtypes = {str(c): str(t) for c, t in frame.dtypes.items()}
    for c, t in frame.dtypes.items():
        if isinstance(t, pd.CategoricalDtype) and t.categories.name is not None:
            dtypes[f"{c}.categories.name"] = t.categories.name
    try:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return "json", _json(frame, dtypes)
    meta = dict(table.schema.metadata or {})
    meta[_DTYPES_KEY] = json.dumps(dtypes).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer, compression="zstd")
    return "parquet", buffer.getvalue()


def decode_frame(fmt: str, content: bytes) -> pd.DataFrame:
    """The table :func:`encode_frame` encoded, with its dtypes."""
    if fmt == "json":
        spec = json.loads(content)
        frame = pd.DataFrame(spec["data"], columns=spec["columns"], dtype=object)
        return _restore(frame, spec["dtypes"])
    if fmt != "parquet":
        raise ValueError(f"unknown table format {fmt!r} (written by a newer procure?)")
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(content))
    dtypes = json.loads((table.schema.metadata or {}).get(_DTYPES_KEY, b"{}"))
    return _restore(table.to_pandas(), dtypes)


def _restore(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    for column in frame.columns:
        want = dtypes.get(str(column))
        col = frame[column]
        if want == "object" and col.dtype != object:
            frame[column] = col.astype(object).where(col.notna(), None)
        elif want == "category" and isinstance(col.dtype, pd.CategoricalDtype):
            cats = col.cat.categories
            if cats.dtype != object:  # text categories: as object, as they were
                frame[column] = col.cat.rename_categories(
                    pd.Index(cats.astype(object), dtype=object, name=dtypes.get(
                        f"{column}.categories.name", cats.name)))
        elif want is not None and want != str(col.dtype) and want != "object":
            try:
                frame[column] = col.astype(want)
            except (TypeError, ValueError):
                pass  # kept as read: the values are the same
    return frame


def _json(frame: pd.DataFrame, dtypes: dict[str, str]) -> bytes:
    def plain(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, float) and math.isinf(v):
            return str(v)
        return v if isinstance(v, (str, int, float, bool)) else str(v)

    data = [[plain(v) for v in row] for row in frame.to_numpy(dtype=object)]
    return json.dumps({"columns": [str(c) for c in frame.columns], "dtypes": dtypes,
                       "data": data}).encode()
