"""Generate the hostile-input corpus: broken, crafted and awkward workbooks.

Every file is written from code here (deterministically; nothing is downloaded), so the
repository stays small and the zip bombs are never committed::

    python tests/corpus/make_corpus.py OUT_DIR            # the corpus (a few MB, seconds)
    python tests/corpus/make_corpus.py OUT_DIR --big      # also a 1,000,000-row Demand sheet

:func:`make_corpus` returns one :class:`Case` per file with what reading it must give:

* ``refused``: :class:`procure.InputError` with one workbook-level problem whose text
  holds ``words`` (not a zip, damaged, zip bomb, macros);
* ``problem``: :class:`InputError` with a problem at (``sheet``, ``row``, ``column``) whose
  text holds ``words``;
* ``warning``: the workbook is valid, and a warning holds ``words``.

Workbooks are written by a small OOXML writer (:func:`write_xlsx`), so that a case can hold
exactly the XML a hostile or unusual producer would write (formulas without cached values,
error cells, external links, ``NaN`` in a number cell, a cell at XFD1048576, ...).
"""

from __future__ import annotations

import argparse
import copy
import struct
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workbooks import good_sheets, set_cell  # noqa: E402

MiB = 1 << 20
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_BOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_MACRO_BOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class F:
    """A formula cell; ``cached`` is the value Excel saved with it (None: none saved)."""

    formula: str
    cached: object = None
    shared: bool = False


@dataclass(frozen=True)
class E:
    """An Excel error cell (#DIV/0!, #N/A, #REF!, ...)."""

    code: str


@dataclass(frozen=True)
class V:
    """A number cell whose ``<v>`` text is written as given (NaN, inf, 1e999, ...)."""

    text: str


@dataclass
class Sheet:
    rows: list[list]
    state: str = "visible"
    merged: list[str] = field(default_factory=list)
    #: raw XML replacing the whole worksheet part (for crafted cases)
    raw: bytes | None = None


def col_letter(j: int) -> str:
    """Excel's letter for the 0-based column ``j``."""
    return get_column_letter(j + 1)


def _cell(ref: str, v) -> str:
    if v is None:
        return ""
    if isinstance(v, F):
        f = "<f/>" if v.shared else f"<f>{escape(v.formula)}</f>"
        if v.shared:
            f = '<f t="shared" si="0"/>'
        if v.cached is None:
            return f'<c r="{ref}">{f}<v></v></c>'
        if isinstance(v.cached, str):
            return f'<c r="{ref}" t="str">{f}<v>{escape(v.cached)}</v></c>'
        return f'<c r="{ref}">{f}<v>{v.cached!r}</v></c>'
    if isinstance(v, E):
        return f'<c r="{ref}" t="e"><v>{escape(v.code)}</v></c>'
    if isinstance(v, V):
        return f'<c r="{ref}"><v>{escape(v.text)}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | float):
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    text = escape(str(v))
    space = ' xml:space="preserve"' if str(v) != str(v).strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def sheet_xml(sheet: Sheet) -> bytes:
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}" '
           f'xmlns:r="{NS_R}"><sheetData>']
    for i, row in enumerate(sheet.rows, start=1):
        cells = "".join(_cell(f"{col_letter(j)}{i}", v) for j, v in enumerate(row))
        if cells:
            out.append(f'<row r="{i}">{cells}</row>')
    out.append("</sheetData>")
    if sheet.merged:
        out.append(f'<mergeCells count="{len(sheet.merged)}">'
                   + "".join(f'<mergeCell ref="{m}"/>' for m in sheet.merged) + "</mergeCells>")
    out.append("</worksheet>")
    return "".join(out).encode()


def write_xlsx(path: Path, sheets: dict[str, Sheet | list[list]], *,
               extra: dict[str, bytes] | None = None, macro_type: bool = False,
               external_link: bool = False) -> Path:
    """A minimal, valid ``.xlsx`` as Excel would accept it (inline strings, no styles)."""
    sheets = {k: v if isinstance(v, Sheet) else Sheet(v) for k, v in sheets.items()}
    overrides = [f'<Override PartName="/xl/workbook.xml" '
                 f'ContentType="{CT_MACRO_BOOK if macro_type else CT_BOOK}"/>']
    book_sheets, rels, parts = [], [], {}
    for k, (name, sheet) in enumerate(sheets.items(), start=1):
        state = "" if sheet.state == "visible" else f' state="{sheet.state}"'
        book_sheets.append(f"<sheet name={quoteattr(name)} sheetId=\"{k}\"{state} r:id=\"rId{k}\"/>")
        rels.append(f'<Relationship Id="rId{k}" Type="{NS_R}/worksheet" '
                    f'Target="worksheets/sheet{k}.xml"/>')
        overrides.append(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{CT_SHEET}"/>')
        parts[f"xl/worksheets/sheet{k}.xml"] = sheet.raw if sheet.raw is not None else sheet_xml(sheet)
    ext = ""
    if external_link:
        n = len(sheets) + 1
        rels.append(f'<Relationship Id="rId{n}" Type="{NS_R}/externalLink" '
                    'Target="externalLinks/externalLink1.xml"/>')
        ext = f'<externalReferences><externalReference r:id="rId{n}"/></externalReferences>'
        parts["xl/externalLinks/externalLink1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="{NS}" xmlns:r="{NS_R}">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
            '</externalBook></externalLink>').encode()
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS_PKG}">'
            f'<Relationship Id="rId1" Type="{NS_R}/externalLinkPath" '
            'Target="file:///C:/plans/other.xlsx" TargetMode="External"/></Relationships>').encode()
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(overrides) + "</Types>").encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS_PKG}">'
            f'<Relationship Id="rId1" Type="{NS_R}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>").encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{NS}" '
            f'xmlns:r="{NS_R}"><sheets>' + "".join(book_sheets) + f"</sheets>{ext}</workbook>"
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS_PKG}">'
            + "".join(rels) + "</Relationships>").encode(),
        **parts,
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return path


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    name: str
    path: Path
    kind: str  # refused | problem | warning
    words: list[str] = field(default_factory=list)
    sheet: str | None = None
    row: int | None = None
    column: str | None = None


def good() -> dict[str, list[list]]:
    return copy.deepcopy(good_sheets())


def with_cell(sheet: str, row: int, column: str, value, sheets=None) -> dict[str, list[list]]:
    """The good dataset with the cell at Excel ``row`` under ``column`` set to ``value``."""
    return set_cell(sheets or good(), sheet, row, column, value)


def _bomb(path: Path, member: str, size: int, *, fill: bytes = b" ") -> None:
    """A workbook whose ``member`` inflates to ``size`` bytes of ``fill`` (honestly declared)."""
    base = path.with_suffix(".base.xlsx")
    write_xlsx(base, good())
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != member:
                zout.writestr(info, zin.read(info.filename))
                continue
            head = zin.read(member)[:-len(b"</worksheet>")]
            block = fill * MiB
            bomb = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))
            bomb.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(bomb, "w", force_zip64=size > 2**31) as w:
                w.write(head)
                left = size - len(head)
                while left > 0:
                    w.write(block[:left])
                    left -= len(block)
    base.unlink()


def _lying_sizes(path: Path, member: str, size: int, declared: int) -> None:
    """A bomb whose zip headers declare ``declared`` bytes for a part that inflates to
    ``size``: caught only by inflating it ourselves."""
    _bomb(path, member, size)
    data = bytearray(path.read_bytes())
    name = member.encode()
    # local header: uncompressed size at +22; central directory header: at +24
    pos = 0
    while True:
        pos = data.find(b"PK\x03\x04", pos)
        if pos < 0:
            break
        n = struct.unpack("<H", data[pos + 26:pos + 28])[0]
        if data[pos + 30:pos + 30 + n] == name:
            data[pos + 22:pos + 26] = struct.pack("<I", declared)
        pos += 4
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        n = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if data[pos + 46:pos + 46 + n] == name:
            data[pos + 24:pos + 28] = struct.pack("<I", declared)
        pos += 4
    path.write_bytes(bytes(data))


def _corrupt_member(src: Path, dst: Path, member: str) -> None:
    """Flip bytes inside one part's compressed data (the zip directory stays intact)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode())
    for k in range(start + 2, start + min(info.compress_size, 40)):
        data[k] ^= 0x5A
    dst.write_bytes(bytes(data))


def _demand_rows(n: int) -> list[list]:
    partners, items = ["PL", "EE", "DE"], ["shell155", "radio"]
    rows = [["partner", "item", "period", "quantity"]]
    for i in range(n):
        rows.append([partners[i % 3], items[(i // 3) % 2], 2000 + i // 6, i % 1000])
    return rows


def big_demand(path: Path, n: int = 1_000_000) -> Path:
    """A valid workbook whose Demand sheet has ``n`` rows (written as streamed XML)."""
    sheets = good()
    demand = Sheet([])
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}">'
            '<sheetData>')
    parts = [head]
    for i, row in enumerate(_demand_rows(n), start=1):
        parts.append(f'<row r="{i}">' + "".join(_cell(f"{col_letter(j)}{i}", v)
                                                 for j, v in enumerate(row)) + "</row>")
    parts.append("</sheetData></worksheet>")
    demand.raw = "".join(parts).encode()
    sheets["Demand"] = demand
    # every period must exist for first_period / Capacity: point them at the first period
    sheets["Offers"] = [r[:7] for r in sheets["Offers"]]
    sheets["Capacity"] = sheets["Capacity"][:1]
    return write_xlsx(path, sheets)


def make_corpus(out: str | Path, *, big: bool = False) -> list[Case]:
    """Write the corpus into ``out`` and return its cases."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(name, kind, words, sheet=None, row=None, column=None, *, suffix=".xlsx") -> Path:
        path = out / f"{name}{suffix}"
        cases.append(Case(name, path, kind, list(words), sheet, row, column))
        return path

    def book(name, sheets, kind="problem", words=(), sheet=None, row=None, column=None, **kw):
        write_xlsx(add(name, kind, words, sheet, row, column), sheets, **kw)

    good_path = write_xlsx(out / "_good.xlsx", good())
    good_bytes = good_path.read_bytes()

    # --- not a workbook at all
    add("not_a_zip", "refused", ["not a zip"]).write_text("partner,item\nPL,shell155\n")
    add("empty_file", "refused", ["not a zip"]).write_bytes(b"")
    add("truncated_half", "refused", ["truncated"]).write_bytes(good_bytes[: len(good_bytes) // 2])
    add("truncated_tail", "refused", ["truncated"]).write_bytes(good_bytes[:-30])
    add("truncated_head", "refused", ["zip"]).write_bytes(good_bytes[100:])
    _corrupt_member(good_path, add("corrupt_sheet_data", "problem", ["damaged"], "Demand"),
                    "xl/worksheets/sheet5.xml")
    add("ole_encrypted", "refused", ["password"]).write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"EncryptedPackage" * 16)
    with zipfile.ZipFile(add("zip_not_workbook", "refused", ["xl/workbook.xml"]), "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with zipfile.ZipFile(add("docx_renamed", "refused", ["xl/workbook.xml"]), "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    with zipfile.ZipFile(add("zip_encrypted_flag", "refused", ["encrypted"]), "w") as z:
        for info in zipfile.ZipFile(good_path).infolist():
            data = zipfile.ZipFile(good_path).read(info.filename)
            z.writestr(info, data)
    raw = bytearray((out / "zip_encrypted_flag.xlsx").read_bytes())
    # set the 'encrypted' flag bit on every header (local and central)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = raw.find(sig)
        while pos >= 0:
            raw[pos + off] |= 1
            pos = raw.find(sig, pos + 4)
    (out / "zip_encrypted_flag.xlsx").write_bytes(bytes(raw))

    # --- zip bombs (generated, never committed)
    _bomb(add("zip_bomb_total", "refused", ["too large once uncompressed"]),
          "xl/worksheets/sheet5.xml", 600 * MiB)
    _bomb(add("zip_bomb_ratio", "refused", ["zip bomb"]), "xl/worksheets/sheet5.xml", 100 * MiB)
    _lying_sizes(add("zip_bomb_lying_sizes", "problem", ["declared size"], "Demand"),
                 "xl/worksheets/sheet5.xml", 40 * MiB, 2000)

    # --- macros
    book("macros_in_xlsx", good(), "refused", ["macros"],
         extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake VBA project"})
    book("macro_content_type", good(), "refused", ["macro-enabled"], macro_type=True)
    write_xlsx(add("macros_xlsm", "refused", ["macro"], suffix=".xlsm"), good(),
               extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"}, macro_type=True)

    # --- sheets calamine cannot allocate: refused before it tries
    sheets = good()
    far = Sheet(sheets["Offers"])
    far.raw = sheet_xml(far).replace(b"</sheetData>",
                                     b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    sheets["Offers"] = far
    book("far_cell_xfd1048576", sheets, "problem", ["too large"], "Offers")
    sheets = good()
    deep = Sheet(sheets["Demand"])
    deep.raw = sheet_xml(deep).replace(b"</sheetData>",
                                       b'<row r="5000000"><c r="A5000000"><v>1</v></c></row></sheetData>')
    sheets["Demand"] = deep
    book("row_5000000", sheets, "problem", ["too large"], "Demand")
    sheets = good()
    norefs = Sheet([])
    norefs.raw = (f'<worksheet xmlns="{NS}"><sheetData><row><c t="inlineStr"><is><t>bloc</t></is></c>'
                  '<c t="inlineStr"><is><t>country</t></is></c></row>'
                  + "<row/>" * 300_000 + "<row>" + "<c><v>1</v></c>" * 200 + "</row>"
                  "</sheetData></worksheet>").encode()
    sheets["Blocs"] = norefs
    book("no_cell_refs_wide_and_deep", sheets, "problem", ["too large"], "Blocs")

    # --- crafted XML
    sheets = good()
    sheets["Blocs"] = Sheet([], raw=(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;'
        '</t></is></c></row></sheetData></worksheet>').encode())
    book("entities_in_sheet", sheets, "problem", ["DOCTYPE"], "Blocs")
    sheets = good()
    sheets["Blocs"] = Sheet([], raw=f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1">'.encode())
    book("malformed_sheet_xml", sheets, "problem", ["cannot be read"], "Blocs")
    sheets = good()
    sheets["Blocs"] = Sheet([], raw=f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData></worksheet>'.encode())
    book("bad_cell_reference", sheets, "problem", ["not valid"], "Blocs")

    # --- cells that calamine would read as blank or stale
    book("formula_without_value", with_cell("Demand", 3, "quantity", F("200+300")),
         "problem", ["formula without a saved value", "recalculate"], "Demand", 3, "quantity")
    book("shared_formula_without_value",
         with_cell("Offers", 2, "unit_price", F("", shared=True)),
         "problem", ["formula without a saved value"], "Offers", 2, "unit_price")
    for code, (sheet, row, column) in {"#DIV/0!": ("Offers", 3, "unit_price"),
                                       "#N/A": ("Demand", 4, "quantity"),
                                       "#REF!": ("Partners", 2, "budget")}.items():
        book("error_" + code.strip("#!/").replace("/", "").lower(),
             with_cell(sheet, row, column, E(code)), "problem", ["error value", code],
             sheet, row, column)
    book("external_link_formula",
         with_cell("Demand", 2, "quantity", F("[1]Sheet1!A1", cached=500)),
         "problem", ["another workbook", "Paste Special"], "Demand", 2, "quantity",
         external_link=True)
    sheets = good()
    prefixed = sheet_xml(Sheet(with_cell("Demand", 5, "quantity", F("1+1"))["Demand"]))
    prefixed = (prefixed.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=")
                .replace(b"<", b"<x:").replace(b"<x:/", b"</x:").replace(b"<x:?", b"<?")
                .replace(b"<x:x:", b"<x:"))
    sheets["Demand"] = Sheet([], raw=prefixed)
    book("prefixed_xml_formula_without_value", sheets, "problem",
         ["formula without a saved value"], "Demand", 5, "quantity")

    # --- layout
    sheets = good()
    sheets["Demand"] = Sheet(sheets["Demand"], merged=["A3:B3"])
    sheets["Demand"].rows[2][1] = None
    book("merged_cells", sheets, "problem", ["merged cells A3:B3", "Unmerge"], "Demand", 3, "partner")
    sheets = good()
    sheets["Demand"] = [["Demand 2026 (draft)"], [None], *sheets["Demand"]]
    book("header_in_row_3", sheets, "problem", ["row 3 looks like the column names"], "Demand", 3)
    sheets = good()
    sheets["Blocs"] = [[None, None], [None, None], *sheets["Blocs"]]
    book("header_after_blank_rows", sheets, "problem", ["first row is empty", "row 3"], "Blocs", 1)
    sheets = good()
    sheets["Demand"] = [["partner", "item", "period", "quantity"]]
    book("empty_demand_sheet", sheets, "problem", ["Demand has no rows"], "Demand")
    sheets = good()
    sheets["Demand"] = []
    book("blank_demand_sheet", sheets, "problem", ["Demand has no rows"], "Demand")
    book("all_sheets_blank", {name: [] for name in good()}, "problem", ["Partners has no rows"],
         "Partners")
    sheets = good()
    sheets["DEMAND"] = good()["Demand"]
    book("duplicate_sheet_by_case", sheets, "problem", ["two sheets"], "Demand")
    sheets = good()
    sheets[" Demand "] = good()["Demand"]
    book("duplicate_sheet_by_spaces", sheets, "problem", ["two sheets"], "Demand")

    # --- numbers
    for name, value, words in [
        ("text_in_number", "lots", ["text in a number column"]),
        ("number_as_text", "1000", ["stored as text"]),
        ("nan_in_number", V("NaN"), ["NaN"]),
        ("inf_in_number", V("inf"), ["finite"]),
        ("neg_inf_in_number", V("-inf"), ["finite"]),
        ("overflow_1e999", V("1e999"), ["finite"]),
        ("huge_1e308", 1e308, ["too large", "1e+15"]),
        ("huge_1e16", 1e16, ["too large"]),
        ("negative_quantity", -5, ["must be >= 0"]),
        ("bool_quantity", True, ["TRUE/FALSE"]),
    ]:
        book(name, with_cell("Demand", 2, "quantity", value), "problem", words,
             "Demand", 2, "quantity")
    book("huge_negative_price", with_cell("Offers", 2, "unit_price", -1e308), "problem",
         ["too large"], "Offers", 2, "unit_price")
    book("huge_budget", with_cell("Partners", 2, "budget", 1e300), "problem", ["too large"],
         "Partners", 2, "budget")

    # --- ids
    sheets = good()
    sheets["Partners"].append(["pl", "Poland again", None, None])
    book("ids_differ_by_case", sheets, "problem", ["ambiguous", "row 2"], "Partners", 5, "partner")
    book("id_trailing_space", with_cell("Partners", 3, "partner", "EE "), "problem",
         ["spaces"], "Partners", 3, "partner")
    book("id_nbsp", with_cell("Demand", 5, "partner", "EE\u00a0"), "problem", ["spaces"],
         "Demand", 5, "partner")
    book("id_zero_width_space", with_cell("Demand", 5, "partner", "E\u200bE"), "problem",
         ["invisible", "U+200B"], "Demand", 5, "partner")
    sheets = good()
    sheets["Items"].append([unicodedata.normalize("NFC", "munición"), "a", None, None, None])
    sheets["Items"].append([unicodedata.normalize("NFD", "munición"), "b", None, None, None])
    book("ids_nfc_nfd", sheets, "problem", ["ambiguous", "Unicode"], "Items", 5, "item")
    sheets = good()
    sheets["Suppliers"].append(["big  co", "x", "DE", None])
    sheets["Suppliers"].append(["big co", "y", "DE", None])
    book("ids_inner_spaces", sheets, "problem", ["ambiguous"], "Suppliers", 6, "supplier")

    # --- valid, with a warning
    sheets = good()
    sheets["Items"] = Sheet(sheets["Items"], state="hidden")
    book("hidden_sheet", sheets, "warning", ["hidden sheets", "Items"])
    sheets = good()
    sheets["Blocs"] = Sheet(sheets["Blocs"], state="veryHidden")
    book("very_hidden_sheet", sheets, "warning", ["hidden sheets", "Blocs"])
    book("external_link_unused", good(), "warning", ["links to other workbooks"],
         external_link=True)
    sheets = good()
    sheets["Partners"].append(["Ωμέγα", "Greek partner", "GR", None])
    sheets["Notes"] = [["anything"], [F("1/0")]]  # not read: no problem
    book("unicode_ids", sheets, "warning", ["'Notes'"])
    book("formula_with_cached_value", with_cell("Demand", 3, "quantity", F("250+250", 500)),
         "warning", [])

    if big:
        big_demand(add("demand_1m_rows", "warning", []), 1_000_000)
    return cases


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--big", action="store_true", help="also write a 1,000,000-row Demand sheet")
    args = p.parse_args(argv)
    for case in make_corpus(args.out, big=args.big):
        where = ", ".join(str(x) for x in (case.sheet, case.row, case.column) if x is not None)
        print(f"{case.kind:8} {case.path.name:45} {where:30} {', '.join(case.words)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
