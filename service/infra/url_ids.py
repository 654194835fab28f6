"""Integer ids in URLs, kept to what the database can hold."""
from flask import abort
from werkzeug.routing import IntegerConverter

# Ids are INTEGER columns: PostgreSQL's stop here (SQLite's at 2**63 - 1).
LARGEST_ID = 2**31 - 1
# No row has id 0 (ids start at 1), so a view answers 404 for it like for any unknown id.
NO_ROW = 0


class DatabaseId(IntegerConverter):
    """`<int:...>` whose ids past LARGEST_ID mean no row: a 404, not a database overflow (a 500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        # Not max=: a rule that fails to match makes Werkzeug answer 405 for other methods.
        return NO_ROW if number > LARGEST_ID else number


def install(app):
    """Every `<int:...>` of the app's routes becomes a DatabaseId; call before blueprints register."""
    app.url_map.converters["int"] = DatabaseId


def parsed_id(raw) -> int | None:
    """`raw` as a row id (ASCII digits, 1..LARGEST_ID), else None: never an overflow or a ValueError."""
    text = (raw or "").strip()
    # isdigit alone lets "²" and other digits through, which int() refuses or misreads.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(LARGEST_ID)):
        return None
    number = int(text)
    return number if 0 < number <= LARGEST_ID else None


def query_id(args, name: str) -> int | None:
    """The id in query parameter `name`; None when absent; a 400 when present but not an id."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    number = parsed_id(raw)
    if number is None:
        abort(400, description=f"The parameter {name} must be a whole number from 1 to {LARGEST_ID}.")
    return number
