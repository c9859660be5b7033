"""The REST edge's shared building blocks, so that no route imports another route.

Request bodies refuse unknown members, lists page with one page-size bound, times
are ones a service can be sent, and answers that carry credentials or personal data
are never stored by caches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from fieldvault_platform.timestamps import TimestampOutOfRange, to_timestamp
from gateway.problems import Problem

#: OpenAPI ``responses`` entries, keyed by status code.
Responses = dict[int | str, dict[str, Any]]

#: ``page_size`` of every list route.
PageSize = Annotated[int, Query(ge=1, le=200)]


def _fits_a_timestamp(moment: datetime) -> datetime:
    try:
        to_timestamp(moment)
    except TimestampOutOfRange:
        raise PydanticCustomError("value_error", "the time is out of range") from None
    return moment


#: A date-time in a query or body: RFC 3339 with an offset (``Z`` for UTC), and within
#: the years 1 to 9999 in UTC, which is all a protobuf Timestamp holds. One outside them
#: (``0001-01-01T00:00:00+05:00``) is a 422 naming the parameter, not a 500 at the call.
Moment = Annotated[AwareDatetime, AfterValidator(_fits_a_timestamp)]

#: Headers of an answer no cache may keep (tokens, codes, personal data).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: The OpenAPI entry of a route that takes ``If-Match``.
STALE: Responses = {412: {"description": "If-Match is stale (precondition_failed)"}}


class RequestBody(BaseModel):
    """A create or action body: an unknown member is refused (422), not dropped, so a
    misspelt ``break_glass`` or ``emial`` never silently does something else."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        # No text of the API holds one, and PostgreSQL cannot store one: refused as
        # a 422 here rather than failing in a service's database.
        if _holds_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


def _holds_nul(data: Any) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_holds_nul(key) or _holds_nul(value) for key, value in data.items())
    if isinstance(data, list | tuple):
        return any(_holds_nul(item) for item in data)
    return False


class Page(BaseModel):
    """A page of a list; ``next_page_token`` is empty on the last page."""

    next_page_token: str = ""


def precondition_failed() -> Problem:
    return Problem(
        412, "precondition_failed", "the resource changed since it was read; fetch it again"
    )
