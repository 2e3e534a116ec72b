"""The file before calamine sees it: its path, then the zip archive.

:func:`_check_path` refuses what is not a readable ``.xlsx`` file (with the reason for
.xlsm, .xls, .csv, ...).  :func:`_inspect_zip` reads the zip's directory and refuses a
file that is too large, encrypted, damaged, not a workbook, macro-enabled or a zip bomb
(declared sizes and ratios) before anything is inflated, then lists the workbook's sheets
and their parts.  Every part read is inflated by :func:`_inflate`, in bounded chunks that
stop as soon as the part outgrows its declared size.
"""

from __future__ import annotations

import os
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from procure.data.io.bounds import _SAVE_AS, MiB, _fail, _Refused

#: largest workbook.xml, relationships or content types part, in MiB
_MAX_META_MB = 32

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
