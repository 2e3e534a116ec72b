"""Reading a planner's workbook (``.xlsx``) into raw tables, then into :class:`ProcureData`.

Reading and validation are separate steps: :func:`read_tables` only turns sheets into raw
DataFrames (cell values as Excel holds them, index = Excel row number);
:func:`procure.validate.validate_tables` checks them.  :func:`read_workbook` does both.

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
"""

from __future__ import annotations

import os
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook, ZipError

from procure.data.errors import InputError, Problem
from procure.data.schema import SHEETS
from procure.data.tables import ProcureData
from procure.data.validate import (
    BAD,
    HELP_SHEET,
    RawTables,
    _column_letter,
    _header_text,
    _is_blank,
    validate_tables,
)

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
#: largest workbook.xml, relationships or content types part, in MiB
_MAX_META_MB = 32
#: problems listed per sheet and kind (formula without value, error value, ...) before
#: the rest are summed up in one line
_LIST_LIMIT = 20

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

_REFUSED = {
    ".xlsm": "macro-enabled workbooks (.xlsm) are not accepted: procure never runs or keeps macros",
    ".xltx": "an Excel template (.xltx) is not a workbook",
    ".xltm": "a macro-enabled template (.xltm) is not accepted",
    ".xlsb": "binary workbooks (.xlsb) are not accepted",
    ".xls": "old Excel 97-2003 workbooks (.xls) are not accepted",
    ".ods": "OpenDocument spreadsheets (.ods) are not accepted",
    ".csv": "a CSV file holds a single table; procure needs one workbook with a sheet per table",
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


#: exceptions never turned into an input problem (everything else from calamine is: a Rust
#: panic reaches Python as pyo3's PanicException, a BaseException)
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


def _fail(message: str, fix: str, value: object = None) -> InputError:
    return InputError([Problem(None, None, None, value, message, fix)])


class _Refused(Exception):
    """A part of the zip that must not be read (size, damage); becomes an InputError."""


# --------------------------------------------------------------------------- zip level


def _inflate(f, info: zipfile.ZipInfo, chunk: int = 4 * MiB) -> Iterator[bytes]:
    """The bytes of one part, inflated by us in bounded chunks.

    Never trusts the declared size: stops with :class:`_Refused` as soon as the part outgrows
    it, and checks the CRC at the end.  Only *stored* and *deflated* parts (all Excel writes)
    are read.
    """
    if info.flag_bits & 0x1:
        raise _Refused(f"part {info.filename} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(f"part {info.filename} uses an unsupported compression method "
                       f"({info.compress_type})")
    f.seek(info.header_offset)
    head = f.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise _Refused(f"part {info.filename}: bad local header")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    f.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    total = 0
    crc = 0
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while True:
        raw = f.read(min(chunk, left)) if left > 0 else b""
        left -= len(raw)
        if not raw and left > 0:
            raise _Refused(f"part {info.filename} is truncated")
        pending = raw
        while True:
            if inflater is None:
                out, pending = pending, b""
            else:
                try:
                    out = inflater.decompress(pending, chunk) if pending else inflater.flush()
                except zlib.error as exc:
                    raise _Refused(f"part {info.filename} is damaged ({exc})") from None
                pending = inflater.unconsumed_tail
            if out:
                total += len(out)
                if total > info.file_size:
                    raise _Refused(f"part {info.filename} inflates to more than its declared "
                                   f"size ({info.file_size} bytes)")
                crc = zlib.crc32(out, crc)
                yield out
            if not pending:
                break
        if not raw:
            break
    if inflater is not None and not inflater.eof:
        raise _Refused(f"part {info.filename} is truncated")
    if total != info.file_size or crc != info.CRC:
        raise _Refused(f"part {info.filename} is damaged (size or checksum do not match)")


def _read_part(f, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > _MAX_META_MB * MiB:
        raise _Refused(f"part {info.filename} is too large ({info.file_size // MiB} MiB)")
    data = b"".join(_inflate(f, info))
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _Refused(f"part {info.filename} declares a DOCTYPE or entities (Excel never does)")
    return data


def _xml(data: bytes, name: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise _Refused(f"part {name} is not well-formed XML ({exc})") from None


@dataclass
class _SheetPart:
    name: str
    state: str  # visible, hidden, veryHidden
    info: zipfile.ZipInfo | None


@dataclass
class _Book:
    sheets: list[_SheetPart] = field(default_factory=list)
    external_links: list[str] = field(default_factory=list)


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (PurePosixPath(base).parent / target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _inspect_zip(path: Path, f, lim: dict[str, int]) -> tuple[zipfile.ZipFile, _Book]:
    size = os.fstat(f.fileno()).st_size
    if size > lim["MAX_FILE_MB"] * MiB:
        raise _fail(f"the file is too large ({size / MiB:.0f} MiB; the limit is "
                    f"{lim['MAX_FILE_MB']} MiB)",
                    "split the data, or raise PROCURE_MAX_FILE_MB if the file is trusted",
                    str(path))
    magic = f.read(8)
    f.seek(0)
    if magic == _OLE_MAGIC:
        raise _fail("the file is password-protected (encrypted) or an old .xls renamed .xlsx",
                    f"remove the password (File > Info > Protect Workbook), or {_SAVE_AS}",
                    str(path))
    if not magic.startswith(b"PK"):
        raise _fail("not a valid .xlsx file (it is not a zip archive)",
                    f"the file may be a CSV or an old .xls renamed, or damaged; {_SAVE_AS}",
                    str(path))
    try:
        zf = zipfile.ZipFile(f)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, KeyError, IndexError, struct.error, UnicodeDecodeError) as exc:
        raise _fail(f"not a valid .xlsx file (it is not a zip archive, or a truncated or "
                    f"damaged one: {exc})",
                    f"the file may be damaged or cut short (an interrupted download or copy); "
                    f"{_SAVE_AS}", str(path)) from None
    if len(infos) > lim["MAX_PARTS"]:
        raise _fail(f"the zip holds {len(infos)} parts (the limit is {lim['MAX_PARTS']})",
                    f"this is not an ordinary workbook; {_SAVE_AS}", str(path))
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        key = info.filename.replace("\\", "/").lower()
        if key in by_name:
            raise _fail(f"the zip holds two parts named {info.filename!r}",
                        f"the file is damaged or crafted; {_SAVE_AS}", str(path))
        by_name[key] = info
    macros = [i.filename for i in infos if PurePosixPath(i.filename.lower()).name
              in ("vbaproject.bin", "vbaprojectsignature.bin")]
    if macros:
        raise _fail("the workbook contains macros (VBA project "
                    f"{macros[0]!r}): procure never runs or keeps macros",
                    "save a copy without macros: File > Save As > Excel Workbook (.xlsx), "
                    "and read that copy", str(path))
    total = sum(i.file_size for i in infos)
    if total > lim["MAX_UNCOMPRESSED_MB"] * MiB:
        big = max(infos, key=lambda i: i.file_size)
        raise _fail(f"the workbook is too large once uncompressed ({total / MiB:.0f} MiB, "
                    f"{big.filename} alone {big.file_size / MiB:.0f} MiB; the limit is "
                    f"{lim['MAX_UNCOMPRESSED_MB']} MiB)",
                    "remove unused sheets and data, or raise PROCURE_MAX_UNCOMPRESSED_MB if "
                    "the file is trusted", str(path))
    for info in infos:
        if (info.file_size > lim["RATIO_FLOOR_MB"] * MiB
                and info.file_size > lim["MAX_RATIO"] * max(info.compress_size, 1)):
            raise _fail(f"part {info.filename} would inflate {info.file_size // max(info.compress_size, 1)} "
                        f"times to {info.file_size / MiB:.0f} MiB: refused as a zip bomb",
                        "this is not an ordinary workbook; do not open it", str(path))
    if "xl/workbook.xml" not in by_name:
        raise _fail("a zip file but not an Excel workbook (it has no xl/workbook.xml)",
                    f"a .docx, .ods or other file renamed .xlsx? {_SAVE_AS}", str(path))
    try:
        ctypes = by_name.get("[content_types].xml")
        if ctypes is not None and b"macroEnabled" in _read_part(f, ctypes):
            raise _fail("the workbook is macro-enabled (its content type says so)",
                        "save a copy without macros: File > Save As > Excel Workbook (.xlsx)",
                        str(path))
        book = _Book()
        wb_info = by_name["xl/workbook.xml"]
        root = _xml(_read_part(f, wb_info), wb_info.filename)
        targets: dict[str, str] = {}
        rels_info = by_name.get("xl/_rels/workbook.xml.rels")
        if rels_info is not None:
            for rel in _xml(_read_part(f, rels_info), rels_info.filename).iter(f"{{{_NS_PKG}}}Relationship"):
                targets[rel.get("Id", "")] = _resolve("xl/workbook.xml", rel.get("Target", ""))
        for el in root.iter(f"{{{_NS_MAIN}}}sheet"):
            part = targets.get(el.get(f"{{{_NS_REL}}}id", ""), "")
            book.sheets.append(_SheetPart(el.get("name", ""), el.get("state", "visible"),
                                          by_name.get(part.lower())))
        book.external_links = [i.filename for i in infos
                               if i.filename.lower().startswith("xl/externallinks/")
                               and i.filename.lower().endswith(".xml")]
        # parts calamine reads besides the sheets: inflate them once, so that a lying
        # declared size or a damaged part is caught here
        for key, info in by_name.items():
            if key.endswith(("sharedstrings.xml", "styles.xml")) and key.startswith("xl/"):
                for piece in _inflate(f, info):
                    if b"<!DOCTYPE" in piece or b"<!ENTITY" in piece:
                        raise _Refused(f"part {info.filename} declares a DOCTYPE or entities")
    except _Refused as exc:
        raise _fail(f"the workbook cannot be read: {exc}",
                    f"the file may be damaged or crafted; {_SAVE_AS}", str(path)) from None
    return zf, book


# --------------------------------------------------------------------------- sheet scan


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


# --------------------------------------------------------------------------- opening


def _open(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except _PASS_THROUGH:
        raise
    except ZipError as exc:
        raise _fail(f"not a valid .xlsx file (it is not a zip archive: {exc})",
                    f"the file may be a CSV or an old .xls renamed, or damaged; {_SAVE_AS}",
                    str(path)) from None
    except BaseException as exc:  # CalamineError, OSError, ..., and pyo3's PanicException
        raise _fail(f"the workbook cannot be read ({exc})",
                    f"the file may be damaged or password-protected; {_SAVE_AS}",
                    str(path)) from None


def _check_path(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix != ".xlsx":
        why = _REFUSED.get(suffix, f"'{path.name}' is not an .xlsx workbook")
        raise _fail(why, f"{_SAVE_AS}, then read that file", str(path))
    if not path.exists():
        raise _fail("file not found", "check the path and the file name", str(path))
    if path.is_dir():
        raise _fail("this is a folder, not a workbook", "give the path of the .xlsx file", str(path))
    if not path.is_file():
        raise _fail("this is not a regular file", "give the path of the .xlsx file", str(path))
    if not os.access(path, os.R_OK):
        raise _fail("the file cannot be read (permission denied)",
                    "check that you may read the file", str(path))


# --------------------------------------------------------------------------- sheets


def _header_row(sheet, rows: list[list], first: int) -> int | None:
    """Excel row (from ``first``) of a row that holds every required column name, if any."""
    need = {c.lower() for c in sheet.required_columns}
    for k in range(first, min(len(rows), first + 30)):
        labels = {_header_text(v).lower() for v in rows[k]}
        if need <= labels:
            return k + 1
    return None


def _sheet_frame(name: str, rows: list[list], out: RawTables,
                 marks: dict[tuple[int, int], object]) -> pd.DataFrame | None:
    """One sheet's cells (row 0 = Excel row 1) as a DataFrame indexed by Excel row.

    ``marks``: (Excel row, column index) -> value to put in place of what calamine read
    (:data:`~procure.validate.BAD` for a cell whose problem is already recorded).
    """
    sheet = SHEETS[[s for s in SHEETS if s.lower() == name.strip().lower()][0]]
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    header = list(rows[0]) + [""] * (width - len(rows[0]))
    if all(_is_blank(v) for v in header):
        first = next((k for k, r in enumerate(rows) if not all(_is_blank(v) for v in r)), None)
        if first is not None:
            found = _header_row(sheet, rows, first)
            if found is not None:
                out.problems.append(Problem(
                    sheet.name, 1, None, None,
                    f"the first row is empty: it must hold the column names, which seem to be "
                    f"in row {found}",
                    f"delete rows 1 to {found - 1} so that the column names are in row 1"))
            else:
                out.problems.append(Problem(
                    sheet.name, 1, None, None,
                    "the first row is empty: it must hold the column names",
                    "put the column names (" + ", ".join(sheet.column_names) + ") in row 1, "
                    "directly above the data"))
            out.broken.add(sheet.name.lower())
            return None
        return pd.DataFrame()
    labels = [_header_text(v) for v in header]
    lower = {label.lower() for label in labels}
    if any(c.lower() not in lower for c in sheet.required_columns):
        found = _header_row(sheet, rows, 1)
        if found is not None:
            out.problems.append(Problem(
                sheet.name, found, None, None,
                f"row {found} looks like the column names, but row 1 must hold them "
                f"(row 1 holds {', '.join(repr(v) for v in labels if v) or 'nothing'})",
                f"delete rows 1 to {found - 1} so that the column names are in row 1"))
            out.broken.add(sheet.name.lower())
            return None
    body_rows: list[int] = []
    for k in range(1, len(rows)):
        r = rows[k]
        if r.count("") == len(r) or all(_is_blank(v) for v in r):
            continue  # a blank row (a cell marked here has its problem recorded already)
        body_rows.append(k)
    keep = []
    for j, label in enumerate(labels):
        if label:
            keep.append(j)
            continue
        for k in body_rows:
            r = rows[k]
            if j < len(r) and not _is_blank(r[j]):
                out.problems.append(Problem(
                    sheet.name, k + 1, f"{_column_letter(j)} (no header)", r[j],
                    "data in a column with a blank header",
                    "give the column one of the names " + ", ".join(sheet.column_names)
                    + " in row 1, or delete its data"))
                break
    index = pd.Index([k + 1 for k in body_rows], dtype="int64")
    data = {}
    body = [rows[k] for k in body_rows]
    # calamine's rows are rectangular: transposing them in one step is much faster than
    # picking cells one by one
    columns = list(zip(*body, strict=True)) if body and all(len(r) == width for r in body) else None
    for j in keep:
        if columns is not None:
            col = list(columns[j])
        else:
            col = [r[j] if j < len(r) else "" for r in body]
        if marks:
            for pos, k in enumerate(body_rows):
                if (k + 1, j) in marks:
                    col[pos] = marks[(k + 1, j)]
        missing = np.flatnonzero(pd.isna(np.asarray(col, dtype=object))) if col else ()
        for pos in missing:
            v = col[pos]
            if type(v) is float:  # NaN: calamine reads <v>NaN</v>; Excel never writes it
                k = body_rows[pos]
                out.problems.append(Problem(
                    sheet.name, k + 1, _column_name(sheet.name, header, j), "NaN",
                    "the cell holds NaN (not a number), which Excel never writes",
                    "enter a number, or clear the cell"))
                col[pos] = BAD
        data[j] = pd.Series(col, index=index, dtype=object)
    frame = pd.DataFrame(data, index=index)
    frame.columns = [labels[j] for j in keep]
    return frame


def _column_name(sheet_name: str, header: list, col: int) -> str:
    """The contract column under a cell (or its letter when the header is not one)."""
    sheet = SHEETS[sheet_name]
    label = _header_text(header[col]) if col < len(header) else ""
    for c in sheet.columns:
        if c.name.lower() == label.lower():
            return c.name
    return _column_letter(col)


def _scan_problems(sheet_name: str, scan: _Scan, header: list, out: RawTables,
                   marks: dict[tuple[int, int], object]) -> None:
    kinds = {
        "no_value": ("a formula without a saved value: it would be read as blank",
                     "open the workbook in Excel, let it recalculate and save it (or replace "
                     "the formula by its value)"),
        "errors": ("an Excel error value ({value}) in the cell",
                   "correct the formula or the data it uses, or enter the value"),
        "external": ("the formula refers to another workbook; its value would be a stale "
                     "copy saved with this file",
                     "replace the formula by its value (Copy, then Paste Special > Values), "
                     "or copy the data into this workbook"),
    }
    for kind, (message, fix) in kinds.items():
        for row, col, value in getattr(scan, kind):
            marks[(row, col)] = BAD
            out.problems.append(Problem(sheet_name, row, _column_name(sheet_name, header, col),
                                        value, message.format(value=value), fix))
        more = scan.counts[kind] - len(getattr(scan, kind))
        if more > 0:
            out.problems.append(Problem(sheet_name, None, None, None,
                                        f"and {more} more cells like this: "
                                        + message.format(value="#...").split(":")[0], fix))
            out.broken.add(sheet_name.lower())


def _merged_problems(sheet_name: str, ranges, header: list, rows: list[list],
                     out: RawTables) -> None:
    width = len(header)
    used = len(rows)
    for (r0, c0), (r1, c1) in ranges or ():
        if r0 >= used or c0 >= width:
            continue
        text = f"{_column_letter(c0)}{r0 + 1}:{_column_letter(c1)}{r1 + 1}"
        out.problems.append(Problem(
            sheet_name, r0 + 1, _column_name(sheet_name, header, c0), text,
            f"merged cells {text}: only the top-left cell holds a value, the others would be "
            "read as blank",
            "unmerge them (Home > Merge & Center > Unmerge Cells) and fill in every cell"))


def read_tables(path: str | os.PathLike) -> RawTables:
    """Read the contract's sheets of an ``.xlsx`` workbook as raw tables.

    Returns a :class:`~procure.validate.RawTables`: sheet name (as written) -> DataFrame of raw
    cell values, indexed by Excel row number, with empty rows skipped.  Problems found while
    reading (a blank header above data, an empty first row, formulas without a saved value,
    error values, merged cells, a sheet too large) travel with it and are raised by
    :func:`~procure.validate.validate_tables` together with every other problem.  A file that
    cannot be read at all (not a zip, damaged, a zip bomb, macros) raises :class:`InputError`
    at once.
    """
    path = Path(path)
    _check_path(path)
    lim = limits()
    out = RawTables(source=str(path))
    known = {s.lower() for s in SHEETS}
    try:
        f = open(path, "rb")  # noqa: SIM115 -- closed below
    except OSError as exc:
        raise _fail(f"the file cannot be opened ({exc.strerror or exc})",
                    "check the path and that you may read the file", str(path)) from None
    with f:
        zf, book = _inspect_zip(path, f, lim)
        scans: dict[str, _Scan | None] = {}
        for part in book.sheets:
            if part.name.strip().lower() not in known or part.info is None:
                continue
            given = part.name.strip()
            schema_name = next(s for s in SHEETS if s.lower() == given.lower())
            try:
                scans[part.name] = _scan_sheet(f, part.info, lim)
            except _TooBig:
                scans[part.name] = None
                out.problems.append(Problem(
                    schema_name, None, None, None,
                    f"the sheet is too large to read (more than {lim['MAX_ROWS']:,} rows, or "
                    f"more than {lim['MAX_CELLS']:,} cells in its used area)",
                    "delete unused rows and columns (a stray value far down or far right "
                    "makes the used area huge), or raise PROCURE_MAX_ROWS / PROCURE_MAX_CELLS "
                    "if the file is trusted"))
                out.broken.add(schema_name.lower())
            except _Refused as exc:
                scans[part.name] = None
                out.problems.append(Problem(schema_name, None, None, None,
                                            f"the sheet cannot be read: {exc}",
                                            f"the file may be damaged or crafted; {_SAVE_AS}"))
                out.broken.add(schema_name.lower())
        zf.close()
    hidden = [p.name for p in book.sheets
              if p.state != "visible" and p.name.strip().lower() in known]
    if hidden:
        out.warnings.append("hidden sheets read like any other: "
                            + ", ".join(repr(n) for n in hidden))
    if book.external_links:
        out.warnings.append(
            "the workbook links to other workbooks (external links); no cell read by procure "
            "uses them, but check that none of its data is a copy of another file")
    wb = _open(path)
    ignored = []
    try:
        for name in wb.sheet_names:
            if name.strip().lower() not in known:
                ignored.append(name)
                continue
            schema_name = next(s for s in SHEETS if s.lower() == name.strip().lower())
            if name not in scans:
                out.problems.append(Problem(
                    schema_name, None, None, None,
                    "the sheet cannot be found in the workbook's parts, so it cannot be checked",
                    f"the file may be damaged; {_SAVE_AS}"))
                out.broken.add(schema_name.lower())
                continue
            scan = scans[name]
            if scan is None:
                continue
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=False)
                merged = sheet.merged_cell_ranges
            except _PASS_THROUGH:
                raise
            except BaseException as exc:  # CalamineError, ..., and pyo3's PanicException
                out.problems.append(Problem(schema_name, None, None, None,
                                            f"the sheet cannot be read: its XML is damaged "
                                            f"({exc})",
                                            f"the file may be damaged; {_SAVE_AS}"))
                out.broken.add(schema_name.lower())
                continue
            header = list(rows[0]) if rows else []
            marks: dict[tuple[int, int], object] = {}
            _scan_problems(schema_name, scan, header, out, marks)
            _merged_problems(schema_name, merged, header, rows, out)
            frame = _sheet_frame(name, rows, out, marks)
            if frame is not None:
                out[name] = frame
    finally:
        wb.close()
    ignored = [n for n in ignored if n.strip().lower() != HELP_SHEET.lower()]
    if ignored:
        out.warnings.append("sheets ignored (not part of the contract): "
                            + ", ".join(repr(n) for n in ignored))
    return out


def read_workbook(path: str | os.PathLike) -> ProcureData:
    """Read and validate a planner's ``.xlsx`` workbook; raises :class:`InputError` listing
    every problem."""
    return validate_tables(read_tables(path), source=str(path))
