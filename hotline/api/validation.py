"""`validate_request`: quart-schema's, with the model's validator built once instead of per request.

quart-schema 0.25 validates a JSON body with `TypeAdapter(model_class).validate_python(data)`,
building the adapter on every request: about 45 us of a create's CPU went to that alone (the
validation itself takes 8). This decorator is the same contract, reading the body the same way
(`request.get_json()`, so `hotline.api.bodies` still parses it) and raising the same
`RequestSchemaValidationError` around the same pydantic error, with one adapter per model made
when the route is declared. The model is registered on the handler by quart-schema's own
decorator, so the OpenAPI document does not change. Anything it does not take the short way
(another source than JSON, camelCase conversion, a model pydantic does not validate) goes
through quart-schema's wrapper unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any

import quart_schema
from pydantic import BaseModel, TypeAdapter, ValidationError
from quart import current_app, request
from quart_schema import DataSource, RequestSchemaValidationError

__all__ = ["validate_request"]


def validate_request(
    model_class: type[Any], *, source: DataSource = DataSource.JSON
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """As `quart_schema.validate_request`: the handler gets the validated body as `data`."""
    declared = quart_schema.validate_request(model_class, source=source)
    if source != DataSource.JSON or not (
        isinstance(model_class, type) and issubclass(model_class, BaseModel)
    ):
        return declared
    adapter = TypeAdapter(model_class)

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        general = declared(func)  # registers the model for the OpenAPI document
        call = func if iscoroutinefunction(func) else None

        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            app = current_app
            if app.config["QUART_SCHEMA_CONVERT_CASING"]:
                return await general(*args, **kwargs)
            data = await request.get_json()
            try:
                model = adapter.validate_python(data)
            except (TypeError, ValidationError, ValueError) as error:
                raise RequestSchemaValidationError(error)  # noqa: B904 (as quart-schema raises it)
            handler = call if call is not None else app.ensure_async(func)
            return await handler(*args, data=model, **kwargs)

        return wrapper

    return decorator
