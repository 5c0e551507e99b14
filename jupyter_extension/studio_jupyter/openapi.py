"""The OpenAPI 3.1 description of :data:`studio_jupyter.routes.ROUTES`, with the schemas
generated from the pydantic models the handlers validate with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from studio.__about__ import __version__
from studio_jupyter import schemas
from studio_jupyter.handlers.base import MAX_BODY_BYTES
from studio_jupyter.routes import ROUTES, Operation, Route
from studio_jupyter.state import API_PREFIX

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "malformed JSON",
    403: "not authenticated or not authorized (Jupyter token or cookie)",
    404: "no such project, node or file",
    409: "conflict (the graph changed since it was loaded, or the project cannot do this now)",
    413: f"the request body is larger than the studio parses ({MAX_BODY_BYTES} bytes)",
    416: "the requested byte range is outside the file",
    422: "the body or a path parameter does not validate",
}


def _models() -> list[tuple[type[BaseModel], Literal["validation", "serialization"]]]:
    """Every model of the table: request bodies as they are validated, responses as they
    are written."""
    found: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (schemas.Error, "serialization"),
        (schemas.Conflict, "serialization"),
    ]
    for route in ROUTES:
        for op in route.operations:
            if op.request:
                found.append((op.request, "validation"))
            found += [(m, "serialization") for m in op.responses.values() if m is not None]
    return list(dict.fromkeys(found))


def _body(model: type[BaseModel] | None, media_type: str) -> dict[str, Any]:
    if model is None:
        schema: dict[str, Any] = (
            {"type": "object"}
            if media_type == "application/json"
            else {"type": "string", "format": "binary"}
        )
        return {media_type: {"schema": schema}}
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}


def _operation(route: Route, op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {"description": "success", "content": _body(model, op.media_type)}
        for status, model in op.responses.items()
    }
    errors = {403, *op.errors}
    if op.request is not None:
        errors |= {400, 413, 422}
    if route.parameters:
        errors |= {404, 422}
    for status in sorted(errors):
        model = schemas.Conflict if status == 409 and op.request is schemas.GraphSave else None
        responses[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": _body(model or schemas.Error, "application/json"),
        }
    out: dict[str, Any] = {
        "operationId": f"{op.method}_{route.handler.__name__}",
        "summary": op.summary,
        "responses": responses,
    }
    if route.parameters:
        out["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.parameters
        ]
    if op.request is not None:
        out["requestBody"] = {"required": True, "content": _body(op.request, "application/json")}
    return out


def openapi_document(*, base_url: str = "/") -> dict[str, Any]:
    _, defs = models_json_schema(_models(), ref_template=REF)
    paths = {
        route.path: {op.method: _operation(route, op) for op in route.operations}
        for route in ROUTES
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Generative Media Studio",
            "version": __version__,
            "description": (
                "PRD Table 5 inside Jupyter Server. Every route needs Jupyter authentication "
                "(an `Authorization: token ...` header or the Jupyter cookie). The WebSocket "
                f"`{base_url}studio/ws/{{project_id}}` speaks PRD Table 6 (studio.events)."
            ),
        },
        "servers": [{"url": f"{base_url}{API_PREFIX}"}],
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "jupyterToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
        },
        "security": [{"jupyterToken": []}],
        "paths": paths,
    }
