"""CSV (UTF-8 with BOM, so Excel reads Chinese) and .xlsx exports of the reports.

Agency names and ticket summaries are typed by people: a cell starting with = + - @, a tab
or a carriage return would run as a formula in a spreadsheet, so it gets a leading quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font

Cell = str | int | float | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula is made plain text; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Cell]]]


def to_xlsx(sheets: Sequence[Sheet], percent_columns: dict[str, set[int]] | None = None) -> bytes:
    """One worksheet per (title, header, rows); ``percent_columns`` names, per sheet, the
    0-based columns holding fractions to show as percentages."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append([neutralise(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        percent = (percent_columns or {}).get(title, set())
        for row in rows:
            sheet.append([neutralise(v) for v in row])
            for column in percent:
                sheet.cell(row=sheet.max_row, column=column + 1).number_format = "0.0%"
        for column, name in enumerate(header, start=1):
            letter = sheet.cell(row=1, column=column).column_letter
            sheet.column_dimensions[letter].width = max(10, min(40, len(str(name)) * 2 + 2))
        sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(filename: str, fallback: str) -> str:
    """An ASCII name for old clients and the real (Chinese) one per RFC 5987 / 6266."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
