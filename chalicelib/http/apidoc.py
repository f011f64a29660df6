"""What a route promises, declared next to it: ``@documented(...)`` under ``@bp.route``.

The OpenAPI document (:mod:`chalicelib.openapi.document`) is built from the
Chalice app's route table and these declarations, and a test fails when any
route has none. Models are given as functions returning the class, so
declaring them loads nothing: pydantic and the schema modules load on the
first request that needs them, not at cold start.

Errors every route of a kind can give are added by the builder (401 for
``authenticated`` routes, 400/413/415 for routes with a body, 404 for routes
with a path parameter); ``errors`` lists the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.errors import AppError

F = TypeVar("F", bound=Callable[..., Any])
ModelRef = Callable[[], "type[BaseModel]"]

# Set on a view by chalicelib.http.routes.public / authenticated.
AUTH_ATTRIBUTE = "requires_auth"
DOC_ATTRIBUTE = "api_doc"


@dataclass(frozen=True)
class Query:
    """A query-string parameter of a route."""

    name: str
    description: str
    required: bool = False
    integer: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormField:
    """A field of a multipart/form-data body; ``file`` fields carry bytes."""

    name: str
    description: str
    required: bool = False
    file: bool = False


@dataclass(frozen=True)
class RouteDoc:
    """Everything the OpenAPI document says about one route besides its path."""

    summary: str
    requires_auth: bool
    body: ModelRef | None = None
    form: tuple[FormField, ...] = ()
    response: ModelRef | None = None
    status: int = 200
    errors: tuple[type[AppError], ...] = ()
    query: tuple[Query, ...] = ()
    # Pages (HTML) and files are not JSON; a file route may offer several types.
    media_type: str | tuple[str, ...] = "application/json"
    description: str = ""


def documented(
    summary: str,
    *,
    body: ModelRef | None = None,
    form: tuple[FormField, ...] = (),
    response: ModelRef | None = None,
    status: int = 200,
    errors: tuple[type[AppError], ...] = (),
    query: tuple[Query, ...] = (),
    media_type: str | tuple[str, ...] = "application/json",
    description: str = "",
) -> Callable[[F], F]:
    """Attach a :class:`RouteDoc` to a view wearing ``@public`` or ``@authenticated``."""

    def attach(view: F) -> F:
        requires_auth = getattr(view, AUTH_ATTRIBUTE, None)
        if requires_auth is None:
            raise TypeError(f"{view.__name__}: put @documented above @public or @authenticated")
        doc = RouteDoc(
            summary=summary,
            requires_auth=bool(requires_auth),
            body=body,
            form=form,
            response=response,
            status=status,
            errors=errors,
            query=query,
            media_type=media_type,
            description=description,
        )
        setattr(view, DOC_ATTRIBUTE, doc)
        return view

    return attach


def route_doc(view: Callable[..., Any]) -> RouteDoc | None:
    """The declaration of a view, if it has one."""
    doc = getattr(view, DOC_ATTRIBUTE, None)
    return doc if isinstance(doc, RouteDoc) else None


PAGE_QUERY = (
    Query("cursor", "Where the page starts: the `next` link's cursor. Absent: the first page."),
    Query("page_size", "Items per page, 1 to 500 (default 50).", integer=True),
)
