"""The OpenAPI document covers every /api/v1 route and holds together."""
import re

import pytest

from service.api.openapi import document

METHODS = {"get", "post", "put", "patch", "delete"}


def api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every registered route under /api/v1."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1") :])
        routes.update((path, method.lower()) for method in rule.methods if method.lower() in METHODS)
    return routes


def documented() -> set[tuple[str, str]]:
    return {(path, method) for path, item in document()["paths"].items() for method in item if method in METHODS}


def test_every_route_is_documented_and_nothing_else(app):
    assert api_routes(app) == documented()


def test_the_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json == document()


def test_the_document_is_sane():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {**doc["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]
    operation_ids = []
    for path, item in doc["paths"].items():
        parameters = {p.get("name") for p in item.get("parameters", []) if "name" in p}
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operation_ids.append(operation["operationId"])
            assert operation["responses"], (path, method)
            names = parameters | {p.get("name") for p in operation.get("parameters", []) if "name" in p}
            names |= {ref_name(p) for p in item.get("parameters", []) + operation.get("parameters", []) if "$ref" in p}
            assert set(re.findall(r"{(\w+)}", path)) <= names, path
            secured = operation.get("security", doc["security"])
            if path != "/openapi.json":
                assert secured == [{"bearer": []}] and "401" in operation["responses"], (path, method)
    assert len(operation_ids) == len(set(operation_ids))


def ref_name(parameter) -> str:
    return resolve(document(), parameter["$ref"])["name"]


def resolve(doc, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_reference_resolves():
    doc = document()

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(doc, node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_the_document_validates_against_the_openapi_schema():
    # openapi-spec-validator is a test-only extra, not in requirements-dev.txt.
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document())
