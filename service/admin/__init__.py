"""The admin view under /admin: server-rendered pages for administrators and coordinators."""
from flask import Blueprint

from ..accounts import audit
from . import i18n
from . import labels
from . import security

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The page modules add their routes to `bp` when imported.
from . import audit_log  # noqa: E402,F401
from . import campaigns  # noqa: E402,F401
from . import errors  # noqa: E402,F401
from . import login  # noqa: E402,F401
from . import organisation  # noqa: E402,F401
from . import progress_page  # noqa: E402,F401
from . import results_page  # noqa: E402,F401
from . import tokens  # noqa: E402,F401
from . import users  # noqa: E402,F401
from .wizard import pages  # noqa: E402,F401
from .wizard import languages  # noqa: E402,F401
from .wizard import reminders  # noqa: E402,F401
from .wizard import respondents  # noqa: E402,F401
from .wizard import review  # noqa: E402,F401


def init_app(app, config):
    """Sessions, CSRF, security headers, languages and the login manager; then the pages."""
    audit.init_app(app)
    security.init_app(app, config)
    i18n.init_app(app)
    labels.init_app(app)
    login.init_app(app)
    app.register_blueprint(bp)
