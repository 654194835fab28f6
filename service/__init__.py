"""The Flask app factory: webhooks, the JSON API, the simulator and health."""
import logging

from flask import Flask

from . import runtime as runtimes
from .config import Config
from .runtime import Runtime


def create_app(config: Config | None = None, redis=None) -> Flask:
    """Build the web app; tests pass their own config and a fake Redis."""
    config = config or Config()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        # Webhook bodies are small; anything larger is not a provider.
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    app.extensions["svar"] = runtime

    from . import api
    from . import health
    from . import webhooks

    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(api.bp)
    if config.simulator:
        from . import simulator

        app.register_blueprint(simulator.bp)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["svar"]
