"""Hostile and damaged spreadsheets for the hardening tests, built small enough to run in milliseconds.

An XLSX is written part by part, so that a test controls exactly what the zip and its XML hold
(a shared-string table, an entity declaration, a cell in column XFD) without a spreadsheet program.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
    '<sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def inline_row(number: int, cells: Sequence[str], first_column: str = "A") -> str:
    """A ``<row>`` of inline-string cells from ``first_column`` on (single letters only)."""
    parts = []
    for offset, text in enumerate(cells):
        reference = f"{chr(ord(first_column) + offset)}{number}"
        parts.append(f'<c r="{reference}" t="inlineStr"><is><t>{escape(text)}</t></is></c>')
    return f'<row r="{number}">{"".join(parts)}</row>'


def sheet_xml(rows: str, prologue: str = "") -> str:
    body = f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'
    return f'<?xml version="1.0" encoding="UTF-8"?>{prologue}{body}'


def shared_strings_xml(strings: Sequence[str], prologue: str = "") -> str:
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<sst xmlns="{MAIN}" count="{len(strings)}">{items}</sst>'


def write_xlsx_parts(path: Path, sheet: str, shared_strings: str | None = None) -> Path:
    """A minimal workbook whose one sheet is ``sheet`` (XML) and whose shared strings are ``shared_strings``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared_strings or shared_strings_xml([]))
    return path


PEOPLE_LABELS = ("姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话")

# An entity that expands to 10**6 "ha": the "billion laughs" pattern, three levels deep.
ENTITY_BOMB = (
    '<!DOCTYPE lolz [<!ENTITY ha "hahahahahahahahahaha">'
    '<!ENTITY ha2 "&ha;&ha;&ha;&ha;&ha;&ha;&ha;&ha;&ha;&ha;">'
    '<!ENTITY ha3 "&ha2;&ha2;&ha2;&ha2;&ha2;&ha2;&ha2;&ha2;&ha2;&ha2;">]>'
)
# An external entity naming a local file: what an XXE attack reads.
EXTERNAL_ENTITY = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

# Names that Excel, WPS or LibreOffice would run as formulas (a DDE command, a link, a function).
FORMULA_NAMES = (
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
    "-张三",
    "＝1+1",
    "＠SUM(1)",
)


def assert_no_formula_cells(workbook_bytes: bytes, formula_names: tuple[str, ...] = FORMULA_NAMES) -> list[str]:
    """Every cell of every sheet is plain text or a value, and each formula-like name starts with '."""
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes))  # not read-only: data_type is exact
    names = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                text = cell.value
                if isinstance(text, str) and text[1:].strip() in {name.strip() for name in formula_names}:
                    assert text.startswith("'"), text
                    names.append(text)
    return names
