"""The OpenAPI 3.1 document, built from the Chalice app's route table.

Paths and methods come from the app's routes, bodies and responses from the
pydantic models each route declares with
:func:`chalicelib.http.apidoc.documented`, errors from the
:class:`~chalicelib.errors.AppError` classes. Nothing is written twice, so
the document cannot drift from the code; a route without a declaration
makes :func:`build_document` fail (and the test that calls it).

Built on the first ``GET /api/schema`` and kept for the life of the process:
pydantic's schema generation is too slow for a cold start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from chalice.app import Chalice

from chalicelib.errors import (
    AppError,
    AuthenticationError,
    MalformedRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from chalicelib.http.apidoc import RouteDoc, route_doc
from chalicelib.http.cors import is_preflight
from chalicelib.http.problems import PROBLEM_CONTENT_TYPE

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"{([^}]+)}")

Json = dict[str, Any]


class UndocumentedRouteError(Exception):
    """A route of the app has no ``@documented`` declaration."""


def build_document(app: Chalice) -> Json:
    """The OpenAPI document of every route of ``app`` (without ``servers``)."""
    from pydantic import BaseModel
    from pydantic.json_schema import models_json_schema

    from chalicelib.http.shapes import Problem

    operations: list[tuple[str, str, str, RouteDoc, Any]] = []
    undocumented = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            if is_preflight(entry.view_function):
                continue
            doc = route_doc(entry.view_function)
            if doc is None:
                undocumented.append(f"{method} {path}")
                continue
            operations.append((path, method, entry.view_name, doc, entry))
    if undocumented:
        raise UndocumentedRouteError("routes without @documented: " + ", ".join(undocumented))

    # Every model once, bodies as validated and responses as serialized.
    wanted: list[tuple[type[BaseModel], Any]] = [(Problem, "serialization")]
    for _, _, _, doc, _ in operations:
        if doc.body:
            wanted.append((doc.body(), "validation"))
        if doc.response:
            wanted.append((doc.response(), "serialization"))
    refs, definitions = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF_TEMPLATE)
    problem_ref = refs[(Problem, "serialization")]

    paths: Json = {}
    for path, method, name, doc, entry in operations:
        body_ref = refs[(doc.body(), "validation")] if doc.body else None
        response_ref = refs[(doc.response(), "serialization")] if doc.response else None
        operation = _operation(path, method, name, doc, entry, body_ref, response_ref, problem_ref)
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Clean CRM API",
            "version": API_VERSION,
            "description": (
                "Contacts, imports, exports and campaigns for small teams. Every error "
                "is an RFC 9457 problem (`application/problem+json`). Paths work with or "
                "without a trailing slash."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `access` token of POST /api/accounts/login.",
                }
            },
        },
    }


def _operation(
    path: str,
    method: str,
    name: str,
    doc: RouteDoc,
    entry: Any,
    body_ref: Json | None,
    response_ref: Json | None,
    problem_ref: Json,
) -> Json:
    parameters = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for p in _PATH_PARAMETER.findall(path)
    ]
    for query in doc.query:
        schema: Json = {"type": "integer"} if query.integer else {"type": "string"}
        if query.enum:
            schema["enum"] = list(query.enum)
        parameters.append(
            {
                "name": query.name,
                "in": "query",
                "required": query.required,
                "description": query.description,
                "schema": schema,
            }
        )
    operation: Json = {
        "operationId": f"{method.lower()}_{name}",
        "summary": doc.summary,
        "tags": [_tag(entry.view_function)],
        "security": [{"bearer": []}] if doc.requires_auth else [],
        "responses": _responses(doc, parameters, response_ref, problem_ref),
    }
    if doc.description:
        operation["description"] = doc.description
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None and body_ref is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_ref}},
        }
    elif doc.form:
        operation["requestBody"] = {"required": True, "content": _form(doc)}
    return operation


def _form(doc: RouteDoc) -> Json:
    properties: Json = {}
    for field in doc.form:
        properties[field.name] = {"type": "string", "description": field.description}
        if field.file:
            properties[field.name]["contentMediaType"] = "application/octet-stream"
    return {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": properties,
                "required": [f.name for f in doc.form if f.required],
            }
        }
    }


def _responses(
    doc: RouteDoc, parameters: list[Json], response_ref: Json | None, problem_ref: Json
) -> Json:
    success: Json = {"description": doc.summary}
    if doc.status != 204:
        types = (doc.media_type,) if isinstance(doc.media_type, str) else doc.media_type
        success["content"] = {
            media_type: {
                "schema": (response_ref or {"type": "object"})
                if media_type == "application/json"
                else {"type": "string", "contentMediaType": media_type}
            }
            for media_type in types
        }
    responses: Json = {str(doc.status): success}
    for status, errors in sorted(_errors(doc, parameters).items()):
        titles = sorted({error.title for error in errors})
        codes = sorted({error.code for error in errors})
        responses[str(status)] = {
            "description": f"{' / '.join(titles)} (code: {', '.join(codes)})",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}},
        }
    return responses


def _errors(doc: RouteDoc, parameters: list[Json]) -> dict[int, list[type[AppError]]]:
    """The errors of the route: declared ones and those its kind always has."""
    implied: list[type[AppError]] = []
    if doc.requires_auth:
        implied.append(AuthenticationError)
    if doc.body or doc.form:
        implied += [ValidationError, MalformedRequestError, PayloadTooLargeError]
        implied.append(UnsupportedMediaTypeError)
    if any(p["in"] == "path" for p in parameters):
        implied.append(NotFoundError)
    if any(p["in"] == "query" for p in parameters):
        implied.append(ValidationError)
    by_status: dict[int, list[type[AppError]]] = {}
    for error in _unique([*implied, *doc.errors]):
        by_status.setdefault(error.status, []).append(error)
    return by_status


def _unique(errors: Iterable[type[AppError]]) -> list[type[AppError]]:
    return list(dict.fromkeys(errors))


def _tag(view: Any) -> str:
    # chalicelib.<capability>.routes -> <capability>
    parts = str(view.__module__).split(".")
    return parts[1] if len(parts) > 2 else parts[0]
