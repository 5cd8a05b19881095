"""The OpenAPI document (`/openapi.json`): the contract clients and the fuzz test rely on.

quart-schema builds it from the routes and their models; `HotlineOpenAPI` adds what quart-schema
cannot know, so that the document says everything an operation can answer:
- a unique operationId per operation, from its endpoint (`contacts.show` → `contacts_show`):
  quart-schema takes the function's name, and five blueprints have a `show`;
- every error status, each with the one error body (`ErrorOut`): 401 and 403 from the route's row
  in `hotline.api.roles` (403 alone, and no security, for a scrape let in by address); 400/413/
  415/422 where there is a body and 422 where there is a query; 404 where the path has a
  parameter (routing answers it for any value it cannot match); 503 for a write (the store could
  not commit); and what the handler declares with `@may_answer(...)`;
- `required` on a request body with a required field and on required query parameters, the
  `Idempotency-Key` header where `@idempotency_key` says it is honoured, and the bodies of the
  routes that answer something other than JSON (`@answers_with`), and their 304 when they are
  revalidated by ETag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from quart_schema import DataSource
from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing.rules import Rule

from hotline.api.roles import Access, access_of, scrape_open
from hotline.api.schemas import ErrorOut
from hotline.api.services import current_services

__all__ = ["HotlineOpenAPI", "answers_with", "idempotency_key", "may_answer"]

F = TypeVar("F", bound=Callable[..., Any])

_ERRORS_ATTRIBUTE = "_hotline_errors"
_IDEMPOTENT_ATTRIBUTE = "_hotline_idempotency_key"
_BODIES_ATTRIBUTE = "_hotline_answers_with"

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not well formed (JSON that does not parse, a broken multipart form).",
    401: "No token, or a token the API does not know.",
    403: "The caller's role may not do this, or an operator acts for another operator.",
    404: "Nothing at this path: no such resource.",
    409: "The resource's present state does not allow this; the message says why.",
    413: "The body is over its size limit.",
    415: "The body is not of a type this operation takes.",
    422: "A value is invalid; `field` names it.",
    410: "It existed but can no longer be used (an expired survey code).",
    423: "Locked after too many failed checks; try again after the lock window.",
    429: "Too many requests from this caller; retry after `Retry-After`.",
    503: "The change could not be saved (the store cannot write); retry after `Retry-After`.",
}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": '`Bearer realm="hotline"`',
            "required": True,
            "schema": {"type": "string"},
        }
    },
    503: {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}},
    429: {
        "Retry-After": {"description": "seconds", "required": True, "schema": {"type": "string"}}
    },
}
_WRITES = frozenset({"post", "put", "patch", "delete"})


def may_answer(*statuses: int) -> Callable[[F], F]:
    """Document error statuses the handler's own work can answer (404, 409, 423, ...)."""
    unknown = set(statuses) - set(ERROR_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for status {sorted(unknown)}")

    def decorator(func: F) -> F:
        setattr(func, _ERRORS_ATTRIBUTE, getattr(func, _ERRORS_ATTRIBUTE, set()) | set(statuses))
        return func

    return decorator


def idempotency_key(func: F) -> F:
    """Document that the operation honours an `Idempotency-Key` header."""
    setattr(func, _IDEMPOTENT_ATTRIBUTE, True)
    return func


def answers_with(
    *content_types: str, description: str, revalidated: bool = False
) -> Callable[[F], F]:
    """Document a 200 whose body is not a JSON model (an audio file, an event stream, a page);
    `revalidated`: it carries an ETag, and a request whose `If-None-Match` names it gets a 304."""

    def decorator(func: F) -> F:
        setattr(func, _BODIES_ATTRIBUTE, (content_types, description, revalidated))
        return func

    return decorator


class HotlineOpenAPI(OpenAPIProvider):
    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        error_object, error_components = self.build_response_object(ErrorOut, None)
        for path_item in paths.values():
            for method, operation in path_item.items():
                operation["operationId"] = _operation_id(rule.endpoint, method, path_item)
                access = access_of(rule.endpoint)
                if access is not None and self._by_address(access):
                    operation["security"] = []  # no token: the caller's address decides
                responses = dict(operation["responses"])
                bodies = getattr(func, _BODIES_ATTRIBUTE, None)
                if bodies is not None:
                    content_types, description, revalidated = bodies
                    responses[200] = _raw_body(content_types, description)
                    if revalidated:
                        responses[304] = _NOT_MODIFIED
                for status in sorted(self._error_statuses(rule, func, method, operation)):
                    responses[status] = _error_response(error_object, status)
                operation["responses"] = responses
                if getattr(func, _IDEMPOTENT_ATTRIBUTE, False):
                    operation["parameters"] = [*operation["parameters"], _IDEMPOTENCY_HEADER]
        components.update(error_components)
        return paths, components

    def _error_statuses(
        self, rule: Rule, func: Callable[..., Any], method: str, operation: dict[str, Any]
    ) -> set[int]:
        statuses: set[int] = set(getattr(func, _ERRORS_ATTRIBUTE, set()))
        access = access_of(rule.endpoint)
        if access is not None and self._by_address(access):
            statuses.add(403)  # not from this host
        elif access is not None and not access.public:
            statuses.add(401)
            if not access.everyone:
                statuses.add(403)
        if "requestBody" in operation:
            statuses |= {400, 413, 415, 422}
        if any(p["in"] == "query" for p in operation["parameters"]):
            statuses.add(422)
        if rule.arguments:
            statuses.add(404)
        if method in _WRITES:
            statuses.add(503)
        return statuses

    def _by_address(self, access: Access) -> bool:
        """A scrape route let in by address, not by token, in this app's configuration."""
        return access.scrape and scrape_open(current_services().settings)

    def build_querystring_parameters(
        self, model: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        parameters, definitions = super().build_querystring_parameters(model)
        required = _required_fields(model)
        for parameter in parameters:
            if parameter["name"] in required:
                parameter["required"] = True
        return parameters, definitions

    def build_request_body(
        self, model: Any, source: DataSource
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        body, definitions = super().build_request_body(model, source)
        # A model whose every field has a default may be sent as no body at all.
        body["required"] = bool(_required_fields(model))
        return body, definitions


_IDEMPOTENCY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and the same request answers 200 with what the "
    "first request made; the same key with another request is a 409.",
    "schema": {"type": "string"},
}


def _operation_id(endpoint: str, method: str, path_item: Iterable[str]) -> str:
    name = endpoint.replace(".", "_")
    return name if len(list(path_item)) == 1 else f"{method}_{name}"


def _required_fields(model: Any) -> set[str]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return set()
    return {
        field.alias or name for name, field in model.model_fields.items() if field.is_required()
    }


def _error_response(error_object: dict[str, Any], status: int) -> dict[str, Any]:
    response = {**error_object, "description": ERROR_DESCRIPTIONS[status]}
    if status in _ERROR_HEADERS:
        response["headers"] = _ERROR_HEADERS[status]
    return response


def _raw_body(content_types: tuple[str, ...], description: str) -> dict[str, Any]:
    content = {ct: {"schema": _raw_schema(ct)} for ct in content_types}
    return {"description": description, "content": content}


def _raw_schema(content_type: str) -> dict[str, str]:
    if content_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


_NOT_MODIFIED: dict[str, Any] = {
    "description": "Not modified: `If-None-Match` names the ETag of the body served now.",
    "headers": {"ETag": {"required": True, "schema": {"type": "string"}}},
}
