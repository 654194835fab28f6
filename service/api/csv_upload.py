"""Respondent lists as CSV from a spreadsheet: either delimiter, a BOM, local headings."""
import csv
import io

from .errors import invalid

# Headings people actually use, English and Norwegian, mapped to row keys.
HEADINGS = {
    "phone": "phone",
    "telefon": "phone",
    "telefonnummer": "phone",
    "mobil": "phone",
    "mobile": "phone",
    "language": "language",
    "lang": "language",
    "språk": "language",
    "unit": "unit",
    "unit_id": "unit",
    "enhet": "unit",
    "group": "group_id",
    "group_id": "group_id",
    "gruppe": "group_id",
}


def decode(data: bytes) -> str:
    """Text of an upload: UTF-8 (BOM or not), else Windows-1252 as older Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def delimiter(header_line: str) -> str:
    """';' (Excel in Nordic locales), tab, or ','; whichever the header uses most."""
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_rows(data: bytes) -> list[tuple[int, dict]]:
    """(line number, row) for every non-blank data row; the header is line 1."""
    text = decode(data)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    if not first_line.strip():
        raise invalid("the CSV is empty; expected a header line: phone,language,unit")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter(first_line))
    try:
        header = next(reader)
        keys = [HEADINGS.get(name.strip().lower()) for name in header]
        if "phone" not in keys:
            raise invalid("the CSV header has no phone column; expected: phone,language,unit")
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            row = {key: cell.strip() for key, cell in zip(keys, cells) if key}
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise invalid(f"the CSV cannot be read at line {reader.line_num}: {error}") from None
    return rows
