"""Validates every example in the OpenAPI description against its own schema.

Usage: python examples.py [path/to/helpdesk.yaml]
Exits non-zero, listing each example that does not match, if any does not.
"""

import sys
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30Validator

SPEC = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "helpdesk.yaml"


def main() -> int:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    components = spec.get("components", {})
    checked, failures = 0, []

    def check(where, schema, value):
        nonlocal checked
        checked += 1
        # The schema sits in a document that also holds the components, so `#/components/...` resolves.
        root = dict(schema)
        root["components"] = components
        errors = sorted(OAS30Validator(root).iter_errors(value), key=lambda e: list(e.path))
        failures.extend(f"{where}: {e.message}" for e in errors)

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = follow(node["$ref"])
        return node

    def follow(ref):
        node = spec
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node

    def walk_schema(where, schema):
        schema = resolve(schema)
        if not isinstance(schema, dict):
            return
        if "example" in schema:
            check(f"{where} example", schema, schema["example"])
        for name, prop in schema.get("properties", {}).items():
            walk_schema(f"{where}.{name}", prop)
        if isinstance(schema.get("items"), dict):
            walk_schema(f"{where}[]", schema["items"])

    def walk_content(where, content):
        for media, body in content.items():
            schema = body.get("schema")
            if schema is None:
                continue
            if "example" in body:
                check(f"{where} {media} example", schema, body["example"])
            for name, example in body.get("examples", {}).items():
                example = resolve(example)
                check(f"{where} {media} examples.{name}", schema, example["value"])

    def walk_headers(where, headers):
        for name, header in headers.items():
            header = resolve(header)
            if "schema" in header:
                walk_schema(f"{where} header {name}", header["schema"])

    for name, schema in components.get("schemas", {}).items():
        walk_schema(f"components.schemas.{name}", schema)
    for name, header in components.get("headers", {}).items():
        walk_headers("components.headers", {name: header})
    for name, body in components.get("requestBodies", {}).items():
        walk_content(f"components.requestBodies.{name}", resolve(body).get("content", {}))
    for name, response in components.get("responses", {}).items():
        response = resolve(response)
        walk_content(f"components.responses.{name}", response.get("content", {}))
        walk_headers(f"components.responses.{name}", response.get("headers", {}))
    def walk_operations(prefix, paths):
        for path, item in paths.items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                where = f"{prefix}{method.upper()} {path}"
                body = resolve(operation.get("requestBody", {}))
                walk_content(f"{where} requestBody", body.get("content", {}))
                for parameter in operation.get("parameters", []):
                    parameter = resolve(parameter)
                    if "schema" in parameter:
                        walk_schema(f"{where} parameter {parameter['name']}", parameter["schema"])
                for status, response in operation["responses"].items():
                    response = resolve(response)
                    walk_content(f"{where} {status}", response.get("content", {}))
                    walk_headers(f"{where} {status}", response.get("headers", {}))
                # The pushes the platform makes after this operation.
                for name, callback in operation.get("callbacks", {}).items():
                    walk_operations(f"{where} callback {name}: ", resolve(callback))

    walk_operations("", spec.get("paths", {}))

    for failure in failures:
        print(f"example does not match its schema: {failure}", file=sys.stderr)
    print(f"{SPEC.name}: {checked} examples checked, {len(failures)} mismatches")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
