"""The model as arrays: columns, rows and one sparse matrix.

Constraint families append blocks of variables and rows to a
:class:`ModelBuilder`; :meth:`ModelBuilder.finish` stacks them into one CSC
matrix (duplicate (row, column) entries are summed, so a family may emit the
same variable twice in a row, as workshare does) and returns a :class:`Model`.

Every variable and row belongs to a named block whose ``index`` DataFrame says
what each position means, so results, duals and diagnoses are read back by
name, never by guessing positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

INF = np.inf


@dataclass
class Block:
    """A contiguous run of variables or rows, with what each one is."""

    name: str
    start: int
    stop: int
    index: pd.DataFrame

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def positions(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


@dataclass
class Model:
    """A mixed-integer linear programme: min c'x s.t. row_lower <= A x <= row_upper, bounds."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray  # bool: binary or whole-number column
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    variables: dict[str, Block]
    constraints: dict[str, Block]
    #: anything the families want results to know (rule reports, tier layout, ...)
    extras: dict = field(default_factory=dict)

    @property
    def num_cols(self) -> int:
        return len(self.col_cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    def summary(self) -> dict[str, int]:
        return {
            "variables": self.num_cols,
            "binaries": int((self.integrality & (self.col_upper <= 1)).sum()),
            "integers": int((self.integrality & (self.col_upper > 1)).sum()),
            "constraints": self.num_rows,
            "nonzeros": int(self.matrix.nnz),
        }

    def block_of_row(self, row: int) -> Block:
        for block in self.constraints.values():
            if block.start <= row < block.stop:
                return block
        raise IndexError(row)

    def column_names(self) -> list[str]:
        """Unique, solver-safe names (used by the PuLP door and .lp/.mps export)."""
        return _names(self.variables, self.num_cols)

    def row_names(self) -> list[str]:
        return _names(self.constraints, self.num_rows)


def _names(blocks: dict[str, Block], n: int) -> list[str]:
    """``<block>_<position>_<ids>``: the position makes every name unique."""
    names: list[str] = [""] * n
    for block in blocks.values():
        for k, label in enumerate(_labels(block.index)):
            names[block.start + k] = f"{block.name}_{block.start + k}_{label}"
    return names


_SAFE = str.maketrans({c: "_" for c in " -+[]()<>=:/\\*^,;.!\"'#@&%$~`{}|?"})


def _text(column: pd.Series) -> pd.Series:
    """Column as plain text, blanks (None/NaN) as "": pandas 3's ``astype(str)`` keeps them NaN."""
    return pd.Series(["" if v is None or v != v else str(v) for v in column], index=column.index,
                     dtype=object)


def _labels(index: pd.DataFrame) -> list[str]:
    cols = [c for c in index.columns
            if index[c].dtype == object or str(index[c].dtype) in ("str", "string", "category")]
    if not cols or len(index) == 0:
        return [""] * len(index)
    joined = _text(index[cols[0]])
    for c in cols[1:4]:
        joined = joined + "_" + _text(index[c])
    # ids are user text; LP/MPS names must be plain and short
    return [s.translate(_SAFE)[:60] for s in joined.tolist()]


class ModelBuilder:
    """Collects variable and row blocks; see module docstring."""

    def __init__(self) -> None:
        self._cost: list[np.ndarray] = []
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._row_lower: list[np.ndarray] = []
        self._row_upper: list[np.ndarray] = []
        self.num_cols = 0
        self.num_rows = 0
        self.variables: dict[str, Block] = {}
        self.constraints: dict[str, Block] = {}
        self.extras: dict = {}

    def add_variables(
        self,
        name: str,
        index: pd.DataFrame,
        *,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = INF,
        cost: float | np.ndarray = 0.0,
        binary: bool = False,
        integer: bool | np.ndarray = False,
    ) -> np.ndarray:
        """Add one variable per row of ``index``; returns their column positions.
        ``binary``: 0/1 columns; ``integer``: whole-number columns (a flag per row, or one)."""
        if name in self.variables:
            raise ValueError(f"variable block {name!r} added twice")
        n = len(index)
        cost_arr = _full(cost, n, f"cost of {name}")
        lower_arr = _full(lower, n, f"lower bound of {name}")
        upper_arr = _full(upper, n, f"upper bound of {name}", allow_inf=True)
        if binary:
            upper_arr = np.minimum(upper_arr, 1.0)
        self._cost.append(cost_arr)
        self._lower.append(lower_arr)
        self._upper.append(upper_arr)
        self._integer.append(np.full(n, True) if binary
                             else np.broadcast_to(np.asarray(integer, dtype=bool), (n,)).copy())
        start = self.num_cols
        self.num_cols += n
        self.variables[name] = Block(name, start, self.num_cols, index.reset_index(drop=True))
        return np.arange(start, self.num_cols)

    def add_constraints(
        self,
        name: str,
        index: pd.DataFrame,
        row: np.ndarray,
        col: np.ndarray,
        coef: np.ndarray,
        *,
        lower: float | np.ndarray = -INF,
        upper: float | np.ndarray = INF,
    ) -> np.ndarray:
        """Add one row per row of ``index``.

        ``row`` holds, for each term, the position of its row within this block
        (0 .. len(index)-1); ``col`` the global column; ``coef`` the coefficient.
        """
        if name in self.constraints:
            raise ValueError(f"constraint block {name!r} added twice")
        n = len(index)
        row = np.asarray(row, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        coef = np.asarray(coef, dtype=np.float64)
        if not (len(row) == len(col) == len(coef)):
            raise ValueError(f"{name}: row, col and coef differ in length")
        if len(row) and (row.min() < 0 or row.max() >= n):
            raise ValueError(f"{name}: a term names a row outside the block")
        if len(col) and (col.min() < 0 or col.max() >= self.num_cols):
            raise ValueError(f"{name}: a term names an unknown column")
        if not np.isfinite(coef).all():
            raise ValueError(f"{name}: a coefficient is NaN or infinite")
        lower_arr = _full(lower, n, f"lower of {name}", allow_inf=True)
        upper_arr = _full(upper, n, f"upper of {name}", allow_inf=True)
        start = self.num_rows
        self._rows.append(row + start)
        self._cols.append(col)
        self._vals.append(coef)
        self._row_lower.append(lower_arr)
        self._row_upper.append(upper_arr)
        self.num_rows += n
        self.constraints[name] = Block(name, start, self.num_rows, index.reset_index(drop=True))
        return np.arange(start, self.num_rows)

    def finish(self) -> Model:
        def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

        rows = cat(self._rows, np.int64)
        cols = cat(self._cols, np.int64)
        vals = cat(self._vals, np.float64)
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.num_rows, self.num_cols))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return Model(
            col_cost=cat(self._cost, np.float64),
            col_lower=cat(self._lower, np.float64),
            col_upper=cat(self._upper, np.float64),
            integrality=cat(self._integer, bool),
            matrix=matrix,
            row_lower=cat(self._row_lower, np.float64),
            row_upper=cat(self._row_upper, np.float64),
            variables=self.variables,
            constraints=self.constraints,
            extras=self.extras,
        )


def _full(value, n: int, what: str, allow_inf: bool = False) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{what}: {int(bad.sum())} value(s) are NaN" + ("" if allow_inf else " or infinite"))
    return arr
