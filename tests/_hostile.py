"""Hostile uploads, made in memory: small files that are expensive to parse (issue #15, finding 7).

Shared by ``tests/pipelines/sources/test_limits.py`` and ``bench/bench_upload_limits.py``. Each builder returns
the bytes a client would send.
"""

from __future__ import annotations

import io
import zipfile

SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def workbook(rows) -> bytes:
    """An .xlsx workbook whose first sheet holds ``rows`` (each a list of cell texts; the first is the header).

    The sheet XML is written straight into the zip, row by row, as a streaming writer would: a million
    rows take a second and under a megabyte.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(SHEET_HEAD.encode())
            batch = []
            for row in rows:
                cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in row)
                batch.append(f"<row>{cells}</row>")
                if len(batch) == 10_000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write(("".join(batch) + SHEET_TAIL).encode())
    return buffer.getvalue()


def sheet_workbook(rows_xml: str) -> bytes:
    """An .xlsx workbook whose first sheet's ``<sheetData>`` is ``rows_xml``, as written."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + rows_xml + SHEET_TAIL)
    return buffer.getvalue()


def million_row_workbook(rows: int = 1_000_000) -> bytes:
    """The workbook of the finding: one column, ``rows`` data rows, about a megabyte."""
    buffer = io.BytesIO()
    block = "".join(f"<row><c><v>{i}</v></c></row>" for i in range(1000)).encode()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(SHEET_HEAD.encode() + b'<row><c t="inlineStr"><is><t>id</t></is></c></row>')
            for _ in range(rows // 1000):
                sheet.write(block)
            sheet.write(SHEET_TAIL.encode())
    return buffer.getvalue()


def wide_csv(columns: int = 100_000, rows: int = 3) -> bytes:
    """A CSV with ``columns`` columns (about 0.9 MB for 100,000)."""
    header = ",".join(f"c{i}" for i in range(columns))
    body = "\n".join(",".join("1" for _ in range(columns)) for _ in range(rows))
    return f"{header}\n{body}\n".encode()


def long_line_csv(line_bytes: int) -> bytes:
    """A small CSV whose second line is ``line_bytes`` long."""
    return b"name,lat,lon\n" + b"x" * line_bytes + b",-34.0,18.6\n"


def geojson_polygon(vertices: int) -> bytes:
    """A FeatureCollection of one polygon with ``vertices`` vertices (about 9 bytes each)."""
    ring = ",".join(f"[1{i % 9},-3{i % 7}]" for i in range(vertices - 1)) + ",[10,-30]"
    return (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Big park",'
        '"status":"planned"},"geometry":{"type":"Polygon","coordinates":[[' + ring + "]]}}]}"
    ).encode()


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(name: str = "areas.geojson", size: int = 500_000_000) -> bytes:
    """A zip of ``size`` bytes of spaces (about 0.5 MB for 500 MB), streamed in so it never sits in memory."""
    buffer = io.BytesIO()
    block = b" " * (1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(name, "w", force_zip64=True) as member,
    ):
        for _ in range(size // len(block)):
            member.write(block)
    return buffer.getvalue()


_SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def shared_strings_workbook(strings: int, used: int) -> bytes:
    """A workbook whose shared-text table holds ``strings`` distinct strings and whose sheet has ``used``
    cells of shared text (in column A, one per row). openpyxl loads the whole table before any cell:
    3 million unused strings in 17 MB took 43 s and 760 MB."""
    parts = dict(_PARTS)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST}"/></Types>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>",
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        rows = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>' for i in range(used))
        archive.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + rows + SHEET_TAIL)
        with archive.open("xl/sharedStrings.xml", "w") as table:
            table.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            table.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for start in range(0, strings, 10_000):
                stop = min(start + 10_000, strings)
                table.write(
                    "".join(f"<si><t>s{i * 2654435761 % 2**32:x}</t></si>" for i in range(start, stop)).encode()
                )
            table.write(b"</sst>")
    return buffer.getvalue()


def many_sheets_workbook(sheets: int) -> bytes:
    """A workbook of ``sheets`` worksheets of one cell each (the reader opens every one to find the
    submissions' sheet: 3,000 took 9 s)."""
    parts = dict(_PARTS)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET}"/>' for i in range(2, sheets + 1)
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace("</Types>", overrides + "</Types>")
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        "</sheets>",
        "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(2, sheets + 1)) + "</sheets>",
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>",
        "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(2, sheets + 1)
        )
        + "</Relationships>",
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        cell = '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        for i in range(1, sheets + 1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", SHEET_HEAD + cell + SHEET_TAIL)
    return buffer.getvalue()
