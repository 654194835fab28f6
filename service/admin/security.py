"""Cookies, CSRF and response headers: what keeps a logged-in browser from being abused."""
import base64
import hashlib
import re

from flask import request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

# Static files only: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def init_app(app, config):
    """Cookie flags, session lifetime, CSRF on every form, and the headers of every response."""
    secure = config.public_base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="svar_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=config.session_lifetime,
        # The form's token lives as long as the session may.
        WTF_CSRF_TIME_LIMIT=int(config.session_lifetime.total_seconds()),
        WTF_CSRF_SSL_STRICT=secure,
    )
    csrf.init_app(app)

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith("/admin") and not request.path.startswith("/admin/static"):
            # Pages with names and results must not stay in a shared computer's cache.
            headers["Cache-Control"] = "no-store"
        return response


def exempt(*blueprints):
    """Blueprints that authenticate every request otherwise (bearer tokens, signatures) skip CSRF."""
    for blueprint in blueprints:
        csrf.exempt(blueprint)


STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S)


def policy_allowing_styles_of(html: str) -> str:
    """The policy plus the hashes of `html`'s own <style> blocks: for a page rendered by another module."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in STYLE_BLOCK.findall(html)
    ]
    if not hashes:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' " + " ".join(hashes))
