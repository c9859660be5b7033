"""The REST edge's shared building blocks, so that no route imports another route.

Request bodies refuse unknown members, lists page with one page-size bound, and
answers that carry credentials or personal data are never stored by caches.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from gateway.problems import Problem

#: OpenAPI ``responses`` entries, keyed by status code.
Responses = dict[int | str, dict[str, Any]]

#: ``page_size`` of every list route.
PageSize = Annotated[int, Query(ge=1, le=200)]

#: Headers of an answer no cache may keep (tokens, codes, personal data).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: The OpenAPI entry of a route that takes ``If-Match``.
STALE: Responses = {412: {"description": "If-Match is stale (precondition_failed)"}}


class RequestBody(BaseModel):
    """A create or action body: an unknown member is refused (422), not dropped, so a
    misspelt ``break_glass`` or ``emial`` never silently does something else."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel):
    """A page of a list; ``next_page_token`` is empty on the last page."""

    next_page_token: str = ""


def precondition_failed() -> Problem:
    return Problem(
        412, "precondition_failed", "the resource changed since it was read; fetch it again"
    )
