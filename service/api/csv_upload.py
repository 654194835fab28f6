"""Respondent lists as CSV from a spreadsheet: any delimiter, a BOM, UTF-16, Windows-1252, local headings."""
import csv
import io

from .errors import invalid

MAX_ROWS = 100_000
EXPECTED = "phone,language,unit,group,channel"

# Headings people actually use (English, Norwegian, Danish), mapped to row keys.
HEADINGS = {
    "phone": "phone",
    "phone number": "phone",
    "telefon": "phone",
    "telefonnummer": "phone",
    "telefonnr": "phone",
    "tlf": "phone",
    "mobil": "phone",
    "mobile": "phone",
    "mobilnummer": "phone",
    "language": "language",
    "lang": "language",
    "språk": "language",
    "sprog": "language",
    "unit": "unit",
    "unit_id": "unit",
    "enhet": "unit",
    "enhed": "unit",
    "group": "group",
    "group_id": "group",
    "gruppe": "group",
    "spor": "group",
    "channel": "channel",
    "kanal": "channel",
}

BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode(data: bytes) -> str:
    """Text of an upload: UTF-8 or UTF-16 (with or without a BOM), else Windows-1252 as older Excel writes it."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise invalid("this is an Excel workbook, not CSV; in Excel choose Save As, CSV UTF-8")
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _strict(data, encoding)
    sample = data[:4096]
    if sample and sample.count(0) * 4 >= len(sample):
        # ASCII text in UTF-16 without a BOM: every other byte is zero.
        even_zeros = sample[0::2].count(0) > sample[1::2].count(0)
        return _strict(data, "utf-16-be" if even_zeros else "utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise invalid("the file is not text; upload a CSV file (in Excel: Save As, CSV UTF-8)")
    return _strict(data, "cp1252")


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise invalid(
            f"the file cannot be read as {encoding.upper().replace('-SIG', '')} text (byte {error.start}); "
            "save it as CSV UTF-8"
        ) from None


def delimiter(header_line: str) -> str:
    """';' (Excel in Nordic locales), tab, or ','; whichever the header uses most."""
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_rows(data: bytes) -> list[tuple[int, dict]]:
    """(line number, row) for every non-blank data row; the header is line 1."""
    text = decode(data).lstrip("\ufeff")
    first_line = text.split("\n", 1)[0].strip("\r")
    if not first_line.strip():
        raise invalid(f"the CSV is empty or starts with a blank line; expected a header line: {EXPECTED}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(first_line), strict=True)
    try:
        header = next(reader)
        keys = [HEADINGS.get(name.strip().lower()) for name in header]
        _check_header(header, keys)
        columns = [(key, index) for index, key in enumerate(keys) if key]
        rows = []
        for cells in reader:
            if not "".join(cells).strip():
                continue
            if len(rows) == MAX_ROWS:
                raise invalid(f"the CSV has more than {MAX_ROWS} rows; split it into several uploads")
            width = len(cells)
            row = {key: cells[index].strip() if index < width else "" for key, index in columns}
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise invalid(f"the CSV cannot be read at line {reader.line_num}: {error}") from None
    return rows


def _check_header(header: list[str], keys: list[str | None]):
    """Refuse a header without a phone column, or with one column twice, naming what was found."""
    found = ", ".join(name.strip() for name in header if name.strip()) or "nothing"
    if "phone" not in keys:
        raise invalid(
            f"the CSV header has no phone column (found: {found}); expected: {EXPECTED}",
            columns=[name.strip() for name in header],
        )
    named = [key for key in keys if key]
    twice = sorted({key for key in named if named.count(key) > 1})
    if twice:
        raise invalid(f"the CSV header names {', '.join(twice)} more than once (found: {found})")
