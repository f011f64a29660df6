"""Response shapes every capability shares: pages, messages, problems.

Used by the OpenAPI document (and so by the contract test); the routes build
these bodies in :mod:`chalicelib.http.pagination` and
:mod:`chalicelib.http.problems`. Imports pydantic: load lazily.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing; follow ``next`` for the rest."""

    model_config = ConfigDict(defer_build=True)

    count: int | None = Field(description="How many items there are in all, when known.")
    next: str | None = Field(description="The URL of the next page; null on the last.")
    previous: str | None = Field(description="Always null: pages go forward only.")
    results: list[T]


class Message(BaseModel):
    """A sentence for the user, where there is nothing else to return."""

    model_config = ConfigDict(defer_build=True)

    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem: every error the API answers."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str = Field(description="What went wrong this time, for a person.")
    code: str = Field(description="A stable machine-readable name of the problem.")
    errors: dict[str, list[str]] | None = Field(
        default=None, description="For invalid input: the messages of each bad field."
    )
