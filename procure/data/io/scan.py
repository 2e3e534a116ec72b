"""A streaming scan of one sheet's XML, before calamine reads the sheet.

:func:`_scan_sheet` finds the sheet's used area, so that a sheet whose rows x columns
would not fit in memory is refused (:class:`_TooBig`) before calamine allocates it, and
the cells calamine would silently misread: formulas without a saved value, Excel error
values and formulas that refer to another workbook.  The usual XML shape is scanned with
byte counts and regular expressions (:func:`_scan_fast`); any other shape with the XML
pull parser (:func:`_scan_slow`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from procure.data.io.archive import _inflate
from procure.data.io.bounds import MiB, _Refused

#: problems listed per sheet and kind (formula without value, error value, ...) before
#: the rest are summed up in one line
_LIST_LIMIT = 20


@dataclass
class _Scan:
    rows: int = 0  # largest row number used (a bound, exact when ``exact``)
    cols: int = 0  # largest column number used
    exact: bool = False
    #: (row, column index from 0, value) of cells to report
    no_value: list[tuple[int, int, str]] = field(default_factory=list)
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    external: list[tuple[int, int, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"no_value": 0, "errors": 0,
                                                             "external": 0})

    def note(self, kind: str, row: int, col: int, text: str) -> None:
        self.counts[kind] += 1
        found = getattr(self, kind)
        if len(found) < _LIST_LIMIT:
            found.append((row, col, text))


class _Slow(Exception):
    """The sheet XML is not in the usual shape: scan it with the XML parser."""


class _TooBig(Exception):
    pass


_COLS = re.compile(rb'<c r="([A-Z]+)[0-9]')
_DEEP = re.compile(rb'<(?:c r="[A-Z]+|row r=")([0-9]{7,})"')
_CELL_ROWS = re.compile(rb'<c r="[A-Z]+([0-9]+)"')
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"([^>]*)>(<f[\s>/].*?)</c>', re.S)
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?\st="e"[^>]*>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_FORMULA_TEXT = re.compile(rb"<f[^>]*>([^<]*)</f>")
_ODD_TAG = re.compile(rb"<(?:c|row)[>/\t\r\n]|<[A-Za-z_][\w.-]*:(?:c|row|f|v)\b")
#: a reference to another workbook: [1]Sheet!A1 as Excel stores it, or [book.xlsx]Sheet!A1
_EXTERNAL_REF = re.compile(r"\[(?:\d+|[^\]]*\.xl\w*)\]", re.I)
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,9})$")


def _col_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
    return n


def _unescape(text: bytes) -> str:
    s = text.decode("utf-8", "replace")
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _check_size(scan: _Scan, lim: dict[str, int]) -> None:
    if scan.rows > lim["MAX_ROWS"] or scan.rows * scan.cols > lim["MAX_CELLS"]:
        raise _TooBig


def _formula_cells(piece: bytes, scan: _Scan) -> None:
    for m in _FORMULA_CELL.finditer(piece):
        col, row = _col_number(m.group(1)) - 1, int(m.group(2))
        attrs, body = m.group(3), m.group(4)
        f = _FORMULA_TEXT.search(body)
        formula = _unescape(f.group(1)) if f else ""
        if formula and _EXTERNAL_REF.search(formula):
            scan.note("external", row, col, "=" + formula)
            continue
        v = _VALUE.search(body)
        if v is None or (v.group(1) == b"" and b't="str"' not in attrs):
            scan.note("no_value", row, col, ("=" + formula) if formula else "(shared formula)")


def _error_cells(piece: bytes, scan: _Scan) -> None:
    for m in _ERROR_CELL.finditer(piece):
        v = _VALUE.search(m.group(3))
        scan.note("errors", int(m.group(2)), _col_number(m.group(1)) - 1,
                  _unescape(v.group(1)) if v else "#ERROR")


def _scan_fast(f, info: zipfile.ZipInfo, lim: dict[str, int], exact: bool) -> _Scan:
    """Scan sheet XML as Excel (and openpyxl, LibreOffice, ...) write it, with byte counts and
    regular expressions; raises :class:`_Slow` when the XML has another shape."""
    scan = _Scan(exact=exact)
    carry = b""
    first = True
    for chunk in _inflate(f, info):
        buf = carry + chunk
        cut = buf.rfind(b"</row>")
        cut = cut + 6 if cut >= 0 else buf.rfind(b"</c>") + 4 if b"</c>" in buf else 0
        piece, carry = buf[:cut], buf[cut:]
        if len(carry) > 16 * MiB:
            raise _Slow
        if first and piece:
            first = False
            head = piece[:4096]
            if b"<worksheet" not in head or b"<!" in head:
                raise _Slow
        _scan_piece(piece, scan, lim, exact)
    _scan_piece(carry, scan, lim, exact)
    if not exact and scan.rows < 999_999 and scan.counts.get("deep", 0) == 0:
        # no row number of 7 digits: the used area has at most 999,999 rows
        scan.rows = max(scan.rows, 999_999 if scan.cols else 0)
    return scan


def _scan_piece(piece: bytes, scan: _Scan, lim: dict[str, int], exact: bool) -> None:
    if not piece:
        return
    if b"<!" in piece or b"='" in piece or _ODD_TAG.search(piece):
        raise _Slow
    n_c = piece.count(b"<c ")
    if n_c != piece.count(b'<c r="') or piece.count(b"<row ") != piece.count(b'<row r="'):
        raise _Slow
    letters = _COLS.findall(piece)
    if len(letters) != n_c:
        raise _Slow
    if letters:
        widest = max(set(letters), key=lambda b: (len(b), b))
        scan.cols = max(scan.cols, _col_number(widest))
    deep = _DEEP.findall(piece)
    if deep:
        scan.counts["deep"] = scan.counts.get("deep", 0) + 1
        scan.rows = max(scan.rows, max(int(d) for d in deep))
    if exact and n_c:
        scan.rows = max(scan.rows, max(map(int, _CELL_ROWS.findall(piece))))
    if deep or exact:
        _check_size(scan, lim)
    if b"<f" in piece:
        _formula_cells(piece, scan)
    if b't="e"' in piece:
        _error_cells(piece, scan)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _scan_slow(f, info: zipfile.ZipInfo, lim: dict[str, int]) -> _Scan:
    """Scan any well-formed sheet XML with the (expat) pull parser: slower, exact."""
    scan = _Scan(exact=True)
    parser = ET.XMLPullParser(events=("start", "end"))
    row = 0
    col = -1
    cell: dict = {}
    for chunk in _inflate(f, info):
        if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
            raise _Refused("the sheet declares a DOCTYPE or entities (Excel never does)")
        try:
            parser.feed(chunk)
            events = list(parser.read_events())
        except ET.ParseError as exc:
            raise _Refused(f"the sheet XML is not well-formed ({exc})") from None
        for event, el in events:
            tag = _local(el.tag)
            if event == "start":
                if tag == "row":
                    r = el.get("r")
                    row = int(r) if r and r.isdigit() else row + 1
                    col = -1
                elif tag == "c":
                    ref = el.get("r")
                    m = _REF.match(ref) if ref else None
                    if ref and m is None:
                        raise _Refused(f"cell reference {ref!r} is not valid")
                    if m:
                        col, crow = _col_number(m.group(1)) - 1, int(m.group(2))
                    else:
                        col, crow = col + 1, row
                    cell = {"row": crow, "col": col, "t": el.get("t", ""), "f": None, "v": None}
                    scan.rows = max(scan.rows, crow)
                    scan.cols = max(scan.cols, col + 1)
                    _check_size(scan, lim)
            else:
                if tag == "f" and cell:
                    cell["f"] = el.text or ""
                elif tag == "v" and cell:
                    cell["v"] = el.text or ""
                elif tag == "c" and cell:
                    r, c, formula = cell["row"], cell["col"], cell["f"]
                    if cell["t"] == "e":
                        scan.note("errors", r, c, cell["v"] or "#ERROR")
                    elif formula is not None:
                        if formula and _EXTERNAL_REF.search(formula):
                            scan.note("external", r, c, "=" + formula)
                        elif not cell["v"] and not (cell["v"] == "" and cell["t"] == "str"):
                            scan.note("no_value", r, c,
                                      "=" + formula if formula else "(shared formula)")
                    cell = {}
                elif tag == "row":
                    el.clear()
    try:
        parser.close()
    except ET.ParseError as exc:
        raise _Refused(f"the sheet XML is not well-formed ({exc})") from None
    return scan


def _scan_sheet(f, info: zipfile.ZipInfo, lim: dict[str, int]) -> _Scan:
    try:
        scan = _scan_fast(f, info, lim, exact=False)
        if scan.rows > lim["MAX_ROWS"] or scan.rows * scan.cols > lim["MAX_CELLS"]:
            scan = _scan_fast(f, info, lim, exact=True)
    except _Slow:
        scan = _scan_slow(f, info, lim)
    _check_size(scan, lim)
    return scan
