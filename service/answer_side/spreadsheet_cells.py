"""Exported cells a spreadsheet cannot run: text that would read as a formula is made plain text (OWASP CSV injection)."""
import re

# What Excel, LibreOffice and Google Sheets start a formula (or DDE call) with,
# including the full-width forms some of them accept as well.
_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Spreadsheets skip leading spaces before looking for a formula.
_LEADING_SPACE = " \u00a0\u3000"
# A real figure ("-3", "-0.5") is left alone: it is data, not a formula.
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def safe_cell(value):
    """`value` as a cell: text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    if value.lstrip(_LEADING_SPACE)[:1] in _TRIGGERS and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values) -> list:
    """Every cell of a row through safe_cell."""
    return [safe_cell(value) for value in values]
