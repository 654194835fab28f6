"""The Flask app factory: webhooks, the JSON API, the admin view, the simulator and health."""
import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .infra import runtime as runtimes
from .infra import url_ids
from .config import Config
from .infra.runtime import Runtime


def create_app(config: Config | None = None, redis=None) -> Flask:
    """Build the web app; tests pass their own config and a fake Redis."""
    config = config or Config()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        # Webhook bodies are small, and 2 MiB of CSV is tens of thousands of
        # respondents; anything larger is refused with 413 before it is read.
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    app.extensions["svar"] = runtime
    url_ids.install(app)

    # Here, not at the top: `import service.infra.runtime` in a worker or the CLI would otherwise load the whole web app.
    from . import admin
    from . import api
    from .infra import health
    from .channels import simulator_page as simulator
    from .channels import telegram_webhook
    from .channels import twilio_webhook as webhooks
    from .admin import security

    app.register_blueprint(health.bp)
    health.install_outage_answers(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(telegram_webhook.bp)
    app.register_blueprint(api.bp)
    admin.init_app(app, config)
    # Bearer tokens and provider signatures authenticate these, not cookies.
    security.exempt(api.bp, webhooks.bp, telegram_webhook.bp, simulator.bp)
    if config.simulator:
        app.register_blueprint(simulator.bp)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if config.trusted_proxies:
        # remote_addr becomes the client's as the nearest trusted proxy saw it; the rate limits key on it.
        hops = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["svar"]
