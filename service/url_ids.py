"""Integer ids in URLs, kept to what the database can hold."""
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
