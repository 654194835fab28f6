"""The JSON API under /api/v1: one module per resource, bearer tokens, JSON errors."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The resource modules add their routes to `bp` when imported.
from . import campaigns  # noqa: E402,F401
from . import errors  # noqa: E402
from . import openapi  # noqa: E402,F401
from . import organisation  # noqa: E402,F401
from . import reminders  # noqa: E402,F401
from . import respondents  # noqa: E402,F401
from . import results  # noqa: E402,F401
from . import surveys  # noqa: E402,F401
from . import tokens  # noqa: E402,F401
from . import units  # noqa: E402,F401

errors.register(bp)
