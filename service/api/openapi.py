"""GET /api/v1/openapi.json: the hand-written OpenAPI 3.1 document in openapi.yaml."""
from functools import lru_cache
from pathlib import Path

import yaml

from . import bp

SOURCE = Path(__file__).with_name("openapi.yaml")


@lru_cache(maxsize=1)
def document() -> dict:
    """The OpenAPI document, read once per process."""
    return yaml.safe_load(SOURCE.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi_json():
    """The document itself; public, as it holds no data."""
    return document()
